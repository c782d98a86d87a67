//===- Importer.h - ONNX → glm dialect ---------------------------*- C++ -*-===//
//
// Builds a module with one function (the model) from an ONNX file: one glm
// op per ONNX node with NameLoc(node name), weights as dense_resource blobs
// that reference the file's bytes (no copies), types from ONNX value_info
// refined by each op's shape inference. Nothing here sees ONNX or protobuf
// types; onnx/OnnxModel.h is the boundary.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_IMPORTER_IMPORTER_H
#define GLMC_COMPILER_IMPORTER_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace glmc::importer {

struct ImportOptions {
  /// Name of the model function.
  std::string functionName = "main";
  /// Run libonnx's checker.
  bool check = true;
  /// Also run libonnx's shape inference (unsafe on malformed models; see
  /// onnx::LoadOptions::inferShapes).
  bool onnxShapeInference = false;
};

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// Non-fatal findings to show the user (version conversion, checker).
  std::vector<std::string> warnings;
  /// Producer and opset, for the artifact metadata.
  std::string producer;
  int64_t opsetVersion = 0;
  /// Address ranges of the external data files, mapped read-only; the
  /// module's weight blobs point into them (and keep them mapped).
  std::vector<llvm::ArrayRef<char>> fileMappings;
};

/// Imports `path`. On failure the module is null and the error has been
/// reported to the context's diagnostic handler, located at the file or at
/// the offending node.
ImportResult importOnnxFile(mlir::MLIRContext &context, const std::string &path,
                            const ImportOptions &options = {});

/// The ONNX op types the importer maps (sorted), for messages and docs.
std::vector<std::string> getSupportedOnnxOps();

} // namespace glmc::importer

#endif // GLMC_COMPILER_IMPORTER_IMPORTER_H
