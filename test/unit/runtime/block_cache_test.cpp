//===- block_cache_test.cpp - The default allocator's block cache ----------===//
//
// White-box tests: this program links the runtime's objects, not the shared
// library, so it can read a cache's counters (runtime/src/block_cache.h).
//
//===----------------------------------------------------------------------===//
#include "block_cache.h"
#include "test_util.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

using namespace glmrt_test;

namespace {

glmrt_block_cache_stats_t stats_of(glmrt_block_cache_t *cache) {
  glmrt_block_cache_stats_t s;
  glmrt_block_cache_get_stats(cache, &s);
  return s;
}

struct CacheCloser {
  void operator()(glmrt_block_cache_t *c) const { glmrt_block_cache_close(c); }
};
using CachePtr = std::unique_ptr<glmrt_block_cache_t, CacheCloser>;

CachePtr make_cache(size_t min_limit) {
  glmrt_block_cache_t *cache = nullptr;
  StatusPtr status(glmrt_block_cache_create(min_limit, &cache));
  EXPECT_EQ(status.get(), nullptr);
  return CachePtr(cache);
}

void *alloc(glmrt_block_cache_t *c, size_t size, size_t alignment = 64) {
  return glmrt_block_cache_alloc(c, size, alignment);
}

void release(glmrt_block_cache_t *c, void *p) { glmrt_block_cache_free(c, p); }

} // namespace

TEST(BlockCache, SizeClasses) {
  EXPECT_EQ(glmrt_block_cache_class_bytes(0), 64u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(1), 64u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(64), 64u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(65), 128u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(4000), 4032u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(4096), 4096u);
  // Above 4 KiB: four classes per power of two.
  EXPECT_EQ(glmrt_block_cache_class_bytes(4097), 5120u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(5120), 5120u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(5121), 6144u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(8192), 8192u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(8193), 10240u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(147456), 163840u);
  EXPECT_EQ(glmrt_block_cache_class_bytes(size_t(1) << 30), size_t(1) << 30);
  EXPECT_EQ(glmrt_block_cache_class_bytes((size_t(1) << 30) + 1),
            (size_t(5) << 28));
  EXPECT_EQ(glmrt_block_cache_class_bytes(size_t(1) << 48), size_t(1) << 48);
  EXPECT_EQ(glmrt_block_cache_class_bytes((size_t(1) << 48) + 1), 0u);
  // Waste is at most a quarter of the request above 4 KiB, 63 bytes below.
  for (size_t size = 1; size < (size_t(1) << 24); size = size * 5 / 4 + 1) {
    size_t bytes = glmrt_block_cache_class_bytes(size);
    ASSERT_GE(bytes, size);
    ASSERT_LE(bytes - size, size > 4096 ? size / 4 : 63) << size;
  }
}

TEST(BlockCache, AlignmentAndRefusals) {
  CachePtr cache = make_cache(1 << 20);
  for (size_t alignment : {1, 16, 64, 128, 4096}) {
    void *p = alloc(cache.get(), 100, alignment);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % std::max<size_t>(alignment, 64), 0u);
    std::memset(p, 1, 100);
    release(cache.get(), p);
  }
  EXPECT_EQ(alloc(cache.get(), 100, 96), nullptr); // not a power of two
  // Blocks aligned to more than 64 bytes are not cached.
  glmrt_block_cache_stats_t s = stats_of(cache.get());
  EXPECT_EQ(s.cached_blocks, 1u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.system_allocs, 3u); // 1, 16, 64 share one block; 128; 4096
  EXPECT_EQ(s.hits, 2u);
  release(cache.get(), nullptr); // a no-op
}

