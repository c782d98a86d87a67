/*===- decoder.c - Decoding with a key/value cache --------------------------===*
 *
 * A decoder drives a model exported in the "decoder with past" form
 * (input_ids, attention_mask, position_ids, past_key_values.{i}.key/value
 * -> logits, present.{i}.key/value) one chunk of tokens at a time.
 *
 * The cache: per layer and per key/value one dense block of
 * batch x kv_heads x max_length x head_dim elements, allocated at create.
 * After a call with `length` tokens cached and `n` new ones, the block holds
 * the model's `present` output, [batch, kv_heads, length + n, head_dim]
 * densely (the layout the next call's `past` input needs), so each call
 * copies each present tensor into its block with one memcpy and gives the
 * model's block back to the session. The copy is O(length) per call, like
 * the attention itself; updating the cache in place needs the compiler to
 * treat the cache as state (future work, docs/runtime.md).
 *
 * Calls allocate nothing themselves: the input views, their dims and the
 * refs the model fills live in the decoder, and the model's outputs are
 * taken as raw refs (glmrt_session_run_refs), not as glmrt_tensor_t
 * objects. With the default allocator the model's blocks come from the
 * session's block cache, so steady-state steps take no memory from libc.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "host.h"
#include "model.h"
#include "session.h"
#include "status.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAST_PREFIX "past_key_values."
#define PRESENT_PREFIX "present."
/* Cache blocks start on this boundary. */
#define CACHE_ALIGNMENT 64u

typedef struct decoder_layer {
  /* Entry input and output indices; UINT32_MAX until found. */
  uint32_t past[2];    /* [0] key, [1] value */
  uint32_t present[2];
  int64_t kv_heads[2];
  int64_t head_dim[2];
  uint32_t dtype[2];
  void *cache[2]; /* batch x kv_heads x max_length x head_dim elements */
} decoder_layer_t;

struct glmrt_decoder {
  glmrt_session_t *session;
  const glmrt_entry_t *entry;
  const char *model_name; /* borrowed from the model */
  size_t num_inputs, num_outputs;
  size_t max_length, batch, vocab;
  size_t num_layers;
  decoder_layer_t *layers;
  /* Entry input/output indices; -1 when the model has no such input. */
  int ids_input, positions_input, mask_input, logits_output;
  uint32_t ids_dtype, positions_dtype, mask_dtype;
  /* batch x max_length elements each, in the input's dtype. */
  void *ids, *positions, *mask;
  /* The cache: one allocation holding every layer's blocks. */
  void *cache;
  size_t cache_bytes;
  glmrt_allocator_t cache_allocator;
  /* Per call, reused. */
  glmrt_tensor_view_t *views;
  int64_t (*dims)[GLMRT_MAX_RANK];
  glm_tensor_ref_t *refs;
  void *logits_block; /* the last call's logits, until the next call */
  size_t length;
  atomic_int busy;
};

/*--- name and dtype helpers ------------------------------------------------*/

/* Parses "<prefix><digits>.key" or "<prefix><digits>.value": *layer and
 * *which (0 key, 1 value). Returns 0 when `name` is not of that form. */
static int parse_kv_name(const char *name, const char *prefix, size_t *layer,
                         int *which) {
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) != 0) return 0;
  const char *p = name + n;
  if (*p < '0' || *p > '9') return 0;
  size_t value = 0;
  while (*p >= '0' && *p <= '9') {
    if (value > (SIZE_MAX - 9) / 10) return 0;
    value = value * 10 + (size_t)(*p - '0');
    ++p;
  }
  if (strcmp(p, ".key") == 0) *which = 0;
  else if (strcmp(p, ".value") == 0) *which = 1;
  else return 0;
  *layer = value;
  return 1;
}

static const char *kv_suffix(int which) { return which ? "value" : "key"; }

static int is_index_dtype(uint32_t dtype) {
  return dtype == GLMRT_DTYPE_I64 || dtype == GLMRT_DTYPE_I32;
}

