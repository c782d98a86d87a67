//===- TrimChannels.cpp - glm-trim-channels -------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"
#include "passes/compress/ChannelGroups.h"

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
    for (const ChannelGroup &g : cg.groups()) {
      SmallVector<Operation *> producers = g.producers();
      if (producers.empty())
        continue;
      auto attr = producers.front()->getAttrOfType<DenseI64ArrayAttr>("glm.pruned_channels");
      if (!attr)
        continue;
      bool same = llvm::all_of(producers, [&](Operation *p) {
        return p->getAttrOfType<DenseI64ArrayAttr>("glm.pruned_channels") == attr;
      });
      if (!same || !g.prunable()) {
        producers.front()->emitWarning("pruned channels not trimmed: ")
            << (same ? "the channel group cannot be trimmed" : "its producers disagree");
        continue;
      }
      ArrayRef<int64_t> removed = attr.asArrayRef();
      if (removed.empty() || (int64_t)removed.size() >= g.size)
        continue;
      for (const ChannelUse &u : g.uses) {
        auto p = dyn_cast<PrunableOpInterface>(u.op);
        switch (u.kind) {
        case ChannelUse::ProducerWeight:
          addRemoval(u.op, p.getPrunableWeight(), p.getWeightOutputDim(), 0, removed, false);
          addRemoval(u.op, p.getPrunableBias(), 0, 0, removed, false);
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
      trimmedProducers.append(producers.begin(), producers.end());
    }
    if (slices.empty())
      return;
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
    for (Operation *p : trimmedProducers)
      p->removeAttr("glm.pruned_channels");
    if (failed(reinferTypes(func)))
      return signalPassFailure();
  }
};

} // namespace
