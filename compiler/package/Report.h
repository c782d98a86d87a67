//===- Report.h - the compression report ------------------------*- C++ -*-===//
//
// What compression did, counted from the IR itself: parameters, nonzero
// parameters, weight bytes and FLOPs per layer and in total, at three
// stages (as imported, after the exact fusions, after compression), plus
// the channel groups that were kept and why. Written as JSON (schema in
// docs/compression.md, "format": "glmc-compression-report-v1") or as a
// self-contained HTML page.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_PACKAGE_REPORT_H
#define GLMC_COMPILER_PACKAGE_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace glmc::package {

/// One contraction (conv, gemm, matmul) of a model.
/// What glm-quantize chose for a layer (its operand types, glm.quant_info).
struct QuantInfo {
  double dataScale = 0;
  int64_t dataZeroPoint = 0;
  double weightScaleMin = 0, weightScaleMax = 0;
  double weightSqnrDb = 0; ///< 10 log10(|W|^2 / |W - dequant(q(W))|^2)
  double clipped = 0;      ///< fraction of calibration values outside the data range
};

struct LayerCost {
  std::string name;  ///< ONNX node name ("#k" appended to repeated names)
  std::string op;    ///< glm op name
  bool hasWeight = false;
  std::vector<int64_t> weightShape;
  int64_t params = 0;  ///< weight + bias elements
  int64_t nonzero = 0; ///< of those, nonzero
  int64_t bytes = 0;   ///< weight + bias bytes as stored
  int64_t flops = 0;   ///< 2 x multiply-accumulates, dynamic dims as 1
  std::string keptReason; ///< why its output channels were not pruned
  std::optional<QuantInfo> quant; ///< set when glm-quantize quantized it
};

/// All of a model's costs at one stage.
struct ModelCost {
  std::vector<LayerCost> layers;
  /// Totals over every float constant of the model (not only layers).
  int64_t params = 0, nonzero = 0, bytes = 0;
  /// Total over the layers.
  int64_t flops = 0;
};

/// Counts a module (glm dialect, after shape inference).
ModelCost countCosts(mlir::ModuleOp module);

/// The quality of the compressed model against the uncompressed one on an
/// evaluation set (--eval).
struct QualityMetrics {
  std::string task; ///< classification | lm | regression
  int64_t samples = 0;
  double cosine = 0, top1Agreement = 0, kl = 0, maxAbsDiff = 0;
  /// Accuracy (classification) or perplexity (lm), before and after, when
  /// the evaluation set has labels; NaN otherwise.
  double metricBefore, metricAfter;
  std::string metricName;
};

struct CompressionReport {
  std::string model;
  std::string target;
  llvm::json::Object options; ///< the compression flags as given
  ModelCost imported, before, after;
  int64_t artifactBytes = -1;
  /// The artifact's weights are in its side file (counted in artifactBytes).
  bool externalWeights = false;
  std::vector<std::string> notes;
  bool hasQuality = false;
  QualityMetrics quality;
};

/// The report as JSON (schema: docs/compression.md).
llvm::json::Value toJSON(const CompressionReport &report);

/// A one-page HTML report: totals, per-layer table, per-layer chart of
/// sparsity and FLOPs (inline SVG, no scripts or external files).
std::string toHTML(const CompressionReport &report);

/// A short summary for the artifact metadata.
llvm::json::Object summarize(const CompressionReport &report);

} // namespace glmc::package

#endif // GLMC_COMPILER_PACKAGE_REPORT_H
