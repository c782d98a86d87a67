/*===- cpu.c - CPU architecture and feature detection -----------------------===*
 *
 * x86-64: CPUID plus XGETBV, so that AVX and AVX-512 count only when the OS
 * saves their register state (XCR0). AArch64: the kernel's HWCAP/HWCAP2 in the
 * auxiliary vector, and MIDR_EL1 (which the kernel emulates when HWCAP_CPUID
 * is set) for the core's name.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "cpu.h"

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

static const char *const feature_names[64] = {
    [0] = "sse4.2",      [1] = "avx",         [2] = "avx2",
    [3] = "fma",         [4] = "f16c",        [5] = "avx512f",
    [6] = "avx512bw",    [7] = "avx512dq",    [8] = "avx512vl",
    [9] = "avx512vnni",  [10] = "avxvnni",    [11] = "avx512bf16",
    [12] = "bmi2",       [32] = "neon",       [33] = "dotprod",
    [34] = "fp16",       [35] = "i8mm",       [36] = "bf16",
    [37] = "sve",
};

const char *glmrt_cpu_feature_name(unsigned bit) {
  return bit < 64 ? feature_names[bit] : NULL;
}

uint32_t glmrt_cpu_arch(void) {
#if defined(__x86_64__)
  return GLM_ARCH_X86_64;
#elif defined(__aarch64__)
  return GLM_ARCH_AARCH64;
#else
  return GLM_ARCH_UNKNOWN;
#endif
}

uint16_t glmrt_cpu_elf_machine(void) {
#if defined(__x86_64__)
  return EM_X86_64;
#elif defined(__aarch64__)
  return EM_AARCH64;
#else
  return EM_NONE;
#endif
}

const char *glmrt_arch_name(uint32_t arch) {
  switch (arch) {
  case GLM_ARCH_X86_64: return "x86-64";
  case GLM_ARCH_AARCH64: return "aarch64";
  default: return "unknown";
  }
}

const char *glmrt_elf_machine_name(uint16_t machine, char *buffer,
                                   size_t capacity) {
  const char *name = NULL;
  switch (machine) {
  case EM_X86_64: name = "x86-64"; break;
  case EM_AARCH64: name = "aarch64"; break;
  case EM_386: name = "i386"; break;
  case EM_ARM: name = "arm"; break;
  case EM_RISCV: name = "riscv"; break;
  case EM_PPC64: name = "ppc64"; break;
  case EM_S390: name = "s390"; break;
  default: break;
  }
  if (name) snprintf(buffer, capacity, "%s", name);
  else snprintf(buffer, capacity, "ELF machine %u", (unsigned)machine);
  return buffer;
}

static uint64_t detected_features;
static char detected_name[96] = "unknown CPU";
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
static uint64_t read_xcr0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

static void detect(void) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  uint64_t f = 0;
  unsigned max_leaf = __get_cpuid_max(0, NULL);
  if (max_leaf >= 1 && __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    int osxsave = (ecx >> 27) & 1;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;          /* XMM and YMM state */
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM */
    if (ecx & (1u << 20)) f |= GLM_CPU_X86_SSE4_2;
    if (os_avx) {
      if (ecx & (1u << 28)) f |= GLM_CPU_X86_AVX;
      if (ecx & (1u << 12)) f |= GLM_CPU_X86_FMA;
      if (ecx & (1u << 29)) f |= GLM_CPU_X86_F16C;
    }
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
      unsigned leaf7_max_sub = eax;
      if (ebx & (1u << 8)) f |= GLM_CPU_X86_BMI2;
      if (os_avx && (ebx & (1u << 5))) f |= GLM_CPU_X86_AVX2;
      if (os_avx512) {
        if (ebx & (1u << 16)) f |= GLM_CPU_X86_AVX512F;
        if (ebx & (1u << 17)) f |= GLM_CPU_X86_AVX512DQ;
        if (ebx & (1u << 30)) f |= GLM_CPU_X86_AVX512BW;
        if (ebx & (1u << 31)) f |= GLM_CPU_X86_AVX512VL;
        if (ecx & (1u << 11)) f |= GLM_CPU_X86_AVX512VNNI;
      }
      if (leaf7_max_sub >= 1 &&
          __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
        if (os_avx && (eax & (1u << 4))) f |= GLM_CPU_X86_AVXVNNI;
        if (os_avx512 && (eax & (1u << 5))) f |= GLM_CPU_X86_AVX512BF16;
      }
    }
  }
  detected_features = f;

  /* Brand string, leaves 0x80000002..4, trimmed. */
  unsigned max_ext = __get_cpuid_max(0x80000000u, NULL);
  if (max_ext >= 0x80000004u) {
    unsigned regs[12];
    for (unsigned i = 0; i < 3; ++i)
      __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1],
                  &regs[4 * i + 2], &regs[4 * i + 3]);
    char brand[49];
    memcpy(brand, regs, 48);
    brand[48] = '\0';
    char *start = brand;
    while (*start == ' ') ++start;
    size_t len = strlen(start);
    while (len && start[len - 1] == ' ') start[--len] = '\0';
    if (len) snprintf(detected_name, sizeof(detected_name), "%s", start);
  }
}
#elif defined(__aarch64__)
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1ul << 1)
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1ul << 9)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1ul << 10)
#endif
#ifndef HWCAP_CPUID
#define HWCAP_CPUID (1ul << 11)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1ul << 20)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1ul << 22)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1ul << 13)
#endif
#ifndef HWCAP2_BF16
#define HWCAP2_BF16 (1ul << 14)
#endif