TEST(BlockCache, FreedBlocksAreReusedByClass) {
  CachePtr cache = make_cache(1 << 20);
  void *a = alloc(cache.get(), 70000);
  void *b = alloc(cache.get(), 1000);
  release(cache.get(), a);
  release(cache.get(), b);
  // Same class (65537..81920 bytes), most recently freed first.
  void *c = alloc(cache.get(), 81920);
  EXPECT_EQ(c, a);
  void *d = alloc(cache.get(), 1024 - 63);
  EXPECT_EQ(d, b);
  void *e = alloc(cache.get(), 81921); // the next class: a new block
  EXPECT_NE(e, a);
  glmrt_block_cache_stats_t s = stats_of(cache.get());
  EXPECT_EQ(s.system_allocs, 3u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.live_blocks, 3u);
  EXPECT_EQ(s.live_bytes, 81920u + 1024u + 98304u);
  EXPECT_EQ(s.cached_bytes, 0u);
  release(cache.get(), c);
  release(cache.get(), d);
  release(cache.get(), e);
  s = stats_of(cache.get());
  EXPECT_EQ(s.cached_blocks, 3u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.system_frees, 0u);
}

TEST(BlockCache, CachedBytesStayWithinTheLimit) {
  const size_t limit = 1 << 20;
  CachePtr cache = make_cache(limit);
  std::vector<void *> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(alloc(cache.get(), 256 << 10));
  for (void *p : blocks) release(cache.get(), p);
  glmrt_block_cache_stats_t s = stats_of(cache.get());
  EXPECT_EQ(s.cached_bytes, limit);
  EXPECT_EQ(s.cached_blocks, 4u);
  EXPECT_EQ(s.system_frees, 6u);
  // The longest idle went first: the last four freed are kept.
  std::set<void *> kept;
  for (int i = 0; i < 4; ++i) kept.insert(alloc(cache.get(), 256 << 10));
  EXPECT_EQ(kept, std::set<void *>(blocks.begin() + 6, blocks.end()));
  for (void *p : kept) release(cache.get(), p);
  // A block larger than the limit goes straight back.
  release(cache.get(), alloc(cache.get(), 2 << 20));
  s = stats_of(cache.get());
  EXPECT_EQ(s.cached_bytes, limit);
  EXPECT_EQ(s.system_frees, 7u);
  // Many sizes, many rounds: never above the limit.
  for (int round = 0; round < 50; ++round) {
    std::vector<void *> held;
    for (size_t size = 1000 + round; size < (3u << 20); size = size * 3 / 2)
      held.push_back(alloc(cache.get(), size));
    for (void *p : held) release(cache.get(), p);
    ASSERT_LE(stats_of(cache.get()).cached_bytes, limit);
  }
}

TEST(BlockCache, LimitFollowsTheLastRunsPeak) {
  const size_t min_limit = 1 << 20;
  CachePtr cache = make_cache(min_limit);
  auto run = [&](int blocks) {
    glmrt_block_cache_begin_run(cache.get());
    std::vector<void *> held;
    for (int i = 0; i < blocks; ++i) held.push_back(alloc(cache.get(), 512 << 10));
    for (void *p : held) release(cache.get(), p);
    glmrt_block_cache_end_run(cache.get());
  };
  run(6); // peak 3 MiB; the limit was 1 MiB during the run
  glmrt_block_cache_stats_t s = stats_of(cache.get());
  EXPECT_EQ(s.last_run_peak_bytes, size_t(3) << 20);
  EXPECT_EQ(s.limit_bytes, size_t(3) << 20);
  EXPECT_EQ(s.cached_bytes, min_limit);
  run(6); // now every block of the run is kept for the next
  s = stats_of(cache.get());
  EXPECT_EQ(s.cached_bytes, size_t(3) << 20);
  uint64_t allocs = s.system_allocs;
  run(6);
  s = stats_of(cache.get());
  EXPECT_EQ(s.system_allocs, allocs);
  EXPECT_EQ(s.system_frees, 4u); // all in run 1, under the first limit
  run(1); // a small run shrinks the limit and trims the cache
  s = stats_of(cache.get());
  EXPECT_EQ(s.limit_bytes, min_limit);
  EXPECT_EQ(s.cached_bytes, min_limit);
}

