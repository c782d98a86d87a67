/*===- host.h - The host table handed to models -----------------------------===*/
#ifndef GLMRT_SRC_HOST_H
#define GLMRT_SRC_HOST_H

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

struct glmrt_session;

/* The process-lifetime host table every model is bound to. Its functions
 * find the calling thread's session through a thread-local variable. */
const glm_host_table_t *glmrt_host_table(void);

/* The calling thread's current session (NULL outside a run). */
struct glmrt_session *glmrt_host_current_session(void);

/* Sets the calling thread's current session; returns the previous one. */
struct glmrt_session *glmrt_host_set_current_session(struct glmrt_session *s);

/* The default allocator: 64-byte aligned blocks from libc. */
void *glmrt_default_alloc(void *self, size_t size, size_t alignment);
void glmrt_default_free(void *self, void *ptr);

#endif /* GLMRT_SRC_HOST_H */