static int is_mask_dtype(uint32_t dtype) {
  return dtype == GLMRT_DTYPE_I64 || dtype == GLMRT_DTYPE_I32 ||
         dtype == GLMRT_DTYPE_I8 || dtype == GLMRT_DTYPE_U8 ||
         dtype == GLMRT_DTYPE_BOOL || dtype == GLMRT_DTYPE_F32;
}

/* Stores `value` as element `index` of an index or mask buffer. */
static void store_element(void *buffer, uint32_t dtype, size_t index,
                          int64_t value) {
  switch (dtype) {
  case GLMRT_DTYPE_I64: ((int64_t *)buffer)[index] = value; break;
  case GLMRT_DTYPE_I32: ((int32_t *)buffer)[index] = (int32_t)value; break;
  case GLMRT_DTYPE_I8: ((int8_t *)buffer)[index] = (int8_t)value; break;
  case GLMRT_DTYPE_U8:
  case GLMRT_DTYPE_BOOL: ((uint8_t *)buffer)[index] = (uint8_t)value; break;
  case GLMRT_DTYPE_F32: ((float *)buffer)[index] = (float)value; break;
  default: break;
  }
}

static void format_shape(char *buffer, size_t capacity, uint32_t rank,
                         const int64_t *dims) {
  size_t used = (size_t)snprintf(buffer, capacity, "[");
  for (uint32_t k = 0; k < rank && used < capacity; ++k)
    used += (size_t)snprintf(buffer + used, capacity - used,
                             dims[k] < 0 ? "%s?" : "%s%lld", k ? ", " : "",
                             (long long)dims[k]);
  if (used < capacity) snprintf(buffer + used, capacity - used, "]");
}

/*--- create ------------------------------------------------------------------*/

/* The refusal every check of the entry's signature gives. */
#define NOT_A_DECODER(d, ...)                                                  \
  glmrt_status_annotate(                                                       \
      glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT, __VA_ARGS__),          \
      "model '%s' entry '%s' cannot be run by a decoder",                     \
      (d)->model_name, (d)->entry->desc->name)

/* A past/present tensor: rank 4, [batch, kv_heads, seq, head_dim] with
 * static kv_heads and head_dim and a batch dim that fits. */
static glmrt_status_t *check_kv_desc(const glmrt_decoder_t *d,
                                     const glm_tensor_desc_t *t,
                                     const char *kind) {
  char shape[160];
  format_shape(shape, sizeof(shape), t->rank, t->dims);
  if (t->rank != 4)
    return NOT_A_DECODER(d,
                         "%s '%s' has shape %s; a cache tensor is [batch, "
                         "kv_heads, seq, head_dim]",
                         kind, t->name, shape);
  if (glm_dtype_size(t->dtype) == 0)
    return NOT_A_DECODER(d, "%s '%s' has an invalid dtype", kind, t->name);
  if (t->dims[1] <= 0 || t->dims[3] <= 0)
    return NOT_A_DECODER(d,
                         "%s '%s' has shape %s; the decoder needs static "
                         "kv_heads (dim 1) and head_dim (dim 3) to allocate "
                         "its cache",
                         kind, t->name, shape);
  if (t->dims[2] >= 0)
    return NOT_A_DECODER(d,
                         "%s '%s' has shape %s; its sequence dim (dim 2) must "
                         "be dynamic",
                         kind, t->name, shape);
  if (t->dims[0] >= 0 && (size_t)t->dims[0] != d->batch)
    return NOT_A_DECODER(d, "%s '%s' has shape %s, but the decoder's batch is "
                            "%zu",
                         kind, t->name, shape, d->batch);
  return NULL;
}

