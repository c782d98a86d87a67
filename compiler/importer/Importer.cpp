//===- Importer.cpp - ONNX → glm dialect ----------------------------------===//
//
// Most ONNX nodes map mechanically: op_type in snake_case is the glm
// mnemonic, attributes keep their names. The handlers below cover what
// differs between opsets (attributes that became inputs, auto_pad, variadic
// ops) and the ops that disappear at import (Identity, Dropout, Constant).
//
//===----------------------------------------------------------------------===//

#include "compiler/importer/Importer.h"

#include "compiler/importer/onnx/OnnxModel.h"
#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>

using namespace mlir;
using namespace glmc::importer;
namespace ox = glmc::importer::onnx;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;
/// The newest default-domain opset whose operator semantics glmc knows.
constexpr int64_t kMaxOpset = 25;

/// ONNX op_type → glm mnemonic: CamelCase to snake_case.
std::string toSnakeCase(StringRef name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isupper((unsigned char)c)) {
      bool prevLower = i > 0 && std::islower((unsigned char)name[i - 1]);
      bool nextLower = i + 1 < name.size() && std::islower((unsigned char)name[i + 1]);
      bool prevUpper = i > 0 && std::isupper((unsigned char)name[i - 1]);
      if (i > 0 && (prevLower || (prevUpper && nextLower)))
        out += '_';
      out += (char)std::tolower((unsigned char)c);
    } else {
      out += c;
    }
  }
  return out;
}

/// ONNX attributes that carry no meaning for inference and are dropped.
bool isIgnorableAttribute(StringRef op, StringRef attr) {
  static const llvm::StringSet<> common = {"training_mode", "seed", "storage_order",
                                           "stash_type", "momentum", "num_outputs"};
  return common.contains(attr);
}

class GraphImporter {
public:
  GraphImporter(MLIRContext &ctx, const ox::Model &model, const ImportOptions &options)
      : ctx(ctx), model(model), options(options), builder(&ctx),
        fileName(StringAttr::get(&ctx, model.path)) {}

  OwningOpRef<ModuleOp> run();

private:
  using Handler = std::function<LogicalResult(GraphImporter &, const ox::Node &, Location)>;
  static const llvm::StringMap<Handler> &handlers();

  Location fileLoc() { return FileLineColLoc::get(fileName, 0, 0); }
  Location nodeLoc(const ox::Node &node, unsigned index) {
    return NameLoc::get(StringAttr::get(&ctx, node.name),
                        FileLineColLoc::get(fileName, index + 1, 0));
  }

  FailureOr<Type> convertElementType(ox::DataType dt, Location loc, StringRef what);
  FailureOr<Type> convertValueInfoType(const ox::ValueInfo &vi, Location loc, bool requireShape);
  Value makeConstant(const ox::TensorData &tensor, Location loc);
  ElementsAttr makeElementsAttr(const ox::TensorData &tensor, Type elementType);

  /// The value named `name`, materialising initializers on first use.
  /// Null for "" (an omitted optional input).
  FailureOr<Value> lookup(StringRef name, Location loc);
  /// Operand `i` of the node, or null if absent/omitted.
  FailureOr<Value> input(const ox::Node &node, unsigned i, Location loc);
  /// Inputs 0 .. n-1 (null where absent).
  FailureOr<SmallVector<Value>> inputs(const ox::Node &node, unsigned n, Location loc);
  /// Constant integer values of operand `i` (e.g. opset 13 axes).
  FailureOr<std::optional<SmallVector<int64_t>>> constantInts(const ox::Node &node, unsigned i,
                                                              Location loc, StringRef what);
  LogicalResult bindOutputs(const ox::Node &node, Operation *op, Location loc);
  void bindValue(StringRef name, Value v) { values[name] = v; }

  /// Creates `glm.<mnemonic>` with the given operands and attributes, sets
  /// result types from value_info and shape inference, binds the outputs.
  FailureOr<Operation *> createOp(const ox::Node &node, Location loc, StringRef mnemonic,
                                  ArrayRef<Value> operands, ArrayRef<NamedAttribute> attrs,
                                  unsigned numResults, ArrayRef<int32_t> segments = {},
                                  bool producesNodeOutputs = true);
  /// A glm.constant in place of `op` (erased) when `op` folds to a small
  /// static constant; `op` itself otherwise.
  Operation *foldSmallConstant(Operation *op);
  /// An op that is one step of a node's decomposition: its results are not
  /// the node's outputs, so the node's value_info does not apply.
  FailureOr<Operation *> createStep(const ox::Node &node, Location loc, StringRef mnemonic,
                                    ArrayRef<Value> operands, ArrayRef<NamedAttribute> attrs = {}) {
    return createOp(node, loc, mnemonic, operands, attrs, 1, {}, /*producesNodeOutputs=*/false);
  }
  /// The mechanical mapping: every input is an operand, every attribute is
  /// converted by kind, output count from the node.
  LogicalResult importGeneric(const ox::Node &node, Location loc, StringRef mnemonic = "");
  /// Why glmc cannot import `node` (unknown op, foreign domain, control
  /// flow), or "" when it can.
  std::string unsupportedReason(const ox::Node &node) const;
  /// Reports every unsupported node of the graph in one error.
  LogicalResult checkSupported();
  FailureOr<SmallVector<NamedAttribute>> convertAttributes(const ox::Node &node, Location loc,
                                                           OperationName opName,
                                                           ArrayRef<StringRef> skip = {});

  Attribute convertAttribute(const ox::Attribute &attr);

  // Handlers for ops that differ from the mechanical mapping.
  LogicalResult importConstant(const ox::Node &node, Location loc);
  LogicalResult importIdentity(const ox::Node &node, Location loc);
  LogicalResult importDepthSpace(const ox::Node &node, Location loc);
  LogicalResult importScalarParam(const ox::Node &node, Location loc);
  LogicalResult importLayerNorm(const ox::Node &node, Location loc);
  LogicalResult importWindowOp(const ox::Node &node, Location loc);
  /// `opName`'s attributes from the node's, `auto_pad` resolved into
  /// explicit pads from the input `x` and weight `w` (may be null).
  FailureOr<SmallVector<NamedAttribute>> windowAttributes(const ox::Node &node, Location loc,
                                                         OperationName opName, Value x, Value w);
  LogicalResult importConvTranspose(const ox::Node &node, Location loc);
  LogicalResult importTopK(const ox::Node &node, Location loc);
  LogicalResult importEinsum(const ox::Node &node, Location loc);
  LogicalResult importAxesInput(const ox::Node &node, Location loc, bool optionalAxes);
  LogicalResult importReduce(const ox::Node &node, Location loc);
  LogicalResult importSplit(const ox::Node &node, Location loc);
  LogicalResult importClip(const ox::Node &node, Location loc);
  LogicalResult importPad(const ox::Node &node, Location loc);
  LogicalResult importResize(const ox::Node &node, Location loc);
  LogicalResult importVariadic(const ox::Node &node, Location loc);
  LogicalResult importSoftmax(const ox::Node &node, Location loc);
  LogicalResult importCast(const ox::Node &node, Location loc);
  /// The glm.cast `saturate` attribute of a Cast/CastLike/QuantizeLinear
  /// node (ONNX default 1; it matters for float8 targets only).
  NamedAttribute saturateAttr(const ox::Node &node);
  LogicalResult importPow(const ox::Node &node, Location loc);
  LogicalResult importSlice(const ox::Node &node, Location loc);
  LogicalResult importSingleOutput(const ox::Node &node, Location loc, StringRef what);
  LogicalResult importHardmax(const ox::Node &node, Location loc);
  LogicalResult importNonZero(const ox::Node &node, Location loc);
  LogicalResult importInstanceNorm(const ox::Node &node, Location loc);
  LogicalResult importBatchNormTraining(const ox::Node &node, Location loc);
  LogicalResult importGroupNorm(const ox::Node &node, Location loc);
  // Quantization (see the section comment for the forms).
  LogicalResult importDequantizeLinear(const ox::Node &node, Location loc);
  LogicalResult importQuantizeLinear(const ox::Node &node, Location loc);
  LogicalResult importDynamicQuantizeLinear(const ox::Node &node, Location loc);
  LogicalResult importMatMulInteger(const ox::Node &node, Location loc);
  LogicalResult importConvInteger(const ox::Node &node, Location loc);
  LogicalResult importQLinearMatMul(const ox::Node &node, Location loc);
  LogicalResult importQLinearConv(const ox::Node &node, Location loc);
  /// The ONNX element type that the graph declares for `name`.
  ox::DataType declaredType(StringRef name) const;
  /// `v` cast to element type `et` (itself when it has it).
  FailureOr<Value> castTo(const ox::Node &node, Location loc, Value v, Type et);
  Value floatScalar(Location loc, Type et, double v);
  /// glm.clip of `v` to [lo, hi] (scalars of v's element type).
  FailureOr<Value> clipTo(const ox::Node &node, Location loc, Value v, double lo, double hi);
  /// A scale or zero point broadcast against `xt`: per tensor (rank 0 or
  /// one element) as a scalar, per axis ([C]) unsqueezed, blocked
  /// (block_size > 0, x's rank) gathered to x's size along `axis`.
  FailureOr<Value> quantParam(const ox::Node &node, Location loc, Value p, RankedTensorType xt,
                              int64_t axis, int64_t blockSize, StringRef what);
  FailureOr<Value> dequantize(const ox::Node &node, Location loc, Value x, Value scale, Value zp,
                              int64_t axis, int64_t blockSize, Type outType);
  FailureOr<Value> quantize(const ox::Node &node, Location loc, Value x, Value scale, Value zp,
                            int64_t axis, int64_t blockSize, Type target, Type precision);
  Type accumulatorType(int64_t k, uint64_t extra);
  FailureOr<Value> centered(const ox::Node &node, Location loc, Value x, Value zp, Type ft);
  FailureOr<Value> integerMatMul(const ox::Node &node, Location loc, Value a, Value azp, Value b,
                                 Value bzp);
  FailureOr<Value> integerConv(const ox::Node &node, Location loc, Value x, Value xzp, Value w,
                               Value wzp, Value bias);
  FailureOr<Value> requantize(const ox::Node &node, Location loc, Value acc, Value sa, Value sb,
                              Value sy, Value yzp, Type target);
  /// (x - mean) / sqrt(var + epsilon) with mean and var over `axes` (kept),
  /// in f32 for other float types (ONNX's stash_type), cast back to x's type.
  /// (x - mean) / sqrt(var + epsilon) over `axes` of an f32 `xf`, with the
  /// mean and biased variance (keepdims).
  struct Normalized {
    Value y, mean, var;
  };
  FailureOr<Normalized> normalizeStats(const ox::Node &node, Location loc, Value xf,
                                       ArrayRef<int64_t> axes, float epsilon);
  FailureOr<Value> normalizeOver(const ox::Node &node, Location loc, Value x, ArrayRef<int64_t> axes,
                                 float epsilon);
  /// The single result of a decomposition step.
  FailureOr<Value> stepValue(const ox::Node &node, Location loc, StringRef mnemonic,
                             ArrayRef<Value> operands, ArrayRef<NamedAttribute> attrs = {}) {
    auto op = createStep(node, loc, mnemonic, operands, attrs);
    if (failed(op))
      return failure();
    return (*op)->getResult(0);
  }
  // Opset 23 decoder ops straight into the fused glm ops.
  LogicalResult importRMSNormalization(const ox::Node &node, Location loc);
  LogicalResult importRotaryEmbedding(const ox::Node &node, Location loc);
  LogicalResult importAttention(const ox::Node &node, Location loc);
  /// Attention's scores as qk_matmul_output `mode` defines them (0: Q K^T
  /// scale, softcapped; 1: with the masks, or softcapped only with a
  /// softcap, as the ONNX reference does; 2: with the masks; 3: softmax,
  /// fully masked rows 0), K's heads repeated for grouped queries.
  FailureOr<Value> attentionScores(const ox::Node &node, Location loc, Value Q, Value K, Value mask,
                                   Value causalAllowed, float scale, int64_t mode, float softcap);
  /// K or V [b, kv_heads, t, d] with each head repeated for `qHeads` query heads.
  FailureOr<Value> repeatKVHeads(const ox::Node &node, Location loc, Value K, int64_t qHeads);
  /// A scalar constant of `type`'s element type with `type`'s shape.
  Value scalarConstant(Location loc, RankedTensorType type, Attribute value);
  Value i64Constant(Location loc, ArrayRef<int64_t> values, bool scalar = false);
  /// [b, s, h*d] → [b, h, s, d] (reshape [0, 0, h, -1], transpose).
  FailureOr<Value> splitHeads(const ox::Node &node, Location loc, Value x, int64_t heads);
  /// [b, h, s, d] → [b, s, h*d] (transpose, reshape [0, 0, -1]).
  FailureOr<Value> mergeHeads(const ox::Node &node, Location loc, Value x);

  MLIRContext &ctx;
  const ox::Model &model;
  const ImportOptions &options;
  OpBuilder builder;
  StringAttr fileName;
  llvm::StringMap<Value> values;
  llvm::StringMap<const ox::TensorData *> initializers;
  llvm::StringMap<const ox::ValueInfo *> valueInfos;
  int64_t opset = 0;
  unsigned nodeIndex = 0;
};

//===----------------------------------------------------------------------===//
// Types and constants
//===----------------------------------------------------------------------===//

FailureOr<Type> GraphImporter::convertElementType(ox::DataType dt, Location loc, StringRef what) {
  switch (dt) {
  case ox::DataType::Float: return Type(builder.getF32Type());
  case ox::DataType::Float16: return Type(builder.getF16Type());
  case ox::DataType::BFloat16: return Type(builder.getBF16Type());
  case ox::DataType::Double: return Type(builder.getF64Type());
  case ox::DataType::Int8: return Type(builder.getIntegerType(8));
  case ox::DataType::Int16: return Type(builder.getIntegerType(16));
  case ox::DataType::Int32: return Type(builder.getIntegerType(32));
  case ox::DataType::Int64: return Type(builder.getIntegerType(64));
  case ox::DataType::UInt8: return Type(builder.getIntegerType(8, /*isSigned=*/false));
  case ox::DataType::UInt16: return Type(builder.getIntegerType(16, false));
  case ox::DataType::UInt32: return Type(builder.getIntegerType(32, false));
  case ox::DataType::UInt64: return Type(builder.getIntegerType(64, false));
  case ox::DataType::Bool: return Type(builder.getI1Type());
  // 8- and 4-bit types: storage and conversion only (Cast, QuantizeLinear,
  // DequantizeLinear and data movement; ONNX has no arithmetic on them).
  case ox::DataType::Float8E4M3FN: return Type(builder.getType<Float8E4M3FNType>());
  case ox::DataType::Float8E4M3FNUZ: return Type(builder.getType<Float8E4M3FNUZType>());
  case ox::DataType::Float8E5M2: return Type(builder.getType<Float8E5M2Type>());
  case ox::DataType::Float8E5M2FNUZ: return Type(builder.getType<Float8E5M2FNUZType>());
  case ox::DataType::Float4E2M1: return Type(builder.getType<Float4E2M1FNType>());
  case ox::DataType::Int4: return Type(builder.getIntegerType(4));
  case ox::DataType::UInt4: return Type(builder.getIntegerType(4, /*isSigned=*/false));
  default:
    return emitError(loc) << what << " has element type " << ox::dataTypeName(dt)
                          << ", which glmc does not support";
  }
}

FailureOr<Type> GraphImporter::convertValueInfoType(const ox::ValueInfo &vi, Location loc,
                                                    bool requireShape) {
  if (vi.dtype == ox::DataType::Undefined)
    return emitError(loc) << "value '" << vi.name << "' has no tensor type";
  auto et = convertElementType(vi.dtype, loc, "value '" + vi.name + "'");
  if (failed(et))
    return failure();
  if (!vi.hasShape) {
    if (requireShape)
      return emitError(loc) << "graph input '" << vi.name
                            << "' has no shape; re-export the model with input shapes";
    return Type(UnrankedTensorType::get(*et));
  }
  SmallVector<int64_t> dims;
  for (int64_t d : vi.dims)
    dims.push_back(d < 0 ? kDyn : d);
  return Type(RankedTensorType::get(dims, *et));
}

ElementsAttr GraphImporter::makeElementsAttr(const ox::TensorData &t, Type et) {
  SmallVector<int64_t> dims(t.dims.begin(), t.dims.end());
  auto type = RankedTensorType::get(dims, et);
  int64_t n = glm::getNumElements(dims);
  ArrayRef<char> bytes(t.data, t.size);
  // Small tensors (shapes, scalars) become plain dense attributes so that
  // folders can read them; weights stay blobs.
  bool small = n <= 16 || (isa<IntegerType>(et) && n <= 256);
  if (small) {
    if (et.isInteger(1)) {
      SmallVector<bool> bits;
      for (int64_t i = 0; i < n; ++i)
        bits.push_back(bytes[i] != 0);
      return DenseElementsAttr::get(type, bits);
    }
    if (auto ity = dyn_cast<IntegerType>(et); ity && !ity.isSignless()) {
      // Dense storage is signless-agnostic: raw bytes work for ui8 too.
      return DenseElementsAttr::getFromRawBuffer(type, bytes);
    }
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  }
  // Reference the bytes where they live (moved protobuf string or mmap).
  size_t elemSize = std::max<size_t>(1, et.getIntOrFloatBitWidth() / 8);
  uintptr_t addr = reinterpret_cast<uintptr_t>(t.data);
  size_t align = 64;
  while (align > 1 && (addr % align) != 0)
    align /= 2;
  std::string name = t.name.empty() ? "tensor" : t.name;
  if (align >= elemSize) {
    std::shared_ptr<const void> owner = t.owner;
    AsmResourceBlob blob(bytes, align,
                         [owner](void *, size_t, size_t) mutable { owner.reset(); },
                         /*dataIsMutable=*/false);
    return DenseResourceElementsAttr::get(type, name, std::move(blob));
  }
  // Misaligned external data: one aligned copy.
  return DenseResourceElementsAttr::get(type, name,
                                        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64));
}

Value GraphImporter::makeConstant(const ox::TensorData &t, Location loc) {
  auto et = convertElementType(t.dtype, loc, "tensor '" + t.name + "'");
  if (failed(et))
    return {};
  ElementsAttr attr = makeElementsAttr(t, *et);
  return glm::ConstantOp::create(builder, loc, attr.getType(), attr);
}

FailureOr<Value> GraphImporter::lookup(StringRef name, Location loc) {
  if (name.empty())
    return Value();
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init != initializers.end()) {
    // Weights get the initializer's name as location.
    Location wloc = NameLoc::get(StringAttr::get(&ctx, name), fileLoc());
    Value v = makeConstant(*init->second, wloc);
    if (!v)
      return failure();
    values[name] = v;
    return v;
  }
  return emitError(loc) << "input '" << name
                        << "' is not produced by any earlier node, initializer or graph input "
                           "(is the graph topologically sorted?)";
}

FailureOr<Value> GraphImporter::input(const ox::Node &node, unsigned i, Location loc) {
  if (i >= node.inputs.size())
    return Value();
  return lookup(node.inputs[i], loc);
}

FailureOr<SmallVector<Value>> GraphImporter::inputs(const ox::Node &node, unsigned n,
                                                    Location loc) {
  SmallVector<Value> in;
  for (unsigned i = 0; i < n; ++i) {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    in.push_back(*v);
  }
  return in;
}

FailureOr<std::optional<SmallVector<int64_t>>>
GraphImporter::constantInts(const ox::Node &node, unsigned i, Location loc, StringRef what) {
  auto v = input(node, i, loc);
  if (failed(v))
    return failure();
  if (!*v)
    return std::optional<SmallVector<int64_t>>();
  auto ints = glm::getConstantIntValues(*v);
  if (!ints)
    return emitError(loc) << node.opType << " with a non-constant " << what
                          << " input is not supported; glmc needs it at compile time";
  return std::optional<SmallVector<int64_t>>(*ints);
}

Attribute GraphImporter::convertAttribute(const ox::Attribute &a) {
  switch (a.kind) {
  case ox::Attribute::Kind::Int: return builder.getI64IntegerAttr(a.i);
  case ox::Attribute::Kind::Float: return builder.getF32FloatAttr(a.f);
  case ox::Attribute::Kind::String: return builder.getStringAttr(a.s);
  case ox::Attribute::Kind::Ints: return builder.getI64ArrayAttr(a.ints);
  case ox::Attribute::Kind::Floats: {
    SmallVector<Attribute> fs;
    for (float f : a.floats)
      fs.push_back(builder.getF32FloatAttr(f));
    return builder.getArrayAttr(fs);
  }
  case ox::Attribute::Kind::Strings: {
    SmallVector<Attribute> ss;
    for (const auto &s : a.strings)
      ss.push_back(builder.getStringAttr(s));
    return builder.getArrayAttr(ss);
  }
  case ox::Attribute::Kind::Tensor: {
    auto et = convertElementType(a.tensor->dtype, fileLoc(), "attribute '" + a.name + "'");
    if (failed(et))
      return {};
    return makeElementsAttr(*a.tensor, *et);
  }
  default:
    return {};
  }
}

