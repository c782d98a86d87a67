//===- ArtifactWriter.cpp - header, descriptor, weights, host glue --------===//

#include "compiler/package/Artifact.h"

#include "runtime/include/glmrt/artifact_abi.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"

#include <cstddef>
#include <cstring>

using namespace glmc;
using namespace glmc::package;

namespace {

/// Builds the constants of one module with the ABI's struct layouts.
class Writer {
public:
  Writer(llvm::Module &m) : m(m), ctx(m.getContext()), b(ctx) {
    ptr = llvm::PointerType::get(ctx, 0);
    i8 = b.getInt8Ty();
    i16 = b.getInt16Ty();
    i32 = b.getInt32Ty();
    i64 = b.getInt64Ty();
  }

  llvm::Constant *cstring(llvm::StringRef s, llvm::StringRef name) {
    auto *init = llvm::ConstantDataArray::getString(ctx, s, /*AddNull=*/true);
    auto *gv = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                        init, name);
    gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return gv;
  }

  /// A char[N] field, NUL padded.
  llvm::Constant *charArray(llvm::StringRef s, size_t n) {
    std::string padded = s.substr(0, n - 1).str();
    padded.resize(n, '\0');
    return llvm::ConstantDataArray::getString(ctx, padded, /*AddNull=*/false);
  }

  llvm::Constant *headerConstant(const ArtifactSpec &spec, uint64_t size, uint64_t checksum) {
    // Layout of glm_artifact_header_t.
    llvm::StructType *t = llvm::StructType::get(
        ctx, {i32, i16, i16, i32, i32, i64, i32, i32, i64, i64, llvm::ArrayType::get(i8, 64),
              llvm::ArrayType::get(i8, 32), llvm::ArrayType::get(i8, 32),
              llvm::ArrayType::get(i8, 128)});
    uint32_t flags = spec.externalWeights() ? GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS : 0;
    return llvm::ConstantStruct::get(
        t, {b.getInt32(GLM_ABI_MAGIC), b.getInt16(GLM_ABI_VERSION_MAJOR),
            b.getInt16(GLM_ABI_VERSION_MINOR), b.getInt32(sizeof(glm_artifact_header_t)),
            b.getInt32(spec.target.arch), b.getInt64(spec.target.cpuFeatures), b.getInt32(flags),
            b.getInt32(0), b.getInt64(size), b.getInt64(checksum),
            charArray(spec.modelName, 64), charArray(spec.target.name, 32),
            charArray(spec.target.cpu, 32), charArray(spec.externalWeights() ? spec.weightsFile : "", 128)});
  }

  llvm::Constant *tensorDescs(const std::vector<TensorSpec> &tensors, llvm::StringRef prefix) {
    // glm_tensor_desc_t { ptr name; u32 dtype; u32 rank; ptr dims; }
    llvm::StructType *t = llvm::StructType::get(ctx, {ptr, i32, i32, ptr});
    std::vector<llvm::Constant *> elems;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const TensorSpec &ts = tensors[i];
      std::string base = (prefix + "." + std::to_string(i)).str();
      llvm::Constant *dims = llvm::ConstantPointerNull::get(ptr);
      if (!ts.dims.empty()) {
        auto *init = llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<int64_t>(ts.dims));
        auto *gv = new llvm::GlobalVariable(m, init->getType(), true,
                                            llvm::GlobalValue::PrivateLinkage, init, base + ".dims");
        dims = gv;
      }
      elems.push_back(llvm::ConstantStruct::get(
          t, {cstring(ts.name, base + ".name"), b.getInt32(ts.dtype), b.getInt32(ts.dims.size()),
              dims}));
    }
    auto *arrTy = llvm::ArrayType::get(t, elems.size());
    auto *gv = new llvm::GlobalVariable(m, arrTy, true, llvm::GlobalValue::PrivateLinkage,
                                        llvm::ConstantArray::get(arrTy, elems), prefix);
    return gv;
  }

  /// The glm_profile_layer_t array, or NULL when there are none.
  llvm::Constant *profileLayers(const std::vector<ProfileLayerSpec> &layers) {
    if (layers.empty())
      return llvm::ConstantPointerNull::get(ptr);
    // glm_profile_layer_t { ptr name; ptr op; ptr shape; u64 flops; u64 bytes; }
    llvm::StructType *t = llvm::StructType::get(ctx, {ptr, ptr, ptr, i64, i64});
    std::vector<llvm::Constant *> elems;
    for (auto [i, l] : llvm::enumerate(layers)) {
      std::string base = "glm_profile." + std::to_string(i);
      elems.push_back(llvm::ConstantStruct::get(
          t, {cstring(l.name, base + ".name"), cstring(l.op, base + ".op"),
              cstring(l.shape, base + ".shape"), b.getInt64(l.flops), b.getInt64(l.bytes)}));
    }
    auto *arrTy = llvm::ArrayType::get(t, elems.size());
    return new llvm::GlobalVariable(m, arrTy, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(arrTy, elems), "glm_profile_layers");
  }

  llvm::Module &m;
  llvm::LLVMContext &ctx;
  llvm::IRBuilder<> b;
  llvm::PointerType *ptr;
  llvm::IntegerType *i8, *i16, *i32, *i64;
};

