//===- Exporter.h - glm dialect → ONNX ---------------------------*- C++ -*-===//
//
// Writes a module at the glm level (after import, canonicalisation or
// compression) back as an ONNX model (opset 17, weights inline), so that a
// pruned and trimmed model can be checked and used by other tools (ONNX
// Runtime, netron, onnx's own counters). The inverse of the importer: one
// ONNX node per glm op (a few fused glm ops, silu and gelu, are written as
// their opset-17 decompositions), node names from the ops' NameLoc, graph
// input and output names from the function's glm.name attributes. Nothing
// here sees ONNX or protobuf types; onnx/OnnxModel.h is the boundary.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_IMPORTER_EXPORTER_H
#define GLMC_COMPILER_IMPORTER_EXPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace glmc::importer {

struct ExportOptions {
  std::string producerName = "glmc";
  std::string producerVersion;
};

/// Writes the function marked glm.entry (or the only function) of `module`
/// to `path`. Errors (an op without an ONNX form, a type ONNX lacks, a file
/// that cannot be written) are reported to the context's diagnostic handler,
/// located at the offending op.
mlir::LogicalResult exportOnnxFile(mlir::ModuleOp module, const std::string &path,
                                   const ExportOptions &options = {});

} // namespace glmc::importer

#endif // GLMC_COMPILER_IMPORTER_EXPORTER_H
