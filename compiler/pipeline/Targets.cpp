//===- Targets.cpp - the --target registry --------------------------------===//

#include "compiler/pipeline/Targets.h"

#include "runtime/include/glmrt/artifact_abi.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace glmc::pipeline;

namespace {

constexpr uint64_t kX86V3 = GLM_CPU_X86_SSE4_2 | GLM_CPU_X86_AVX | GLM_CPU_X86_AVX2 |
                            GLM_CPU_X86_FMA | GLM_CPU_X86_F16C | GLM_CPU_X86_BMI2;
constexpr uint64_t kX86V4 = kX86V3 | GLM_CPU_X86_AVX512F | GLM_CPU_X86_AVX512BW |
                            GLM_CPU_X86_AVX512DQ | GLM_CPU_X86_AVX512VL;

/// LLVM feature name ↔ GLM_CPU bit.
struct FeatureName {
  const char *llvm;
  const char *pretty;
  uint64_t bit;
};
constexpr FeatureName kFeatureNames[] = {
    {"sse4.2", "sse4.2", GLM_CPU_X86_SSE4_2},   {"avx", "avx", GLM_CPU_X86_AVX},
    {"avx2", "avx2", GLM_CPU_X86_AVX2},         {"fma", "fma", GLM_CPU_X86_FMA},
    {"f16c", "f16c", GLM_CPU_X86_F16C},         {"avx512f", "avx512f", GLM_CPU_X86_AVX512F},
    {"avx512bw", "avx512bw", GLM_CPU_X86_AVX512BW},
    {"avx512dq", "avx512dq", GLM_CPU_X86_AVX512DQ},
    {"avx512vl", "avx512vl", GLM_CPU_X86_AVX512VL},
    {"avx512vnni", "avx512vnni", GLM_CPU_X86_AVX512VNNI},
    {"avxvnni", "avxvnni", GLM_CPU_X86_AVXVNNI},
    {"avx512bf16", "avx512bf16", GLM_CPU_X86_AVX512BF16},
    {"bmi2", "bmi2", GLM_CPU_X86_BMI2},
    {"neon", "neon", GLM_CPU_ARM_NEON},         {"dotprod", "dotprod", GLM_CPU_ARM_DOTPROD},
    {"fullfp16", "fp16", GLM_CPU_ARM_FP16},     {"i8mm", "i8mm", GLM_CPU_ARM_I8MM},
    {"bf16", "bf16", GLM_CPU_ARM_BF16},         {"sve", "sve", GLM_CPU_ARM_SVE},
};

std::string firstExistingDir(std::initializer_list<const char *> dirs) {
  for (const char *d : dirs)
    if (llvm::sys::fs::exists(std::string(d) + "/libc.so.6"))
      return d;
  return "";
}

std::string x86Sysroot() {
  return firstExistingDir({"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"});
}
std::string aarch64Sysroot() {
  return firstExistingDir({"/usr/aarch64-linux-gnu/lib", "/lib/aarch64-linux-gnu"});
}

std::vector<TargetInfo> buildTable() {
  std::vector<TargetInfo> t;
  t.push_back(detectHostTarget());
  auto x86 = [&](const char *name, const char *desc, const char *cpu, const char *feat,
                 uint64_t bits, int vbits, int nregs, const char *sm = "") {
    TargetInfo i;
    i.name = name, i.description = desc, i.triple = "x86_64-unknown-linux-gnu", i.cpu = cpu;
    i.features = feat, i.arch = GLM_ARCH_X86_64, i.cpuFeatures = bits, i.vectorBits = vbits;
    i.numVectorRegisters = nregs, i.cudaSM = sm, i.sysrootLib = x86Sysroot();
    t.push_back(i);
  };
  auto arm = [&](const char *name, const char *desc, const char *cpu, const char *feat,
                 uint64_t bits, const char *sm = "") {
    TargetInfo i;
    i.name = name, i.description = desc, i.triple = "aarch64-unknown-linux-gnu", i.cpu = cpu;
    i.features = feat, i.arch = GLM_ARCH_AARCH64, i.cpuFeatures = bits, i.vectorBits = 128;
    i.numVectorRegisters = 32, i.cudaSM = sm, i.sysrootLib = aarch64Sysroot();
    t.push_back(i);
  };
  x86("x86-64-v3", "x86-64, Haswell class: AVX2, FMA", "x86-64-v3", "", kX86V3, 256, 16);
  x86("x86-64-v4", "x86-64, Skylake-AVX512 class: AVX-512F/BW/DQ/VL", "x86-64-v4", "", kX86V4, 512,
      32);
  arm("aarch64", "AArch64 ARMv8-A: NEON", "generic", "+neon", GLM_CPU_ARM_NEON);
  arm("rpi4", "Raspberry Pi 4, Cortex-A72: NEON, no dotprod", "cortex-a72", "+neon",
      GLM_CPU_ARM_NEON);
  arm("rpi5", "Raspberry Pi 5, Cortex-A76: NEON, dotprod, fp16", "cortex-a76",
      "+neon,+dotprod,+fullfp16", GLM_CPU_ARM_NEON | GLM_CPU_ARM_DOTPROD | GLM_CPU_ARM_FP16);
  arm("jetson", "Jetson Orin, Cortex-A78AE + CUDA sm_87: NEON, dotprod", "cortex-a78",
      "+neon,+dotprod,+fullfp16", GLM_CPU_ARM_NEON | GLM_CPU_ARM_DOTPROD | GLM_CPU_ARM_FP16,
      "sm_87");
  x86("cuda-sm80", "x86-64-v3 host + CUDA sm_80 (A100)", "x86-64-v3", "", kX86V3, 256, 16,
      "sm_80");
  x86("cuda-sm90", "x86-64-v3 host + CUDA sm_90 (H100)", "x86-64-v3", "", kX86V3, 256, 16,
      "sm_90");
  return t;
}

} // namespace