//===----------------------------------------------------------------------===//
// Op creation
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<NamedAttribute>>
GraphImporter::convertAttributes(const ox::Node &node, Location loc, OperationName opName,
                                 ArrayRef<StringRef> skip) {
  SmallVector<NamedAttribute> attrs;
  ArrayRef<StringAttr> known = opName.getAttributeNames();
  for (const ox::Attribute &a : node.attributes) {
    if (llvm::is_contained(skip, a.name))
      continue;
    bool isKnown = llvm::any_of(known, [&](StringAttr n) { return n.getValue() == a.name; });
    if (!isKnown) {
      if (isIgnorableAttribute(node.opType, a.name))
        continue;
      return emitError(loc) << "attribute '" << a.name << "' of " << node.opType
                            << " is not supported by glmc";
    }
    Attribute attr = convertAttribute(a);
    if (!attr)
      return emitError(loc) << "attribute '" << a.name << "' of " << node.opType
                            << " has a kind glmc cannot import";
    attrs.push_back(builder.getNamedAttr(a.name, attr));
  }
  return attrs;
}

FailureOr<Operation *> GraphImporter::createOp(const ox::Node &node, Location loc,
                                               StringRef mnemonic, ArrayRef<Value> operands,
                                               ArrayRef<NamedAttribute> attrs, unsigned numResults,
                                               ArrayRef<int32_t> segments,
                                               bool producesNodeOutputs) {
  std::string fullName = ("glm." + mnemonic).str();
  auto registered = RegisteredOperationName::lookup(fullName, &ctx);
  if (!registered)
    return emitError(loc) << "internal: no op " << fullName;
  OperationState state(loc, *registered);
  state.addOperands(operands);
  state.addAttributes(attrs);
  if (!segments.empty())
    state.addAttribute("operandSegmentSizes", builder.getDenseI32ArrayAttr(segments));
  // Placeholder types; value_info where ONNX has it, then shape inference.
  for (unsigned i = 0; i < numResults; ++i) {
    Type t = UnrankedTensorType::get(builder.getF32Type());
    if (producesNodeOutputs && i < node.outputs.size()) {
      auto vi = valueInfos.find(node.outputs[i]);
      if (vi != valueInfos.end() && vi->second->hasShape &&
          vi->second->dtype != ox::DataType::Undefined) {
        auto ty = convertValueInfoType(*vi->second, loc, false);
        if (succeeded(ty))
          t = *ty;
      }
    }
    state.addTypes(t);
  }
  Operation *op = builder.create(state);
  if (failed(glm::refineResultTypes(op)))
    return failure();
  if (failed(verify(op)))
    return failure();
  return foldSmallConstant(op);
}

Operation *GraphImporter::foldSmallConstant(Operation *op) {
  // Shape arithmetic (Shape, Size, Range, Concat, Gather, Sub ... of static
  // shapes and constants) becomes a constant as it is imported, so that a
  // later node that needs it at compile time (axes, split, depth, a reshape
  // target) sees a glm.constant. Only small static results: weights stay
  // for the canonicalizer to fold or not.
  constexpr int64_t kMaxImportFoldElements = 256;
  if (op->getNumResults() != 1)
    return op;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() > kMaxImportFoldElements)
    return op;
  SmallVector<Attribute> operands;
  for (Value v : op->getOperands())
    operands.push_back(glm::getConstantElements(v));
  SmallVector<OpFoldResult> results;
  if (failed(op->fold(operands, results)) || results.size() != 1)
    return op;
  auto attr = dyn_cast_if_present<ElementsAttr>(dyn_cast<Attribute>(results[0]));
  // A fold to one of its operands (a cast to the same type): that operand's
  // constant.
  if (auto v = dyn_cast<Value>(results[0]); v && v.getType() == type)
    attr = glm::getConstantElements(v);
  if (!attr || attr.getType() != type)
    return op;
  Operation *cst = glm::ConstantOp::create(builder, op->getLoc(), type, attr);
  op->erase();
  return cst;
}

LogicalResult GraphImporter::bindOutputs(const ox::Node &node, Operation *op, Location loc) {
  for (unsigned i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty())
      continue;
    if (i >= op->getNumResults())
      return emitError(loc) << node.opType << " output " << i << " ('" << node.outputs[i]
                            << "') is not supported by glmc";
    bindValue(node.outputs[i], op->getResult(i));
  }
  return success();
}

LogicalResult GraphImporter::importGeneric(const ox::Node &node, Location loc,
                                           StringRef mnemonic) {
  std::string name = mnemonic.empty() ? toSnakeCase(node.opType) : mnemonic.str();
  auto registered = RegisteredOperationName::lookup("glm." + name, &ctx);
  if (!registered)
    return emitError(loc) << "unsupported ONNX op '" << node.opType << "'";
  SmallVector<Value> operands;
  SmallVector<int32_t> segments;
  bool sized = registered->hasTrait<OpTrait::AttrSizedOperandSegments>();
  // Trailing omitted inputs are dropped; inner omitted ones need segments.
  size_t last = node.inputs.size();
  while (last > 0 && node.inputs[last - 1].empty())
    --last;
  for (size_t i = 0; i < last; ++i) {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    if (!*v && !sized)
      return emitError(loc) << node.opType << " with omitted input " << i
                            << " is not supported";
    if (*v)
      operands.push_back(*v);
    segments.push_back(*v ? 1 : 0);
  }
  if (sized) {
    // Pad segments for optional operands beyond the ONNX inputs given.
    unsigned numSegments = 0;
    if (name == "slice") numSegments = 5;
    else if (name == "clip") numSegments = 3;
    while (segments.size() < numSegments)
      segments.push_back(0);
  } else {
    segments.clear();
  }
  auto attrs = convertAttributes(node, loc, *registered);
  if (failed(attrs))
    return failure();
  unsigned numResults = node.outputs.size();
  auto op = createOp(node, loc, name, operands, *attrs, numResults, segments);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

//===----------------------------------------------------------------------===//
// Handlers
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::importConstant(const ox::Node &node, Location loc) {
  if (node.attributes.size() != 1)
    return emitError(loc) << "Constant must have exactly one value attribute";
  const ox::Attribute &a = node.attributes.front();
  ElementsAttr value;
  if (a.name == "value" && a.kind == ox::Attribute::Kind::Tensor) {
    auto et = convertElementType(a.tensor->dtype, loc, "Constant");
    if (failed(et))
      return failure();
    ox::TensorData t = *a.tensor;
    t.name = node.outputs.empty() ? node.name : node.outputs[0];
    value = makeElementsAttr(t, *et);
  } else if (a.name == "value_float") {
    value = DenseElementsAttr::get(RankedTensorType::get({}, builder.getF32Type()), a.f);
  } else if (a.name == "value_floats") {
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)a.floats.size()}, builder.getF32Type()),
        ArrayRef<float>(a.floats));
  } else if (a.name == "value_int") {
    value = DenseElementsAttr::get(RankedTensorType::get({}, builder.getI64Type()), a.i);
  } else if (a.name == "value_ints") {
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)a.ints.size()}, builder.getI64Type()),
        ArrayRef<int64_t>(a.ints));
  } else {
    return emitError(loc) << "Constant attribute '" << a.name << "' is not supported";
  }
  Value v = glm::ConstantOp::create(builder, loc, value.getType(), value);
  bindValue(node.outputs.at(0), v);
  return success();
}

LogicalResult GraphImporter::importSingleOutput(const ox::Node &node, Location loc,
                                                StringRef what) {
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty())
      return emitError(loc) << node.opType << " output " << i << " (" << what
                            << ") is not supported; only inference outputs are";
  return success();
}

//===----------------------------------------------------------------------===//
// Opset 23 decoder ops
//===----------------------------------------------------------------------===//

Value GraphImporter::scalarConstant(Location loc, RankedTensorType type, Attribute value) {
  return glm::ConstantOp::create(builder, loc, type, DenseElementsAttr::get(type, value));
}

Value GraphImporter::i64Constant(Location loc, ArrayRef<int64_t> values, bool scalar) {
  auto type = RankedTensorType::get(scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)values.size()},
                                    builder.getI64Type());
  return glm::ConstantOp::create(builder, loc, type, DenseElementsAttr::get(type, values));
}

FailureOr<Value> GraphImporter::splitHeads(const ox::Node &node, Location loc, Value x, int64_t heads) {
  auto r = createStep(node, loc, "reshape", {x, i64Constant(loc, {0, 0, heads, -1})});
  if (failed(r))
    return failure();
  auto t = createStep(node, loc, "transpose", {(*r)->getResult(0)},
                      {builder.getNamedAttr("perm", builder.getI64ArrayAttr({0, 2, 1, 3}))});
  if (failed(t))
    return failure();
  return (*t)->getResult(0);
}

FailureOr<Value> GraphImporter::mergeHeads(const ox::Node &node, Location loc, Value x) {
  auto t = createStep(node, loc, "transpose", {x},
                      {builder.getNamedAttr("perm", builder.getI64ArrayAttr({0, 2, 1, 3}))});
  if (failed(t))
    return failure();
  auto r = createStep(node, loc, "reshape", {(*t)->getResult(0), i64Constant(loc, {0, 0, -1})});
  if (failed(r))
    return failure();
  return (*r)->getResult(0);
}

LogicalResult GraphImporter::importRMSNormalization(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), scale = input(node, 1, loc);
  if (failed(x) || failed(scale))
    return failure();
  if (!*x || !*scale)
    return emitError(loc) << "RMSNormalization needs X and scale";
  int64_t axis = -1;
  float eps = 1e-5f;
  if (const ox::Attribute *a = node.getAttribute("axis"))
    axis = a->i;
  if (const ox::Attribute *a = node.getAttribute("epsilon"))
    eps = a->f;
  auto op = createOp(node, loc, "rms_norm", {*x, *scale},
                     {builder.getNamedAttr("axis", builder.getI64IntegerAttr(axis)),
                      builder.getNamedAttr("epsilon", builder.getF32FloatAttr(eps))},
                     1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

LogicalResult GraphImporter::importRotaryEmbedding(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), cs = input(node, 1, loc), sn = input(node, 2, loc),
       pos = input(node, 3, loc);
  if (failed(x) || failed(cs) || failed(sn) || failed(pos))
    return failure();
  if (!*x || !*cs || !*sn)
    return emitError(loc) << "RotaryEmbedding needs X, cos_cache and sin_cache";
  auto xt = dyn_cast<RankedTensorType>((*x).getType());
  if (!xt || (xt.getRank() != 3 && xt.getRank() != 4))
    return emitError(loc) << "RotaryEmbedding: X must be [batch, heads, seq, head] or "
                             "[batch, seq, hidden], got "
                          << (*x).getType();
  int64_t heads = 0, rotDim = 0, interleaved = 0;
  if (const ox::Attribute *a = node.getAttribute("num_heads"))
    heads = a->i;
  if (const ox::Attribute *a = node.getAttribute("rotary_embedding_dim"))
    rotDim = a->i;
  if (const ox::Attribute *a = node.getAttribute("interleaved"))
    interleaved = a->i;
  if (xt.getRank() == 3 && heads <= 0)
    return emitError(loc) << "RotaryEmbedding on a 3-d input needs the num_heads attribute";
  // Per-pair tables [b, 1, s, r]: gathered by position where given.
  Value cos = *cs, sin = *sn;
  if (*pos) {
    auto gc = createStep(node, loc, "gather", {cos, *pos});
    auto gs = createStep(node, loc, "gather", {sin, *pos});
    if (failed(gc) || failed(gs))
      return failure();
    cos = (*gc)->getResult(0);
    sin = (*gs)->getResult(0);
  }
  auto ct = dyn_cast<RankedTensorType>(cos.getType());
  if (!ct || ct.getRank() != 3)
    return emitError(loc) << "RotaryEmbedding: the cos/sin tables must be [batch, seq, rotary_dim/2] "
                             "(or [max_position, rotary_dim/2] with position_ids), got "
                          << cos.getType();
  int64_t headDim = xt.getRank() == 4 ? xt.getDimSize(3)
                    : ShapedType::isDynamic(xt.getDimSize(2)) ? ShapedType::kDynamic
                                                              : xt.getDimSize(2) / heads;
  int64_t half = rotDim ? rotDim / 2 : (ShapedType::isDynamic(headDim) ? ShapedType::kDynamic : headDim / 2);
  if (!ShapedType::isDynamic(half) && !ShapedType::isDynamic(ct.getDimSize(2)) && ct.getDimSize(2) != half)
    return emitError(loc) << "RotaryEmbedding: the cos/sin tables have " << ct.getDimSize(2)
                          << " entries per position; rotary_embedding_dim/2 is " << half;
  auto uc = createStep(node, loc, "unsqueeze", {cos}, {builder.getNamedAttr("axes", builder.getI64ArrayAttr({1}))});
  auto us = createStep(node, loc, "unsqueeze", {sin}, {builder.getNamedAttr("axes", builder.getI64ArrayAttr({1}))});
  if (failed(uc) || failed(us))
    return failure();
  Value heads4 = *x;
  if (xt.getRank() == 3) {
    auto split = splitHeads(node, loc, *x, heads);
    if (failed(split))
      return failure();
    heads4 = *split;
  }
  auto interleavedAttr = builder.getNamedAttr("interleaved", builder.getBoolAttr(interleaved != 0));
  if (xt.getRank() == 4) {
    auto op = createOp(node, loc, "rotary", {heads4, (*uc)->getResult(0), (*us)->getResult(0)},
                       {interleavedAttr}, 1);
    if (failed(op))
      return failure();
    return bindOutputs(node, *op, loc);
  }
  auto rot = createStep(node, loc, "rotary", {heads4, (*uc)->getResult(0), (*us)->getResult(0)},
                        {interleavedAttr});
  if (failed(rot))
    return failure();
  auto merged = mergeHeads(node, loc, (*rot)->getResult(0));
  if (failed(merged))
    return failure();
  bindValue(node.outputs.at(0), *merged);
  return success();
}

LogicalResult GraphImporter::importAttention(const ox::Node &node, Location loc) {
  auto q = input(node, 0, loc), k = input(node, 1, loc), v = input(node, 2, loc),
       mask = input(node, 3, loc), pastK = input(node, 4, loc), pastV = input(node, 5, loc);
  if (failed(q) || failed(k) || failed(v) || failed(mask) || failed(pastK) || failed(pastV))
    return failure();
  if (!*q || !*k || !*v)
    return emitError(loc) << "Attention needs Q, K and V";
  bool wantQK = node.outputs.size() > 3 && !node.outputs[3].empty();
  float softcap = 0.0f;
  if (const ox::Attribute *a = node.getAttribute("softcap"))
    softcap = a->f;
  if (softcap < 0.0f)
    return emitError(loc) << "Attention softcap " << softcap << " is negative";
  if (bool(*pastK) != bool(*pastV))
    return emitError(loc) << "Attention needs both past_key and past_value, or neither";
  auto attrInt = [&](StringRef name, int64_t dflt) {
    const ox::Attribute *a = node.getAttribute(name.str());
    return a ? a->i : dflt;
  };
  int64_t qHeads = attrInt("q_num_heads", 0), kvHeads = attrInt("kv_num_heads", 0);
  bool causal = attrInt("is_causal", 0) != 0;
  auto qt = dyn_cast<RankedTensorType>((*q).getType());
  if (!qt || (qt.getRank() != 3 && qt.getRank() != 4))
    return emitError(loc) << "Attention: Q must be 3-d or 4-d, got " << (*q).getType();
  bool threeD = qt.getRank() == 3;
  Value Q = *q, K = *k, V = *v;
  if (threeD) {
    if (qHeads <= 0 || kvHeads <= 0)
      return emitError(loc) << "Attention on 3-d inputs needs q_num_heads and kv_num_heads";
    auto sq = splitHeads(node, loc, Q, qHeads), sk = splitHeads(node, loc, K, kvHeads),
         sv = splitHeads(node, loc, V, kvHeads);
    if (failed(sq) || failed(sk) || failed(sv))
      return failure();
    Q = *sq, K = *sk, V = *sv;
  }
  // The KV cache: present = concat(past, new) along the sequence.
  auto axis2 = builder.getNamedAttr("axis", builder.getI64IntegerAttr(2));
  if (*pastK) {
    auto ck = createStep(node, loc, "concat", {*pastK, K}, {axis2});
    auto cv = createStep(node, loc, "concat", {*pastV, V}, {axis2});
    if (failed(ck) || failed(cv))
      return failure();
    K = (*ck)->getResult(0);
    V = (*cv)->getResult(0);
  }
  auto q4 = cast<RankedTensorType>(Q.getType());
  Type et = q4.getElementType();
  float scale;
  if (const ox::Attribute *a = node.getAttribute("scale")) {
    scale = a->f;
  } else {
    if (ShapedType::isDynamic(q4.getDimSize(3)))
      return emitError(loc) << "Attention without a scale attribute needs a static head size";
    scale = 1.0f / std::sqrt((float)q4.getDimSize(3));
  }
  // An additive float mask: bool masks select 0 or the lowest float, the
  // causal mask (query i sees keys j <= i + past) is added to it.
  auto scalarF = RankedTensorType::get({}, et);
  // The lowest finite value of the element type (-3.4e38 overflows f16 to
  // -inf, which turns a fully masked row into NaN).
  Value lowest = scalarConstant(
      loc, scalarF,
      builder.getFloatAttr(et, APFloat::getLargest(cast<FloatType>(et).getFloatSemantics(),
                                                   /*Negative=*/true)));
  Value zero = scalarConstant(loc, scalarF, builder.getFloatAttr(et, 0.0));
  Value m = *mask;
  Value causalAllowed; // i1 [S, T] with is_causal
  if (m && getElementTypeOrSelf(m.getType()).isInteger(1)) {
    auto w = createStep(node, loc, "where", {m, zero, lowest});
    if (failed(w))
      return failure();
    m = (*w)->getResult(0);
  }
  if (causal) {
    auto dimOf = [&](Value t, int64_t d) -> FailureOr<Value> {
      auto shape = createStep(node, loc, "shape", {t});
      if (failed(shape))
        return failure();
      auto g = createStep(node, loc, "gather", {(*shape)->getResult(0), i64Constant(loc, {d}, true)});
      if (failed(g))
        return failure();
      return (*g)->getResult(0);
    };
    // ONNX aligns the causal frontier after the past: query i sees key j
    // when j <= i + past length (top-left without a cache, even when K and
    // V are longer than Q).
    auto S = dimOf(Q, 2), T = dimOf(K, 2);
    if (failed(S) || failed(T))
      return failure();
    Value zeroI = i64Constant(loc, {0}, true), oneI = i64Constant(loc, {1}, true);
    FailureOr<Value> past = *pastK ? dimOf(*pastK, 2) : FailureOr<Value>(zeroI);
    if (failed(past))
      return failure();
    auto ri = createStep(node, loc, "range", {zeroI, *S, oneI});
    auto rj = createStep(node, loc, "range", {zeroI, *T, oneI});
    if (failed(ri) || failed(rj))
      return failure();
    auto qi = createStep(node, loc, "add", {(*ri)->getResult(0), *past});
    if (failed(qi))
      return failure();
    auto qcol = createStep(node, loc, "unsqueeze", {(*qi)->getResult(0)},
                           {builder.getNamedAttr("axes", builder.getI64ArrayAttr({1}))});
    auto krow = createStep(node, loc, "unsqueeze", {(*rj)->getResult(0)},
                           {builder.getNamedAttr("axes", builder.getI64ArrayAttr({0}))});
    if (failed(qcol) || failed(krow))
      return failure();
    auto allowed = createStep(node, loc, "less_or_equal", {(*krow)->getResult(0), (*qcol)->getResult(0)});
    if (failed(allowed))
      return failure();
    causalAllowed = (*allowed)->getResult(0);
    auto cm = createStep(node, loc, "where", {causalAllowed, zero, lowest});
    if (failed(cm))
      return failure();
    Value causalMask = (*cm)->getResult(0);
    if (m) {
      auto sum = createStep(node, loc, "add", {m, causalMask});
      if (failed(sum))
        return failure();
      m = (*sum)->getResult(0);
    } else {
      m = causalMask;
    }
  }
  SmallVector<Value> operands{Q, K, V};
  if (m)
    operands.push_back(m);
  auto attnAttr = builder.getNamedAttr("scale", builder.getF32FloatAttr(scale));
  // A query row whose keys a bool mask (and the causal frontier) all hide
  // attends to nothing: ONNX gives 0 there (softmax over -inf only), where
  // the additive lowest-float mask above averages V.
  Value rowSeesKey;
  if (*mask && getElementTypeOrSelf((*mask).getType()).isInteger(1)) {
    Value allowed = *mask;
    if (causalAllowed) {
      auto both = stepValue(node, loc, "and", {allowed, causalAllowed});
      if (failed(both))
        return failure();
      allowed = *both;
    }
    auto f = stepValue(node, loc, "cast", {allowed}, {builder.getNamedAttr("to", TypeAttr::get(et))});
    if (failed(f))
      return failure();
    auto any = stepValue(node, loc, "reduce_max", {*f},
                         {builder.getNamedAttr("axes", builder.getI64ArrayAttr({-1})),
                          builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(1))});
    if (failed(any))
      return failure();
    rowSeesKey = *any;
  }
  Value y;
  if (softcap > 0.0f) {
    // Softcap is not part of glm.attention: scores, softcap, masks and
    // softmax step by step (fully masked rows 0), then P V.
    auto p = attentionScores(node, loc, Q, K, *mask, causalAllowed, scale, 3, softcap);
    if (failed(p))
      return failure();
    auto rv = repeatKVHeads(node, loc, V, q4.getDimSize(1));
    if (failed(rv))
      return failure();
    auto pv = stepValue(node, loc, "mat_mul", {*p, *rv});
    if (failed(pv))
      return failure();
    y = *pv;
    rowSeesKey = Value();
  } else {
    FailureOr<Operation *> attn = threeD || rowSeesKey
                                      ? createStep(node, loc, "attention", operands, {attnAttr})
                                      : createOp(node, loc, "attention", operands, {attnAttr}, 1);
    if (failed(attn))
      return failure();
    y = (*attn)->getResult(0);
  }
  if (rowSeesKey) {
    auto sees = stepValue(node, loc, "cast", {rowSeesKey},
                          {builder.getNamedAttr("to", TypeAttr::get(builder.getI1Type()))});
    if (failed(sees))
      return failure();
    auto masked = stepValue(node, loc, "where", {*sees, y, zero});
    if (failed(masked))
      return failure();
    y = *masked;
  }
  if (threeD) {
    auto merged = mergeHeads(node, loc, y);
    if (failed(merged))
      return failure();
    y = *merged;
  }
  bindValue(node.outputs.at(0), y);
  if (wantQK) {
    int64_t mode = 0;
    if (const ox::Attribute *a = node.getAttribute("qk_matmul_output_mode"))
      mode = a->i;
    auto qk = attentionScores(node, loc, Q, K, *mask, causalAllowed, scale, mode, softcap);
    if (failed(qk))
      return failure();
    bindValue(node.outputs[3], *qk);
  }
  // present_key/present_value: [b, kv_heads, total, d] as ONNX defines them.
  if (node.outputs.size() > 1 && !node.outputs[1].empty())
    bindValue(node.outputs[1], K);
  if (node.outputs.size() > 2 && !node.outputs[2].empty())
    bindValue(node.outputs[2], V);
  return success();
}

