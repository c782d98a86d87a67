/*===- thread_pool.c - Worker threads and parallel_for ----------------------===*
 *
 * A pool has num_threads - 1 workers; the thread that calls parallel_for
 * works too. A job is published with a new generation number; every worker
 * takes chunks from an atomic counter until none are left, then checks out
 * (pending--). The caller returns only after all workers checked out, so
 * the job (on the caller's stack) is never touched afterwards. Waiting
 * spins briefly before blocking on a condition variable, so back-to-back
 * loops of a model do not pay a futex wake-up each, and idle pools sleep.
 *===----------------------------------------------------------------------===*/
#include "thread_pool.h"

#include "host.h"
#include "status.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct job {
  glm_task_fn fn;
  void *arg;
  int64_t n;
  int64_t chunk;
  int64_t num_chunks;
  atomic_llong next; /* next chunk to take */
} job_t;

struct glmrt_thread_pool {
  pthread_mutex_t mutex;
  pthread_cond_t work_cond; /* workers wait for a new generation */
  pthread_cond_t done_cond; /* the caller waits for pending == 0 */
  /* Bumped (release) after `job` is set; workers read it (acquire). */
  atomic_uint_fast64_t generation;
  job_t *job;
  atomic_uint pending; /* workers that have not checked out of the job */
  atomic_int shutdown;
  /* Spin iterations before blocking; 0 when threads outnumber CPUs, where
   * spinning would only steal time from the thread being waited for. */
  uint32_t spin;
  void *context; /* the session, made current on each worker */
  uint32_t num_workers;
  pthread_t *workers;
};

/* About 10-50 microseconds of polling, long enough to catch the next
 * parallel loop of a model that runs one after another. */
#ifndef GLMRT_POOL_SPIN_ITERATIONS
#define GLMRT_POOL_SPIN_ITERATIONS 4000u
#endif

/* Set while a thread runs chunks: nested parallel_for runs inline. */
static _Thread_local int in_parallel_region;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ volatile("pause" ::: "memory");
#elif defined(__aarch64__)
  __asm__ volatile("yield" ::: "memory");
#endif
}

static void run_chunks(job_t *job) {
  for (;;) {
    long long c = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
    if (c >= job->num_chunks) break;
    int64_t begin = (int64_t)c * job->chunk;
    int64_t end = begin + job->chunk;
    if (end > job->n) end = job->n;
    job->fn(job->arg, begin, end);
  }
}

/* Waits until the generation differs from `seen` or the pool shuts down;
 * returns the new generation (or `seen` on shutdown). */
static uint64_t wait_for_work(glmrt_thread_pool_t *pool, uint64_t seen) {
  for (uint32_t i = 0; i < pool->spin; ++i) {
    uint64_t g = atomic_load_explicit(&pool->generation, memory_order_acquire);
    if (g != seen || atomic_load_explicit(&pool->shutdown, memory_order_relaxed))
      return g;
    cpu_relax();
  }
  pthread_mutex_lock(&pool->mutex);
  uint64_t g;
  while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) ==
             seen &&
         !atomic_load_explicit(&pool->shutdown, memory_order_relaxed))
    pthread_cond_wait(&pool->work_cond, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
  return g;
}

static void *worker_main(void *opaque) {
  glmrt_thread_pool_t *pool = opaque;
  glmrt_host_set_current_session(pool->context);
  in_parallel_region = 1;
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = wait_for_work(pool, seen);
    if (atomic_load_explicit(&pool->shutdown, memory_order_acquire)) break;
    seen = g;
    run_chunks(pool->job);
    if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_signal(&pool->done_cond);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
  return NULL;
}

static void stop_workers(glmrt_thread_pool_t *pool, uint32_t started) {
  pthread_mutex_lock(&pool->mutex);
  atomic_store_explicit(&pool->shutdown, 1, memory_order_release);
  pthread_cond_broadcast(&pool->work_cond);
  pthread_mutex_unlock(&pool->mutex);
  for (uint32_t i = 0; i < started; ++i) pthread_join(pool->workers[i], NULL);
}

