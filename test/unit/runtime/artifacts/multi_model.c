/* "multi": several entries, dtypes, ranks and outputs; no weights.
 *   main(a: i32[3], b: f64[2, 2]) -> (inc: i32[3] = a + 1,
 *                                     prod: f64[] = product of b)
 *   double(x: u8[?]) -> (y: u8[?] = 2 * x)
 *   const() -> (flags: bool[2] = {1, 0})
 *   wait(flag: i32[1]) -> (out: i32[1]): spins until the caller sets
 *       flag[0] != 0 (to test that a busy session refuses a second run). */
#include "test_artifact.h"

#include <sched.h>

TEST_HEADER("multi", 0, "");

static int32_t multi_main(glm_call_t *call) {
  const int32_t *a = (const int32_t *)call->inputs[0].data;
  const double *b = (const double *)call->inputs[1].data;
  int32_t *inc = test_alloc_output(&call->outputs[0], 3 * sizeof(int32_t));
  double *prod = test_alloc_output(&call->outputs[1], sizeof(double));
  if (!inc || !prod) return GLM_ENTRY_OUT_OF_MEMORY;
  for (int i = 0; i < 3; ++i) inc[i] = a[i] + 1;
  call->outputs[0].dims[0] = 3;
  *prod = b[0] * b[1] * b[2] * b[3];
  return GLM_ENTRY_OK;
}

static int32_t multi_double(glm_call_t *call) {
  int64_t n = call->inputs[0].dims[0];
  const uint8_t *x = (const uint8_t *)call->inputs[0].data;
  uint8_t *y = test_alloc_output(&call->outputs[0], (size_t)n);
  if (!y) return GLM_ENTRY_OUT_OF_MEMORY;
  for (int64_t i = 0; i < n; ++i) y[i] = (uint8_t)(2 * x[i]);
  call->outputs[0].dims[0] = n;
  return GLM_ENTRY_OK;
}

static int32_t multi_const(glm_call_t *call) {
  uint8_t *flags = test_alloc_output(&call->outputs[0], 2);
  if (!flags) return GLM_ENTRY_OUT_OF_MEMORY;
  flags[0] = 1;
  flags[1] = 0;
  call->outputs[0].dims[0] = 2;
  return GLM_ENTRY_OK;
}

static int32_t multi_wait(glm_call_t *call) {
  const int32_t *flag = (const int32_t *)call->inputs[0].data;
  int32_t value;
  while ((value = __atomic_load_n(flag, __ATOMIC_ACQUIRE)) == 0) sched_yield();
  int32_t *out = test_alloc_output(&call->outputs[0], sizeof(int32_t));
  if (!out) return GLM_ENTRY_OUT_OF_MEMORY;
  *out = value;
  call->outputs[0].dims[0] = 1;
  return GLM_ENTRY_OK;
}

static const int64_t dims3[1] = {3};
static const int64_t dims2x2[2] = {2, 2};
static const int64_t dyn[1] = {-1};
static const int64_t dims2[1] = {2};
static const int64_t dims1[1] = {1};
static const glm_tensor_desc_t main_in[2] = {{"a", GLM_DTYPE_I32, 1, dims3},
                                             {"b", GLM_DTYPE_F64, 2, dims2x2}};
static const glm_tensor_desc_t main_out[2] = {{"inc", GLM_DTYPE_I32, 1, dims3},
                                              {"prod", GLM_DTYPE_F64, 0, 0}};
static const glm_tensor_desc_t double_in[1] = {{"x", GLM_DTYPE_U8, 1, dyn}};
static const glm_tensor_desc_t double_out[1] = {{"y", GLM_DTYPE_U8, 1, dyn}};
static const glm_tensor_desc_t const_out[1] = {{"flags", GLM_DTYPE_BOOL, 1, dims2}};
static const glm_tensor_desc_t wait_in[1] = {{"flag", GLM_DTYPE_I32, 1, dims1}};
static const glm_tensor_desc_t wait_out[1] = {{"out", GLM_DTYPE_I32, 1, dims1}};

static const glm_entry_desc_t multi_entries[4] = {
    {"main", multi_main, 2, 2, main_in, main_out},
    {"double", multi_double, 1, 1, double_in, double_out},
    {"const", multi_const, 0, 1, 0, const_out},
    {"wait", multi_wait, 1, 1, wait_in, wait_out},
};

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t), 4, &test_header, multi_entries, 0, 0,
    test_bind_host,
};
