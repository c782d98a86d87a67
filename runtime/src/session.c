/*===- session.c - Sessions, running entries, output tensors ----------------===*/
#define _GNU_SOURCE
#include "session.h"

#include "host.h"
#include "model.h"
#include "status.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* More threads than this is a caller's mistake, not a wish. */
#define MAX_THREADS 4096u
/* Inputs/outputs of a call up to this count live on the stack. */
#define STACK_TENSORS 16u

struct glmrt_tensor {
  uint32_t dtype;
  uint32_t rank;
  int64_t dims[GLMRT_MAX_RANK];
  void *data;
  size_t byte_size;
  void *allocation; /* released with free_fn(free_self, allocation) */
  void (*free_fn)(void *self, void *ptr);
  void *free_self;
};

/* CPUs this process may run on, at least 1. */
static uint32_t available_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return (uint32_t)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (uint32_t)n : 1u;
}

GLMRT_API glmrt_status_t *
glmrt_session_create(glmrt_model_t *model,
                     const glmrt_session_options_t *options,
                     glmrt_session_t **out_session) {
  glmrt_status_t *status = NULL;
  glmrt_session_t *session = NULL;
  uint32_t num_threads = 0, flags = 0;
  glmrt_allocator_t allocator = {NULL, NULL, NULL};

  if (!model || !out_session) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "glmrt_session_create: %s is NULL",
                               !model ? "model" : "out_session");
    goto cleanup;
  }
  if (options) {
    uint32_t size = options->struct_size;
    if (size < sizeof(uint32_t)) {
      status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                 "glmrt_session_create: options->struct_size "
                                 "is %u; initialise options with "
                                 "glmrt_session_options_init()",
                                 size);
      goto cleanup;
    }
    if (GLMRT_STRUCT_HAS(size, glmrt_session_options_t, num_threads))
      num_threads = options->num_threads;
    if (GLMRT_STRUCT_HAS(size, glmrt_session_options_t, allocator)) {
      const glmrt_allocator_t *a = &options->allocator;
      if (a->alloc || a->free) {
        if (!a->alloc || !a->free) {
          status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                     "glmrt_session_create: the allocator "
                                     "needs both alloc and free");
          goto cleanup;
        }
        allocator = *a;
      }
    }
    if (GLMRT_STRUCT_HAS(size, glmrt_session_options_t, flags))
      flags = options->flags;
  }
  if (num_threads > MAX_THREADS) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "glmrt_session_create: num_threads is %u, at "
                               "most %u are allowed",
                               num_threads, MAX_THREADS);
    goto cleanup;
  }
  if (num_threads == 0) num_threads = available_cpus();

  session = calloc(1, sizeof(*session));
  if (!session) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "out of memory creating a session");
    goto cleanup;
  }
  session->num_threads = num_threads;
  if (!allocator.alloc && !(flags & GLMRT_SESSION_FLAG_NO_BLOCK_CACHE)) {
    status = glmrt_block_cache_create(GLMRT_BLOCK_CACHE_MIN_LIMIT,
                                      &session->cache);
    if (status) goto cleanup;
    allocator.alloc = glmrt_block_cache_alloc;
    allocator.free = glmrt_block_cache_free;
    allocator.self = session->cache;
  } else if (!allocator.alloc) {
    allocator.alloc = glmrt_default_alloc;
    allocator.free = glmrt_default_free;
  }
  session->allocator = allocator;
  atomic_init(&session->busy, 0);
  if (num_threads > 1) {
    status = glmrt_thread_pool_create(num_threads, session, &session->pool);
    if (status) goto cleanup;
  }
  glmrt_model_retain(model);
  session->model = model;
  *out_session = session;
  session = NULL;

cleanup:
  if (session) glmrt_block_cache_close(session->cache);
  free(session);
  return status;
}

GLMRT_API void glmrt_session_release(glmrt_session_t *session) {
  if (!session) return;
  glmrt_thread_pool_release(session->pool);
  glmrt_profile_free(session->profile);
  glmrt_model_release(session->model);
  /* Output tensors still alive keep the cache until they are released. */
  glmrt_block_cache_close(session->cache);
  free(session);
}

glmrt_block_cache_t *glmrt_session_block_cache(const glmrt_session_t *session) {
  return session ? session->cache : NULL;
}

