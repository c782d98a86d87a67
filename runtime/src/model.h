/*===- model.h - Model internals --------------------------------------------===*/
#ifndef GLMRT_SRC_MODEL_H
#define GLMRT_SRC_MODEL_H

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#include <stdatomic.h>

struct glmrt_entry {
  const struct glmrt_model *model;
  const glm_entry_desc_t *desc;
};

struct glmrt_model {
  atomic_int refcount;
  void *dl_handle;
  const glm_model_descriptor_t *descriptor;
  /* The file's header, zero-extended to this runtime's struct, with every
   * string NUL-terminated. */
  glm_artifact_header_t header;
  const void *weights; /* what calls get: embedded blob or mapped side file */
  void *weights_map;   /* the side file's mapping, or NULL */
  size_t weights_map_size;
  char *path;          /* resolved path */
  char *weights_path;  /* resolved side file, or NULL */
  const char *metadata_json;
  size_t num_entries;
  struct glmrt_entry *entries;
};

#endif /* GLMRT_SRC_MODEL_H */
