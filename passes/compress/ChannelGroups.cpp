//===- ChannelGroups.cpp - which channels must be pruned together ---------===//

#include "passes/compress/ChannelGroups.h"

#include "dialects/glm/ShapeUtils.h"

using namespace mlir;
using namespace mlir::glm;

ZeroRule mlir::glm::zeroRuleOf(Operation *op) {
  if (isa<MulOp>(op))
    return ZeroRule::Any;
  if (isa<AddOp, SubOp, ReluOp, LeakyReluOp, TanhOp, GeluOp, SiluOp, NegOp, AbsOp, MaxOp, MinOp,
          ClipOp, SqrtOp, HardSwishOp, MishOp, EluOp, SeluOp, PReluOp, SignOp, RoundOp>(op))
    return ZeroRule::All;
  return ZeroRule::None;
}

/// Whether op(..., 0, ...) stays 0 with constant operand `index` = `c`
/// broadcast over the channels.
static bool constantKeepsZero(Operation *op, unsigned index, ElementsAttr c) {
  if (isa<MulOp, PReluOp>(op))
    return true;
  auto values = getValuesAsDouble(c);
  if (!values)
    return false;
  auto all = [&](auto pred) { return llvm::all_of(*values, pred); };
  if (isa<AddOp, SubOp>(op))
    return all([](double x) { return x == 0.0; });
  if (isa<MaxOp>(op))
    return all([](double x) { return x <= 0.0; });
  if (isa<MinOp>(op))
    return all([](double x) { return x >= 0.0; });
  if (isa<ClipOp>(op))
    return index == 1 ? all([](double x) { return x <= 0.0; })
                      : all([](double x) { return x >= 0.0; });
  return false;
}

SmallVector<Operation *> ChannelGroup::producers() const {
  SmallVector<Operation *> out;
  for (const ChannelUse &u : uses)
    if (u.kind == ChannelUse::ProducerWeight)
      out.push_back(u.op);
  return out;
}

unsigned ChannelGroups::newSpace(int64_t size, Operation *producer, int64_t offset) {
  unsigned id = spaces.size();
  Space s;
  s.size = size;
  s.parent = id;
  spaces.push_back(std::move(s));
  if (producer)
    spaces.back().uses.push_back({ChannelUse::ProducerWeight, producer, 0, 0, offset});
  return id;
}

std::optional<std::pair<int64_t, int64_t>> ChannelGroups::channelSlice(SliceOp slice,
                                                                        int64_t dim) const {
  auto t = rankedOrNull(slice.getData());
  auto starts = getConstantIntValues(slice.getStarts());
  auto ends = getConstantIntValues(slice.getEnds());
  if (!t || !starts || !ends || starts->size() != 1 || ends->size() != 1)
    return std::nullopt;
  int64_t axis = 0;
  if (slice.getAxes()) {
    auto axes = getConstantIntValues(slice.getAxes());
    if (!axes || axes->size() != 1)
      return std::nullopt;
    auto a = normalizeAxis((*axes)[0], t.getRank());
    if (!a)
      return std::nullopt;
    axis = *a;
  }
  if (slice.getSteps()) {
    auto steps = getConstantIntValues(slice.getSteps());
    if (!steps || steps->size() != 1 || (*steps)[0] != 1)
      return std::nullopt;
  }
  int64_t n = t.getDimSize(dim);
  if (axis != dim || ShapedType::isDynamic(n))
    return std::nullopt;
  auto clampIndex = [&](int64_t i) {
    if (i < 0)
      i += n;
    return std::clamp<int64_t>(i, 0, n);
  };
  int64_t b = clampIndex((*starts)[0]), e = clampIndex((*ends)[0]);
  if (b >= e)
    return std::nullopt;
  return std::make_pair(b, e);
}

void ChannelGroups::splitPointsOfProducers(func::FuncOp func) {
  // A producer whose output is sliced along its channels (a fused gate/up
  // or q/k/v projection) gets one space per piece.
  func.walk([&](PrunableOpInterface p) {
    Value r = p->getResult(0);
    int64_t dim = p.getResultChannelDim();
    SmallVector<int64_t> points;
    for (Operation *user : r.getUsers())
      if (auto slice = dyn_cast<SliceOp>(user))
        if (auto range = channelSlice(slice, dim)) {
          points.push_back(range->first);
          points.push_back(range->second);
        }
    if (points.empty())
      return;
    llvm::sort(points);
    points.erase(std::unique(points.begin(), points.end()), points.end());
    splitPoints[r] = std::move(points);
  });
}

