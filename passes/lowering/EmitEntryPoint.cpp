//===- EmitEntryPoint.cpp - glm-emit-entry-point --------------------------===//
//
// Writes `int32_t glm_entry_<name>(glm_call_t *call)` (artifact_abi.h) in
// the LLVM dialect around the lowered model function, whose arguments are
// expanded memref descriptors (allocated, aligned, offset, sizes, strides)
// and whose result is a struct of descriptors.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::glm {
#define GEN_PASS_DEF_EMITENTRYPOINTPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

constexpr int64_t kMaxRank = 8; // GLM_ABI_MAX_RANK

/// Ranks of the memref arguments of a function whose descriptors were
/// expanded into (ptr, ptr, i64, i64 x r, i64 x r).
FailureOr<SmallVector<int64_t>> expandedArgRanks(LLVM::LLVMFunctionType type) {
  SmallVector<int64_t> ranks;
  ArrayRef<Type> params = type.getParams();
  size_t i = 0;
  while (i < params.size()) {
    if (i + 2 >= params.size() || !isa<LLVM::LLVMPointerType>(params[i]) ||
        !isa<LLVM::LLVMPointerType>(params[i + 1]))
      return failure();
    size_t j = i + 2;
    while (j < params.size() && params[j].isInteger(64))
      ++j;
    int64_t ints = j - (i + 2);
    if (ints < 1 || (ints - 1) % 2 != 0)
      return failure();
    ranks.push_back((ints - 1) / 2);
    i = j;
  }
  return ranks;
}

/// Rank of a memref descriptor struct type.
int64_t descriptorRank(LLVM::LLVMStructType t) {
  if (t.getBody().size() < 4)
    return 0;
  return cast<LLVM::LLVMArrayType>(t.getBody()[3]).getNumElements();
}