GLMRT_API glmrt_status_t *glmrt_session_memory(const glmrt_session_t *session,
                                               glmrt_session_memory_t *memory) {
  if (!session)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_memory: session is NULL");
  if (!memory || memory->struct_size < sizeof(uint32_t))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_memory: memory is NULL or not "
                             "initialised with glmrt_session_memory_init");
  glmrt_session_memory_t v;
  memset(&v, 0, sizeof(v));
  if (session->cache) {
    glmrt_block_cache_stats_t stats;
    glmrt_block_cache_get_stats(session->cache, &stats);
    v.measured = 1;
    v.last_run_peak_bytes = stats.last_run_peak_bytes;
    v.system_allocs = stats.system_allocs;
    v.cached_bytes = stats.cached_bytes;
  }
  glmrt_copy_versioned(memory, &v, sizeof(v));
  return NULL;
}

GLMRT_API glmrt_model_t *glmrt_session_model(const glmrt_session_t *session) {
  return session ? session->model : NULL;
}

GLMRT_API uint32_t glmrt_session_num_threads(const glmrt_session_t *session) {
  return session ? session->num_threads : 0;
}

/* Element count of dims, or -1 on overflow / negative dims. */
static int64_t element_count(uint32_t rank, const int64_t *dims) {
  int64_t n = 1;
  for (uint32_t k = 0; k < rank; ++k) {
    if (dims[k] < 0) return -1;
    if (dims[k] != 0 && n > INT64_MAX / dims[k]) return -1;
    n *= dims[k];
  }
  return n;
}

static void format_dims(char *buffer, size_t capacity, uint32_t rank,
                        const int64_t *dims) {
  size_t used = 0;
  buffer[0] = '\0';
  used += (size_t)snprintf(buffer, capacity, "[");
  for (uint32_t k = 0; k < rank && used < capacity; ++k) {
    if (dims[k] < 0)
      used += (size_t)snprintf(buffer + used, capacity - used, "%s?",
                               k ? ", " : "");
    else
      used += (size_t)snprintf(buffer + used, capacity - used, "%s%lld",
                               k ? ", " : "", (long long)dims[k]);
  }
  if (used < capacity) snprintf(buffer + used, capacity - used, "]");
}

/* Dynamic input dims the compiled code needs equal carry the same class
 * -2 - c in the descriptor (glm-bind-input-dims): each must match the
 * first input dim of its class. Inputs are checked one by one before. */
static glmrt_status_t *check_tied_dims(const glmrt_entry_t *entry,
                                       const glmrt_tensor_view_t *inputs) {
  const glm_entry_desc_t *e = entry->desc;
  for (size_t i = 0; i < e->num_inputs; ++i) {
    const glm_tensor_desc_t *d = &e->inputs[i];
    for (uint32_t k = 0; k < d->rank; ++k) {
      if (d->dims[k] > -2) continue;
      /* The first dim of this class, in input order. */
      for (size_t j = 0; j <= i; ++j) {
        const glm_tensor_desc_t *f = &e->inputs[j];
        uint32_t end = j == i ? k : f->rank;
        uint32_t l = 0;
        while (l < end && f->dims[l] != d->dims[k]) ++l;
        if (l == end) continue;
        if (inputs[j].dims[l] != inputs[i].dims[k])
          return glmrt_make_status(
              GLMRT_STATUS_INVALID_ARGUMENT,
              "entry '%s' input '%s' dim %u is %lld, but input '%s' dim %u "
              "is %lld: the compiled model needs them equal (they meet in an "
              "operation that does not broadcast them)",
              e->name, d->name, k, (long long)inputs[i].dims[k], f->name, l,
              (long long)inputs[j].dims[l]);
        break; /* checked against the first of its class */
      }
    }
  }
  return NULL;
}