glmrt_status_t *glmrt_thread_pool_create(uint32_t num_threads, void *context,
                                         glmrt_thread_pool_t **out_pool) {
  glmrt_status_t *status = NULL;
  uint32_t started = 0;
  int mutex_ok = 0, work_ok = 0, done_ok = 0;
  glmrt_thread_pool_t *pool = calloc(1, sizeof(*pool));
  if (!pool) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "out of memory creating a thread pool");
    goto cleanup;
  }
  pool->context = context;
  pool->num_workers = num_threads > 1 ? num_threads - 1 : 0;
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->pending, 0);
  atomic_init(&pool->shutdown, 0);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  pool->spin = (cpus > 0 && num_threads <= (uint32_t)cpus) ? GLMRT_POOL_SPIN_ITERATIONS : 0;
  mutex_ok = pthread_mutex_init(&pool->mutex, NULL) == 0;
  work_ok = pthread_cond_init(&pool->work_cond, NULL) == 0;
  done_ok = pthread_cond_init(&pool->done_cond, NULL) == 0;
  if (!mutex_ok || !work_ok || !done_ok) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "cannot create thread pool synchronisation");
    goto cleanup;
  }
  if (pool->num_workers) {
    pool->workers = calloc(pool->num_workers, sizeof(pthread_t));
    if (!pool->workers) {
      status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                                 "out of memory creating %u worker threads",
                                 pool->num_workers);
      goto cleanup;
    }
  }
  for (; started < pool->num_workers; ++started) {
    int err = pthread_create(&pool->workers[started], NULL, worker_main, pool);
    if (err != 0) {
      status = glmrt_make_status(
          GLMRT_STATUS_RESOURCE_EXHAUSTED,
          "cannot start worker thread %u of %u (error %d: %s)", started + 1,
          pool->num_workers, err, err == EAGAIN ? "thread limit reached" : "");
      goto cleanup;
    }
  }
  *out_pool = pool;
  pool = NULL;

cleanup:
  if (pool) {
    if (started) stop_workers(pool, started);
    if (done_ok) pthread_cond_destroy(&pool->done_cond);
    if (work_ok) pthread_cond_destroy(&pool->work_cond);
    if (mutex_ok) pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
  }
  return status;
}

void glmrt_thread_pool_release(glmrt_thread_pool_t *pool) {
  if (!pool) return;
  stop_workers(pool, pool->num_workers);
  pthread_cond_destroy(&pool->done_cond);
  pthread_cond_destroy(&pool->work_cond);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->workers);
  free(pool);
}

void glmrt_thread_pool_parallel_for(glmrt_thread_pool_t *pool, int64_t n,
                                    int64_t grain, glm_task_fn fn, void *arg) {
  if (n <= 0 || !fn) return;
  if (grain < 1) grain = 1;
  if (!pool || pool->num_workers == 0 || in_parallel_region || n <= grain) {
    int was_in_region = in_parallel_region;
    in_parallel_region = 1;
    fn(arg, 0, n);
    in_parallel_region = was_in_region;
    return;
  }

  /* Chunks of at least `grain`, about four per thread for balance. */
  int64_t threads = (int64_t)pool->num_workers + 1;
  int64_t chunk = (n + threads * 4 - 1) / (threads * 4);
  if (chunk < grain) chunk = grain;
  job_t job;
  job.fn = fn;
  job.arg = arg;
  job.n = n;
  job.chunk = chunk;
  job.num_chunks = (n + chunk - 1) / chunk;
  atomic_init(&job.next, 0);

  pthread_mutex_lock(&pool->mutex);
  pool->job = &job;
  atomic_store_explicit(&pool->pending, pool->num_workers, memory_order_relaxed);
  atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
  pthread_cond_broadcast(&pool->work_cond);
  pthread_mutex_unlock(&pool->mutex);

  in_parallel_region = 1;
  run_chunks(&job);
  in_parallel_region = 0;

  /* Wait until every worker checked out: spin a little, then block. */
  for (uint32_t i = 0; i < pool->spin; ++i) {
    if (atomic_load_explicit(&pool->pending, memory_order_acquire) == 0) return;
    cpu_relax();
  }
  pthread_mutex_lock(&pool->mutex);
  while (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0)
    pthread_cond_wait(&pool->done_cond, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
}
