/*===- block_cache.c - A session's cache of freed memory blocks --------------===*
 *
 * Each block carries a 64-byte header right before the memory it hands out:
 * where libc's block starts, its class, and the links of the two lists a
 * cached block sits on (its class, newest first; all cached blocks, oldest
 * first, for eviction). See block_cache.h for the policy.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include "block_cache.h"

#include "status.h"

#include <glmrt/artifact_abi.h>

#include <pthread.h>
#include <stdlib.h>

/* Under AddressSanitizer a cached block is poisoned, so a model that uses a
 * block after freeing it is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define GLMRT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLMRT_ASAN 1
#endif
#endif
#ifdef GLMRT_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define HEADER_BYTES 64u
#define SMALL_GRANULE 64u
#define SMALL_MAX 4096u
#define SMALL_CLASSES (SMALL_MAX / SMALL_GRANULE) /* 64 */
#define STEPS_LOG2 2u                             /* 4 classes per doubling */
#define STEPS (1u << STEPS_LOG2)
#define FIRST_LARGE_LOG2 12u /* (4 KiB, 8 KiB] */
#define LAST_LARGE_LOG2 47u  /* (128 TiB, 256 TiB]; larger is never cached */
#define NUM_CLASSES                                                           \
  (SMALL_CLASSES + (LAST_LARGE_LOG2 - FIRST_LARGE_LOG2 + 1u) * STEPS)
#define UNCACHED NUM_CLASSES

typedef struct block {
  struct block *prev, *next;   /* class list, newest first */
  struct block *older, *newer; /* all cached blocks, oldest first */
  void *raw;                   /* what posix_memalign returned */
  size_t bytes;                /* usable bytes after the header */
  uint32_t class_index;        /* UNCACHED: never cached */
} block_t;

_Static_assert(sizeof(block_t) <= HEADER_BYTES, "block header too large");
_Static_assert(HEADER_BYTES % GLM_ABI_WEIGHTS_ALIGNMENT == 0,
               "the header must keep blocks 64-byte aligned");

struct glmrt_block_cache {
  pthread_mutex_t lock;
  block_t *classes[NUM_CLASSES];
  block_t *oldest, *newest;
  size_t min_limit, limit;
  size_t cached_blocks, cached_bytes;
  size_t live_blocks, live_bytes;
  size_t run_peak, last_run_peak;
  uint64_t system_allocs, system_frees, hits;
  int closed;
};

/* Class of a request of `size` (> 0) bytes and its usable bytes; UNCACHED
 * when too large. */
static uint32_t class_of(size_t size, size_t *out_bytes) {
  if (size <= SMALL_MAX) {
    uint32_t index = (uint32_t)((size + SMALL_GRANULE - 1) / SMALL_GRANULE) - 1;
    *out_bytes = (size_t)(index + 1) * SMALL_GRANULE;
    return index;
  }
  uint64_t s = (uint64_t)size - 1;
  uint32_t log2 = 63u - (uint32_t)__builtin_clzll(s); /* size in (2^k, 2^(k+1)] */
  if (log2 > LAST_LARGE_LOG2) return UNCACHED;
  uint64_t step = (uint64_t)1 << (log2 - STEPS_LOG2);
  uint32_t sub = (uint32_t)((s - ((uint64_t)1 << log2)) / step);
  *out_bytes = (size_t)(((uint64_t)1 << log2) + (sub + 1) * step);
  return SMALL_CLASSES + (log2 - FIRST_LARGE_LOG2) * STEPS + sub;
}

size_t glmrt_block_cache_class_bytes(size_t size) {
  size_t bytes = 0;
  if (size == 0) size = 1;
  return class_of(size, &bytes) == UNCACHED ? 0 : bytes;
}

static block_t *header_of(void *ptr) {
  return (block_t *)((char *)ptr - HEADER_BYTES);
}