static glmrt_status_t *check_input(const glmrt_entry_t *entry, size_t index,
                                   const glmrt_tensor_view_t *view) {
  const glm_tensor_desc_t *d = &entry->desc->inputs[index];
  const char *e = entry->desc->name;
  if (view->dtype != d->dtype)
    return glmrt_make_status(
        GLMRT_STATUS_INVALID_ARGUMENT,
        "entry '%s' input '%s' has dtype %s, model expects %s", e, d->name,
        glmrt_dtype_name((glmrt_dtype_t)view->dtype),
        glmrt_dtype_name((glmrt_dtype_t)d->dtype));
  if (view->rank != d->rank) {
    char expected[160];
    format_dims(expected, sizeof(expected), d->rank, d->dims);
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "entry '%s' input '%s' has rank %u, model "
                             "expects rank %u %s",
                             e, d->name, view->rank, d->rank, expected);
  }
  if (view->rank > 0 && !view->dims)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "entry '%s' input '%s' has no dims", e, d->name);
  for (uint32_t k = 0; k < d->rank; ++k) {
    if (view->dims[k] < 0)
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "entry '%s' input '%s' dim %u is %lld, which "
                               "is negative",
                               e, d->name, k, (long long)view->dims[k]);
    if (d->dims[k] >= 0 && view->dims[k] != d->dims[k]) {
      char expected[160];
      format_dims(expected, sizeof(expected), d->rank, d->dims);
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "entry '%s' input '%s' dim %u is %lld, model "
                               "expects %lld (shape %s)",
                               e, d->name, k, (long long)view->dims[k],
                               (long long)d->dims[k], expected);
    }
  }
  int64_t count = element_count(view->rank, view->dims);
  size_t elem = glm_dtype_size(d->dtype);
  if (count < 0 || (uint64_t)count > SIZE_MAX / elem)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "entry '%s' input '%s' is too large", e, d->name);
  size_t expected_bytes = (size_t)count * elem;
  if (view->byte_size != expected_bytes) {
    char shape[160];
    format_dims(shape, sizeof(shape), view->rank, view->dims);
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "entry '%s' input '%s' has %zu bytes, but shape "
                             "%s of %s needs %zu",
                             e, d->name, view->byte_size, shape,
                             glmrt_dtype_name((glmrt_dtype_t)d->dtype),
                             expected_bytes);
  }
  if (!view->data && view->byte_size > 0)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "entry '%s' input '%s' has no data", e, d->name);
  return NULL;
}

/* Checks what the model wrote for output `index`; sets *out_bytes. */
static glmrt_status_t *check_output(const glmrt_entry_t *entry, size_t index,
                                    const glm_tensor_ref_t *ref,
                                    size_t *out_bytes) {
  const glm_tensor_desc_t *d = &entry->desc->outputs[index];
  const char *m = entry->model->header.model_name;
  if (!ref->data || !ref->allocation)
    return glmrt_make_status(GLMRT_STATUS_INTERNAL,
                             "model '%s' entry '%s' returned no data for "
                             "output '%s'",
                             m, entry->desc->name, d->name);
  for (uint32_t k = 0; k < d->rank; ++k) {
    if (ref->dims[k] < 0 || (d->dims[k] >= 0 && ref->dims[k] != d->dims[k]))
      return glmrt_make_status(
          GLMRT_STATUS_INTERNAL,
          "model '%s' entry '%s' returned output '%s' with dim %u = %lld, its "
          "descriptor says %lld",
          m, entry->desc->name, d->name, k, (long long)ref->dims[k],
          (long long)d->dims[k]);
  }
  int64_t count = element_count(d->rank, ref->dims);
  size_t elem = glm_dtype_size(d->dtype);
  if (count < 0 || (uint64_t)count > SIZE_MAX / elem)
    return glmrt_make_status(GLMRT_STATUS_INTERNAL,
                             "model '%s' entry '%s' returned output '%s' with "
                             "an impossible size",
                             m, entry->desc->name, d->name);
  *out_bytes = (size_t)count * elem;
  return NULL;
}

glmrt_status_t *glmrt_session_check_call(const glmrt_session_t *session,
                                         const glmrt_entry_t **entry,
                                         const glmrt_tensor_view_t *inputs,
                                         size_t num_inputs,
                                         size_t num_outputs) {
  const glmrt_model_t *model = session->model;
  if (!*entry) {
    glmrt_status_t *status = glmrt_model_entry_find(model, "main", entry);
    if (status) return status;
  } else if ((*entry)->model != model) {
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_run: entry '%s' belongs to model "
                             "'%s', not to the session's model '%s'",
                             (*entry)->desc->name,
                             (*entry)->model->header.model_name,
                             model->header.model_name);
  }
  size_t n_in = (*entry)->desc->num_inputs;
  size_t n_out = (*entry)->desc->num_outputs;
  if (num_inputs != n_in || num_outputs != n_out)
    return glmrt_make_status(
        GLMRT_STATUS_INVALID_ARGUMENT,
        "entry '%s' of model '%s' takes %zu input%s and gives %zu output%s; "
        "the call passes %zu and asks for %zu",
        (*entry)->desc->name, model->header.model_name, n_in,
        n_in == 1 ? "" : "s", n_out, n_out == 1 ? "" : "s", num_inputs,
        num_outputs);
  for (size_t i = 0; i < n_in; ++i) {
    glmrt_status_t *status = check_input(*entry, i, &inputs[i]);
    if (status) return status;
  }
  return check_tied_dims(*entry, inputs);
}

