//===- Statistics.cpp - activation statistics for compression -------------===//

#include "compiler/calibrate/Statistics.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <limits>
#include <map>

using namespace mlir;
using namespace glmc::calibrate;

namespace {

/// How an op's input tensor becomes rows of features.
struct Geometry {
  enum Kind { Rows, RowsTransposed, Conv } kind = Rows;
  int64_t features = 0;
  // Conv (2-d, group 1): kernel, strides, dilations, pads [top, left, bottom, right].
  int64_t c = 0, kh = 0, kw = 0, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;

  std::string key() const {
    std::string k = std::to_string(kind) + ":" + std::to_string(features);
    if (kind == Conv)
      for (int64_t v : {c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr})
        k += "," + std::to_string(v);
    return k;
  }
};

std::optional<Geometry> geometryOf(glm::PrunableOpInterface p) {
  Geometry g;
  auto in = glm::rankedOrNull(p.getPrunableInput());
  auto w = glm::rankedOrNull(p.getPrunableWeight());
  if (!in || !w || !w.hasStaticShape() || !isa<Float32Type>(in.getElementType()))
    return std::nullopt;
  if (auto conv = dyn_cast<glm::ConvOp>(p.getOperation())) {
    if (conv.getGroup() != 1 || w.getRank() != 4 || in.getRank() != 4)
      return std::nullopt;
    g.kind = Geometry::Conv;
    g.c = w.getDimSize(1), g.kh = w.getDimSize(2), g.kw = w.getDimSize(3);
    g.features = g.c * g.kh * g.kw;
    SmallVector<int64_t> s = glm::toI64(conv.getStrides()), d = glm::toI64(conv.getDilations()),
                         pads = glm::toI64(conv.getPads());
    if (s.size() == 2)
      g.sh = s[0], g.sw = s[1];
    if (d.size() == 2)
      g.dh = d[0], g.dw = d[1];
    if (pads.size() == 4)
      g.pt = pads[0], g.pl = pads[1], g.pb = pads[2], g.pr = pads[3];
    return g;
  }
  if (auto gemm = dyn_cast<glm::GemmOp>(p.getOperation())) {
    if (in.getRank() != 2)
      return std::nullopt;
    g.kind = gemm.getTransA() ? Geometry::RowsTransposed : Geometry::Rows;
    g.features = in.getDimSize(gemm.getTransA() ? 0 : 1);
  } else if (isa<glm::MatMulOp>(p.getOperation())) {
    if (in.getRank() < 1 || w.getRank() != 2)
      return std::nullopt;
    g.features = in.getShape().back();
  } else {
    return std::nullopt;
  }
  if (ShapedType::isDynamic(g.features) || g.features <= 0)
    return std::nullopt;
  return g;
}

/// The range of a tensor's values over the calibration set, and the
/// histogram of |x| (kRangeBins bins over [0, top], top doubling, bins
/// merged pairwise, when a larger value arrives): constant memory however
/// many samples there are.
class RangeAccumulator {
public:
  void add(const float *x, int64_t numel) {
    float amax = 0.0f;
    for (int64_t i = 0; i < numel; ++i) {
      float v = x[i];
      if (std::isnan(v))
        continue;
      lo = std::min<double>(lo, v);
      hi = std::max<double>(hi, v);
      amax = std::max(amax, std::fabs(v));
    }
    if (!std::isfinite(amax))
      amax = std::numeric_limits<float>::max();
    if (top == 0.0)
      top = amax > 0.0f ? amax : 1.0;
    while (amax > top) {
      for (int64_t i = 0; i < kRangeBins / 2; ++i)
        hist[i] = hist[2 * i] + hist[2 * i + 1];
      std::fill(hist.begin() + kRangeBins / 2, hist.end(), 0.0);
      top *= 2.0;
    }
    double perBin = kRangeBins / top;
    for (int64_t i = 0; i < numel; ++i) {
      float v = std::fabs(x[i]);
      if (std::isnan(v))
        continue;
      int64_t b = std::min<int64_t>(kRangeBins - 1, int64_t(v * perBin));
      hist[b] += 1.0;
    }
    count += numel;
  }

  void finish(Builder &b, SmallVectorImpl<NamedAttribute> &attrs) const {
    if (count == 0)
      return;
    attrs.push_back(b.getNamedAttr("min", b.getF64FloatAttr(lo)));
    attrs.push_back(b.getNamedAttr("max", b.getF64FloatAttr(hi)));
    attrs.push_back(b.getNamedAttr("abs_hist_top", b.getF64FloatAttr(top)));
    attrs.push_back(b.getNamedAttr(
        "abs_hist", glm::makeResourceElements(RankedTensorType::get({kRangeBins}, b.getF64Type()),
                                              hist, "calib_abs_hist")));
  }

private:
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, top = 0.0;
  int64_t count = 0;
  std::vector<double> hist = std::vector<double>(kRangeBins, 0.0);
};

/// Streams rows of features into sums, sums of squares and a Gram matrix
/// (`moments`), and the values into a RangeAccumulator (`ranges`).
class Accumulator {
public:
  Accumulator(const Geometry &g, const StatisticsOptions &options)
      : geo(g), f(g.features), sum(f, 0.0), sqsum(f, 0.0), moments(options.moments && f > 0),
        ranges(options.ranges), withGram(moments && f <= kMaxGramFeatures) {
    if (withGram)
      gram.assign(f * f, 0.0);
    if (moments)
      buffer.resize(kChunk * f);
  }

