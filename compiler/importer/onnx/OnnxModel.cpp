//===- OnnxModel.cpp - read ONNX files with libonnx (exceptions inside) ---===//
//
// The only translation unit that includes ONNX/protobuf headers and the only
// one compiled with -fexceptions. Every public function catches everything.
//
//===----------------------------------------------------------------------===//

#include "compiler/importer/onnx/OnnxModel.h"

#include <onnx/checker.h>
#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace glmc::importer::onnx {

namespace {

/// An error that aborts loading; caught at the boundary.
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string &msg) { throw LoadError(msg); }

/// A read-only memory mapping of a whole file.
struct Mapping {
  void *addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr && size)
      munmap(addr, size);
  }
};

std::string dirName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

std::string realPath(const std::string &path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf))
    return "";
  return buf;
}

/// Resolves ONNX external data, mapping each file once.
class ExternalData {
public:
  ExternalData(std::string modelName, std::string baseDir)
      : modelName(std::move(modelName)), baseDir(std::move(baseDir)) {}

  /// Returns the bytes [offset, offset+length) of `location`.
  const char *get(const std::string &tensorName, const std::string &location, int64_t offset,
                  int64_t length, size_t expected, std::shared_ptr<const void> &owner,
                  size_t &size) {
    // The location must stay inside the model's directory (no absolute
    // paths, no "..", no symlink escaping it).
    if (location.empty())
      fail("initializer '" + tensorName + "' has external data without a location");
    if (location[0] == '/' || location.find("..") != std::string::npos ||
        location.find('\\') != std::string::npos)
      fail("initializer '" + tensorName + "' has external data location '" + location +
           "' outside the model's directory; only plain relative paths are allowed");
    std::string full = baseDir + "/" + location;
    std::string realBase = realPath(baseDir);
    std::string realFull = realPath(full);
    if (realFull.empty())
      fail("external data file '" + full + "' for initializer '" + tensorName +
           "' is missing or unreadable (" + std::strerror(errno) +
           "); copy it next to the model or re-export with embedded weights");
    if (realBase.empty() || realFull.compare(0, realBase.size() + 1, realBase + "/") != 0)
      fail("external data file '" + location + "' for initializer '" + tensorName +
           "' resolves outside the model's directory");
    std::shared_ptr<Mapping> &map = files[realFull];
    if (!map) {
      int fd = ::open(realFull.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        fail("cannot open external data file '" + full + "': " + std::strerror(errno));
      struct stat st;
      if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail("external data '" + full + "' is not a regular file");
      }
      map = std::make_shared<Mapping>();
      map->size = st.st_size;
      if (map->size) {
        void *addr = mmap(nullptr, map->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (addr == MAP_FAILED) {
          ::close(fd);
          fail("cannot map external data file '" + full + "': " + std::strerror(errno));
        }
        map->addr = addr;
      }
      ::close(fd);
    }
    if (offset < 0 || (size_t)offset > map->size)
      fail("initializer '" + tensorName + "' has external data offset " + std::to_string(offset) +
           " past the end of '" + location + "' (" + std::to_string(map->size) + " bytes)");
    size_t len = length >= 0 ? (size_t)length : map->size - offset;
    if (offset + len > map->size)
      fail("initializer '" + tensorName + "' needs " + std::to_string(len) + " bytes at offset " +
           std::to_string(offset) + " of '" + location + "', which has only " +
           std::to_string(map->size) + " bytes (truncated file?)");
    if (len != expected)
      fail("initializer '" + tensorName + "' has " + std::to_string(len) +
           " bytes of external data, its shape and type need " + std::to_string(expected));
    owner = map;
    size = len;
    return static_cast<const char *>(map->addr) + offset;
  }

  /// The address ranges of the files mapped so far.
  std::vector<std::pair<const char *, size_t>> mappings() const {
    std::vector<std::pair<const char *, size_t>> out;
    for (const auto &[name, map] : files)
      if (map->addr)
        out.emplace_back(static_cast<const char *>(map->addr), map->size);
    return out;
  }

private:
  std::string modelName;
  std::string baseDir;
  std::map<std::string, std::shared_ptr<Mapping>> files;
};

DataType toDataType(int32_t t) { return static_cast<DataType>(t); }

int64_t numElements(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return -1;
    if (d != 0 && n > INT64_MAX / d)
      return -1;
    n *= d;
  }
  return n;
}