TargetInfo glmc::pipeline::detectHostTarget() {
  TargetInfo host;
  host.name = "host";
  llvm::Triple triple(llvm::sys::getProcessTriple());
  // Canonical triples, so that `host` and the named targets agree.
  host.triple = triple.getArch() == llvm::Triple::aarch64 ? "aarch64-unknown-linux-gnu"
                                                          : "x86_64-unknown-linux-gnu";
  host.cpu = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
  // Only the features the artifact header can express go into -mattr, so
  // that the code never uses a feature the loader does not check.
  for (const FeatureName &f : kFeatureNames) {
    auto it = hostFeatures.find(f.llvm);
    if (it == hostFeatures.end() || !it->second)
      continue;
    host.cpuFeatures |= f.bit;
  }
  std::string feats;
  if (triple.getArch() == llvm::Triple::x86_64) {
    host.arch = GLM_ARCH_X86_64;
    host.sysrootLib = x86Sysroot();
  } else if (triple.getArch() == llvm::Triple::aarch64) {
    host.arch = GLM_ARCH_AARCH64;
    host.cpuFeatures |= GLM_CPU_ARM_NEON;
    host.vectorBits = 128;
    host.numVectorRegisters = 32;
    host.sysrootLib = aarch64Sysroot();
  }
  // The host CPU name implies features the artifact header cannot express
  // (e.g. avx512vbmi, gfni); code using them would SIGILL on another machine
  // that passes the loader's checks. So the ISA is the generic level plus
  // exactly the detected table features, and the host CPU only tunes.
  host.tuneCpu = host.cpu;
  if (host.arch == GLM_ARCH_X86_64) {
    bool v4 = (host.cpuFeatures & GLM_CPU_X86_AVX512F) && (host.cpuFeatures & GLM_CPU_X86_AVX512BW) &&
              (host.cpuFeatures & GLM_CPU_X86_AVX512DQ) && (host.cpuFeatures & GLM_CPU_X86_AVX512VL);
    bool v3 = (host.cpuFeatures & kX86V3) == kX86V3;
    host.cpu = v4 ? "x86-64-v4" : v3 ? "x86-64-v3" : "x86-64-v2";
    if (!v4) // a v3 machine with AVX-512F only (rare) still gets v3 code
      host.cpuFeatures &= ~(GLM_CPU_X86_AVX512F | GLM_CPU_X86_AVX512BW | GLM_CPU_X86_AVX512DQ |
                            GLM_CPU_X86_AVX512VL | GLM_CPU_X86_AVX512VNNI | GLM_CPU_X86_AVX512BF16);
    host.vectorBits = v4 ? 512 : v3 ? 256 : 128;
    host.numVectorRegisters = v4 ? 32 : 16;
    host.cpuFeatures &= v4 ? ~0ull : v3 ? ~0ull : GLM_CPU_X86_SSE4_2;
  } else {
    host.cpu = "generic";
  }
  for (const FeatureName &f : kFeatureNames) {
    bool isX86 = f.bit < (1ull << 32);
    if (isX86 != (host.arch == GLM_ARCH_X86_64) || !(host.cpuFeatures & f.bit))
      continue;
    feats += (feats.empty() ? "+" : ",+");
    feats += f.llvm;
  }
  host.features = feats;
  host.description = "this machine: " + host.tuneCpu + " as " + host.cpu + " (" + describeCpuFeatures(host.cpuFeatures) + ")";
  return host;
}

llvm::ArrayRef<TargetInfo> glmc::pipeline::getTargets() {
  static const std::vector<TargetInfo> table = buildTable();
  return table;
}

std::optional<TargetInfo> glmc::pipeline::lookupTarget(llvm::StringRef name) {
  for (const TargetInfo &t : getTargets())
    if (t.name == name)
      return t;
  return std::nullopt;
}

std::string glmc::pipeline::describeCpuFeatures(uint64_t features) {
  std::string out;
  for (const FeatureName &f : kFeatureNames)
    if (features & f.bit) {
      if (!out.empty())
        out += ' ';
      out += f.pretty;
    }
  return out;
}