static void *data_of(block_t *b) { return (char *)b + HEADER_BYTES; }

/* --- the two lists (lock held) ------------------------------------------- */

static void push_cached(glmrt_block_cache_t *c, block_t *b) {
  block_t **head = &c->classes[b->class_index];
  b->prev = NULL;
  b->next = *head;
  if (*head) (*head)->prev = b;
  *head = b;
  b->newer = NULL;
  b->older = c->newest;
  if (c->newest) c->newest->newer = b;
  else c->oldest = b;
  c->newest = b;
  c->cached_blocks += 1;
  c->cached_bytes += b->bytes;
}

static void unlink_cached(glmrt_block_cache_t *c, block_t *b) {
  if (b->prev) b->prev->next = b->next;
  else c->classes[b->class_index] = b->next;
  if (b->next) b->next->prev = b->prev;
  if (b->older) b->older->newer = b->newer;
  else c->oldest = b->newer;
  if (b->newer) b->newer->older = b->older;
  else c->newest = b->older;
  c->cached_blocks -= 1;
  c->cached_bytes -= b->bytes;
}

/* Moves the longest-idle blocks onto *evicted (linked through `next`) until
 * at most `keep` cached bytes remain. */
static void evict_to(glmrt_block_cache_t *c, size_t keep, block_t **evicted) {
  while (c->cached_bytes > keep && c->oldest) {
    block_t *b = c->oldest;
    unlink_cached(c, b);
    b->next = *evicted;
    *evicted = b;
    c->system_frees += 1;
  }
}

/* Gives a chain from evict_to back to libc (lock not held). */
static void release_chain(block_t *b) {
  while (b) {
    block_t *next = b->next;
    UNPOISON(data_of(b), b->bytes);
    free(b->raw);
    b = next;
  }
}

static void count_live(glmrt_block_cache_t *c, size_t bytes) {
  c->live_blocks += 1;
  c->live_bytes += bytes;
  if (c->live_bytes > c->run_peak) c->run_peak = c->live_bytes;
}

/* --- API -------------------------------------------------------------------- */

glmrt_status_t *glmrt_block_cache_create(size_t min_limit,
                                         glmrt_block_cache_t **out_cache) {
  glmrt_block_cache_t *c = calloc(1, sizeof(*c));
  if (!c)
    return glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                             "out of memory creating a session's block cache");
  if (pthread_mutex_init(&c->lock, NULL) != 0) {
    free(c);
    return glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                             "cannot create a mutex for a session's block "
                             "cache");
  }
  c->min_limit = min_limit;
  c->limit = min_limit;
  *out_cache = c;
  return NULL;
}

static void destroy(glmrt_block_cache_t *c) {
  pthread_mutex_destroy(&c->lock);
  free(c);
}

void *glmrt_block_cache_alloc(void *self, size_t size, size_t alignment) {
  glmrt_block_cache_t *c = (glmrt_block_cache_t *)self;
  if (alignment < GLM_ABI_WEIGHTS_ALIGNMENT) alignment = GLM_ABI_WEIGHTS_ALIGNMENT;
  if (alignment & (alignment - 1)) return NULL; /* not a power of two */
  if (size == 0) size = 1;

  size_t bytes = size;
  uint32_t index = UNCACHED;
  if (alignment == GLM_ABI_WEIGHTS_ALIGNMENT) index = class_of(size, &bytes);

  pthread_mutex_lock(&c->lock);
  if (index != UNCACHED && c->classes[index]) {
    block_t *b = c->classes[index];
    unlink_cached(c, b);
    c->hits += 1;
    count_live(c, b->bytes);
    pthread_mutex_unlock(&c->lock);
    UNPOISON(data_of(b), size);
    return data_of(b);
  }
  pthread_mutex_unlock(&c->lock);

  /* A miss: a new block from libc, its data `offset` bytes in (so that the
   * header fits before it and the data keeps the alignment). */
  size_t offset = alignment > HEADER_BYTES ? alignment : HEADER_BYTES;
  if (bytes > SIZE_MAX - offset) return NULL;
  void *raw = NULL;
  if (posix_memalign(&raw, alignment, offset + bytes) != 0) {
    /* Out of memory: give the idle blocks back and try once more. */
    block_t *evicted = NULL;
    pthread_mutex_lock(&c->lock);
    evict_to(c, 0, &evicted);
    pthread_mutex_unlock(&c->lock);
    if (!evicted) return NULL;
    release_chain(evicted);
    raw = NULL;
    if (posix_memalign(&raw, alignment, offset + bytes) != 0) return NULL;
  }
  block_t *b = (block_t *)((char *)raw + offset - HEADER_BYTES);
  b->prev = b->next = b->older = b->newer = NULL;
  b->raw = raw;
  b->bytes = bytes;
  b->class_index = index;
  pthread_mutex_lock(&c->lock);
  c->system_allocs += 1;
  count_live(c, bytes);
  pthread_mutex_unlock(&c->lock);
  if (bytes > size) POISON((char *)data_of(b) + size, bytes - size);
  return data_of(b);
}