/* A [batch, seq] input (input_ids, position_ids, attention_mask). */
static glmrt_status_t *check_2d_input(const glmrt_decoder_t *d,
                                      const glm_tensor_desc_t *t,
                                      const char *dtypes, int dtype_ok) {
  char shape[160];
  format_shape(shape, sizeof(shape), t->rank, t->dims);
  if (!dtype_ok)
    return NOT_A_DECODER(d, "input '%s' has dtype %s; the decoder fills it "
                            "as %s",
                         t->name, glmrt_dtype_name((glmrt_dtype_t)t->dtype),
                         dtypes);
  if (t->rank != 2)
    return NOT_A_DECODER(d, "input '%s' has shape %s; the decoder fills it "
                            "as [batch, seq]",
                         t->name, shape);
  if (t->dims[0] >= 0 && (size_t)t->dims[0] != d->batch)
    return NOT_A_DECODER(d, "input '%s' has shape %s, but the decoder's batch "
                            "is %zu",
                         t->name, shape, d->batch);
  return NULL;
}

/* Finds the inputs and outputs by name and checks them; fills d->layers. */
static glmrt_status_t *discover(glmrt_decoder_t *d) {
  const glm_entry_desc_t *e = d->entry->desc;
  glmrt_status_t *status = NULL;
  size_t max_layer = 0;
  int any_past = 0;

  /* How many layers: the largest index of a past or present name. */
  for (size_t i = 0; i < e->num_inputs; ++i) {
    size_t layer;
    int which;
    if (parse_kv_name(e->inputs[i].name, PAST_PREFIX, &layer, &which)) {
      if (!any_past || layer > max_layer) max_layer = layer;
      any_past = 1;
    }
  }
  if (!any_past)
    return NOT_A_DECODER(d, "it has no past_key_values.{i}.key/value inputs "
                            "(a model exported with a KV cache has them)");
  if (max_layer >= e->num_inputs)
    return NOT_A_DECODER(d, "input past_key_values.%zu.* names a layer past "
                            "the %u inputs",
                         max_layer, e->num_inputs);
  d->num_layers = max_layer + 1;
  d->layers = calloc(d->num_layers, sizeof(*d->layers));
  if (!d->layers)
    return glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                             "out of memory creating a decoder");
  for (size_t l = 0; l < d->num_layers; ++l)
    for (int w = 0; w < 2; ++w)
      d->layers[l].past[w] = d->layers[l].present[w] = UINT32_MAX;

  d->ids_input = d->positions_input = d->mask_input = d->logits_output = -1;
  for (size_t i = 0; i < e->num_inputs; ++i) {
    const glm_tensor_desc_t *t = &e->inputs[i];
    size_t layer;
    int which;
    int *slot = NULL;
    if (strcmp(t->name, "input_ids") == 0) {
      status = check_2d_input(d, t, "i64 or i32", is_index_dtype(t->dtype));
      slot = &d->ids_input;
      d->ids_dtype = t->dtype;
    } else if (strcmp(t->name, "position_ids") == 0) {
      status = check_2d_input(d, t, "i64 or i32", is_index_dtype(t->dtype));
      slot = &d->positions_input;
      d->positions_dtype = t->dtype;
    } else if (strcmp(t->name, "attention_mask") == 0) {
      status = check_2d_input(d, t, "i64, i32, i8, u8, bool or f32",
                              is_mask_dtype(t->dtype));
      slot = &d->mask_input;
      d->mask_dtype = t->dtype;
    } else if (parse_kv_name(t->name, PAST_PREFIX, &layer, &which)) {
      decoder_layer_t *L = &d->layers[layer];
      if (L->past[which] != UINT32_MAX)
        return NOT_A_DECODER(d, "input '%s' appears twice", t->name);
      status = check_kv_desc(d, t, "input");
      if (status) return status;
      L->past[which] = (uint32_t)i;
      L->kv_heads[which] = t->dims[1];
      L->head_dim[which] = t->dims[3];
      L->dtype[which] = t->dtype;
      continue;
    } else {
      return NOT_A_DECODER(d,
                           "input '%s' is not one the decoder fills "
                           "(input_ids, attention_mask, position_ids, "
                           "past_key_values.{i}.key/value)",
                           t->name);
    }
    if (status) return status;
    if (*slot >= 0) return NOT_A_DECODER(d, "input '%s' appears twice", t->name);
    *slot = (int)i;
  }
  if (d->ids_input < 0)
    return NOT_A_DECODER(d, "it has no input 'input_ids'");
  for (size_t l = 0; l < d->num_layers; ++l)
    for (int w = 0; w < 2; ++w)
      if (d->layers[l].past[w] == UINT32_MAX)
        return NOT_A_DECODER(d,
                             "it has no input 'past_key_values.%zu.%s' "
                             "(its past_key_values go up to layer %zu)",
                             l, kv_suffix(w), d->num_layers - 1);

  for (size_t i = 0; i < e->num_outputs; ++i) {
    const glm_tensor_desc_t *t = &e->outputs[i];
    size_t layer;
    int which;
    char shape[160];
    format_shape(shape, sizeof(shape), t->rank, t->dims);
    if (strcmp(t->name, "logits") == 0) {
      if (d->logits_output >= 0)
        return NOT_A_DECODER(d, "output 'logits' appears twice");
      if (t->dtype != GLMRT_DTYPE_F32)
        return NOT_A_DECODER(d, "output 'logits' has dtype %s; the decoder "
                                "returns f32 logits",
                             glmrt_dtype_name((glmrt_dtype_t)t->dtype));
      if (t->rank != 3 || t->dims[2] <= 0 || t->dims[1] >= 0 ||
          (t->dims[0] >= 0 && (size_t)t->dims[0] != d->batch))
        return NOT_A_DECODER(d,
                             "output 'logits' has shape %s; the decoder needs "
                             "[batch, seq, vocab] with a dynamic seq and a "
                             "static vocab (batch %zu)",
                             shape, d->batch);
      d->logits_output = (int)i;
      d->vocab = (size_t)t->dims[2];
    } else if (parse_kv_name(t->name, PRESENT_PREFIX, &layer, &which)) {
      if (layer >= d->num_layers)
        return NOT_A_DECODER(d, "output '%s' has no past_key_values.%zu.%s "
                                "input",
                             t->name, layer, kv_suffix(which));
      decoder_layer_t *L = &d->layers[layer];
      if (L->present[which] != UINT32_MAX)
        return NOT_A_DECODER(d, "output '%s' appears twice", t->name);
      status = check_kv_desc(d, t, "output");
      if (status) return status;
      if (t->dtype != L->dtype[which] || t->dims[1] != L->kv_heads[which] ||
          t->dims[3] != L->head_dim[which]) {
        const glm_tensor_desc_t *p = &e->inputs[L->past[which]];
        char past_shape[160];
        format_shape(past_shape, sizeof(past_shape), p->rank, p->dims);
        return NOT_A_DECODER(d,
                             "output '%s' is %s %s but input '%s' is %s %s; "
                             "they must agree in dtype, kv_heads and "
                             "head_dim",
                             t->name, glmrt_dtype_name((glmrt_dtype_t)t->dtype),
                             shape, p->name,
                             glmrt_dtype_name((glmrt_dtype_t)p->dtype),
                             past_shape);
      }
      L->present[which] = (uint32_t)i;
    }
    /* Other outputs are released unread. */
  }
  if (d->logits_output < 0)
    return NOT_A_DECODER(d, "it has no output 'logits'");
  for (size_t l = 0; l < d->num_layers; ++l)
    for (int w = 0; w < 2; ++w)
      if (d->layers[l].present[w] == UINT32_MAX)
        return NOT_A_DECODER(d, "it has no output 'present.%zu.%s' for input "
                                "'past_key_values.%zu.%s'",
                             l, kv_suffix(w), l, kv_suffix(w));
  return NULL;
}

