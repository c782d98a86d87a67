//===- glmc.cpp - the glmc command line -----------------------------------===//
//
//   glmc model.onnx [--target T] [-o model.so] [--emit=so|static-lib|mlir|llvm|obj]
//
// Flags are parsed here into CompileOptions; everything else is the
// driver library (compiler/driver).
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Driver.h"
#include "compiler/driver/PruneConfig.h"

#include "compiler/codegen/LLVMCodegen.h"
#include "compiler/pipeline/Targets.h"

#include "GLMCRevision.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

using namespace llvm;
using glmc::driver::ExitCode;
using glmc::pipeline::EmitKind;

static cl::OptionCategory glmcCategory("glmc options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::cat(glmcCategory));
static cl::opt<std::string> outputFile("o", cl::desc("Output file (default: <model>.so)"),
                                       cl::value_desc("path"), cl::cat(glmcCategory));
static cl::opt<std::string> target("target", cl::desc("Target (see --print-targets)"),
                                   cl::init("host"), cl::cat(glmcCategory));
static cl::opt<EmitKind> emit(
    "emit", cl::desc("What to write"), cl::init(EmitKind::SharedObject),
    cl::values(clEnumValN(EmitKind::SharedObject, "so", "a shared object for glmrt (default)"),
               clEnumValN(EmitKind::StaticLib, "static-lib", "a static library"),
               clEnumValN(EmitKind::MLIR, "mlir", "MLIR after a stage (see --mlir-stage)"),
               clEnumValN(EmitKind::LLVM, "llvm", "optimised LLVM IR"),
               clEnumValN(EmitKind::Object, "obj", "the object file"),
               clEnumValN(EmitKind::ONNX, "onnx",
                          "the model after compression as ONNX (opset 17), for other tools")),
    cl::cat(glmcCategory));
static cl::opt<std::string> mlirStage(
    "mlir-stage",
    cl::desc("With --emit=mlir: import, canonical, compressed, fused or lowered (default lowered)"),
    cl::init(""), cl::cat(glmcCategory));
static cl::opt<bool> quiet("quiet", cl::desc("No progress or notes on stderr"),
                           cl::cat(glmcCategory));
static cl::opt<bool> noFuse("no-fuse",
                            cl::desc("Skip the graph fusions (BatchNorm folding, RepVGG "
                                     "re-parameterisation, decoder RMSNorm/rotary/attention/"
                                     "linear/gated-MLP), e.g. to measure them"),
                            cl::cat(glmcCategory));
static cl::opt<bool> printTargets("print-targets", cl::desc("List the targets and exit"),
                                  cl::cat(glmcCategory));
static cl::opt<bool> externalWeights("external-weights",
                                     cl::desc("Write weights to <output>.weights (mmap'd at load)"),
                                     cl::cat(glmcCategory));
static cl::opt<std::string> modelName("model-name", cl::desc("Name recorded in the artifact"),
                                      cl::cat(glmcCategory));
static cl::OptionCategory compressCategory("compression options (docs/compression.md)");
static cl::opt<double> pruneRatio("prune",
                                  cl::desc("Remove this fraction of the prunable parameters "
                                           "(0 <= R < 1; default 0: no pruning)"),
                                  cl::value_desc("R"), cl::init(0.0), cl::cat(compressCategory));
static cl::opt<std::string> pruneMode("prune-mode",
                                      cl::desc("structured (default: channels, neurons; really "
                                               "smaller and faster), unstructured or 2:4"),
                                      cl::init("structured"), cl::cat(compressCategory));
static cl::opt<std::string> pruneCriterion("prune-criterion",
                                           cl::desc("Importance: l1 (default without --calib), "
                                                    "magnitude, or wanda (activation-aware, the "
                                                    "default with --calib)"),
                                           cl::init("l1"), cl::cat(compressCategory));
static cl::opt<std::string> pruneAlloc("prune-alloc",
                                       cl::desc("Per-layer ratios: uniform (default) or auto "
                                                "(global ranking, same total budget)"),
                                       cl::init("uniform"), cl::cat(compressCategory));
static cl::list<std::string> excludePatterns("exclude",
                                             cl::desc("Keep layers whose ONNX node name matches "
                                                      "this regular expression (repeatable)"),
                                             cl::value_desc("pattern"), cl::cat(compressCategory));
static cl::opt<bool> pruneNoTrim("prune-no-trim",
                                  cl::desc("Keep pruned channels as zeros instead of removing "
                                           "them (for checking channel trimming)"),
                                  cl::Hidden, cl::cat(compressCategory));
static cl::opt<bool> pruneReconstruct(
    "prune-reconstruct",
    cl::desc("With --calib: refit the weights that read pruned channels by least squares "
             "(default on; --prune-reconstruct=false to compare)"),
    cl::init(true), cl::cat(compressCategory));
static cl::opt<std::string> quantizeMode(
    "quantize",
    cl::desc("INT8 quantization (docs/quantization.md): int8 = int8 weights per output channel "
             "and static int8 activations calibrated on --calib (convolutions and gemms)"),
    cl::value_desc("int8"), cl::cat(compressCategory));
static cl::opt<std::string> quantizeCalibMethod(
    "quantize-calib-method",
    cl::desc("Activation ranges: minmax (default) or percentile (clip at "
             "--quantize-percentile of |x|)"),
    cl::init("minmax"), cl::cat(compressCategory));
static cl::opt<double> quantizePercentile("quantize-percentile",
                                          cl::desc("Percentile of |x| kept by "
                                                   "--quantize-calib-method percentile "
                                                   "(default 99.99)"),
                                          cl::init(99.99), cl::cat(compressCategory));
static cl::opt<std::string> calibDir("calib",
                                     cl::desc("Calibration set (a glmc-npy-dir-v1 directory) for "
                                              "activation-aware pruning and reconstruction"),
                                     cl::value_desc("dir"), cl::cat(compressCategory));
static cl::opt<std::string> evalDir("eval",
                                    cl::desc("Evaluation set: quality before/after compression "
                                             "goes into the report"),
                                    cl::value_desc("dir"), cl::cat(compressCategory));
static cl::opt<std::string> configFile(
    "config",
    cl::desc("Compression settings from a YAML file (algorithm, target_sparsity, per-layer "
             "sparsities, schedule; docs/compression.md); flags given override it"),
    cl::value_desc("prune.yaml"), cl::cat(compressCategory));
static cl::opt<std::string> reportFile("report",
                                       cl::desc("Write the compression report (.json, or .html "
                                                "for a page with a per-layer chart)"),
                                       cl::value_desc("path"), cl::cat(compressCategory));

static cl::opt<bool> profile(
    "profile",
    cl::desc("Time every layer at run time: the artifact marks where each ONNX node starts, for "
             "glmrt-run --profile (docs/profiling.md); without it the code has no marks"),
    cl::cat(glmcCategory));
static cl::list<std::string> failIf(
    "fail-if",
    cl::desc("Quality gate for CI: fail (exit 4, no output, the report still written) when "
             "'NAME OP NUMBER' holds after compression, e.g. 'perplexity_increase > 0.03' "
             "(repeatable; names in docs/ci.md)"),
    cl::value_desc("condition"), cl::cat(compressCategory));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimisation level (0-3, default 2)"),
                                  cl::Prefix, cl::init(2), cl::cat(glmcCategory));