void glmrt_block_cache_free(void *self, void *ptr) {
  if (!ptr) return;
  glmrt_block_cache_t *c = (glmrt_block_cache_t *)self;
  block_t *b = header_of(ptr);
  block_t *evicted = NULL;
  int keep = 0, last = 0;

  pthread_mutex_lock(&c->lock);
  c->live_blocks -= 1;
  c->live_bytes -= b->bytes;
  if (!c->closed && b->class_index != UNCACHED && b->bytes <= c->limit) {
    evict_to(c, c->limit - b->bytes, &evicted);
    POISON(ptr, b->bytes); /* before another thread can take it */
    push_cached(c, b);
    keep = 1;
  } else {
    c->system_frees += 1;
  }
  last = c->closed && c->live_blocks == 0;
  pthread_mutex_unlock(&c->lock);

  release_chain(evicted);
  if (!keep) {
    UNPOISON(ptr, b->bytes);
    free(b->raw);
  }
  if (last) destroy(c);
}

void glmrt_block_cache_begin_run(glmrt_block_cache_t *c) {
  pthread_mutex_lock(&c->lock);
  c->run_peak = c->live_bytes;
  pthread_mutex_unlock(&c->lock);
}

void glmrt_block_cache_end_run(glmrt_block_cache_t *c) {
  block_t *evicted = NULL;
  pthread_mutex_lock(&c->lock);
  c->last_run_peak = c->run_peak;
  c->limit = c->run_peak > c->min_limit ? c->run_peak : c->min_limit;
  evict_to(c, c->limit, &evicted);
  pthread_mutex_unlock(&c->lock);
  release_chain(evicted);
}

void glmrt_block_cache_close(glmrt_block_cache_t *c) {
  if (!c) return;
  block_t *evicted = NULL;
  pthread_mutex_lock(&c->lock);
  c->closed = 1;
  evict_to(c, 0, &evicted);
  int last = c->live_blocks == 0;
  pthread_mutex_unlock(&c->lock);
  release_chain(evicted);
  if (last) destroy(c);
}

void glmrt_block_cache_get_stats(glmrt_block_cache_t *c,
                                 glmrt_block_cache_stats_t *stats) {
  pthread_mutex_lock(&c->lock);
  stats->system_allocs = c->system_allocs;
  stats->system_frees = c->system_frees;
  stats->hits = c->hits;
  stats->cached_blocks = c->cached_blocks;
  stats->cached_bytes = c->cached_bytes;
  stats->live_blocks = c->live_blocks;
  stats->live_bytes = c->live_bytes;
  stats->limit_bytes = c->limit;
  stats->last_run_peak_bytes = c->last_run_peak;
  pthread_mutex_unlock(&c->lock);
}
