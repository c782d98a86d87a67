/*===- session.h - Session internals ----------------------------------------===*/
#ifndef GLMRT_SRC_SESSION_H
#define GLMRT_SRC_SESSION_H

#include "block_cache.h"
#include "profile.h"
#include "thread_pool.h"

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#include <stdatomic.h>

struct glmrt_session {
  glmrt_model_t *model; /* retained */
  glmrt_thread_pool_t *pool; /* NULL when single-threaded */
  uint32_t num_threads;
  glmrt_allocator_t allocator; /* always set (block cache or caller's) */
  glmrt_block_cache_t *cache;  /* the default allocator's; NULL otherwise */
  atomic_int busy; /* 1 while a thread is inside glmrt_session_run */
  glmrt_profile_t *profile; /* since glmrt_session_set_profiling, or NULL */
  int profiling;            /* runs are timed into `profile` */
  /* The first index out of range the model reported in the current run
   * (host report_error; any of the run's threads): set once per run. */
  atomic_int index_error;
  const char *index_error_site;
  int64_t index_error_value, index_error_bound;
};

/* Checks a call's arguments as glmrt_session_run does (entry of the
 * session's model, input and output counts, every input's dtype, shape and
 * size); a NULL *entry becomes "main". */
glmrt_status_t *glmrt_session_check_call(const glmrt_session_t *session,
                                         const glmrt_entry_t **entry,
                                         const glmrt_tensor_view_t *inputs,
                                         size_t num_inputs, size_t num_outputs);

/* Runs `entry` on inputs already checked by glmrt_session_check_call and
 * gives the outputs back as the model wrote them, without wrapping them in
 * glmrt_tensor_t objects (so a run allocates nothing outside the model).
 * `refs` has room for the entry's inputs followed by its outputs. On
 * success refs[num_inputs + i] is output i, checked against the entry, and
 * the caller owns its `allocation` (release with glmrt_session_free_refs);
 * on failure nothing is left to release. Refuses a busy session. */
glmrt_status_t *glmrt_session_run_refs(glmrt_session_t *session,
                                       const glmrt_entry_t *entry,
                                       const glmrt_tensor_view_t *inputs,
                                       glm_tensor_ref_t *refs);

/* Releases the blocks of `count` output refs through the session's
 * allocator (a block listed twice once) and clears them. */
void glmrt_session_free_refs(glmrt_session_t *session, glm_tensor_ref_t *refs,
                             size_t count);

#endif /* GLMRT_SRC_SESSION_H */
