/*===- status.h - Status objects inside glmrt -------------------------------===*/
#ifndef GLMRT_SRC_STATUS_H
#define GLMRT_SRC_STATUS_H

#include <glmrt/glmrt.h>

/* Makes a status with a printf-style message. Never returns NULL for a
 * non-OK code: when memory is short it returns a static RESOURCE_EXHAUSTED
 * status that glmrt_status_free() recognises. */
glmrt_status_t *glmrt_make_status(glmrt_status_code_t code, const char *format,
                                  ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to a status' message (for context), keeping its code.
 * Returns the (possibly new) status. */
glmrt_status_t *glmrt_status_annotate(glmrt_status_t *status,
                                      const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* True when a versioned struct of size `size` contains `field` of `type`. */
#define GLMRT_STRUCT_HAS(size, type, field)                                   \
  ((size) >= offsetof(type, field) + sizeof(((type *)0)->field))

#endif /* GLMRT_SRC_STATUS_H */
