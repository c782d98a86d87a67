/*===- profile.h - Per-layer timing of --profile models ---------------------===*/
#ifndef GLMRT_SRC_PROFILE_H
#define GLMRT_SRC_PROFILE_H

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#include <stddef.h>
#include <stdint.h>

/* One layer's stretch of one run, for the Chrome trace. */
typedef struct glmrt_profile_event {
  int32_t layer; /* -1: a whole entry call */
  uint32_t run;  /* 0-based run index */
  uint64_t start_ns; /* since profiling started */
  uint64_t duration_ns;
} glmrt_profile_event_t;

typedef struct glmrt_profile {
  const glm_profile_layer_t *layers; /* the model's table, borrowed */
  size_t num_layers;
  uint64_t *total_ns; /* per layer */
  uint64_t *calls;    /* per layer */
  uint64_t origin_ns; /* when profiling started */
  int32_t current;    /* the layer running, -1 between layers */
  uint64_t current_start_ns;
  uint64_t runs, run_ns, run_start_ns;
  glmrt_profile_event_t *events;
  size_t num_events, capacity;
  uint64_t dropped; /* events past GLMRT_PROFILE_MAX_EVENTS */
} glmrt_profile_t;

/* Events kept for the trace; later ones are counted, not kept. */
#define GLMRT_PROFILE_MAX_EVENTS ((size_t)1 << 20)

/* Monotonic time in nanoseconds. */
uint64_t glmrt_profile_now_ns(void);

/* A zeroed profile over `layers`; NULL when memory is short. */
glmrt_profile_t *glmrt_profile_create(const glm_profile_layer_t *layers,
                                      size_t num_layers);
void glmrt_profile_free(glmrt_profile_t *profile);

/* Around an entry call. */
void glmrt_profile_begin_run(glmrt_profile_t *profile);
void glmrt_profile_end_run(glmrt_profile_t *profile);

/* The model's glm_profile_mark(layer): closes the running layer, starts
 * `layer` (-1: none). Ids outside the table close without starting. */
void glmrt_profile_mark(glmrt_profile_t *profile, int32_t layer);

#endif /* GLMRT_SRC_PROFILE_H */