unsigned ChannelGroups::find(unsigned s) const {
  while (spaces[s].parent != s) {
    spaces[s].parent = spaces[spaces[s].parent].parent;
    s = spaces[s].parent;
  }
  return s;
}

void ChannelGroups::unite(unsigned a, unsigned b) {
  a = find(a);
  b = find(b);
  if (a == b)
    return;
  if (spaces[a].size != spaces[b].size) {
    // Tied spaces of different sizes cannot be pruned consistently.
    spaces[a].pinned = true;
    spaces[a].pinReason = "channel spaces of different sizes meet";
  }
  if (b < a)
    std::swap(a, b);
  spaces[b].parent = a;
  Space &root = spaces[a], &other = spaces[b];
  root.pinned |= other.pinned;
  if (root.pinReason.empty())
    root.pinReason = other.pinReason;
  root.zeroPreserving &= other.zeroPreserving;
  root.uses.append(other.uses.begin(), other.uses.end());
  other.uses.clear();
}

void ChannelGroups::pin(const ChannelLayout *layout, StringRef reason) {
  if (!layout)
    return;
  for (const SpaceSegment &seg : layout->segments) {
    Space &s = spaces[find(seg.space)];
    if (!s.pinned)
      s.pinReason = reason.str();
    s.pinned = true;
  }
}

void ChannelGroups::pinAll(Operation *op, StringRef reason) {
  for (Value v : op->getOperands())
    pin(layoutOf(v), reason);
}

void ChannelGroups::setLayout(Value v, ChannelLayout layout) {
  // By value: `layout` is often *layoutOf(operand), a pointer into the map
  // that inserting `v` may reallocate.
  layouts[v] = std::move(layout);
}

const ChannelLayout *ChannelGroups::layoutOf(Value v) const {
  auto it = layouts.find(v);
  return it == layouts.end() ? nullptr : &it->second;
}

void ChannelGroups::unifyLayouts(const ChannelLayout &a, const ChannelLayout &b, Operation *op) {
  if (a.segments.size() == 1 && b.segments.size() == 1) {
    unite(a.segments[0].space, b.segments[0].space);
    return;
  }
  // Segment lists must match one to one.
  bool same = a.segments.size() == b.segments.size();
  for (size_t i = 0; same && i < a.segments.size(); ++i)
    same = a.segments[i].size == b.segments[i].size;
  if (!same) {
    pin(&a, "concatenated channels meet differently split channels");
    pin(&b, "concatenated channels meet differently split channels");
    return;
  }
  for (size_t i = 0; i < a.segments.size(); ++i)
    unite(a.segments[i].space, b.segments[i].space);
}

void ChannelGroups::pinFresh(Value v, StringRef reason) {
  auto t = rankedOrNull(v);
  if (!t || t.getRank() < 1)
    return;
  int64_t dim = t.getRank() == 4 ? 1 : t.getRank() - 1;
  int64_t size = t.getDimSize(dim);
  unsigned s = newSpace(ShapedType::isDynamic(size) ? 0 : size, nullptr);
  spaces[s].pinned = true;
  spaces[s].pinReason = reason.str();
  ChannelLayout l;
  l.dim = dim;
  l.segments.push_back({s, spaces[s].size});
  setLayout(v, l);
}