bool isFourBit(DataType type) {
  return type == DataType::Int4 || type == DataType::UInt4 || type == DataType::Float4E2M1;
}

/// 4-bit tensors come packed two per byte (the first element in the low
/// nibble); glmc holds one per byte, in the low nibble (as the runtime and
/// ml_dtypes do), so they are unpacked once here.
void unpackNibbles(TensorData &out, int64_t n) {
  auto buf = std::make_shared<std::string>((size_t)n, '\0');
  const unsigned char *src = reinterpret_cast<const unsigned char *>(out.data);
  for (int64_t i = 0; i < n; ++i)
    (*buf)[i] = char((src[i / 2] >> (4 * (i % 2))) & 0xf);
  out.data = buf->data();
  out.size = buf->size();
  out.owner = buf;
}

TensorData convertTensorBytes(::onnx::TensorProto &t, ExternalData &ext, const std::string &context);

/// Converts a TensorProto into TensorData, moving raw bytes out of it.
TensorData convertTensor(::onnx::TensorProto &t, ExternalData &ext, const std::string &context) {
  TensorData out = convertTensorBytes(t, ext, context);
  if (isFourBit(out.dtype))
    unpackNibbles(out, numElements(out.dims));
  return out;
}

/// convertTensor's bytes as the file holds them (4-bit values packed).
TensorData convertTensorBytes(::onnx::TensorProto &t, ExternalData &ext, const std::string &context) {
  TensorData out;
  out.name = t.name();
  out.dtype = toDataType(t.data_type());
  out.dims.assign(t.dims().begin(), t.dims().end());
  std::string what = context.empty() ? "tensor '" + out.name + "'" : context;
  size_t elem = dataTypeSize(out.dtype);
  if (elem == 0)
    fail(what + " has unsupported data type " + dataTypeName(out.dtype));
  int64_t n = numElements(out.dims);
  if (n < 0)
    fail(what + " has invalid dims");
  size_t expected = isFourBit(out.dtype) ? ((size_t)n + 1) / 2 : (size_t)n * elem;
  if (t.has_segment())
    fail(what + " is segmented, which is not supported");

  if (t.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::stoll(kv.value());
      else if (kv.key() == "length")
        length = std::stoll(kv.value());
    }
    out.data = ext.get(out.name, location, offset, length, expected, out.owner, out.size);
    return out;
  }
  if (t.has_raw_data()) {
    auto bytes = std::make_shared<std::string>();
    bytes->swap(*t.mutable_raw_data());
    if (bytes->size() != expected)
      fail(what + " has " + std::to_string(bytes->size()) + " bytes of raw data, its shape and type need " +
           std::to_string(expected));
    out.data = bytes->data();
    out.size = bytes->size();
    out.owner = bytes;
    return out;
  }
  // Typed repeated fields: convert into an owned little-endian buffer.
  auto buf = std::make_shared<std::string>(expected, '\0');
  char *p = buf->data();
  auto check = [&](int64_t have) {
    if (have != n)
      fail(what + " has " + std::to_string(have) + " values, its shape needs " + std::to_string(n));
  };
  if (isFourBit(out.dtype)) {
    // Two 4-bit values per int32_data entry, in its low byte.
    if ((size_t)t.int32_data_size() != expected)
      fail(what + " has " + std::to_string(t.int32_data_size()) + " packed int32_data entries, its shape needs " +
           std::to_string(expected));
    for (size_t i = 0; i < expected; ++i)
      p[i] = char(t.int32_data((int)i) & 0xff);
    t.clear_int32_data();
    out.data = buf->data();
    out.size = buf->size();
    out.owner = buf;
    return out;
  }
  switch (out.dtype) {
  case DataType::Float:
    check(t.float_data_size());
    memcpy(p, t.float_data().data(), expected);
    break;
  case DataType::Double:
    check(t.double_data_size());
    memcpy(p, t.double_data().data(), expected);
    break;
  case DataType::Int64:
    check(t.int64_data_size());
    memcpy(p, t.int64_data().data(), expected);
    break;
  case DataType::UInt32:
  case DataType::UInt64:
    check(t.uint64_data_size());
    for (int64_t i = 0; i < n; ++i) {
      uint64_t v = t.uint64_data(i);
      memcpy(p + i * elem, &v, elem);
    }
    break;
  case DataType::Int32:
  case DataType::Int16:
  case DataType::UInt16:
  case DataType::Int8:
  case DataType::UInt8:
  case DataType::Bool:
  case DataType::Float16:
  case DataType::BFloat16:
  case DataType::Float8E4M3FN:
  case DataType::Float8E4M3FNUZ:
  case DataType::Float8E5M2:
  case DataType::Float8E5M2FNUZ:
    check(t.int32_data_size());
    for (int64_t i = 0; i < n; ++i) {
      int32_t v = t.int32_data(i);
      memcpy(p + i * elem, &v, elem); // little-endian truncation
    }
    break;
  default:
    fail(what + " has unsupported data type " + dataTypeName(out.dtype));
  }
  t.clear_float_data();
  t.clear_double_data();
  t.clear_int64_data();
  t.clear_int32_data();
  t.clear_uint64_data();
  out.data = buf->data();
  out.size = buf->size();
  out.owner = buf;
  return out;
}

