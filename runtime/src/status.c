/*===- status.c - Status objects --------------------------------------------===*/
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct glmrt_status {
  glmrt_status_code_t code;
  char message[];
};

/* Returned when there is no memory for a status; never freed. */
static struct {
  glmrt_status_code_t code;
  char message[64];
} oom_status = {GLMRT_STATUS_RESOURCE_EXHAUSTED,
                "out of memory (while reporting an error)"};

static glmrt_status_t *oom(void) { return (glmrt_status_t *)(void *)&oom_status; }

static glmrt_status_t *make_status_v(glmrt_status_code_t code,
                                     const char *prefix, const char *format,
                                     va_list args) {
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (n < 0) n = 0;
  size_t prefix_len = prefix ? strlen(prefix) : 0;
  glmrt_status_t *status =
      malloc(sizeof(glmrt_status_t) + prefix_len + (size_t)n + 1);
  if (!status) return oom();
  status->code = code;
  if (prefix_len) memcpy(status->message, prefix, prefix_len);
  vsnprintf(status->message + prefix_len, (size_t)n + 1, format, args);
  return status;
}

glmrt_status_t *glmrt_make_status(glmrt_status_code_t code, const char *format,
                                  ...) {
  va_list args;
  va_start(args, format);
  glmrt_status_t *status = make_status_v(code, NULL, format, args);
  va_end(args);
  return status;
}

glmrt_status_t *glmrt_status_annotate(glmrt_status_t *status,
                                      const char *format, ...) {
  if (!status || status == oom()) return status;
  char prefix[256];
  va_list args;
  va_start(args, format);
  vsnprintf(prefix, sizeof(prefix), format, args);
  va_end(args);
  glmrt_status_t *annotated =
      glmrt_make_status(status->code, "%s: %s", prefix, status->message);
  if (annotated == oom()) return status; /* keep the original */
  free(status);
  return annotated;
}

GLMRT_API glmrt_status_code_t glmrt_status_code(const glmrt_status_t *status) {
  return status ? status->code : GLMRT_STATUS_OK;
}

GLMRT_API const char *glmrt_status_message(const glmrt_status_t *status) {
  return status ? status->message : "OK";
}

GLMRT_API void glmrt_status_free(glmrt_status_t *status) {
  if (status && status != oom()) free(status);
}

GLMRT_API const char *glmrt_status_code_name(glmrt_status_code_t code) {
  switch (code) {
  case GLMRT_STATUS_OK: return "OK";
  case GLMRT_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
  case GLMRT_STATUS_NOT_FOUND: return "NOT_FOUND";
  case GLMRT_STATUS_INCOMPATIBLE: return "INCOMPATIBLE";
  case GLMRT_STATUS_DATA_LOSS: return "DATA_LOSS";
  case GLMRT_STATUS_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
  case GLMRT_STATUS_OUT_OF_RANGE: return "OUT_OF_RANGE";
  case GLMRT_STATUS_UNAVAILABLE: return "UNAVAILABLE";
  case GLMRT_STATUS_INTERNAL: return "INTERNAL";
  }
  return "UNKNOWN";
}
