//===- TrimChannels.cpp - glm-trim-channels -------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"
#include "passes/compress/AttentionHeads.h"
#include "passes/compress/ChannelGroups.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::glm {
#define GEN_PASS_DEF_TRIMCHANNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

struct TrimChannelsPass : glm::impl::TrimChannelsPassBase<TrimChannelsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    ChannelGroups cg(func);
    // All removals, in the original coordinates of each (op, operand, dim),
    // applied once at the end: a consumer of concatenated channels sees
    // several groups at different offsets.
    // Keyed by operand *index*: a weight sliced along both its output and
    // its input dim is replaced twice, the second time from the first.
    struct Slice {
      Operation *op;
      unsigned operand;
      int64_t dim;
      SmallVector<int64_t> removed;
      bool depthwise = false;
    };
    std::vector<Slice> slices;
    auto addRemoval = [&](Operation *op, Value value, int64_t dim, int64_t offset,
                          ArrayRef<int64_t> removed, bool depthwise) {
      if (!value)
        return;
      unsigned operand = 0;
      while (operand < op->getNumOperands() && op->getOperand(operand) != value)
        ++operand;
      if (operand == op->getNumOperands())
        return;
      for (Slice &s : slices)
        if (s.op == op && s.operand == operand && s.dim == dim) {
          for (int64_t i : removed)
            s.removed.push_back(offset + i);
          return;
        }
      Slice s{op, operand, dim, {}, depthwise};
      for (int64_t i : removed)
        s.removed.push_back(offset + i);
      slices.push_back(std::move(s));
    };
    SmallVector<Operation *> trimmedProducers;
    // Removed input channels of each channel-dim slice, in its input's
    // coordinates.
    llvm::MapVector<Operation *, SmallVector<int64_t>> sliceRemovals;
    auto trimGroup = [&](const ChannelGroup &g, ArrayRef<int64_t> removed) {
      for (const ChannelUse &u : g.uses) {
        auto p = dyn_cast<PrunableOpInterface>(u.op);
        switch (u.kind) {
        case ChannelUse::ProducerWeight:
          addRemoval(u.op, p.getPrunableWeight(), p.getWeightOutputDim(), u.offset, removed, false);
          addRemoval(u.op, p.getPrunableBias(), 0, u.offset, removed, false);
          break;
        case ChannelUse::SliceBounds:
          for (int64_t i : removed)
            sliceRemovals[u.op].push_back(u.offset + i);
          break;
        case ChannelUse::Depthwise:
          addRemoval(u.op, p.getPrunableWeight(), p.getWeightOutputDim(), u.offset, removed, true);
          addRemoval(u.op, p.getPrunableBias(), 0, u.offset, removed, false);
          break;
        case ChannelUse::ConsumerWeight:
          addRemoval(u.op, p.getPrunableWeight(), p.getWeightInputDim(), u.offset, removed, false);
          break;
        case ChannelUse::PerChannelConstant:
          addRemoval(u.op, u.op->getOperand(u.operand), u.dim, u.offset, removed, false);
          break;
        }
      }
    };
    // Attention K/V groups: whole units, read off the q projection's
    // pruned channels and checked against k and v.
    llvm::DenseSet<unsigned> headGroups;
    SmallVector<std::pair<AttentionHeadBlock, int64_t>> trimmedHeads;
    for (const AttentionHeadBlock &b : findAttentionHeads(func, cg)) {
      for (unsigned g : b.groups())
        headGroups.insert(g);
      auto prunedOf = [](Operation *op) {
        SmallVector<int64_t> c;
        if (auto attr = op->getAttrOfType<DenseI64ArrayAttr>("glm.pruned_channels"))
          c.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
        return c;
      };
      SmallVector<int64_t> q = prunedOf(b.qProducer);
      if (q.empty())
        continue;
      int64_t per = b.unitChannels(b.qGroup);
      SmallVector<int64_t> units;
      for (int64_t c : q)
        if (c % per == 0)
          units.push_back(c / per);
      if (b.channels(b.qGroup, units) != q || b.channels(b.kGroup, units) != prunedOf(b.kProducer) ||
          b.channels(b.vGroup, units) != prunedOf(b.vProducer) || (int64_t)units.size() >= b.kvHeads) {
        b.qProducer->emitWarning("pruned attention heads not trimmed: q, k and v do not remove the "
                                 "same whole K/V groups");
        continue;
      }
      for (unsigned gi : b.groups())
        trimGroup(cg.groups()[gi], b.channels(gi, units));
      trimmedProducers.append({b.qProducer, b.kProducer, b.vProducer});
      trimmedHeads.emplace_back(b, b.kvHeads - (int64_t)units.size());
    }
    for (auto [gi, g] : llvm::enumerate(cg.groups())) {
      if (headGroups.contains(gi))
        continue;
      // The group's pruned channels as each producer sees them (the
      // producer's glm.pruned_channels are absolute output channels).
      std::optional<SmallVector<int64_t>> agreed;
      bool same = true, anyPruned = false;
      Operation *first = nullptr;
      for (const ChannelUse &u : g.uses) {
        if (u.kind != ChannelUse::ProducerWeight)
          continue;
        first = first ? first : u.op;
        SmallVector<int64_t> rel;
        if (auto attr = u.op->getAttrOfType<DenseI64ArrayAttr>("glm.pruned_channels"))
          for (int64_t c : attr.asArrayRef())
            if (c >= u.offset && c < u.offset + g.size)
              rel.push_back(c - u.offset);
        anyPruned |= !rel.empty();
        if (!agreed)
          agreed = rel;
        else
          same &= *agreed == rel;
      }
      if (!first || !anyPruned)
        continue;
      if (!same || !g.prunable()) {
        first->emitWarning("pruned channels not trimmed: ")
            << (same ? "the channel group cannot be trimmed" : "its producers disagree");
        continue;
      }
      ArrayRef<int64_t> removed = *agreed;
      if (removed.empty() || (int64_t)removed.size() >= g.size)
        continue;
      SmallVector<Operation *> producers = g.producers();
      trimGroup(g, removed);
      trimmedProducers.append(producers.begin(), producers.end());
    }
    if (slices.empty())
      return;
    // Channel-dim slices: each bound moves down by the removed channels
    // before it.
    OpBuilder sb(func.getContext());
    for (auto &entry : sliceRemovals) {
      Operation *op = entry.first;
      auto &gone = entry.second;
      auto slice = cast<SliceOp>(op);
      auto t = rankedOrNull(slice.getData());
      auto starts = getConstantIntValues(slice.getStarts());
      auto ends = getConstantIntValues(slice.getEnds());
      auto shift = [&](int64_t bound, int64_t size) {
        if (bound < 0)
          bound += size;
        bound = std::clamp<int64_t>(bound, 0, size);
        return bound - (int64_t)llvm::count_if(gone, [&](int64_t c) { return c < bound; });
      };
      int64_t dim = -1;
      for (const ChannelGroup &g : cg.groups())
        for (const ChannelUse &u : g.uses)
          if (u.kind == ChannelUse::SliceBounds && u.op == op)
            dim = u.dim;
      int64_t size = t.getDimSize(dim);
      sb.setInsertionPoint(op);
      auto retype = [&](Value bound, int64_t v) {
        auto bt = rankedOrNull(bound);
        return ConstantOp::create(sb, op->getLoc(), makeIntElements(bt, {v}));
      };
      slice.getStartsMutable().assign(retype(slice.getStarts(), shift((*starts)[0], size)));
      slice.getEndsMutable().assign(retype(slice.getEnds(), shift((*ends)[0], size)));
    }
    OpBuilder b(func.getContext());
    for (Slice &s : slices) {
      Value current = s.op->getOperand(s.operand);
      int64_t total = rankedOrNull(current).getDimSize(s.dim);
      SmallVector<int64_t> keep;
      for (int64_t i = 0; i < total; ++i)
        if (!llvm::is_contained(s.removed, i))
          keep.push_back(i);
      b.setInsertionPoint(s.op);
      Value sliced = sliceConstant(b, s.op->getLoc(), current, s.dim, keep, /*keep=*/true, "trimmed");
      if (sliced)
        s.op->setOperand(s.operand, sliced);
      if (s.depthwise)
        cast<ConvOp>(s.op).setGroup(keep.size());
    }
    for (auto &[b, kept] : trimmedHeads)
      if (failed(rewriteRepeatHeads(b, kept)))
        return signalPassFailure();
    for (Operation *p : trimmedProducers)
      p->removeAttr("glm.pruned_channels");
    if (failed(reinferTypes(func)))
      return signalPassFailure();
  }
};

} // namespace
