//===- Options.h - everything a compilation is told --------------*- C++ -*-===//
//
// One struct, filled by tools/glmc from flags (or --config), read by the
// pipeline builder. Passes never read flags: they get pass options from here.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_PIPELINE_OPTIONS_H
#define GLMC_COMPILER_PIPELINE_OPTIONS_H

#include <string>
#include <vector>

namespace glmc::pipeline {

enum class EmitKind { SharedObject, StaticLib, MLIR, LLVM, Object, ONNX };

struct CompileOptions {
  std::string inputPath;
  std::string outputPath;
  std::string target = "host";
  EmitKind emit = EmitKind::SharedObject;
  /// Name recorded in the artifact (default: the input file's stem).
  std::string modelName;
  /// Write the weights into <output>.weights instead of embedding them.
  bool externalWeights = false;
  /// Stop after this stage when emitting MLIR: "import", "canonical",
  /// "lowered" (LLVM dialect). Empty: the last stage.
  std::string mlirStage;
  bool quiet = false;
  /// Exact graph fusions (BatchNorm folding, RepVGG re-parameterisation).
  bool fuse = true;
  /// 2, not 3: as fast on the bench models and 1-7% smaller (docs/glmc.md).
  int optLevel = 2;
  /// Per-layer profile marks in the artifact (glmrt-run --profile).
  bool profile = false;

  /// Compression (docs/compression.md).
  struct Prune {
    double ratio = 0.0;             ///< fraction of prunable parameters to remove
    std::string mode = "structured"; ///< structured | unstructured | 2:4
    std::string criterion = "l1";    ///< magnitude | l1 | wanda (needs calibration)
    std::string alloc = "uniform";   ///< uniform | auto
    std::vector<std::string> exclude; ///< node-name patterns to keep
    /// "PATTERN=R": a fixed sparsity for the layers whose node name matches
    /// (first match wins; the others share the rest of the budget).
    std::vector<std::string> layerRatios;
    /// Cumulative sparsities of several prune (+ recalibrate + reconstruct)
    /// steps, the last one `ratio`; empty: one step.
    std::vector<double> schedule;
    /// Remove the pruned channels (off: keep them as zeros, to check that
    /// trimming does not change the function).
    bool trim = true;
    /// With calibration statistics: refit the weights and biases that read
    /// pruned channels by least squares (bias compensation when the Gram
    /// matrix is too large).
    bool reconstruct = true;
  } prune;
  /// INT8 quantization (docs/quantization.md), after pruning.
  struct Quantize {
    /// "" (none), int8 (static, needs calibration), or qdq (internal: only
    /// the QDQ pairs a model already has, no calibration).
    std::string mode;
    std::string calibMethod = "minmax"; ///< minmax | percentile
    double percentile = 99.99;          ///< of |x|, with calibMethod percentile
  } quantize;
  /// Calibration set (glmc-npy-dir-v1) for activation-aware pruning and
  /// INT8 ranges.
  std::string calibDir;
  /// Evaluation set: quality before/after in the report.
  std::string evalDir;
  /// Write the compression report here (.json or .html).
  std::string reportPath;
  /// Quality gates, "NAME OP NUMBER" (docs/ci.md): when one holds after
  /// compression, glmc writes no output, writes the report, and exits 4.
  std::vector<std::string> failIf;
};

} // namespace glmc::pipeline

#endif // GLMC_COMPILER_PIPELINE_OPTIONS_H