/// Defines the memory functions the lowered code calls
/// (_mlir_memref_to_llvm_{alloc,aligned_alloc,free}) on top of a hidden
/// host-table pointer, and glm_bind_host that sets it.
llvm::Function *addHostGlue(Writer &w) {
  llvm::Module &m = w.m;
  auto *hostVar = new llvm::GlobalVariable(m, w.ptr, false, llvm::GlobalValue::InternalLinkage,
                                           llvm::ConstantPointerNull::get(w.ptr), "glm_host");
  // glm_host_table_t { u32 struct_size; u32 reserved; ptr alloc; ptr free; ptr parallel_for;
  //                     ptr profile_mark (ABI 1.1) }
  llvm::StructType *hostTy =
      llvm::StructType::get(w.ctx, {w.i32, w.i32, w.ptr, w.ptr, w.ptr, w.ptr, w.ptr});
  auto getOrDefine = [&](llvm::StringRef name, llvm::FunctionType *ty) {
    llvm::Function *f = m.getFunction(name);
    if (!f)
      f = llvm::Function::Create(ty, llvm::GlobalValue::InternalLinkage, name, m);
    f->setLinkage(llvm::GlobalValue::InternalLinkage);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  };
  llvm::IRBuilder<> &b = w.b;
  auto loadHostFn = [&](unsigned field) {
    llvm::Value *host = b.CreateLoad(w.ptr, hostVar);
    llvm::Value *slot = b.CreateStructGEP(hostTy, host, field);
    return b.CreateLoad(w.ptr, slot);
  };
  // void *alloc(size_t size, size_t alignment)
  auto *allocTy = llvm::FunctionType::get(w.ptr, {w.i64, w.i64}, false);
  {
    llvm::Function *f = getOrDefine("_mlir_memref_to_llvm_alloc",
                                    llvm::FunctionType::get(w.ptr, {w.i64}, false));
    if (f->isDeclaration()) {
      b.SetInsertPoint(llvm::BasicBlock::Create(w.ctx, "entry", f));
      llvm::Value *fn = loadHostFn(2);
      b.CreateRet(b.CreateCall(allocTy, fn, {f->getArg(0), b.getInt64(GLM_ABI_WEIGHTS_ALIGNMENT)}));
    }
  }
  {
    llvm::Function *f = getOrDefine("_mlir_memref_to_llvm_aligned_alloc",
                                    llvm::FunctionType::get(w.ptr, {w.i64, w.i64}, false));
    if (f->isDeclaration()) {
      b.SetInsertPoint(llvm::BasicBlock::Create(w.ctx, "entry", f));
      llvm::Value *fn = loadHostFn(2);
      // (alignment, size) → alloc(size, max(alignment, 64))
      llvm::Value *align = b.CreateSelect(b.CreateICmpULT(f->getArg(0), b.getInt64(64)),
                                          b.getInt64(64), f->getArg(0));
      b.CreateRet(b.CreateCall(allocTy, fn, {f->getArg(1), align}));
    }
  }
  {
    llvm::Function *f = getOrDefine("_mlir_memref_to_llvm_free",
                                    llvm::FunctionType::get(b.getVoidTy(), {w.ptr}, false));
    if (f->isDeclaration()) {
      b.SetInsertPoint(llvm::BasicBlock::Create(w.ctx, "entry", f));
      llvm::Value *fn = loadHostFn(3);
      b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), {w.ptr}, false), fn, {f->getArg(0)});
      b.CreateRetVoid();
    }
  }
  // void glm_parallel_for(i64 n, i64 grain, ptr fn, ptr arg): the host's
  // parallel_for, or inline when the host has none.
  if (llvm::Function *pfor = m.getFunction("glm_parallel_for"); pfor && pfor->isDeclaration()) {
    pfor->setLinkage(llvm::GlobalValue::InternalLinkage);
    pfor->addFnAttr(llvm::Attribute::NoUnwind);
    auto *entry = llvm::BasicBlock::Create(w.ctx, "entry", pfor);
    auto *viaHost = llvm::BasicBlock::Create(w.ctx, "host", pfor);
    auto *inl = llvm::BasicBlock::Create(w.ctx, "inline", pfor);
    b.SetInsertPoint(entry);
    llvm::Value *fn = loadHostFn(4);
    b.CreateCondBr(b.CreateIsNull(fn), inl, viaHost);
    b.SetInsertPoint(viaHost);
    b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), {w.i64, w.i64, w.ptr, w.ptr}, false), fn,
                 {pfor->getArg(0), pfor->getArg(1), pfor->getArg(2), pfor->getArg(3)});
    b.CreateRetVoid();
    b.SetInsertPoint(inl);
    b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), {w.ptr, w.i64, w.i64}, false),
                 pfor->getArg(2), {pfor->getArg(3), b.getInt64(0), pfor->getArg(0)});
    b.CreateRetVoid();
  }
  // Glue the model's code calls and the artifact defines: each forwards its
  // arguments to a host table field that older runtimes lack (or leave
  // NULL), after checking the table's struct_size covers it.
  auto defineHostCall = [&](llvm::StringRef name, unsigned field, uint64_t offset,
                            llvm::ArrayRef<llvm::Type *> params, bool cold) {
    llvm::Function *fn = m.getFunction(name);
    if (!fn || !fn->isDeclaration())
      return;
    fn->setLinkage(llvm::GlobalValue::InternalLinkage);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    if (cold)
      fn->addFnAttr(llvm::Attribute::Cold);
    auto *entry = llvm::BasicBlock::Create(w.ctx, "entry", fn);
    auto *check = llvm::BasicBlock::Create(w.ctx, "check", fn);
    auto *call = llvm::BasicBlock::Create(w.ctx, "call", fn);
    auto *done = llvm::BasicBlock::Create(w.ctx, "done", fn);
    b.SetInsertPoint(entry);
    llvm::Value *host = b.CreateLoad(w.ptr, hostVar);
    llvm::Value *size = b.CreateLoad(w.i32, host);
    b.CreateCondBr(b.CreateICmpUGE(size, b.getInt32(offset + sizeof(void *))), check, done);
    b.SetInsertPoint(check);
    llvm::Value *target = b.CreateLoad(w.ptr, b.CreateStructGEP(hostTy, host, field));
    b.CreateCondBr(b.CreateIsNull(target), done, call);
    b.SetInsertPoint(call);
    llvm::SmallVector<llvm::Value *> args;
    for (llvm::Argument &arg : fn->args())
      args.push_back(&arg);
    b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), params, false), target, args);
    b.CreateBr(done);
    b.SetInsertPoint(done);
    b.CreateRetVoid();
  };
  // void glm_profile_mark(i32 layer) (glm-insert-profile-marks).
  defineHostCall("glm_profile_mark", 5, offsetof(glm_host_table_t, profile_mark), {w.i32},
                 /*cold=*/false);
  // void glm_index_error(ptr site, i64 value, i64 bound)
  // (glm-lower-index-reports); an older runtime runs on with clamped indices.
  defineHostCall("glm_index_error", 6, offsetof(glm_host_table_t, report_error),
                 {w.ptr, w.i64, w.i64}, /*cold=*/true);
  llvm::Function *bind = llvm::Function::Create(
      llvm::FunctionType::get(b.getVoidTy(), {w.ptr}, false), llvm::GlobalValue::InternalLinkage,
      "glm_bind_host", m);
  bind->addFnAttr(llvm::Attribute::NoUnwind);
  b.SetInsertPoint(llvm::BasicBlock::Create(w.ctx, "entry", bind));
  b.CreateStore(bind->getArg(0), hostVar);
  b.CreateRetVoid();
  return bind;
}

} // namespace