FailureOr<Value> GraphImporter::attentionScores(const ox::Node &node, Location loc, Value Q, Value K,
                                                Value mask, Value causalAllowed, float scale,
                                                int64_t mode, float softcap) {
  if (mode < 0 || mode > 3)
    return emitError(loc) << "Attention qk_matmul_output_mode " << mode << " is not valid (0 to 3)";
  auto qt = cast<RankedTensorType>(Q.getType());
  Type et = qt.getElementType();
  auto rk = repeatKVHeads(node, loc, K, qt.getDimSize(1));
  if (failed(rk))
    return failure();
  K = *rk;
  auto t = stepValue(node, loc, "transpose", {K},
                     {builder.getNamedAttr("perm", builder.getI64ArrayAttr({0, 1, 3, 2}))});
  if (failed(t))
    return failure();
  auto mm = stepValue(node, loc, "mat_mul", {Q, *t});
  if (failed(mm))
    return failure();
  auto scalarF = RankedTensorType::get({}, et);
  auto qk = stepValue(node, loc, "mul", {*mm, scalarConstant(loc, scalarF, builder.getFloatAttr(et, scale))});
  if (failed(qk))
    return failure();
  if (softcap > 0.0f) {
    // softcap * tanh(scores / softcap), before the masks (so that masked
    // keys stay -inf).
    Value c = scalarConstant(loc, scalarF, builder.getFloatAttr(et, softcap));
    auto div = stepValue(node, loc, "div", {*qk, c});
    auto th = succeeded(div) ? stepValue(node, loc, "tanh", {*div}) : FailureOr<Value>(failure());
    qk = succeeded(th) ? stepValue(node, loc, "mul", {*th, c}) : FailureOr<Value>(failure());
    if (failed(qk))
      return failure();
  }
  if (mode == 0 || (mode == 1 && softcap > 0.0f))
    return qk;
  // The additive mask as ONNX writes it: -inf where a key is masked.
  Value ninf = scalarConstant(loc, scalarF, builder.getFloatAttr(et, -INFINITY));
  Value zero = scalarConstant(loc, scalarF, builder.getFloatAttr(et, 0.0));
  Value scores = *qk;
  for (Value bias : {mask, causalAllowed}) {
    if (!bias)
      continue;
    if (getElementTypeOrSelf(bias.getType()).isInteger(1)) {
      auto w = stepValue(node, loc, "where", {bias, zero, ninf});
      if (failed(w))
        return failure();
      bias = *w;
    }
    auto sum = stepValue(node, loc, "add", {scores, bias});
    if (failed(sum))
      return failure();
    scores = *sum;
  }
  if (mode < 3) // 2 (after softcap) is 1 without softcap
    return scores;
  auto sm = stepValue(node, loc, "softmax", {scores},
                      {builder.getNamedAttr("axis", builder.getI64IntegerAttr(-1))});
  if (failed(sm))
    return failure();
  // A fully masked row (all -inf) is NaN after softmax; ONNX makes it 0.
  auto nan = stepValue(node, loc, "is_nan", {*sm});
  if (failed(nan))
    return failure();
  return stepValue(node, loc, "where", {*nan, zero, *sm});
}

FailureOr<Value> GraphImporter::repeatKVHeads(const ox::Node &node, Location loc, Value K,
                                              int64_t qHeads) {
  auto kt = dyn_cast<RankedTensorType>(K.getType());
  if (!kt || kt.getRank() != 4)
    return emitError(loc) << "Attention computed step by step needs 4-d K and V, got " << K.getType();
  int64_t kvHeads = kt.getDimSize(1), d = kt.getDimSize(3);
  if (ShapedType::isDynamic(qHeads) || ShapedType::isDynamic(kvHeads) || qHeads % kvHeads != 0)
    return emitError(loc) << "Attention computed step by step (qk_matmul_output, softcap) needs "
                             "static head counts, Q's a multiple of K's; got "
                          << qHeads << " and " << K.getType();
  if (qHeads == kvHeads)
    return K;
  // Grouped-query: each K/V head serves qHeads / kvHeads query heads.
  if (ShapedType::isDynamic(d))
    return emitError(loc) << "Attention computed step by step with grouped K/V heads needs a "
                             "static head size";
  auto u = stepValue(node, loc, "unsqueeze", {K}, {builder.getNamedAttr("axes", builder.getI64ArrayAttr({2}))});
  if (failed(u))
    return failure();
  auto e = stepValue(node, loc, "expand", {*u, i64Constant(loc, {1, 1, qHeads / kvHeads, 1, 1})});
  if (failed(e))
    return failure();
  return stepValue(node, loc, "reshape", {*e, i64Constant(loc, {0, qHeads, -1, d})});
}

LogicalResult GraphImporter::importIdentity(const ox::Node &node, Location loc) {
  auto v = input(node, 0, loc);
  if (failed(v) || !*v)
    return failed(v) ? failure() : emitError(loc) << node.opType << " needs an input";
  if (node.opType == "Dropout") {
    // Inference, or training with ratio 0: the identity, and a mask that
    // keeps everything. Training with a ratio above 0 drops random elements.
    auto training = input(node, 2, loc);
    if (failed(training))
      return failure();
    if (*training) {
      auto t = glm::getConstantIntValues(*training);
      if (!t)
        return emitError(loc) << "Dropout with a computed training_mode is not supported; glmc "
                                 "needs it at compile time (export the model in eval mode)";
      if (llvm::any_of(*t, [](int64_t b) { return b != 0; })) {
        auto r = input(node, 1, loc);
        if (failed(r))
          return failure();
        ElementsAttr c = *r ? glm::getConstantElements(*r) : ElementsAttr();
        auto ratio = c ? glm::getValuesAsDouble(c) : std::nullopt;
        if (*r && !ratio)
          return emitError(loc) << "Dropout in training mode with a computed ratio is not "
                                   "supported; export the model in eval mode";
        double p = ratio && !ratio->empty() ? (*ratio)[0] : 0.5; // ONNX's default ratio
        std::string shown;
        llvm::raw_string_ostream(shown) << llvm::format("%g", p);
        if (p != 0.0)
          return emitError(loc) << "Dropout in training mode with ratio " << shown
                                << " is not supported: it zeroes random elements, which no "
                                   "reference (the ONNX reference's NumPy RNG, ONNX Runtime's own) "
                                   "can reproduce; export the model in eval mode, or with ratio 0";
      }
    }
    if (node.outputs.size() > 1 && !node.outputs[1].empty()) {
      auto shape = createStep(node, loc, "shape", {*v});
      if (failed(shape))
        return failure();
      auto one = RankedTensorType::get({1}, builder.getI1Type());
      auto mask = createStep(node, loc, "constant_of_shape", {(*shape)->getResult(0)},
                             {builder.getNamedAttr("value", DenseElementsAttr::get(one, true))});
      if (failed(mask))
        return failure();
      bindValue(node.outputs[1], (*mask)->getResult(0));
    }
  } else if (failed(importSingleOutput(node, loc, "mask"))) {
    return failure();
  }
  bindValue(node.outputs.at(0), *v);
  return success();
}

/// LayerNormalization: glm.layer_normalization for Y; the optional Mean and
/// InvStdDev outputs (over the normalised dims, kept as 1) are computed
/// beside it when the model reads them.
LogicalResult GraphImporter::importLayerNorm(const ox::Node &node, Location loc) {
  ox::Node main = node;
  main.outputs.resize(1);
  if (failed(importGeneric(main, loc)))
    return failure();
  bool wantMean = node.outputs.size() > 1 && !node.outputs[1].empty();
  bool wantInv = node.outputs.size() > 2 && !node.outputs[2].empty();
  if (!wantMean && !wantInv)
    return success();
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  auto xt = dyn_cast<RankedTensorType>((*x).getType());
  if (!xt)
    return emitError(loc) << "LayerNormalization needs a ranked input";
  int64_t axis = -1;
  float eps = 1e-5f;
  if (const ox::Attribute *a = node.getAttribute("axis"))
    axis = a->i;
  if (const ox::Attribute *a = node.getAttribute("epsilon"))
    eps = a->f;
  auto first = glm::normalizeAxis(axis, xt.getRank());
  if (!first)
    return emitError(loc) << "LayerNormalization axis " << axis << " is out of range";
  SmallVector<int64_t> axes;
  for (int64_t d = *first; d < xt.getRank(); ++d)
    axes.push_back(d);
  // Statistics in f32 (stash_type 1) whatever the input type.
  Value xf = *x;
  Type f32 = builder.getF32Type();
  if (xt.getElementType() != f32) {
    auto c = createStep(node, loc, "cast", {xf}, {builder.getNamedAttr("to", TypeAttr::get(f32))});
    if (failed(c))
      return failure();
    xf = (*c)->getResult(0);
  }
  auto axesAttr = builder.getNamedAttr("axes", builder.getI64ArrayAttr(axes));
  auto mean = createStep(node, loc, "reduce_mean", {xf}, {axesAttr});
  if (failed(mean))
    return failure();
  if (wantMean)
    bindValue(node.outputs[1], (*mean)->getResult(0));
  if (!wantInv)
    return success();
  auto dev = createStep(node, loc, "sub", {xf, (*mean)->getResult(0)});
  if (failed(dev))
    return failure();
  auto sq = createStep(node, loc, "mul", {(*dev)->getResult(0), (*dev)->getResult(0)});
  if (failed(sq))
    return failure();
  auto var = createStep(node, loc, "reduce_mean", {(*sq)->getResult(0)}, {axesAttr});
  if (failed(var))
    return failure();
  Value e = scalarConstant(loc, RankedTensorType::get({}, f32), builder.getF32FloatAttr(eps));
  auto ve = createStep(node, loc, "add", {(*var)->getResult(0), e});
  if (failed(ve))
    return failure();
  auto sd = createStep(node, loc, "sqrt", {(*ve)->getResult(0)});
  if (failed(sd))
    return failure();
  auto inv = createStep(node, loc, "reciprocal", {(*sd)->getResult(0)});
  if (failed(inv))
    return failure();
  bindValue(node.outputs[2], (*inv)->getResult(0));
  return success();
}

/// CumSum's axis and OneHot's depth are inputs in ONNX; glmc needs them at
/// compile time and carries them as attributes.
LogicalResult GraphImporter::importScalarParam(const ox::Node &node, Location loc) {
  bool cumsum = node.opType == "CumSum";
  StringRef name = cumsum ? "axis" : "depth";
  FailureOr<std::optional<SmallVector<int64_t>>> param = std::optional<SmallVector<int64_t>>();
  auto depthValues = cumsum ? std::nullopt : [&]() -> std::optional<SmallVector<double>> {
    auto v = input(node, 1, loc);
    return succeeded(v) && *v ? glm::getConstantValuesAsDouble(*v) : std::nullopt;
  }();
  if (depthValues && depthValues->size() == 1) {
    // OneHot's depth may be of any numeric type; ONNX truncates it.
    param = std::optional<SmallVector<int64_t>>(SmallVector<int64_t>{(int64_t)(*depthValues)[0]});
  } else {
    param = constantInts(node, 1, loc, name);
    if (failed(param))
      return failure();
  }
  if (!*param || (*param)->size() != 1)
    return emitError(loc) << node.opType << " needs a one-element " << name << " input";
  std::string mnemonic = cumsum ? "cum_sum" : "one_hot";
  auto registered = RegisteredOperationName::lookup("glm." + mnemonic, &ctx);
  auto attrs = convertAttributes(node, loc, *registered);
  if (failed(attrs))
    return failure();
  attrs->push_back(builder.getNamedAttr(name, builder.getI64IntegerAttr((**param)[0])));
  SmallVector<Value> operands;
  auto x = input(node, 0, loc);
  if (failed(x) || !*x)
    return failed(x) ? failure() : emitError(loc) << node.opType << " needs an input";
  operands.push_back(*x);
  if (!cumsum) {
    auto values = input(node, 2, loc);
    if (failed(values) || !*values)
      return failed(values) ? failure() : emitError(loc) << "OneHot needs values";
    operands.push_back(*values);
  }
  auto op = createOp(node, loc, mnemonic, operands, *attrs, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// DepthToSpace (DCR or CRD) and SpaceToDepth as reshape, transpose,
/// reshape over static channel and spatial dims.
LogicalResult GraphImporter::importDepthSpace(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  const ox::Attribute *bs = node.getAttribute("blocksize");
  if (!xt || xt.getRank() != 4 || !bs || bs->i < 1)
    return emitError(loc) << node.opType << " needs a 4-d input and a positive blocksize";
  int64_t b = bs->i, c = xt.getDimSize(1), h = xt.getDimSize(2), w = xt.getDimSize(3);
  if (ShapedType::isDynamic(c) || ShapedType::isDynamic(h) || ShapedType::isDynamic(w))
    return emitError(loc) << node.opType << " needs static channel and spatial dims, got "
                          << (*x).getType();
  SmallVector<int64_t> split, perm, merged;
  if (node.opType == "DepthToSpace") {
    if (c % (b * b) != 0)
      return emitError(loc) << "DepthToSpace: " << c << " channels are not a multiple of blocksize^2";
    const ox::Attribute *m = node.getAttribute("mode");
    bool crd = m && m->s == "CRD";
    if (crd) {
      split = {0, c / (b * b), b, b, h, w};
      perm = {0, 1, 4, 2, 5, 3};
    } else {
      split = {0, b, b, c / (b * b), h, w};
      perm = {0, 3, 4, 1, 5, 2};
    }
    merged = {0, c / (b * b), h * b, w * b};
  } else {
    if (h % b != 0 || w % b != 0)
      return emitError(loc) << "SpaceToDepth: spatial dims " << h << "x" << w
                            << " are not multiples of the blocksize " << b;
    split = {0, c, h / b, b, w / b, b};
    perm = {0, 3, 5, 1, 2, 4};
    merged = {0, c * b * b, h / b, w / b};
  }
  auto r1 = createStep(node, loc, "reshape", {*x, i64Constant(loc, split)});
  if (failed(r1))
    return failure();
  auto t = createStep(node, loc, "transpose", {(*r1)->getResult(0)},
                      {builder.getNamedAttr("perm", builder.getI64ArrayAttr(perm))});
  if (failed(t))
    return failure();
  auto r2 = createOp(node, loc, "reshape", {(*t)->getResult(0), i64Constant(loc, merged)}, {}, 1);
  if (failed(r2))
    return failure();
  return bindOutputs(node, *r2, loc);
}

/// Conv, MaxPool, AveragePool: resolve auto_pad into explicit pads.
/// MaxPool's indices output is a glm.max_pool_indices beside the pool.
LogicalResult GraphImporter::importWindowOp(const ox::Node &node, Location loc) {
  SmallVector<Value> operands;
  for (unsigned i = 0; i < node.inputs.size(); ++i) {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    if (*v)
      operands.push_back(*v);
  }
  if (operands.empty())
    return emitError(loc) << node.opType << " needs an input";
  std::string name = toSnakeCase(node.opType);
  auto registered = RegisteredOperationName::lookup("glm." + name, &ctx);
  auto attrs = windowAttributes(node, loc, *registered, operands[0],
                                operands.size() > 1 ? operands[1] : Value());
  if (failed(attrs))
    return failure();
  auto op = createOp(node, loc, name, operands, *attrs, 1);
  if (failed(op))
    return failure();
  if (node.opType != "MaxPool" || node.outputs.size() < 2 || node.outputs[1].empty())
    return bindOutputs(node, *op, loc);
  SmallVector<NamedAttribute> indexAttrs(*attrs);
  if (const ox::Attribute *so = node.getAttribute("storage_order")) {
    if (so->i != 0 && so->i != 1)
      return emitError(loc) << "MaxPool storage_order " << so->i << " is not valid (0 or 1)";
    indexAttrs.push_back(builder.getNamedAttr("storage_order", builder.getI64IntegerAttr(so->i)));
  }
  auto indices = createOp(node, loc, "max_pool_indices", operands, indexAttrs, 1, {},
                          /*producesNodeOutputs=*/false);
  if (failed(indices))
    return failure();
  bindValue(node.outputs[0], (*op)->getResult(0));
  bindValue(node.outputs[1], (*indices)->getResult(0));
  return success();
}

FailureOr<SmallVector<NamedAttribute>>
GraphImporter::windowAttributes(const ox::Node &node, Location loc, OperationName opName, Value x,
                                Value w) {
  auto attrs = convertAttributes(node, loc, opName, {"auto_pad"});
  if (failed(attrs))
    return failure();
  const ox::Attribute *autoPad = node.getAttribute("auto_pad");
  std::string mode = autoPad ? autoPad->s : "NOTSET";
  if (mode != "NOTSET") {
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> kernel;
    if (const ox::Attribute *ks = node.getAttribute("kernel_shape"))
      kernel.assign(ks->ints.begin(), ks->ints.end());
    else if (w)
      if (auto wt = dyn_cast<RankedTensorType>(w.getType()))
        kernel.assign(wt.getShape().begin() + 2, wt.getShape().end());
    if (!xt || kernel.empty())
      return emitError(loc) << "auto_pad " << mode << " needs a known input rank and kernel shape";
    size_t s = kernel.size();
    SmallVector<int64_t> pads(2 * s, 0);
    if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
      SmallVector<int64_t> strides(s, 1), dil(s, 1);
      if (const ox::Attribute *a = node.getAttribute("strides"))
        strides.assign(a->ints.begin(), a->ints.end());
      if (const ox::Attribute *a = node.getAttribute("dilations"))
        dil.assign(a->ints.begin(), a->ints.end());
      for (size_t i = 0; i < s; ++i) {
        int64_t in = xt.getDimSize(2 + i);
        if (ShapedType::isDynamic(in))
          return emitError(loc) << "auto_pad " << mode << " with a dynamic spatial dim is not supported";
        int64_t out = (in + strides[i] - 1) / strides[i];
        int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1 - in);
        int64_t small = total / 2, big = total - small;
        pads[i] = mode == "SAME_UPPER" ? small : big;
        pads[i + s] = mode == "SAME_UPPER" ? big : small;
      }
    } else if (mode != "VALID") {
      return emitError(loc) << "auto_pad '" << mode << "' is not a valid value";
    }
    llvm::erase_if(*attrs, [](NamedAttribute a) { return a.getName() == "pads"; });
    attrs->push_back(builder.getNamedAttr("pads", builder.getI64ArrayAttr(pads)));
  }
  return attrs;
}

