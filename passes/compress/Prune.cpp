//===- Prune.cpp - glm-prune ----------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"
#include "passes/compress/AttentionHeads.h"
#include "passes/compress/Calibration.h"
#include "passes/compress/ChannelGroups.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlir::glm {
#define GEN_PASS_DEF_PRUNEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

/// The ONNX node names an op came from (NameLocs inside its location).
void nodeNames(Location loc, SmallVectorImpl<std::string> &out) {
  if (auto n = dyn_cast<NameLoc>(loc))
    out.push_back(n.getName().str());
  else if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      nodeNames(l, out);
}

int64_t numElementsOf(Value v) {
  auto t = v ? rankedOrNull(v) : RankedTensorType();
  return t && t.hasStaticShape() ? t.getNumElements() : 0;
}

/// Norms of the slices of a weight along `dim` (L1 or L2).
SmallVector<double> sliceNorms(Value weight, int64_t dim, bool l1) {
  auto t = rankedOrNull(weight);
  auto v = getConstantValuesAsDouble(weight);
  ArrayRef<int64_t> shape = t.getShape();
  int64_t outer = getNumElements(shape.take_front(dim)), n = shape[dim],
          inner = getNumElements(shape.drop_front(dim + 1));
  SmallVector<double> norms(n, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < inner; ++k) {
        double x = (*v)[(o * n + i) * inner + k];
        norms[i] += l1 ? std::abs(x) : x * x;
      }
  if (!l1)
    for (double &x : norms)
      x = std::sqrt(x);
  return norms;
}

/// Exact parameter count of the prunable ops' weights and biases while
/// channels are removed from their output and input dims.
class ParamCounter {
public:
  void track(const ChannelUse &u) {
    if (u.kind == ChannelUse::PerChannelConstant || u.kind == ChannelUse::SliceBounds ||
        index.count(u.op))
      return;
    auto p = cast<PrunableOpInterface>(u.op);
    auto w = rankedOrNull(p.getPrunableWeight());
    Entry e;
    e.nOut = w.getDimSize(p.getWeightOutputDim());
    e.nIn = p.getWeightInputDim() >= 0 ? w.getDimSize(p.getWeightInputDim()) : 1;
    e.inner = w.getNumElements() / (e.nOut * e.nIn);
    e.bias = p.getPrunableBias() != nullptr;
    index[u.op] = entries.size();
    entries.push_back(e);
    initial += e.params();
  }
  void reset() {
    for (Entry &e : entries)
      e.rOut = e.rIn = 0;
    current = initial;
  }
  void remove(const ChannelUse &u, int64_t channels) {
    auto it = index.find(u.op);
    if (it == index.end())
      return;
    Entry &e = entries[it->second];
    current -= e.params();
    (u.kind == ChannelUse::ConsumerWeight ? e.rIn : e.rOut) += channels;
    current += e.params();
  }
  double removed() const { return double(initial - current); }

private:
  struct Entry {
    int64_t nOut, nIn, inner;
    bool bias;
    int64_t rOut = 0, rIn = 0;
    int64_t params() const {
      return (nOut - rOut) * (nIn - rIn) * inner + (bias ? nOut - rOut : 0);
    }
  };
  llvm::DenseMap<Operation *, unsigned> index;
  std::vector<Entry> entries;
  int64_t initial = 0, current = 0;
};

