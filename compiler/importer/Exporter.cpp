//===- Exporter.cpp - glm dialect → ONNX -----------------------------------===//

#include "compiler/importer/Exporter.h"

#include "compiler/importer/onnx/OnnxModel.h"
#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstring>

using namespace mlir;
namespace ox = glmc::importer::onnx;

namespace {

/// The opset the exporter writes: the newest one libonnx 1.12's checker and
/// every ONNX Runtime of the last years know.
constexpr int64_t kExportOpset = 17;
constexpr int64_t kExportIrVersion = 8;

/// "global_average_pool" → "GlobalAveragePool".
std::string onnxOpType(StringRef mnemonic) {
  // Op types whose capitals snake_case does not keep.
  if (mnemonic == "is_nan")
    return "IsNaN";
  if (mnemonic == "gather_nd")
    return "GatherND";
  if (mnemonic == "scatter_nd")
    return "ScatterND";
  std::string out;
  bool upper = true;
  for (char c : mnemonic) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? llvm::toUpper(c) : c);
    upper = false;
  }
  return out;
}

class GraphExporter {
public:
  GraphExporter(func::FuncOp func, const glmc::importer::ExportOptions &options)
      : func(func), options(options) {}

  FailureOr<ox::Model> run();

private:
  func::FuncOp func;
  const glmc::importer::ExportOptions &options;
  ox::Model model;
  llvm::DenseMap<Value, std::string> names;
  /// Names graph outputs should get when their producer is exported.
  llvm::DenseMap<Value, std::string> outputNames;
  llvm::StringSet<> usedValueNames, usedNodeNames;

  std::string uniqueValueName(StringRef base);
  std::string uniqueNodeName(StringRef base);
  FailureOr<ox::DataType> dataTypeOf(Type elementType, Location loc);
  FailureOr<ox::ValueInfo> valueInfo(StringRef name, Type type, ArrayAttr dimParams,
                                     Location loc);
  FailureOr<ox::TensorData> encode(ElementsAttr attr, StringRef name, Location loc);
  /// A new initializer holding `values` (i64), for inputs that glm keeps as
  /// attributes (axes, split sizes).
  std::string addI64Initializer(StringRef base, ArrayRef<int64_t> values);
  std::string addF32Initializer(StringRef base, ArrayRef<float> values);
  /// A 1-d initializer of `count` elements of `dtype` holding `bytes`.
  std::string addVectorInitializer(StringRef base, ox::DataType dtype, ArrayRef<char> bytes,
                                   int64_t count);
  /// A new scalar initializer of `elementType` (float or integer), for
  /// decompositions and quantization parameters.
  FailureOr<std::string> addScalarInitializer(StringRef base, double value, Type elementType,
                                              Location loc);
  FailureOr<std::vector<ox::Attribute>> convertAttributes(Operation *op);
  LogicalResult exportConstant(glm::ConstantOp op);
  LogicalResult exportOp(Operation *op);
  LogicalResult exportQuantCast(Operation *op);
  /// Appends a node; returns its (single) output name.
  std::string addNode(StringRef opType, StringRef nodeName, std::vector<std::string> inputs,
                      std::string output, std::vector<ox::Attribute> attributes = {});
};

std::string GraphExporter::uniqueValueName(StringRef base) {
  std::string name = base.empty() ? std::string("v") : base.str();
  for (unsigned k = 1; !usedValueNames.insert(name).second; ++k)
    name = base.str() + "_" + std::to_string(k);
  return name;
}

std::string GraphExporter::uniqueNodeName(StringRef base) {
  std::string name = base.str();
  for (unsigned k = 1; !usedNodeNames.insert(name).second; ++k)
    name = base.str() + "#" + std::to_string(k);
  return name;
}

