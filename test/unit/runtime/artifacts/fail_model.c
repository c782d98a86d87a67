/* "fail": entries that misbehave in the ways the runtime must survive. None
 * takes inputs; each declares one or two outputs.
 *   oom       allocates its output, then reports GLM_ENTRY_OUT_OF_MEMORY
 *   shape     reports GLM_ENTRY_SHAPE_MISMATCH
 *   code7     reports an unknown code, 7
 *   bad_dims  returns output f32[2] with dims {3}
 *   no_data   returns success without writing its output
 *   same      returns one block for both of its outputs
 *   bad_index allocates its output, reports an index out of range from a
 *             parallel task (host report_error, ABI 1.2), returns success
 *   fine      allocates and fills its output, returns success */
#include "test_artifact.h"

TEST_HEADER("fail", 0, "");

static int32_t fail_oom(glm_call_t *call) {
  test_alloc_output(&call->outputs[0], 8);
  return GLM_ENTRY_OUT_OF_MEMORY;
}

static int32_t fail_shape(glm_call_t *call) {
  (void)call;
  return GLM_ENTRY_SHAPE_MISMATCH;
}

static int32_t fail_code7(glm_call_t *call) {
  (void)call;
  return 7;
}

static int32_t fail_bad_dims(glm_call_t *call) {
  if (!test_alloc_output(&call->outputs[0], 12)) return GLM_ENTRY_OUT_OF_MEMORY;
  call->outputs[0].dims[0] = 3;
  return GLM_ENTRY_OK;
}

static int32_t fail_no_data(glm_call_t *call) {
  (void)call;
  return GLM_ENTRY_OK;
}

static int32_t fail_same(glm_call_t *call) {
  void *p = test_alloc_output(&call->outputs[0], 8);
  if (!p) return GLM_ENTRY_OUT_OF_MEMORY;
  call->outputs[1] = call->outputs[0];
  call->outputs[0].dims[0] = 2;
  call->outputs[1].dims[0] = 2;
  return GLM_ENTRY_OK;
}

static void report_task(void *arg, int64_t begin, int64_t end) {
  (void)arg;
  for (int64_t i = begin; i < end; ++i)
    if (i == 5) host->report_error("node '/embed/Gather': Gather index", 99999, 512);
}

static int32_t fail_bad_index(glm_call_t *call) {
  float *y = test_alloc_output(&call->outputs[0], 8);
  if (!y) return GLM_ENTRY_OUT_OF_MEMORY;
  y[0] = y[1] = 1.0f;
  call->outputs[0].dims[0] = 2;
  host->parallel_for(8, 1, report_task, NULL);
  return GLM_ENTRY_OK;
}

static int32_t fail_fine(glm_call_t *call) {
  float *y = test_alloc_output(&call->outputs[0], 8);
  if (!y) return GLM_ENTRY_OUT_OF_MEMORY;
  y[0] = y[1] = 2.0f;
  call->outputs[0].dims[0] = 2;
  return GLM_ENTRY_OK;
}

static const int64_t two[1] = {2};
static const glm_tensor_desc_t out1[1] = {{"out", GLM_DTYPE_F32, 1, two}};
static const glm_tensor_desc_t out2[2] = {{"a", GLM_DTYPE_F32, 1, two},
                                          {"b", GLM_DTYPE_F32, 1, two}};

static const glm_entry_desc_t fail_entries[8] = {
    {"oom", fail_oom, 0, 1, 0, out1},
    {"shape", fail_shape, 0, 1, 0, out1},
    {"code7", fail_code7, 0, 1, 0, out1},
    {"bad_dims", fail_bad_dims, 0, 1, 0, out1},
    {"no_data", fail_no_data, 0, 1, 0, out1},
    {"same", fail_same, 0, 2, 0, out2},
    {"bad_index", fail_bad_index, 0, 1, 0, out1},
    {"fine", fail_fine, 0, 1, 0, out1},
};

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t), 8, &test_header, fail_entries, 0, 0,
    test_bind_host,
};