glmrt_status_t *glmrt_session_run_refs(glmrt_session_t *session,
                                       const glmrt_entry_t *entry,
                                       const glmrt_tensor_view_t *inputs,
                                       glm_tensor_ref_t *refs) {
  glmrt_status_t *status = NULL;
  int called = 0;
  const glmrt_model_t *model = session->model;
  size_t n_in = entry->desc->num_inputs;
  size_t n_out = entry->desc->num_outputs;

  int expected = 0;
  if (!atomic_compare_exchange_strong(&session->busy, &expected, 1))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_session_run: the session is already "
                             "running on another thread; use one session "
                             "per thread");

  memset(refs, 0, (n_in + n_out) * sizeof(*refs));
  glm_tensor_ref_t *in_refs = refs;
  glm_tensor_ref_t *out_refs = refs + n_in;
  for (size_t i = 0; i < n_in; ++i) {
    /* The model never writes its inputs (ABI); the cast only fits the
     * struct, which the ABI shares between inputs and outputs. */
    in_refs[i].data = (void *)(uintptr_t)inputs[i].data;
    for (uint32_t k = 0; k < inputs[i].rank; ++k)
      in_refs[i].dims[k] = inputs[i].dims[k];
  }

  glm_call_t call;
  memset(&call, 0, sizeof(call));
  call.struct_size = sizeof(call);
  call.weights = model->weights;
  call.inputs = in_refs;
  call.outputs = out_refs;
  if (session->cache) glmrt_block_cache_begin_run(session->cache);
  struct glmrt_session *previous = glmrt_host_set_current_session(session);
  glmrt_profile_t *profile = session->profiling ? session->profile : NULL;
  if (profile) glmrt_profile_begin_run(profile);
  atomic_store(&session->index_error, 0);
  int32_t rc = entry->desc->fn(&call);
  if (profile) glmrt_profile_end_run(profile);
  glmrt_host_set_current_session(previous);
  if (session->cache) glmrt_block_cache_end_run(session->cache);
  called = 1;

  if (rc == GLM_ENTRY_OK && atomic_load(&session->index_error)) {
    /* The run went on with clamped indices: its outputs are not the
     * model's (cleanup releases them); say which index broke it. */
    status = glmrt_make_status(
        GLMRT_STATUS_OUT_OF_RANGE,
        "model '%s' entry '%s': %s %lld is out of range for a dim of %lld "
        "(valid: %lld to %lld)",
        model->header.model_name, entry->desc->name,
        session->index_error_site ? session->index_error_site : "an index",
        (long long)session->index_error_value,
        (long long)session->index_error_bound,
        -(long long)session->index_error_bound,
        (long long)session->index_error_bound - 1);
    goto cleanup;
  }
  if (rc != GLM_ENTRY_OK) {
    const char *m = model->header.model_name, *e = entry->desc->name;
    if (rc == GLM_ENTRY_OUT_OF_MEMORY)
      status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                                 "model '%s' entry '%s' ran out of memory", m,
                                 e);
    else if (rc == GLM_ENTRY_SHAPE_MISMATCH)
      status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                 "model '%s' entry '%s' cannot run these input "
                                 "shapes (dynamic dims that must agree do "
                                 "not)",
                                 m, e);
    else
      status = glmrt_make_status(GLMRT_STATUS_INTERNAL,
                                 "model '%s' entry '%s' failed with code %d",
                                 m, e, (int)rc);
    goto cleanup;
  }

  /* Check every output before the caller takes ownership of any. */
  for (size_t i = 0; i < n_out; ++i) {
    size_t bytes = 0;
    status = check_output(entry, i, &out_refs[i], &bytes);
    if (status) goto cleanup;
    for (size_t j = 0; j < i; ++j) {
      if (out_refs[j].allocation == out_refs[i].allocation) {
        status = glmrt_make_status(
            GLMRT_STATUS_INTERNAL,
            "model '%s' entry '%s' returned the same block for outputs %zu "
            "and %zu",
            model->header.model_name, entry->desc->name, j, i);
        goto cleanup;
      }
    }
  }

cleanup:
  /* On failure: release what the model allocated. */
  if (called && status) glmrt_session_free_refs(session, out_refs, n_out);
  atomic_store(&session->busy, 0);
  return status;
}

void glmrt_session_free_refs(glmrt_session_t *session, glm_tensor_ref_t *refs,
                             size_t count) {
  for (size_t i = 0; i < count; ++i) {
    void *block = refs[i].allocation;
    if (!block) continue;
    /* A block listed twice is released once. */
    for (size_t j = i + 1; j < count; ++j)
      if (refs[j].allocation == block) refs[j].allocation = NULL;
    session->allocator.free(session->allocator.self, block);
    refs[i].allocation = NULL;
  }
}

