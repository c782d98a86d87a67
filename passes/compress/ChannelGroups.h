//===- ChannelGroups.h - which channels must be pruned together -*- C++ -*-===//
//
// The dependency analysis behind structured pruning and channel trimming.
// Every value with a channel dim gets a layout: the list of channel spaces
// its channels come from (one space, or several after a channel concat).
// Ops that keep channels in place (elementwise ops, pools, flatten of a
// pooled map) tie the spaces of their operands and result together; a
// PrunableOpInterface op starts a new space for its output channels and
// consumes the space of its input. A group is a set of tied spaces; its
// channels are pruned together or not at all. Anything the analysis cannot
// follow (reshapes, transposes, model inputs and outputs, ops it does not
// know) pins the groups it touches, so that nothing is silently broken.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_COMPRESS_CHANNELGROUPS_H
#define GLMC_PASSES_COMPRESS_CHANNELGROUPS_H

#include "dialects/glm/GLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

#include <string>
#include <vector>

namespace mlir::glm {

/// A contiguous run of channels taken from one space.
struct SpaceSegment {
  unsigned space;
  int64_t size;
};

/// How one value's channel dim is made of spaces.
struct ChannelLayout {
  int64_t dim = -1;                      ///< the channel dim of the value
  SmallVector<SpaceSegment, 1> segments; ///< in channel order
  int64_t size() const {
    int64_t n = 0;
    for (const SpaceSegment &s : segments)
      n += s.size;
    return n;
  }
};

/// An op that reads channels of a group and must be sliced with it.
struct ChannelUse {
  enum Kind {
    ProducerWeight, ///< a PrunableOpInterface op producing the space
    ConsumerWeight, ///< a PrunableOpInterface op contracting it
    Depthwise,      ///< a depthwise conv passing it through
    PerChannelConstant, ///< operand `operand` of an elementwise op, sliced at `dim`
  } kind;
  Operation *op;
  unsigned operand = 0;
  int64_t dim = 0;
  /// For consumers of a multi-space layout: the channel offset of this
  /// group's space inside the consumer's input channels.
  int64_t offset = 0;
};

struct ChannelGroup {
  int64_t size = 0;            ///< channels in every space of the group
  SmallVector<unsigned> spaces;
  SmallVector<ChannelUse> uses;
  bool pinned = false;
  std::string pinReason;       ///< why it cannot be pruned (for the report)
  /// Whether a zeroed channel stays exactly zero through the group's ops.
  bool zeroPreserving = true;

  bool prunable() const { return !pinned && zeroPreserving && size > 1; }
  /// The producing ops (output channels of the group).
  SmallVector<Operation *> producers() const;
};

class ChannelGroups {
public:
  explicit ChannelGroups(func::FuncOp func);

  const std::vector<ChannelGroup> &groups() const { return groupList; }
  /// The layout of `v`, or null when it has no tracked channels.
  const ChannelLayout *layoutOf(Value v) const;
  /// The group index of a space.
  unsigned groupOf(unsigned space) const { return groupIndex[find(space)]; }

private:
  unsigned newSpace(int64_t size, Operation *producer);
  void unite(unsigned a, unsigned b);
  unsigned find(unsigned s) const;
  void pin(const ChannelLayout *layout, StringRef reason);
  void pinAll(Operation *op, StringRef reason);
  void visit(Operation *op);
  void unifyLayouts(const ChannelLayout &a, const ChannelLayout &b, Operation *op);

  struct Space {
    int64_t size;
    unsigned parent;
    bool pinned = false;
    std::string pinReason;
    bool zeroPreserving = true;
    SmallVector<ChannelUse> uses;
  };
  mutable std::vector<Space> spaces;
  llvm::DenseMap<Value, ChannelLayout> layouts;
  std::vector<ChannelGroup> groupList;
  std::vector<unsigned> groupIndex;
};

/// A new constant holding `constant` restricted to the indices `keep` of
/// dim `dim` (keep = false: with those indices zeroed instead). Null if the
/// operand is not a static int/float constant.
Value sliceConstant(OpBuilder &b, Location loc, Value constant, int64_t dim,
                    ArrayRef<int64_t> indices, bool keep, StringRef name);

/// Re-runs every op's shape inference in order and overwrites the result
/// types (after channels were removed, static dims shrink), then the
/// function's result types.
LogicalResult reinferTypes(func::FuncOp func);

/// Whether f(0) == 0 for this elementwise op when all its non-data
/// operands are zero at the channel (so pruned channels stay zero).
bool isZeroPreserving(Operation *op);

} // namespace mlir::glm

#endif // GLMC_PASSES_COMPRESS_CHANNELGROUPS_H
