//===- AttentionHeads.cpp - K/V groups of attention as pruning units ------===//

#include "passes/compress/AttentionHeads.h"

#include "passes/fusion/DecoderPatterns.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/ShapeUtils.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

SmallVector<int64_t> AttentionHeadBlock::channels(unsigned group, ArrayRef<int64_t> units) const {
  int64_t n = unitChannels(group);
  SmallVector<int64_t> out;
  for (int64_t u : units)
    for (int64_t c = 0; c < n; ++c)
      out.push_back(u * n + c);
  return out;
}

int64_t AttentionHeadBlock::unitChannels(unsigned group) const {
  if (group == qGroup)
    return groupSize * headDim;
  if (group == kGroup)
    return headDim;
  if (group == vGroup)
    return vHeadDim;
  return groupSize * vHeadDim;
}

namespace {

/// The per-head side of one attention operand: lin -> reshape -> transpose.
struct HeadSource {
  Value lin;        ///< [b, s, heads * d]
  Value split;      ///< the transposed [b, heads, s, d]
  int64_t heads = 0, dim = 0;
  ReshapeOp reshape; ///< the head split
};

FailureOr<HeadSource> traceHeads(Value v, std::string &why) {
  v = skipIdentityCasts(v);
  if (auto rot = matchRotaryResult(v); succeeded(rot))
    v = skipIdentityCasts(rot->x);
  auto tr = v.getDefiningOp<TransposeOp>();
  if (!tr || toI64(tr.getPerm()) != SmallVector<int64_t>{0, 2, 1, 3}) {
    why = "its heads are not split by reshape + transpose [0, 2, 1, 3] (a KV cache input?)";
    return failure();
  }
  auto split = definedBy<ReshapeOp>(tr.getData());
  auto st = split ? rankedOrNull(split.getReshaped()) : RankedTensorType();
  auto lt = split ? rankedOrNull(split.getData()) : RankedTensorType();
  if (!st || !lt || st.getRank() != 4 || lt.getRank() != 3 || ShapedType::isDynamic(st.getDimSize(2)) ||
      ShapedType::isDynamic(st.getDimSize(3)) ||
      lt.getDimSize(2) != st.getDimSize(2) * st.getDimSize(3)) {
    why = "the heads do not come from a [b, s, heads * d] projection";
    return failure();
  }
  if (!split.getData().hasOneUse() || !split->hasOneUse()) {
    why = "the projection or its head split has other readers";
    return failure();
  }
  return HeadSource{split.getData(), tr.getResult(), st.getDimSize(2), st.getDimSize(3), split};
}

/// Everything that reads the per-head value `start` must flow into the
/// attention (`stop`) through ops that keep heads apart: element-wise ops
/// and slices, unsqueezes, concats, reshapes and transposes that leave the
/// head dim (1) alone (the rotary embedding's arithmetic).
bool headsStayInside(Value start, const llvm::DenseSet<Operation *> &stop, std::string &why) {
  llvm::SetVector<Operation *> seen;
  SmallVector<Value> work{start};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (stop.contains(user) || !seen.insert(user))
        continue;
      // Shape arithmetic reads the dims, which stay right when heads go.
      if (isa<ShapeOp>(user))
        continue;
      bool keepsHeads = false;
      if (user->hasTrait<GLMElementwise>() || isa<CastOp>(user)) {
        keepsHeads = true;
      } else if (auto s = dyn_cast<SliceOp>(user)) {
        auto a = getAxisSlice(s);
        keepsHeads = a && a->axis != 1;
      } else if (auto u = dyn_cast<UnsqueezeOp>(user)) {
        auto rt = rankedOrNull(u.getExpanded());
        keepsHeads = rt && llvm::all_of(toI64(u.getAxes()), [&](int64_t a) {
                       auto n = normalizeAxis(a, rt.getRank());
                       return n && *n > 1;
                     });
      } else if (auto c = dyn_cast<ConcatOp>(user)) {
        auto rt = rankedOrNull(c.getResult());
        auto n = rt ? normalizeAxis(c.getAxis(), rt.getRank()) : std::nullopt;
        keepsHeads = n && *n != 1;
      } else if (auto r = dyn_cast<ReshapeOp>(user)) {
        auto it = rankedOrNull(r.getData()), ot = rankedOrNull(r.getReshaped());
        keepsHeads = it && ot && it.getRank() >= 4 && ot.getRank() >= 4 &&
                     !ShapedType::isDynamic(it.getDimSize(1)) && it.getDimSize(1) == ot.getDimSize(1);
      } else if (auto t = dyn_cast<TransposeOp>(user)) {
        auto perm = toI64(t.getPerm());
        keepsHeads = perm.size() >= 2 && perm[1] == 1;
      }
      if (!keepsHeads) {
        why = isa<func::ReturnOp>(user) ? "a per-head value reaches a model output"
                                        : ("a per-head value is read by " +
                                           user->getName().getStringRef() + " outside the attention")
                                              .str();
        return false;
      }
      for (Value r : user->getResults())
        work.push_back(r);
    }
  }
  return true;
}