/// glmc --version: what a CI log needs to say which compiler built an
/// artifact (artifacts themselves carry no build-specific bytes).
static void printVersion(raw_ostream &os) {
  os << "glmc " << GLMC_VERSION << " (revision " << GLMC_SOURCE_REVISION << ")\n";
  os << "LLVM/MLIR " << LLVM_VERSION_STRING << "\n";
  std::string cpu, gpu;
  for (const glmc::pipeline::TargetInfo &t : glmc::pipeline::getTargets())
    (t.cudaSM.empty() ? cpu : gpu) += " " + t.name;
  glmc::pipeline::TargetInfo host = glmc::pipeline::detectHostTarget();
  os << "targets:" << cpu << " (host here: " << host.triple << ", " << host.cpu << ")\n";
  if (!gpu.empty())
    os << "not in this build:" << gpu << " (they need CUDA code generation)\n";
  os << "code generators:";
  glmc::codegen::initializeTargets();
  for (const llvm::Target &t : llvm::TargetRegistry::targets())
    os << " " << t.getName();
  os << "\n";
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::SetVersionPrinter(printVersion);
  cl::HideUnrelatedOptions({&glmcCategory, &compressCategory});
  cl::ParseCommandLineOptions(argc, argv,
                              "glmc: compile an ONNX model into a deployable shared object\n");
  if (printTargets) {
    glmc::driver::printTargets(outs());
    return 0;
  }
  if (inputFile.empty()) {
    errs() << "glmc: error: no input model; usage: glmc model.onnx [-o model.so] [--target T]\n";
    return (int)ExitCode::Usage;
  }
  if (!mlirStage.empty() && mlirStage != "import" && mlirStage != "canonical" &&
      mlirStage != "compressed" && mlirStage != "fused" && mlirStage != "lowered") {
    errs() << "glmc: error: --mlir-stage must be import, canonical, compressed, fused or lowered\n";
    return (int)ExitCode::Usage;
  }
  if (optLevel > 3) {
    errs() << "glmc: error: -O must be 0 to 3\n";
    return (int)ExitCode::Usage;
  }
  glmc::pipeline::CompileOptions options;
  options.inputPath = inputFile;
  options.target = target;
  options.emit = emit;
  options.mlirStage = mlirStage;
  options.quiet = quiet;
  options.externalWeights = externalWeights;
  options.modelName = modelName;
  options.optLevel = optLevel;
  options.profile = profile;
  options.fuse = !noFuse;
  options.prune.trim = !pruneNoTrim;

  // Compression: the --config file first, then the flags given.
  std::optional<glmc::driver::PruneConfig> config;
  if (!configFile.empty()) {
    std::string error;
    config = glmc::driver::loadPruneConfig(configFile, error);
    if (config)
      error = glmc::driver::applyPruneConfig(*config, configFile, options);
    if (config && error.empty() && !quiet)
      for (const std::string &note : config->notes)
        errs() << "glmc: note: --config " << note << "\n";
    if (!error.empty()) {
      errs() << "glmc: error: --config " << error << "\n";
      return (int)ExitCode::Usage;
    }
  }
  auto &prune = options.prune;
  auto given = [](const cl::Option &o) { return o.getNumOccurrences() > 0; };
  if (given(pruneRatio)) {
    prune.ratio = pruneRatio;
    prune.schedule.clear(); // a schedule ends at the file's target
  }
  if (given(pruneMode))
    prune.mode = pruneMode;
  if (given(pruneAlloc))
    prune.alloc = pruneAlloc;
  if (given(pruneReconstruct))
    prune.reconstruct = pruneReconstruct;
  prune.exclude.insert(prune.exclude.end(), excludePatterns.begin(), excludePatterns.end());
  if (given(calibDir))
    options.calibDir = calibDir;
  if (given(evalDir))
    options.evalDir = evalDir;
  // With calibration data the activation-aware criterion is the default.
  if (given(pruneCriterion))
    prune.criterion = pruneCriterion;
  else if (!(config && (config->algorithm.criterion || !config->algorithm.name.empty())) &&
           !options.calibDir.empty())
    prune.criterion = "wanda";

  if (!(prune.ratio >= 0.0 && prune.ratio < 1.0)) {
    errs() << "glmc: error: --prune must be in [0, 1), got " << prune.ratio << "\n";
    return (int)ExitCode::Usage;
  }
  if (prune.mode != "structured" && prune.mode != "unstructured" && prune.mode != "2:4") {
    errs() << "glmc: error: --prune-mode must be structured, unstructured or 2:4\n";
    return (int)ExitCode::Usage;
  }
  if (prune.criterion != "l1" && prune.criterion != "magnitude" && prune.criterion != "wanda") {
    errs() << "glmc: error: --prune-criterion must be l1, magnitude or wanda\n";
    return (int)ExitCode::Usage;
  }
  if (prune.alloc != "uniform" && prune.alloc != "auto") {
    errs() << "glmc: error: --prune-alloc must be uniform or auto\n";
    return (int)ExitCode::Usage;
  }
  if (prune.criterion == "wanda" && options.calibDir.empty()) {
    errs() << "glmc: error: --prune-criterion wanda weighs weights by activations and needs "
              "--calib DIR\n";
    return (int)ExitCode::Usage;
  }
  if (given(quantizeMode)) {
    if (quantizeMode == "int8-dynamic" || quantizeMode == "w8") {
      errs() << "glmc: error: --quantize " << quantizeMode
             << " is not available in this glmc yet; --quantize int8 is (docs/quantization.md)\n";
      return (int)ExitCode::Unavailable;
    }
    if (quantizeMode != "int8") {
      errs() << "glmc: error: --quantize must be int8, got '" << quantizeMode << "'\n";
      return (int)ExitCode::Usage;
    }
    options.quantize.mode = quantizeMode;
  }
  options.quantize.calibMethod = quantizeCalibMethod;
  options.quantize.percentile = quantizePercentile;
  if (options.quantize.calibMethod != "minmax" && options.quantize.calibMethod != "percentile") {
    errs() << "glmc: error: --quantize-calib-method must be minmax or percentile\n";
    return (int)ExitCode::Usage;
  }
  if (!(options.quantize.percentile > 50.0 && options.quantize.percentile <= 100.0)) {
    errs() << "glmc: error: --quantize-percentile must be in (50, 100], got "
           << llvm::format("%g", options.quantize.percentile) << "\n";
    return (int)ExitCode::Usage;
  }
  if (!options.quantize.mode.empty() && options.calibDir.empty()) {
    errs() << "glmc: error: --quantize " << options.quantize.mode
           << " calibrates activation ranges and needs --calib DIR\n";
    return (int)ExitCode::Usage;
  }
  options.reportPath = reportFile;
  options.failIf.assign(failIf.begin(), failIf.end());
  for (const std::string &text : options.failIf) {
    glmc::driver::Gate gate;
    if (std::string problem = glmc::driver::parseGate(text, gate); !problem.empty()) {
      errs() << "glmc: error: --fail-if " << problem << "\n";
      return (int)ExitCode::Usage;
    }
  }
  if (outputFile.empty()) {
    SmallString<128> out(sys::path::filename(inputFile));
    // Never the input's own name: --emit=onnx writes model.glmc.onnx.
    const char *ext = emit == EmitKind::SharedObject ? ".so"
                      : emit == EmitKind::StaticLib  ? ".a"
                      : emit == EmitKind::MLIR       ? ".mlir"
                      : emit == EmitKind::LLVM       ? ".ll"
                      : emit == EmitKind::ONNX       ? ".glmc.onnx"
                                                     : ".o";
    sys::path::replace_extension(out, ext);
    options.outputPath = std::string(out);
  } else {
    options.outputPath = outputFile;
  }
  // Progress only for a person watching a terminal; CI logs stay quiet.
  bool progress = !quiet && ::isatty(STDERR_FILENO);
  return (int)glmc::driver::compile(options, errs(), progress);
}