void ChannelGroups::visit(Operation *op) {
  if (isa<ConstantOp>(op))
    return;
  auto opaque = [&](StringRef reason) {
    pinAll(op, reason);
    for (Value r : op->getResults())
      pinFresh(r, reason);
  };

  if (auto p = dyn_cast<PrunableOpInterface>(op)) {
    Value w = p.getPrunableWeight();
    auto wTy = w ? rankedOrNull(w) : RankedTensorType();
    Value bias = p.getPrunableBias();
    bool constant = w && getConstantElements(w) && wTy && wTy.hasStaticShape() &&
                    (!bias || getConstantElements(bias));
    // Operands other than input, weight and bias must be constant too.
    for (Value o : op->getOperands())
      if (o != p.getPrunableInput() && o != w && o != bias && !getConstantElements(o))
        constant = false;
    if (!constant)
      return opaque("weights are not constants");
    // A grouped (not depthwise) conv ties each output channel to the input
    // channels of its group: removing channels would have to keep whole,
    // equal groups on both sides. Not done yet: its channels stay.
    if (auto conv = dyn_cast<ConvOp>(op); conv && conv.getGroup() > 1 && p.getWeightInputDim() >= 0)
      return opaque("grouped convolution (group > 1, not depthwise)");
    int64_t outCh = wTy.getDimSize(p.getWeightOutputDim());
    const ChannelLayout *in = layoutOf(p.getPrunableInput());
    ChannelLayout out;
    out.dim = p.getResultChannelDim();
    if (p.getWeightInputDim() < 0) {
      // Depthwise: output channel c is input channel c, filtered.
      if (!in || in->size() != outCh)
        return opaque("depthwise conv of an untracked input");
      out.segments = in->segments;
      int64_t offset = 0;
      for (const SpaceSegment &seg : in->segments) {
        spaces[find(seg.space)].uses.push_back({ChannelUse::Depthwise, op, 0, 0, offset});
        offset += seg.size;
      }
    } else {
      // One space, or one per slice piece.
      SmallVector<int64_t> bounds{0};
      auto sp = splitPoints.find(op->getResult(0));
      if (sp != splitPoints.end())
        for (int64_t b : sp->second)
          if (b > 0 && b < outCh)
            bounds.push_back(b);
      bounds.push_back(outCh);
      for (size_t k = 0; k + 1 < bounds.size(); ++k) {
        int64_t size = bounds[k + 1] - bounds[k];
        out.segments.push_back({newSpace(size, op, bounds[k]), size});
      }
      if (in) {
        // Channels read with their pruned values not zero cannot go.
        for (const SpaceSegment &seg : in->segments)
          if (!seg.zero)
            spaces[find(seg.space)].zeroPreserving = false;
        if (in->dim != p.getInputChannelDim()) {
          pin(in, "contracted along a dim that is not its channel dim");
        } else {
          int64_t offset = 0;
          for (const SpaceSegment &seg : in->segments) {
            spaces[find(seg.space)].uses.push_back(
                {ChannelUse::ConsumerWeight, op, 0, p.getWeightInputDim(), offset});
            offset += seg.size;
          }
        }
      }
    }
    setLayout(op->getResult(0), out);
    return;
  }

  if (op->hasTrait<GLMElementwise>() && op->getNumResults() == 1) {
    auto rt = rankedOrNull(op->getResult(0));
    if (!rt)
      return opaque("unranked result");
    // The result takes the layout of its first full-rank data operand.
    const ChannelLayout *base = nullptr;
    for (Value o : op->getOperands())
      if (!getConstantElements(o))
        if (auto t = rankedOrNull(o); t && t.getRank() == rt.getRank())
          if ((base = layoutOf(o)))
            break;
    if (!base)
      return opaque("elementwise op without a tracked operand");
    ChannelLayout out = *base;
    int64_t n = out.size();
    bool constantBreaksZero = false;
    // Zero flags of the tracked operands, per segment.
    SmallVector<SmallVector<bool>> operandZeros;
    for (auto [i, o] : llvm::enumerate(op->getOperands())) {
      auto t = rankedOrNull(o);
      if (!t)
        return opaque("unranked operand");
      int64_t aligned = out.dim - (rt.getRank() - t.getRank());
      if (getConstantElements(o)) {
        if (aligned < 0 || t.getDimSize(aligned) == 1) {
          // Broadcast along channels: a zeroed channel stays zero only if
          // the constant keeps it there (x + 1 does not).
          if (!constantKeepsZero(op, i, getConstantElements(o)))
            constantBreaksZero = true;
          continue;
        }
        if (t.getDimSize(aligned) != n)
          return opaque("constant of another channel count");
        int64_t offset = 0;
        for (const SpaceSegment &seg : out.segments) {
          spaces[find(seg.space)].uses.push_back(
              {ChannelUse::PerChannelConstant, op, (unsigned)i, aligned, offset});
          offset += seg.size;
        }
        continue;
      }
      const ChannelLayout *l = layoutOf(o);
      if (!l || t.getRank() != rt.getRank() || l->dim != out.dim)
        return opaque("operands broadcast across channels");
      unifyLayouts(out, *l, op);
      if (l->segments.size() == out.segments.size()) {
        SmallVector<bool> z;
        for (const SpaceSegment &seg : l->segments)
          z.push_back(seg.zero);
        operandZeros.push_back(std::move(z));
      }
    }
    ZeroRule rule = zeroRuleOf(op);
    for (auto [k, seg] : llvm::enumerate(out.segments)) {
      bool any = false, all = true;
      for (const SmallVector<bool> &z : operandZeros)
        any |= z[k], all &= z[k];
      seg.zero = rule == ZeroRule::Any ? any
                 : rule == ZeroRule::All ? all && !constantBreaksZero
                                         : false;
    }
    setLayout(op->getResult(0), out);
    return;
  }

  if (auto slice = dyn_cast<SliceOp>(op)) {
    const ChannelLayout *in = layoutOf(slice.getData());
    if (!in)
      return opaque("slice of an untracked value");
    // Only the data operand carries channels; the bounds must be constant.
    for (Value o : op->getOperands().drop_front())
      if (!getConstantElements(o))
        return opaque("slice with computed bounds");
    auto t = rankedOrNull(slice.getData());
    auto range = channelSlice(slice, in->dim);
    if (!range) {
      // Not along the channels (e.g. along the sequence): channels pass.
      auto starts = getConstantIntValues(slice.getStarts());
      auto axes = slice.getAxes() ? getConstantIntValues(slice.getAxes())
                                  : std::optional<SmallVector<int64_t>>(SmallVector<int64_t>{0});
      if (!t || !starts || !axes)
        return opaque("slice with unknown axes");
      for (int64_t a : *axes)
        if (normalizeAxis(a, t.getRank()) == std::optional<int64_t>(in->dim))
          return opaque("slices channels at a point no producer splits them");
      setLayout(op->getResult(0), *in);
      return;
    }
    // The piece must be whole segments.
    ChannelLayout out;
    out.dim = in->dim;
    int64_t offset = 0;
    bool aligned = false;
    for (const SpaceSegment &seg : in->segments) {
      if (offset == range->first)
        aligned = true;
      if (offset >= range->first && offset + seg.size <= range->second)
        out.segments.push_back(seg);
      offset += seg.size;
    }
    if (!aligned || out.size() != range->second - range->first)
      return opaque("slices channels at a point no producer splits them");
    offset = 0;
    for (const SpaceSegment &seg : in->segments) {
      spaces[find(seg.space)].uses.push_back({ChannelUse::SliceBounds, op, 0, in->dim, offset});
      offset += seg.size;
    }
    setLayout(op->getResult(0), out);
    return;
  }

  if (isa<MaxPoolOp, AveragePoolOp, GlobalAveragePoolOp, GlobalMaxPoolOp>(op)) {
    const ChannelLayout *in = layoutOf(op->getOperand(0));
    if (!in || in->dim != 1)
      return opaque("pool of an untracked input");
    setLayout(op->getResult(0), *in);
    return;
  }

  if (auto resize = dyn_cast<ResizeOp>(op)) {
    // Channels pass through a resize of the other dims (FPN upsampling);
    // a pruned channel interpolates zeros and stays zero.
    const ChannelLayout *in = layoutOf(resize.getX());
    auto t = rankedOrNull(resize.getX()), rt = rankedOrNull(resize.getY());
    auto roiOn = [&](int64_t d) { // tf_crop_and_resize crops that dim
      std::optional<ArrayAttr> roi = resize.getRoi();
      return roi && (cast<FloatAttr>((*roi)[d]).getValueAsDouble() != 0.0 ||
                     cast<FloatAttr>((*roi)[t.getRank() + d]).getValueAsDouble() != 1.0);
    };
    if (!in || !t || !rt || in->dim >= t.getRank() ||
        t.getDimSize(in->dim) != rt.getDimSize(in->dim) || roiOn(in->dim))
      return opaque("resize of an untracked input or along the channels");
    setLayout(op->getResult(0), *in);
    return;
  }

  if (auto flatten = dyn_cast<FlattenOp>(op)) {
    const ChannelLayout *in = layoutOf(flatten.getInput());
    auto t = rankedOrNull(flatten.getInput());
    bool pooled = t && in && in->dim == 1 && flatten.getAxis() == 1 &&
                  llvm::all_of(t.getShape().drop_front(2), [](int64_t d) { return d == 1; });
    if (!pooled)
      return opaque("flatten mixes channels with other dims");
    setLayout(op->getResult(0), *in);
    return;
  }

  if (auto concat = dyn_cast<ConcatOp>(op)) {
    auto rt = rankedOrNull(concat.getResult());
    if (!rt)
      return opaque("unranked concat");
    int64_t axis = *normalizeAxis(concat.getAxis(), rt.getRank());
    ChannelLayout out;
    for (Value in : concat.getInputs()) {
      const ChannelLayout *l = layoutOf(in);
      if (!l)
        return opaque("concat of untracked values");
      if (out.dim < 0)
        out.dim = l->dim;
      if (l->dim != out.dim)
        return opaque("concat of values with different channel dims");
      if (axis == out.dim) {
        out.segments.append(l->segments.begin(), l->segments.end());
      } else if (out.segments.empty()) {
        out.segments = l->segments;
      } else {
        unifyLayouts(out, *l, op);
      }
    }
    setLayout(op->getResult(0), out);
    return;
  }

  if (isa<func::ReturnOp>(op))
    return pinAll(op, "reaches a model output");

  opaque(("goes through " + op->getName().getStringRef()).str());
}

