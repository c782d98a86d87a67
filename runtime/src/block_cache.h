/*===- block_cache.h - A session's cache of freed memory blocks --------------===*
 *
 * A session that uses the default allocator serves the model's host->alloc
 * and host->free through a block cache: freed blocks are kept by size class
 * and handed out again, so repeated runs reuse the same, already faulted-in
 * memory instead of going to libc (which maps and unmaps every block of
 * 128 KiB or more, so each run would fault its pages in afresh).
 *
 * Size classes: up to 4 KiB, multiples of 64 B (64 classes); above, four
 * classes per power of two (5, 6, 7 and 8 KiB, then 10, 12, 14, 16 KiB, ...),
 * so a block wastes at most a quarter of its size. A request is served from
 * the most recently freed block of its class. Blocks aligned to more than 64
 * bytes are never cached.
 *
 * Bound: the idle (cached) bytes never exceed the limit, max(min_limit, the
 * peak of bytes in use during the last run). A free that would exceed it
 * first gives the longest-idle blocks back to libc; a block larger than the
 * limit goes straight back.
 *
 * Lifetime: the cache lives while its owner (the session) holds it or any
 * block from it is in use: output tensors outlive their session. After
 * glmrt_block_cache_close() every cached block goes back to libc, later
 * frees go straight to libc, and the last one destroys the cache.
 *
 * Every function is thread-safe (one mutex per cache).
 *===----------------------------------------------------------------------===*/
#ifndef GLMRT_SRC_BLOCK_CACHE_H
#define GLMRT_SRC_BLOCK_CACHE_H

#include <glmrt/glmrt.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glmrt_block_cache glmrt_block_cache_t;

/* The smallest limit on cached bytes a session uses. */
#define GLMRT_BLOCK_CACHE_MIN_LIMIT ((size_t)64 << 20)

typedef struct glmrt_block_cache_stats {
  uint64_t system_allocs; /* blocks taken from libc */
  uint64_t system_frees;  /* blocks given back to libc */
  uint64_t hits;          /* allocations served from the cache */
  size_t cached_blocks;   /* idle blocks held */
  size_t cached_bytes;    /* their usable bytes (class sizes) */
  size_t live_blocks;     /* blocks handed out and not yet freed */
  size_t live_bytes;      /* their usable bytes */
  size_t limit_bytes;     /* current bound on cached_bytes */
  size_t last_run_peak_bytes; /* most live_bytes during the last run */
} glmrt_block_cache_stats_t;

/* Creates a cache whose limit is never below `min_limit` bytes. */
glmrt_status_t *glmrt_block_cache_create(size_t min_limit,
                                         glmrt_block_cache_t **out_cache);

/* glmrt_allocator_t functions; `self` is the cache. alloc returns NULL for
 * an alignment that is not a power of two or when memory runs out. */
void *glmrt_block_cache_alloc(void *self, size_t size, size_t alignment);
void glmrt_block_cache_free(void *self, void *ptr);

/* Bracket a run: the peak of live bytes in between sets the next limit, and
 * the cache is trimmed to it at the end. */
void glmrt_block_cache_begin_run(glmrt_block_cache_t *cache);
void glmrt_block_cache_end_run(glmrt_block_cache_t *cache);

/* The owner's release: gives every cached block back; the cache itself goes
 * when its last live block is freed (now, if none is). NULL is a no-op. */
void glmrt_block_cache_close(glmrt_block_cache_t *cache);

void glmrt_block_cache_get_stats(glmrt_block_cache_t *cache,
                                 glmrt_block_cache_stats_t *stats);

/* Usable bytes of the class that serves `size` (for tests); 0 when such a
 * block is never cached. */
size_t glmrt_block_cache_class_bytes(size_t size);

/* The session's cache, NULL when it has none (for tests). */
glmrt_block_cache_t *glmrt_session_block_cache(const glmrt_session_t *session);

#ifdef __cplusplus
}
#endif

#endif /* GLMRT_SRC_BLOCK_CACHE_H */