struct EmitEntryPointPass : glm::impl::EmitEntryPointPassBase<EmitEntryPointPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> entries;
    module.walk([&](LLVM::LLVMFuncOp f) {
      if (f->hasAttr("glm.entry"))
        entries.push_back(f);
    });
    for (LLVM::LLVMFuncOp f : entries)
      if (failed(emitWrapper(module, f)))
        return signalPassFailure();
  }

  LogicalResult emitWrapper(ModuleOp module, LLVM::LLVMFuncOp impl) {
    MLIRContext *ctx = &getContext();
    Location loc = impl.getLoc();
    auto ranks = expandedArgRanks(impl.getFunctionType());
    if (failed(ranks) || ranks->empty())
      return impl.emitError("entry function arguments are not expanded memref descriptors");
    // The last argument is the weights blob (glm-outline-weights).
    int64_t numInputs = ranks->size() - 1;
    auto elemBytes = impl->getAttrOfType<DenseI64ArrayAttr>("glm.result_elem_bytes");
    if (!elemBytes)
      return impl.emitError("entry function lacks glm.result_elem_bytes");
    Type resultType = impl.getFunctionType().getReturnType();
    SmallVector<LLVM::LLVMStructType> resultDescs;
    bool single = elemBytes.size() == 1;
    if (single) {
      resultDescs.push_back(cast<LLVM::LLVMStructType>(resultType));
    } else {
      for (Type t : cast<LLVM::LLVMStructType>(resultType).getBody())
        resultDescs.push_back(cast<LLVM::LLVMStructType>(t));
    }
    for (int64_t r : *ranks)
      if (r > kMaxRank)
        return impl.emitError("an input has rank ") << r << ", more than the ABI's " << kMaxRank;
    for (auto d : resultDescs)
      if (descriptorRank(d) > kMaxRank)
        return impl.emitError("an output has rank more than the ABI's ") << kMaxRank;

    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto i32 = b.getI32Type(), i64 = b.getI64Type();
    // glm_call_t { u32 struct_size; u32 reserved; ptr weights; ptr inputs; ptr outputs; }
    auto callTy = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, ptrTy, ptrTy, ptrTy});
    // glm_tensor_ref_t { ptr data; ptr allocation; i64 dims[8]; }
    auto refTy = LLVM::LLVMStructType::getLiteral(
        ctx, {ptrTy, ptrTy, LLVM::LLVMArrayType::get(i64, kMaxRank)});

    std::string name = ("glm_entry_" + impl.getName()).str();
    auto fnTy = LLVM::LLVMFunctionType::get(i32, {ptrTy});
    auto wrapper = LLVM::LLVMFuncOp::create(b, loc, name, fnTy, LLVM::Linkage::External);
    Block *body = wrapper.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    Value call = body->getArgument(0);
    auto field = [&](Value base, Type structTy, ArrayRef<LLVM::GEPArg> idx) {
      return LLVM::GEPOp::create(b, loc, ptrTy, structTy, base, idx).getResult();
    };
    auto load = [&](Type t, Value p) { return LLVM::LoadOp::create(b, loc, t, p).getResult(); };
    auto cst = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v)).getResult();
    };
    Value weights = load(ptrTy, field(call, callTy, {0, 2}));
    Value inputs = load(ptrTy, field(call, callTy, {0, 3}));
    Value outputs = load(ptrTy, field(call, callTy, {0, 4}));

    SmallVector<Value> args;
    for (int64_t i = 0; i < numInputs; ++i) {
      int64_t rank = (*ranks)[i];
      Value ref = field(inputs, refTy, {i});
      Value data = load(ptrTy, field(ref, refTy, {0, 0}));
      SmallVector<Value> dims;
      for (int64_t d = 0; d < rank; ++d)
        dims.push_back(load(i64, field(ref, refTy, {0, 2, d})));
      args.append({data, data, cst(0)});
      args.append(dims);
      // Row-major strides.
      SmallVector<Value> strides(rank);
      Value s = cst(1);
      for (int64_t d = rank - 1; d >= 0; --d) {
        strides[d] = s;
        s = LLVM::MulOp::create(b, loc, s, dims[d]);
      }
      args.append(strides);
    }
    // Weights: a 1-d byte buffer; its size is not used for addressing.
    args.append({weights, weights, cst(0), cst(INT64_MAX), cst(1)});

    auto callOp = LLVM::CallOp::create(b, loc, impl, args);
    Value result = callOp.getResult();
    for (auto [j, desc] : llvm::enumerate(resultDescs)) {
      Value d = single ? result : LLVM::ExtractValueOp::create(b, loc, result, ArrayRef<int64_t>{(int64_t)j}).getResult();
      Value allocated = LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{0});
      Value aligned = LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{1});
      Value offset = LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{2});
      Value byteOffset = LLVM::MulOp::create(b, loc, offset, cst(elemBytes[j]));
      Value data = LLVM::GEPOp::create(b, loc, ptrTy, b.getI8Type(), aligned, ValueRange{byteOffset});
      Value ref = field(outputs, refTy, {(int64_t)j});
      LLVM::StoreOp::create(b, loc, data, field(ref, refTy, {0, 0}));
      LLVM::StoreOp::create(b, loc, allocated, field(ref, refTy, {0, 1}));
      for (int64_t k = 0, r = descriptorRank(desc); k < r; ++k) {
        Value size = LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{3, k});
        LLVM::StoreOp::create(b, loc, size, field(ref, refTy, {0, 2, k}));
      }
    }
    Value zero = LLVM::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(0));
    LLVM::ReturnOp::create(b, loc, zero);
    // glm.* argument/result attributes mean nothing to LLVM translation.
    impl.removeArgAttrsAttr();
    impl.removeResAttrsAttr();
    impl->removeAttr("glm.result_elem_bytes");
    // The model function is only reachable through the wrapper.
    impl.setLinkage(LLVM::Linkage::Internal);
    wrapper->setAttr("glm.entry_wrapper", StringAttr::get(ctx, impl.getName()));
    return success();
  }
};

} // namespace
