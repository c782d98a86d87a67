//===- ArtifactLayoutTest.cpp - the compiler writes the runtime's ABI -----===//
//
// compiler/package/ArtifactWriter.cpp spells the structs of
// runtime/include/glmrt/artifact_abi.h as LLVM struct types. These tests
// lay them out with the target's DataLayout and compare every field offset
// and the total size with offsetof/sizeof from the C header.
//
//===----------------------------------------------------------------------===//

#include "compiler/package/Artifact.h"

#include "runtime/include/glmrt/artifact_abi.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <gtest/gtest.h>

#include <cstddef>

namespace {

// x86-64 and AArch64 Linux agree on these layouts (LP64).
constexpr const char *kDataLayouts[] = {
    "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128",
    "e-m:e-p270:32:32-p271:32:32-p272:64:64-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32",
};

struct Built {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> module;
};

std::unique_ptr<Built> buildArtifact(const char *layout,
                                     std::vector<glmc::package::ProfileLayerSpec> profile = {}) {
  auto b = std::make_unique<Built>();
  b->module = std::make_unique<llvm::Module>("m", b->ctx);
  b->module->setDataLayout(layout);
  auto *fnTy = llvm::FunctionType::get(llvm::Type::getInt32Ty(b->ctx),
                                       {llvm::PointerType::get(b->ctx, 0)}, false);
  auto *fn = llvm::Function::Create(fnTy, llvm::GlobalValue::ExternalLinkage, "glm_entry_main",
                                    b->module.get());
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(b->ctx, "entry", fn));
  ir.CreateRet(ir.getInt32(0));
  // A --profile model's code calls glm_profile_mark, which the glue defines.
  if (!profile.empty())
    llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(b->ctx),
                                                   {llvm::Type::getInt32Ty(b->ctx)}, false),
                           llvm::GlobalValue::ExternalLinkage, "glm_profile_mark", b->module.get());
  // A model with run-time gather indices calls glm_index_error (glue).
  llvm::Type *i64 = llvm::Type::getInt64Ty(b->ctx);
  llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(b->ctx),
                                                 {llvm::PointerType::get(b->ctx, 0), i64, i64}, false),
                         llvm::GlobalValue::ExternalLinkage, "glm_index_error", b->module.get());

  glmc::package::ArtifactSpec spec;
  spec.modelName = "layout";
  spec.target.name = "x86-64-v3";
  spec.target.cpu = "x86-64-v3";
  spec.target.arch = GLM_ARCH_X86_64;
  glmc::package::EntrySpec e;
  e.name = "main";
  e.symbol = "glm_entry_main";
  e.inputs.push_back({"x", GLM_DTYPE_F32, {-1, 4}});
  e.outputs.push_back({"y", GLM_DTYPE_F32, {-1, 2}});
  spec.entries.push_back(e);
  static const char weights[64] = {1, 2, 3};
  spec.weights = llvm::ArrayRef<char>(weights, sizeof(weights));
  spec.metadataJson = "{}";
  spec.profileLayers = std::move(profile);
  std::string error;
  EXPECT_TRUE(glmc::package::addArtifactGlobals(*b->module, spec, error)) << error;
  return b;
}

llvm::StructType *structOf(llvm::Module &m, const char *global) {
  llvm::GlobalVariable *gv = m.getGlobalVariable(global, /*AllowInternal=*/true);
  EXPECT_NE(gv, nullptr) << global;
  return gv ? llvm::dyn_cast<llvm::StructType>(gv->getValueType()) : nullptr;
}

TEST(ArtifactLayout, DescriptorMatchesHeader) {
  for (const char *layout : kDataLayouts) {
    auto b = buildArtifact(layout);
    llvm::StructType *t = structOf(*b->module, GLM_ABI_DESCRIPTOR_SYMBOL);
    ASSERT_NE(t, nullptr);
    const llvm::StructLayout *sl = b->module->getDataLayout().getStructLayout(t);
    EXPECT_EQ(sl->getSizeInBytes(), sizeof(glm_model_descriptor_t));
    size_t offsets[] = {offsetof(glm_model_descriptor_t, magic),
                        offsetof(glm_model_descriptor_t, abi_major),
                        offsetof(glm_model_descriptor_t, abi_minor),
                        offsetof(glm_model_descriptor_t, struct_size),
                        offsetof(glm_model_descriptor_t, num_entries),
                        offsetof(glm_model_descriptor_t, header),
                        offsetof(glm_model_descriptor_t, entries),
                        offsetof(glm_model_descriptor_t, weights),
                        offsetof(glm_model_descriptor_t, metadata_json),
                        offsetof(glm_model_descriptor_t, bind_host),
                        offsetof(glm_model_descriptor_t, num_profile_layers),
                        offsetof(glm_model_descriptor_t, reserved1),
                        offsetof(glm_model_descriptor_t, profile_layers)};
    ASSERT_EQ(t->getNumElements(), std::size(offsets));
    for (unsigned i = 0; i < std::size(offsets); ++i)
      EXPECT_EQ(sl->getElementOffset(i), offsets[i]) << "descriptor field " << i;
    // ABI 1.0 readers stop before the profile fields.
    EXPECT_EQ(GLM_ABI_DESCRIPTOR_V1_0_SIZE, sl->getElementOffset(10));
    // Without --profile: no layers, a null table.
    auto *init = llvm::cast<llvm::ConstantStruct>(
        b->module->getGlobalVariable(GLM_ABI_DESCRIPTOR_SYMBOL)->getInitializer());
    EXPECT_TRUE(llvm::cast<llvm::ConstantInt>(init->getOperand(10))->isZero());
    EXPECT_TRUE(init->getOperand(12)->isNullValue());
  }
}

