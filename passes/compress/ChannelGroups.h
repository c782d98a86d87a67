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
  /// Whether the value is exactly zero at the segment's channels once they
  /// are pruned (their producers' weights and biases zeroed).
  bool zero = true;
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
    SliceBounds, ///< a glm.slice along the channels: its bounds move with removals
  } kind;
  Operation *op;
  unsigned operand = 0;
  int64_t dim = 0;
  /// The channel offset of this group's space inside the op's channels
  /// (a consumer's input channels after a concat, a producer's output
  /// channels when they are sliced into several spaces).
  int64_t offset = 0;
};

struct ChannelGroup {
  int64_t size = 0;            ///< channels in every space of the group
  SmallVector<unsigned> spaces;
  SmallVector<ChannelUse> uses;
  bool pinned = false;
  std::string pinReason;       ///< why it cannot be pruned (for the report)
  /// Whether every op that reads the group's channels sees exact zeros
  /// once they are pruned (so trimming them changes nothing).
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
  unsigned newSpace(int64_t size, Operation *producer, int64_t offset = 0);
  void splitPointsOfProducers(func::FuncOp func);
  /// Static channel-dim slices [start, end) of `v`, or nullopt.
  std::optional<std::pair<int64_t, int64_t>> channelSlice(SliceOp slice, int64_t dim) const;
  llvm::DenseMap<Value, SmallVector<int64_t>> splitPoints;
  void unite(unsigned a, unsigned b);
  unsigned find(unsigned s) const;
  void pin(const ChannelLayout *layout, StringRef reason);
  void pinAll(Operation *op, StringRef reason);
  /// `v` gets one new pinned space of its channel count (model inputs,
  /// results of ops the analysis does not follow).
  void pinFresh(Value v, StringRef reason);
  void visit(Operation *op);
  /// Records `v`'s layout (a copy: the argument may point into the map).
  void setLayout(Value v, ChannelLayout layout);
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

/// How an elementwise op maps zeros: Any (zero if any operand is zero:
/// mul), All (zero if all operands are: add, relu, ...), None (sigmoid, exp).
enum class ZeroRule { Any, All, None };
ZeroRule zeroRuleOf(Operation *op);

} // namespace mlir::glm

#endif // GLMC_PASSES_COMPRESS_CHANNELGROUPS_H
