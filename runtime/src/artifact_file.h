/*===- artifact_file.h - Checking a model.so from its bytes -----------------===*/
#ifndef GLMRT_SRC_ARTIFACT_FILE_H
#define GLMRT_SRC_ARTIFACT_FILE_H

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* What the checks learnt; owned by the caller, freed with
 * glmrt_artifact_file_release. */
typedef struct glmrt_artifact_file {
  /* The file's header zero-extended to this runtime's struct, strings
   * NUL-terminated. */
  glm_artifact_header_t header;
  size_t header_bytes; /* min(file struct_size, sizeof(header)) */
  /* Identity of the checked file, to match what dlopen then maps. */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  /* External weights, mapped read-only (NULL when embedded). */
  void *weights_map;
  size_t weights_map_size;
  char *weights_path;
} glmrt_artifact_file_t;

/* Runs every check that needs no code from the file, in the documented
 * order. `display_path` names the file in messages, `resolved_path` is its
 * realpath(). On success fills *out. */
glmrt_status_t *glmrt_artifact_file_check(const char *display_path,
                                          const char *resolved_path,
                                          uint32_t load_flags,
                                          uint64_t cpu_features_disabled,
                                          glmrt_artifact_file_t *out);

/* Unmaps and frees what a successful check holds. */
void glmrt_artifact_file_release(glmrt_artifact_file_t *file);

/* errno as text (thread-safe). */
const char *glmrt_errno_text(int err, char *buffer, size_t capacity);

#endif /* GLMRT_SRC_ARTIFACT_FILE_H */
