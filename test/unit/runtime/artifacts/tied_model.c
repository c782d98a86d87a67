/* "tied": y[i, j] = a[j] + b[i, j], where a's only dim and b's second dim
 * are dynamic dims of one class (-2: glm-bind-input-dims ties them, the
 * code reads b's rows as long as a). Variants (compile definitions):
 *   BAD_OUTPUT_TIE   an output dim carries a class too (only inputs may)
 *   BAD_CLASS        an input dim below GLM_ABI_MIN_TIED_DIM */
#include "test_artifact.h"

TEST_HEADER("tied", 0, "");

static int32_t tied_main(glm_call_t *call) {
  const glm_tensor_ref_t *a = &call->inputs[0], *b = &call->inputs[1];
  glm_tensor_ref_t *y = &call->outputs[0];
  int64_t rows = b->dims[0], cols = a->dims[0];
  float *out = test_alloc_output(y, (size_t)(rows * cols) * sizeof(float));
  if (!out && rows * cols) return GLM_ENTRY_OUT_OF_MEMORY;
  const float *av = (const float *)a->data, *bv = (const float *)b->data;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = av[j] + bv[i * cols + j];
  y->dims[0] = rows;
  y->dims[1] = cols;
  return GLM_ENTRY_OK;
}

#ifdef BAD_CLASS
static const int64_t a_dims[1] = {GLM_ABI_MIN_TIED_DIM - 1};
#else
static const int64_t a_dims[1] = {-2};
#endif
static const int64_t b_dims[2] = {-1, -2};
#ifdef BAD_OUTPUT_TIE
static const int64_t y_dims[2] = {-1, -2};
#else
static const int64_t y_dims[2] = {-1, -1};
#endif
static const glm_tensor_desc_t tied_inputs[2] = {{"a", GLM_DTYPE_F32, 1, a_dims},
                                                 {"b", GLM_DTYPE_F32, 2, b_dims}};
static const glm_tensor_desc_t tied_outputs[1] = {{"y", GLM_DTYPE_F32, 2, y_dims}};
static const glm_entry_desc_t tied_entries[1] = {
    {"main", tied_main, 2, 1, tied_inputs, tied_outputs}};

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC,
    GLM_ABI_VERSION_MAJOR,
    GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t),
    1,
    &test_header,
    tied_entries,
    0,
    "{\"producer\": \"glmrt unit test\"}",
    test_bind_host,
};