/* Bytes of one cache block of layer `l`, key or value; 0 on overflow. */
static size_t block_bytes(const glmrt_decoder_t *d, size_t l, int which) {
  const decoder_layer_t *L = &d->layers[l];
  size_t elem = glm_dtype_size(L->dtype[which]);
  size_t n = d->batch;
  size_t factors[4] = {(size_t)L->kv_heads[which], d->max_length,
                       (size_t)L->head_dim[which], elem};
  for (int k = 0; k < 4; ++k) {
    if (factors[k] != 0 && n > SIZE_MAX / factors[k]) return 0;
    n *= factors[k];
  }
  return n;
}

GLMRT_API glmrt_status_t *
glmrt_decoder_create(glmrt_model_t *model,
                     const glmrt_decoder_options_t *options,
                     glmrt_decoder_t **out_decoder) {
  glmrt_status_t *status = NULL;
  glmrt_decoder_t *d = NULL;
  const char *entry_name = NULL;
  const glmrt_session_options_t *session_options = NULL;
  size_t max_length = 0, batch = 1;

  if (!model || !options || !out_decoder) {
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_decoder_create: %s is NULL",
                             !model ? "model"
                             : !options ? "options (max_length has no "
                                          "default)"
                                        : "out_decoder");
  }
  uint32_t size = options->struct_size;
  if (size < sizeof(uint32_t))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_decoder_create: options->struct_size is "
                             "%u; initialise options with "
                             "glmrt_decoder_options_init()",
                             size);
  if (GLMRT_STRUCT_HAS(size, glmrt_decoder_options_t, max_length))
    max_length = options->max_length;
  if (GLMRT_STRUCT_HAS(size, glmrt_decoder_options_t, batch) && options->batch)
    batch = options->batch;
  if (GLMRT_STRUCT_HAS(size, glmrt_decoder_options_t, entry))
    entry_name = options->entry;
  if (GLMRT_STRUCT_HAS(size, glmrt_decoder_options_t, session_options))
    session_options = options->session_options;
  if (max_length == 0)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_decoder_create: options->max_length is "
                             "0; set it to the most tokens (prompt and "
                             "generated) a sequence may have");
  if (batch > SIZE_MAX / 8 / max_length)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_decoder_create: batch %zu x max_length "
                             "%zu is too large",
                             batch, max_length);

  d = calloc(1, sizeof(*d));
  if (!d)
    return glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                             "out of memory creating a decoder");
  atomic_init(&d->busy, 0);
  d->max_length = max_length;
  d->batch = batch;
  d->model_name = model->header.model_name;
  status = glmrt_model_entry_find(model, entry_name, &d->entry);
  if (status) goto cleanup;
  status = discover(d);
  if (status) goto cleanup;
  d->num_inputs = d->entry->desc->num_inputs;
  d->num_outputs = d->entry->desc->num_outputs;

  /* Where the cache comes from: the caller's allocator, or libc (never the
   * block cache: it lives as long as the decoder, not one run). */
  d->cache_allocator.alloc = glmrt_default_alloc;
  d->cache_allocator.free = glmrt_default_free;
  if (session_options &&
      session_options->struct_size >= sizeof(uint32_t) &&
      GLMRT_STRUCT_HAS(session_options->struct_size, glmrt_session_options_t,
                       allocator) &&
      session_options->allocator.alloc && session_options->allocator.free)
    d->cache_allocator = session_options->allocator;

  status = glmrt_session_create(model, session_options, &d->session);
  if (status) goto cleanup;

  /* Per-call buffers. */
  size_t tokens = batch * max_length;
  d->ids = calloc(tokens, sizeof(int64_t));
  d->positions = calloc(tokens, sizeof(int64_t));
  d->mask = calloc(tokens, sizeof(int64_t));
  d->views = calloc(d->num_inputs, sizeof(*d->views));
  d->dims = calloc(d->num_inputs, sizeof(*d->dims));
  d->refs = calloc(d->num_inputs + d->num_outputs, sizeof(*d->refs));
  if (!d->ids || !d->positions || !d->mask || !d->views || !d->dims ||
      !d->refs) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "out of memory creating a decoder");
    goto cleanup;
  }
  if (d->mask_input >= 0)
    for (size_t i = 0; i < tokens; ++i) store_element(d->mask, d->mask_dtype, i, 1);

  /* The cache: every block in one allocation, each 64-byte aligned. */
  size_t total = 0;
  for (size_t l = 0; l < d->num_layers; ++l) {
    for (int w = 0; w < 2; ++w) {
      size_t bytes = block_bytes(d, l, w);
      size_t padded = (bytes + CACHE_ALIGNMENT - 1) & ~(size_t)(CACHE_ALIGNMENT - 1);
      if (bytes == 0 || padded < bytes || total > SIZE_MAX - padded) {
        status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                                   "glmrt_decoder_create: a KV cache of "
                                   "max_length %zu and batch %zu is too large",
                                   max_length, batch);
        goto cleanup;
      }
      total += padded;
    }
  }
  d->cache = d->cache_allocator.alloc(d->cache_allocator.self, total,
                                      CACHE_ALIGNMENT);
  if (!d->cache) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "glmrt_decoder_create: out of memory "
                               "allocating the KV cache (%zu bytes for %zu "
                               "layers, max_length %zu, batch %zu)",
                               total, d->num_layers, max_length, batch);
    goto cleanup;
  }
  /* Touch every page now, so that calls do not fault them in. */
  memset(d->cache, 0, total);
  d->cache_bytes = total;
  unsigned char *p = d->cache;
  for (size_t l = 0; l < d->num_layers; ++l) {
    for (int w = 0; w < 2; ++w) {
      size_t bytes = block_bytes(d, l, w);
      d->layers[l].cache[w] = p;
      p += (bytes + CACHE_ALIGNMENT - 1) & ~(size_t)(CACHE_ALIGNMENT - 1);
    }
  }

  *out_decoder = d;
  d = NULL;

