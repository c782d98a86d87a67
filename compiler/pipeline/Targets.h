//===- Targets.h - the --target registry -------------------------*- C++ -*-===//
//
// A target is data: a row of this table, not a branch in every pass. Passes
// read what they need (vector width, register count) through pass options
// that Pipeline.cpp fills from the row.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_PIPELINE_TARGETS_H
#define GLMC_COMPILER_PIPELINE_TARGETS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace glmc::pipeline {

struct TargetInfo {
  std::string name;        ///< --target value
  std::string description;
  std::string triple;      ///< LLVM target triple
  std::string cpu;         ///< LLVM CPU name (the ISA level)
  std::string tuneCpu;     ///< LLVM CPU to tune scheduling for (empty: cpu)
  std::string features;    ///< LLVM -mattr string ("+avx2,+fma")
  uint32_t arch = 0;       ///< glm_arch_t
  uint64_t cpuFeatures = 0;///< GLM_CPU_* bits the code may use (and needs)
  int vectorBits = 128;    ///< widest vector register
  int numVectorRegisters = 16;
  std::string cudaSM;      ///< "sm_87" for GPU targets, empty for CPU-only
  std::string sysrootLib;  ///< directory with libc.so.6/libm.so.6 to link against
};

/// Every registered target, in --print-targets order. `host` is resolved
/// by detection on the build machine.
llvm::ArrayRef<TargetInfo> getTargets();

/// Looks a target up by name (after resolving `host`).
std::optional<TargetInfo> lookupTarget(llvm::StringRef name);

/// The host machine as a target (triple, CPU and features detected).
TargetInfo detectHostTarget();

/// Names of the GLM_CPU_* bits set in `features`, e.g. "avx2 fma".
std::string describeCpuFeatures(uint64_t features);

} // namespace glmc::pipeline

#endif // GLMC_COMPILER_PIPELINE_TARGETS_H