ValueInfo convertValueInfo(const ::onnx::ValueInfoProto &v) {
  ValueInfo out;
  out.name = v.name();
  if (!v.has_type() || !v.type().has_tensor_type())
    return out;
  const auto &tt = v.type().tensor_type();
  out.dtype = toDataType(tt.elem_type());
  if (tt.has_shape()) {
    out.hasShape = true;
    for (const auto &d : tt.shape().dim()) {
      out.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
      out.dimParams.push_back(d.has_dim_param() ? d.dim_param() : "");
    }
  }
  return out;
}

Attribute convertAttribute(::onnx::AttributeProto &a, ExternalData &ext, const std::string &node) {
  Attribute out;
  out.name = a.name();
  switch (a.type()) {
  case ::onnx::AttributeProto::FLOAT:
    out.kind = Attribute::Kind::Float;
    out.f = a.f();
    break;
  case ::onnx::AttributeProto::INT:
    out.kind = Attribute::Kind::Int;
    out.i = a.i();
    break;
  case ::onnx::AttributeProto::STRING:
    out.kind = Attribute::Kind::String;
    out.s = a.s();
    break;
  case ::onnx::AttributeProto::TENSOR:
    out.kind = Attribute::Kind::Tensor;
    out.tensor = std::make_shared<TensorData>(
        convertTensor(*a.mutable_t(), ext, "attribute '" + a.name() + "' of node '" + node + "'"));
    break;
  case ::onnx::AttributeProto::FLOATS:
    out.kind = Attribute::Kind::Floats;
    out.floats.assign(a.floats().begin(), a.floats().end());
    break;
  case ::onnx::AttributeProto::INTS:
    out.kind = Attribute::Kind::Ints;
    out.ints.assign(a.ints().begin(), a.ints().end());
    break;
  case ::onnx::AttributeProto::STRINGS:
    out.kind = Attribute::Kind::Strings;
    out.strings.assign(a.strings().begin(), a.strings().end());
    break;
  case ::onnx::AttributeProto::GRAPH:
  case ::onnx::AttributeProto::GRAPHS:
    out.kind = Attribute::Kind::Graph;
    break;
  default:
    out.kind = Attribute::Kind::Other;
    break;
  }
  return out;
}