/// The group of a projection output: one space, produced by one prunable
/// op (plus per-channel constants such as a bias add), `size` channels.
std::optional<unsigned> projectionGroup(const ChannelGroups &cg, Value lin, int64_t size,
                                        ChannelUse::Kind kind, Operation *&op, std::string &why) {
  const ChannelLayout *l = cg.layoutOf(lin);
  auto lt = rankedOrNull(lin);
  if (!l || !lt || l->dim != lt.getRank() - 1 || l->segments.size() != 1 || l->size() != size) {
    why = "the projection's channels are not tracked as one space";
    return std::nullopt;
  }
  unsigned gi = cg.groupOf(l->segments[0].space);
  const ChannelGroup &g = cg.groups()[gi];
  op = nullptr;
  if (g.spaces.size() != 1) {
    why = "the projection's channels are tied to other channels";
    return std::nullopt;
  }
  for (const ChannelUse &u : g.uses) {
    if (u.kind == kind && !op && u.offset == 0) {
      op = u.op;
      continue;
    }
    if (u.kind == ChannelUse::PerChannelConstant && kind == ChannelUse::ProducerWeight)
      continue;
    why = "the projection's channels are used elsewhere";
    return std::nullopt;
  }
  if (!op) {
    why = "no projection weight for the heads";
    return std::nullopt;
  }
  return gi;
}

/// `shape` (a 1-d i64 shape value of rank n) with entry `index` replaced
/// by `value`, however `shape` is computed: where(onehot, value, shape).
Value withShapeEntry(OpBuilder &b, Location loc, Value shape, int64_t index, int64_t value) {
  auto st = rankedOrNull(shape);
  int64_t n = st.getDimSize(0);
  auto boolT = RankedTensorType::get({n}, b.getI1Type());
  SmallVector<bool> onehot(n, false);
  onehot[index] = true;
  Value cond = ConstantOp::create(b, loc, boolT, DenseElementsAttr::get(boolT, ArrayRef<bool>(onehot)));
  Value v = ConstantOp::create(b, loc, st, DenseElementsAttr::get(st, ArrayRef<int64_t>(SmallVector<int64_t>(n, value))));
  return WhereOp::create(b, loc, st, cond, v, shape);
}

} // namespace

