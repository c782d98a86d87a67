/* "parallel": y = 2 * x computed through host->parallel_for, plus stats.
 *   main(x: f32[?], delay_us: i32[1]) -> (y: f32[?], stats: i64[4])
 * stats = {chunks run, distinct threads that ran chunks, nested calls that
 * ran inline on the same thread (should equal chunks), host->alloc blocks
 * that were 64-byte aligned (should be 2)}. Each chunk sleeps delay_us so
 * that work spreads over the workers. */
#define _DEFAULT_SOURCE
#include "test_artifact.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_SEEN 256

typedef struct {
  const float *x;
  float *y;
  int32_t delay_us;
  atomic_long chunks;
  atomic_long nested_inline;
  atomic_int num_seen;
  pthread_t seen[MAX_SEEN];
  pthread_mutex_t lock;
} work_t;

typedef struct {
  pthread_t outer;
  int inline_ok;
  int64_t covered;
} nested_t;

static void nested_task(void *arg, int64_t begin, int64_t end) {
  nested_t *n = (nested_t *)arg;
  if (pthread_equal(pthread_self(), n->outer)) n->inline_ok = 1;
  n->covered += end - begin;
}

static void record_thread(work_t *w) {
  pthread_t self = pthread_self();
  pthread_mutex_lock(&w->lock);
  int n = atomic_load(&w->num_seen), found = 0;
  for (int i = 0; i < n; ++i)
    if (pthread_equal(w->seen[i], self)) found = 1;
  if (!found && n < MAX_SEEN) {
    w->seen[n] = self;
    atomic_store(&w->num_seen, n + 1);
  }
  pthread_mutex_unlock(&w->lock);
}

static void chunk_task(void *arg, int64_t begin, int64_t end) {
  work_t *w = (work_t *)arg;
  atomic_fetch_add(&w->chunks, 1);
  record_thread(w);
  nested_t n = {pthread_self(), 0, 0};
  host->parallel_for(100, 1, nested_task, &n);
  if (n.inline_ok && n.covered == 100) atomic_fetch_add(&w->nested_inline, 1);
  for (int64_t i = begin; i < end; ++i) w->y[i] = 2.0f * w->x[i];
  if (w->delay_us > 0) usleep((useconds_t)w->delay_us);
}

static int32_t parallel_main(glm_call_t *call) {
  int64_t n = call->inputs[0].dims[0];
  int64_t aligned = 0;
  void *scratch = host->alloc(13, 16); /* a temporary, freed below */
  if (!scratch) return GLM_ENTRY_OUT_OF_MEMORY;
  if (((uintptr_t)scratch % 64) == 0) ++aligned;
  host->free(scratch);
  float *y = test_alloc_output(&call->outputs[0], (size_t)n * sizeof(float));
  int64_t *stats = test_alloc_output(&call->outputs[1], 4 * sizeof(int64_t));
  if (!y || !stats) return GLM_ENTRY_OUT_OF_MEMORY;
  if (((uintptr_t)y % 64) == 0) ++aligned;
  work_t w;
  w.x = (const float *)call->inputs[0].data;
  w.y = y;
  w.delay_us = *(const int32_t *)call->inputs[1].data;
  atomic_init(&w.chunks, 0);
  atomic_init(&w.nested_inline, 0);
  atomic_init(&w.num_seen, 0);
  pthread_mutex_init(&w.lock, 0);
  host->parallel_for(n, 16, chunk_task, &w);
  pthread_mutex_destroy(&w.lock);
  stats[0] = atomic_load(&w.chunks);
  stats[1] = atomic_load(&w.num_seen);
  stats[2] = atomic_load(&w.nested_inline);
  stats[3] = aligned;
  call->outputs[0].dims[0] = n;
  call->outputs[1].dims[0] = 4;
  return GLM_ENTRY_OK;
}

TEST_HEADER("parallel", 0, "");

static const int64_t dyn[1] = {-1};
static const int64_t one[1] = {1};
static const int64_t four[1] = {4};
static const glm_tensor_desc_t par_in[2] = {{"x", GLM_DTYPE_F32, 1, dyn},
                                            {"delay_us", GLM_DTYPE_I32, 1, one}};
static const glm_tensor_desc_t par_out[2] = {{"y", GLM_DTYPE_F32, 1, dyn},
                                             {"stats", GLM_DTYPE_I64, 1, four}};
static const glm_entry_desc_t par_entries[1] = {
    {"main", parallel_main, 2, 2, par_in, par_out}};

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t), 1, &test_header, par_entries, 0, 0,
    test_bind_host,
};