/// `name` is a glue function calling the host table's field at `offset`
/// after checking that the table's struct_size covers it.
void expectHostCall(llvm::Module &m, const char *name, size_t offset) {
  llvm::Function *fn = m.getFunction(name);
  ASSERT_NE(fn, nullptr) << name;
  EXPECT_FALSE(fn->isDeclaration()) << name;
  EXPECT_TRUE(fn->hasInternalLinkage()) << name;
  const llvm::DataLayout &dl = m.getDataLayout();
  bool loadsField = false, checksSize = false;
  for (llvm::Instruction &inst : llvm::instructions(*fn)) {
    if (auto *gep = llvm::dyn_cast<llvm::GetElementPtrInst>(&inst)) {
      llvm::APInt at(64, 0);
      if (gep->accumulateConstantOffset(dl, at))
        loadsField |= at == offset;
    }
    if (auto *cmp = llvm::dyn_cast<llvm::ICmpInst>(&inst))
      if (auto *c = llvm::dyn_cast<llvm::ConstantInt>(cmp->getOperand(1)))
        checksSize |= c->getZExtValue() == offset + sizeof(void *);
  }
  EXPECT_TRUE(loadsField) << name;
  EXPECT_TRUE(checksSize) << name;
}

TEST(ArtifactLayout, ProfileLayersMatchHeader) {
  for (const char *layout : kDataLayouts) {
    auto b = buildArtifact(layout, {{"/conv1/Conv + /relu/Relu", "conv+relu", "1x64x112x112", 236027904, 3612672},
                                    {"/fc/Gemm", "gemm", "1x1000", 1024000, 2052000}});
    auto *gv = b->module->getGlobalVariable("glm_profile_layers", /*AllowInternal=*/true);
    ASSERT_NE(gv, nullptr);
    auto *arr = llvm::dyn_cast<llvm::ArrayType>(gv->getValueType());
    ASSERT_NE(arr, nullptr);
    EXPECT_EQ(arr->getNumElements(), 2u);
    auto *t = llvm::cast<llvm::StructType>(arr->getElementType());
    const llvm::StructLayout *sl = b->module->getDataLayout().getStructLayout(t);
    EXPECT_EQ(sl->getSizeInBytes(), sizeof(glm_profile_layer_t));
    size_t offsets[] = {offsetof(glm_profile_layer_t, name), offsetof(glm_profile_layer_t, op),
                        offsetof(glm_profile_layer_t, shape), offsetof(glm_profile_layer_t, flops),
                        offsetof(glm_profile_layer_t, bytes)};
    ASSERT_EQ(t->getNumElements(), std::size(offsets));
    for (unsigned i = 0; i < std::size(offsets); ++i)
      EXPECT_EQ(sl->getElementOffset(i), offsets[i]) << "profile layer field " << i;
    // The descriptor counts them and points at the table.
    auto *init = llvm::cast<llvm::ConstantStruct>(
        b->module->getGlobalVariable(GLM_ABI_DESCRIPTOR_SYMBOL)->getInitializer());
    EXPECT_EQ(llvm::cast<llvm::ConstantInt>(init->getOperand(10))->getZExtValue(), 2u);
    EXPECT_EQ(init->getOperand(12), gv);
    auto *second = llvm::cast<llvm::ConstantStruct>(
        llvm::cast<llvm::ConstantArray>(gv->getInitializer())->getOperand(1));
    EXPECT_EQ(llvm::cast<llvm::ConstantInt>(second->getOperand(3))->getZExtValue(), 1024000u);

    // glm_profile_mark and glm_index_error are defined by the glue: each
    // checks the host table's struct_size covers its field and loads it
    // from its offset.
    expectHostCall(*b->module, "glm_profile_mark", offsetof(glm_host_table_t, profile_mark));
    expectHostCall(*b->module, "glm_index_error", offsetof(glm_host_table_t, report_error));
  }
}