/// Whether a checker complaint is about versions the 1.12 checker does not
/// know (or about operators, which the importer reports with the node).
bool isVersionComplaint(const std::string &msg) {
  for (const char *needle : {"ir_version", "IR version", "opset", "domain_version", "No Op registered",
                             "No opset import", "is under development", "higher than"})
    if (msg.find(needle) != std::string::npos)
      return true;
  return false;
}

/// Topological order, SSA form and dangling references, checked before
/// libonnx's checker so that the message names the node.
void validateStructure(const ::onnx::GraphProto &g, const std::string &path) {
  std::map<std::string, std::string> producer; // value → node (or "" for inputs)
  for (const auto &v : g.input())
    producer.emplace(v.name(), "");
  for (const auto &t : g.initializer())
    producer.emplace(t.name(), "");
  int index = 0;
  for (const auto &n : g.node()) {
    std::string name = n.name().empty() ? n.op_type() + "#" + std::to_string(index) : n.name();
    for (const auto &in : n.input())
      if (!in.empty() && !producer.count(in))
        fail("node '" + name + "' (" + n.op_type() + ") reads '" + in +
             "', which no earlier node, initializer or graph input produces (the graph must be "
             "topologically sorted and complete)");
    for (const auto &out : n.output()) {
      if (out.empty())
        continue;
      auto [it, inserted] = producer.emplace(out, name);
      if (!inserted)
        fail("node '" + name + "' writes '" + out + "', which " +
             (it->second.empty() ? std::string("is a graph input or initializer")
                                 : "node '" + it->second + "' already produces") +
             "; ONNX graphs must be in SSA form");
    }
    ++index;
  }
  for (const auto &v : g.output())
    if (!producer.count(v.name()))
      fail("graph output '" + v.name() + "' is not produced by any node");
}