FailureOr<ox::DataType> GraphExporter::dataTypeOf(Type t, Location loc) {
  if (t.isF32())
    return ox::DataType::Float;
  if (t.isF16())
    return ox::DataType::Float16;
  if (t.isBF16())
    return ox::DataType::BFloat16;
  if (t.isF64())
    return ox::DataType::Double;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 1: return ox::DataType::Bool;
    case 8: return u ? ox::DataType::UInt8 : ox::DataType::Int8;
    case 16: return u ? ox::DataType::UInt16 : ox::DataType::Int16;
    case 32: return u ? ox::DataType::UInt32 : ox::DataType::Int32;
    case 64: return u ? ox::DataType::UInt64 : ox::DataType::Int64;
    default: break;
    }
  }
  emitError(loc) << "cannot export element type " << t << " to ONNX"
                 << (isa<FloatType, IntegerType>(t) ? " opset 17 (float8, float4 and 4-bit integers need opset 21)" : "");
  return failure();
}

FailureOr<ox::ValueInfo> GraphExporter::valueInfo(StringRef name, Type type, ArrayAttr dimParams,
                                                  Location loc) {
  ox::ValueInfo v;
  v.name = name.str();
  auto dt = dataTypeOf(getElementTypeOrSelf(type), loc);
  if (failed(dt))
    return failure();
  v.dtype = *dt;
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return v;
  v.hasShape = true;
  for (auto [i, d] : llvm::enumerate(ranked.getShape())) {
    v.dims.push_back(ShapedType::isDynamic(d) ? -1 : d);
    std::string param;
    if (ShapedType::isDynamic(d)) {
      if (dimParams && i < dimParams.size())
        if (auto s = dyn_cast<StringAttr>(dimParams[i]))
          param = s.str();
      if (param.empty())
        param = name.str() + "_dim" + std::to_string(i);
    }
    v.dimParams.push_back(param);
  }
  return v;
}

FailureOr<ox::TensorData> GraphExporter::encode(ElementsAttr attr, StringRef name, Location loc) {
  auto type = cast<ShapedType>(attr.getType());
  Type elt = type.getElementType();
  if (!type.hasStaticShape()) {
    emitError(loc) << "cannot export a constant of dynamic shape " << type;
    return failure();
  }
  auto dt = dataTypeOf(elt, loc);
  if (failed(dt))
    return failure();
  ox::TensorData t;
  t.name = name.str();
  t.dtype = *dt;
  t.dims.assign(type.getShape().begin(), type.getShape().end());
  int64_t n = type.getNumElements();
  size_t eltBytes = ox::dataTypeSize(*dt);
  size_t total = static_cast<size_t>(n) * eltBytes;

  // Dense bytes as they are: blobs and non-splat dense attributes (not i1,
  // which MLIR may pack; ONNX stores one byte per bool).
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!elt.isInteger(1) && !(dense && dense.isSplat())) {
    ArrayRef<char> raw = glm::getRawBytes(attr);
    if (raw.size() == total) {
      // The attribute (context) or blob (module) outlives the save.
      t.data = raw.data();
      t.size = raw.size();
      return t;
    }
  }
  if (!dense) {
    emitError(loc) << "cannot read the bytes of constant '" << name << "' for ONNX export";
    return failure();
  }
  auto buffer = std::make_shared<std::string>(total, '\0');
  char *out = buffer->data();
  auto putBits = [&](const APInt &bits, int64_t index) {
    uint64_t word = bits.getZExtValue();
    std::memcpy(out + index * eltBytes, &word, eltBytes);
  };
  if (isa<FloatType>(elt)) {
    int64_t i = 0;
    for (APFloat v : dense.getValues<APFloat>())
      putBits(v.bitcastToAPInt(), i++);
  } else {
    int64_t i = 0;
    for (APInt v : dense.getValues<APInt>())
      putBits(elt.isInteger(1) ? APInt(8, v.getBoolValue()) : v, i++);
  }
  t.data = buffer->data();
  t.size = buffer->size();
  t.owner = buffer;
  return t;
}