SmallVector<AttentionHeadBlock> mlir::glm::findAttentionHeads(func::FuncOp func, const ChannelGroups &cg,
                                                              SmallVectorImpl<std::string> *notes) {
  SmallVector<AttentionHeadBlock> blocks;
  func.walk([&](MatMulOp pv) {
    FailureOr<AttentionMatch> m = matchAttention(pv);
    if (failed(m))
      return;
    std::string why;
    auto skip = [&](StringRef reason) {
      if (notes)
        notes->push_back((getNodeName(pv.getLoc()) + ": attention heads kept: " + reason).str());
    };
    auto q = traceHeads(m->q, why);
    if (failed(q))
      return skip("Q: " + why);
    auto k = traceHeads(m->k, why);
    if (failed(k))
      return skip("K: " + why);
    auto v = traceHeads(m->v, why);
    if (failed(v))
      return skip("V: " + why);
    if (k->heads != v->heads || q->heads % k->heads || k->dim != q->dim) {
      why = "Q, K and V head shapes disagree";
      return skip(why);
    }
    if (k->heads < 2)
      return skip("one K/V group");
    if (m->mask) {
      auto mt = rankedOrNull(m->mask);
      if (!mt || (mt.getRank() >= 3 && mt.getDimSize(mt.getRank() - 3) != 1))
        return skip("the mask differs per head");
    }
    llvm::DenseSet<Operation *> stop(m->chain.begin(), m->chain.end());
    stop.insert(pv);
    for (const HeadSource *h : {&*q, &*k, &*v})
      if (!headsStayInside(h->split, stop, why))
        return skip(why);
    // The output side: transpose back, merge the heads, project.
    if (!pv->hasOneUse())
      return skip("the attention output has other readers");
    auto tr = dyn_cast<TransposeOp>(*pv->getUsers().begin());
    if (!tr || toI64(tr.getPerm()) != SmallVector<int64_t>{0, 2, 1, 3} || !tr->hasOneUse())
      return skip("the output heads are not transposed back by [0, 2, 1, 3]");
    auto merge = dyn_cast<ReshapeOp>(*tr->getUsers().begin());
    auto mt = merge ? rankedOrNull(merge.getReshaped()) : RankedTensorType();
    if (!mt || mt.getRank() != 3 || mt.getDimSize(2) != q->heads * v->dim)
      return skip("the output heads are not merged into [b, s, heads * d]");
    AttentionHeadBlock b;
    b.kvHeads = k->heads;
    b.groupSize = q->heads / k->heads;
    b.headDim = k->dim;
    b.vHeadDim = v->dim;
    auto qg = projectionGroup(cg, q->lin, q->heads * q->dim, ChannelUse::ProducerWeight, b.qProducer, why);
    if (!qg)
      return skip("Q: " + why);
    auto kg = projectionGroup(cg, k->lin, k->heads * k->dim, ChannelUse::ProducerWeight, b.kProducer, why);
    if (!kg)
      return skip("K: " + why);
    auto vg = projectionGroup(cg, v->lin, v->heads * v->dim, ChannelUse::ProducerWeight, b.vProducer, why);
    if (!vg)
      return skip("V: " + why);
    auto og = projectionGroup(cg, merge.getReshaped(), q->heads * v->dim, ChannelUse::ConsumerWeight,
                              b.oConsumer, why);
    if (!og)
      return skip("output projection: " + why);
    b.qGroup = *qg, b.kGroup = *kg, b.vGroup = *vg, b.oGroup = *og;
    // repeat_kv: the expand keeps the K/V head dim (1 in its shape), the
    // reshape's head entry is rewritable.
    auto oneD = [](Value shape, int64_t n) {
      auto t = rankedOrNull(shape);
      return t && t.getRank() == 1 && t.getDimSize(0) == n;
    };
    for (ReshapeOp r : {m->kRepeat, m->vRepeat}) {
      if (!r)
        continue;
      auto expand = definedBy<ExpandOp>(r.getData());
      if (!expand || !oneD(expand.getShape(), 5) || !oneD(r.getShape(), 4))
        return skip("the repeat_kv expand/reshape shapes are not 5-d/4-d");
      b.shapeEntries.push_back({expand, 1, 0});
      b.shapeEntries.push_back({r, 1, b.groupSize});
    }
    if (!oneD(q->reshape.getShape(), 4) || !oneD(k->reshape.getShape(), 4) ||
        !oneD(v->reshape.getShape(), 4) || !oneD(merge.getShape(), 3))
      return skip("the head split/merge shapes are not 4-d/3-d");
    b.shapeEntries.push_back({q->reshape, 2, b.groupSize});
    b.shapeEntries.push_back({k->reshape, 2, 1});
    b.shapeEntries.push_back({v->reshape, 2, 1});
    b.shapeEntries.push_back({merge, 2, b.groupSize * b.vHeadDim});
    blocks.push_back(std::move(b));
  });
  return blocks;
}

LogicalResult mlir::glm::rewriteRepeatHeads(const AttentionHeadBlock &block, int64_t keptUnits) {
  for (const AttentionHeadBlock::ShapeEntry &e : block.shapeEntries) {
    OpBuilder b(e.op);
    Value shape = e.op->getOperand(1);
    int64_t value = e.perUnit ? e.perUnit * keptUnits : 1;
    e.op->setOperand(1, withShapeEntry(b, e.op->getLoc(), shape, e.entry, value));
  }
  return success();
}
