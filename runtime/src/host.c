/*===- host.c - Host services for models: memory and parallel loops ---------===*
 *
 * The host table is one static for the whole process, so that binding a model
 * once is enough however many sessions run it. Each call finds its session
 * through `current_session`, a thread-local set by glmrt_session_run on the
 * calling thread and, for good, on each of the session's workers.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "host.h"

#include "session.h"
#include "thread_pool.h"

#include <stdlib.h>

static _Thread_local struct glmrt_session *current_session;

struct glmrt_session *glmrt_host_current_session(void) {
  return current_session;
}

struct glmrt_session *glmrt_host_set_current_session(struct glmrt_session *s) {
  struct glmrt_session *previous = current_session;
  current_session = s;
  return previous;
}

void *glmrt_default_alloc(void *self, size_t size, size_t alignment) {
  (void)self;
  if (alignment < GLM_ABI_WEIGHTS_ALIGNMENT) alignment = GLM_ABI_WEIGHTS_ALIGNMENT;
  if (alignment & (alignment - 1)) return NULL; /* not a power of two */
  if (size == 0) size = 1;
  void *ptr = NULL;
  if (posix_memalign(&ptr, alignment, size) != 0) return NULL;
  return ptr;
}

void glmrt_default_free(void *self, void *ptr) {
  (void)self;
  free(ptr);
}

static void *host_alloc(size_t size, size_t alignment) {
  struct glmrt_session *s = current_session;
  if (alignment < GLM_ABI_WEIGHTS_ALIGNMENT) alignment = GLM_ABI_WEIGHTS_ALIGNMENT;
  if (alignment & (alignment - 1)) return NULL;
  if (!s) return glmrt_default_alloc(NULL, size, alignment);
  return s->allocator.alloc(s->allocator.self, size, alignment);
}

static void host_free(void *ptr) {
  if (!ptr) return;
  struct glmrt_session *s = current_session;
  if (!s) {
    glmrt_default_free(NULL, ptr);
    return;
  }
  s->allocator.free(s->allocator.self, ptr);
}

static void host_parallel_for(int64_t n, int64_t grain, glm_task_fn fn,
                              void *arg) {
  struct glmrt_session *s = current_session;
  glmrt_thread_pool_parallel_for(s ? s->pool : NULL, n, grain, fn, arg);
}

static void host_profile_mark(int32_t layer) {
  struct glmrt_session *s = current_session;
  if (s && s->profiling) glmrt_profile_mark(s->profile, layer);
}

static void host_report_error(const char *site, int64_t value, int64_t bound) {
  struct glmrt_session *s = current_session;
  if (!s) return;
  int expected = 0;
  /* The first report wins; the others of the run are the same kind. */
  if (atomic_compare_exchange_strong(&s->index_error, &expected, 1)) {
    s->index_error_site = site;
    s->index_error_value = value;
    s->index_error_bound = bound;
  }
}

static const glm_host_table_t host_table = {
    .struct_size = sizeof(glm_host_table_t),
    .reserved = 0,
    .alloc = host_alloc,
    .free = host_free,
    .parallel_for = host_parallel_for,
    .profile_mark = host_profile_mark,
    .report_error = host_report_error,
};

const glm_host_table_t *glmrt_host_table(void) { return &host_table; }