GLMRT_API glmrt_status_t *
glmrt_session_run(glmrt_session_t *session, const glmrt_entry_t *entry,
                  const glmrt_tensor_view_t *inputs, size_t num_inputs,
                  glmrt_tensor_t **out_outputs, size_t num_outputs) {
  glmrt_status_t *status = NULL;
  int ran = 0;
  glm_tensor_ref_t stack_refs[2 * STACK_TENSORS];
  glmrt_tensor_t *stack_tensors[STACK_TENSORS];
  glm_tensor_ref_t *refs = stack_refs;
  glmrt_tensor_t **tensors = stack_tensors;
  size_t n_in = 0, n_out = 0;

  if (!session || (num_outputs && !out_outputs) || (num_inputs && !inputs)) {
    status = glmrt_make_status(
        GLMRT_STATUS_INVALID_ARGUMENT, "glmrt_session_run: %s is NULL",
        !session ? "session" : !out_outputs && num_outputs ? "out_outputs"
                                                           : "inputs");
    goto cleanup;
  }
  status = glmrt_session_check_call(session, &entry, inputs, num_inputs,
                                    num_outputs);
  if (status) goto cleanup;
  n_in = entry->desc->num_inputs;
  n_out = entry->desc->num_outputs;

  if (n_in + n_out > 2 * STACK_TENSORS) {
    refs = calloc(n_in + n_out, sizeof(*refs));
    if (!refs) {
      status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                                 "out of memory running entry '%s'",
                                 entry->desc->name);
      goto cleanup;
    }
  }
  if (n_out > STACK_TENSORS) {
    tensors = calloc(n_out, sizeof(*tensors));
    if (!tensors) {
      status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                                 "out of memory running entry '%s'",
                                 entry->desc->name);
      goto cleanup;
    }
  } else {
    memset(tensors, 0, n_out * sizeof(*tensors));
  }

  status = glmrt_session_run_refs(session, entry, inputs, refs);
  if (status) goto cleanup;
  ran = 1;

  glm_tensor_ref_t *out_refs = refs + n_in;
  for (size_t i = 0; i < n_out; ++i) {
    const glm_tensor_desc_t *d = &entry->desc->outputs[i];
    glmrt_tensor_t *t = calloc(1, sizeof(*t));
    if (!t) {
      status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                                 "out of memory running entry '%s'",
                                 entry->desc->name);
      goto cleanup;
    }
    t->dtype = d->dtype;
    t->rank = d->rank;
    for (uint32_t k = 0; k < d->rank; ++k) t->dims[k] = out_refs[i].dims[k];
    t->data = out_refs[i].data;
    t->byte_size = glm_dtype_size(d->dtype) *
                   (size_t)element_count(d->rank, out_refs[i].dims);
    t->allocation = out_refs[i].allocation;
    t->free_fn = session->allocator.free;
    t->free_self = session->allocator.self;
    out_refs[i].allocation = NULL; /* the tensor owns it now */
    tensors[i] = t;
  }
  for (size_t i = 0; i < n_out; ++i) {
    out_outputs[i] = tensors[i];
    tensors[i] = NULL;
  }

cleanup:
  /* On failure after the run: release what the model allocated and the
   * tensors made so far. */
  if (ran && status) {
    glmrt_session_free_refs(session, refs + n_in, n_out);
    for (size_t i = 0; i < n_out; ++i) glmrt_tensor_release(tensors[i]);
  }
  if (refs != stack_refs) free(refs);
  if (tensors != stack_tensors) free(tensors);
  return status;
}

GLMRT_API glmrt_dtype_t glmrt_tensor_dtype(const glmrt_tensor_t *tensor) {
  return tensor ? (glmrt_dtype_t)tensor->dtype : GLMRT_DTYPE_INVALID;
}

GLMRT_API uint32_t glmrt_tensor_rank(const glmrt_tensor_t *tensor) {
  return tensor ? tensor->rank : 0;
}

GLMRT_API const int64_t *glmrt_tensor_dims(const glmrt_tensor_t *tensor) {
  return tensor ? tensor->dims : NULL;
}

GLMRT_API int64_t glmrt_tensor_element_count(const glmrt_tensor_t *tensor) {
  return tensor ? element_count(tensor->rank, tensor->dims) : 0;
}

GLMRT_API void *glmrt_tensor_data(const glmrt_tensor_t *tensor) {
  return tensor ? tensor->data : NULL;
}

GLMRT_API size_t glmrt_tensor_byte_size(const glmrt_tensor_t *tensor) {
  return tensor ? tensor->byte_size : 0;
}

GLMRT_API void glmrt_tensor_release(glmrt_tensor_t *tensor) {
  if (!tensor) return;
  if (tensor->allocation) tensor->free_fn(tensor->free_self, tensor->allocation);
  free(tensor);
}
