//===- Report.cpp - the compression report --------------------------------===//

#include "compiler/package/Report.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace glmc::package;
using llvm::json::Array;
using llvm::json::Object;

namespace {

struct ConstantCount {
  int64_t elements = 0, nonzero = 0, bytes = 0;
};

/// Elements, nonzero elements and stored bytes of a float constant, or of
/// an integer one that holds quantized weights (`quantized`).
ConstantCount countConstant(ElementsAttr attr, bool quantized = false) {
  ConstantCount c;
  auto type = cast<ShapedType>(attr.getType());
  if (!(isa<FloatType>(type.getElementType()) ||
        (quantized && isa<IntegerType>(type.getElementType()))) ||
      !type.hasStaticShape())
    return c;
  c.elements = type.getNumElements();
  c.bytes = c.elements * (type.getElementTypeBitWidth() / 8);
  if (auto values = glm::getValuesAsDouble(attr))
    c.nonzero = llvm::count_if(*values, [](double x) { return x != 0.0; });
  else
    c.nonzero = c.elements;
  return c;
}

Object costJSON(int64_t params, int64_t nonzero, int64_t bytes, int64_t flops) {
  return Object{{"params", params}, {"nonzero_params", nonzero}, {"bytes", bytes}, {"flops", flops}};
}

/// 1 - after/before, or 0 when before is 0.
double reduction(int64_t before, int64_t after) {
  return before > 0 ? 1.0 - double(after) / double(before) : 0.0;
}

double round6(double x) { return std::round(x * 1e6) / 1e6; }

const LayerCost *findLayer(const ModelCost &cost, const std::string &name) {
  for (const LayerCost &l : cost.layers)
    if (l.name == name)
      return &l;
  return nullptr;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

std::string htmlEscape(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

} // namespace

ModelCost glmc::package::countCosts(ModuleOp module) {
  ModelCost cost;
  module.walk([&](glm::ConstantOp c) {
    // Integer constants are shapes and indices, except quantized weights.
    bool quantized = !c->use_empty() && llvm::all_of(c->getUsers(), [](Operation *u) {
      return isa<quant::StorageCastOp>(u);
    });
    ConstantCount n = countConstant(cast<ElementsAttr>(c.getValue()), quantized);
    cost.params += n.elements;
    cost.nonzero += n.nonzero;
    cost.bytes += n.bytes;
  });
  llvm::StringMap<unsigned> seen;
  module.walk([&](glm::PrunableOpInterface p) {
    LayerCost layer;
    layer.name = glm::getNodeName(p->getLoc());
    if (layer.name.empty())
      layer.name = p->getName().stripDialect().str();
    if (unsigned k = seen[layer.name]++)
      layer.name += "#" + std::to_string(k);
    layer.op = p->getName().stripDialect().str();
    int64_t macs = p.getNumMacs();
    layer.flops = macs > 0 ? 2 * macs : 0;
    cost.flops += layer.flops;
    Value w = p.getPrunableWeight();
    // A quantized weight (glm-quantize) is an int8 constant seen through
    // quant.scast.
    auto storage = w ? w.getDefiningOp<quant::StorageCastOp>() : nullptr;
    if (storage)
      w = storage.getInput();
    if (ElementsAttr wa = w ? glm::getConstantElements(w) : ElementsAttr()) {
      layer.hasWeight = true;
      auto wt = cast<ShapedType>(wa.getType());
      layer.weightShape.assign(wt.getShape().begin(), wt.getShape().end());
      for (Value v : {w, p.getPrunableBias()}) {
        ElementsAttr a = v ? glm::getConstantElements(v) : ElementsAttr();
        if (!a)
          continue;
        ConstantCount n = countConstant(a, v == w && storage);
        layer.params += n.elements;
        layer.nonzero += n.nonzero;
        layer.bytes += n.bytes;
      }
    }
    if (auto kept = p->getAttrOfType<StringAttr>("glm.channels_kept"))
      layer.keptReason = kept.str();
    if (storage) {
      auto data = dyn_cast<quant::UniformQuantizedType>(
          getElementTypeOrSelf(p.getPrunableInput().getType()));
      QuantInfo q;
      if (data)
        q.dataScale = data.getScale(), q.dataZeroPoint = data.getZeroPoint();
      Type wet = getElementTypeOrSelf(storage.getType());
      if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(wet)) {
        q.weightScaleMin = *llvm::min_element(pa.getScales());
        q.weightScaleMax = *llvm::max_element(pa.getScales());
      } else if (auto pt = dyn_cast<quant::UniformQuantizedType>(wet)) {
        q.weightScaleMin = q.weightScaleMax = pt.getScale();
      }
      if (auto info = p->getAttrOfType<DictionaryAttr>("glm.quant_info")) {
        if (auto v = info.getAs<FloatAttr>("weight_sqnr_db"))
          q.weightSqnrDb = v.getValueAsDouble();
        if (auto v = info.getAs<FloatAttr>("clipped"))
          q.clipped = v.getValueAsDouble();
      }
      layer.quant = q;
    }
    cost.layers.push_back(std::move(layer));
  });
  return cost;
}

llvm::json::Value glmc::package::toJSON(const CompressionReport &r) {
  Object root;
  root["format"] = "glmc-compression-report-v1";
  root["model"] = r.model;
  root["target"] = r.target;
  root["options"] = Object(r.options);
  auto total = [](const ModelCost &c) { return costJSON(c.params, c.nonzero, c.bytes, c.flops); };
  root["totals"] = Object{
      {"imported", total(r.imported)},
      {"before", total(r.before)},
      {"after", total(r.after)},
      {"reduction",
       Object{{"params", round6(reduction(r.before.params, r.after.params))},
              {"nonzero_params", round6(reduction(r.before.nonzero, r.after.nonzero))},
              {"bytes", round6(reduction(r.before.bytes, r.after.bytes))},
              {"flops", round6(reduction(r.before.flops, r.after.flops))}}},
  };
  if (r.artifactBytes >= 0)
    root["artifact_bytes"] = r.artifactBytes;
  Array layers;
  for (const LayerCost &b : r.before.layers) {
    const LayerCost *a = findLayer(r.after, b.name);
    Object l{{"name", b.name}, {"op", b.op}, {"has_weight", b.hasWeight}};
    Object before = costJSON(b.params, b.nonzero, b.bytes, b.flops);
    if (b.hasWeight)
      before["weight_shape"] = Array(b.weightShape);
    l["before"] = std::move(before);
    if (a) {
      Object after = costJSON(a->params, a->nonzero, a->bytes, a->flops);
      if (a->hasWeight)
        after["weight_shape"] = Array(a->weightShape);
      l["after"] = std::move(after);
      // Fraction of the layer's original parameters that are gone or zero.
      l["sparsity"] = round6(reduction(b.params, a->nonzero));
      if (!a->keptReason.empty())
        l["channels_kept"] = a->keptReason;
      if (a->quant) {
        const QuantInfo &q = *a->quant;
        l["quantization"] = Object{{"type", "int8"},
                                   {"data_scale", q.dataScale},
                                   {"data_zero_point", q.dataZeroPoint},
                                   {"weight_scale_min", q.weightScaleMin},
                                   {"weight_scale_max", q.weightScaleMax},
                                   {"weight_sqnr_db", round6(q.weightSqnrDb)},
                                   {"clipped", round6(q.clipped)}};
      }
    } else {
      l["after"] = nullptr;
      l["sparsity"] = 1.0;
    }
    layers.push_back(std::move(l));
  }
  root["layers"] = std::move(layers);
  if (r.hasQuality) {
    const QualityMetrics &q = r.quality;
    Object quality{{"task", q.task},
                   {"samples", q.samples},
                   {"logits_cosine", round6(q.cosine)},
                   {"top1_agreement", round6(q.top1Agreement)},
                   {"kl", q.kl},
                   {"max_abs_diff", q.maxAbsDiff}};
    if (!q.metricName.empty() && !std::isnan(q.metricBefore)) {
      quality["metric"] = q.metricName;
      quality["before"] = q.metricBefore;
      quality["after"] = q.metricAfter;
    }
    root["quality"] = std::move(quality);
  }
  root["notes"] = Array(r.notes);
  return llvm::json::Value(std::move(root));
}

Object glmc::package::summarize(const CompressionReport &r) {
  Object s{{"params_before", r.before.params},
           {"params_after", r.after.params},
           {"nonzero_params_after", r.after.nonzero},
           {"flops_before", r.before.flops},
           {"flops_after", r.after.flops}};
  Object options(r.options);
  // Paths stay in the report; the artifact says only that data was used.
  options["calibrated"] = options.erase("calib");
  options.erase("eval");
  s["options"] = std::move(options);
  return s;
}

namespace {

/// A number as a person writes it on a command line (0.3, not
/// 0.29999999999999999).
std::string shortNumber(double x) { return llvm::formatv("{0}", llvm::format("%g", x)).str(); }

/// Single-quoted for a POSIX shell when it holds anything but [A-Za-z0-9./_:=-].
std::string shellWord(llvm::StringRef w) {
  if (!w.empty() && llvm::all_of(w, [](char c) { return llvm::isAlnum((unsigned char)c) || llvm::StringRef("./_:=-").contains(c); }))
    return w.str();
  std::string q = "'";
  for (char c : w)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The report's options as the glmc flags that give them (a per-layer
/// sparsity and a schedule come from --config; they follow as notes).
std::string optionsAsFlags(const Object &o) {
  std::string flags, extra;
  auto str = [&](llvm::StringRef key) { return o.getString(key).value_or("").str(); };
  if (auto p = o.getNumber("prune"))
    flags += "--prune " + shortNumber(*p);
  for (auto [key, flag] : {std::pair{"prune_mode", "--prune-mode"}, {"prune_criterion", "--prune-criterion"},
                           {"prune_alloc", "--prune-alloc"}})
    if (!str(key).empty())
      flags += std::string(" ") + flag + " " + shellWord(str(key));
  if (auto rec = o.getBoolean("reconstruct"); rec && !*rec)
    flags += " --prune-reconstruct=false";
  if (!str("quantize").empty()) {
    flags += " --quantize " + shellWord(str("quantize")) + " --quantize-calib-method " +
             shellWord(str("quantize_calib_method"));
    if (auto pc = o.getNumber("quantize_percentile"))
      flags += " --quantize-percentile " + shortNumber(*pc);
  }
  if (const llvm::json::Array *ex = o.getArray("exclude"))
    for (const llvm::json::Value &v : *ex)
      if (auto e = v.getAsString())
        flags += " --exclude " + shellWord(*e);
  for (const char *key : {"calib", "eval"})
    if (!str(key).empty())
      flags += std::string(" --") + key + " " + shellWord(str(key));
  if (const llvm::json::Array *layers = o.getArray("layer_sparsity"); layers && !layers->empty()) {
    extra += "; per-layer sparsity (--config):";
    for (const llvm::json::Value &v : *layers)
      extra += " " + v.getAsString().value_or("").str();
  }
  if (const llvm::json::Array *steps = o.getArray("schedule"); steps && !steps->empty()) {
    extra += "; schedule:";
    for (const llvm::json::Value &v : *steps)
      extra += " " + shortNumber(v.getAsNumber().value_or(0));
  }
  return flags + extra;
}

} // namespace

std::string glmc::package::toHTML(const CompressionReport &r) {
  std::string h;
  llvm::raw_string_ostream os(h);
  auto pct = [](double x) { return llvm::formatv("{0:f1}%", 100.0 * x).str(); };
  os << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>glmc compression report: "
     << htmlEscape(r.model) << "</title>\n<style>"
     << "body{font-family:sans-serif;margin:2em;color:#222}"
     << "table{border-collapse:collapse;font-size:13px}"
     << "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
     << "td:first-child,th:first-child,td.l{text-align:left}"
     << "th{background:#f0f0f0}.kept{color:#888}"
     << "</style></head><body>\n";
  os << "<h1>" << htmlEscape(r.model) << "</h1>\n<p>target " << htmlEscape(r.target)
     << "; options <code>" << htmlEscape(optionsAsFlags(r.options)) << "</code></p>\n";
  os << "<h2>Totals</h2>\n<table><tr><th></th><th>imported</th><th>before</th><th>after</th>"
        "<th>reduction</th></tr>\n";
  auto row = [&](const char *what, int64_t i, int64_t b, int64_t a) {
    os << "<tr><td>" << what << "</td><td>" << i << "</td><td>" << b << "</td><td>" << a
       << "</td><td>" << pct(reduction(b, a)) << "</td></tr>\n";
  };
  row("parameters", r.imported.params, r.before.params, r.after.params);
  row("nonzero parameters", r.imported.nonzero, r.before.nonzero, r.after.nonzero);
  row("weight bytes", r.imported.bytes, r.before.bytes, r.after.bytes);
  row("FLOPs", r.imported.flops, r.before.flops, r.after.flops);
  os << "</table>\n";
  if (r.artifactBytes >= 0)
    os << "<p>artifact: " << r.artifactBytes << " bytes</p>\n";
  if (r.hasQuality) {
    const QualityMetrics &q = r.quality;
    os << "<h2>Quality (" << q.samples << " samples, " << htmlEscape(q.task) << ")</h2>\n<table>"
       << "<tr><td>logits cosine</td><td>" << llvm::formatv("{0:f6}", q.cosine).str() << "</td></tr>"
       << "<tr><td>top-1 agreement</td><td>" << pct(q.top1Agreement) << "</td></tr>"
       << "<tr><td>KL(before || after)</td><td>" << llvm::formatv("{0:e3}", q.kl).str()
       << "</td></tr>";
    if (!q.metricName.empty() && !std::isnan(q.metricBefore)) {
      // The change as a person reads it: perplexity relative (+7.2%),
      // accuracy in points (-0.8 points).
      std::string change;
      if (q.metricName == "accuracy")
        change = llvm::formatv("{0} points", llvm::format("%+.1f", 100.0 * (q.metricAfter - q.metricBefore))).str();
      else if (q.metricBefore != 0)
        change = llvm::formatv("{0}%", llvm::format("%+.1f", 100.0 * (q.metricAfter / q.metricBefore - 1))).str();
      os << "<tr><td>" << htmlEscape(q.metricName) << " before / after</td><td>"
         << llvm::formatv("{0:f4} / {1:f4}", q.metricBefore, q.metricAfter).str()
         << (change.empty() ? "" : " (" + change + ")") << "</td></tr>";
    }
    os << "</table>\n";
  }

  // Chart: one group of two bars per layer (sparsity; share of FLOPs kept).
  std::vector<const LayerCost *> layers;
  for (const LayerCost &l : r.before.layers)
    if (l.flops > 0 || l.hasWeight)
      layers.push_back(&l);
  const int barW = 10, gap = 8, chartH = 160, top = 20, labelH = 110;
  int width = std::max<int>(300, 60 + layers.size() * (2 * barW + gap));
  os << "<h2>Per layer</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
     << "\" height=\"" << (top + chartH + labelH) << "\" font-size=\"10\">\n";
  for (int t = 0; t <= 4; ++t) {
    int y = top + chartH - t * chartH / 4;
    os << "<line x1=\"40\" x2=\"" << width << "\" y1=\"" << y << "\" y2=\"" << y
       << "\" stroke=\"#ddd\"/><text x=\"2\" y=\"" << (y + 3) << "\">" << (t * 25)
       << "%</text>\n";
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerCost &b = *layers[i];
    const LayerCost *a = findLayer(r.after, b.name);
    double sparsity = a ? reduction(b.params, a->nonzero) : 1.0;
    double flopsLeft = a && b.flops > 0 ? double(a->flops) / b.flops : 0.0;
    int x = 44 + i * (2 * barW + gap);
    int hs = int(sparsity * chartH), hf = int(flopsLeft * chartH);
    os << "<rect x=\"" << x << "\" y=\"" << (top + chartH - hs) << "\" width=\"" << barW
       << "\" height=\"" << hs << "\" fill=\"#d9534f\"><title>" << htmlEscape(b.name)
       << ": sparsity " << pct(sparsity) << "</title></rect>"
       << "<rect x=\"" << (x + barW) << "\" y=\"" << (top + chartH - hf) << "\" width=\"" << barW
       << "\" height=\"" << hf << "\" fill=\"#337ab7\"><title>" << htmlEscape(b.name)
       << ": FLOPs kept " << pct(flopsLeft) << "</title></rect>"
       << "<text transform=\"translate(" << (x + barW) << "," << (top + chartH + 6)
       << ") rotate(60)\">" << htmlEscape(llvm::StringRef(b.name).take_back(24)) << "</text>\n";
  }
  os << "<rect x=\"44\" y=\"2\" width=\"10\" height=\"10\" fill=\"#d9534f\"/><text x=\"58\" "
        "y=\"11\">sparsity (parameters removed or zero)</text><rect x=\"260\" y=\"2\" "
        "width=\"10\" height=\"10\" fill=\"#337ab7\"/><text x=\"274\" y=\"11\">FLOPs kept</text>\n"
     << "</svg>\n";

  os << "<table><tr><th>layer</th><th>op</th><th>weight before</th><th>weight after</th>"
        "<th>params before</th><th>params after</th><th>nonzero after</th><th>sparsity</th>"
        "<th>FLOPs before</th><th>FLOPs after</th><th>int8 (data scale / zero point, weight "
        "scales, weight SQNR, clipped)</th><th>note</th></tr>\n";
  for (const LayerCost &b : r.before.layers) {
    const LayerCost *a = findLayer(r.after, b.name);
    std::string int8;
    if (a && a->quant) {
      const QuantInfo &q = *a->quant;
      int8 = llvm::formatv("{0:g4} / {1}, {2:g3}..{3:g3}, {4:f1} dB, {5}", q.dataScale,
                           q.dataZeroPoint, q.weightScaleMin, q.weightScaleMax, q.weightSqnrDb,
                           pct(q.clipped))
                 .str();
    }
    os << "<tr><td>" << htmlEscape(b.name) << "</td><td class=\"l\">" << b.op << "</td><td>"
       << shapeString(b.weightShape) << "</td><td>" << (a ? shapeString(a->weightShape) : "")
       << "</td><td>" << b.params << "</td><td>" << (a ? a->params : 0) << "</td><td>"
       << (a ? a->nonzero : 0) << "</td><td>" << pct(a ? reduction(b.params, a->nonzero) : 1.0)
       << "</td><td>" << b.flops << "</td><td>" << (a ? a->flops : 0) << "</td><td>" << int8
       << "</td><td class=\"l kept\">"
       << (a ? htmlEscape(a->keptReason) : "removed") << "</td></tr>\n";
  }
  os << "</table>\n";
  if (!r.notes.empty()) {
    os << "<h2>Notes</h2><ul>\n";
    for (const std::string &n : r.notes)
      os << "<li>" << htmlEscape(n) << "</li>\n";
    os << "</ul>\n";
  }
  os << "</body></html>\n";
  return h;
}
