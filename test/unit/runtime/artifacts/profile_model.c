/* "profile": a model compiled as with glmc --profile, marking its layers.
 *   main(delay_us: i32[1]) -> (y: i32[1])
 * Per run: layer 0 (delay_us), layer 1 (2 x delay_us, half of it in a
 * parallel_for), layer 0 again (delay_us), an id outside the table (not a
 * layer: ends layer 0), then -1 before returning. y = 7.
 * PROFILE_ABI_1_0: the same code behind an ABI 1.0 descriptor (no layer
 * table), as an artifact from an older glmc. */
#define _DEFAULT_SOURCE
#include "test_artifact.h"

#include <unistd.h>

static void mark(int32_t layer) {
  /* What glmc's host glue does: skip the mark on an older host table. */
  if (host->struct_size >= offsetof(glm_host_table_t, profile_mark) +
                               sizeof(void *) &&
      host->profile_mark)
    host->profile_mark(layer);
}

static void sleep_task(void *arg, int64_t begin, int64_t end) {
  int32_t delay = *(const int32_t *)arg;
  (void)begin;
  (void)end;
  usleep((useconds_t)delay);
}

static int32_t profile_main(glm_call_t *call) {
  int32_t delay = *(const int32_t *)call->inputs[0].data;
  mark(0);
  usleep((useconds_t)delay);
  mark(1); /* 3 x delay: the slowest layer, whatever the timer's noise */
  usleep((useconds_t)(2 * delay));
  host->parallel_for(1, 1, sleep_task, &delay);
  mark(0);
  usleep((useconds_t)delay);
  mark(7);
  int32_t *y = test_alloc_output(&call->outputs[0], sizeof(int32_t));
  if (!y) return GLM_ENTRY_OUT_OF_MEMORY;
  *y = 7;
  call->outputs[0].dims[0] = 1;
  mark(-1);
  return GLM_ENTRY_OK;
}

TEST_HEADER("profile", 0, "");

static const int64_t one[1] = {1};
static const glm_tensor_desc_t prof_in[1] = {{"delay_us", GLM_DTYPE_I32, 1, one}};
static const glm_tensor_desc_t prof_out[1] = {{"y", GLM_DTYPE_I32, 1, one}};
static const glm_entry_desc_t prof_entries[1] = {
    {"main", profile_main, 1, 1, prof_in, prof_out}};
static const glm_profile_layer_t prof_layers[2] = {
    {"/conv", "conv", "1x8x4x4", 1000000, 4096},
    {"/add + /relu", "add+relu", "1x8x4x4", 0, 1536},
};

#ifdef PROFILE_ABI_1_0
TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, 0,
    GLM_ABI_DESCRIPTOR_V1_0_SIZE, 1, &test_header, prof_entries, 0, 0,
    test_bind_host, 0, 0, 0};
#else
TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t), 1, &test_header, prof_entries, 0, 0,
    test_bind_host, 2, 0, prof_layers};
#endif