TEST(BlockCache, CachedBlocksArePoisonedUnderASan) {
#ifndef TEST_ASAN
  GTEST_SKIP() << "not built with AddressSanitizer";
#else
  CachePtr cache = make_cache(1 << 20);
  auto *p = static_cast<char *>(alloc(cache.get(), 5000)); // class 5120
  EXPECT_FALSE(__asan_address_is_poisoned(p));
  EXPECT_FALSE(__asan_address_is_poisoned(p + 4999));
  EXPECT_TRUE(__asan_address_is_poisoned(p + 5000)); // past the request
  release(cache.get(), p);
  EXPECT_TRUE(__asan_address_is_poisoned(p)); // a use after free is caught
  auto *q = static_cast<char *>(alloc(cache.get(), 4500)); // the same block
  ASSERT_EQ(q, p);
  EXPECT_FALSE(__asan_address_is_poisoned(q + 4499));
  EXPECT_TRUE(__asan_address_is_poisoned(q + 4500));
  release(cache.get(), q);
#endif
}

TEST(BlockCache, CloseWaitsForTheLastLiveBlock) {
  glmrt_block_cache_t *cache = nullptr;
  ASSERT_GLMRT_OK(glmrt_block_cache_create(1 << 20, &cache));
  void *a = alloc(cache, 100000);
  void *b = alloc(cache, 100);
  release(cache, alloc(cache, 5000)); // cached
  glmrt_block_cache_close(cache);     // gives the cached block back
  std::memset(a, 7, 100000);          // live blocks stay valid
  release(cache, a);
  std::memset(b, 7, 100);
  release(cache, b); // the last one: the cache goes (ASan/valgrind check)
}

TEST(BlockCache, CloseWithNothingLive) {
  glmrt_block_cache_t *cache = nullptr;
  ASSERT_GLMRT_OK(glmrt_block_cache_create(1 << 20, &cache));
  release(cache, alloc(cache, 300000));
  glmrt_block_cache_close(cache);
  glmrt_block_cache_close(nullptr);
}