cleanup:
  glmrt_decoder_release(d);
  return status;
}

GLMRT_API void glmrt_decoder_release(glmrt_decoder_t *decoder) {
  if (!decoder) return;
  if (decoder->logits_block)
    decoder->session->allocator.free(decoder->session->allocator.self,
                                     decoder->logits_block);
  if (decoder->cache)
    decoder->cache_allocator.free(decoder->cache_allocator.self,
                                  decoder->cache);
  glmrt_session_release(decoder->session);
  free(decoder->layers);
  free(decoder->ids);
  free(decoder->positions);
  free(decoder->mask);
  free(decoder->views);
  free(decoder->dims);
  free(decoder->refs);
  free(decoder);
}

/*--- calls -------------------------------------------------------------------*/

static void set_view(glmrt_decoder_t *d, size_t input, uint32_t dtype,
                     uint32_t rank, const void *data) {
  int64_t *dims = d->dims[input];
  size_t count = 1;
  for (uint32_t k = 0; k < rank; ++k) count *= (size_t)dims[k];
  d->views[input] = glmrt_tensor_view_make((glmrt_dtype_t)dtype, rank, dims,
                                           data, count * glm_dtype_size(dtype));
}

static int dims_equal(const int64_t *a, const int64_t *b, uint32_t rank) {
  for (uint32_t k = 0; k < rank; ++k)
    if (a[k] != b[k]) return 0;
  return 1;
}