uint32_t glmc::package::dtypeFromName(llvm::StringRef name) {
  return llvm::StringSwitch<uint32_t>(name)
      .Case("f32", GLM_DTYPE_F32)
      .Case("f16", GLM_DTYPE_F16)
      .Case("bf16", GLM_DTYPE_BF16)
      .Case("f64", GLM_DTYPE_F64)
      .Case("i8", GLM_DTYPE_I8)
      .Case("si8", GLM_DTYPE_I8)
      .Case("ui8", GLM_DTYPE_U8)
      .Case("i16", GLM_DTYPE_I16)
      .Case("ui16", GLM_DTYPE_U16)
      .Case("i32", GLM_DTYPE_I32)
      .Case("ui32", GLM_DTYPE_U32)
      .Case("i64", GLM_DTYPE_I64)
      .Case("ui64", GLM_DTYPE_U64)
      .Case("i1", GLM_DTYPE_BOOL)
      .Case("f8E4M3FN", GLM_DTYPE_F8E4M3FN)
      .Case("f8E4M3FNUZ", GLM_DTYPE_F8E4M3FNUZ)
      .Case("f8E5M2", GLM_DTYPE_F8E5M2)
      .Case("f8E5M2FNUZ", GLM_DTYPE_F8E5M2FNUZ)
      .Case("f4E2M1FN", GLM_DTYPE_F4E2M1FN)
      .Case("i4", GLM_DTYPE_I4)
      .Case("si4", GLM_DTYPE_I4)
      .Case("ui4", GLM_DTYPE_U4)
      .Default(GLM_DTYPE_INVALID);
}

