//===- DecoderPatterns.cpp - structural matchers of decoder blocks --------===//

#include "passes/fusion/DecoderPatterns.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/ShapeUtils.h"

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

/// Dim i of a equals dim j of b: equal static sizes or provably the same
/// dynamic dim.
bool sameDim(Value a, int64_t i, Value b, int64_t j) {
  int64_t da = rankedOrNull(a).getDimSize(i), db = rankedOrNull(b).getDimSize(j);
  if (!ShapedType::isDynamic(da) && !ShapedType::isDynamic(db))
    return da == db;
  return isSameDim(a, i, b, j);
}

/// K/V heads as the attention reads them: `v` itself when it is
/// [b, h, t, d], or the source of a repeat_kv chain. Appends the chain.
Value matchRepeatKV(Value v, int64_t qHeads, SmallVectorImpl<Operation *> &chain,
                    ReshapeOp &repeat) {
  v = skipIdentityCasts(v);
  auto vt = rankedOrNull(v);
  if (!vt || vt.getRank() != 4)
    return {};
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    auto expand = definedBy<ExpandOp>(reshape.getData());
    auto unsq = expand ? definedBy<UnsqueezeOp>(expand.getInput()) : UnsqueezeOp();
    if (unsq) {
      auto axes = toI64(unsq.getAxes());
      auto src = rankedOrNull(unsq.getData());
      auto et = rankedOrNull(expand.getOutput());
      if (axes.size() == 1 && axes[0] == 2 && src && src.getRank() == 4 && et && et.getRank() == 5 &&
          !ShapedType::isDynamic(src.getDimSize(1)) && !ShapedType::isDynamic(et.getDimSize(2)) &&
          et.getDimSize(1) == src.getDimSize(1) && src.getDimSize(1) * et.getDimSize(2) == qHeads &&
          vt.getDimSize(1) == qHeads && sameDim(unsq.getData(), 0, v, 0) &&
          sameDim(unsq.getData(), 2, v, 2) && sameDim(unsq.getData(), 3, v, 3)) {
        chain.append({unsq, expand, reshape});
        repeat = reshape;
        return unsq.getData();
      }
    }
  }
  return vt.getDimSize(1) == qHeads ? v : Value();
}


bool isLastAxis(int64_t axis, Value v) {
  auto t = rankedOrNull(v);
  return t && normalizeAxis(axis, t.getRank()) == t.getRank() - 1;
}

bool isUnsqueezeLast(UnsqueezeOp u) {
  auto axes = toI64(u.getAxes());
  return u && axes.size() == 1 && isLastAxis(axes[0], u.getResult());
}

/// A slice of the last dim of `x` with the given bounds and step.
bool isLastDimSlice(Value v, Value x, int64_t start, int64_t end, int64_t step) {
  auto slice = definedBy<SliceOp>(v);
  if (!slice || skipIdentityCasts(slice.getData()) != skipIdentityCasts(x))
    return false;
  auto s = getAxisSlice(slice);
  auto xt = rankedOrNull(x);
  return s && xt && s->axis == xt.getRank() - 1 && s->start == start && s->end == end && s->step == step;
}