std::unique_ptr<Model> convertModel(::onnx::ModelProto &proto, const std::string &path,
                                    const std::string &baseDir, const LoadOptions &options) {
  auto model = std::make_unique<Model>();
  model->path = path;
  if (!proto.has_graph())
    fail("'" + path + "' is not an ONNX model: it has no graph (is it a protobuf ModelProto?)");
  if (proto.ir_version() <= 0 || proto.opset_import_size() == 0)
    fail("'" + path + "' is not an ONNX model: missing ir_version or opset_import");

  model->irVersion = proto.ir_version();
  model->producerName = proto.producer_name();
  model->producerVersion = proto.producer_version();
  for (const auto &op : proto.opset_import())
    model->opsets.emplace_back(op.domain() == "ai.onnx" ? "" : op.domain(), op.version());

  // Old opsets are upgraded by ONNX's version converter; the importer
  // handles opsets 11 and newer itself.
  int64_t opset = model->getOpsetVersion();
  if (opset > 0 && opset < 11) {
    try {
      ::onnx::ModelProto converted = ::onnx::version_conversion::ConvertVersion(proto, 13);
      proto.Swap(&converted);
      model->convertedFromOpset = opset;
      model->warnings.push_back("converted the model from opset " + std::to_string(opset) +
                                " to opset 13");
      model->opsets.clear();
      for (const auto &op : proto.opset_import())
        model->opsets.emplace_back(op.domain() == "ai.onnx" ? "" : op.domain(), op.version());
    } catch (const std::exception &e) {
      model->warnings.push_back(std::string("could not convert opset ") + std::to_string(opset) +
                                " to 13 (" + e.what() + "); importing as is");
    }
  }

  validateStructure(proto.graph(), path);

  // External data first: a location outside the model's directory or a
  // missing file gets glmc's own message before the checker looks at it.
  ExternalData ext(path, baseDir);
  std::map<std::string, TensorData> external;
  for (auto &t : *proto.mutable_graph()->mutable_initializer())
    if (t.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL)
      external.emplace(t.name(), convertTensor(t, ext, "initializer '" + t.name() + "'"));
  model->fileMappings = ext.mappings();

  if (options.check) {
    // libonnx 1.12 knows IR <= 8 and opset <= 17: check newer files as IR 8
    // and treat version complaints as warnings. The graph is checked with
    // the model's directory as the base of external data.
    try {
      ::onnx::checker::CheckerContext ctx;
      ctx.set_ir_version(std::min<int64_t>(proto.ir_version(), 8));
      std::unordered_map<std::string, int> opsetMap;
      for (const auto &op : proto.opset_import())
        opsetMap[op.domain()] = (int)op.version();
      ctx.set_opset_imports(opsetMap);
      ctx.set_model_dir(baseDir);
      ::onnx::checker::LexicalScopeContext lex;
      ::onnx::checker::check_graph(proto.graph(), ctx, lex);
    } catch (const std::exception &e) {
      std::string msg = e.what();
      // Past opset 17 the checker validates nodes against older schemas;
      // its complaints are then advisory and glmc's own verifiers decide.
      if (!isVersionComplaint(msg) && opset <= 17)
        fail("'" + path + "' fails the ONNX checker: " + msg);
      model->warnings.push_back("ONNX checker: " + msg);
    }
  }
  if (options.inferShapes && opset <= 17) {
    try {
      ::onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*strict_mode=*/0,
                                         /*data_prop=*/true);
      ::onnx::shape_inference::InferShapes(proto, ::onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception &e) {
      model->warnings.push_back(std::string("ONNX shape inference: ") + e.what());
    }
  }

  ::onnx::GraphProto &g = *proto.mutable_graph();
  if (g.sparse_initializer_size() > 0)
    fail("'" + path + "' has sparse initializers, which glmc does not support; densify them");
  Graph &graph = model->graph;
  graph.name = g.name();
  for (auto &v : g.input())
    graph.inputs.push_back(convertValueInfo(v));
  for (auto &v : g.output())
    graph.outputs.push_back(convertValueInfo(v));
  for (auto &v : g.value_info())
    graph.valueInfos.push_back(convertValueInfo(v));
  for (auto &t : *g.mutable_initializer()) {
    auto it = external.find(t.name());
    if (it != external.end())
      graph.initializers.push_back(std::move(it->second));
    else
      graph.initializers.push_back(convertTensor(t, ext, "initializer '" + t.name() + "'"));
  }
  g.clear_initializer();
  int index = 0;
  for (auto &n : *g.mutable_node()) {
    Node node;
    node.name = n.name().empty() ? n.op_type() + "#" + std::to_string(index) : n.name();
    node.opType = n.op_type();
    node.domain = n.domain() == "ai.onnx" ? "" : n.domain();
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (auto &a : *n.mutable_attribute())
      node.attributes.push_back(convertAttribute(a, ext, node.name));
    graph.nodes.push_back(std::move(node));
    ++index;
  }
  return model;
}

/// Every message names the model file.
std::string withPath(const std::string &path, const std::string &msg) {
  if (msg.find(path) != std::string::npos)
    return msg;
  return "'" + path + "': " + msg;
}

LoadResult loadFromStream(google::protobuf::io::ZeroCopyInputStream &stream, const std::string &path,
                          const std::string &baseDir, const LoadOptions &options) {
  LoadResult result;
  try {
    ::onnx::ModelProto proto;
    google::protobuf::io::CodedInputStream coded(&stream);
    coded.SetTotalBytesLimit(INT_MAX);
    if (!proto.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
      fail("'" + path + "' is not a valid ONNX protobuf (corrupt or truncated file)");
    result.model = convertModel(proto, path, baseDir, options);
  } catch (const LoadError &e) {
    result.error = withPath(path, e.what());
  } catch (const std::exception &e) {
    result.error = "'" + path + "': " + e.what();
  } catch (...) {
    result.error = "'" + path + "': unknown error while reading the ONNX file";
  }
  return result;
}

} // namespace

