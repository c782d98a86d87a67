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

enum class EmitKind { SharedObject, StaticLib, MLIR, LLVM, Object };

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
  int optLevel = 3;
  /// Command line as given, recorded in the artifact metadata.
  std::vector<std::string> commandLine;
};

} // namespace glmc::pipeline

#endif // GLMC_COMPILER_PIPELINE_OPTIONS_H
