/*===- session.h - Session internals ----------------------------------------===*/
#ifndef GLMRT_SRC_SESSION_H
#define GLMRT_SRC_SESSION_H

#include "block_cache.h"
#include "thread_pool.h"

#include <glmrt/glmrt.h>

#include <stdatomic.h>

struct glmrt_session {
  glmrt_model_t *model; /* retained */
  glmrt_thread_pool_t *pool; /* NULL when single-threaded */
  uint32_t num_threads;
  glmrt_allocator_t allocator; /* always set (block cache or caller's) */
  glmrt_block_cache_t *cache;  /* the default allocator's; NULL otherwise */
  atomic_int busy; /* 1 while a thread is inside glmrt_session_run */
};

#endif /* GLMRT_SRC_SESSION_H */
