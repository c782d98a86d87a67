/*===- test_artifact.h - Boilerplate for hand-written test artifacts --------===*
 *
 * The unit tests build small model.so files by hand, following
 * <glmrt/artifact_abi.h> the way glmc's packager does: a header in section
 * .glm_header, weights in .glm_weights (64-byte aligned), one exported
 * descriptor, everything else hidden (-fvisibility=hidden). weights_size and
 * weights_checksum are left 0 here and filled in after linking by
 * artifact_stamp.
 *===----------------------------------------------------------------------===*/
#ifndef GLMRT_TEST_ARTIFACT_H
#define GLMRT_TEST_ARTIFACT_H

#include <glmrt/artifact_abi.h>

#define TEST_EXPORT __attribute__((visibility("default")))

#if defined(__x86_64__)
#define TEST_ARCH GLM_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_ARCH GLM_ARCH_AARCH64
#else
#define TEST_ARCH GLM_ARCH_UNKNOWN
#endif

#ifndef TEST_CPU_FEATURES
#define TEST_CPU_FEATURES 0
#endif

/* Defines the header section. */
#define TEST_HEADER(model_name, flags, weights_file)                          \
  __attribute__((section(GLM_ABI_HEADER_SECTION), used, aligned(8)))         \
  const glm_artifact_header_t test_header = {                                \
      GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,           \
      sizeof(glm_artifact_header_t), TEST_ARCH, TEST_CPU_FEATURES, flags, 0, \
      0, 0, model_name, "host", "generic", weights_file}

/* Host services, bound by the runtime before the first call. */
static const glm_host_table_t *host __attribute__((unused));
__attribute__((unused)) static void test_bind_host(const glm_host_table_t *table) {
  host = table;
}

/* Allocates an output, records it in `ref`. */
static inline void *test_alloc_output(glm_tensor_ref_t *ref, size_t bytes) {
  void *p = host->alloc(bytes ? bytes : 1, GLM_ABI_WEIGHTS_ALIGNMENT);
  ref->data = p;
  ref->allocation = p;
  return p;
}

#endif /* GLMRT_TEST_ARTIFACT_H */