  bool add(const float *x, const int64_t *dims, uint32_t rank, std::string &error) {
    int64_t numel = 1;
    for (uint32_t i = 0; i < rank; ++i)
      numel *= dims[i];
    if (ranges)
      range.add(x, numel);
    if (!moments)
      return true;
    switch (geo.kind) {
    case Geometry::Rows:
      if (rank == 0 || dims[rank - 1] != f)
        return shapeError(error);
      for (int64_t r = 0; r < numel / f; ++r)
        std::copy(x + r * f, x + (r + 1) * f, nextRow());
      break;
    case Geometry::RowsTransposed: {
      if (rank != 2 || dims[0] != f)
        return shapeError(error);
      int64_t m = dims[1];
      for (int64_t r = 0; r < m; ++r) {
        float *row = nextRow();
        for (int64_t k = 0; k < f; ++k)
          row[k] = x[k * m + r];
      }
      break;
    }
    case Geometry::Conv: {
      if (rank != 4 || dims[1] != geo.c)
        return shapeError(error);
      int64_t n = dims[0], h = dims[2], w = dims[3];
      int64_t oh = (h + geo.pt + geo.pb - geo.dh * (geo.kh - 1) - 1) / geo.sh + 1;
      int64_t ow = (w + geo.pl + geo.pr - geo.dw * (geo.kw - 1) - 1) / geo.sw + 1;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t xo = 0; xo < ow; ++xo) {
            float *row = nextRow();
            for (int64_t c = 0; c < geo.c; ++c)
              for (int64_t i = 0; i < geo.kh; ++i)
                for (int64_t j = 0; j < geo.kw; ++j) {
                  int64_t iy = y * geo.sh - geo.pt + i * geo.dh;
                  int64_t ix = xo * geo.sw - geo.pl + j * geo.dw;
                  bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                  row[(c * geo.kh + i) * geo.kw + j] =
                      inside ? x[((b * geo.c + c) * h + iy) * w + ix] : 0.0f;
                }
          }
      break;
    }
    }
    return true;
  }

  /// The statistics as a glm.calib dictionary.
  DictionaryAttr finish(MLIRContext *ctx) {
    Builder b(ctx);
    SmallVector<NamedAttribute> attrs;
    if (ranges)
      range.finish(b, attrs);
    if (!moments)
      return b.getDictionaryAttr(attrs);
    flush();
    if (withGram)
      for (int64_t i = 0; i < f; ++i)
        for (int64_t j = i + 1; j < f; ++j)
          gram[i * f + j] = gram[j * f + i];
    auto vec = RankedTensorType::get({f}, b.getF64Type());
    attrs.append({b.getNamedAttr("rows", b.getI64IntegerAttr(rows)),
                  b.getNamedAttr("sum", glm::makeResourceElements(vec, sum, "calib_sum")),
                  b.getNamedAttr("sqsum", glm::makeResourceElements(vec, sqsum, "calib_sqsum"))});
    if (withGram)
      attrs.push_back(b.getNamedAttr(
          "gram", glm::makeResourceElements(RankedTensorType::get({f, f}, b.getF64Type()), gram,
                                            "calib_gram")));
    return b.getDictionaryAttr(attrs);
  }

private:
  static constexpr int64_t kChunk = 64;

  bool shapeError(std::string &error) {
    error = "a calibration activation has an unexpected shape";
    return false;
  }

  float *nextRow() {
    if (pending == kChunk)
      flush();
    return buffer.data() + (pending++) * f;
  }

  void flush() {
    for (int64_t r = 0; r < pending; ++r) {
      const float *row = buffer.data() + r * f;
      for (int64_t i = 0; i < f; ++i) {
        double v = row[i];
        sum[i] += v;
        sqsum[i] += v * v;
        if (!withGram || row[i] == 0.0f)
          continue;
        double *g = gram.data() + i * f;
        for (int64_t j = 0; j <= i; ++j)
          g[j] += v * row[j];
      }
    }
    rows += pending;
    pending = 0;
  }

  Geometry geo;
  int64_t f;
  std::vector<double> sum, sqsum, gram;
  bool moments, ranges, withGram;
  RangeAccumulator range;
  std::vector<float> buffer;
  int64_t pending = 0, rows = 0;
};

func::FuncOp entryOf(ModuleOp module) {
  for (auto f : module.getOps<func::FuncOp>())
    if (f->hasAttr("glm.entry"))
      return f;
  return nullptr;
}

