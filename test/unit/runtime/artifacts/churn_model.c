/* "churn": allocates and frees through the host table from every thread of
 * a parallel loop, the way compiled models allocate their temporaries.
 *   main(sizes: i64[?], rounds: i32[1]) -> (out: u8[?], stats: i64[3])
 * Iteration i of the parallel loop (over len(sizes) * rounds, grain 1) holds
 * two blocks at once, of sizes[i % len] and sizes[(i + 1) % len] bytes,
 * fills each with its own byte, yields, and checks both before freeing them.
 * out has sizes[0] bytes, all 0x5a.
 * stats = {blocks whose bytes changed while held, blocks not 64-byte
 * aligned, failed allocations}. */
#define _DEFAULT_SOURCE
#include "test_artifact.h"

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

typedef struct {
  const int64_t *sizes;
  int64_t num_sizes;
  atomic_long corrupted, misaligned, failed;
} churn_t;

static int filled_with(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t k = 0; k < n; ++k)
    if (p[k] != v) return 0;
  return 1;
}

static void churn_task(void *arg, int64_t begin, int64_t end) {
  churn_t *c = (churn_t *)arg;
  for (int64_t i = begin; i < end; ++i) {
    size_t n0 = (size_t)c->sizes[i % c->num_sizes];
    size_t n1 = (size_t)c->sizes[(i + 1) % c->num_sizes];
    unsigned char *a = host->alloc(n0, 64);
    unsigned char *b = host->alloc(n1, 64);
    if (!a || !b) {
      atomic_fetch_add(&c->failed, 1);
      host->free(a);
      host->free(b);
      continue;
    }
    if ((uintptr_t)a % 64 || (uintptr_t)b % 64)
      atomic_fetch_add(&c->misaligned, 1);
    unsigned char va = (unsigned char)(2 * i), vb = (unsigned char)(2 * i + 1);
    memset(a, va, n0);
    memset(b, vb, n1);
    sched_yield();
    if (!filled_with(a, n0, va)) atomic_fetch_add(&c->corrupted, 1);
    if (!filled_with(b, n1, vb)) atomic_fetch_add(&c->corrupted, 1);
    host->free(b);
    host->free(a);
  }
}

static int32_t churn_main(glm_call_t *call) {
  churn_t c;
  c.sizes = (const int64_t *)call->inputs[0].data;
  c.num_sizes = call->inputs[0].dims[0];
  int32_t rounds = *(const int32_t *)call->inputs[1].data;
  if (c.num_sizes < 1 || rounds < 0) return GLM_ENTRY_SHAPE_MISMATCH;
  for (int64_t k = 0; k < c.num_sizes; ++k)
    if (c.sizes[k] < 0) return GLM_ENTRY_SHAPE_MISMATCH;
  atomic_init(&c.corrupted, 0);
  atomic_init(&c.misaligned, 0);
  atomic_init(&c.failed, 0);
  host->parallel_for(c.num_sizes * rounds, 1, churn_task, &c);
  unsigned char *out = test_alloc_output(&call->outputs[0], (size_t)c.sizes[0]);
  int64_t *stats = test_alloc_output(&call->outputs[1], 3 * sizeof(int64_t));
  if (!out || !stats) return GLM_ENTRY_OUT_OF_MEMORY;
  memset(out, 0x5a, (size_t)c.sizes[0]);
  stats[0] = atomic_load(&c.corrupted);
  stats[1] = atomic_load(&c.misaligned);
  stats[2] = atomic_load(&c.failed);
  call->outputs[0].dims[0] = c.sizes[0];
  call->outputs[1].dims[0] = 3;
  return GLM_ENTRY_OK;
}

TEST_HEADER("churn", 0, "");

static const int64_t dyn[1] = {-1};
static const int64_t one[1] = {1};
static const int64_t three[1] = {3};
static const glm_tensor_desc_t churn_in[2] = {
    {"sizes", GLM_DTYPE_I64, 1, dyn}, {"rounds", GLM_DTYPE_I32, 1, one}};
static const glm_tensor_desc_t churn_out[2] = {
    {"out", GLM_DTYPE_U8, 1, dyn}, {"stats", GLM_DTYPE_I64, 1, three}};
static const glm_entry_desc_t churn_entries[1] = {
    {"main", churn_main, 2, 2, churn_in, churn_out}};

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t), 1, &test_header, churn_entries, 0, 0,
    test_bind_host,
};