ChannelGroups::ChannelGroups(func::FuncOp func) {
  for (BlockArgument arg : func.getArguments())
    pinFresh(arg, "a model input");
  splitPointsOfProducers(func);
  func.walk([&](Operation *op) {
    if (op != func.getOperation())
      visit(op);
  });
  // Collect groups in space order (deterministic).
  groupIndex.assign(spaces.size(), ~0u);
  for (unsigned s = 0; s < spaces.size(); ++s) {
    unsigned root = find(s);
    if (groupIndex[root] == ~0u) {
      groupIndex[root] = groupList.size();
      ChannelGroup g;
      g.size = spaces[root].size;
      g.pinned = spaces[root].pinned;
      g.pinReason = spaces[root].pinReason;
      g.zeroPreserving = spaces[root].zeroPreserving;
      g.uses = spaces[root].uses;
      groupList.push_back(std::move(g));
    }
    groupList[groupIndex[root]].spaces.push_back(s);
  }
  for (ChannelGroup &g : groupList)
    if (g.producers().empty() && !g.pinned) {
      g.pinned = true;
      g.pinReason = "no op produces these channels";
    }
}

Value mlir::glm::sliceConstant(OpBuilder &b, Location loc, Value constant, int64_t dim,
                               ArrayRef<int64_t> indices, bool keep, StringRef name) {
  ElementsAttr attr = getConstantElements(constant);
  auto ty = attr ? dyn_cast<RankedTensorType>(attr.getType()) : nullptr;
  if (!ty || !ty.hasStaticShape() || dim < 0 || dim >= ty.getRank())
    return {};
  auto values = getValuesAsDouble(attr);
  if (!values)
    return {};
  ArrayRef<int64_t> shape = ty.getShape();
  int64_t outer = getNumElements(shape.take_front(dim)), n = shape[dim],
          inner = getNumElements(shape.drop_front(dim + 1));
  SmallVector<double> out;
  SmallVector<int64_t> newShape(shape);
  if (keep) {
    newShape[dim] = indices.size();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : indices)
        for (int64_t k = 0; k < inner; ++k)
          out.push_back((*values)[(o * n + i) * inner + k]);
  } else {
    out = *values;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : indices)
        for (int64_t k = 0; k < inner; ++k)
          out[(o * n + i) * inner + k] = 0.0;
  }
  auto newTy = RankedTensorType::get(newShape, ty.getElementType());
  return ConstantOp::create(b, loc, makeResourceElements(newTy, out, name));
}

LogicalResult mlir::glm::reinferTypes(func::FuncOp func) {
  WalkResult w = func.walk([](Operation *op) {
    auto iface = dyn_cast<ShapeInferenceOpInterface>(op);
    if (!iface)
      return WalkResult::advance();
    SmallVector<Type> types;
    if (failed(iface.inferResultTypes(types)))
      return WalkResult::interrupt();
    for (auto [r, t] : llvm::zip(op->getResults(), types))
      r.setType(t);
    return WalkResult::advance();
  });
  if (w.wasInterrupted())
    return failure();
  Operation *ret = func.getBody().back().getTerminator();
  func.setFunctionType(
      FunctionType::get(func.getContext(), func.getArgumentTypes(), ret->getOperandTypes()));
  return success();
}