std::string GraphExporter::addVectorInitializer(StringRef base, ox::DataType dtype,
                                                ArrayRef<char> bytes, int64_t count) {
  ox::TensorData t;
  t.name = uniqueValueName(base);
  t.dtype = dtype;
  t.dims = {count};
  auto buffer = std::make_shared<std::string>(bytes.begin(), bytes.end());
  t.data = buffer->data();
  t.size = buffer->size();
  t.owner = buffer;
  model.graph.initializers.push_back(std::move(t));
  return model.graph.initializers.back().name;
}

std::string GraphExporter::addI64Initializer(StringRef base, ArrayRef<int64_t> values) {
  return addVectorInitializer(base, ox::DataType::Int64,
                              ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                                             values.size() * sizeof(int64_t)),
                              values.size());
}

std::string GraphExporter::addF32Initializer(StringRef base, ArrayRef<float> values) {
  return addVectorInitializer(base, ox::DataType::Float,
                              ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                                             values.size() * sizeof(float)),
                              values.size());
}

FailureOr<std::string> GraphExporter::addScalarInitializer(StringRef base, double value,
                                                           Type elementType, Location loc) {
  auto type = RankedTensorType::get({}, elementType);
  auto attr = isa<IntegerType>(elementType)
                  ? DenseElementsAttr::get(type, IntegerAttr::get(elementType, int64_t(value)).getValue())
                  : DenseElementsAttr::get(type, FloatAttr::get(elementType, value).getValue());
  auto t = encode(cast<ElementsAttr>(attr), uniqueValueName(base), loc);
  if (failed(t))
    return failure();
  model.graph.initializers.push_back(std::move(*t));
  return model.graph.initializers.back().name;
}

std::string GraphExporter::addNode(StringRef opType, StringRef nodeName,
                                   std::vector<std::string> inputs, std::string output,
                                   std::vector<ox::Attribute> attributes) {
  ox::Node node;
  node.name = uniqueNodeName(nodeName);
  node.opType = opType.str();
  node.inputs = std::move(inputs);
  node.outputs = {std::move(output)};
  node.attributes = std::move(attributes);
  model.graph.nodes.push_back(std::move(node));
  return model.graph.nodes.back().outputs.front();
}

FailureOr<std::vector<ox::Attribute>> GraphExporter::convertAttributes(Operation *op) {
  std::vector<ox::Attribute> out;
  for (NamedAttribute named : op->getAttrDictionary()) {
    StringRef name = named.getName().getValue();
    if (name.starts_with("glm.") || name == "operandSegmentSizes" ||
        name == "resultSegmentSizes")
      continue;
    // Cast's `saturate` (opset 19) matters for float8 only, which opset 17
    // cannot hold (dataTypeOf refuses it).
    if (isa<glm::CastOp>(op) && name == "saturate")
      continue;
    ox::Attribute a;
    a.name = name.str();
    Attribute attr = named.getValue();
    if (auto i = dyn_cast<IntegerAttr>(attr)) {
      a.kind = ox::Attribute::Kind::Int;
      a.i = i.getInt();
    } else if (auto f = dyn_cast<FloatAttr>(attr)) {
      a.kind = ox::Attribute::Kind::Float;
      a.f = static_cast<float>(f.getValueAsDouble());
    } else if (auto s = dyn_cast<StringAttr>(attr)) {
      a.kind = ox::Attribute::Kind::String;
      a.s = s.str();
    } else if (auto t = dyn_cast<TypeAttr>(attr)) {
      auto dt = dataTypeOf(t.getValue(), op->getLoc());
      if (failed(dt))
        return failure();
      a.kind = ox::Attribute::Kind::Int;
      a.i = static_cast<int64_t>(*dt);
    } else if (auto e = dyn_cast<ElementsAttr>(attr)) {
      auto tensor = encode(e, name, op->getLoc());
      if (failed(tensor))
        return failure();
      a.kind = ox::Attribute::Kind::Tensor;
      a.tensor = std::make_shared<ox::TensorData>(std::move(*tensor));
    } else if (auto arr = dyn_cast<ArrayAttr>(attr)) {
      if (llvm::all_of(arr, [](Attribute x) { return isa<IntegerAttr>(x); })) {
        a.kind = ox::Attribute::Kind::Ints;
        for (Attribute x : arr)
          a.ints.push_back(cast<IntegerAttr>(x).getInt());
      } else if (llvm::all_of(arr, [](Attribute x) { return isa<FloatAttr>(x); })) {
        a.kind = ox::Attribute::Kind::Floats;
        for (Attribute x : arr)
          a.floats.push_back(static_cast<float>(cast<FloatAttr>(x).getValueAsDouble()));
      } else {
        return emitError(op->getLoc()) << "cannot export attribute '" << name << "' to ONNX";
      }
    } else {
      return emitError(op->getLoc()) << "cannot export attribute '" << name << "' to ONNX";
    }
    out.push_back(std::move(a));
  }
  return out;
}

