/*===- thread_pool.h - A session's worker threads ---------------------------===*/
#ifndef GLMRT_SRC_THREAD_POOL_H
#define GLMRT_SRC_THREAD_POOL_H

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

typedef struct glmrt_thread_pool glmrt_thread_pool_t;

/* Starts num_threads - 1 workers (the caller of parallel_for is the last
 * thread). `context` is made the worker threads' current session. */
glmrt_status_t *glmrt_thread_pool_create(uint32_t num_threads, void *context,
                                         glmrt_thread_pool_t **out_pool);

/* Stops and joins the workers. NULL is a no-op. */
void glmrt_thread_pool_release(glmrt_thread_pool_t *pool);

/* Runs fn over [0, n) in chunks of at least `grain` iterations on the pool's
 * threads and the calling thread; returns when every chunk is done. Runs
 * inline when the pool is NULL or single-threaded, when n fits one chunk, or
 * when called from inside another parallel_for. */
void glmrt_thread_pool_parallel_for(glmrt_thread_pool_t *pool, int64_t n,
                                    int64_t grain, glm_task_fn fn, void *arg);

#endif /* GLMRT_SRC_THREAD_POOL_H */
