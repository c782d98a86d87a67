/*===- cpu.h - What this machine is -----------------------------------------===*/
#ifndef GLMRT_SRC_CPU_H
#define GLMRT_SRC_CPU_H

#include <stddef.h>
#include <stdint.h>

/* The glm_arch_t of this build of the runtime. */
uint32_t glmrt_cpu_arch(void);

/* The ELF e_machine of this build (EM_X86_64, EM_AARCH64). */
uint16_t glmrt_cpu_elf_machine(void);

/* Name of a glm_arch_t ("x86-64", "aarch64", "unknown"). */
const char *glmrt_arch_name(uint32_t arch);

/* Name of an ELF e_machine ("x86-64", "aarch64", "i386", "machine 183"...),
 * written into buffer. */
const char *glmrt_elf_machine_name(uint16_t machine, char *buffer,
                                   size_t capacity);

/* Detected GLM_CPU_* features and CPU name; computed once, thread-safe. */
uint64_t glmrt_cpu_detected_features(void);
const char *glmrt_cpu_detected_name(void);

/* Name of one GLM_CPU_* bit (bit index 0..63), or NULL for an unknown bit. */
const char *glmrt_cpu_feature_name(unsigned bit);

#endif /* GLMRT_SRC_CPU_H */