/* The model returned output `index` with the wrong shape. */
static glmrt_status_t *bad_output(const glmrt_decoder_t *d, size_t index,
                                  const int64_t *got, const int64_t *want,
                                  uint32_t rank) {
  char got_text[160], want_text[160];
  format_shape(got_text, sizeof(got_text), rank, got);
  format_shape(want_text, sizeof(want_text), rank, want);
  return glmrt_make_status(GLMRT_STATUS_INTERNAL,
                           "model '%s' entry '%s' returned output '%s' with "
                           "shape %s; the decoder expects %s",
                           d->model_name, d->entry->desc->name,
                           d->entry->desc->outputs[index].name, got_text,
                           want_text);
}

static glmrt_status_t *decode(glmrt_decoder_t *d, const int64_t *tokens,
                              size_t n, const float **out_logits,
                              const char *fn) {
  glmrt_status_t *status = NULL;
  glm_tensor_ref_t *out = NULL;
  int ran = 0;

  if (!d || (!tokens && n))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT, "%s: %s is NULL",
                             fn, !d ? "decoder" : "tokens");
  if (n == 0)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "%s: num_tokens is 0; give at least one token",
                             fn);
  int expected = 0;
  if (!atomic_compare_exchange_strong(&d->busy, &expected, 1))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "%s: the decoder is already running on another "
                             "thread; use one decoder per thread",
                             fn);
  if (n > d->max_length - d->length) {
    status = glmrt_make_status(
        GLMRT_STATUS_OUT_OF_RANGE,
        "%s: the KV cache holds max_length %zu tokens; %zu are in it and the "
        "call adds %zu (create the decoder with a larger max_length, or "
        "reset it)",
        fn, d->max_length, d->length, n);
    goto cleanup;
  }
  for (size_t b = 0; b < d->batch; ++b) {
    for (size_t j = 0; j < n; ++j) {
      int64_t t = tokens[b * n + j];
      if (t < 0 || (uint64_t)t >= d->vocab) {
        status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                   "%s: token %lld (sequence %zu, token %zu) "
                                   "is outside the vocabulary [0, %zu)",
                                   fn, (long long)t, b, j, d->vocab);
        goto cleanup;
      }
    }
  }
  if (d->logits_block) {
    d->session->allocator.free(d->session->allocator.self, d->logits_block);
    d->logits_block = NULL;
  }

  size_t past = d->length, total = d->length + n;
  int64_t batch = (int64_t)d->batch;
  /* input_ids: the caller's tokens as they are, or converted. */
  const void *ids = tokens;
  if (d->ids_dtype != GLMRT_DTYPE_I64) {
    for (size_t i = 0; i < d->batch * n; ++i)
      store_element(d->ids, d->ids_dtype, i, tokens[i]);
    ids = d->ids;
  }
  d->dims[d->ids_input][0] = batch;
  d->dims[d->ids_input][1] = (int64_t)n;
  set_view(d, (size_t)d->ids_input, d->ids_dtype, 2, ids);
  if (d->positions_input >= 0) {
    for (size_t b = 0; b < d->batch; ++b)
      for (size_t j = 0; j < n; ++j)
        store_element(d->positions, d->positions_dtype, b * n + j,
                      (int64_t)(past + j));
    d->dims[d->positions_input][0] = batch;
    d->dims[d->positions_input][1] = (int64_t)n;
    set_view(d, (size_t)d->positions_input, d->positions_dtype, 2,
             d->positions);
  }
  if (d->mask_input >= 0) {
    d->dims[d->mask_input][0] = batch;
    d->dims[d->mask_input][1] = (int64_t)total;
    set_view(d, (size_t)d->mask_input, d->mask_dtype, 2, d->mask);
  }
  for (size_t l = 0; l < d->num_layers; ++l) {
    const decoder_layer_t *L = &d->layers[l];
    for (int w = 0; w < 2; ++w) {
      int64_t *dims = d->dims[L->past[w]];
      dims[0] = batch;
      dims[1] = L->kv_heads[w];
      dims[2] = (int64_t)past;
      dims[3] = L->head_dim[w];
      set_view(d, L->past[w], L->dtype[w], 4, L->cache[w]);
    }
  }

  const glmrt_entry_t *entry = d->entry;
  status = glmrt_session_check_call(d->session, &entry, d->views,
                                    d->num_inputs, d->num_outputs);
  if (!status) status = glmrt_session_run_refs(d->session, entry, d->views,
                                               d->refs);
  if (status) {
    status = glmrt_status_annotate(status, "%s", fn);
    goto cleanup;
  }
  ran = 1;
  out = d->refs + d->num_inputs;

  /* Check every output the decoder reads before changing anything. */
  {
    int64_t want[3] = {batch, (int64_t)n, (int64_t)d->vocab};
    const glm_tensor_ref_t *r = &out[d->logits_output];
    if (!dims_equal(r->dims, want, 3)) {
      status = bad_output(d, (size_t)d->logits_output, r->dims, want, 3);
      goto cleanup;
    }
  }
  for (size_t l = 0; l < d->num_layers; ++l) {
    const decoder_layer_t *L = &d->layers[l];
    for (int w = 0; w < 2; ++w) {
      int64_t want[4] = {batch, L->kv_heads[w], (int64_t)total,
                         L->head_dim[w]};
      const glm_tensor_ref_t *r = &out[L->present[w]];
      if (!dims_equal(r->dims, want, 4)) {
        status = bad_output(d, L->present[w], r->dims, want, 4);
        goto cleanup;
      }
    }
  }

  /* present -> cache: the same dense layout, one copy per block. */
  for (size_t l = 0; l < d->num_layers; ++l) {
    const decoder_layer_t *L = &d->layers[l];
    for (int w = 0; w < 2; ++w) {
      size_t bytes = d->batch * (size_t)L->kv_heads[w] * total *
                     (size_t)L->head_dim[w] * glm_dtype_size(L->dtype[w]);
      memcpy(L->cache[w], out[L->present[w]].data, bytes);
    }
  }
  d->logits_block = out[d->logits_output].allocation;
  out[d->logits_output].allocation = NULL;
  d->length = total;
  if (out_logits) *out_logits = (const float *)out[d->logits_output].data;