/// ConvTranspose as a convolution: the input gets s-1 zeros between
/// elements (reshape to [..., H, 1, W, 1], pad the unit dims, reshape back),
/// is padded (or cropped) so that the output window starts at the right
/// place, and is convolved with stride 1 by the flipped weights whose
/// channel dims are swapped within each group. The zeros cost s^d times the
/// MACs of a direct transposed convolution; the existing conv lowering and
/// constant folding of the weight steps apply as they are.
LogicalResult GraphImporter::importConvTranspose(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  auto w = input(node, 1, loc);
  auto b = input(node, 2, loc);
  if (failed(x) || failed(w) || failed(b))
    return failure();
  if (!*x || !*w)
    return emitError(loc) << "ConvTranspose needs X and W";
  auto xt = dyn_cast<RankedTensorType>((*x).getType());
  auto wt = dyn_cast<RankedTensorType>((*w).getType());
  if (!xt || !wt || xt.getRank() != wt.getRank() || xt.getRank() < 3)
    return emitError(loc) << "ConvTranspose needs ranked X and W of equal rank >= 3, got "
                          << (*x).getType() << " and " << (*w).getType();
  int64_t s = xt.getRank() - 2;
  if (s > 3)
    return emitError(loc) << "ConvTranspose with " << s
                          << " spatial dims is not supported; glmc lowers 1-d, 2-d and 3-d convolutions";
  for (int64_t i = 1; i < xt.getRank(); ++i)
    if (xt.isDynamicDim(i))
      return emitError(loc) << "ConvTranspose needs static channel and spatial dims, got " << xt;
  if (!wt.hasStaticShape())
    return emitError(loc) << "ConvTranspose needs a weight of static shape, got " << wt;
  auto ints = [&](const char *name, int64_t n, int64_t dflt) -> FailureOr<SmallVector<int64_t>> {
    const ox::Attribute *a = node.getAttribute(name);
    if (!a)
      return SmallVector<int64_t>(n, dflt);
    if ((int64_t)a->ints.size() != n)
      return emitError(loc) << "ConvTranspose attribute '" << name << "' must have " << n
                            << " entries, got " << a->ints.size();
    return SmallVector<int64_t>(a->ints.begin(), a->ints.end());
  };
  auto strides = ints("strides", s, 1), dil = ints("dilations", s, 1),
       outPad = ints("output_padding", s, 0), kernel = ints("kernel_shape", s, 0);
  if (failed(strides) || failed(dil) || failed(outPad) || failed(kernel))
    return failure();
  const ox::Attribute *g = node.getAttribute("group");
  int64_t group = g ? g->i : 1;
  int64_t c = xt.getDimSize(1), mPerGroup = wt.getDimSize(1);
  if (group < 1 || c % group != 0 || wt.getDimSize(0) != c)
    return emitError(loc) << "ConvTranspose: weight " << wt << " does not fit " << c
                          << " input channels in " << group << " groups (W is [C, M/group, k...])";
  SmallVector<int64_t> k(wt.getShape().drop_front(2));
  if (node.getAttribute("kernel_shape") && !llvm::equal(*kernel, k))
    return emitError(loc) << "ConvTranspose kernel_shape does not match the weight shape " << wt;
  for (int64_t i = 0; i < s; ++i)
    if ((*strides)[i] < 1 || (*dil)[i] < 1 || (*outPad)[i] < 0)
      return emitError(loc) << "ConvTranspose needs positive strides and dilations and "
                               "non-negative output_padding";
  const ox::Attribute *autoPad = node.getAttribute("auto_pad");
  std::string mode = autoPad ? autoPad->s : "NOTSET";
  if (mode != "NOTSET" && mode != "VALID" && mode != "SAME_UPPER" && mode != "SAME_LOWER")
    return emitError(loc) << "auto_pad '" << mode << "' is not a valid value";
  // Output size and begin pad per dim, as the ONNX reference computes them.
  SmallVector<int64_t> full(s), out(s), padBegin(s, 0);
  for (int64_t i = 0; i < s; ++i)
    full[i] = (*strides)[i] * (xt.getDimSize(2 + i) - 1) + (*outPad)[i] + (k[i] - 1) * (*dil)[i] + 1;
  const ox::Attribute *outShape = node.getAttribute("output_shape");
  if (outShape) {
    // output_shape may list all dims or only the spatial ones.
    ArrayRef<int64_t> os(outShape->ints);
    if ((int64_t)os.size() == s + 2)
      os = os.drop_front(2);
    if ((int64_t)os.size() != s)
      return emitError(loc) << "ConvTranspose output_shape must have " << s << " entries";
    out.assign(os.begin(), os.end());
  }
  if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
    if (!outShape)
      for (int64_t i = 0; i < s; ++i)
        out[i] = xt.getDimSize(2 + i) * (*strides)[i];
    for (int64_t i = 0; i < s; ++i) {
      int64_t total = full[i] - out[i];
      int64_t small = llvm::divideFloorSigned(total, 2);
      padBegin[i] = mode == "SAME_UPPER" ? small : total - small;
    }
  } else {
    auto pads = ints("pads", 2 * s, 0);
    if (failed(pads))
      return failure();
    if (mode == "VALID")
      pads->assign(2 * s, 0);
    for (int64_t i = 0; i < s; ++i) {
      padBegin[i] = (*pads)[i];
      if (!outShape)
        out[i] = full[i] - (*pads)[i] - (*pads)[i + s];
    }
  }
  for (int64_t i = 0; i < s; ++i)
    if (out[i] < 1)
      return emitError(loc) << "ConvTranspose output dim " << i << " would be " << out[i];

  auto step = [&](StringRef mnemonic, ArrayRef<Value> operands,
                  ArrayRef<NamedAttribute> attrs = {}) -> FailureOr<Value> {
    auto op = createStep(node, loc, mnemonic, operands, attrs);
    if (failed(op))
      return failure();
    return (*op)->getResult(0);
  };
  auto perm = [&](ArrayRef<int64_t> p) {
    return builder.getNamedAttr("perm", builder.getI64ArrayAttr(p));
  };
  // Zero insertion: [N, C, H, W] -> [N, C, H, 1, W, 1] -> pad -> [N, C, H*s, W*s].
  Value data = *x;
  if (llvm::any_of(*strides, [](int64_t v) { return v > 1; })) {
    SmallVector<int64_t> split{0, c}, merged{0, c}, zeroPads;
    for (int64_t i = 0; i < s; ++i) {
      split.append({xt.getDimSize(2 + i), 1});
      merged.push_back(xt.getDimSize(2 + i) * (*strides)[i]);
    }
    zeroPads.assign(2 + 2 * s, 0); // begin
    zeroPads.append({0, 0});
    for (int64_t i = 0; i < s; ++i)
      zeroPads.append({0, (*strides)[i] - 1});
    auto r = step("reshape", {data, i64Constant(loc, split)});
    if (failed(r))
      return failure();
    auto p = step("pad", {*r, i64Constant(loc, zeroPads)});
    if (failed(p))
      return failure();
    auto m = step("reshape", {*p, i64Constant(loc, merged)});
    if (failed(m))
      return failure();
    data = *m;
  }
  // Place the zero-inserted input: conv output o reads full index o + padBegin.
  SmallVector<int64_t> growB(s), growE(s), cropB(s), cropE(s);
  bool grow = false, crop = false;
  for (int64_t i = 0; i < s; ++i) {
    int64_t len = xt.getDimSize(2 + i) * (*strides)[i];
    int64_t span = (k[i] - 1) * (*dil)[i];
    int64_t lo = span - padBegin[i];
    int64_t hi = out[i] + span - lo - len;
    growB[i] = std::max<int64_t>(lo, 0);
    growE[i] = std::max<int64_t>(hi, 0);
    cropB[i] = std::max<int64_t>(-lo, 0);
    cropE[i] = std::max<int64_t>(-hi, 0);
    grow |= growB[i] || growE[i];
    crop |= cropB[i] || cropE[i];
  }
  if (grow) {
    SmallVector<int64_t> pads{0, 0};
    pads.append(growB);
    pads.append({0, 0});
    pads.append(growE);
    auto p = step("pad", {data, i64Constant(loc, pads)});
    if (failed(p))
      return failure();
    data = *p;
  }
  if (crop) {
    SmallVector<int64_t> starts, ends, axes;
    for (int64_t i = 0; i < s; ++i) {
      int64_t len = xt.getDimSize(2 + i) * (*strides)[i] + growB[i] + growE[i];
      starts.push_back(cropB[i]);
      ends.push_back(len - cropE[i]);
      axes.push_back(2 + i);
    }
    auto sl = createOp(node, loc, "slice",
                       {data, i64Constant(loc, starts), i64Constant(loc, ends), i64Constant(loc, axes)},
                       {}, 1, {1, 1, 1, 1, 0}, /*producesNodeOutputs=*/false);
    if (failed(sl))
      return failure();
    data = (*sl)->getResult(0);
  }
  // Weight [C, M/g, k...] -> [M, C/g, k...], spatially flipped.
  Value weight = *w;
  SmallVector<int64_t> spatialPerm;
  for (int64_t i = 0; i < s; ++i)
    spatialPerm.push_back(2 + i);
  if (group == 1) {
    SmallVector<int64_t> p{1, 0};
    p.append(spatialPerm);
    auto t = step("transpose", {weight}, {perm(p)});
    if (failed(t))
      return failure();
    weight = *t;
  } else {
    SmallVector<int64_t> grouped{group, c / group, mPerGroup}, merged{group * mPerGroup, c / group};
    grouped.append(k);
    merged.append(k);
    SmallVector<int64_t> p{0, 2, 1};
    for (int64_t i = 0; i < s; ++i)
      p.push_back(3 + i);
    auto r = step("reshape", {weight, i64Constant(loc, grouped)});
    if (failed(r))
      return failure();
    auto t = step("transpose", {*r}, {perm(p)});
    if (failed(t))
      return failure();
    auto m = step("reshape", {*t, i64Constant(loc, merged)});
    if (failed(m))
      return failure();
    weight = *m;
  }
  {
    SmallVector<int64_t> starts(s, -1), ends(s, std::numeric_limits<int64_t>::min()), steps(s, -1);
    auto f = createOp(node, loc, "slice",
                      {weight, i64Constant(loc, starts), i64Constant(loc, ends),
                       i64Constant(loc, spatialPerm), i64Constant(loc, steps)},
                      {}, 1, {1, 1, 1, 1, 1}, /*producesNodeOutputs=*/false);
    if (failed(f))
      return failure();
    weight = (*f)->getResult(0);
  }
  SmallVector<Value> operands{data, weight};
  if (*b)
    operands.push_back(*b);
  SmallVector<NamedAttribute> attrs{builder.getNamedAttr("dilations", builder.getI64ArrayAttr(*dil))};
  if (group != 1)
    attrs.push_back(builder.getNamedAttr("group", builder.getI64IntegerAttr(group)));
  auto conv = createOp(node, loc, "conv", operands, attrs, 1);
  if (failed(conv))
    return failure();
  return bindOutputs(node, *conv, loc);
}

/// TopK: K is an attribute before opset 10, a one-element input after,
/// which glmc needs at compile time.
LogicalResult GraphImporter::importTopK(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  if (!*x)
    return emitError(loc) << "TopK needs an input";
  int64_t k;
  if (const ox::Attribute *a = node.getAttribute("k")) {
    k = a->i;
  } else {
    auto kv = constantInts(node, 1, loc, "K");
    if (failed(kv))
      return failure();
    if (!*kv || (*kv)->size() != 1)
      return emitError(loc) << "TopK needs a one-element K input";
    k = (**kv)[0];
  }
  auto registered = RegisteredOperationName::lookup("glm.top_k", &ctx);
  auto attrs = convertAttributes(node, loc, *registered, {"k"});
  if (failed(attrs))
    return failure();
  attrs->push_back(builder.getNamedAttr("k", builder.getI64IntegerAttr(k)));
  auto op = createOp(node, loc, "top_k", {*x}, *attrs, 2);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Einsum of one or two float operands, decomposed: a repeated label in one
/// operand takes the diagonal (multiply by an identity, sum one of the two
/// dims), labels only one operand has and the output lacks are summed, two
/// operands become one batched glm.mat_mul over [batch, kept of A,
/// contracted] x [batch, contracted, kept of B] (transposes and reshapes
/// around it), and a final transpose puts the labels in output order.
LogicalResult GraphImporter::importEinsum(const ox::Node &node, Location loc) {
  const ox::Attribute *eq = node.getAttribute("equation");
  if (!eq)
    return emitError(loc) << "Einsum needs an equation";
  std::string equation;
  for (char ch : eq->s)
    if (ch != ' ')
      equation += ch;
  size_t numInputs = node.inputs.size();
  if (numInputs < 1 || numInputs > 2)
    return emitError(loc) << "Einsum with " << numInputs
                          << " operands is not supported; glmc decomposes one or two";
  StringRef eqRef(equation);
  auto [lhs, rhsPart] = eqRef.split("->");
  bool explicitOut = eqRef.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != numInputs)
    return emitError(loc) << "Einsum equation '" << eq->s << "' has " << terms.size()
                          << " operand terms for " << numInputs << " inputs";
  SmallVector<Value> xs;
  SmallVector<RankedTensorType> types;
  for (size_t i = 0; i < numInputs; ++i) {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    auto t = *v ? dyn_cast<RankedTensorType>((*v).getType()) : nullptr;
    if (!t || !t.hasStaticShape())
      return emitError(loc) << "Einsum needs operands of static shape";
    if (!isa<FloatType>(t.getElementType()))
      return emitError(loc) << "Einsum of " << t.getElementType()
                            << " operands is not supported; glmc decomposes float Einsum";
    xs.push_back(*v);
    types.push_back(t);
  }
  // Labels: letters as themselves, ellipsis dims as 1000 + i (right-aligned).
  constexpr int kEll = 1000;
  auto parseTerm = [&](StringRef term, int64_t rank, int64_t &ellDims,
                       SmallVector<int> &labels) -> LogicalResult {
    size_t dots = term.find("...");
    int64_t letters = (int64_t)term.size() - (dots == StringRef::npos ? 0 : 3);
    for (char ch : term)
      if (ch != '.' && !llvm::isAlpha(ch))
        return emitError(loc) << "Einsum equation '" << eq->s << "' has an invalid label '" << ch << "'";
    ellDims = dots == StringRef::npos ? 0 : rank - letters;
    if (rank >= 0 && (ellDims < 0 || (dots == StringRef::npos && letters != rank)))
      return emitError(loc) << "Einsum term '" << term << "' does not match an operand of rank " << rank;
    for (size_t p = 0; p < term.size(); ++p) {
      if (term[p] == '.') {
        for (int64_t e = 0; e < ellDims; ++e)
          labels.push_back(kEll + e); // renumbered below
        p += 2;
        continue;
      }
      labels.push_back(term[p]);
    }
    return success();
  };
  SmallVector<SmallVector<int>> labels(numInputs);
  SmallVector<int64_t> ell(numInputs);
  int64_t maxEll = 0;
  for (size_t i = 0; i < numInputs; ++i) {
    if (failed(parseTerm(terms[i], types[i].getRank(), ell[i], labels[i])))
      return failure();
    maxEll = std::max(maxEll, ell[i]);
  }
  for (size_t i = 0; i < numInputs; ++i)
    for (int &l : labels[i])
      if (l >= kEll)
        l += maxEll - ell[i];
  // Every label has one size.
  llvm::SmallDenseMap<int, int64_t> size;
  for (size_t i = 0; i < numInputs; ++i)
    for (auto [p, l] : llvm::enumerate(labels[i])) {
      int64_t d = types[i].getDimSize(p);
      auto [itr, inserted] = size.try_emplace(l, d);
      if (!inserted && itr->second != d)
        return emitError(loc) << "Einsum label sizes differ (" << itr->second << " and " << d
                              << "); broadcasting labels is not supported";
    }
  SmallVector<int> out;
  if (explicitOut) {
    // The output's ellipsis stands for all maxEll broadcast dims.
    for (size_t p = 0; p < rhsPart.size(); ++p) {
      if (rhsPart.substr(p).starts_with("...")) {
        for (int64_t e = 0; e < maxEll; ++e)
          out.push_back(kEll + e);
        p += 2;
        continue;
      }
      char ch = rhsPart[p];
      if (!llvm::isAlpha(ch) || !size.count(ch) || llvm::is_contained(out, (int)ch))
        return emitError(loc) << "Einsum output label '" << ch << "' is invalid, repeated or in no operand";
      out.push_back(ch);
    }
  } else {
    for (int64_t e = 0; e < maxEll; ++e)
      out.push_back(kEll + e);
    std::map<int, int> count;
    for (auto &ls : labels)
      for (int l : ls)
        if (l < kEll)
          ++count[l];
    for (auto [l, n] : count)
      if (n == 1)
        out.push_back(l);
  }
  Type et = types[0].getElementType();
  auto step = [&](StringRef mnemonic, ArrayRef<Value> operands,
                  ArrayRef<NamedAttribute> attrs = {}) -> FailureOr<Value> {
    auto op = createStep(node, loc, mnemonic, operands, attrs);
    if (failed(op))
      return failure();
    return (*op)->getResult(0);
  };
  auto sumDims = [&](Value x, SmallVector<int> &ls, ArrayRef<int64_t> dims) -> FailureOr<Value> {
    if (dims.empty())
      return x;
    auto r = step("reduce_sum", {x},
                  {builder.getNamedAttr("axes", builder.getI64ArrayAttr(dims)),
                   builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(0))});
    for (int64_t d : llvm::reverse(dims))
      ls.erase(ls.begin() + d);
    return r;
  };
  auto permute = [&](Value x, SmallVector<int> &ls, ArrayRef<int> order) -> FailureOr<Value> {
    SmallVector<int64_t> perm;
    for (int l : order)
      perm.push_back(llvm::find(ls, l) - ls.begin());
    ls.assign(order.begin(), order.end());
    if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      return x;
    return step("transpose", {x}, {builder.getNamedAttr("perm", builder.getI64ArrayAttr(perm))});
  };
  auto reshape = [&](Value x, ArrayRef<int64_t> shape) -> FailureOr<Value> {
    auto t = cast<RankedTensorType>(x.getType());
    if (llvm::equal(t.getShape(), shape))
      return x;
    return step("reshape", {x, i64Constant(loc, shape)});
  };
  for (size_t i = 0; i < numInputs; ++i) {
    SmallVector<int> &ls = labels[i];
    // Diagonals: x * eye over the two dims of a repeated label, summed over one.
    for (size_t p = 0; p < ls.size(); ++p)
      for (size_t q = p + 1; q < ls.size(); ++q) {
        if (ls[p] != ls[q])
          continue;
        int64_t n = size[ls[p]];
        SmallVector<int64_t> eyeShape(ls.size(), 1);
        eyeShape[p] = eyeShape[q] = n;
        SmallVector<Attribute> eye;
        for (int64_t a = 0; a < n; ++a)
          for (int64_t b = 0; b < n; ++b)
            eye.push_back(builder.getFloatAttr(et, a == b ? 1.0 : 0.0));
        auto eyeT = RankedTensorType::get(eyeShape, et);
        Value e = glm::ConstantOp::create(builder, loc, eyeT, DenseElementsAttr::get(eyeT, eye));
        auto m = step("mul", {xs[i], e});
        if (failed(m))
          return failure();
        auto s = sumDims(*m, ls, {(int64_t)q});
        if (failed(s))
          return failure();
        xs[i] = *s;
        --q;
      }
    // Labels no other term has.
    SmallVector<int64_t> lonely;
    for (auto [p, l] : llvm::enumerate(ls)) {
      bool other = numInputs == 2 && llvm::is_contained(labels[1 - i], l);
      if (!other && !llvm::is_contained(out, l))
        lonely.push_back(p);
    }
    auto s = sumDims(xs[i], ls, lonely);
    if (failed(s))
      return failure();
    xs[i] = *s;
  }
  Value result = xs[0];
  SmallVector<int> ls = labels[0];
  if (numInputs == 2) {
    SmallVector<int> batch, aOnly, contr, bOnly;
    for (int l : labels[0]) {
      bool inB = llvm::is_contained(labels[1], l), inOut = llvm::is_contained(out, l);
      (inB ? (inOut ? batch : contr) : aOnly).push_back(l);
    }
    for (int l : labels[1])
      if (!llvm::is_contained(labels[0], l))
        bOnly.push_back(l);
    auto prod = [&](ArrayRef<int> group) {
      int64_t n = 1;
      for (int l : group)
        n *= size[l];
      return n;
    };
    SmallVector<int> aOrder(batch), bOrder(batch);
    aOrder.append(aOnly);
    aOrder.append(contr);
    bOrder.append(contr);
    bOrder.append(bOnly);
    auto a = permute(xs[0], labels[0], aOrder);
    auto b = failed(a) ? a : permute(xs[1], labels[1], bOrder);
    if (failed(b))
      return failure();
    int64_t bs = prod(batch), m = prod(aOnly), k = prod(contr), n = prod(bOnly);
    auto a3 = reshape(*a, {bs, m, k});
    auto b3 = failed(a3) ? a3 : reshape(*b, {bs, k, n});
    if (failed(b3))
      return failure();
    auto mm = step("mat_mul", {*a3, *b3});
    if (failed(mm))
      return failure();
    ls = batch;
    ls.append(aOnly);
    ls.append(bOnly);
    SmallVector<int64_t> shape;
    for (int l : ls)
      shape.push_back(size[l]);
    auto r = reshape(*mm, shape);
    if (failed(r))
      return failure();
    result = *r;
  }
  auto final = permute(result, ls, out);
  if (failed(final))
    return failure();
  if (node.outputs.size() != 1)
    return emitError(loc) << "Einsum must have one output";
  bindValue(node.outputs[0], *final);
  return success();
}

