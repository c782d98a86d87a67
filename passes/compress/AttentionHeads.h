//===- AttentionHeads.h - K/V groups of attention as pruning units -*- C++ -*-===//
//
// Structured pruning of attention removes whole K/V groups: K/V head j and
// the query heads that read it (grouped-query attention), i.e. columns of
// the q/k/v projections and rows of the output projection. ChannelGroups
// pins those channel spaces (they go through the head-splitting reshape);
// this analysis proves, per attention, that the heads can be followed:
//
//   q/k/v = linear(x) [+ bias] -> reshape [b, s, h, d] -> transpose [0, 2, 1, 3]
//           -> optional rotary embedding (per head) -> the attention
//           (fusion::matchAttention, repeat_kv for K/V)
//   y     = attention -> transpose [0, 2, 1, 3] -> reshape [b, s, h*d] -> o_proj
//
// with nothing else reading the per-head values (shape arithmetic aside), a
// mask that is the same for every head, and 5-d/4-d repeat_kv shapes whose
// head entries are rewritten when groups go.
// Because a removed unit takes its V head with it, the attention output of
// its query heads is exactly zero once masked, so masking and trimming give
// the same function.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_COMPRESS_ATTENTIONHEADS_H
#define GLMC_PASSES_COMPRESS_ATTENTIONHEADS_H

#include "passes/compress/ChannelGroups.h"

#include <string>

namespace mlir::glm {

struct AttentionHeadBlock {
  int64_t kvHeads = 0;   ///< units
  int64_t groupSize = 0; ///< query heads per K/V head
  int64_t headDim = 0, vHeadDim = 0;
  /// ChannelGroups group indices of the q, k, v projection outputs and of
  /// the output projection's input.
  unsigned qGroup = 0, kGroup = 0, vGroup = 0, oGroup = 0;
  Operation *qProducer = nullptr, *kProducer = nullptr, *vProducer = nullptr;
  Operation *oConsumer = nullptr;
  /// Shape entries that name head counts, rewritten when groups go: the
  /// head splits and the merge (which may spell the count out rather than
  /// -1) and the repeat_kv reshapes and expands. The entry becomes
  /// `perUnit * kept units`, or 1 when perUnit is 0 (an expand then
  /// broadcasts the heads it gets). The shape is operand 1 of each op.
  struct ShapeEntry {
    Operation *op;
    int64_t entry;
    int64_t perUnit;
  };
  SmallVector<ShapeEntry> shapeEntries;

  /// Channels of `group` (one of the four) that units `units` occupy.
  SmallVector<int64_t> channels(unsigned group, ArrayRef<int64_t> units) const;
  /// Channels per unit in `group`.
  int64_t unitChannels(unsigned group) const;
  SmallVector<unsigned, 4> groups() const { return {qGroup, kGroup, vGroup, oGroup}; }
};

/// Every attention of `func` whose K/V groups can be pruned. Attentions
/// that cannot are skipped with a reason in `notes` (when given).
SmallVector<AttentionHeadBlock> findAttentionHeads(func::FuncOp func, const ChannelGroups &cg,
                                                   SmallVectorImpl<std::string> *notes = nullptr);

/// After groups were removed (`keptUnits` left): every shape entry that
/// names a head count gets the new one.
LogicalResult rewriteRepeatHeads(const AttentionHeadBlock &block, int64_t keptUnits);

} // namespace mlir::glm

#endif // GLMC_PASSES_COMPRESS_ATTENTIONHEADS_H