/// The per-pair table c of a repeated table, and whether pairs interleave.
std::optional<std::pair<Value, bool>> matchRepeatedTable(Value v, int64_t r) {
  v = skipIdentityCasts(v);
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    auto cat = definedBy<ConcatOp>(reshape.getData());
    if (!cat || cat.getInputs().size() != 2 || cat.getInputs()[0] != cat.getInputs()[1] ||
        !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    auto u = definedBy<UnsqueezeOp>(cat.getInputs()[0]);
    if (!u || !isUnsqueezeLast(u))
      return std::nullopt;
    auto ct = rankedOrNull(u.getData());
    if (!ct || ct.getRank() != 4 || ct.getDimSize(3) != r)
      return std::nullopt;
    return std::make_pair(u.getData(), true);
  }
  if (auto cat = v.getDefiningOp<ConcatOp>()) {
    if (cat.getInputs().size() != 2 || cat.getInputs()[0] != cat.getInputs()[1] ||
        !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    auto ct = rankedOrNull(cat.getInputs()[0]);
    if (!ct || ct.getRank() != 4 || ct.getDimSize(3) != r)
      return std::nullopt;
    return std::make_pair(cat.getInputs()[0], false);
  }
  return std::nullopt;
}

/// Whether `v` is rotate(xr) (r pairs), and in which pairing.
std::optional<bool> matchRotated(Value v, Value xr, int64_t r) {
  v = skipIdentityCasts(v);
  auto isNegOf = [&](Value n, int64_t start, int64_t end, int64_t step) {
    auto neg = definedBy<NegOp>(n);
    return neg && isLastDimSlice(neg.getX(), xr, start, end, step);
  };
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    auto cat = definedBy<ConcatOp>(reshape.getData());
    if (!cat || cat.getInputs().size() != 2 || !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    auto u0 = definedBy<UnsqueezeOp>(cat.getInputs()[0]), u1 = definedBy<UnsqueezeOp>(cat.getInputs()[1]);
    if (!u0 || !u1 || !isUnsqueezeLast(u0) || !isUnsqueezeLast(u1))
      return std::nullopt;
    if (isNegOf(u0.getData(), 1, 2 * r, 2) && isLastDimSlice(u1.getData(), xr, 0, 2 * r, 2))
      return true;
    return std::nullopt;
  }
  if (auto cat = v.getDefiningOp<ConcatOp>()) {
    if (cat.getInputs().size() != 2 || !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    if (isNegOf(cat.getInputs()[0], r, 2 * r, 1) && isLastDimSlice(cat.getInputs()[1], xr, 0, r, 1))
      return false;
  }
  return std::nullopt;
}

/// The rest of a rotary match once the products are known: the slices of x
/// and the concat with the pass-through part.
FailureOr<RotaryMatch> completeRotary(AddOp add, MulOp cosMul, MulOp sinMul, Value xr, Value cs,
                                    Value sn, bool interleaved) {
  auto rt = rankedOrNull(add.getC());
  if (!cosMul->hasOneUse() || !sinMul->hasOneUse() || rankedOrNull(cosMul.getC()) != rt ||
      rankedOrNull(sinMul.getC()) != rt)
    return failure();
  // xr is x itself, or the rotated head of x with the rest concatenated.
  Value x = xr;
  Operation *root = add;
  int64_t rot = rt.getDimSize(3);
  if (auto slice = definedBy<SliceOp>(xr)) {
    auto s = getAxisSlice(slice);
    auto xt = rankedOrNull(slice.getData());
    if (!s || !xt || s->axis != 3 || s->start != 0 || s->end != rot || s->step != 1)
      return failure();
    if (!add->hasOneUse())
      return failure();
    auto cat = dyn_cast<ConcatOp>(*add->getUsers().begin());
    if (!cat || cat.getInputs().size() != 2 || cat.getInputs()[0] != add.getC() ||
        !isLastAxis(cat.getAxis(), cat.getResult()) ||
        !isLastDimSlice(cat.getInputs()[1], slice.getData(), rot, xt.getDimSize(3), 1))
      return failure();
    x = skipIdentityCasts(slice.getData());
    root = cat;
  }
  auto xt = rankedOrNull(x);
  auto ct = rankedOrNull(cs), st = rankedOrNull(sn);
  if (!xt || !ct || !st || ct.getShape() != st.getShape() || rankedOrNull(root->getResult(0)) != xt)
    return failure();
  for (int64_t i = 0; i < 3; ++i)
    if (ct.getDimSize(i) != 1 && ct.getDimSize(i) != xt.getDimSize(i) &&
        !isSameDim(cs, i, x, i))
      return failure();
  RotaryMatch m;
  m.x = x;
  m.cos = cs;
  m.sin = sn;
  m.interleaved = interleaved;
  m.root = root;
  m.ops = {cosMul, sinMul, add};
  if (root != add.getOperation())
    m.ops.push_back(root);
  return m;
}


} // namespace

FailureOr<AttentionMatch> fusion::matchAttention(MatMulOp pv, std::string *why) {
  AttentionMatch m;
  auto fail = [&](StringRef reason) -> FailureOr<AttentionMatch> {
    if (why)
      *why = reason.str();
    return failure();
  };
    auto softmax = definedBy<SoftmaxOp>(pv.getA());
    if (!softmax)
      return fail("A is not a softmax");
    auto st = rankedOrNull(softmax.getOutput());
    if (!st || st.getRank() != 4 || !normalizeAxis(softmax.getAxis(), 4) ||
        *normalizeAxis(softmax.getAxis(), 4) != 3)
      return fail("not a softmax over the last dim of 4-d scores");
    SmallVector<Operation *> &chain = m.chain;
    Value s = skipIdentityCasts(softmax.getInput());
    Value mask;
    if (auto add = s.getDefiningOp<AddOp>()) {
      // The scores are the operand with the full score shape.
      auto at = rankedOrNull(add.getA()), bt = rankedOrNull(add.getB());
      auto ct = rankedOrNull(add.getC());
      if (!at || !bt || !ct)
        return fail("unranked scores");
      bool aIsScores = at.getShape() == ct.getShape() &&
                       (skipIdentityCasts(add.getA()).getDefiningOp<MatMulOp>() ||
                        skipIdentityCasts(add.getA()).getDefiningOp<MulOp>() ||
                        skipIdentityCasts(add.getA()).getDefiningOp<DivOp>());
      mask = aIsScores ? add.getB() : add.getA();
      s = skipIdentityCasts(aIsScores ? add.getA() : add.getB());
      chain.push_back(add);
    }
    double scale = 1.0;
    bool scaled = false;
    if (auto mul = s.getDefiningOp<MulOp>()) {
      for (int i = 0; i < 2 && !scaled; ++i)
        if (auto c = getSplatValue(mul->getOperand(i))) {
          scale = *c;
          s = skipIdentityCasts(mul->getOperand(1 - i));
          scaled = true;
        }
      if (!scaled)
        return fail("scores multiplied by a non-constant");
      chain.push_back(mul);
    } else if (auto div = s.getDefiningOp<DivOp>()) {
      auto c = getSplatValue(div.getB());
      if (!c || *c == 0.0)
        return fail("scores divided by a non-constant");
      scale = 1.0 / *c;
      s = skipIdentityCasts(div.getA());
      chain.push_back(div);
    }
    auto qk = s.getDefiningOp<MatMulOp>();
    if (!qk)
      return fail("scores are not a matmul");
    chain.push_back(qk);
    auto kt = definedBy<TransposeOp>(qk.getB());
    if (!kt || toI64(kt.getPerm()) != SmallVector<int64_t>{0, 1, 3, 2})
      return fail("K is not transposed by [0, 1, 3, 2]");
    chain.push_back(kt);
    Value q = qk.getA();
    auto qt = rankedOrNull(q);
    if (!qt || qt.getRank() != 4 || ShapedType::isDynamic(qt.getDimSize(1)))
      return fail("Q is not [b, h, s, d] with static heads");
    int64_t heads = qt.getDimSize(1);
    Value k = matchRepeatKV(kt.getData(), heads, chain, m.kRepeat);
    Value v = matchRepeatKV(pv.getB(), heads, chain, m.vRepeat);
    if (!k || !v)
      return fail("K/V are not [b, kv, t, d] repeated to the query heads");
    auto ktt = rankedOrNull(k), vtt = rankedOrNull(v);
    if (ktt.getDimSize(1) != vtt.getDimSize(1))
      return fail("K and V have different head counts");
    if (mask) {
      auto mt = rankedOrNull(mask);
      if (!mt || mt.getRank() > 4 || !isa<FloatType>(mt.getElementType()))
        return fail("mask is not a float tensor of rank <= 4");
    }
    // Everything between q/k/v/mask and the result dies with the fusion.
    chain.push_back(softmax);
    for (Operation *op : chain)
      if (!op->hasOneUse())
        return fail("an intermediate value has other users");
  m.q = q;
  m.k = k;
  m.v = v;
  m.mask = mask;
  m.scale = scale;
  m.qk = qk;
  m.softmax = softmax;
  return m;
}

FailureOr<RotaryMatch> fusion::matchRotary(AddOp add) {
  auto at = rankedOrNull(add.getC());
  if (!at || at.getRank() != 4 || ShapedType::isDynamic(at.getDimSize(3)) || at.getDimSize(3) % 2)
    return failure();
  int64_t r = at.getDimSize(3) / 2;
  for (int order = 0; order < 2; ++order) {
    auto cosMul = definedBy<MulOp>(add->getOperand(order));
    auto sinMul = definedBy<MulOp>(add->getOperand(1 - order));
    if (!cosMul || !sinMul)
      continue;
    for (int ci = 0; ci < 2; ++ci) {
      Value xr = skipIdentityCasts(cosMul->getOperand(ci));
      auto cosRep = matchRepeatedTable(cosMul->getOperand(1 - ci), r);
      if (!cosRep)
        continue;
      for (int si = 0; si < 2; ++si) {
        auto sinRep = matchRepeatedTable(sinMul->getOperand(1 - si), r);
        auto rot = matchRotated(sinMul->getOperand(si), xr, r);
        if (!sinRep || !rot || sinRep->second != cosRep->second || *rot != cosRep->second)
          continue;
        auto m = completeRotary(add, cosMul, sinMul, xr, cosRep->first, sinRep->first, *rot);
        if (succeeded(m))
          return m;
      }
    }
  }
  return failure();
}


FailureOr<RotaryMatch> fusion::matchRotaryResult(Value y) {
  Operation *def = skipIdentityCasts(y).getDefiningOp();
  if (auto add = dyn_cast_or_null<AddOp>(def))
    return matchRotary(add);
  if (auto cat = dyn_cast_or_null<ConcatOp>(def))
    if (!cat.getInputs().empty())
      if (auto add = cat.getInputs()[0].getDefiningOp<AddOp>()) {
        auto m = matchRotary(add);
        if (succeeded(m) && m->root == cat.getOperation())
          return m;
      }
  return failure();
}