LogicalResult GraphExporter::exportConstant(glm::ConstantOp op) {
  std::string base;
  if (auto res = dyn_cast<DenseResourceElementsAttr>(op.getValue()))
    base = res.getRawHandle().getKey().str();
  if (base.empty())
    base = glm::getNodeName(op.getLoc());
  if (base.empty())
    base = "const";
  std::string name = uniqueValueName(base);
  auto t = encode(op.getValue(), name, op.getLoc());
  if (failed(t))
    return failure();
  model.graph.initializers.push_back(std::move(*t));
  names[op.getResult()] = name;
  return success();
}

/// glm-quantize's casts as ONNX QDQ: quant.qcast x -> QuantizeLinear ->
/// DequantizeLinear (per tensor, int8), quant.scast of an int8 weight ->
/// DequantizeLinear (per axis); the glm op that reads them is exported as
/// its float form, which is what ONNX Runtime's quantization tools write.
LogicalResult GraphExporter::exportQuantCast(Operation *op) {
  Location loc = op->getLoc();
  std::string nodeName = glm::getNodeName(loc);
  if (nodeName.empty())
    nodeName = "quant";
  Value result = op->getResult(0), input = op->getOperand(0);
  Type et = getElementTypeOrSelf(result.getType());
  std::string scale, zeroPoint;
  std::vector<ox::Attribute> dqAttrs;
  if (auto pt = dyn_cast<quant::UniformQuantizedType>(et)) {
    if (pt.getStorageTypeIntegralWidth() != 8 || !pt.isSigned())
      return op->emitError("cannot export ") << et << " to ONNX (int8 only)";
    // Scalars, as per-tensor parameters must be.
    OpBuilder b(op->getContext());
    auto s = addScalarInitializer(nodeName + "_scale", pt.getScale(), b.getF32Type(), loc);
    auto z = addScalarInitializer(nodeName + "_zero_point", pt.getZeroPoint(), b.getI8Type(), loc);
    if (failed(s) || failed(z))
      return failure();
    scale = *s, zeroPoint = *z;
  } else if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(et)) {
    if (pa.getStorageTypeIntegralWidth() != 8 || !pa.isSigned())
      return op->emitError("cannot export ") << et << " to ONNX (int8 only)";
    SmallVector<float> s(pa.getScales().begin(), pa.getScales().end());
    SmallVector<int8_t> z;
    for (int64_t v : pa.getZeroPoints())
      z.push_back(int8_t(v));
    scale = addF32Initializer(nodeName + "_scale", s);
    zeroPoint = addVectorInitializer(nodeName + "_zero_point", ox::DataType::Int8,
                                     ArrayRef<char>(reinterpret_cast<const char *>(z.data()), z.size()),
                                     z.size());
    ox::Attribute axis;
    axis.name = "axis";
    axis.kind = ox::Attribute::Kind::Int;
    axis.i = pa.getQuantizedDimension();
    dqAttrs.push_back(axis);
  } else {
    return op->emitError("cannot export ") << et << " to ONNX";
  }
  std::string q = names.lookup(input);
  if (isa<quant::QuantizeCastOp>(op))
    q = addNode("QuantizeLinear", nodeName + "/quantize", {q, scale, zeroPoint},
                uniqueValueName(nodeName + "_quantized"));
  std::string out = outputNames.lookup(result);
  if (out.empty())
    out = uniqueValueName(nodeName + "_dequantized");
  names[result] = addNode("DequantizeLinear", nodeName + "/dequantize", {q, scale, zeroPoint}, out,
                          dqAttrs);
  return success();
}

