/* "add": y[b, i] = x[b, i] + w[i], w = {1, 2, 3, 4} in the weights, the batch
 * dim dynamic. Variants (compile definitions) make broken artifacts:
 *   EXTERNAL_WEIGHTS=\"name\"  weights in a side file of that name
 *   NO_DESCRIPTOR              the descriptor symbol is not exported
 *   BAD_DESCRIPTOR_MAGIC       the descriptor's magic is wrong
 *   HEADER_MISMATCH            descriptor->header is not the header section
 *   NO_BIND_HOST               the descriptor has no bind_host
 *   NO_HEADER                  no .glm_header section at all
 *   TEST_CPU_FEATURES=bits     the header requires these CPU features */
#include "test_artifact.h"

#ifdef EXTERNAL_WEIGHTS
#define WEIGHTS_FLAGS GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS
#define WEIGHTS_FILE EXTERNAL_WEIGHTS
#else
#define WEIGHTS_FLAGS 0
#define WEIGHTS_FILE ""
#endif

#ifndef NO_HEADER
TEST_HEADER("add", WEIGHTS_FLAGS, WEIGHTS_FILE);
#define HEADER_PTR (&test_header)
#else
static const glm_artifact_header_t plain_header = {GLM_ABI_MAGIC};
#define HEADER_PTR (&plain_header)
#endif

#ifdef HEADER_MISMATCH
static const glm_artifact_header_t other_header = {GLM_ABI_MAGIC, 1, 0,
                                                   sizeof(glm_artifact_header_t)};
#undef HEADER_PTR
#define HEADER_PTR (&other_header)
#endif

/* With external weights the artifact_stamp tool writes this section out as
 * the side file; the loader ignores it then. */
__attribute__((section(GLM_ABI_WEIGHTS_SECTION), used, aligned(64)))
const float test_weights[4] = {1.0f, 2.0f, 3.0f, 4.0f};

static int32_t add_main(glm_call_t *call) {
  const float *w = (const float *)call->weights;
  const glm_tensor_ref_t *x = &call->inputs[0];
  glm_tensor_ref_t *y = &call->outputs[0];
  int64_t batch = x->dims[0];
  float *out = test_alloc_output(y, (size_t)batch * 4 * sizeof(float));
  if (!out) return GLM_ENTRY_OUT_OF_MEMORY;
  const float *in = (const float *)x->data;
  for (int64_t i = 0; i < batch * 4; ++i) out[i] = in[i] + w[i % 4];
  y->dims[0] = batch;
  y->dims[1] = 4;
  return GLM_ENTRY_OK;
}

static const int64_t xy_dims[2] = {-1, 4};
static const glm_tensor_desc_t add_inputs[1] = {{"x", GLM_DTYPE_F32, 2, xy_dims}};
static const glm_tensor_desc_t add_outputs[1] = {{"y", GLM_DTYPE_F32, 2, xy_dims}};
static const glm_entry_desc_t add_entries[1] = {
    {"main", add_main, 1, 1, add_inputs, add_outputs}};

#ifdef NO_DESCRIPTOR
#undef TEST_EXPORT
#define TEST_EXPORT
#endif
#ifdef BAD_DESCRIPTOR_MAGIC
#define DESCRIPTOR_MAGIC 0x12345678u
#else
#define DESCRIPTOR_MAGIC GLM_ABI_MAGIC
#endif
#ifdef NO_BIND_HOST
#define BIND_HOST 0
#else
#define BIND_HOST test_bind_host
#endif
#ifdef EXTERNAL_WEIGHTS
#define DESCRIPTOR_WEIGHTS 0
#else
#define DESCRIPTOR_WEIGHTS test_weights
#endif

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    DESCRIPTOR_MAGIC,
    GLM_ABI_VERSION_MAJOR,
    GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t),
    1,
    HEADER_PTR,
    add_entries,
    DESCRIPTOR_WEIGHTS,
    "{\"producer\": \"glmrt unit test\", \"flags\": [\"--target\", \"host\"]}",
    BIND_HOST,
};
