//===- DecoderPatterns.h - structural matchers of decoder blocks -*- C++ -*-===//
//
// The attention and rotary-embedding chains as exporters write them, as
// matchers that only look: glm-fuse-attention and glm-fuse-rotary replace
// what they find, glm-prune and glm-trim-channels follow attention heads
// through them (passes/compress/AttentionHeads).
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_FUSION_DECODERPATTERNS_H
#define GLMC_PASSES_FUSION_DECODERPATTERNS_H

#include "dialects/glm/GLMOps.h"

#include <string>

namespace mlir::glm::fusion {

/// softmax(q k^T * scale + mask) v, with K/V repeated per query head.
struct AttentionMatch {
  Value q, k, v, mask; ///< q [b, hq, s, d]; k, v [b, hkv, t, d] (before repeat_kv)
  double scale = 1.0;
  MatMulOp qk;         ///< the score product
  SoftmaxOp softmax;
  ReshapeOp kRepeat, vRepeat; ///< the repeat_kv reshapes, null without GQA repeat
  /// Every op between q/k/v/mask and the result (the result's mat_mul not
  /// included), each with one use.
  SmallVector<Operation *> chain;
};

/// Matches the attention whose value product is `pv`. On failure, `why`
/// (when given) says what did not match.
FailureOr<AttentionMatch> matchAttention(MatMulOp pv, std::string *why = nullptr);

/// concat(x_rot * cos + rotate(x_rot) * sin, x_pass) (or the sum alone).
struct RotaryMatch {
  Value x;           ///< [b, h, s, d]
  Value cos, sin;    ///< per-pair tables, broadcast against [b, h, s, r]
  bool interleaved = false;
  Operation *root = nullptr; ///< the op whose result is the rotated x
  SmallVector<Operation *> ops; ///< the products and the sum, then the root
};

/// Matches a rotary embedding whose two products `add` sums.
FailureOr<RotaryMatch> matchRotary(AddOp add);

/// Matches a rotary embedding that produces `y` (the concat or the sum).
FailureOr<RotaryMatch> matchRotaryResult(Value y);

} // namespace mlir::glm::fusion

#endif // GLMC_PASSES_FUSION_DECODERPATTERNS_H