LogicalResult GraphExporter::exportOp(Operation *op) {
  if (auto c = dyn_cast<glm::ConstantOp>(op))
    return exportConstant(c);
  if (isa<quant::QuantizeCastOp, quant::StorageCastOp>(op))
    return exportQuantCast(op);
  if (op->getDialect() != op->getContext()->getLoadedDialect<glm::GLMDialect>())
    return op->emitError() << "cannot export '" << op->getName()
                           << "' to ONNX (only glm ops have ONNX forms; use "
                              "--mlir-stage=compressed to see the IR)";
  Location loc = op->getLoc();
  std::string nodeName = glm::getNodeName(loc);
  if (nodeName.empty())
    nodeName = op->getName().stripDialect().str();
  std::string opType = onnxOpType(op->getName().stripDialect());

  // Inputs: operand names, "" for an absent optional operand in the middle.
  std::vector<std::string> inputs;
  auto segments = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes");
  if (!segments)
    if (auto dict = dyn_cast_or_null<DictionaryAttr>(op->getPropertiesAsAttribute()))
      segments = dict.getAs<DenseI32ArrayAttr>("operandSegmentSizes");
  if (segments) {
    unsigned index = 0;
    for (int32_t size : segments.asArrayRef()) {
      if (size == 0)
        inputs.push_back("");
      for (int32_t k = 0; k < size; ++k)
        inputs.push_back(names.lookup(op->getOperand(index++)));
    }
    while (!inputs.empty() && inputs.back().empty())
      inputs.pop_back();
  } else {
    for (Value v : op->getOperands())
      inputs.push_back(names.lookup(v));
  }

  // Outputs: the graph output name where the value is one, else node-based.
  std::vector<std::string> outputs;
  for (OpResult r : op->getResults()) {
    std::string name = outputNames.lookup(r);
    if (name.empty())
      name = uniqueValueName(op->getNumResults() == 1
                                 ? nodeName + "_out"
                                 : nodeName + "_out" + std::to_string(r.getResultNumber()));
    names[r] = name;
    outputs.push_back(name);
  }

  auto attrs = convertAttributes(op);
  if (failed(attrs))
    return failure();
  auto dropAttr = [&](StringRef name) {
    llvm::erase_if(*attrs, [&](const ox::Attribute &a) { return a.name == name; });
  };

  // The glm forms that differ from ONNX opset 17.
  if (isa<glm::SiluOp>(op)) {
    // x * sigmoid(x)
    std::string s = addNode("Sigmoid", nodeName + "/sigmoid", {inputs[0]},
                            uniqueValueName(nodeName + "_sigmoid"));
    addNode("Mul", nodeName, {inputs[0], s}, outputs[0]);
    return success();
  }
  if (auto gelu = dyn_cast<glm::GeluOp>(op)) {
    Type et = getElementTypeOrSelf(gelu.getType());
    auto c = [&](StringRef n, double v) { return addScalarInitializer((nodeName + n).str(), v, et, loc); };
    auto half = c("/half", 0.5), one = c("/one", 1.0);
    if (failed(half) || failed(one))
      return failure();
    std::string x = inputs[0];
    auto tmp = [&](StringRef n) { return uniqueValueName((nodeName + n).str()); };
    std::string inner;
    if (gelu.getApproximate() == "tanh") {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      auto k = c("/k", 0.044715), s = c("/sqrt_2_over_pi", std::sqrt(2.0 / M_PI));
      if (failed(k) || failed(s))
        return failure();
      std::string x2 = addNode("Mul", nodeName + "/x2", {x, x}, tmp("_x2"));
      std::string x3 = addNode("Mul", nodeName + "/x3", {x2, x}, tmp("_x3"));
      std::string kx3 = addNode("Mul", nodeName + "/kx3", {x3, *k}, tmp("_kx3"));
      std::string sum = addNode("Add", nodeName + "/sum", {x, kx3}, tmp("_sum"));
      std::string arg = addNode("Mul", nodeName + "/arg", {sum, *s}, tmp("_arg"));
      inner = addNode("Tanh", nodeName + "/tanh", {arg}, tmp("_tanh"));
    } else {
      // 0.5 x (1 + erf(x / sqrt(2)))
      auto r = c("/sqrt2", std::sqrt(2.0));
      if (failed(r))
        return failure();
      std::string scaled = addNode("Div", nodeName + "/div", {x, *r}, tmp("_div"));
      inner = addNode("Erf", nodeName + "/erf", {scaled}, tmp("_erf"));
    }
    std::string plus = addNode("Add", nodeName + "/add", {inner, *one}, tmp("_add"));
    std::string hx = addNode("Mul", nodeName + "/half_x", {x, *half}, tmp("_half_x"));
    addNode("Mul", nodeName, {hx, plus}, outputs[0]);
    return success();
  }
  if (isa<glm::MishOp>(op)) {
    // Mish is opset 18: x * tanh(softplus(x)).
    auto tmp = [&](StringRef n) { return uniqueValueName((nodeName + n).str()); };
    std::string sp = addNode("Softplus", nodeName + "/softplus", {inputs[0]}, tmp("_softplus"));
    std::string th = addNode("Tanh", nodeName + "/tanh", {sp}, tmp("_tanh"));
    addNode("Mul", nodeName, {inputs[0], th}, outputs[0]);
    return success();
  }
  if (auto resize = dyn_cast<glm::ResizeOp>(op)) {
    // Roi, scales and sizes are inputs 1, 2 and 3.
    inputs.resize(1);
    if (auto roi = resize.getRoi()) {
      SmallVector<float> values;
      for (Attribute a : *roi)
        values.push_back((float)cast<FloatAttr>(a).getValueAsDouble());
      inputs.push_back(addF32Initializer(nodeName + "_roi", values));
    } else {
      inputs.push_back("");
    }
    if (resize.getSizes()) {
      inputs.push_back("");
      inputs.push_back(addI64Initializer(nodeName + "_sizes", glm::toI64(resize.getSizes())));
      if (llvm::any_of(glm::toI64(resize.getSizes()), ShapedType::isDynamic))
        return op->emitError() << "cannot export Resize sizes with a dynamic dim";
    } else {
      SmallVector<float> scales;
      for (Attribute a : resize.getScales())
        scales.push_back((float)cast<FloatAttr>(a).getValueAsDouble());
      inputs.push_back(addF32Initializer(nodeName + "_scales", scales));
    }
    dropAttr("scales");
    dropAttr("sizes");
    dropAttr("roi");
    // Antialias is an opset-18 attribute.
    if (resize.getAntialias() != 0)
      return op->emitError() << "cannot export Resize with antialias at ONNX opset " << kExportOpset;
    dropAttr("antialias");
  }
  // Opset 13+: axes and split sizes are inputs.
  auto axesToInput = [&](StringRef attrName) {
    auto it = llvm::find_if(*attrs, [&](const ox::Attribute &a) { return a.name == attrName; });
    if (it == attrs->end())
      return;
    inputs.resize(std::max<size_t>(inputs.size(), 1));
    inputs.push_back(addI64Initializer(nodeName + "_" + attrName.str(), it->ints));
    attrs->erase(it);
  };
  if (isa<glm::SqueezeOp, glm::UnsqueezeOp, glm::ReduceSumOp>(op))
    axesToInput("axes");
  if (isa<glm::SplitOp>(op))
    axesToInput("split");
  if (isa<glm::ReduceMeanOp, glm::ReduceMaxOp, glm::ReduceMinOp, glm::ReduceProdOp>(op)) {
    // Only ReduceSum has noop_with_empty_axes before opset 18.
    auto it = llvm::find_if(*attrs, [](const ox::Attribute &a) {
      return a.name == "noop_with_empty_axes";
    });
    if (it != attrs->end() && it->i != 0)
      return op->emitError() << "cannot export noop_with_empty_axes = 1 at ONNX opset "
                             << kExportOpset;
    dropAttr("noop_with_empty_axes");
  }
  if (auto scatter = dyn_cast<glm::ScatterNDOp>(op)) {
    // ScatterND's max and min reductions are opset 18.
    if (scatter.getReduction() == "max" || scatter.getReduction() == "min")
      return op->emitError() << "cannot export ScatterND with reduction '" << scatter.getReduction()
                             << "' at ONNX opset " << kExportOpset;
  }
  if (auto topk = dyn_cast<glm::TopKOp>(op)) {
    // K is an input from opset 10.
    inputs.push_back(addI64Initializer(nodeName + "_k", {(int64_t)topk.getK()}));
    dropAttr("k");
  }
  if (isa<glm::MaxPoolOp>(op))
    dropAttr("count_include_pad");
  if (auto pool = dyn_cast<glm::AveragePoolOp>(op)) {
    // AveragePool has dilations from opset 19 only.
    if (llvm::any_of(glm::toI64(pool.getDilations()), [](int64_t d) { return d != 1; }))
      return op->emitError() << "cannot export a dilated AveragePool at ONNX opset "
                             << kExportOpset;
    dropAttr("dilations");
  }

  ox::Node node;
  node.name = uniqueNodeName(nodeName);
  node.opType = opType;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(*attrs);
  model.graph.nodes.push_back(std::move(node));
  return success();
}

