/*===- profile.c - Per-layer timing of --profile models ---------------------===*
 *
 * A model compiled with `glmc --profile` calls host->profile_mark(layer)
 * on the session's calling thread where it starts each layer, and -1 where
 * it returns. The session's profile time-stamps the marks: a layer's time
 * runs from its mark to the next. Sums per layer for the table, one event
 * per layer and run for the Chrome trace.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "profile.h"

#include "model.h"
#include "session.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t glmrt_profile_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

glmrt_profile_t *glmrt_profile_create(const glm_profile_layer_t *layers,
                                      size_t num_layers) {
  glmrt_profile_t *p = calloc(1, sizeof(*p));
  if (!p) return NULL;
  p->layers = layers;
  p->num_layers = num_layers;
  p->total_ns = calloc(num_layers ? num_layers : 1, sizeof(uint64_t));
  p->calls = calloc(num_layers ? num_layers : 1, sizeof(uint64_t));
  if (!p->total_ns || !p->calls) {
    glmrt_profile_free(p);
    return NULL;
  }
  p->current = -1;
  p->origin_ns = glmrt_profile_now_ns();
  return p;
}

void glmrt_profile_free(glmrt_profile_t *p) {
  if (!p) return;
  free(p->total_ns);
  free(p->calls);
  free(p->events);
  free(p);
}

static void add_event(glmrt_profile_t *p, int32_t layer, uint64_t start,
                      uint64_t end) {
  if (p->num_events == p->capacity) {
    size_t capacity = p->capacity ? 2 * p->capacity : 4096;
    if (capacity > GLMRT_PROFILE_MAX_EVENTS) capacity = GLMRT_PROFILE_MAX_EVENTS;
    glmrt_profile_event_t *grown =
        capacity > p->capacity ? realloc(p->events, capacity * sizeof(*grown))
                               : NULL;
    if (!grown) {
      ++p->dropped;
      return;
    }
    p->events = grown;
    p->capacity = capacity;
  }
  glmrt_profile_event_t *e = &p->events[p->num_events++];
  e->layer = layer;
  e->run = (uint32_t)p->runs;
  e->start_ns = start - p->origin_ns;
  e->duration_ns = end - start;
}

void glmrt_profile_mark(glmrt_profile_t *p, int32_t layer) {
  uint64_t now = glmrt_profile_now_ns();
  if (p->current >= 0) {
    p->total_ns[p->current] += now - p->current_start_ns;
    p->calls[p->current] += 1;
    add_event(p, p->current, p->current_start_ns, now);
  }
  p->current = layer >= 0 && (size_t)layer < p->num_layers ? layer : -1;
  /* Taken again: the bookkeeping above is not the next layer's time. */
  p->current_start_ns = p->current >= 0 ? glmrt_profile_now_ns() : now;
}

void glmrt_profile_begin_run(glmrt_profile_t *p) {
  p->current = -1;
  p->run_start_ns = glmrt_profile_now_ns();
}

void glmrt_profile_end_run(glmrt_profile_t *p) {
  uint64_t now = glmrt_profile_now_ns();
  if (p->current >= 0) glmrt_profile_mark(p, -1); /* a model that failed */
  p->run_ns += now - p->run_start_ns;
  add_event(p, -1, p->run_start_ns, now);
  ++p->runs;
}

/* The model's layer table: NULL and 0 for an ABI 1.0 descriptor or a model
 * compiled without --profile. */
static const glm_profile_layer_t *model_layers(const glmrt_model_t *model,
                                               size_t *count) {
  const glm_model_descriptor_t *d = model ? model->descriptor : NULL;
  *count = 0;
  if (!d || !GLMRT_STRUCT_HAS(d->struct_size, glm_model_descriptor_t,
                              profile_layers) ||
      !d->profile_layers)
    return NULL;
  *count = d->num_profile_layers;
  return d->profile_layers;
}

GLMRT_API size_t glmrt_model_profile_layer_count(const glmrt_model_t *model) {
  size_t n = 0;
  model_layers(model, &n);
  return n;
}

GLMRT_API glmrt_status_t *glmrt_session_set_profiling(glmrt_session_t *session,
                                                      int enabled) {
  if (!session)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_set_profiling: session is NULL");
  if (atomic_load(&session->busy))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_set_profiling: the session is "
                             "running on another thread");
  if (!enabled) {
    session->profiling = 0;
    return NULL;
  }
  size_t n = 0;
  const glm_profile_layer_t *layers = model_layers(session->model, &n);
  if (n == 0)
    return glmrt_make_status(
        GLMRT_STATUS_UNAVAILABLE,
        "model '%s' has no profile marks; compile it with glmc --profile",
        session->model->header.model_name);
  glmrt_profile_t *fresh = glmrt_profile_create(layers, n);
  if (!fresh)
    return glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                             "out of memory starting the profile");
  glmrt_profile_free(session->profile);
  session->profile = fresh;
  session->profiling = 1;
  return NULL;
}

