//===- Statistics.h - activation statistics for compression -----*- C++ -*-===//
//
// Runs the model on a calibration set and records, for every prunable op
// with constant weights (conv, gemm, matmul), the statistics of the
// features its weights multiply: per feature the sum and the sum of
// squares, and (up to kMaxGramFeatures features) the Gram matrix
// sum(f f^T). A feature is one input channel of a matmul/gemm, or one
// (channel, kernel row, kernel column) tap of a conv's im2col patch, in
// the order of the weight's input dims. They are attached to the op as
//
//   glm.calib = {rows = N : i64, sum = dense_resource<..> : tensor<Fxf64>,
//                sqsum = ..., gram = ... : tensor<FxFxf64>}
//
// for glm-prune (wanda scores, channel fluctuation, least-squares
// reconstruction). The model is run by building an instrumented copy (the
// inputs of those ops become extra outputs) for the host.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_CALIBRATE_STATISTICS_H
#define GLMC_COMPILER_CALIBRATE_STATISTICS_H

#include "compiler/calibrate/DataSet.h"
#include "compiler/calibrate/HostModel.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>

namespace glmc::calibrate {

/// Larger feature counts keep sums and sums of squares only (a Gram of
/// 2048 features is 32 MiB of doubles).
constexpr int64_t kMaxGramFeatures = 2048;

/// Lowers `module` (a copy, changed in place) for this machine and loads it.
using BuildHostModel =
    std::function<std::unique_ptr<HostModel>(mlir::ModuleOp module, std::string &error)>;
/// Reports "calibration sample i/n".
using ProgressFn = std::function<void(size_t done, size_t total)>;

/// Bins of the |x| histogram kept for percentile calibration.
constexpr int64_t kRangeBins = 2048;

/// What to collect: the feature moments (and Gram) glm-prune reads, and/or
/// the value ranges glm-quantize reads (`min`, `max`, `abs_hist` over
/// [0, `abs_hist_top`]).
struct StatisticsOptions {
  bool moments = true;
  bool ranges = false;
};

/// Attaches glm.calib to the prunable ops of `module` (glm, after shape
/// inference). Fails with `error` when the set does not fit the model.
/// Samples are read one at a time: memory does not grow with the set.
mlir::LogicalResult collectStatistics(mlir::ModuleOp module, const DataSet &data,
                                      const BuildHostModel &build, const ProgressFn &progress,
                                      std::string &error,
                                      const StatisticsOptions &options = StatisticsOptions());

} // namespace glmc::calibrate

#endif // GLMC_COMPILER_CALIBRATE_STATISTICS_H
