//===- glmc.cpp - the glmc command line -----------------------------------===//
//
//   glmc model.onnx [--target T] [-o model.so] [--emit=so|static-lib|mlir|llvm|obj]
//
// Flags are parsed here into CompileOptions; everything else is the
// driver library (compiler/driver).
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Driver.h"

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
               clEnumValN(EmitKind::Object, "obj", "the object file")),
    cl::cat(glmcCategory));
static cl::opt<std::string> mlirStage(
    "mlir-stage", cl::desc("With --emit=mlir: import, canonical or lowered (default lowered)"),
    cl::init(""), cl::cat(glmcCategory));
static cl::opt<bool> quiet("quiet", cl::desc("No progress or notes on stderr"),
                           cl::cat(glmcCategory));
static cl::opt<bool> noFuse("no-fuse",
                            cl::desc("Skip the exact graph fusions (BatchNorm folding, RepVGG "
                                     "re-parameterisation), e.g. to measure them"),
                            cl::cat(glmcCategory));
static cl::opt<bool> printTargets("print-targets", cl::desc("List the targets and exit"),
                                  cl::cat(glmcCategory));
static cl::opt<bool> externalWeights("external-weights",
                                     cl::desc("Write weights to <output>.weights (mmap'd at load)"),
                                     cl::cat(glmcCategory));
static cl::opt<std::string> modelName("model-name", cl::desc("Name recorded in the artifact"),
                                      cl::cat(glmcCategory));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimisation level (0-3, default 3)"),
                                  cl::Prefix, cl::init(3), cl::cat(glmcCategory));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(glmcCategory);
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
      mlirStage != "lowered") {
    errs() << "glmc: error: --mlir-stage must be import, canonical or lowered\n";
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
  options.fuse = !noFuse;
  if (outputFile.empty()) {
    SmallString<128> out(sys::path::filename(inputFile));
    const char *ext = emit == EmitKind::SharedObject ? ".so"
                      : emit == EmitKind::StaticLib  ? ".a"
                      : emit == EmitKind::MLIR       ? ".mlir"
                      : emit == EmitKind::LLVM       ? ".ll"
                                                     : ".o";
    sys::path::replace_extension(out, ext);
    options.outputPath = std::string(out);
  } else {
    options.outputPath = outputFile;
  }
  for (int i = 1; i < argc; ++i)
    options.commandLine.push_back(argv[i]);
  // Progress only for a person watching a terminal; CI logs stay quiet.
  bool progress = !quiet && ::isatty(STDERR_FILENO);
  return (int)glmc::driver::compile(options, errs(), progress);
}