TEST(BlockCache, ManyThreadsShareOneCache) {
  const size_t limit = 4 << 20;
  CachePtr cache = make_cache(limit);
  std::atomic<int> corrupted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      unsigned seed = 1234u + t;
      for (int i = 0; i < 2000; ++i) {
        size_t n0 = 1 + rand_r(&seed) % 200000, n1 = 1 + rand_r(&seed) % 3000;
        auto *a = static_cast<unsigned char *>(alloc(cache.get(), n0));
        auto *b = static_cast<unsigned char *>(alloc(cache.get(), n1));
        if (!a || !b) {
          ++corrupted;
          continue;
        }
        std::memset(a, t, n0);
        std::memset(b, t + 100, n1);
        std::this_thread::yield();
        for (size_t k = 0; k < n0; k += 97)
          if (a[k] != t) ++corrupted;
        if (b[n1 - 1] != t + 100) ++corrupted;
        release(cache.get(), a);
        release(cache.get(), b);
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(corrupted.load(), 0);
  glmrt_block_cache_stats_t s = stats_of(cache.get());
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_LE(s.cached_bytes, limit);
  EXPECT_EQ(s.system_allocs - s.system_frees, s.cached_blocks);
  EXPECT_GT(s.hits, 0u);
}

//===--------------------------------------------------------------------===//
// Sessions over the churn artifact
//===--------------------------------------------------------------------===//

namespace {

SessionPtr make_session(glmrt_model_t *model, uint32_t num_threads,
                        const glmrt_session_options_t *base = nullptr) {
  glmrt_session_options_t options;
  glmrt_session_options_init(&options);
  if (base) options = *base;
  options.num_threads = num_threads;
  glmrt_session_t *session = nullptr;
  StatusPtr status(glmrt_session_create(model, &options, &session));
  EXPECT_EQ(status.get(), nullptr) << glmrt_status_message(status.get());
  return SessionPtr(session);
}

struct Churned {
  TensorPtr out, stats;
};

/// Runs churn.so; checks its outputs. sizes[0] is the size of `out`.
void run_churn(glmrt_session_t *session, std::vector<int64_t> sizes,
               int32_t rounds, Churned *result = nullptr) {
  int64_t s_dims[1] = {static_cast<int64_t>(sizes.size())}, r_dims[1] = {1};
  glmrt_tensor_view_t ins[2] = {
      glmrt_tensor_view_make(GLMRT_DTYPE_I64, 1, s_dims, sizes.data(),
                             sizes.size() * sizeof(int64_t)),
      glmrt_tensor_view_make(GLMRT_DTYPE_I32, 1, r_dims, &rounds,
                             sizeof(rounds))};
  glmrt_tensor_t *outs[2] = {nullptr, nullptr};
  ASSERT_GLMRT_OK(glmrt_session_run(session, nullptr, ins, 2, outs, 2));
  Churned r;
  r.out.reset(outs[0]);
  r.stats.reset(outs[1]);
  const int64_t *st = static_cast<const int64_t *>(glmrt_tensor_data(outs[1]));
  EXPECT_EQ(st[0], 0) << "blocks changed while held";
  EXPECT_EQ(st[1], 0) << "blocks not 64-byte aligned";
  EXPECT_EQ(st[2], 0) << "failed allocations";
  ASSERT_EQ(glmrt_tensor_byte_size(outs[0]), static_cast<size_t>(sizes[0]));
  const auto *out = static_cast<const unsigned char *>(glmrt_tensor_data(outs[0]));
  for (int64_t k = 0; k < sizes[0]; ++k) ASSERT_EQ(out[k], 0x5a);
  if (result) *result = std::move(r);
}

const std::vector<int64_t> kSizes = {300000, 1, 64, 100, 4096, 5000,
                                     70000, 147456, 1 << 20};

} // namespace

TEST(BlockCacheSession, OnlyTheDefaultAllocatorGetsACache) {
  ModelPtr model = load_ok(artifact("churn.so"));
  ASSERT_TRUE(model);
  SessionPtr plain = make_session(model.get(), 1);
  EXPECT_NE(glmrt_session_block_cache(plain.get()), nullptr);

  glmrt_session_options_t options;
  glmrt_session_options_init(&options);
  options.flags = GLMRT_SESSION_FLAG_NO_BLOCK_CACHE;
  SessionPtr uncached = make_session(model.get(), 2, &options);
  EXPECT_EQ(glmrt_session_block_cache(uncached.get()), nullptr);
  run_churn(uncached.get(), kSizes, 3);

  glmrt_session_options_init(&options);
  options.allocator.alloc = [](void *, size_t size, size_t alignment) {
    void *p = nullptr;
    return posix_memalign(&p, alignment, size ? size : 1) == 0 ? p : nullptr;
  };
  options.allocator.free = [](void *, void *p) { std::free(p); };
  SessionPtr custom = make_session(model.get(), 2, &options);
  EXPECT_EQ(glmrt_session_block_cache(custom.get()), nullptr);
  run_churn(custom.get(), kSizes, 3);

  // An options struct from before `flags` existed still gets a cache.
  glmrt_session_options_init(&options);
  options.struct_size = offsetof(glmrt_session_options_t, flags);
  options.flags = GLMRT_SESSION_FLAG_NO_BLOCK_CACHE; // outside struct_size
  SessionPtr old = make_session(model.get(), 1, &options);
  EXPECT_NE(glmrt_session_block_cache(old.get()), nullptr);
}

TEST(BlockCacheSession, RepeatedRunsTakeNoNewMemory) {
  ModelPtr model = load_ok(artifact("churn.so"));
  ASSERT_TRUE(model);
  SessionPtr session = make_session(model.get(), 1);
  glmrt_block_cache_t *cache = glmrt_session_block_cache(session.get());
  ASSERT_NE(cache, nullptr);
  const void *first_out = nullptr;
  {
    Churned r;
    run_churn(session.get(), kSizes, 4, &r);
    first_out = glmrt_tensor_data(r.out.get());
  }
  glmrt_block_cache_stats_t s1 = stats_of(cache);
  EXPECT_EQ(s1.live_blocks, 0u);
  EXPECT_GT(s1.cached_blocks, 0u);
  EXPECT_GE(s1.last_run_peak_bytes, size_t(1) << 20);
  for (int i = 0; i < 5; ++i) {
    Churned r;
    run_churn(session.get(), kSizes, 4, &r);
    EXPECT_EQ(glmrt_tensor_data(r.out.get()), first_out); // the same block
  }
  glmrt_block_cache_stats_t s2 = stats_of(cache);
  EXPECT_EQ(s2.system_allocs, s1.system_allocs);
  EXPECT_EQ(s2.system_frees, s1.system_frees);
  EXPECT_GT(s2.hits, s1.hits);
  EXPECT_EQ(s2.cached_bytes, s1.cached_bytes);
}

TEST(BlockCacheSession, OutputsOutliveSessionAndModel) {
  std::vector<Churned> kept;
  {
    ModelPtr model = load_ok(artifact("churn.so"));
    ASSERT_TRUE(model);
    SessionPtr session = make_session(model.get(), 2);
    for (int i = 0; i < 3; ++i) {
      Churned r;
      run_churn(session.get(), {int64_t(200000) + i, 100, 5000}, 2, &r);
      kept.push_back(std::move(r));
    }
    kept[1].out.reset(); // one back into the cache while it is open
  }
  // Session and model are gone; the tensors' blocks are not.
  for (const Churned &r : kept) {
    if (!r.out) continue;
    const auto *out = static_cast<const unsigned char *>(glmrt_tensor_data(r.out.get()));
    EXPECT_EQ(out[0], 0x5a);
    EXPECT_EQ(out[glmrt_tensor_byte_size(r.out.get()) - 1], 0x5a);
  }
  // Released in another order than made, the last one frees the cache
  // (ASan/valgrind catch a use after free or a leak here).
  kept[2].stats.reset();
  kept[0].out.reset();
  kept[2].out.reset();
  kept.clear();
}

TEST(BlockCacheSession, ParallelForAllocatesFromManyThreads) {
  ModelPtr model = load_ok(artifact("churn.so"));
  ASSERT_TRUE(model);
  SessionPtr session = make_session(model.get(), 8);
  glmrt_block_cache_t *cache = glmrt_session_block_cache(session.get());
  ASSERT_NE(cache, nullptr);
  for (int i = 0; i < 10; ++i) {
    Churned r;
    run_churn(session.get(), kSizes, 40, &r);
    glmrt_block_cache_stats_t s = stats_of(cache);
    EXPECT_EQ(s.live_blocks, 2u); // the two outputs
    EXPECT_LE(s.cached_bytes, s.limit_bytes);
  }
  glmrt_block_cache_stats_t s = stats_of(cache);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_GT(s.hits, 10 * s.system_allocs);
}

TEST(BlockCacheSession, ConcurrentSessionsAndCrossThreadReleases) {
  ModelPtr model = load_ok(artifact("churn.so"));
  ASSERT_TRUE(model);
  std::mutex lock;
  std::vector<Churned> outputs; // released on the main thread at the end
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      SessionPtr session = make_session(model.get(), 1 + t % 3);
      for (int i = 0; i < 15; ++i) {
        Churned r;
        run_churn(session.get(), {int64_t(1000) * (t + 1) + i, 77, 150000}, 5,
                  &r);
        if (i % 5 == 0) {
          std::lock_guard<std::mutex> guard(lock);
          outputs.push_back(std::move(r));
        }
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(outputs.size(), 18u);
  outputs.clear();
}
