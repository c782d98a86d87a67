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

/// One layer of the per-layer profile (glmc --profile): what the model's
/// glm_profile_mark(id) calls stand for, indexed by id.
struct ProfileLayerSpec {
  std::string name;  ///< ONNX node names, " + " between those fused
  std::string op;    ///< glm op names, "+" between them
  std::string shape; ///< output shape, e.g. "1x64x56x56"
  uint64_t flops = 0; ///< dynamic dims counted as 1
  uint64_t bytes = 0;
};

struct ArtifactSpec {
  std::string modelName;
  pipeline::TargetInfo target;
  std::vector<EntrySpec> entries;
  /// Where the weights blob goes.
  enum class Weights {
    /// An LLVM constant in the module (`weights`): --emit=llvm/obj, tests.
    InModule,
    /// A separate object written by writeWeightsObject and linked in; the
    /// module only declares `glm_weights`.
    Object,
    /// A side file named `weightsFile` next to the artifact.
    External,
  };
  Weights placement = Weights::InModule;
  /// The blob itself, for InModule.
  llvm::ArrayRef<char> weights;
  /// Size and glm_abi_checksum of the blob, for Object and External.
  uint64_t weightsSize = 0;
  uint64_t weightsChecksum = 0;
  std::string weightsFile;
  std::string metadataJson;
  /// Empty unless compiled with --profile.
  std::vector<ProfileLayerSpec> profileLayers;

  bool externalWeights() const { return placement == Weights::External; }
};

/// Adds the header, descriptor, weights and host glue to `module`.
bool addArtifactGlobals(llvm::Module &module, const ArtifactSpec &spec, std::string &error);

/// Links one object into a shared library with ld.lld: only the descriptor
/// exported, no initializers, deterministic output.
/// `extraObjects` are object files linked in after it (the weights object).
bool linkSharedObject(llvm::ArrayRef<char> object, const std::string &outputPath,
                      const pipeline::TargetInfo &target, std::string &error,
                      const std::vector<std::string> &extraObjects = {});

/// Writes one object into a static archive (`--emit=static-lib`) as
/// model.o, then `extraObjects` (path, member name).
bool writeStaticLibrary(llvm::ArrayRef<char> object, const std::string &outputPath,
                        std::string &error,
                        const std::vector<std::pair<std::string, std::string>> &extraObjects = {});

/// The glm_dtype_t of an MLIR element type name ("f32", "i64", "ui8", "i1").
uint32_t dtypeFromName(llvm::StringRef name);

} // namespace glmc::package

#endif // GLMC_COMPILER_PACKAGE_ARTIFACT_H