/// The prunable ops of `func` that statistics are collected for, with
/// their geometry, in walk order.
/// (Ops without a feature geometry, e.g. grouped convolutions, get value
/// ranges only: Geometry::features 0.)
SmallVector<std::pair<Operation *, Geometry>> calibratedOps(func::FuncOp func,
                                                             const StatisticsOptions &options) {
  SmallVector<std::pair<Operation *, Geometry>> out;
  func.walk([&](glm::PrunableOpInterface p) {
    Value w = p.getPrunableWeight();
    if (!w || !glm::getConstantElements(w) || glm::getConstantElements(p.getPrunableInput()))
      return;
    if (std::optional<Geometry> g = geometryOf(p)) {
      out.push_back({p.getOperation(), *g});
      return;
    }
    auto in = glm::rankedOrNull(p.getPrunableInput());
    if (options.ranges && in && isa<Float32Type>(in.getElementType()))
      out.push_back({p.getOperation(), Geometry()});
  });
  return out;
}

} // namespace

LogicalResult glmc::calibrate::collectStatistics(ModuleOp module, const DataSet &data,
                                                 const BuildHostModel &build,
                                                 const ProgressFn &progress, std::string &error,
                                                 const StatisticsOptions &options) {
  func::FuncOp func = entryOf(module);
  if (!func) {
    error = "the module has no entry function";
    return failure();
  }
  auto ops = calibratedOps(func, options);
  if (ops.empty())
    return success();

  // An instrumented copy: the inputs of those ops become extra outputs
  // (model inputs are read from the set directly).
  OwningOpRef<ModuleOp> copy = module.clone();
  func::FuncOp copyFunc = entryOf(*copy);
  auto copyOps = calibratedOps(copyFunc, options);
  if (copyOps.size() != ops.size()) {
    error = "internal error: the instrumented copy differs from the model";
    return failure();
  }
  unsigned numResults = copyFunc.getNumResults();
  // Source of each op's input: >= 0 an output index, < 0 -(input index)-1.
  SmallVector<int64_t> source;
  llvm::DenseMap<Value, int64_t> tapOf;
  auto ret = cast<func::ReturnOp>(copyFunc.front().getTerminator());
  for (auto &[op, g] : copyOps) {
    Value in = cast<glm::PrunableOpInterface>(op).getPrunableInput();
    if (auto arg = dyn_cast<BlockArgument>(in); arg && arg.getOwner() == &copyFunc.front()) {
      source.push_back(-int64_t(arg.getArgNumber()) - 1);
      continue;
    }
    auto [it, inserted] = tapOf.try_emplace(in, numResults + tapOf.size());
    if (inserted) {
      unsigned index = it->second;
      if (failed(copyFunc.insertResult(index, in.getType(), DictionaryAttr()))) {
        error = "cannot instrument the model";
        return failure();
      }
      ret->insertOperands(ret->getNumOperands(), in);
    }
    source.push_back(it->second);
  }

  std::unique_ptr<HostModel> host = build(*copy, error);
  if (!host)
    return failure();

  // One accumulator per distinct (source, geometry): q, k and v share one.
  std::map<std::string, Accumulator> accs;
  SmallVector<std::string> keyOf;
  for (auto [i, entry] : llvm::enumerate(ops)) {
    std::string key = std::to_string(source[i]) + "/" + entry.second.key();
    accs.try_emplace(key, entry.second, options);
    keyOf.push_back(key);
  }
  std::vector<npy::Array> inputs;
  std::vector<glmrt::Tensor> outputs;
  for (size_t s = 0; s < data.size(); ++s) {
    if (progress)
      progress(s, data.size());
    if (!data.readInputs(s, host->inputNames(), inputs, error))
      return failure();
    if (!host->run(inputs, outputs, error)) {
      error = "calibration sample " + std::to_string(s) + ": " + error;
      return failure();
    }
    std::map<std::string, bool> done;
    for (auto [i, entry] : llvm::enumerate(ops)) {
      if (done[keyOf[i]])
        continue;
      done[keyOf[i]] = true;
      const float *x;
      const int64_t *dims;
      uint32_t rank;
      if (source[i] < 0) {
        const npy::Array &a = inputs[-source[i] - 1];
        if (a.dtype != GLMRT_DTYPE_F32)
          continue;
        x = static_cast<const float *>(a.data());
        dims = a.shape.data();
        rank = a.shape.size();
      } else {
        const glmrt::Tensor &t = outputs[source[i]];
        if (t.dtype() != GLMRT_DTYPE_F32)
          continue;
        x = t.data<float>();
        dims = t.dims();
        rank = t.rank();
      }
      if (!accs.at(keyOf[i]).add(x, dims, rank, error))
        return failure();
    }
  }
  if (progress)
    progress(data.size(), data.size());
  std::map<std::string, DictionaryAttr> finished;
  for (auto [i, entry] : llvm::enumerate(ops)) {
    DictionaryAttr &d = finished[keyOf[i]];
    if (!d)
      d = accs.at(keyOf[i]).finish(module.getContext());
    entry.first->setAttr("glm.calib", d);
  }
  return success();
}
