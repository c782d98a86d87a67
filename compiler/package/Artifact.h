//===- Artifact.h - what goes into model.so besides the code ----*- C++ -*-===//
//
// The compiler side of runtime/include/glmrt/artifact_abi.h: the header
// section, the descriptor, the weights section and the host glue (memory
// through the runtime's host table) are written as LLVM IR globals and
// functions into the model's module, which is then compiled and linked.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_PACKAGE_ARTIFACT_H
#define GLMC_COMPILER_PACKAGE_ARTIFACT_H

#include "compiler/pipeline/Targets.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/IR/Module.h"

#include <cstdint>
#include <string>
#include <vector>

namespace glmc::package {

struct TensorSpec {
  std::string name;
  uint32_t dtype = 0;        ///< glm_dtype_t
  std::vector<int64_t> dims; ///< -1 dynamic
};

struct EntrySpec {
  std::string name;   ///< "main"
  std::string symbol; ///< glm_entry_main
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

struct ArtifactSpec {
  std::string modelName;
  pipeline::TargetInfo target;
  std::vector<EntrySpec> entries;
  llvm::ArrayRef<char> weights;
  /// Weights go to a side file named `weightsFile` instead of the .so.
  bool externalWeights = false;
  std::string weightsFile;
  std::string metadataJson;
};

/// Adds the header, descriptor, weights and host glue to `module`.
bool addArtifactGlobals(llvm::Module &module, const ArtifactSpec &spec, std::string &error);

/// Links one object into a shared library with ld.lld: only the descriptor
/// exported, no initializers, deterministic output.
bool linkSharedObject(llvm::ArrayRef<char> object, const std::string &outputPath,
                      const pipeline::TargetInfo &target, std::string &error);

/// Writes one object into a static archive (`--emit=static-lib`).
bool writeStaticLibrary(llvm::ArrayRef<char> object, const std::string &outputPath,
                        std::string &error);

/// The glm_dtype_t of an MLIR element type name ("f32", "i64", "ui8", "i1").
uint32_t dtypeFromName(llvm::StringRef name);

} // namespace glmc::package

#endif // GLMC_COMPILER_PACKAGE_ARTIFACT_H