static const char *arm_core_name(unsigned part) {
  switch (part) {
  case 0xd03: return "cortex-a53";
  case 0xd04: return "cortex-a35";
  case 0xd05: return "cortex-a55";
  case 0xd07: return "cortex-a57";
  case 0xd08: return "cortex-a72";
  case 0xd09: return "cortex-a73";
  case 0xd0a: return "cortex-a75";
  case 0xd0b: return "cortex-a76";
  case 0xd0c: return "neoverse-n1";
  case 0xd0d: return "cortex-a77";
  case 0xd40: return "neoverse-v1";
  case 0xd41: return "cortex-a78";
  case 0xd42: return "cortex-a78ae";
  case 0xd44: return "cortex-x1";
  case 0xd46: return "cortex-a510";
  case 0xd47: return "cortex-a710";
  case 0xd48: return "cortex-x2";
  case 0xd49: return "neoverse-n2";
  case 0xd4b: return "cortex-a78c";
  case 0xd4f: return "neoverse-v2";
  default: return NULL;
  }
}

static void detect(void) {
  unsigned long hwcap = getauxval(AT_HWCAP);
  unsigned long hwcap2 = getauxval(AT_HWCAP2);
  uint64_t f = 0;
  if (hwcap & HWCAP_ASIMD) f |= GLM_CPU_ARM_NEON;
  if (hwcap & HWCAP_ASIMDDP) f |= GLM_CPU_ARM_DOTPROD;
  if ((hwcap & HWCAP_FPHP) && (hwcap & HWCAP_ASIMDHP)) f |= GLM_CPU_ARM_FP16;
  if (hwcap & HWCAP_SVE) f |= GLM_CPU_ARM_SVE;
  if (hwcap2 & HWCAP2_I8MM) f |= GLM_CPU_ARM_I8MM;
  if (hwcap2 & HWCAP2_BF16) f |= GLM_CPU_ARM_BF16;
  detected_features = f;

  snprintf(detected_name, sizeof(detected_name), "aarch64 CPU");
  if (hwcap & HWCAP_CPUID) {
    uint64_t midr;
    __asm__ volatile("mrs %0, MIDR_EL1" : "=r"(midr));
    unsigned implementer = (unsigned)(midr >> 24) & 0xff;
    unsigned part = (unsigned)(midr >> 4) & 0xfff;
    const char *name = implementer == 0x41 ? arm_core_name(part) : NULL;
    if (name)
      snprintf(detected_name, sizeof(detected_name), "%s", name);
    else
      snprintf(detected_name, sizeof(detected_name),
               "aarch64 CPU (implementer 0x%02x, part 0x%03x)", implementer,
               part);
  }
}
#else
static void detect(void) {}
#endif

uint64_t glmrt_cpu_detected_features(void) {
  pthread_once(&detect_once, detect);
  return detected_features;
}

const char *glmrt_cpu_detected_name(void) {
  pthread_once(&detect_once, detect);
  return detected_name;
}

GLMRT_API uint64_t glmrt_runtime_cpu_features(void) {
  return glmrt_cpu_detected_features();
}

GLMRT_API const char *glmrt_runtime_cpu_name(void) {
  return glmrt_cpu_detected_name();
}

GLMRT_API const char *glmrt_runtime_arch_name(void) {
  return glmrt_arch_name(glmrt_cpu_arch());
}

GLMRT_API size_t glmrt_cpu_features_format(uint64_t features, char *buffer,
                                           size_t capacity) {
  size_t needed = 0;
  if (buffer && capacity) buffer[0] = '\0';
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!(features & (1ull << bit))) continue;
    char unknown[16];
    const char *name = glmrt_cpu_feature_name(bit);
    if (!name) {
      snprintf(unknown, sizeof(unknown), "bit %u", bit);
      name = unknown;
    }
    const char *sep = needed ? ", " : "";
    size_t used = needed < capacity ? needed : (capacity ? capacity - 1 : 0);
    int n = snprintf(buffer ? buffer + used : NULL,
                     buffer && capacity > used ? capacity - used : 0, "%s%s",
                     sep, name);
    if (n > 0) needed += (size_t)n;
  }
  return needed;
}