bool glmc::package::addArtifactGlobals(llvm::Module &m, const ArtifactSpec &spec,
                                       std::string &error) {
  Writer w(m);
  llvm::IRBuilder<> &b = w.b;
  const bool inModule = spec.placement == ArtifactSpec::Weights::InModule;
  uint64_t size = inModule ? spec.weights.size() : spec.weightsSize;
  uint64_t checksum =
      inModule ? glm_abi_checksum(spec.weights.data(), spec.weights.size()) : spec.weightsChecksum;

  llvm::Constant *headerInit = w.headerConstant(spec, size, checksum);
  auto *header = new llvm::GlobalVariable(m, headerInit->getType(), true,
                                          llvm::GlobalValue::InternalLinkage, headerInit,
                                          "glm_header");
  header->setSection(GLM_ABI_HEADER_SECTION);
  header->setAlignment(llvm::Align(8));

  llvm::Constant *weights = llvm::ConstantPointerNull::get(w.ptr);
  if (inModule) {
    auto *init = llvm::ConstantDataArray::getRaw(
        llvm::StringRef(spec.weights.data(), spec.weights.size()), spec.weights.size(), w.i8);
    auto *gv = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::InternalLinkage,
                                        init, "glm_weights");
    gv->setSection(GLM_ABI_WEIGHTS_SECTION);
    gv->setAlignment(llvm::Align(GLM_ABI_WEIGHTS_ALIGNMENT));
    weights = gv;
  } else if (spec.placement == ArtifactSpec::Weights::Object) {
    // Defined by the weights object (writeWeightsObject): the blob never
    // passes through LLVM.
    auto *gv = new llvm::GlobalVariable(m, llvm::ArrayType::get(w.i8, 0), true,
                                        llvm::GlobalValue::ExternalLinkage, nullptr, "glm_weights");
    gv->setVisibility(llvm::GlobalValue::HiddenVisibility);
    gv->setAlignment(llvm::Align(GLM_ABI_WEIGHTS_ALIGNMENT));
    weights = gv;
  }

  // glm_entry_desc_t { ptr name; ptr fn; u32 num_inputs; u32 num_outputs; ptr inputs; ptr outputs; }
  llvm::StructType *entryTy = llvm::StructType::get(w.ctx, {w.ptr, w.ptr, w.i32, w.i32, w.ptr, w.ptr});
  std::vector<llvm::Constant *> entries;
  for (const EntrySpec &e : spec.entries) {
    llvm::Function *fn = m.getFunction(e.symbol);
    if (!fn) {
      error = "internal: entry function " + e.symbol + " is missing";
      return false;
    }
    fn->setLinkage(llvm::GlobalValue::InternalLinkage);
    entries.push_back(llvm::ConstantStruct::get(
        entryTy, {w.cstring(e.name, "glm_entry_name." + e.name), fn, b.getInt32(e.inputs.size()),
                  b.getInt32(e.outputs.size()), w.tensorDescs(e.inputs, "glm_inputs." + e.name),
                  w.tensorDescs(e.outputs, "glm_outputs." + e.name)}));
  }
  auto *entriesTy = llvm::ArrayType::get(entryTy, entries.size());
  auto *entriesVar = new llvm::GlobalVariable(m, entriesTy, true, llvm::GlobalValue::PrivateLinkage,
                                              llvm::ConstantArray::get(entriesTy, entries),
                                              "glm_entries");

  llvm::Function *bind = addHostGlue(w);

  // glm_model_descriptor_t { u32 magic; u16 major; u16 minor; u32 struct_size; u32 num_entries;
  //   ptr header; ptr entries; ptr weights; ptr metadata_json; ptr bind_host;
  //   u32 num_profile_layers; u32 reserved1; ptr profile_layers; }
  llvm::StructType *descTy = llvm::StructType::get(
      w.ctx, {w.i32, w.i16, w.i16, w.i32, w.i32, w.ptr, w.ptr, w.ptr, w.ptr, w.ptr, w.i32, w.i32,
              w.ptr});
  auto *desc = new llvm::GlobalVariable(
      m, descTy, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantStruct::get(
          descTy, {b.getInt32(GLM_ABI_MAGIC), b.getInt16(GLM_ABI_VERSION_MAJOR),
                   b.getInt16(GLM_ABI_VERSION_MINOR), b.getInt32(sizeof(glm_model_descriptor_t)),
                   b.getInt32(entries.size()), header, entriesVar, weights,
                   w.cstring(spec.metadataJson, "glm_metadata"), bind,
                   b.getInt32(spec.profileLayers.size()), b.getInt32(0),
                   w.profileLayers(spec.profileLayers)}),
      GLM_ABI_DESCRIPTOR_SYMBOL);
  desc->setVisibility(llvm::GlobalValue::DefaultVisibility);
  desc->setAlignment(llvm::Align(8));
  // Everything else stays inside the artifact.
  for (llvm::Function &f : m)
    if (!f.isDeclaration() && f.getName() != GLM_ABI_DESCRIPTOR_SYMBOL && f.hasExternalLinkage())
      f.setVisibility(llvm::GlobalValue::HiddenVisibility);
  return true;
}
