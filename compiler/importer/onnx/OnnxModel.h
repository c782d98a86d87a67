//===- OnnxModel.h - a plain view of an ONNX model --------------*- C++ -*-===//
//
// The exception boundary of glmc. OnnxModel.cpp is the only code that
// includes ONNX or protobuf headers and the only code built with
// -fexceptions; everything it hands over is plain C++ without ONNX types,
// and every error comes back as a value. Weight bytes are never copied when
// they can be referenced: initializer raw_data is moved out of the protobuf
// into shared storage, external data is memory-mapped.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_IMPORTER_ONNX_ONNXMODEL_H
#define GLMC_COMPILER_IMPORTER_ONNX_ONNXMODEL_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace glmc::importer::onnx {

/// ONNX TensorProto.DataType values (stable in the ONNX spec).
enum class DataType : int32_t {
  Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7,
  String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14,
  Complex128 = 15, BFloat16 = 16,
  // Named so that refusals say which type; glmc has no element type for them.
  Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19, Float8E5M2FNUZ = 20, UInt4 = 21,
  Int4 = 22, Float4E2M1 = 23, Float8E8M0 = 24, UInt2 = 25, Int2 = 26,
};

/// Bytes per element of a data type, 0 for unsupported types.
size_t dataTypeSize(DataType type);
const char *dataTypeName(DataType type);

/// Tensor bytes, little-endian, dense row-major, kept alive by `owner`.
struct TensorData {
  std::string name;
  DataType dtype = DataType::Undefined;
  std::vector<int64_t> dims;
  const char *data = nullptr;
  size_t size = 0;
  /// Keeps `data` alive (a moved-out protobuf string, an mmap, or a buffer).
  std::shared_ptr<const void> owner;
};

struct Attribute {
  enum class Kind { Float, Int, String, Tensor, Floats, Ints, Strings, Graph, Other };
  std::string name;
  Kind kind = Kind::Other;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::shared_ptr<TensorData> tensor;
};

struct ValueInfo {
  std::string name;
  DataType dtype = DataType::Undefined;
  bool hasShape = false;
  /// -1 for a dimension without a value (symbolic or unknown).
  std::vector<int64_t> dims;
  /// dim_param names ("batch"), empty where absent.
  std::vector<std::string> dimParams;
};

struct Node {
  std::string name;
  std::string opType;
  std::string domain;
  /// Empty strings are omitted optional inputs/outputs, as in ONNX.
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<Attribute> attributes;

  const Attribute *getAttribute(const std::string &attrName) const;
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> valueInfos;
  std::vector<TensorData> initializers;
  std::vector<Node> nodes;
};

struct Model {
  std::string path;
  int64_t irVersion = 0;
  /// (domain, version); "" is the default ONNX domain.
  std::vector<std::pair<std::string, int64_t>> opsets;
  std::string producerName;
  std::string producerVersion;
  Graph graph;
  /// Non-fatal findings (e.g. the checker does not know an opset).
  std::vector<std::string> warnings;
  /// Address ranges of the read-only external data mappings. They stay
  /// mapped while a tensor referencing them lives (TensorData::owner).
  std::vector<std::pair<const char *, size_t>> fileMappings;

  int64_t getOpsetVersion(const std::string &domain = "") const;
  /// The default-domain opset the file had before ONNX's version converter
  /// upgraded it (0 when it was not converted). Some adapters drop
  /// semantics the importer must restore (Resize-10's asymmetric
  /// coordinates).
  int64_t convertedFromOpset = 0;
};

struct LoadOptions {
  /// Run onnx::checker (version complaints are warnings, not errors).
  bool check = true;
  /// Run libonnx's shape inference (opset <= 17) to seed value_info. Off by
  /// default: libonnx 1.12 dereferences out of bounds on some malformed
  /// models (e.g. a Conv whose input and weight ranks differ) and crashes
  /// the process, which no catch can stop. glmc's own per-op inference
  /// (ShapeInferenceOpInterface) gives the same shapes with located errors.
  bool inferShapes = false;
};

/// Either a model or an error message that names the file and the reason.
struct LoadResult {
  std::unique_ptr<Model> model;
  std::string error;
};

/// Parses an ONNX file, resolves external data (memory-mapped, confined to
/// the model's directory), runs the checker and shape inference, and
/// returns the plain view. Never throws.
LoadResult loadModel(const std::string &path, const LoadOptions &options = {});

/// Same, from bytes in memory (external data resolved against `baseDir`).
LoadResult loadModelFromBytes(const std::string &bytes, const std::string &displayName,
                              const std::string &baseDir, const LoadOptions &options = {});

/// Serialises `model` (weights inline, one file) to `path`, running the
/// checker on it first. Returns "" or an error. Never throws.
std::string saveModel(const Model &model, const std::string &path);

} // namespace glmc::importer::onnx

#endif // GLMC_COMPILER_IMPORTER_ONNX_ONNXMODEL_H