struct PrunePass : glm::impl::PrunePassBase<PrunePass> {
  using PrunePassBase::PrunePassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (ratio <= 0.0 || !func->hasAttr("glm.entry"))
      return;
    if (ratio >= 1.0) {
      func.emitError("--prune ratio must be in [0, 1), got ") << ratio;
      return signalPassFailure();
    }
    bool calibrated = false;
    func.walk([&](Operation *op) { calibrated |= op->hasAttr("glm.calib"); });
    if (criterion == "wanda" && !calibrated) {
      func.emitError("prune criterion 'wanda' weighs weights by their input activations and "
                     "needs calibration statistics (glmc --calib DIR); without them use "
                     "magnitude or l1");
      return signalPassFailure();
    }
    if (criterion != "magnitude" && criterion != "l1" && criterion != "wanda") {
      func.emitError("prune criterion must be magnitude, l1 or wanda, got '") << criterion << "'";
      return signalPassFailure();
    }
    for (const std::string &p : exclude) {
      std::string err;
      if (!llvm::Regex(p).isValid(err)) {
        func.emitError("invalid --exclude pattern '") << p << "': " << err;
        return signalPassFailure();
      }
    }
    for (const std::string &entry : layerRatio) {
      size_t eq = entry.rfind('=');
      double r = -1;
      std::string err;
      if (eq == std::string::npos || llvm::StringRef(entry).substr(eq + 1).getAsDouble(r) ||
          r < 0 || r >= 1) {
        func.emitError("per-layer sparsity '") << entry << "' must be PATTERN=R with 0 <= R < 1";
        return signalPassFailure();
      }
      if (!llvm::Regex(entry.substr(0, eq)).isValid(err)) {
        func.emitError("invalid per-layer pattern '") << entry.substr(0, eq) << "': " << err;
        return signalPassFailure();
      }
      fixedRatios.emplace_back(entry.substr(0, eq), r);
    }
    // A pattern that matches nothing is almost always a typo.
    {
      SmallVector<std::string> names;
      func.walk([&](PrunableOpInterface p) { nodeNames(p->getLoc(), names); });
      auto warnUnmatched = [&](StringRef what, const std::string &pattern) {
        llvm::Regex re(pattern);
        if (llvm::none_of(names, [&](const std::string &n) { return re.match(n); }))
          func.emitWarning() << what << " '" << pattern
                             << "' matches no prunable layer's node name (glmc --report lists "
                                "them)";
      };
      for (const std::string &p : exclude)
        warnUnmatched("--exclude pattern", p);
      for (const auto &entry : fixedRatios)
        warnUnmatched("per-layer sparsity pattern", entry.first);
    }
    LogicalResult result = mode == "structured"     ? structured(func)
                           : mode == "unstructured" ? unstructured(func, /*nm=*/false)
                           : mode == "2:4"          ? unstructured(func, /*nm=*/true)
                                                    : failure();
    if (failed(result)) {
      if (mode != "structured" && mode != "unstructured" && mode != "2:4")
        func.emitError("--prune-mode must be structured, unstructured or 2:4, got '") << mode << "'";
      signalPassFailure();
    }
    // The statistics were for this pass only.
    func.walk([](Operation *op) { op->removeAttr("glm.calib"); });
  }

  /// Per output-channel importance from calibration (criterion wanda,
  /// structured): how much of a consumer's output energy the channel
  /// carries, sum over f in the channel of ||W[:, f]||^2 * s_f, with s_f the
  /// feature's variance when reconstruction restores its mean through the
  /// bias (FLAP's fluctuation), else its mean square; normalised by the
  /// consumer's total. Empty when no consumer has statistics.
  SmallVector<double> activationImportance(const ChannelGroup &g) {
    SmallVector<double> imp(g.size, 0.0);
    bool any = false;
    for (const ChannelUse &u : g.uses) {
      if (u.kind != ChannelUse::ConsumerWeight)
        continue;
      auto p = cast<PrunableOpInterface>(u.op);
      std::optional<CalibStats> st = CalibStats::of(u.op);
      WeightView view(p);
      if (!st || st->features != view.features())
        continue;
      auto w = *getConstantValuesAsDouble(p.getPrunableWeight());
      SmallVector<double> perChannel(view.inputs(), 0.0);
      double total = 0;
      for (int64_t o = 0; o < view.outputs(); ++o)
        for (int64_t f = 0; f < view.features(); ++f) {
          double x = w[view.index(o, f)];
          double e = x * x * (reconstruct ? st->variance(f) : st->meanSquare(f));
          perChannel[f / view.inner()] += e;
          total += e;
        }
      if (total <= 0)
        continue;
      any = true;
      for (int64_t i = 0; i < g.size; ++i)
        imp[i] += perChannel[u.offset + i] / total;
    }
    if (!any)
      imp.clear();
    return imp;
  }

  /// Per K/V group importance of an attention block: with calibration
  /// (wanda) the share of the output projection's energy its query heads
  /// carry, else the normalised norms of every projection slice it owns
  /// (q/k/v columns, o_proj rows) summed over its channels, on the scale
  /// channel importances have, so that a unit is as costly to lose as the
  /// channels it holds.
  SmallVector<double> headImportance(const ChannelGroups &cg, const AttentionHeadBlock &b) {
    SmallVector<double> imp(b.kvHeads, 0.0);
    auto addPerChannel = [&](unsigned gi, ArrayRef<double> perChannel) {
      int64_t n = b.unitChannels(gi);
      for (int64_t u = 0; u < b.kvHeads; ++u)
        for (int64_t c = 0; c < n; ++c)
          imp[u] += perChannel[u * n + c];
    };
    if (criterion == "wanda") {
      SmallVector<double> act = activationImportance(cg.groups()[b.oGroup]);
      if (!act.empty()) {
        addPerChannel(b.oGroup, act);
        return imp;
      }
    }
    auto normalised = [&](Value w, int64_t dim) {
      SmallVector<double> norms = sliceNorms(w, dim, criterion == "l1");
      double mean = std::accumulate(norms.begin(), norms.end(), 0.0) / norms.size();
      for (double &x : norms)
        x = mean > 0 ? x / mean : 0.0;
      return norms;
    };
    for (auto [gi, op] : llvm::zip(b.groups(), SmallVector<Operation *>{b.qProducer, b.kProducer,
                                                                        b.vProducer, b.oConsumer})) {
      auto p = cast<PrunableOpInterface>(op);
      addPerChannel(gi, normalised(p.getPrunableWeight(),
                                   gi == b.oGroup ? p.getWeightInputDim() : p.getWeightOutputDim()));
    }
    return imp;
  }

  /// Refits every consumer of removed channels from its statistics.
  void reconstructConsumers(const llvm::MapVector<Operation *, SmallVector<int64_t>> &removedInputs) {
    size_t index = 0;
    for (const auto &entry : removedInputs) {
      Operation *op = entry.first;
      ArrayRef<int64_t> channels = entry.second;
      op->getContext()->executeAction<PruneLayerAction>(
          [&] { reconstructConsumer(op, channels); }, {op}, "reconstructing", index++,
          removedInputs.size());
    }
  }

  void reconstructConsumer(Operation *op, ArrayRef<int64_t> channels) {
    std::optional<CalibStats> st = CalibStats::of(op);
    if (!st)
      return;
    auto p = cast<PrunableOpInterface>(op);
    WeightView view(p);
    Value wv = p.getPrunableWeight();
    auto w = *getConstantValuesAsDouble(wv);
    SmallVector<double> bias(view.outputs(), 0.0);
    Value bv = p.getPrunableBias();
    if (bv)
      bias = *getConstantValuesAsDouble(bv);
    SmallVector<double> oldBias = bias;
    if (!refitAfterRemoval(view, *st, channels, w, bias)) {
      op->emitWarning("least-squares reconstruction failed (singular statistics); the "
                      "weights are only masked");
      return;
    }
    OpBuilder b(op);
    auto wt = rankedOrNull(wv);
    Value nw = ConstantOp::create(b, op->getLoc(), makeResourceElements(wt, w, "refit"));
    for (OpOperand &o : op->getOpOperands())
      if (o.get() == wv)
        o.set(nw);
    if (bias == oldBias)
      return;
    auto bt = RankedTensorType::get({view.outputs()}, wt.getElementType());
    Value nb = ConstantOp::create(b, op->getLoc(), makeResourceElements(bt, bias, "refit_bias"));
    if (bv) {
      for (OpOperand &o : op->getOpOperands())
        if (o.get() == bv)
          o.set(nb);
    } else {
      addBias(op, nb);
    }
  }

  /// Gives `op` the per-output bias `bias`: as its optional bias operand
  /// (conv, gemm without C), else as an add after it.
  void addBias(Operation *op, Value bias) {
    OpBuilder b(op);
    bool operand = (isa<ConvOp>(op) && op->getNumOperands() == 2) ||
                   (isa<GemmOp>(op) && op->getNumOperands() == 2);
    if (operand) {
      OperationState st(op->getLoc(), op->getName());
      st.addOperands(op->getOperands());
      st.addOperands(bias);
      st.addTypes(op->getResultTypes());
      st.addAttributes(op->getAttrs());
      Operation *n = b.create(st);
      op->replaceAllUsesWith(n);
      op->erase();
      return;
    }
    // The bias is along the result's channel dim.
    auto p = cast<PrunableOpInterface>(op);
    Value y = op->getResult(0);
    auto yt = rankedOrNull(y);
    int64_t dim = p.getResultChannelDim();
    SmallVector<int64_t> shape(yt.getRank() - dim, 1);
    shape[0] = yt.getDimSize(dim);
    b.setInsertionPointAfter(op);
    auto bt = RankedTensorType::get(shape, yt.getElementType());
    Value reshaped = ConstantOp::create(
        b, op->getLoc(),
        makeResourceElements(bt, *getConstantValuesAsDouble(bias), "refit_bias"));
    auto add = AddOp::create(b, op->getLoc(), yt, y, reshaped);
    y.replaceAllUsesExcept(add, add);
  }

  /// (pattern, sparsity) from layer-ratio, in order.
  SmallVector<std::pair<std::string, double>> fixedRatios;

  /// The fixed sparsity of a layer (first matching layer-ratio pattern).
  std::optional<double> fixedRatio(Operation *op) {
    SmallVector<std::string> names;
    nodeNames(op->getLoc(), names);
    for (const auto &[pattern, r] : fixedRatios)
      for (const std::string &n : names)
        if (llvm::Regex(pattern).match(n))
          return r;
    return std::nullopt;
  }

  bool excluded(Operation *op) {
    SmallVector<std::string> names;
    nodeNames(op->getLoc(), names);
    for (const std::string &p : exclude)
      for (const std::string &n : names)
        if (llvm::Regex(p).match(n))
          return true;
    return false;
  }

  /// Whether layers `ops` take part in structured pruning: not when one is
  /// excluded or given sparsity 0 (then `keep` records why). `fixed` gets
  /// the first per-layer sparsity that matches one of them.
  bool admit(ArrayRef<Operation *> ops, function_ref<void(StringRef)> keep,
             std::optional<double> &fixed) {
    if (llvm::any_of(ops, [&](Operation *p) { return excluded(p); })) {
      keep("excluded by --exclude");
      return false;
    }
    for (Operation *p : ops)
      if (std::optional<double> r = fixedRatio(p)) {
        fixed = *r;
        break;
      }
    if (fixed && *fixed == 0) {
      keep("per-layer sparsity 0");
      return false;
    }
    return true;
  }

  /// Every prunable op with constant weights, and their parameter count.
  int64_t prunableParams(func::FuncOp func, SmallVectorImpl<PrunableOpInterface> *ops = nullptr) {
    int64_t total = 0;
    func.walk([&](PrunableOpInterface p) {
      Value w = p.getPrunableWeight();
      if (!w || !getConstantElements(w) || !numElementsOf(w))
        return;
      total += numElementsOf(w) + numElementsOf(p.getPrunableBias());
      if (ops)
        ops->push_back(p);
    });
    return total;
  }

  //===--------------------------------------------------------------------===//
  // Structured
  //===--------------------------------------------------------------------===//

  LogicalResult structured(func::FuncOp func) {
    ChannelGroups cg(func);
    int64_t total = prunableParams(func);
    if (total == 0)
      return success();
    // Attention K/V groups are units of their own (ChannelGroups pins
    // their channels at the head split).
    SmallVector<AttentionHeadBlock> heads = findAttentionHeads(func, cg);
    llvm::DenseSet<unsigned> headGroups;
    for (const AttentionHeadBlock &b : heads)
      for (unsigned g : b.groups())
        headGroups.insert(g);
    struct Candidate {
      unsigned group;
      int head = -1;                  // an attention block: units are K/V groups
      SmallVector<double> importance; // per channel (or unit), normalised
      double cost = 0;                // parameters removed per channel (or unit)
      std::optional<double> fixed;    // per-layer sparsity (layer-ratio)
    };
    SmallVector<Candidate> cands;
    for (auto [gi, g] : llvm::enumerate(cg.groups())) {
      if (headGroups.contains(gi))
        continue;
      SmallVector<Operation *> producers = g.producers();
      if (producers.empty())
        continue;
      // Kept groups are recorded for the report (glm.channels_kept).
      auto keep = [&](StringRef reason) {
        for (Operation *p : producers)
          p->setAttr("glm.channels_kept", StringAttr::get(func.getContext(), reason));
      };
      if (!g.prunable()) {
        keep(g.pinned ? StringRef(g.pinReason)
                      : StringRef("an op on these channels does not map zero to zero"));
        continue;
      }
      Candidate c;
      c.group = gi;
      if (!admit(producers, keep, c.fixed))
        continue;
      c.importance.assign(g.size, 0.0);
      SmallVector<double> fromActivations;
      if (criterion == "wanda")
        fromActivations = activationImportance(g);
      for (const ChannelUse &u : g.uses) {
        auto p = dyn_cast<PrunableOpInterface>(u.op);
        switch (u.kind) {
        case ChannelUse::ProducerWeight:
        case ChannelUse::Depthwise: {
          SmallVector<double> norms =
              sliceNorms(p.getPrunableWeight(), p.getWeightOutputDim(), criterion == "l1");
          double mean = std::accumulate(norms.begin(), norms.end(), 0.0) / norms.size();
          int64_t off = u.offset;
          for (int64_t i = 0; i < g.size; ++i)
            c.importance[i] += mean > 0 ? norms[off + i] / mean : 0.0;
          c.cost += double(numElementsOf(p.getPrunableWeight())) / norms.size() +
                    (p.getPrunableBias() ? 1 : 0);
          break;
        }
        case ChannelUse::ConsumerWeight: {
          auto wt = rankedOrNull(p.getPrunableWeight());
          c.cost += double(wt.getNumElements()) / wt.getDimSize(u.dim);
          break;
        }
        case ChannelUse::PerChannelConstant:
        case ChannelUse::SliceBounds:
          break;
        }
      }
      if (!fromActivations.empty())
        c.importance = std::move(fromActivations);
      cands.push_back(std::move(c));
    }
    for (size_t bi = 0; bi < heads.size(); ++bi) {
      const AttentionHeadBlock &b = heads[bi];
      SmallVector<Operation *> ops{b.qProducer, b.kProducer, b.vProducer, b.oConsumer};
      auto keep = [&](StringRef reason) {
        for (Operation *p : {b.qProducer, b.kProducer, b.vProducer})
          p->setAttr("glm.channels_kept", StringAttr::get(func.getContext(), reason));
      };
      Candidate c;
      c.group = b.qGroup;
      c.head = (int)bi;
      if (!admit(ops, keep, c.fixed))
        continue;
      c.importance = headImportance(cg, b);
      ParamCounter one;
      for (unsigned gi : b.groups())
        for (const ChannelUse &u : cg.groups()[gi].uses)
          one.track(u);
      one.reset();
      for (unsigned gi : b.groups())
        for (const ChannelUse &u : cg.groups()[gi].uses)
          one.remove(u, b.unitChannels(gi));
      c.cost = one.removed();
      cands.push_back(std::move(c));
    }
    // The uses a candidate removes channels from, and how many per unit.
    auto usesOf = [&](const Candidate &c, function_ref<void(const ChannelUse &, int64_t)> fn) {
      if (c.head < 0) {
        for (const ChannelUse &u : cg.groups()[c.group].uses)
          fn(u, 1);
        return;
      }
      const AttentionHeadBlock &b = heads[c.head];
      for (unsigned gi : b.groups())
        for (const ChannelUse &u : cg.groups()[gi].uses)
          fn(u, b.unitChannels(gi));
    };
    // (Less a rounding error: 1/3 of 36 parameters is 12, not 12.000001.)
    double budget = ratio * total * (1 - 1e-9);
    // Exact accounting of what removing channels takes away (a weight
    // between two pruned groups loses rows and columns; counting each
    // side alone would count their crossing twice).
    ParamCounter counter;
    for (const Candidate &c : cands)
      usesOf(c, [&](const ChannelUse &u, int64_t) { counter.track(u); });
    auto apply = [&](const Candidate &c, int64_t delta) {
      usesOf(c, [&](const ChannelUse &u, int64_t per) { counter.remove(u, delta * per); });
    };
    // Channels to remove per candidate group, least important first.
    SmallVector<SmallVector<int64_t>> order;
    for (const Candidate &c : cands) {
      SmallVector<int64_t> idx(c.importance.size());
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(),
                       [&](int64_t a, int64_t b) { return c.importance[a] < c.importance[b]; });
      order.push_back(std::move(idx));
    }
    SmallVector<int64_t> count(cands.size(), 0);
    auto maxRemovable = [&](const Candidate &c) {
      // alloc=auto keeps at least 10% of a group (and one channel).
      int64_t n = c.importance.size();
      return alloc == "auto" ? n - std::max<int64_t>(1, (int64_t)std::ceil(0.1 * n)) : n - 1;
    };
    // Groups with a per-layer sparsity take exactly that; the others share
    // what is left of the budget.
    auto fixedCount = [&](const Candidate &c) {
      return std::min<int64_t>(std::floor(*c.fixed * c.importance.size()), maxRemovable(c));
    };
    if (alloc == "uniform") {
      // The largest common fraction under the budget...
      auto countsFor = [&](double r) {
        SmallVector<int64_t> k;
        for (const Candidate &c : cands)
          k.push_back(c.fixed ? fixedCount(c)
                              : std::min<int64_t>(std::floor(r * c.importance.size()),
                                                  maxRemovable(c)));
        return k;
      };
      auto removedFor = [&](ArrayRef<int64_t> k) {
        counter.reset();
        for (auto [ci, c] : llvm::enumerate(cands))
          apply(c, k[ci]);
        return counter.removed();
      };
      double lo = 0, hi = 1;
      for (int it = 0; it < 60; ++it) {
        double mid = (lo + hi) / 2;
        (removedFor(countsFor(mid)) >= budget ? hi : lo) = mid;
      }
      count = countsFor(lo);
      removedFor(count);
      // ...then single channels, least important next channel first, until
      // the budget is met.
      while (counter.removed() < budget) {
        int best = -1;
        double bestScore = 0;
        for (auto [ci, c] : llvm::enumerate(cands)) {
          if (c.fixed || count[ci] >= maxRemovable(c))
            continue;
          double score = c.importance[order[ci][count[ci]]];
          if (best < 0 || score < bestScore)
            best = ci, bestScore = score;
        }
        if (best < 0)
          break;
        apply(cands[best], 1);
        ++count[best];
      }
    } else if (alloc == "auto") {
      // Global ranking of channels by normalised importance per parameter.
      struct Item {
        double score;
        unsigned cand;
        int64_t ch;
      };
      std::vector<Item> items;
      for (auto [ci, c] : llvm::enumerate(cands))
        for (int64_t i = 0; i < (int64_t)c.importance.size() && !c.fixed; ++i)
          items.push_back({c.importance[i] / std::max(c.cost, 1.0), (unsigned)ci, i});
      std::stable_sort(items.begin(), items.end(),
                       [](const Item &a, const Item &b) { return a.score < b.score; });
      counter.reset();
      for (auto [ci, c] : llvm::enumerate(cands))
        if (c.fixed) {
          count[ci] = fixedCount(c);
          apply(c, count[ci]);
        }
      for (const Item &it : items) {
        if (counter.removed() >= budget)
          break;
        if (count[it.cand] >= maxRemovable(cands[it.cand]))
          continue;
        apply(cands[it.cand], 1);
        ++count[it.cand];
      }
      // Within a group the least important channels go first.
    } else {
      func.emitError("--prune-alloc must be uniform or auto, got '") << alloc << "'";
      return failure();
    }
    SmallVector<SmallVector<int64_t>> removed(cands.size());
    for (auto [ci, c] : llvm::enumerate(cands))
      removed[ci].assign(order[ci].begin(), order[ci].begin() + count[ci]);
    double achieved = counter.removed();
    if (achieved + 1e-9 < budget)
      func.emitWarning("structured pruning reached ")
          << llvm::formatv("{0:f1}", 100.0 * achieved / total).str()
          << "% of the prunable parameters, short of the requested "
          << llvm::formatv("{0:f1}", 100.0 * ratio).str()
          << "%: the rest of the model's channels are tied to its inputs/outputs or to ops that "
             "cannot be trimmed";

    // Mask: zero weights and biases of the removed channels; note which
    // input channels each consumer loses.
    OpBuilder b(func.getContext());
    llvm::MapVector<Operation *, SmallVector<int64_t>> removedInputs;
    auto maskGroup = [&](const ChannelGroup &g, ArrayRef<int64_t> d) {
      for (const ChannelUse &u : g.uses) {
        SmallVector<int64_t> idx;
        for (int64_t i : d)
          idx.push_back(u.offset + i);
        b.setInsertionPoint(u.op);
        if (u.kind == ChannelUse::ProducerWeight || u.kind == ChannelUse::Depthwise) {
          auto p = cast<PrunableOpInterface>(u.op);
          maskOperand(b, u.op, p.getPrunableWeight(), p.getWeightOutputDim(), idx);
          if (Value bias = p.getPrunableBias())
            maskOperand(b, u.op, bias, 0, idx);
          if (u.kind == ChannelUse::ProducerWeight) {
            // Absolute output channels, over all the op's spaces.
            SmallVector<int64_t> all;
            if (auto prev = u.op->getAttrOfType<DenseI64ArrayAttr>("glm.pruned_channels"))
              all.assign(prev.asArrayRef().begin(), prev.asArrayRef().end());
            all.append(idx.begin(), idx.end());
            llvm::sort(all);
            u.op->setAttr("glm.pruned_channels", b.getDenseI64ArrayAttr(all));
          }
        } else if (u.kind == ChannelUse::PerChannelConstant) {
          maskOperand(b, u.op, u.op->getOperand(u.operand), u.dim, idx);
        } else if (u.kind == ChannelUse::ConsumerWeight) {
          auto &list = removedInputs[u.op];
          list.append(idx.begin(), idx.end());
        }
      }
    };
    for (auto [ci, c] : llvm::enumerate(cands)) {
      SmallVector<int64_t> &d = removed[ci];
      if (d.empty())
        continue;
      llvm::sort(d);
      if (c.head < 0) {
        maskGroup(cg.groups()[c.group], d);
        continue;
      }
      // Whole K/V groups: their query heads, K and V heads, and the output
      // projection's rows of those query heads.
      const AttentionHeadBlock &b = heads[c.head];
      for (unsigned gi : b.groups())
        maskGroup(cg.groups()[gi], b.channels(gi, d));
    }
    if (reconstruct)
      reconstructConsumers(removedInputs);
    return success();
  }

  /// Replaces every use of `operand` in `op` by a copy with `indices` of
  /// `dim` zeroed.
  void maskOperand(OpBuilder &b, Operation *op, Value operand, int64_t dim,
                   ArrayRef<int64_t> indices) {
    Value masked = sliceConstant(b, op->getLoc(), operand, dim, indices, /*keep=*/false,
                                 "pruned");
    if (!masked)
      return;
    for (OpOperand &o : op->getOpOperands())
      if (o.get() == operand)
        o.set(masked);
  }

  //===--------------------------------------------------------------------===//
  // Unstructured and N:M
  //===--------------------------------------------------------------------===//

  LogicalResult unstructured(func::FuncOp func, bool nm) {
    SmallVector<PrunableOpInterface> all, ops;
    prunableParams(func, &all);
    for (PrunableOpInterface p : all)
      if (!excluded(p) && !(nm && p.getWeightInputDim() < 0))
        ops.push_back(p);
    // Scores: |w|, times the feature's activation norm ||x_f|| for wanda.
    SmallVector<SmallVector<double>> weights, scores;
    for (PrunableOpInterface p : ops) {
      auto v = *getConstantValuesAsDouble(p.getPrunableWeight());
      SmallVector<double> sc(v.size());
      for (size_t i = 0; i < v.size(); ++i)
        sc[i] = std::abs(v[i]);
      std::optional<CalibStats> st;
      if (criterion == "wanda")
        st = CalibStats::of(p);
      WeightView view(p);
      if (st && st->features == view.features())
        for (int64_t o = 0; o < view.outputs(); ++o)
          for (int64_t f = 0; f < view.features(); ++f)
            sc[view.index(o, f)] *= std::sqrt(st->meanSquare(f));
      weights.push_back(std::move(v));
      scores.push_back(std::move(sc));
    }
    SmallVector<double> layerRatio = layerRatios(ops, scores);

    OpBuilder b(func.getContext());
    for (size_t li = 0; li < ops.size(); ++li) {
      PrunableOpInterface p = ops[li];
      func.getContext()->executeAction<PruneLayerAction>([&] {
        SmallVector<double> &v = weights[li];
        const SmallVector<double> &sc = scores[li];
        WeightView view(p);
        // Zeroes the `k` lowest-scored of `idx` (ties by position).
        auto zeroLowest = [&](SmallVector<int64_t> &idx, size_t k) {
          std::stable_sort(idx.begin(), idx.end(),
                           [&](int64_t a, int64_t c) { return sc[a] < sc[c]; });
          for (size_t j = 0; j < std::min(k, idx.size()); ++j)
            v[idx[j]] = 0.0;
        };
        if (nm) {
          // 2 of every 4 consecutive input channels, per output and tap.
          int64_t nIn = view.inputs(), inner = view.inner();
          for (int64_t o = 0; o < view.outputs(); ++o)
            for (int64_t r = 0; r < inner; ++r)
              for (int64_t c0 = 0; c0 < nIn; c0 += 4) {
                SmallVector<int64_t> run;
                for (int64_t c = c0; c < std::min(nIn, c0 + 4); ++c)
                  run.push_back(view.index(o, c * inner + r));
                zeroLowest(run, run.size() / 2);
              }
        } else if (criterion == "wanda") {
          // Wanda compares weights per output.
          size_t k = std::floor(layerRatio[li] * view.features());
          for (int64_t o = 0; o < view.outputs(); ++o) {
            SmallVector<int64_t> row;
            for (int64_t f = 0; f < view.features(); ++f)
              row.push_back(view.index(o, f));
            zeroLowest(row, k);
          }
        } else {
          SmallVector<int64_t> idx(v.size());
          std::iota(idx.begin(), idx.end(), 0);
          zeroLowest(idx, std::floor(layerRatio[li] * v.size()));
        }
        Value w = p.getPrunableWeight();
        b.setInsertionPoint(p);
        Value masked =
            ConstantOp::create(b, p->getLoc(), makeResourceElements(rankedOrNull(w), v, "pruned"));
        for (OpOperand &o : p->getOpOperands())
          if (o.get() == w)
            o.set(masked);
        int64_t zeros = llvm::count(v, 0.0);
        p->setAttr("glm.sparsity", b.getF64FloatAttr(double(zeros) / v.size()));
      }, {p.getOperation()}, "pruning", li, ops.size());
    }
    return success();
  }

  /// Per-layer sparsity for unstructured pruning. uniform: the ratio
  /// everywhere. auto: with wanda scores, OWL (outlier-weighted layerwise
  /// sparsity): layers with more outliers (scores above 5x their mean) get
  /// up to 8 points less sparsity, those with fewer up to 8 points more;
  /// without, one global threshold on |w| / rms(layer). Either way the
  /// parameter-weighted mean is the requested ratio.
  SmallVector<double> layerRatios(ArrayRef<PrunableOpInterface> ops,
                                  ArrayRef<SmallVector<double>> scores) {
    SmallVector<double> r(ops.size(), ratio);
    SmallVector<std::optional<double>> fixed;
    for (PrunableOpInterface p : ops)
      fixed.push_back(fixedRatio(p));
    bool anyFixed = llvm::any_of(fixed, [](auto f) { return f.has_value(); });
    if ((alloc != "auto" && !anyFixed) || ops.empty())
      return r;
    SmallVector<double> n;
    for (const SmallVector<double> &s : scores)
      n.push_back(s.size());
    if (alloc != "auto") {
      // Uniform over the layers without a fixed sparsity.
    } else if (criterion == "wanda") {
      SmallVector<double> outliers;
      for (const SmallVector<double> &s : scores) {
        double mean = std::accumulate(s.begin(), s.end(), 0.0) / std::max<size_t>(s.size(), 1);
        outliers.push_back(double(llvm::count_if(s, [&](double x) { return x > 5 * mean; })) /
                           std::max<size_t>(s.size(), 1));
      }
      double lo = *llvm::min_element(outliers), hi = *llvm::max_element(outliers);
      for (size_t i = 0; i < ops.size(); ++i)
        r[i] = ratio + 0.08 * (hi > lo ? 1.0 - 2.0 * (outliers[i] - lo) / (hi - lo) : 0.0);
    } else {
      // |w| / rms per layer, one threshold for all.
      std::vector<double> all;
      SmallVector<double> rms;
      for (const SmallVector<double> &s : scores) {
        double q = 0;
        for (double x : s)
          q += x * x;
        rms.push_back(std::sqrt(q / std::max<size_t>(s.size(), 1)));
        for (double x : s)
          all.push_back(rms.back() > 0 ? x / rms.back() : 0);
      }
      size_t k = std::min(all.size() - 1, (size_t)std::floor(ratio * all.size()));
      std::nth_element(all.begin(), all.begin() + k, all.end());
      double t = all[k];
      for (size_t i = 0; i < ops.size(); ++i)
        r[i] = double(llvm::count_if(scores[i], [&](double x) { return x < t * rms[i]; })) / n[i];
    }
    // Keep the requested total: shift the free layers, clamp, repeat.
    for (size_t i = 0; i < ops.size(); ++i)
      if (fixed[i])
        r[i] = *fixed[i];
    double total = std::accumulate(n.begin(), n.end(), 0.0), free = 0;
    for (size_t i = 0; i < ops.size(); ++i)
      free += fixed[i] ? 0 : n[i];
    for (int it = 0; it < 50 && free > 0; ++it) {
      double got = 0;
      for (size_t i = 0; i < ops.size(); ++i)
        got += r[i] * n[i];
      double shift = (ratio * total - got) / free;
      if (std::abs(shift) < 1e-9)
        break;
      for (size_t i = 0; i < ops.size(); ++i)
        if (!fixed[i])
          r[i] = std::clamp(r[i] + shift, 0.0, 0.99);
    }
    return r;
  }
};

} // namespace
