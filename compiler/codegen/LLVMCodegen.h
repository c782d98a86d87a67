//===- LLVMCodegen.h - LLVM dialect → optimised object code -----*- C++ -*-===//

#ifndef GLMC_COMPILER_CODEGEN_LLVMCODEGEN_H
#define GLMC_COMPILER_CODEGEN_LLVMCODEGEN_H

#include "compiler/pipeline/Targets.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace glmc::codegen {

/// Registers the LLVM code generators glmc uses (X86, AArch64); once.
void initializeTargets();

/// Translates a module in the LLVM dialect to LLVM IR for `target` (triple,
/// data layout, CPU and feature attributes on every function). Null and
/// `error` set on failure.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                                                const pipeline::TargetInfo &target,
                                                std::string &error);

/// Runs LLVM's -O<optLevel> pipeline for the target on `module`.
bool optimizeModule(llvm::Module &module, const pipeline::TargetInfo &target, int optLevel,
                    std::string &error);

/// Emits an object file (or assembly) for the target into `out`.
bool emitObject(llvm::Module &module, const pipeline::TargetInfo &target, int optLevel,
                bool assembly, llvm::SmallVectorImpl<char> &out, std::string &error);

} // namespace glmc::codegen

#endif // GLMC_COMPILER_CODEGEN_LLVMCODEGEN_H
