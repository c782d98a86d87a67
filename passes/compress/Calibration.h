//===- Calibration.h - calibration statistics and weight refits -*- C++ -*-===//
//
// What glm-prune does with the `glm.calib` statistics that glmc attaches
// to prunable ops when given --calib (compiler/calibrate/Statistics.h):
// activation-aware scores (wanda |W| * ||x||, channel fluctuation) and the
// least-squares refit of a layer whose input channels were removed.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_COMPRESS_CALIBRATION_H
#define GLMC_PASSES_COMPRESS_CALIBRATION_H

#include "dialects/glm/GLMOps.h"

#include <optional>

namespace mlir::glm {

/// A prunable op's weight seen as a matrix W[o][f]: o an output channel,
/// f = c * inner + r a feature (c an input channel, r the remaining weight
/// dims in order, e.g. the kernel taps of a conv), the order of
/// calibration features.
class WeightView {
public:
  explicit WeightView(PrunableOpInterface op);
  int64_t outputs() const { return nOut; }
  int64_t inputs() const { return nIn; }
  int64_t inner() const { return nInner; }
  int64_t features() const { return nIn * nInner; }
  /// The flat index of W[o][f] in the weight tensor.
  int64_t index(int64_t o, int64_t f) const {
    return o * outStride + (f / nInner) * inStride + restOffset[f % nInner];
  }

private:
  int64_t nOut = 1, nIn = 1, nInner = 1, outStride = 0, inStride = 0;
  SmallVector<int64_t> restOffset;
};

/// glm.calib of an op: per-feature sums over `rows` rows, and optionally
/// the Gram matrix.
struct CalibStats {
  int64_t rows = 0, features = 0;
  SmallVector<double> sum, sqsum, gram;

  static std::optional<CalibStats> of(Operation *op);
  double mean(int64_t f) const { return sum[f] / rows; }
  double meanSquare(int64_t f) const { return sqsum[f] / rows; }
  double variance(int64_t f) const { return std::max(0.0, meanSquare(f) - mean(f) * mean(f)); }
  bool hasGram() const { return !gram.empty(); }
};

/// Refits op (weights `w` as a WeightView matrix, bias `bias` per output)
/// after the input channels `removed` are gone: with a Gram matrix the
/// least-squares weights of the kept features and bias that best reproduce
/// the original outputs on the calibration data (ridge-damped); without
/// one, bias compensation with the removed features' means. Removed
/// features' weights become zero. Returns false when the system cannot be
/// solved (nothing is changed then).
bool refitAfterRemoval(const WeightView &view, const CalibStats &stats,
                       ArrayRef<int64_t> removedChannels, SmallVectorImpl<double> &w,
                       SmallVectorImpl<double> &bias);

} // namespace mlir::glm

#endif // GLMC_PASSES_COMPRESS_CALIBRATION_H