/// Unsqueeze/Squeeze: opset 13 moved axes from an attribute to an input.
LogicalResult GraphImporter::importAxesInput(const ox::Node &node, Location loc,
                                             bool optionalAxes) {
  auto data = input(node, 0, loc);
  if (failed(data))
    return failure();
  SmallVector<NamedAttribute> attrs;
  if (const ox::Attribute *a = node.getAttribute("axes")) {
    attrs.push_back(builder.getNamedAttr("axes", builder.getI64ArrayAttr(a->ints)));
  } else {
    auto axes = constantInts(node, 1, loc, "axes");
    if (failed(axes))
      return failure();
    if (*axes)
      attrs.push_back(builder.getNamedAttr("axes", builder.getI64ArrayAttr(**axes)));
    else if (!optionalAxes)
      return emitError(loc) << node.opType << " needs axes";
  }
  auto op = createOp(node, loc, toSnakeCase(node.opType), {*data}, attrs, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Reduce*: axes is an attribute before opset 18 (13 for ReduceSum), an
/// optional input after.
/// Reduce{Sum,Mean,Max,Min,Prod} map to their glm op; ReduceL1, ReduceL2,
/// ReduceSumSquare, ReduceLogSum and ReduceLogSumExp are a sum between an
/// element-wise step before (abs, x*x, exp) and after (sqrt, log).
LogicalResult GraphImporter::importReduce(const ox::Node &node, Location loc) {
  auto data = input(node, 0, loc);
  if (failed(data))
    return failure();
  StringRef op = node.opType;
  StringRef pre = op == "ReduceL1" ? "abs"
                  : (op == "ReduceL2" || op == "ReduceSumSquare") ? "mul"
                  : op == "ReduceLogSumExp" ? "exp"
                                            : "";
  StringRef post = op == "ReduceL2" ? "sqrt" : (op == "ReduceLogSum" || op == "ReduceLogSumExp") ? "log" : "";
  bool composite = !pre.empty() || !post.empty();
  std::string reduce = composite ? "reduce_sum" : toSnakeCase(op);
  auto registered = RegisteredOperationName::lookup("glm." + reduce, &ctx);
  auto attrs = convertAttributes(node, loc, *registered);
  if (failed(attrs))
    return failure();
  if (node.inputs.size() > 1) {
    auto axes = constantInts(node, 1, loc, "axes");
    if (failed(axes))
      return failure();
    if (*axes)
      attrs->push_back(builder.getNamedAttr("axes", builder.getI64ArrayAttr(**axes)));
  }
  Value x = *data;
  if ((op == "ReduceMax" || op == "ReduceMin") && x && getElementTypeOrSelf(x.getType()).isInteger(1)) {
    // Bool: max is any (a sum of 0/1 that is not 0; false over an empty
    // set), min is all (a product; true over an empty set).
    auto wide = stepValue(node, loc, "cast", {x}, {builder.getNamedAttr("to", TypeAttr::get(builder.getI64Type()))});
    if (failed(wide))
      return failure();
    auto r = stepValue(node, loc, op == "ReduceMax" ? "reduce_sum" : "reduce_prod", {*wide}, *attrs);
    if (failed(r))
      return failure();
    auto b = createOp(node, loc, "cast", {*r}, {builder.getNamedAttr("to", TypeAttr::get(builder.getI1Type()))}, 1);
    if (failed(b))
      return failure();
    return bindOutputs(node, *b, loc);
  }
  if (!pre.empty()) {
    SmallVector<Value> operands{x};
    if (pre == "mul")
      operands.push_back(x);
    auto p = createStep(node, loc, pre, operands);
    if (failed(p))
      return failure();
    x = (*p)->getResult(0);
  }
  if (post.empty()) {
    auto r = createOp(node, loc, reduce, {x}, *attrs, 1);
    if (failed(r))
      return failure();
    return bindOutputs(node, *r, loc);
  }
  auto r = createStep(node, loc, reduce, {x}, *attrs);
  if (failed(r))
    return failure();
  auto q = createOp(node, loc, post, {(*r)->getResult(0)}, {}, 1);
  if (failed(q))
    return failure();
  return bindOutputs(node, *q, loc);
}

LogicalResult GraphImporter::importSplit(const ox::Node &node, Location loc) {
  auto data = input(node, 0, loc);
  if (failed(data))
    return failure();
  auto registered = RegisteredOperationName::lookup("glm.split", &ctx);
  auto attrs = convertAttributes(node, loc, *registered);
  if (failed(attrs))
    return failure();
  if (node.inputs.size() > 1) {
    auto split = constantInts(node, 1, loc, "split");
    if (failed(split))
      return failure();
    if (*split)
      attrs->push_back(builder.getNamedAttr("split", builder.getI64ArrayAttr(**split)));
  }
  auto op = createOp(node, loc, "split", {*data}, *attrs, node.outputs.size());
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Clip: opset 6 bounds are attributes, opset 11+ optional inputs.
LogicalResult GraphImporter::importClip(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  Value lo, hi;
  Type et = getElementTypeOrSelf((*x).getType());
  auto scalar = [&](float v) -> Value {
    auto ty = RankedTensorType::get({}, et);
    Attribute a = isa<FloatType>(et) ? Attribute(builder.getFloatAttr(et, v))
                                     : Attribute(builder.getIntegerAttr(et, (int64_t)v));
    return glm::ConstantOp::create(builder, loc, ty, DenseElementsAttr::get(ty, a));
  };
  if (const ox::Attribute *a = node.getAttribute("min"))
    lo = scalar(a->f);
  if (const ox::Attribute *a = node.getAttribute("max"))
    hi = scalar(a->f);
  if (node.inputs.size() > 1) {
    auto v = input(node, 1, loc);
    if (failed(v))
      return failure();
    lo = *v;
  }
  if (node.inputs.size() > 2) {
    auto v = input(node, 2, loc);
    if (failed(v))
      return failure();
    hi = *v;
  }
  SmallVector<Value> operands{*x};
  if (lo)
    operands.push_back(lo);
  if (hi)
    operands.push_back(hi);
  auto op = createOp(node, loc, "clip", operands, {}, 1, {1, lo ? 1 : 0, hi ? 1 : 0});
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

LogicalResult GraphImporter::importPad(const ox::Node &node, Location loc) {
  const ox::Attribute *mode = node.getAttribute("mode");
  if (mode && mode->s != "constant" && mode->s != "edge" && mode->s != "reflect" && mode->s != "wrap")
    return emitError(loc) << "Pad mode '" << mode->s
                          << "' is not supported (constant, edge, reflect or wrap)";
  auto data = input(node, 0, loc);
  if (failed(data))
    return failure();
  SmallVector<Value> operands{*data};
  if (node.inputs.size() > 3 && !node.inputs[3].empty()) {
    // Opset 18: pads cover only `axes`; the full [begin..., end...] pads
    // put them in place, zeros elsewhere.
    auto axes = constantInts(node, 3, loc, "axes");
    if (failed(axes))
      return failure();
    auto pads = constantInts(node, 1, loc, "pads (with an axes input)");
    if (failed(pads))
      return failure();
    auto dt = dyn_cast<RankedTensorType>((*data).getType());
    if (!dt || !*pads)
      return emitError(loc) << "Pad with an axes input needs a ranked input and pads";
    int64_t rank = dt.getRank(), n = (*axes)->size();
    if ((int64_t)(*pads)->size() != 2 * n)
      return emitError(loc) << "Pad has " << (*pads)->size() << " pads for " << n
                            << " axes; it needs two per axis";
    SmallVector<int64_t> full(2 * rank, 0);
    SmallVector<bool> seen(rank, false);
    for (auto [k, ax] : llvm::enumerate(**axes)) {
      auto d = glm::normalizeAxis(ax, rank);
      if (!d || seen[*d])
        return emitError(loc) << "Pad axis " << ax << " is out of range for rank " << rank
                              << " or repeated";
      seen[*d] = true;
      full[*d] = (**pads)[k];
      full[*d + rank] = (**pads)[k + n];
    }
    operands.push_back(i64Constant(loc, full));
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      auto v = input(node, 2, loc);
      if (failed(v))
        return failure();
      operands.push_back(*v);
    }
  } else if (const ox::Attribute *pads = node.getAttribute("pads")) { // opset < 11
    auto ty = RankedTensorType::get({(int64_t)pads->ints.size()}, builder.getI64Type());
    operands.push_back(glm::ConstantOp::create(
        builder, loc, ty, DenseElementsAttr::get(ty, ArrayRef<int64_t>(pads->ints))));
    if (const ox::Attribute *v = node.getAttribute("value")) {
      Type et = getElementTypeOrSelf((*data).getType());
      auto vty = RankedTensorType::get({}, et);
      operands.push_back(glm::ConstantOp::create(
          builder, loc, vty, DenseElementsAttr::get(vty, builder.getFloatAttr(et, v->f))));
    }
  } else {
    for (unsigned i = 1; i < 3 && i < node.inputs.size(); ++i) {
      auto v = input(node, i, loc);
      if (failed(v))
        return failure();
      if (*v)
        operands.push_back(*v);
    }
  }
  SmallVector<NamedAttribute> attrs;
  if (mode && mode->s != "constant") {
    attrs.push_back(builder.getNamedAttr("mode", builder.getStringAttr(mode->s)));
    operands.resize(2); // edge, reflect and wrap take no constant_value
  }
  auto op = createOp(node, loc, "pad", operands, attrs, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Resize (opset 10-19) and Upsample (7, 9) with constant scales or sizes
/// into glm.resize (one scale per dim; sizes kept where given).
LogicalResult GraphImporter::importResize(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  if (!xt)
    return emitError(loc) << node.opType << " needs a ranked input";
  int64_t rank = xt.getRank();
  auto strAttr = [&](StringRef name, StringRef dflt) {
    const ox::Attribute *a = node.getAttribute(name.str());
    return a ? a->s : dflt.str();
  };
  auto intAttr = [&](StringRef name, int64_t dflt) {
    const ox::Attribute *a = node.getAttribute(name.str());
    return a ? a->i : dflt;
  };
  // Upsample and Resize-10 resize with asymmetric coordinates. ONNX's
  // version converter (which upgrades opsets below 11) turns them into
  // Resize-11+ without saying so: a converted Resize without the attribute
  // keeps the old meaning.
  bool converted = model.convertedFromOpset > 0 && model.convertedFromOpset < 11 &&
                   !node.getAttribute("coordinate_transformation_mode");
  bool legacy = node.opType == "Upsample" || opset < 11 || converted;
  std::string mode = strAttr("mode", "nearest");
  std::string ct = legacy ? "asymmetric" : strAttr("coordinate_transformation_mode", "half_pixel");
  std::string nearest = strAttr("nearest_mode", "round_prefer_floor");
  if (mode == "bilinear" || mode == "trilinear") // Upsample-7 spellings
    mode = "linear";
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitError(loc) << node.opType << " mode '" << mode << "' is not supported";

  // Scales and sizes: attribute (Upsample-7), input 1 (Upsample-9,
  // Resize-10), inputs 2 and 3 (Resize-11+). Both must be constants.
  std::optional<SmallVector<double>> scales;
  std::optional<SmallVector<int64_t>> sizes;
  auto constantScales = [&](unsigned i) -> LogicalResult {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    if (!*v)
      return success();
    ElementsAttr c = glm::getConstantElements(*v);
    auto values = c ? glm::getValuesAsDouble(c) : std::nullopt;
    if (!values)
      return emitError(loc) << node.opType
                            << " with computed scales is not supported; glmc needs them at compile "
                               "time (export with a fixed scale_factor or size)";
    if (!values->empty())
      scales = *values;
    return success();
  };
  if (node.opType == "Upsample" && node.getAttribute("scales")) {
    scales = SmallVector<double>(node.getAttribute("scales")->floats.begin(),
                                 node.getAttribute("scales")->floats.end());
  } else if (node.opType == "Upsample" || opset < 11) {
    if (failed(constantScales(1)))
      return failure();
  } else {
    if (failed(constantScales(2)))
      return failure();
    auto sz = constantInts(node, 3, loc, "sizes");
    if (failed(sz))
      return failure();
    if (*sz && !(*sz)->empty())
      sizes = **sz;
  }
  if (bool(scales) == bool(sizes))
    return emitError(loc) << node.opType << " needs exactly one of scales and sizes";
  // tf_crop_and_resize: roi (input 1) [start..., end...] per axis, constant.
  std::optional<SmallVector<double>> roi;
  if (ct == "tf_crop_and_resize") {
    auto v = node.opType == "Resize" && opset >= 11 ? input(node, 1, loc) : FailureOr<Value>(Value());
    if (failed(v))
      return failure();
    ElementsAttr c = *v ? glm::getConstantElements(*v) : ElementsAttr();
    roi = c ? glm::getValuesAsDouble(c) : std::nullopt;
    if (!roi)
      return emitError(loc) << node.opType
                            << " with coordinate_transformation_mode 'tf_crop_and_resize' needs a "
                               "constant roi input; glmc reads it at compile time";
  }
  // Opset 18: scales/sizes may cover only `axes`.
  SmallVector<int64_t> axes;
  if (const ox::Attribute *a = node.getAttribute("axes")) {
    for (int64_t ax : a->ints) {
      auto n = glm::normalizeAxis(ax, rank);
      if (!n)
        return emitError(loc) << node.opType << " axis " << ax << " is out of range for rank " << rank;
      axes.push_back(*n);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  size_t given = scales ? scales->size() : sizes->size();
  if (given != axes.size())
    return emitError(loc) << node.opType << " has " << given << (scales ? " scales" : " sizes")
                          << " for " << axes.size() << " axes";
  SmallVector<Attribute> roiAttrs;
  if (roi) {
    if (roi->size() != 2 * axes.size())
      return emitError(loc) << node.opType << " roi has " << roi->size() << " values for "
                            << axes.size() << " axes; it needs a start and an end per axis";
    SmallVector<float> full(rank, 0.0f);
    full.append(rank, 1.0f);
    for (auto [k, d] : llvm::enumerate(axes)) {
      full[d] = (float)(*roi)[k];
      full[rank + d] = (float)(*roi)[axes.size() + k];
    }
    for (float f : full)
      roiAttrs.push_back(builder.getF32FloatAttr(f));
  }
  SmallVector<Attribute> scaleAttrs(rank, builder.getF32FloatAttr(1.0f));
  SmallVector<int64_t> outSizes(xt.getShape());
  if (scales) {
    for (auto [k, d] : llvm::enumerate(axes)) {
      if (!((*scales)[k] > 0.0) || !std::isfinite((*scales)[k]))
        return emitError(loc) << node.opType << " scale " << (*scales)[k] << " must be positive";
      scaleAttrs[d] = builder.getF32FloatAttr((float)(*scales)[k]);
    }
  } else {
    std::string policy = strAttr("keep_aspect_ratio_policy", "stretch");
    if (policy != "stretch") {
      // One scale for all the axes: the smallest (not_larger) or largest
      // (not_smaller) ratio; output sizes round(scale * input).
      if (policy != "not_larger" && policy != "not_smaller")
        return emitError(loc) << node.opType << " keep_aspect_ratio_policy '" << policy
                              << "' is not supported";
      std::optional<double> scale;
      for (auto [k, d] : llvm::enumerate(axes)) {
        if (xt.isDynamicDim(d))
          return emitError(loc) << node.opType << " with keep_aspect_ratio_policy needs static "
                                                  "input dims";
        double r = (double)(float)((float)(*sizes)[k] / (float)xt.getDimSize(d));
        scale = !scale ? r : policy == "not_larger" ? std::min(*scale, r) : std::max(*scale, r);
      }
      for (auto [k, d] : llvm::enumerate(axes))
        (*sizes)[k] = (int64_t)std::round(*scale * (double)xt.getDimSize(d));
    }
    for (auto [k, d] : llvm::enumerate(axes)) {
      if ((*sizes)[k] < 1)
        return emitError(loc) << node.opType << " size " << (*sizes)[k] << " must be positive";
      outSizes[d] = (*sizes)[k];
      if (!xt.isDynamicDim(d))
        scaleAttrs[d] = builder.getF32FloatAttr((float)(*sizes)[k] / (float)xt.getDimSize(d));
      else
        scaleAttrs[d] = builder.getF32FloatAttr(0.0f); // unknown until run time; sizes rule
    }
    for (Attribute &a : scaleAttrs)
      if (cast<FloatAttr>(a).getValueAsDouble() == 0.0)
        return emitError(loc) << node.opType << " with sizes needs static input dims";
  }
  if (legacy && mode == "nearest") {
    // Upsample and Resize-10 round down when enlarging and up when
    // shrinking (ONNX Runtime's rule for these opsets).
    bool up = false, down = false;
    for (Attribute a : scaleAttrs) {
      double f = cast<FloatAttr>(a).getValueAsDouble();
      up |= f > 1.0;
      down |= f < 1.0;
    }
    if (up && down)
      return emitError(loc) << node.opType
                            << " that enlarges some dims and shrinks others is not supported at "
                               "opset "
                            << opset << "; re-export at opset 11 or newer";
    nearest = down ? "ceil" : "floor";
  }
  SmallVector<NamedAttribute> attrs{
      builder.getNamedAttr("scales", builder.getArrayAttr(scaleAttrs)),
      builder.getNamedAttr("mode", builder.getStringAttr(mode)),
      builder.getNamedAttr("coordinate_transformation_mode", builder.getStringAttr(ct)),
      builder.getNamedAttr("nearest_mode", builder.getStringAttr(nearest))};
  if (sizes)
    attrs.push_back(builder.getNamedAttr("sizes", builder.getI64ArrayAttr(outSizes)));
  if (mode == "cubic")
    if (const ox::Attribute *a = node.getAttribute("cubic_coeff_a"))
      attrs.push_back(builder.getNamedAttr("cubic_coeff_a", builder.getF32FloatAttr(a->f)));
  // Antialias (opset 18) filters linear and cubic downscaling; nearest
  // ignores it. exclude_outside matters to cubic and to antialiased linear.
  bool antialias = mode != "nearest" && intAttr("antialias", 0) != 0;
  if (antialias)
    attrs.push_back(builder.getNamedAttr("antialias", builder.getI64IntegerAttr(1)));
  if ((mode == "cubic" || antialias) && intAttr("exclude_outside", 0) != 0)
    attrs.push_back(builder.getNamedAttr("exclude_outside", builder.getI64IntegerAttr(1)));
  if (roi) {
    attrs.push_back(builder.getNamedAttr("roi", builder.getArrayAttr(roiAttrs)));
    if (const ox::Attribute *a = node.getAttribute("extrapolation_value"))
      attrs.push_back(builder.getNamedAttr("extrapolation_value", builder.getF32FloatAttr(a->f)));
  }
  auto op = createOp(node, loc, "resize", {*x}, attrs, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Sum, Mean, Max, Min take any number of inputs: a chain of binary ops.
LogicalResult GraphImporter::importVariadic(const ox::Node &node, Location loc) {
  SmallVector<Value> ins;
  for (unsigned i = 0; i < node.inputs.size(); ++i) {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    if (*v)
      ins.push_back(*v);
  }
  if (ins.empty())
    return emitError(loc) << node.opType << " needs at least one input";
  StringRef binary = node.opType == "Max" ? "max" : node.opType == "Min" ? "min" : "add";
  Value acc = ins[0];
  for (size_t i = 1; i < ins.size(); ++i) {
    auto op = createStep(node, loc, binary, {acc, ins[i]});
    if (failed(op))
      return failure();
    acc = (*op)->getResult(0);
  }
  if (node.opType == "Mean" && ins.size() > 1) {
    Type et = getElementTypeOrSelf(acc.getType());
    auto ty = RankedTensorType::get({}, et);
    Value n = glm::ConstantOp::create(builder, loc, ty,
                                      DenseElementsAttr::get(ty, builder.getFloatAttr(et, ins.size())));
    auto op = createStep(node, loc, "div", {acc, n});
    if (failed(op))
      return failure();
    acc = (*op)->getResult(0);
  }
  bindValue(node.outputs.at(0), acc);
  return success();
}

/// Softmax/LogSoftmax before opset 13 normalise over all dims from axis
/// (the input is coerced to 2-d); since 13 over `axis` only.
LogicalResult GraphImporter::importSoftmax(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  int64_t axis = opset >= 13 ? -1 : 1;
  if (const ox::Attribute *a = node.getAttribute("axis"))
    axis = a->i;
  std::string name = toSnakeCase(node.opType);
  auto axisAttr = builder.getNamedAttr("axis", builder.getI64IntegerAttr(axis));
  if (opset >= 13) {
    auto op = createOp(node, loc, name, {*x}, {axisAttr}, 1);
    if (failed(op))
      return failure();
    return bindOutputs(node, *op, loc);
  }
  auto xt = dyn_cast<RankedTensorType>((*x).getType());
  if (!xt)
    return emitError(loc) << node.opType << " needs a ranked input";
  auto normAxis = glm::normalizeAxis(axis, xt.getRank());
  if (!normAxis)
    return emitError(loc) << "axis " << axis << " is out of range for rank " << xt.getRank();
  if (*normAxis == xt.getRank() - 1) {
    auto op = createOp(node, loc, name, {*x}, {axisAttr}, 1);
    if (failed(op))
      return failure();
    return bindOutputs(node, *op, loc);
  }
  // Old semantics: flatten at axis, softmax over the last dim, reshape back.
  auto flat = createStep(node, loc, "flatten", {*x},
                         {builder.getNamedAttr("axis", builder.getI64IntegerAttr(*normAxis))});
  if (failed(flat))
    return failure();
  auto sm = createStep(node, loc, name, {(*flat)->getResult(0)},
                       {builder.getNamedAttr("axis", builder.getI64IntegerAttr(-1))});
  if (failed(sm))
    return failure();
  auto shape = createStep(node, loc, "shape", {*x});
  if (failed(shape))
    return failure();
  auto back = createOp(node, loc, "reshape", {(*sm)->getResult(0), (*shape)->getResult(0)}, {}, 1);
  if (failed(back))
    return failure();
  return bindOutputs(node, *back, loc);
}

LogicalResult GraphImporter::importCast(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  if (node.opType == "CastLike") {
    // CastLike (opset 15): to the element type of input 1.
    auto like = input(node, 1, loc);
    if (failed(like))
      return failure();
    if (!*x || !*like)
      return emitError(loc) << "CastLike needs two inputs";
    auto op = createOp(node, loc, "cast", {*x},
                       {builder.getNamedAttr("to", TypeAttr::get(getElementTypeOrSelf((*like).getType()))),
                        saturateAttr(node)},
                       1);
    if (failed(op))
      return failure();
    return bindOutputs(node, *op, loc);
  }
  const ox::Attribute *to = node.getAttribute("to");
  if (!to)
    return emitError(loc) << "Cast needs a 'to' attribute";
  auto et = convertElementType(static_cast<ox::DataType>(to->i), loc, "Cast target");
  if (failed(et))
    return failure();
  auto op = createOp(node, loc, "cast", {*x},
                     {builder.getNamedAttr("to", TypeAttr::get(*et)), saturateAttr(node)}, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

NamedAttribute GraphImporter::saturateAttr(const ox::Node &node) {
  const ox::Attribute *a = node.getAttribute("saturate");
  return builder.getNamedAttr("saturate", builder.getBoolAttr(!a || a->i != 0));
}

/// Pow allows an exponent of another type: cast it to the base's type.
LogicalResult GraphImporter::importPow(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), y = input(node, 1, loc);
  if (failed(x) || failed(y) || !*x || !*y)
    return failed(x) || failed(y) ? failure() : emitError(loc) << "Pow needs two inputs";
  Value exponent = *y;
  Type et = getElementTypeOrSelf((*x).getType());
  if (getElementTypeOrSelf(exponent.getType()) != et) {
    auto cast = createStep(node, loc, "cast", {exponent}, {builder.getNamedAttr("to", TypeAttr::get(et))});
    if (failed(cast))
      return failure();
    exponent = (*cast)->getResult(0);
  }
  auto op = createOp(node, loc, "pow", {*x, exponent}, {}, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Slice before opset 10 takes starts/ends/axes as attributes.
LogicalResult GraphImporter::importSlice(const ox::Node &node, Location loc) {
  if (!node.getAttribute("starts"))
    return importGeneric(node, loc, "slice");
  auto data = input(node, 0, loc);
  if (failed(data))
    return failure();
  auto ints = [&](StringRef name) -> Value {
    const ox::Attribute *a = node.getAttribute(name.str());
    if (!a)
      return {};
    auto ty = RankedTensorType::get({(int64_t)a->ints.size()}, builder.getI64Type());
    return glm::ConstantOp::create(builder, loc, ty,
                                   DenseElementsAttr::get(ty, ArrayRef<int64_t>(a->ints)));
  };
  Value starts = ints("starts"), ends = ints("ends"), axes = ints("axes");
  if (!ends)
    return emitError(loc) << "Slice needs ends";
  SmallVector<Value> operands{*data, starts, ends};
  if (axes)
    operands.push_back(axes);
  auto op = createOp(node, loc, "slice", operands, {}, 1, {1, 1, 1, axes ? 1 : 0, 0});
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// Hardmax: one_hot(arg_max(x, axis), depth = size along axis) with values
/// [0, 1] (the first of equal maxima wins). Before opset 13 the input is
/// coerced to 2-d at axis (default 1), as Softmax's.
LogicalResult GraphImporter::importHardmax(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  if (!xt)
    return emitError(loc) << "Hardmax needs a ranked input";
  int64_t axis = opset >= 13 ? -1 : 1;
  if (const ox::Attribute *a = node.getAttribute("axis"))
    axis = a->i;
  auto norm = glm::normalizeAxis(axis, xt.getRank());
  if (!norm)
    return emitError(loc) << "Hardmax axis " << axis << " is out of range for rank " << xt.getRank();
  Value in = *x;
  int64_t hAxis = *norm;
  bool coerced = opset < 13 && *norm != xt.getRank() - 1;
  if (coerced) {
    auto flat = stepValue(node, loc, "flatten", {in},
                          {builder.getNamedAttr("axis", builder.getI64IntegerAttr(*norm))});
    if (failed(flat))
      return failure();
    in = *flat;
    hAxis = 1;
  }
  auto it = cast<RankedTensorType>(in.getType());
  int64_t depth = it.getDimSize(hAxis);
  if (ShapedType::isDynamic(depth))
    return emitError(loc) << "Hardmax needs a static size along axis " << axis << ", got "
                          << (*x).getType();
  Type et = xt.getElementType();
  auto vty = RankedTensorType::get({2}, et);
  Value values = glm::ConstantOp::create(
      builder, loc, vty,
      DenseElementsAttr::get(vty, ArrayRef<Attribute>{builder.getFloatAttr(et, 0.0),
                                                      builder.getFloatAttr(et, 1.0)}));
  auto axisAttr = builder.getNamedAttr("axis", builder.getI64IntegerAttr(hAxis));
  auto idx = stepValue(node, loc, "arg_max", {in},
                       {axisAttr, builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(0))});
  if (failed(idx))
    return failure();
  SmallVector<NamedAttribute> ohAttrs{axisAttr,
                                      builder.getNamedAttr("depth", builder.getI64IntegerAttr(depth))};
  if (!coerced) {
    auto op = createOp(node, loc, "one_hot", {*idx, values}, ohAttrs, 1);
    if (failed(op))
      return failure();
    return bindOutputs(node, *op, loc);
  }
  auto oh = stepValue(node, loc, "one_hot", {*idx, values}, ohAttrs);
  auto shape = stepValue(node, loc, "shape", {*x});
  if (failed(oh) || failed(shape))
    return failure();
  auto back = createOp(node, loc, "reshape", {*oh, *shape}, {}, 1);
  if (failed(back))
    return failure();
  return bindOutputs(node, *back, loc);
}

/// NonZero's output shape is the data's count of nonzeros. Where the input
/// is known at compile time it folds here (TorchScript's repeat_interleave
/// with a constant repeat count builds its gather indices with
/// Range/Less/NonZero over static shapes); otherwise glm.non_zero counts at
/// run time and the result's second dim is dynamic.
LogicalResult GraphImporter::importNonZero(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  ElementsAttr elems = *x ? glm::getConstantElements(*x) : ElementsAttr();
  auto values = elems ? glm::getValuesAsDouble(elems) : std::nullopt;
  auto xt = elems ? dyn_cast<RankedTensorType>(elems.getType()) : RankedTensorType();
  if (!values || !xt) {
    if (!*x || !isa<RankedTensorType>((*x).getType()))
      return emitError(loc) << "NonZero needs a ranked input";
    auto op = createOp(node, loc, "non_zero", {*x}, {}, 1);
    if (failed(op))
      return failure();
    // The count is the data's: a static count declared in the model's
    // value_info holds for the exporter's sample only.
    int64_t rows = std::max<int64_t>(1, cast<RankedTensorType>((*x).getType()).getRank());
    (*op)->getResult(0).setType(RankedTensorType::get({rows, ShapedType::kDynamic}, builder.getI64Type()));
    return bindOutputs(node, *op, loc);
  }
  ArrayRef<int64_t> shape = xt.getShape();
  int64_t rank = shape.size();
  SmallVector<SmallVector<int64_t>> coords(rank);
  int64_t nnz = 0;
  for (auto [flat, v] : llvm::enumerate(*values)) {
    if (v == 0.0)
      continue;
    ++nnz;
    int64_t rest = flat;
    for (int64_t d = rank - 1; d >= 0; --d) {
      coords[d].push_back(rest % shape[d]);
      rest /= shape[d];
    }
  }
  // Row-major [rank, nnz]; a 0-d input has one row of its one index 0.
  SmallVector<int64_t> data;
  for (int64_t d = 0; d < rank; ++d)
    llvm::append_range(data, coords[d]);
  if (rank == 0) {
    data.assign(nnz, 0);
    rank = 1;
  }
  auto ty = RankedTensorType::get({rank, nnz}, builder.getI64Type());
  Value c = glm::ConstantOp::create(builder, loc, ty, glm::makeIntElements(ty, data));
  bindValue(node.outputs[0], c);
  return success();
}

FailureOr<GraphImporter::Normalized> GraphImporter::normalizeStats(const ox::Node &node, Location loc,
                                                                   Value xf, ArrayRef<int64_t> axes,
                                                                   float epsilon) {
  Type f32 = builder.getF32Type();
  auto axesAttr = builder.getNamedAttr("axes", builder.getI64ArrayAttr(axes));
  auto mean = stepValue(node, loc, "reduce_mean", {xf}, {axesAttr});
  if (failed(mean))
    return failure();
  auto dev = stepValue(node, loc, "sub", {xf, *mean});
  if (failed(dev))
    return failure();
  auto sq = stepValue(node, loc, "mul", {*dev, *dev});
  if (failed(sq))
    return failure();
  auto var = stepValue(node, loc, "reduce_mean", {*sq}, {axesAttr});
  if (failed(var))
    return failure();
  Value e = scalarConstant(loc, RankedTensorType::get({}, f32), builder.getF32FloatAttr(epsilon));
  auto ve = stepValue(node, loc, "add", {*var, e});
  if (failed(ve))
    return failure();
  auto sd = stepValue(node, loc, "sqrt", {*ve});
  if (failed(sd))
    return failure();
  auto y = stepValue(node, loc, "div", {*dev, *sd});
  if (failed(y))
    return failure();
  return Normalized{*y, *mean, *var};
}

FailureOr<Value> GraphImporter::normalizeOver(const ox::Node &node, Location loc, Value x,
                                              ArrayRef<int64_t> axes, float epsilon) {
  Type et = getElementTypeOrSelf(x.getType());
  Type f32 = builder.getF32Type();
  Value xf = x;
  if (et != f32) {
    auto c = stepValue(node, loc, "cast", {x}, {builder.getNamedAttr("to", TypeAttr::get(f32))});
    if (failed(c))
      return failure();
    xf = *c;
  }
  auto n = normalizeStats(node, loc, xf, axes, epsilon);
  if (failed(n) || et == f32)
    return failed(n) ? FailureOr<Value>(failure()) : FailureOr<Value>(n->y);
  return stepValue(node, loc, "cast", {n->y}, {builder.getNamedAttr("to", TypeAttr::get(et))});
}

/// BatchNormalization with training_mode = 1 (opset 14+): Y normalised with
/// the batch statistics (mean and biased variance over every dim but 1, in
/// f32), and the running statistics input * momentum + batch * (1 -
/// momentum), as the ONNX reference computes them.
LogicalResult GraphImporter::importBatchNormTraining(const ox::Node &node, Location loc) {
  SmallVector<Value> in;
  for (unsigned i = 0; i < 5; ++i) {
    auto v = input(node, i, loc);
    if (failed(v))
      return failure();
    if (!*v)
      return emitError(loc) << "BatchNormalization needs X, scale, B, input_mean and input_var";
    in.push_back(*v);
  }
  auto xt = dyn_cast<RankedTensorType>(in[0].getType());
  if (!xt || xt.getRank() < 2)
    return emitError(loc) << "BatchNormalization in training mode needs a ranked input of rank >= 2";
  float eps = 1e-5f, momentum = 0.9f;
  if (const ox::Attribute *a = node.getAttribute("epsilon"))
    eps = a->f;
  if (const ox::Attribute *a = node.getAttribute("momentum"))
    momentum = a->f;
  int64_t rank = xt.getRank();
  Type f32 = builder.getF32Type();
  auto cast = [&](Value v, Type to) -> FailureOr<Value> {
    if (getElementTypeOrSelf(v.getType()) == to)
      return v;
    return stepValue(node, loc, "cast", {v}, {builder.getNamedAttr("to", TypeAttr::get(to))});
  };
  auto scalar = [&](float f) {
    return scalarConstant(loc, RankedTensorType::get({}, f32), builder.getF32FloatAttr(f));
  };
  // Per-channel [C] -> [C, 1, ...] against [N, C, spatial...].
  SmallVector<int64_t> trailing;
  for (int64_t d = 1; d < rank - 1; ++d)
    trailing.push_back(d);
  auto perChannel = [&](Value v) -> FailureOr<Value> {
    auto c = cast(v, f32);
    if (failed(c) || trailing.empty())
      return c;
    return stepValue(node, loc, "unsqueeze", {*c},
                     {builder.getNamedAttr("axes", builder.getI64ArrayAttr(trailing))});
  };
  SmallVector<int64_t> axes{0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  auto xf = cast(in[0], f32);
  if (failed(xf))
    return failure();
  // Batch mean and biased variance, [1, C, 1, ...].
  auto stats = normalizeStats(node, loc, *xf, axes, eps);
  auto s = perChannel(in[1]), b = perChannel(in[2]);
  if (failed(stats) || failed(s) || failed(b))
    return failure();
  auto scaled = stepValue(node, loc, "mul", {stats->y, *s});
  if (failed(scaled))
    return failure();
  auto y = stepValue(node, loc, "add", {*scaled, *b});
  if (failed(y) || failed(y = cast(*y, xt.getElementType())))
    return failure();
  bindValue(node.outputs.at(0), *y);
  // running = input * momentum + batch * (1 - momentum), in the input's type.
  for (unsigned k = 1; k < 3 && k < node.outputs.size(); ++k) {
    if (node.outputs[k].empty())
      continue;
    Value batch = k == 1 ? stats->mean : stats->var;
    auto flat = stepValue(node, loc, "reshape", {batch, i64Constant(loc, {-1})});
    auto inF = cast(in[2 + k], f32);
    if (failed(flat) || failed(inF))
      return failure();
    auto kept = stepValue(node, loc, "mul", {*inF, scalar(momentum)});
    auto added = stepValue(node, loc, "mul", {*flat, scalar(1.0f - momentum)});
    if (failed(kept) || failed(added))
      return failure();
    auto r = stepValue(node, loc, "add", {*kept, *added});
    if (failed(r) || failed(r = cast(*r, getElementTypeOrSelf(in[2 + k].getType()))))
      return failure();
    bindValue(node.outputs[k], *r);
  }
  return success();
}

/// InstanceNormalization: each (n, c) slice normalised over the spatial
/// dims, then scale[c] and B[c].
LogicalResult GraphImporter::importInstanceNorm(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), scale = input(node, 1, loc), bias = input(node, 2, loc);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  if (!xt || xt.getRank() < 3 || !*scale || !*bias)
    return emitError(loc) << "InstanceNormalization needs an input of rank >= 3, scale and B";
  float eps = 1e-5f;
  if (const ox::Attribute *a = node.getAttribute("epsilon"))
    eps = a->f;
  int64_t rank = xt.getRank();
  SmallVector<int64_t> spatial, trailing;
  for (int64_t d = 2; d < rank; ++d)
    spatial.push_back(d);
  for (int64_t d = 1; d < rank - 1; ++d)
    trailing.push_back(d);
  auto y = normalizeOver(node, loc, *x, spatial, eps);
  if (failed(y))
    return failure();
  // [C] -> [C, 1, ...] against [N, C, spatial...].
  auto axesAttr = builder.getNamedAttr("axes", builder.getI64ArrayAttr(trailing));
  auto s = stepValue(node, loc, "unsqueeze", {*scale}, {axesAttr});
  auto b = stepValue(node, loc, "unsqueeze", {*bias}, {axesAttr});
  if (failed(s) || failed(b))
    return failure();
  auto scaled = stepValue(node, loc, "mul", {*y, *s});
  if (failed(scaled))
    return failure();
  auto op = createOp(node, loc, "add", {*scaled, *b}, {}, 1);
  if (failed(op))
    return failure();
  return bindOutputs(node, *op, loc);
}

/// GroupNormalization: x [N, C, ...] viewed as [N, G, C/G * spatial],
/// normalised over the last dim. scale and bias are per group before
/// opset 21 (applied on that view), per channel since.
LogicalResult GraphImporter::importGroupNorm(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), scale = input(node, 1, loc), bias = input(node, 2, loc);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  const ox::Attribute *groups = node.getAttribute("num_groups");
  if (!xt || xt.getRank() < 2 || !*scale || !*bias || !groups || groups->i < 1)
    return emitError(loc) << "GroupNormalization needs an input of rank >= 2, scale, bias and a "
                             "positive num_groups";
  int64_t g = groups->i, rank = xt.getRank(), c = xt.getDimSize(1);
  if (!ShapedType::isDynamic(c) && c % g != 0)
    return emitError(loc) << "GroupNormalization: " << c << " channels are not a multiple of "
                          << g << " groups";
  float eps = 1e-5f;
  if (const ox::Attribute *a = node.getAttribute("epsilon"))
    eps = a->f;
  auto grouped = stepValue(node, loc, "reshape", {*x, i64Constant(loc, {0, g, -1})});
  if (failed(grouped))
    return failure();
  auto y = normalizeOver(node, loc, *grouped, {2}, eps);
  if (failed(y))
    return failure();
  Value out = *y;
  bool perGroup = opset < 21;
  // v * scale + bias, scale and bias unsqueezed at `axes` to broadcast.
  auto applyAffine = [&](Value v, ArrayRef<int64_t> axes) -> FailureOr<Value> {
    FailureOr<Value> s = *scale, b = *bias;
    if (!axes.empty()) {
      auto axesAttr = builder.getNamedAttr("axes", builder.getI64ArrayAttr(axes));
      s = stepValue(node, loc, "unsqueeze", {*scale}, {axesAttr});
      b = stepValue(node, loc, "unsqueeze", {*bias}, {axesAttr});
    }
    if (failed(s) || failed(b))
      return failure();
    auto scaled = stepValue(node, loc, "mul", {v, *s});
    if (failed(scaled))
      return failure();
    return stepValue(node, loc, "add", {*scaled, *b});
  };
  if (perGroup) {
    auto a = applyAffine(out, {1}); // [G] -> [G, 1] against [N, G, rest]
    if (failed(a))
      return failure();
    out = *a;
  }
  auto shape = stepValue(node, loc, "shape", {*x});
  if (failed(shape))
    return failure();
  if (perGroup) {
    auto op = createOp(node, loc, "reshape", {out, *shape}, {}, 1);
    if (failed(op))
      return failure();
    return bindOutputs(node, *op, loc);
  }
  auto back = stepValue(node, loc, "reshape", {out, *shape});
  if (failed(back))
    return failure();
  SmallVector<int64_t> trailing;
  for (int64_t d = 1; d < rank - 1; ++d)
    trailing.push_back(d);
  auto a = applyAffine(*back, trailing); // [C] -> [C, 1, ...]
  if (failed(a))
    return failure();
  bindValue(node.outputs.at(0), *a);
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//
//
// The ONNX quantization ops import as compositions of existing glm ops, each
// in one fixed order so that the INT8 pass can pattern-match them:
//   dequantize      cast x to f32 -> sub zero point -> mul scale
//                   (-> cast to an f16/bf16 scale's type)
//   quantize        div scale -> round (halves to even) -> add zero point ->
//                   clip to the target type's range -> cast
//   integer matmul  cast -> sub zero point (both operands) -> mat_mul/conv
//   / conv          in float -> cast to i32 (MatMulInteger, ConvInteger)
//                   or -> mul (scale_a * scale_b / scale_y) -> add zero
//                   point -> round -> clip -> cast (QLinearMatMul/Conv)
// Scale and zero point operands are broadcast first: unsqueezed along the
// quantization axis (per-axis) or gathered by block (opset 21 blocked).
// The clip before the cast is ONNX's saturation: glm.cast of an
// out-of-range float is undefined.

std::optional<std::pair<int64_t, int64_t>> quantizedRange(Type t) {
  auto it = dyn_cast<IntegerType>(t);
  if (!it || (it.getWidth() != 4 && it.getWidth() != 8 && it.getWidth() != 16))
    return std::nullopt;
  int64_t w = it.getWidth();
  if (it.isUnsigned())
    return std::make_pair<int64_t, int64_t>(0, (int64_t(1) << w) - 1);
  return std::make_pair<int64_t, int64_t>(-(int64_t(1) << (w - 1)), (int64_t(1) << (w - 1)) - 1);
}

ox::DataType GraphImporter::declaredType(StringRef name) const {
  if (auto it = initializers.find(name); it != initializers.end())
    return it->second->dtype;
  if (auto it = valueInfos.find(name); it != valueInfos.end())
    return it->second->dtype;
  for (const ox::ValueInfo &v : model.graph.inputs)
    if (v.name == name)
      return v.dtype;
  return ox::DataType::Undefined;
}

FailureOr<Value> GraphImporter::castTo(const ox::Node &node, Location loc, Value v, Type et) {
  if (getElementTypeOrSelf(v.getType()) == et)
    return v;
  return stepValue(node, loc, "cast", {v}, {builder.getNamedAttr("to", TypeAttr::get(et))});
}

Value GraphImporter::floatScalar(Location loc, Type et, double v) {
  return scalarConstant(loc, RankedTensorType::get({}, et), builder.getFloatAttr(et, v));
}

FailureOr<Value> GraphImporter::clipTo(const ox::Node &node, Location loc, Value v, double lo,
                                       double hi) {
  Type et = getElementTypeOrSelf(v.getType());
  auto op = createOp(node, loc, "clip", {v, floatScalar(loc, et, lo), floatScalar(loc, et, hi)}, {}, 1,
                     {1, 1, 1}, /*producesNodeOutputs=*/false);
  if (failed(op))
    return failure();
  return (*op)->getResult(0);
}

FailureOr<Value> GraphImporter::quantParam(const ox::Node &node, Location loc, Value p,
                                           RankedTensorType xt, int64_t axis, int64_t blockSize,
                                           StringRef what) {
  auto pt = dyn_cast<RankedTensorType>(p.getType());
  if (!pt)
    return emitError(loc) << node.opType << " needs a ranked " << what << ", got " << p.getType();
  if (pt.getRank() == 0)
    return p;
  if (pt.hasStaticShape() && pt.getNumElements() == 1) // per tensor
    return stepValue(node, loc, "reshape", {p, i64Constant(loc, {})});
  int64_t rank = xt.getRank();
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    return emitError(loc) << node.opType << " axis " << axis << " is out of range for "
                          << xt << " (" << what << " " << pt << ")";
  int64_t dim = xt.getDimSize(a);
  if (blockSize <= 0) {
    if (pt.getRank() != 1 ||
        (!ShapedType::isDynamic(dim) && !pt.isDynamicDim(0) && pt.getDimSize(0) != dim))
      return emitError(loc) << node.opType << " " << what << " " << pt
                            << " is neither per tensor nor per axis: a per-axis " << what
                            << " has one entry per element of " << xt << " along axis " << a;
    SmallVector<int64_t> axes;
    for (int64_t d = 0; d < rank; ++d)
      if (d != a)
        axes.push_back(d);
    if (axes.empty())
      return p;
    return stepValue(node, loc, "unsqueeze", {p}, {builder.getNamedAttr("axes", builder.getI64ArrayAttr(axes))});
  }
  // Blocked: entry i / block_size along the axis for element i.
  if (pt.getRank() != rank)
    return emitError(loc) << node.opType << " with block_size " << blockSize << " needs a " << what
                          << " of x's rank, got " << pt << " for " << xt;
  if (ShapedType::isDynamic(dim))
    return emitError(loc) << node.opType << " with block_size needs a static size along axis " << a
                          << ", got " << xt;
  int64_t blocks = (dim + blockSize - 1) / blockSize;
  if (!pt.isDynamicDim(a) && pt.getDimSize(a) != blocks)
    return emitError(loc) << node.opType << " " << what << " " << pt << " does not have "
                          << blocks << " blocks of " << blockSize
                          << " along axis " << a << " of " << xt;
  SmallVector<int64_t> idx;
  for (int64_t i = 0; i < dim; ++i)
    idx.push_back(i / blockSize);
  return stepValue(node, loc, "gather", {p, i64Constant(loc, idx)},
                   {builder.getNamedAttr("axis", builder.getI64IntegerAttr(a))});
}

FailureOr<Value> GraphImporter::dequantize(const ox::Node &node, Location loc, Value x, Value scale,
                                           Value zp, int64_t axis, int64_t blockSize, Type outType) {
  auto xt = cast<RankedTensorType>(x.getType());
  Type f32 = builder.getF32Type();
  auto s = quantParam(node, loc, scale, xt, axis, blockSize, "scale");
  if (failed(s))
    return failure();
  auto v = castTo(node, loc, x, f32);
  if (failed(v))
    return failure();
  if (zp) {
    auto z = quantParam(node, loc, zp, xt, axis, blockSize, "zero point");
    if (failed(z))
      return failure();
    auto zf = castTo(node, loc, *z, f32);
    if (failed(zf))
      return failure();
    v = stepValue(node, loc, "sub", {*v, *zf});
    if (failed(v))
      return failure();
  }
  auto sf = castTo(node, loc, *s, f32);
  if (failed(sf))
    return failure();
  auto y = stepValue(node, loc, "mul", {*v, *sf});
  if (failed(y))
    return failure();
  return castTo(node, loc, *y, outType);
}

FailureOr<Value> GraphImporter::quantize(const ox::Node &node, Location loc, Value x, Value scale,
                                         Value zp, int64_t axis, int64_t blockSize, Type target,
                                         Type precision) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto range = quantizedRange(target);
  // float8 / float4 targets: x / scale + zero point, rounded and saturated
  // by the cast (Cast's rules, QuantizeLinear's `saturate`).
  bool floatTarget = isa<FloatType>(target);
  assert((range || floatTarget) && "target checked by the caller");
  Type f32 = builder.getF32Type();
  Type xe = xt.getElementType(), se = getElementTypeOrSelf(scale.getType());
  // x / scale in their common float type (f32 when they differ), or in
  // opset 23's `precision`.
  Type ct = precision ? precision : (xe == se && isa<FloatType>(xe) ? xe : f32);
  auto s = quantParam(node, loc, scale, xt, axis, blockSize, "scale");
  if (failed(s))
    return failure();
  auto xv = castTo(node, loc, x, ct), sv = castTo(node, loc, *s, ct);
  if (failed(xv) || failed(sv))
    return failure();
  auto q = stepValue(node, loc, "div", {*xv, *sv});
  if (failed(q))
    return failure();
  if (floatTarget) {
    auto r = castTo(node, loc, *q, f32);
    if (failed(r))
      return failure();
    // A float zero point is "usually not used" (ONNX) and mostly 0: adding
    // a constant 0 would turn -0 into +0, which ONNX Runtime keeps.
    bool zeroZp = false;
    if (zp)
      if (auto vals = glm::getConstantValuesAsDouble(zp))
        zeroZp = llvm::all_of(*vals, [](double v) { return v == 0.0; });
    if (zp && !zeroZp) {
      auto z = quantParam(node, loc, zp, xt, axis, blockSize, "zero point");
      auto zf = failed(z) ? z : castTo(node, loc, *z, f32);
      if (failed(zf))
        return failure();
      r = stepValue(node, loc, "add", {*r, *zf});
      if (failed(r))
        return failure();
    }
    return stepValue(node, loc, "cast", {*r},
                     {builder.getNamedAttr("to", TypeAttr::get(target)), saturateAttr(node)});
  }
  auto r = stepValue(node, loc, "round", {*q});
  if (failed(r))
    return failure();
  r = castTo(node, loc, *r, f32); // f16 holds no uint16 zero point sums
  if (failed(r))
    return failure();
  if (zp) {
    auto z = quantParam(node, loc, zp, xt, axis, blockSize, "zero point");
    if (failed(z))
      return failure();
    auto zf = castTo(node, loc, *z, f32);
    if (failed(zf))
      return failure();
    r = stepValue(node, loc, "add", {*r, *zf});
    if (failed(r))
      return failure();
  }
  auto c = clipTo(node, loc, *r, range->first, range->second);
  if (failed(c))
    return failure();
  return castTo(node, loc, *c, target);
}

LogicalResult GraphImporter::importDequantizeLinear(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), scale = input(node, 1, loc), zp = input(node, 2, loc);
  if (failed(x) || failed(scale) || failed(zp))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  if (!xt || !*scale)
    return emitError(loc) << "DequantizeLinear needs a ranked x and x_scale";
  Type xe = xt.getElementType();
  auto xi = dyn_cast<IntegerType>(xe);
  bool narrowFloat = isa<FloatType>(xe) && glm::isNarrowType(xe);
  if (!narrowFloat && (!xi || !(xi.getWidth() == 4 || xi.getWidth() == 8 || xi.getWidth() == 16 ||
                                (xi.getWidth() == 32 && !xi.isUnsigned()))))
    return emitError(loc) << "DequantizeLinear of " << xt.getElementType()
                          << " is not supported; glmc dequantizes int4, uint4, int8, uint8, int16, "
                             "uint16, int32, float8 and float4e2m1";
  if (*zp && getElementTypeOrSelf((*zp).getType()) != xt.getElementType())
    return emitError(loc) << "DequantizeLinear x_zero_point must have x's element type "
                          << xt.getElementType() << ", got " << (*zp).getType();
  Type outType = getElementTypeOrSelf((*scale).getType());
  if (const ox::Attribute *od = node.getAttribute("output_dtype"); od && od->i) {
    auto et = convertElementType(static_cast<ox::DataType>(od->i), loc, "DequantizeLinear output_dtype");
    if (failed(et))
      return failure();
    outType = *et;
  }
  if (!isa<FloatType>(outType))
    return emitError(loc) << "DequantizeLinear needs a float scale, got " << (*scale).getType();
  const ox::Attribute *axis = node.getAttribute("axis");
  const ox::Attribute *block = node.getAttribute("block_size");
  auto y = dequantize(node, loc, *x, *scale, *zp, axis ? axis->i : 1, block ? block->i : 0, outType);
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  return success();
}

LogicalResult GraphImporter::importQuantizeLinear(const ox::Node &node, Location loc) {
  // The target type: the zero point's, else output_dtype (opset 21), else
  // uint8. Checked on the declared type first so that a float8 or int4
  // zero point is refused by name, before its constant is made.
  ox::DataType dt = ox::DataType::Undefined;
  std::string zpName = node.inputs.size() > 2 ? node.inputs[2] : "";
  if (!zpName.empty())
    dt = declaredType(zpName);
  const ox::Attribute *od = node.getAttribute("output_dtype");
  if (dt == ox::DataType::Undefined && od && od->i)
    dt = static_cast<ox::DataType>(od->i);
  if (dt == ox::DataType::Undefined && zpName.empty())
    dt = ox::DataType::UInt8;
  auto refuse = [&](StringRef type) {
    return emitError(loc) << "QuantizeLinear to " << type
                          << " is not supported: glmc quantizes to int4, uint4, int8, uint8, int16, "
                             "uint16, float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz) and float4e2m1";
  };
  switch (dt) {
  case ox::DataType::Undefined: case ox::DataType::Int4: case ox::DataType::UInt4:
  case ox::DataType::Int8: case ox::DataType::UInt8: case ox::DataType::Int16:
  case ox::DataType::UInt16: case ox::DataType::Float8E4M3FN: case ox::DataType::Float8E4M3FNUZ:
  case ox::DataType::Float8E5M2: case ox::DataType::Float8E5M2FNUZ: case ox::DataType::Float4E2M1:
    break;
  default:
    return refuse(ox::dataTypeName(dt));
  }
  auto x = input(node, 0, loc), scale = input(node, 1, loc), zp = input(node, 2, loc);
  if (failed(x) || failed(scale) || failed(zp))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  if (!xt || !*scale)
    return emitError(loc) << "QuantizeLinear needs a ranked x and y_scale";
  Type target;
  if (*zp) {
    target = getElementTypeOrSelf((*zp).getType());
  } else {
    auto et = convertElementType(dt, loc, "QuantizeLinear output_dtype");
    if (failed(et))
      return failure();
    target = *et;
  }
  if (!quantizedRange(target) && !(isa<FloatType>(target) && glm::isNarrowType(target))) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << target;
    return refuse(s);
  }
  if (od && od->i && *zp) {
    auto et = convertElementType(static_cast<ox::DataType>(od->i), loc, "QuantizeLinear output_dtype");
    if (failed(et))
      return failure();
    if (*et != target)
      return emitError(loc) << "QuantizeLinear output_dtype " << *et
                            << " differs from the zero point's type " << target;
  }
  Type precision;
  if (const ox::Attribute *p = node.getAttribute("precision"); p && p->i) {
    auto et = convertElementType(static_cast<ox::DataType>(p->i), loc, "QuantizeLinear precision");
    if (failed(et))
      return failure();
    precision = *et;
  }
  const ox::Attribute *axis = node.getAttribute("axis");
  const ox::Attribute *block = node.getAttribute("block_size");
  auto y = quantize(node, loc, *x, *scale, *zp, axis ? axis->i : 1, block ? block->i : 0, target,
                    precision);
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  return success();
}

/// The ONNX function body of DynamicQuantizeLinear (opset 11), then the
/// quantize form above with the computed scale and zero point.
LogicalResult GraphImporter::importDynamicQuantizeLinear(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc);
  if (failed(x))
    return failure();
  auto xt = dyn_cast_or_null<RankedTensorType>(*x ? (*x).getType() : Type());
  if (!xt || !xt.getElementType().isF32())
    return emitError(loc) << "DynamicQuantizeLinear needs a ranked f32 input";
  Type f32 = builder.getF32Type(), u8 = builder.getIntegerType(8, /*isSigned=*/false);
  auto all = builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(0));
  Value zero = floatScalar(loc, f32, 0.0);
  auto xmin = stepValue(node, loc, "reduce_min", {*x}, {all});
  auto xmax = stepValue(node, loc, "reduce_max", {*x}, {all});
  if (failed(xmin) || failed(xmax))
    return failure();
  auto lo = stepValue(node, loc, "min", {*xmin, zero});
  auto hi = stepValue(node, loc, "max", {*xmax, zero});
  if (failed(lo) || failed(hi))
    return failure();
  auto range = stepValue(node, loc, "sub", {*hi, *lo});
  if (failed(range))
    return failure();
  auto scale = stepValue(node, loc, "div", {*range, floatScalar(loc, f32, 255.0)});
  if (failed(scale))
    return failure();
  auto minScaled = stepValue(node, loc, "div", {*lo, *scale});
  if (failed(minScaled))
    return failure();
  auto zpf = stepValue(node, loc, "sub", {zero, *minScaled});
  if (failed(zpf))
    return failure();
  zpf = clipTo(node, loc, *zpf, 0, 255);
  if (failed(zpf))
    return failure();
  zpf = stepValue(node, loc, "round", {*zpf});
  if (failed(zpf))
    return failure();
  auto zp = castTo(node, loc, *zpf, u8);
  if (failed(zp))
    return failure();
  auto y = quantize(node, loc, *x, *scale, *zp, 1, 0, u8, Type());
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  if (node.outputs.size() > 1 && !node.outputs[1].empty())
    bindValue(node.outputs[1], *scale);
  if (node.outputs.size() > 2 && !node.outputs[2].empty())
    bindValue(node.outputs[2], *zp);
  return success();
}

/// The float type that holds the integer dot products of `k` terms
/// (a - a_zero_point) * (b - b_zero_point) of 8-bit types, |term| <= 255^2,
/// plus `extra` (a bias bound) exactly: f32 while every partial sum stays
/// within its 24-bit mantissa (k <= 258 without bias), f64 otherwise
/// (53 bits: exact for any k an int32 result can hold).
Type GraphImporter::accumulatorType(int64_t k, uint64_t extra) {
  if (!ShapedType::isDynamic(k) && (uint64_t)k * 255 * 255 + extra <= (uint64_t(1) << 24))
    return builder.getF32Type();
  return builder.getF64Type();
}

/// x - zero point in `ft`: cast, then sub (zero point already broadcast).
FailureOr<Value> GraphImporter::centered(const ox::Node &node, Location loc, Value x, Value zp,
                                         Type ft) {
  auto v = castTo(node, loc, x, ft);
  if (failed(v) || !zp)
    return v;
  auto z = castTo(node, loc, zp, ft);
  if (failed(z))
    return failure();
  return stepValue(node, loc, "sub", {*v, *z});
}

static bool isInt8(Type t) {
  auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return it && it.getWidth() == 8;
}

FailureOr<Value> GraphImporter::integerMatMul(const ox::Node &node, Location loc, Value a, Value azp,
                                              Value b, Value bzp) {
  auto at = dyn_cast<RankedTensorType>(a.getType()), bt = dyn_cast<RankedTensorType>(b.getType());
  if (!at || !bt || !isInt8(at) || !isInt8(bt) || at.getRank() < 1 || bt.getRank() < 1)
    return emitError(loc) << node.opType << " needs ranked int8 or uint8 A and B, got " << a.getType()
                          << " and " << b.getType();
  Type ft = accumulatorType(at.getDimSize(at.getRank() - 1), 0);
  // a's zero point is per tensor or per row (axis -2), b's per column.
  if (azp) {
    auto z = quantParam(node, loc, azp, at, at.getRank() - 2, 0, "A zero point");
    if (failed(z))
      return failure();
    azp = *z;
  }
  if (bzp) {
    auto z = quantParam(node, loc, bzp, bt, bt.getRank() - 1, 0, "B zero point");
    if (failed(z))
      return failure();
    bzp = *z;
  }
  auto av = centered(node, loc, a, azp, ft), bv = centered(node, loc, b, bzp, ft);
  if (failed(av) || failed(bv))
    return failure();
  return stepValue(node, loc, "mat_mul", {*av, *bv});
}

FailureOr<Value> GraphImporter::integerConv(const ox::Node &node, Location loc, Value x, Value xzp,
                                            Value w, Value wzp, Value bias) {
  auto xt = dyn_cast<RankedTensorType>(x.getType()), wt = dyn_cast<RankedTensorType>(w.getType());
  if (!xt || !wt || !isInt8(xt) || !isInt8(wt) || wt.getRank() < 3)
    return emitError(loc) << node.opType << " needs ranked int8 or uint8 x and w, got " << x.getType()
                          << " and " << w.getType();
  int64_t k = 1;
  for (int64_t d : wt.getShape().drop_front())
    k = ShapedType::isDynamic(d) || ShapedType::isDynamic(k) ? kDyn : k * d;
  uint64_t extra = 0;
  if (bias) {
    auto b = glm::getConstantIntValues(bias);
    if (!b)
      k = kDyn; // an unknown int32 bias: f64
    else
      for (int64_t v : *b)
        extra = std::max<uint64_t>(extra, (uint64_t)std::abs(v));
  }
  Type ft = accumulatorType(k, extra);
  if (xzp) {
    auto z = quantParam(node, loc, xzp, xt, 1, 0, "x zero point");
    if (failed(z))
      return failure();
    if (cast<RankedTensorType>((*z).getType()).getRank() != 0)
      return emitError(loc) << node.opType << " needs a per-tensor x zero point, got " << xzp.getType();
    xzp = *z;
  }
  if (wzp) {
    auto z = quantParam(node, loc, wzp, wt, 0, 0, "w zero point"); // per output channel
    if (failed(z))
      return failure();
    wzp = *z;
  }
  auto xv = centered(node, loc, x, xzp, ft), wv = centered(node, loc, w, wzp, ft);
  if (failed(xv) || failed(wv))
    return failure();
  SmallVector<Value> operands = {*xv, *wv};
  if (bias) {
    auto bv = castTo(node, loc, bias, ft);
    if (failed(bv))
      return failure();
    operands.push_back(*bv);
  }
  auto convName = RegisteredOperationName::lookup("glm.conv", &ctx);
  auto attrs = windowAttributes(node, loc, *convName, x, w);
  if (failed(attrs))
    return failure();
  return stepValue(node, loc, "conv", operands, *attrs);
}

/// acc * (s_a * s_b / s_y) + y zero point, rounded, clipped, cast: the
/// requantization of QLinearMatMul/QLinearConv. The multiplier is computed
/// in the scales' type as the ONNX reference does; `sa`, `sb` and `sy` are
/// broadcast against the accumulator already.
FailureOr<Value> GraphImporter::requantize(const ox::Node &node, Location loc, Value acc, Value sa,
                                           Value sb, Value sy, Value yzp, Type target) {
  Type ft = getElementTypeOrSelf(acc.getType());
  auto range = quantizedRange(target);
  if (!range)
    return emitError(loc) << node.opType << " output type " << target << " is not int8 or uint8";
  auto m = stepValue(node, loc, "mul", {sa, sb});
  if (failed(m))
    return failure();
  m = stepValue(node, loc, "div", {*m, sy});
  if (failed(m))
    return failure();
  m = castTo(node, loc, *m, ft);
  if (failed(m))
    return failure();
  auto y = stepValue(node, loc, "mul", {acc, *m});
  if (failed(y))
    return failure();
  if (yzp) {
    auto z = castTo(node, loc, yzp, ft);
    if (failed(z))
      return failure();
    y = stepValue(node, loc, "add", {*y, *z});
    if (failed(y))
      return failure();
  }
  y = stepValue(node, loc, "round", {*y});
  if (failed(y))
    return failure();
  y = clipTo(node, loc, *y, range->first, range->second);
  if (failed(y))
    return failure();
  return castTo(node, loc, *y, target);
}

LogicalResult GraphImporter::importMatMulInteger(const ox::Node &node, Location loc) {
  auto a = input(node, 0, loc), b = input(node, 1, loc), azp = input(node, 2, loc),
       bzp = input(node, 3, loc);
  if (failed(a) || failed(b) || failed(azp) || failed(bzp))
    return failure();
  if (!*a || !*b)
    return emitError(loc) << "MatMulInteger needs A and B";
  auto acc = integerMatMul(node, loc, *a, *azp, *b, *bzp);
  if (failed(acc))
    return failure();
  auto y = castTo(node, loc, *acc, builder.getIntegerType(32));
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  return success();
}

LogicalResult GraphImporter::importConvInteger(const ox::Node &node, Location loc) {
  auto x = input(node, 0, loc), w = input(node, 1, loc), xzp = input(node, 2, loc),
       wzp = input(node, 3, loc);
  if (failed(x) || failed(w) || failed(xzp) || failed(wzp))
    return failure();
  if (!*x || !*w)
    return emitError(loc) << "ConvInteger needs x and w";
  auto acc = integerConv(node, loc, *x, *xzp, *w, *wzp, Value());
  if (failed(acc))
    return failure();
  auto y = castTo(node, loc, *acc, builder.getIntegerType(32));
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  return success();
}

LogicalResult GraphImporter::importQLinearMatMul(const ox::Node &node, Location loc) {
  auto all = inputs(node, 8, loc);
  if (failed(all))
    return failure();
  SmallVector<Value> &in = *all;
  // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
  if (llvm::any_of(ArrayRef<Value>(in).take_front(7), [](Value v) { return !v; }))
    return emitError(loc) << "QLinearMatMul needs its first seven inputs";
  auto acc = integerMatMul(node, loc, in[0], in[2], in[3], in[5]);
  if (failed(acc))
    return failure();
  auto at = cast<RankedTensorType>(in[0].getType()), bt = cast<RankedTensorType>(in[3].getType());
  auto yt = cast<RankedTensorType>((*acc).getType());
  // Scales per tensor, per row of a, per column of b and y.
  auto sa = quantParam(node, loc, in[1], at, at.getRank() - 2, 0, "a scale");
  auto sb = quantParam(node, loc, in[4], bt, bt.getRank() - 1, 0, "b scale");
  auto sy = quantParam(node, loc, in[6], yt, yt.getRank() - 1, 0, "y scale");
  if (failed(sa) || failed(sb) || failed(sy))
    return failure();
  Value yzp = in[7];
  if (yzp) {
    auto z = quantParam(node, loc, yzp, yt, yt.getRank() - 1, 0, "y zero point");
    if (failed(z))
      return failure();
    yzp = *z;
  }
  Type target = yzp ? getElementTypeOrSelf(yzp.getType()) : at.getElementType();
  auto y = requantize(node, loc, *acc, *sa, *sb, *sy, yzp, target);
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  return success();
}

LogicalResult GraphImporter::importQLinearConv(const ox::Node &node, Location loc) {
  auto all = inputs(node, 9, loc);
  if (failed(all))
    return failure();
  SmallVector<Value> &in = *all;
  // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
  if (!in[0] || !in[1] || !in[3] || !in[4] || !in[6])
    return emitError(loc) << "QLinearConv needs x, x_scale, w, w_scale and y_scale";
  auto acc = integerConv(node, loc, in[0], in[2], in[3], in[5], in[8]);
  if (failed(acc))
    return failure();
  auto yt = cast<RankedTensorType>((*acc).getType());
  // x and y per tensor, w per tensor or per output channel (axis 1 of y).
  auto sx = quantParam(node, loc, in[1], yt, 1, 0, "x scale");
  auto sw = quantParam(node, loc, in[4], yt, 1, 0, "w scale");
  auto sy = quantParam(node, loc, in[6], yt, 1, 0, "y scale");
  if (failed(sx) || failed(sw) || failed(sy))
    return failure();
  Value yzp = in[7];
  if (yzp) {
    auto z = quantParam(node, loc, yzp, yt, 1, 0, "y zero point");
    if (failed(z))
      return failure();
    yzp = *z;
  }
  Type target = yzp ? getElementTypeOrSelf(yzp.getType()) : getElementTypeOrSelf(in[0].getType());
  auto y = requantize(node, loc, *acc, *sx, *sw, *sy, yzp, target);
  if (failed(y))
    return failure();
  bindValue(node.outputs.at(0), *y);
  return success();
}

const llvm::StringMap<GraphImporter::Handler> &GraphImporter::handlers() {
  static const llvm::StringMap<Handler> table = [] {
    llvm::StringMap<Handler> t;
    t["Constant"] = &GraphImporter::importConstant;
    t["Identity"] = &GraphImporter::importIdentity;
    t["Dropout"] = &GraphImporter::importIdentity;
    t["Conv"] = &GraphImporter::importWindowOp;
    t["MaxPool"] = &GraphImporter::importWindowOp;
    t["AveragePool"] = &GraphImporter::importWindowOp;
    t["ConvTranspose"] = &GraphImporter::importConvTranspose;
    t["TopK"] = &GraphImporter::importTopK;
    t["Einsum"] = &GraphImporter::importEinsum;
    t["Unsqueeze"] = [](GraphImporter &g, const ox::Node &n, Location l) {
      return g.importAxesInput(n, l, /*optionalAxes=*/false);
    };
    t["Squeeze"] = [](GraphImporter &g, const ox::Node &n, Location l) {
      return g.importAxesInput(n, l, /*optionalAxes=*/true);
    };
    for (const char *r : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                          "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"})
      t[r] = &GraphImporter::importReduce;
    t["Split"] = &GraphImporter::importSplit;
    t["Clip"] = &GraphImporter::importClip;
    t["Pad"] = &GraphImporter::importPad;
    t["Resize"] = &GraphImporter::importResize;
    t["DepthToSpace"] = &GraphImporter::importDepthSpace;
    t["CumSum"] = &GraphImporter::importScalarParam;
    t["OneHot"] = &GraphImporter::importScalarParam;
    t["SpaceToDepth"] = &GraphImporter::importDepthSpace;
    t["Upsample"] = &GraphImporter::importResize;
    for (const char *v : {"Sum", "Mean", "Max", "Min"})
      t[v] = &GraphImporter::importVariadic;
    t["Softmax"] = &GraphImporter::importSoftmax;
    t["LogSoftmax"] = &GraphImporter::importSoftmax;
    t["Cast"] = &GraphImporter::importCast;
    t["CastLike"] = &GraphImporter::importCast;
    t["Pow"] = &GraphImporter::importPow;
    t["Slice"] = &GraphImporter::importSlice;
    t["BatchNormalization"] = [](GraphImporter &g, const ox::Node &n, Location l) {
      if (const ox::Attribute *tm = n.getAttribute("training_mode"); tm && tm->i != 0)
        return g.importBatchNormTraining(n, l);
      if (failed(g.importSingleOutput(n, l, "running statistics")))
        return failure();
      return g.importGeneric(n, l);
    };
    t["IsNaN"] = [](GraphImporter &g, const ox::Node &n, Location l) {
      return g.importGeneric(n, l, "is_nan");
    };
    t["RMSNormalization"] = &GraphImporter::importRMSNormalization;
    t["RotaryEmbedding"] = &GraphImporter::importRotaryEmbedding;
    t["Attention"] = &GraphImporter::importAttention;
    t["LayerNormalization"] = &GraphImporter::importLayerNorm;
    t["Hardmax"] = &GraphImporter::importHardmax;
    t["NonZero"] = &GraphImporter::importNonZero;
    t["InstanceNormalization"] = &GraphImporter::importInstanceNorm;
    t["GroupNormalization"] = &GraphImporter::importGroupNorm;
    t["DequantizeLinear"] = &GraphImporter::importDequantizeLinear;
    t["QuantizeLinear"] = &GraphImporter::importQuantizeLinear;
    t["DynamicQuantizeLinear"] = &GraphImporter::importDynamicQuantizeLinear;
    t["MatMulInteger"] = &GraphImporter::importMatMulInteger;
    t["ConvInteger"] = &GraphImporter::importConvInteger;
    t["QLinearMatMul"] = &GraphImporter::importQLinearMatMul;
    t["QLinearConv"] = &GraphImporter::importQLinearConv;
    return t;
  }();
  return table;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

/// Why glmc cannot import `node`, or "" when it can.
std::string GraphImporter::unsupportedReason(const ox::Node &node) const {
  if (!node.domain.empty() && node.domain != "ai.onnx")
    return "from domain '" + node.domain + "' (glmc supports the default ONNX domain)";
  for (const ox::Attribute &a : node.attributes)
    if (a.kind == ox::Attribute::Kind::Graph)
      return "with a subgraph (control flow is not supported)";
  if (handlers().count(node.opType) ||
      RegisteredOperationName::lookup("glm." + toSnakeCase(node.opType), &ctx))
    return "";
  return "not implemented";
}

LogicalResult GraphImporter::checkSupported() {
  // Every unsupported op at once, with its nodes, so that a user sees the
  // whole list instead of fixing one op per run.
  struct Unsupported {
    std::string opType, reason;
    SmallVector<unsigned> nodes;
  };
  std::vector<Unsupported> found; // in order of first use
  llvm::StringMap<size_t> index;
  const ox::Graph &g = model.graph;
  for (auto [i, node] : llvm::enumerate(g.nodes)) {
    std::string reason = unsupportedReason(node);
    if (reason.empty())
      continue;
    auto [it, inserted] = index.try_emplace(node.domain + "::" + node.opType + "::" + reason, found.size());
    if (inserted)
      found.emplace_back();
    Unsupported &u = found[it->second];
    u.opType = node.opType;
    u.reason = reason;
    u.nodes.push_back(i);
  }
  if (found.empty())
    return success();
  size_t numNodes = 0;
  SmallVector<std::string> names;
  for (const Unsupported &u : found) {
    numNodes += u.nodes.size();
    names.push_back("'" + u.opType + "'");
  }
  const Unsupported &first = found.front();
  Location loc = nodeLoc(g.nodes[first.nodes.front()], first.nodes.front());
  auto diag = emitError(loc) << (found.size() == 1 ? "unsupported ONNX op " : "unsupported ONNX ops ")
                             << llvm::join(names, ", ") << " (" << found.size()
                             << (found.size() == 1 ? " op, " : " ops, ") << numNodes
                             << (numNodes == 1 ? " node)" : " nodes)");
  constexpr size_t kMaxNamedNodes = 8;
  for (const Unsupported &u : found) {
    const ox::Node &n = g.nodes[u.nodes.front()];
    SmallVector<std::string> nodeNames;
    for (unsigned k : ArrayRef<unsigned>(u.nodes).take_front(kMaxNamedNodes))
      nodeNames.push_back("'" + (g.nodes[k].name.empty() ? "#" + std::to_string(k) : g.nodes[k].name) + "'");
    std::string more = u.nodes.size() > kMaxNamedNodes
                           ? ", and " + std::to_string(u.nodes.size() - kMaxNamedNodes) + " more"
                           : "";
    std::string domain = n.domain.empty() ? "ai.onnx" : n.domain;
    diag.attachNote(nodeLoc(n, u.nodes.front()))
        << "'" << u.opType << "' " << u.reason << ", " << domain << " opset "
        << model.getOpsetVersion(n.domain) << ", " << u.nodes.size()
        << (u.nodes.size() == 1 ? " node: " : " nodes: ") << llvm::join(nodeNames, ", ") << more;
  }
  diag.attachNote() << "glmc supports: " << llvm::join(getSupportedOnnxOps(), ", ");
  return failure();
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  opset = model.getOpsetVersion();
  const ox::Graph &g = model.graph;
  for (const ox::TensorData &t : g.initializers)
    initializers[t.name] = &t;
  for (const ox::ValueInfo &v : g.valueInfos)
    valueInfos[v.name] = &v;
  for (const ox::ValueInfo &v : g.outputs)
    valueInfos[v.name] = &v;

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc());
  builder.setInsertionPointToEnd(module->getBody());

  // Graph inputs that are also initializers are constants (IR < 4 style).
  SmallVector<const ox::ValueInfo *> inputs;
  SmallVector<Type> inputTypes;
  for (const ox::ValueInfo &v : g.inputs) {
    if (initializers.count(v.name))
      continue;
    Location loc = NameLoc::get(StringAttr::get(&ctx, v.name), fileLoc());
    auto ty = convertValueInfoType(v, loc, /*requireShape=*/true);
    if (failed(ty))
      return nullptr;
    inputs.push_back(&v);
    inputTypes.push_back(*ty);
  }
  if (g.outputs.empty()) {
    emitError(fileLoc()) << "the graph has no outputs";
    return nullptr;
  }
  auto func = func::FuncOp::create(builder, fileLoc(), options.functionName,
                                   builder.getFunctionType(inputTypes, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  func->setAttr("glm.entry", builder.getUnitAttr());
  for (auto [i, v] : llvm::enumerate(inputs)) {
    bindValue(v->name, entry->getArgument(i));
    func.setArgAttr(i, "glm.name", builder.getStringAttr(v->name));
    // Symbolic dims ("batch", "seq"), kept so that --emit=onnx writes them back.
    if (llvm::any_of(v->dimParams, [](const std::string &d) { return !d.empty(); })) {
      SmallVector<Attribute> params;
      for (const std::string &d : v->dimParams)
        params.push_back(builder.getStringAttr(d));
      func.setArgAttr(i, "glm.dim_params", builder.getArrayAttr(params));
    }
  }

  if (failed(checkSupported()))
    return nullptr;
  for (const ox::Node &node : g.nodes) {
    Location loc = nodeLoc(node, nodeIndex++);
    auto it = handlers().find(node.opType);
    LogicalResult result = it != handlers().end() ? it->second(*this, node, loc)
                                                  : importGeneric(node, loc);
    if (failed(result))
      return nullptr;
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  SmallVector<Attribute> resultNames;
  for (const ox::ValueInfo &v : g.outputs) {
    auto value = lookup(v.name, fileLoc());
    if (failed(value) || !*value) {
      if (succeeded(value))
        emitError(fileLoc()) << "graph output '" << v.name << "' is not produced";
      return nullptr;
    }
    results.push_back(*value);
    resultTypes.push_back((*value).getType());
    resultNames.push_back(builder.getStringAttr(v.name));
  }
  func::ReturnOp::create(builder, fileLoc(), results);
  // Constants that import-time folding left without uses (the operands of
  // folded shape arithmetic).
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isa<glm::ConstantOp>(op) && op.use_empty())
      op.erase();
  func.setFunctionType(builder.getFunctionType(inputTypes, resultTypes));
  for (auto [i, name] : llvm::enumerate(resultNames))
    func.setResultAttr(i, "glm.name", name);
  module->getOperation()->setAttr("glm.producer",
                                  builder.getStringAttr(model.producerName + " " +
                                                        model.producerVersion));
  module->getOperation()->setAttr("glm.opset", builder.getI64IntegerAttr(opset));
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

std::vector<std::string> glmc::importer::getSupportedOnnxOps() {
  static const char *const ops[] = {
      "Abs", "Add", "And", "Attention", "AveragePool", "BatchNormalization", "Cast", "CastLike", "Ceil", "Clip",
      "Concat", "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "Div", "Dropout", "Einsum", "Elu", "Equal", "Erf",
      "Exp", "Expand", "Flatten", "Floor", "Gather", "GatherElements", "GatherND", "Gelu", "Gemm",
      "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish",
      "Identity", "IsInf", "IsNaN", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "Log",
      "LogSoftmax", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mish", "Mod", "Mul", "Neg", "Not",
      "Or", "PRelu", "Pad", "Pow", "RMSNormalization", "Range", "Reciprocal", "ReduceMax",
      "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMean", "ReduceMin", "ReduceProd",
      "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize",
      "RotaryEmbedding", "ScatterND", "Round", "Selu", "Shape", "Sigmoid", "Sign", "Sin", "Size", "Slice", "Softmax", "Softplus",
      "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Tile", "TopK", "Transpose", "Trilu", "Unsqueeze",
      "Upsample", "Where", "Xor", "DepthToSpace", "SpaceToDepth", "ArgMax", "ArgMin", "BitShift",
      "CumSum", "OneHot", "Hardmax", "InstanceNormalization", "GroupNormalization",
      "DequantizeLinear", "QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
      "QLinearMatMul", "QLinearConv", "NonZero"};
  std::vector<std::string> sorted(std::begin(ops), std::end(ops));
  llvm::sort(sorted);
  return sorted;
}

ImportResult glmc::importer::importOnnxFile(MLIRContext &context, const std::string &path,
                                            const ImportOptions &options) {
  ImportResult result;
  context.loadDialect<glm::GLMDialect, func::FuncDialect>();
  ox::LoadOptions loadOptions;
  loadOptions.check = options.check;
  loadOptions.inferShapes = options.onnxShapeInference;
  ox::LoadResult loaded = ox::loadModel(path, loadOptions);
  if (!loaded.model) {
    // The loader's message names the file already.
    emitError(UnknownLoc::get(&context)) << loaded.error;
    return result;
  }
  int64_t opset = loaded.model->getOpsetVersion();
  if (opset > kMaxOpset) {
    emitError(FileLineColLoc::get(&context, path, 0, 0))
        << "the model uses ONNX opset " << opset << ", newer than the opsets glmc knows (up to "
        << kMaxOpset << "); re-export it with an older opset";
    return result;
  }
  result.warnings = loaded.model->warnings;
  result.producer = loaded.model->producerName + " " + loaded.model->producerVersion;
  result.opsetVersion = loaded.model->getOpsetVersion();
  for (auto [data, size] : loaded.model->fileMappings)
    result.fileMappings.emplace_back(data, size);
  GraphImporter importer(context, *loaded.model, options);
  result.module = importer.run();
  return result;
}