FailureOr<ox::Model> GraphExporter::run() {
  model.irVersion = kExportIrVersion;
  model.opsets = {{"", kExportOpset}};
  model.producerName = options.producerName;
  model.producerVersion = options.producerVersion;
  model.graph.name = func.getSymName().str();
  Block &body = func.getBody().front();

  for (BlockArgument arg : body.getArguments()) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "glm.name");
    std::string name = uniqueValueName(nameAttr ? nameAttr.str()
                                                : "input" + std::to_string(arg.getArgNumber()));
    auto dims = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "glm.dim_params");
    auto vi = valueInfo(name, arg.getType(), dims, func.getLoc());
    if (failed(vi))
      return failure();
    model.graph.inputs.push_back(std::move(*vi));
    names[arg] = name;
  }

  // Graph output names are reserved first; a value returned once and made
  // by a node gets the name directly, others go through Identity.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  std::vector<std::string> resultNames;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto nameAttr = func.getResultAttrOfType<StringAttr>(i, "glm.name");
    std::string name = uniqueValueName(nameAttr ? nameAttr.str() : "output" + std::to_string(i));
    resultNames.push_back(name);
    Operation *def = v.getDefiningOp();
    if (def && !isa<glm::ConstantOp>(def) && !outputNames.count(v))
      outputNames[v] = name;
  }

  for (Operation &op : body.without_terminator())
    if (failed(exportOp(&op)))
      return failure();

  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    if (names.lookup(v) != resultNames[i])
      addNode("Identity", resultNames[i], {names.lookup(v)}, resultNames[i]);
    auto vi = valueInfo(resultNames[i], v.getType(), {}, ret.getLoc());
    if (failed(vi))
      return failure();
    model.graph.outputs.push_back(std::move(*vi));
  }
  return std::move(model);
}

} // namespace

LogicalResult glmc::importer::exportOnnxFile(ModuleOp module, const std::string &path,
                                             const ExportOptions &options) {
  func::FuncOp entry;
  for (auto f : module.getOps<func::FuncOp>())
    if (!entry || f->hasAttr("glm.entry"))
      entry = f;
  if (!entry || entry.isExternal())
    return emitError(module.getLoc()) << "no model function to export";
  GraphExporter exporter(entry, options);
  FailureOr<ox::Model> model = exporter.run();
  if (failed(model))
    return failure();
  std::string error = ox::saveModel(*model, path);
  if (!error.empty())
    return emitError(entry.getLoc()) << "cannot write the ONNX model: " << error;
  return success();
}