size_t dataTypeSize(DataType type) {
  switch (type) {
  case DataType::Float: case DataType::Int32: case DataType::UInt32: return 4;
  case DataType::Double: case DataType::Int64: case DataType::UInt64: return 8;
  case DataType::Float16: case DataType::BFloat16: case DataType::Int16: case DataType::UInt16: return 2;
  case DataType::Int8: case DataType::UInt8: case DataType::Bool: return 1;
  // One byte per element in memory (4-bit values unpacked, see convertTensor).
  case DataType::Float8E4M3FN: case DataType::Float8E4M3FNUZ: case DataType::Float8E5M2:
  case DataType::Float8E5M2FNUZ: case DataType::Int4: case DataType::UInt4:
  case DataType::Float4E2M1: return 1;
  default: return 0;
  }
}

const char *dataTypeName(DataType type) {
  switch (type) {
  case DataType::Float: return "float32";
  case DataType::UInt8: return "uint8";
  case DataType::Int8: return "int8";
  case DataType::UInt16: return "uint16";
  case DataType::Int16: return "int16";
  case DataType::Int32: return "int32";
  case DataType::Int64: return "int64";
  case DataType::String: return "string";
  case DataType::Bool: return "bool";
  case DataType::Float16: return "float16";
  case DataType::Double: return "float64";
  case DataType::UInt32: return "uint32";
  case DataType::UInt64: return "uint64";
  case DataType::Complex64: return "complex64";
  case DataType::Complex128: return "complex128";
  case DataType::BFloat16: return "bfloat16";
  case DataType::Float8E4M3FN: return "float8e4m3fn";
  case DataType::Float8E4M3FNUZ: return "float8e4m3fnuz";
  case DataType::Float8E5M2: return "float8e5m2";
  case DataType::Float8E5M2FNUZ: return "float8e5m2fnuz";
  case DataType::UInt4: return "uint4";
  case DataType::Int4: return "int4";
  case DataType::Float4E2M1: return "float4e2m1";
  case DataType::Float8E8M0: return "float8e8m0";
  case DataType::UInt2: return "uint2";
  case DataType::Int2: return "int2";
  default: return "undefined";
  }
}

const Attribute *Node::getAttribute(const std::string &attrName) const {
  for (const Attribute &a : attributes)
    if (a.name == attrName)
      return &a;
  return nullptr;
}

int64_t Model::getOpsetVersion(const std::string &domain) const {
  for (const auto &[d, v] : opsets)
    if (d == domain)
      return v;
  return 0;
}

/// Textual ONNX (onnx/defs/parser.h syntax), used by glmc's lit tests.
LoadResult loadTextModel(const std::string &path, const LoadOptions &options) {
  LoadResult result;
  try {
    std::ifstream in(path);
    if (!in)
      fail("cannot open '" + path + "': " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    std::string src = text.str();
    ::onnx::ModelProto proto;
    ::onnx::Common::Status status = ::onnx::OnnxParser::Parse(proto, src.c_str());
    if (!status.IsOK())
      fail("'" + path + "' is not valid textual ONNX: " + status.ErrorMessage());
    result.model = convertModel(proto, path, dirName(path), options);
  } catch (const LoadError &e) {
    result.error = withPath(path, e.what());
  } catch (const std::exception &e) {
    result.error = "'" + path + "': " + e.what();
  } catch (...) {
    result.error = "'" + path + "': unknown error while reading the ONNX file";
  }
  return result;
}

LoadResult loadModel(const std::string &path, const LoadOptions &options) {
  if (path.size() > 9 && path.compare(path.size() - 9, 9, ".onnxtext") == 0)
    return loadTextModel(path, options);
  LoadResult result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.error = "cannot open '" + path + "': " + std::strerror(errno);
    return result;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    result.error = "'" + path + "' is not a regular file";
    return result;
  }
  if (st.st_size == 0) {
    ::close(fd);
    result.error = "'" + path + "' is empty, not an ONNX model";
    return result;
  }
  {
    google::protobuf::io::FileInputStream stream(fd);
    result = loadFromStream(stream, path, dirName(path), options);
  }
  ::close(fd);
  return result;
}

