/*===- status.h - Status objects inside glmrt -------------------------------===*/
#ifndef GLMRT_SRC_STATUS_H
#define GLMRT_SRC_STATUS_H

#include <glmrt/glmrt.h>

#include <stdint.h>
#include <string.h>

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

/* Copies `full`, a versioned struct this runtime filled (`full_size`
 * bytes, starting with its uint32_t struct_size), into the caller's `out`:
 * as many bytes as out's struct_size covers, which stays as the caller set
 * it (a caller built against an older header gets the fields it knows). */
static inline void glmrt_copy_versioned(void *out, const void *full,
                                        size_t full_size) {
  uint32_t out_size;
  memcpy(&out_size, out, sizeof(out_size));
  size_t n = out_size < full_size ? out_size : full_size;
  if (n > sizeof(uint32_t))
    memcpy((char *)out + sizeof(uint32_t),
           (const char *)full + sizeof(uint32_t), n - sizeof(uint32_t));
}

#endif /* GLMRT_SRC_STATUS_H */