TEST(ArtifactLayout, HeaderMatchesHeader) {
  for (const char *layout : kDataLayouts) {
    auto b = buildArtifact(layout);
    llvm::StructType *t = structOf(*b->module, "glm_header");
    ASSERT_NE(t, nullptr);
    const llvm::StructLayout *sl = b->module->getDataLayout().getStructLayout(t);
    EXPECT_EQ(sl->getSizeInBytes(), sizeof(glm_artifact_header_t));
    size_t offsets[] = {offsetof(glm_artifact_header_t, magic),
                        offsetof(glm_artifact_header_t, abi_major),
                        offsetof(glm_artifact_header_t, abi_minor),
                        offsetof(glm_artifact_header_t, struct_size),
                        offsetof(glm_artifact_header_t, arch),
                        offsetof(glm_artifact_header_t, cpu_features),
                        offsetof(glm_artifact_header_t, flags),
                        offsetof(glm_artifact_header_t, reserved0),
                        offsetof(glm_artifact_header_t, weights_size),
                        offsetof(glm_artifact_header_t, weights_checksum),
                        offsetof(glm_artifact_header_t, model_name),
                        offsetof(glm_artifact_header_t, target),
                        offsetof(glm_artifact_header_t, cpu),
                        offsetof(glm_artifact_header_t, weights_file)};
    ASSERT_EQ(t->getNumElements(), std::size(offsets));
    for (unsigned i = 0; i < std::size(offsets); ++i)
      EXPECT_EQ(sl->getElementOffset(i), offsets[i]) << "header field " << i;
    // The header sits in the section the loader reads.
    EXPECT_EQ(b->module->getGlobalVariable("glm_header", true)->getSection(), GLM_ABI_HEADER_SECTION);
  }
}

TEST(ArtifactLayout, EntryAndTensorDescriptors) {
  for (const char *layout : kDataLayouts) {
    auto b = buildArtifact(layout);
    const llvm::DataLayout &dl = b->module->getDataLayout();
    auto *entries = b->module->getGlobalVariable("glm_entries", true);
    ASSERT_NE(entries, nullptr);
    auto *entryTy = llvm::cast<llvm::StructType>(
        llvm::cast<llvm::ArrayType>(entries->getValueType())->getElementType());
    const llvm::StructLayout *el = dl.getStructLayout(entryTy);
    EXPECT_EQ(el->getSizeInBytes(), sizeof(glm_entry_desc_t));
    EXPECT_EQ(el->getElementOffset(1), offsetof(glm_entry_desc_t, fn));
    EXPECT_EQ(el->getElementOffset(2), offsetof(glm_entry_desc_t, num_inputs));
    EXPECT_EQ(el->getElementOffset(4), offsetof(glm_entry_desc_t, inputs));
    EXPECT_EQ(el->getElementOffset(5), offsetof(glm_entry_desc_t, outputs));
    auto *inputs = b->module->getGlobalVariable("glm_inputs.main", true);
    ASSERT_NE(inputs, nullptr);
    auto *tensorTy = llvm::cast<llvm::StructType>(
        llvm::cast<llvm::ArrayType>(inputs->getValueType())->getElementType());
    const llvm::StructLayout *tl = dl.getStructLayout(tensorTy);
    EXPECT_EQ(tl->getSizeInBytes(), sizeof(glm_tensor_desc_t));
    EXPECT_EQ(tl->getElementOffset(1), offsetof(glm_tensor_desc_t, dtype));
    EXPECT_EQ(tl->getElementOffset(2), offsetof(glm_tensor_desc_t, rank));
    EXPECT_EQ(tl->getElementOffset(3), offsetof(glm_tensor_desc_t, dims));
  }
}

TEST(ArtifactLayout, WeightsSectionAndChecksum) {
  auto b = buildArtifact(kDataLayouts[0]);
  auto *w = b->module->getGlobalVariable("glm_weights", true);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->getSection(), GLM_ABI_WEIGHTS_SECTION);
  EXPECT_EQ(w->getAlign()->value(), GLM_ABI_WEIGHTS_ALIGNMENT);
  // Header field 9 holds glm_abi_checksum of the blob.
  auto *header = llvm::cast<llvm::ConstantStruct>(
      b->module->getGlobalVariable("glm_header", true)->getInitializer());
  char weights[64] = {1, 2, 3};
  EXPECT_EQ(llvm::cast<llvm::ConstantInt>(header->getOperand(9))->getZExtValue(),
            glm_abi_checksum(weights, sizeof(weights)));
}

TEST(ArtifactLayout, OnlyTheDescriptorIsVisible) {
  auto b = buildArtifact(kDataLayouts[0]);
  for (llvm::GlobalValue &g : b->module->global_values()) {
    if (g.isDeclaration())
      continue;
    bool exported = g.hasExternalLinkage() && g.getVisibility() == llvm::GlobalValue::DefaultVisibility;
    EXPECT_EQ(exported, g.getName() == GLM_ABI_DESCRIPTOR_SYMBOL) << g.getName().str();
  }
}

} // namespace