LoadResult loadModelFromBytes(const std::string &bytes, const std::string &displayName,
                              const std::string &baseDir, const LoadOptions &options) {
  google::protobuf::io::ArrayInputStream stream(bytes.data(), (int)bytes.size());
  return loadFromStream(stream, displayName, baseDir, options);
}


namespace {

void fillTensor(const TensorData &t, ::onnx::TensorProto &proto) {
  proto.set_name(t.name);
  proto.set_data_type(static_cast<int32_t>(t.dtype));
  for (int64_t d : t.dims)
    proto.add_dims(d);
  proto.set_raw_data(t.data, t.size);
}

void fillValueInfo(const ValueInfo &v, ::onnx::ValueInfoProto &proto) {
  proto.set_name(v.name);
  auto *tt = proto.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.dtype));
  if (!v.hasShape)
    return;
  auto *shape = tt->mutable_shape();
  for (size_t i = 0; i < v.dims.size(); ++i) {
    auto *d = shape->add_dim();
    if (v.dims[i] >= 0)
      d->set_dim_value(v.dims[i]);
    else if (i < v.dimParams.size() && !v.dimParams[i].empty())
      d->set_dim_param(v.dimParams[i]);
  }
}

} // namespace

std::string saveModel(const Model &model, const std::string &path) {
  try {
    ::onnx::ModelProto proto;
    proto.set_ir_version(model.irVersion);
    proto.set_producer_name(model.producerName);
    proto.set_producer_version(model.producerVersion);
    for (const auto &[domain, version] : model.opsets) {
      auto *o = proto.add_opset_import();
      o->set_domain(domain);
      o->set_version(version);
    }
    auto *g = proto.mutable_graph();
    g->set_name(model.graph.name);
    for (const ValueInfo &v : model.graph.inputs)
      fillValueInfo(v, *g->add_input());
    for (const ValueInfo &v : model.graph.outputs)
      fillValueInfo(v, *g->add_output());
    for (const TensorData &t : model.graph.initializers)
      fillTensor(t, *g->add_initializer());
    for (const Node &n : model.graph.nodes) {
      auto *node = g->add_node();
      node->set_name(n.name);
      node->set_op_type(n.opType);
      if (!n.domain.empty())
        node->set_domain(n.domain);
      for (const std::string &i : n.inputs)
        node->add_input(i);
      for (const std::string &o : n.outputs)
        node->add_output(o);
      for (const Attribute &a : n.attributes) {
        auto *attr = node->add_attribute();
        attr->set_name(a.name);
        switch (a.kind) {
        case Attribute::Kind::Float:
          attr->set_type(::onnx::AttributeProto::FLOAT);
          attr->set_f(a.f);
          break;
        case Attribute::Kind::Int:
          attr->set_type(::onnx::AttributeProto::INT);
          attr->set_i(a.i);
          break;
        case Attribute::Kind::String:
          attr->set_type(::onnx::AttributeProto::STRING);
          attr->set_s(a.s);
          break;
        case Attribute::Kind::Floats:
          attr->set_type(::onnx::AttributeProto::FLOATS);
          for (float f : a.floats)
            attr->add_floats(f);
          break;
        case Attribute::Kind::Ints:
          attr->set_type(::onnx::AttributeProto::INTS);
          for (int64_t i : a.ints)
            attr->add_ints(i);
          break;
        case Attribute::Kind::Strings:
          attr->set_type(::onnx::AttributeProto::STRINGS);
          for (const std::string &str : a.strings)
            attr->add_strings(str);
          break;
        case Attribute::Kind::Tensor:
          attr->set_type(::onnx::AttributeProto::TENSOR);
          fillTensor(*a.tensor, *attr->mutable_t());
          break;
        default:
          return path + ": cannot write attribute '" + a.name + "'";
        }
      }
    }
    ::onnx::checker::check_model(proto);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !proto.SerializeToOstream(&out))
      return path + ": cannot write the file";
    return "";
  } catch (const std::exception &e) {
    return path + ": " + e.what();
  }
}

} // namespace glmc::importer::onnx