static glmrt_status_t *need_profile(const glmrt_session_t *session,
                                    const char *fn) {
  if (!session)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT, "%s: session is NULL",
                             fn);
  if (!session->profile)
    return glmrt_make_status(GLMRT_STATUS_UNAVAILABLE,
                             "%s: profiling was never enabled on this session "
                             "(glmrt_session_set_profiling)",
                             fn);
  return NULL;
}

GLMRT_API glmrt_status_t *
glmrt_session_profile_layer(const glmrt_session_t *session, size_t index,
                            glmrt_profile_layer_info_t *info) {
  glmrt_status_t *st = need_profile(session, "glmrt_session_profile_layer");
  if (st) return st;
  if (!info || info->struct_size < sizeof(uint32_t))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_profile_layer: info is NULL or "
                             "not initialised with "
                             "glmrt_profile_layer_info_init");
  const glmrt_profile_t *p = session->profile;
  if (index >= p->num_layers)
    return glmrt_make_status(GLMRT_STATUS_OUT_OF_RANGE,
                             "glmrt_session_profile_layer: index %zu, but the "
                             "model has %zu layers",
                             index, p->num_layers);
  const glm_profile_layer_t *l = &p->layers[index];
  glmrt_profile_layer_info_t v;
  memset(&v, 0, sizeof(v));
  v.name = l->name ? l->name : "";
  v.op = l->op ? l->op : "";
  v.shape = l->shape ? l->shape : "";
  v.flops = l->flops;
  v.bytes = l->bytes;
  v.calls = p->calls[index];
  v.total_ns = p->total_ns[index];
  glmrt_copy_versioned(info, &v, sizeof(v));
  return NULL;
}

GLMRT_API glmrt_status_t *
glmrt_session_profile_summary(const glmrt_session_t *session,
                              glmrt_profile_summary_t *summary) {
  glmrt_status_t *st = need_profile(session, "glmrt_session_profile_summary");
  if (st) return st;
  if (!summary || summary->struct_size < sizeof(uint32_t))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_profile_summary: summary is NULL "
                             "or not initialised with "
                             "glmrt_profile_summary_init");
  const glmrt_profile_t *p = session->profile;
  glmrt_profile_summary_t v;
  memset(&v, 0, sizeof(v));
  v.num_layers = p->num_layers;
  v.runs = p->runs;
  v.run_ns = p->run_ns;
  for (size_t i = 0; i < p->num_layers; ++i) v.layer_ns += p->total_ns[i];
  v.events = p->num_events;
  v.dropped_events = p->dropped;
  glmrt_copy_versioned(summary, &v, sizeof(v));
  return NULL;
}

/* `s` as a JSON string body. */
static void write_json_string(FILE *f, const char *s) {
  for (; s && *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
}

GLMRT_API glmrt_status_t *
glmrt_session_write_profile_trace(const glmrt_session_t *session,
                                  const char *path) {
  glmrt_status_t *st =
      need_profile(session, "glmrt_session_write_profile_trace");
  if (st) return st;
  if (!path)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_write_profile_trace: path is NULL");
  FILE *f = fopen(path, "w");
  if (!f)
    return glmrt_make_status(GLMRT_STATUS_NOT_FOUND,
                             "cannot write the trace '%s'", path);
  const glmrt_profile_t *p = session->profile;
  fprintf(f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,"
             "\"args\":{\"name\":\"");
  write_json_string(f, session->model->header.model_name);
  fprintf(f, "\"}}");
  for (size_t i = 0; i < p->num_events; ++i) {
    const glmrt_profile_event_t *e = &p->events[i];
    double ts = e->start_ns / 1e3, dur = e->duration_ns / 1e3;
    if (e->layer < 0) {
      fprintf(f, ",\n{\"name\":\"run %u\",\"cat\":\"run\",\"ph\":\"X\","
                 "\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":%.3f}",
              e->run, ts, dur);
      continue;
    }
    const glm_profile_layer_t *l = &p->layers[e->layer];
    fprintf(f, ",\n{\"name\":\"");
    write_json_string(f, l->name);
    fprintf(f, "\",\"cat\":\"");
    write_json_string(f, l->op);
    fprintf(f, "\",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":%.3f,"
               "\"args\":{\"layer\":%d,\"run\":%u,\"shape\":\"",
            ts, dur, e->layer, e->run);
    write_json_string(f, l->shape);
    fprintf(f, "\",\"flops\":%llu,\"bytes\":%llu}}",
            (unsigned long long)l->flops, (unsigned long long)l->bytes);
  }
  fprintf(f, "\n]}\n");
  int failed = ferror(f);
  if (fclose(f) != 0 || failed)
    return glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                             "cannot finish writing the trace '%s'", path);
  return NULL;
}