cleanup:
  if (ran) glmrt_session_free_refs(d->session, out, d->num_outputs);
  atomic_store(&d->busy, 0);
  return status;
}

GLMRT_API glmrt_status_t *glmrt_decoder_prefill(glmrt_decoder_t *decoder,
                                                const int64_t *tokens,
                                                size_t num_tokens,
                                                const float **out_logits) {
  return decode(decoder, tokens, num_tokens, out_logits,
                "glmrt_decoder_prefill");
}

GLMRT_API glmrt_status_t *glmrt_decoder_step(glmrt_decoder_t *decoder,
                                             const int64_t *tokens,
                                             const float **out_logits) {
  return decode(decoder, tokens, 1, out_logits, "glmrt_decoder_step");
}

GLMRT_API glmrt_status_t *glmrt_decoder_reset(glmrt_decoder_t *decoder) {
  if (!decoder)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_decoder_reset: decoder is NULL");
  int expected = 0;
  if (!atomic_compare_exchange_strong(&decoder->busy, &expected, 1))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_decoder_reset: the decoder is running on "
                             "another thread");
  if (decoder->logits_block) {
    decoder->session->allocator.free(decoder->session->allocator.self,
                                     decoder->logits_block);
    decoder->logits_block = NULL;
  }
  decoder->length = 0;
  atomic_store(&decoder->busy, 0);
  return NULL;
}

GLMRT_API size_t glmrt_decoder_length(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->length : 0;
}

GLMRT_API size_t glmrt_decoder_max_length(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->max_length : 0;
}

GLMRT_API size_t glmrt_decoder_batch(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->batch : 0;
}

GLMRT_API size_t glmrt_decoder_vocab_size(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->vocab : 0;
}

GLMRT_API size_t glmrt_decoder_num_layers(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->num_layers : 0;
}

GLMRT_API size_t glmrt_decoder_cache_bytes(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->cache_bytes : 0;
}

GLMRT_API glmrt_session_t *
glmrt_decoder_session(const glmrt_decoder_t *decoder) {
  return decoder ? decoder->session : NULL;
}
