//===- decoder_test.cpp - KV-cache decoders (glmrt_decoder_*) --------------===//
//
// Two kinds of model:
//  - "decoder.so" and its variants (artifacts/decoder_model.c): a hand-built
//    stand-in with the optimum-style cache inputs and outputs whose logits
//    are exact sums over the whole cache, so every check is exact;
//  - tiny-glm (test/models/tiny-glm) compiled by glmc, the real thing:
//    decoding with the cache against full-sequence runs, resets, threads.
//    Skipped (with the reason) where the build has no compiler.
//
// White box: this program links the runtime's objects to read the block
// cache's counters (how much memory came from libc).
//
//===----------------------------------------------------------------------===//
#include "block_cache.h"
#include "test_util.h"

#include <glmrt/glmrt.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace glmrt_test;

namespace {

struct DecoderDeleter {
  void operator()(glmrt_decoder_t *d) const { glmrt_decoder_release(d); }
};
using DecoderPtr = std::unique_ptr<glmrt_decoder_t, DecoderDeleter>;

DecoderPtr make_decoder(glmrt_model_t *model, uint32_t max_length,
                        uint32_t batch = 1,
                        const glmrt_session_options_t *session_options = nullptr) {
  glmrt_decoder_options_t options;
  glmrt_decoder_options_init(&options);
  options.max_length = max_length;
  options.batch = batch;
  glmrt_session_options_t defaults;
  glmrt_session_options_init(&defaults);
  defaults.num_threads = 1;
  options.session_options = session_options ? session_options : &defaults;
  glmrt_decoder_t *decoder = nullptr;
  StatusPtr status(glmrt_decoder_create(model, &options, &decoder));
  EXPECT_EQ(status.get(), nullptr) << glmrt_status_message(status.get());
  return DecoderPtr(decoder);
}

/// The stand-in's logits for `tokens` (one sequence): row j is (v + 1) * S_j
/// with S_j = sum over tokens 0..j of 16 t (layer 0 key) + 2 (16 t + 1/4)
/// (layer 1 value).
std::vector<float> expected_logits(const std::vector<int64_t> &tokens) {
  std::vector<float> out;
  float sum = 0;
  for (int64_t t : tokens) {
    sum += float(16 * t) + 2.0f * (float(16 * t) + 0.25f);
    for (int v = 0; v < 8; ++v) out.push_back(float(v + 1) * sum);
  }
  return out;
}

std::vector<float> rows(const float *logits, size_t n, size_t vocab) {
  return std::vector<float>(logits, logits + n * vocab);
}

glmrt_block_cache_stats_t stats_of(glmrt_decoder_t *decoder) {
  glmrt_block_cache_stats_t s;
  std::memset(&s, 0, sizeof(s));
  glmrt_block_cache_t *cache =
      glmrt_session_block_cache(glmrt_decoder_session(decoder));
  EXPECT_NE(cache, nullptr);
  if (cache) glmrt_block_cache_get_stats(cache, &s);
  return s;
}

/// A thread-safe allocator that counts its blocks.
struct CountingAllocator {
  std::mutex mutex;
  std::map<void *, size_t> live;
  size_t allocs = 0, frees = 0, max_block = 0;

  static void *alloc(void *self, size_t size, size_t alignment) {
    auto *a = static_cast<CountingAllocator *>(self);
    void *p = nullptr;
    if (posix_memalign(&p, alignment, size ? size : 1) != 0) return nullptr;
    std::lock_guard<std::mutex> lock(a->mutex);
    a->live[p] = size;
    ++a->allocs;
    a->max_block = std::max(a->max_block, size);
    return p;
  }
  static void free(void *self, void *p) {
    auto *a = static_cast<CountingAllocator *>(self);
    {
      std::lock_guard<std::mutex> lock(a->mutex);
      a->live.erase(p);
      ++a->frees;
    }
    std::free(p);
  }
  glmrt_allocator_t allocator() {
    glmrt_allocator_t a;
    a.alloc = &CountingAllocator::alloc;
    a.free = &CountingAllocator::free;
    a.self = this;
    return a;
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// The hand-built stand-in
//===----------------------------------------------------------------------===//

TEST(Decoder, CreateAndQuery) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 16);
  ASSERT_TRUE(decoder);
  glmrt_decoder_t *d = decoder.get();
  EXPECT_EQ(glmrt_decoder_length(d), 0u);
  EXPECT_EQ(glmrt_decoder_max_length(d), 16u);
  EXPECT_EQ(glmrt_decoder_batch(d), 1u);
  EXPECT_EQ(glmrt_decoder_vocab_size(d), 8u);
  EXPECT_EQ(glmrt_decoder_num_layers(d), 2u);
  // 2 layers x key/value x [1, 2, 16, 4] f32.
  EXPECT_EQ(glmrt_decoder_cache_bytes(d), 2u * 2u * 2u * 16u * 4u * 4u);
  ASSERT_NE(glmrt_decoder_session(d), nullptr);
  EXPECT_EQ(glmrt_session_model(glmrt_decoder_session(d)), model.get());
  EXPECT_EQ(glmrt_session_num_threads(glmrt_decoder_session(d)), 1u);

  // The decoder keeps the model: release ours first.
  model.reset();
  const float *logits = nullptr;
  int64_t tokens[2] = {1, 2};
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, tokens, 2, &logits));
  EXPECT_EQ(rows(logits, 2, 8), expected_logits({1, 2}));

  EXPECT_EQ(glmrt_decoder_length(nullptr), 0u);
  EXPECT_EQ(glmrt_decoder_max_length(nullptr), 0u);
  EXPECT_EQ(glmrt_decoder_batch(nullptr), 0u);
  EXPECT_EQ(glmrt_decoder_vocab_size(nullptr), 0u);
  EXPECT_EQ(glmrt_decoder_num_layers(nullptr), 0u);
  EXPECT_EQ(glmrt_decoder_cache_bytes(nullptr), 0u);
  EXPECT_EQ(glmrt_decoder_session(nullptr), nullptr);
  glmrt_decoder_release(nullptr);
}

TEST(Decoder, CreateErrors) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  glmrt_decoder_options_t options;
  glmrt_decoder_options_init(&options);
  options.max_length = 8;
  glmrt_decoder_t *d = nullptr;
  expect_status(glmrt_decoder_create(nullptr, &options, &d),
                GLMRT_STATUS_INVALID_ARGUMENT, {"model is NULL"});
  expect_status(glmrt_decoder_create(model.get(), nullptr, &d),
                GLMRT_STATUS_INVALID_ARGUMENT, {"options", "max_length"});
  expect_status(glmrt_decoder_create(model.get(), &options, nullptr),
                GLMRT_STATUS_INVALID_ARGUMENT, {"out_decoder is NULL"});
  glmrt_decoder_options_t zero;
  std::memset(&zero, 0, sizeof(zero));
  expect_status(glmrt_decoder_create(model.get(), &zero, &d),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_decoder_options_init"});

  options.max_length = 0;
  expect_status(glmrt_decoder_create(model.get(), &options, &d),
                GLMRT_STATUS_INVALID_ARGUMENT, {"max_length is 0"});
  options.max_length = 8;
  options.entry = "step";
  expect_status(glmrt_decoder_create(model.get(), &options, &d),
                GLMRT_STATUS_NOT_FOUND, {"step", "main"});
  options.entry = nullptr;
  glmrt_session_options_t session_options;
  glmrt_session_options_init(&session_options);
  session_options.num_threads = 100000;
  options.session_options = &session_options;
  expect_status(glmrt_decoder_create(model.get(), &options, &d),
                GLMRT_STATUS_INVALID_ARGUMENT, {"num_threads is 100000"});
  options.session_options = nullptr;
  options.max_length = 0xffffffffu;
  options.batch = 0xffffffffu;
  expect_status(glmrt_decoder_create(model.get(), &options, &d),
                GLMRT_STATUS_INVALID_ARGUMENT, {"too large"});
  EXPECT_EQ(d, nullptr); // out parameters are written only on success

  // An options struct from before `batch` existed: batch 1.
  glmrt_decoder_options_init(&options);
  options.max_length = 4;
  options.batch = 3; // outside struct_size
  options.struct_size = offsetof(glmrt_decoder_options_t, batch);
  ASSERT_GLMRT_OK(glmrt_decoder_create(model.get(), &options, &d));
  EXPECT_EQ(glmrt_decoder_batch(d), 1u);
  glmrt_decoder_release(d);
}

TEST(Decoder, RefusesModelsWithoutAMatchingCache) {
  struct Case {
    const char *artifact;
    std::vector<std::string> parts;
  };
  const Case cases[] = {
      {"add.so", {"'add'", "cannot be run by a decoder", "no past_key_values"}},
      {"decoder_nopast.so", {"no past_key_values"}},
      {"decoder_extra.so", {"input 'token_type_ids' is not one the decoder fills"}},
      {"decoder_nopresent.so", {"no output 'present.1.key'"}},
      {"decoder_badpair.so",
       {"output 'present.1.value' is f32 [?, 2, ?, 8]",
        "input 'past_key_values.1.value' is f32 [?, 2, ?, 4]", "head_dim"}},
      {"decoder_dynheads.so", {"static kv_heads"}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.artifact);
    ModelPtr model = load_ok(artifact(c.artifact));
    ASSERT_TRUE(model);
    glmrt_decoder_options_t options;
    glmrt_decoder_options_init(&options);
    options.max_length = 8;
    glmrt_decoder_t *d = nullptr;
    glmrt_status_t *status = glmrt_decoder_create(model.get(), &options, &d);
    EXPECT_EQ(glmrt_status_code(status), GLMRT_STATUS_INVALID_ARGUMENT);
    std::string message = glmrt_status_message(status);
    for (const std::string &part : c.parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "'" << part << "' not in: " << message;
    glmrt_status_free(status);
    EXPECT_EQ(d, nullptr);
  }
}

TEST(Decoder, PrefillThenStepsEqualOneRun) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  const std::vector<int64_t> seq = {3, 1, 4, 1, 5, 2, 6, 5};
  std::vector<float> want = expected_logits(seq);

  // All at once.
  DecoderPtr whole = make_decoder(model.get(), 8);
  const float *logits = nullptr;
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(whole.get(), seq.data(), seq.size(), &logits));
  EXPECT_EQ(rows(logits, seq.size(), 8), want);
  EXPECT_EQ(glmrt_decoder_length(whole.get()), 8u);

  // A prompt of 5, then one token at a time.
  DecoderPtr steps = make_decoder(model.get(), 8);
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(steps.get(), seq.data(), 5, &logits));
  EXPECT_EQ(rows(logits, 5, 8), std::vector<float>(want.begin(), want.begin() + 40));
  for (size_t i = 5; i < seq.size(); ++i) {
    ASSERT_GLMRT_OK(glmrt_decoder_step(steps.get(), &seq[i], &logits));
    EXPECT_EQ(rows(logits, 1, 8),
              std::vector<float>(want.begin() + long(i) * 8,
                                 want.begin() + long(i + 1) * 8));
    EXPECT_EQ(glmrt_decoder_length(steps.get()), i + 1);
  }

  // Chunks of 2 and 3, and the logits pointer may be NULL.
  DecoderPtr chunks = make_decoder(model.get(), 8);
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(chunks.get(), seq.data(), 2, nullptr));
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(chunks.get(), seq.data() + 2, 3, nullptr));
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(chunks.get(), seq.data() + 5, 3, &logits));
  EXPECT_EQ(rows(logits, 3, 8), std::vector<float>(want.begin() + 40, want.end()));

  // A plain session run of the same model with an empty cache.
  SessionPtr session;
  {
    glmrt_session_t *s = nullptr;
    ASSERT_GLMRT_OK(glmrt_session_create(model.get(), nullptr, &s));
    session.reset(s);
  }
  int64_t n = int64_t(seq.size());
  std::vector<int64_t> positions(seq.size()), mask(seq.size(), 1);
  for (size_t i = 0; i < seq.size(); ++i) positions[i] = int64_t(i);
  int64_t ids_dims[2] = {1, n}, kv_dims[4] = {1, 2, 0, 4};
  glmrt_tensor_view_t in[7];
  in[0] = glmrt_tensor_view_make(GLMRT_DTYPE_I64, 2, ids_dims, seq.data(), 8 * n);
  in[1] = glmrt_tensor_view_make(GLMRT_DTYPE_I64, 2, ids_dims, positions.data(), 8 * n);
  in[2] = glmrt_tensor_view_make(GLMRT_DTYPE_I64, 2, ids_dims, mask.data(), 8 * n);
  for (int i = 3; i < 7; ++i)
    in[i] = glmrt_tensor_view_make(GLMRT_DTYPE_F32, 4, kv_dims, nullptr, 0);
  glmrt_tensor_t *out[5] = {};
  ASSERT_GLMRT_OK(glmrt_session_run(session.get(), nullptr, in, 7, out, 5));
  EXPECT_EQ(rows(static_cast<const float *>(glmrt_tensor_data(out[0])), 8, 8), want);
  for (glmrt_tensor_t *t : out) glmrt_tensor_release(t);
}

TEST(Decoder, MaxLengthIsAnErrorThatChangesNothing) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 4);
  glmrt_decoder_t *d = decoder.get();
  const int64_t tokens[5] = {1, 2, 3, 4, 5};
  const float *logits = nullptr;
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, tokens, 3, &logits));
  ASSERT_GLMRT_OK(glmrt_decoder_step(d, &tokens[3], &logits));
  EXPECT_EQ(glmrt_decoder_length(d), 4u);
  expect_status(glmrt_decoder_step(d, &tokens[4], &logits),
                GLMRT_STATUS_OUT_OF_RANGE,
                {"glmrt_decoder_step", "max_length 4", "4 are in it",
                 "adds 1"});
  EXPECT_EQ(glmrt_decoder_length(d), 4u);
  ASSERT_GLMRT_OK(glmrt_decoder_reset(d));
  EXPECT_EQ(glmrt_decoder_length(d), 0u);
  expect_status(glmrt_decoder_prefill(d, tokens, 5, &logits),
                GLMRT_STATUS_OUT_OF_RANGE,
                {"glmrt_decoder_prefill", "max_length 4", "0 are in it",
                 "adds 5"});
  EXPECT_EQ(glmrt_decoder_length(d), 0u);
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, tokens + 1, 4, &logits));
  EXPECT_EQ(rows(logits, 4, 8), expected_logits({2, 3, 4, 5}));
}

TEST(Decoder, BadCallsAreRefused) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 8);
  glmrt_decoder_t *d = decoder.get();
  const float *logits = nullptr;
  int64_t ok = 1, negative = -1, large = 8;
  expect_status(glmrt_decoder_prefill(nullptr, &ok, 1, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT, {"decoder is NULL"});
  expect_status(glmrt_decoder_step(nullptr, &ok, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT, {"decoder is NULL"});
  expect_status(glmrt_decoder_reset(nullptr), GLMRT_STATUS_INVALID_ARGUMENT,
                {"decoder is NULL"});
  expect_status(glmrt_decoder_prefill(d, nullptr, 1, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT, {"tokens is NULL"});
  expect_status(glmrt_decoder_step(d, nullptr, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT, {"tokens is NULL"});
  expect_status(glmrt_decoder_prefill(d, &ok, 0, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT, {"num_tokens is 0"});
  expect_status(glmrt_decoder_step(d, &negative, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT,
                {"token -1", "outside the vocabulary [0, 8)"});
  int64_t two[2] = {1, large};
  expect_status(glmrt_decoder_prefill(d, two, 2, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT,
                {"token 8 (sequence 0, token 1)", "[0, 8)"});
  EXPECT_EQ(glmrt_decoder_length(d), 0u);
  EXPECT_EQ(logits, nullptr);
}

TEST(Decoder, AFailingModelLeavesTheCacheAsItWas) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 8);
  glmrt_decoder_t *d = decoder.get();
  glmrt_block_cache_stats_t before = stats_of(d);
  const int64_t prompt[2] = {1, 2};
  const float *logits = nullptr;
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, prompt, 2, &logits));
  int64_t fails = 7; // the stand-in fails on token 7, outputs allocated
  expect_status(glmrt_decoder_step(d, &fails, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT,
                {"glmrt_decoder_step", "model 'decoder' entry 'main' cannot "
                                       "run these input shapes"});
  EXPECT_EQ(glmrt_decoder_length(d), 2u);
  int64_t next = 3;
  ASSERT_GLMRT_OK(glmrt_decoder_step(d, &next, &logits));
  std::vector<float> want = expected_logits({1, 2, 3});
  EXPECT_EQ(rows(logits, 1, 8), std::vector<float>(want.begin() + 16, want.end()));
  ASSERT_GLMRT_OK(glmrt_decoder_reset(d));
  // Nothing the model allocated is left but blocks idle in the cache.
  glmrt_block_cache_stats_t after = stats_of(d);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
}

TEST(Decoder, AModelReturningAWrongShapeIsAnInternalError) {
  ModelPtr model = load_ok(artifact("decoder_shortpresent.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 8);
  ASSERT_TRUE(decoder);
  const int64_t prompt[3] = {1, 2, 3};
  const float *logits = nullptr;
  expect_status(glmrt_decoder_prefill(decoder.get(), prompt, 3, &logits),
                GLMRT_STATUS_INTERNAL,
                {"output 'present.1.key' with shape [1, 2, 2, 4]",
                 "the decoder expects [1, 2, 3, 4]"});
  EXPECT_EQ(glmrt_decoder_length(decoder.get()), 0u);
  EXPECT_EQ(stats_of(decoder.get()).live_blocks, 0u);
}

TEST(Decoder, BatchDecodesSequencesInLockstep) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 6, 2);
  glmrt_decoder_t *d = decoder.get();
  EXPECT_EQ(glmrt_decoder_batch(d), 2u);
  EXPECT_EQ(glmrt_decoder_cache_bytes(d), 2u * 2u * 2u * 2u * 6u * 4u * 4u);
  const int64_t prompt[2][3] = {{1, 2, 3}, {6, 5, 4}};
  const float *logits = nullptr;
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, &prompt[0][0], 3, &logits));
  EXPECT_EQ(rows(logits, 3, 8), expected_logits({1, 2, 3}));
  EXPECT_EQ(rows(logits + 24, 3, 8), expected_logits({6, 5, 4}));
  const int64_t next[2] = {4, 0};
  ASSERT_GLMRT_OK(glmrt_decoder_step(d, next, &logits));
  std::vector<float> a = expected_logits({1, 2, 3, 4});
  std::vector<float> b = expected_logits({6, 5, 4, 0});
  EXPECT_EQ(rows(logits, 1, 8), std::vector<float>(a.end() - 8, a.end()));
  EXPECT_EQ(rows(logits + 8, 1, 8), std::vector<float>(b.end() - 8, b.end()));
  const int64_t bad[2] = {1, 9};
  expect_status(glmrt_decoder_step(d, bad, &logits),
                GLMRT_STATUS_INVALID_ARGUMENT, {"token 9 (sequence 1, token 0)"});
}

TEST(Decoder, ResetReusesTheCacheAndTheBlocks) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 32);
  glmrt_decoder_t *d = decoder.get();
  size_t cache_bytes = glmrt_decoder_cache_bytes(d);
  auto generate = [&](std::vector<float> *last) {
    const int64_t prompt[4] = {5, 1, 4, 2};
    const float *logits = nullptr;
    ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, prompt, 4, &logits));
    for (int i = 0; i < 28; ++i) {
      int64_t token = int64_t(i % 6);
      ASSERT_GLMRT_OK(glmrt_decoder_step(d, &token, &logits));
    }
    *last = rows(logits, 1, 8);
  };
  std::vector<float> first, second, third;
  generate(&first);
  glmrt_block_cache_stats_t s1 = stats_of(d);
  ASSERT_GLMRT_OK(glmrt_decoder_reset(d));
  EXPECT_EQ(glmrt_decoder_length(d), 0u);
  generate(&second);
  ASSERT_GLMRT_OK(glmrt_decoder_reset(d));
  generate(&third);
  glmrt_block_cache_stats_t s2 = stats_of(d);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first, third);
  // Steady state: every block the model asked for came from the cache.
  EXPECT_EQ(s2.system_allocs, s1.system_allocs);
  EXPECT_GT(s2.hits, s1.hits);
  EXPECT_EQ(s2.live_blocks, 1u); // the last step's logits
  EXPECT_EQ(glmrt_decoder_cache_bytes(d), cache_bytes);
}

TEST(Decoder, TheCacheComesFromTheCallersAllocator) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  CountingAllocator counting;
  glmrt_session_options_t session_options;
  glmrt_session_options_init(&session_options);
  session_options.num_threads = 1;
  session_options.allocator = counting.allocator();
  {
    DecoderPtr decoder = make_decoder(model.get(), 16, 1, &session_options);
    ASSERT_TRUE(decoder);
    EXPECT_EQ(counting.allocs, 1u); // the cache, in one block
    EXPECT_EQ(counting.max_block, glmrt_decoder_cache_bytes(decoder.get()));
    const int64_t prompt[3] = {1, 2, 3};
    const float *logits = nullptr;
    ASSERT_GLMRT_OK(glmrt_decoder_prefill(decoder.get(), prompt, 3, &logits));
    // The cache and the logits are live, the presents went back.
    EXPECT_EQ(counting.live.size(), 2u);
    int64_t next = 4;
    ASSERT_GLMRT_OK(glmrt_decoder_step(decoder.get(), &next, &logits));
    EXPECT_EQ(counting.live.size(), 2u);
    EXPECT_EQ(counting.allocs, 1u + 5u + 5u); // 5 outputs per call
  }
  EXPECT_TRUE(counting.live.empty());
  EXPECT_EQ(counting.frees, counting.allocs);
}

TEST(Decoder, DecodersOnOneModelRunInParallel) {
  ModelPtr model = load_ok(artifact("decoder.so"));
  ASSERT_TRUE(model);
  const int kThreads = 4;
  std::vector<std::vector<float>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      DecoderPtr decoder = make_decoder(model.get(), 64);
      const int64_t prompt[2] = {1, 2};
      const float *logits = nullptr;
      glmrt_status_t *st = glmrt_decoder_prefill(decoder.get(), prompt, 2, &logits);
      for (int i = 0; !st && i < 60; ++i) {
        int64_t token = int64_t((i * 5 + 3) % 7);
        st = glmrt_decoder_step(decoder.get(), &token, &logits);
        if (!st) results[t].insert(results[t].end(), logits, logits + 8);
      }
      EXPECT_EQ(st, nullptr) << glmrt_status_message(st);
      glmrt_status_free(st);
    });
  }
  for (std::thread &th : threads) th.join();
  ASSERT_EQ(results[0].size(), 60u * 8u);
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(results[t], results[0]);
}

TEST(Decoder, CppWrapper) {
  glmrt::Model model;
  ASSERT_TRUE(glmrt::Model::load(artifact("decoder.so").c_str(), &model).ok());
  glmrt::Decoder decoder;
  EXPECT_FALSE(decoder.valid());
  glmrt::DecoderOptions options(8);
  EXPECT_EQ(options.max_length, 8u);
  glmrt::Status st = glmrt::Decoder::create(model, options, &decoder);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(decoder.valid());
  EXPECT_EQ(decoder.max_length(), 8u);
  EXPECT_EQ(decoder.vocab_size(), 8u);
  EXPECT_EQ(decoder.num_layers(), 2u);
  EXPECT_EQ(decoder.batch(), 1u);
  EXPECT_GT(decoder.cache_bytes(), 0u);
  EXPECT_NE(decoder.session(), nullptr);
  const float *logits = nullptr;
  ASSERT_TRUE(decoder.prefill(std::vector<int64_t>{1, 2}, &logits).ok());
  ASSERT_TRUE(decoder.step(int64_t(3), &logits).ok());
  EXPECT_EQ(decoder.length(), 3u);
  std::vector<float> want = expected_logits({1, 2, 3});
  EXPECT_EQ(rows(logits, 1, 8), std::vector<float>(want.end() - 8, want.end()));
  glmrt::Decoder moved(std::move(decoder));
  EXPECT_FALSE(decoder.valid());
  EXPECT_EQ(moved.length(), 3u);
  ASSERT_TRUE(moved.reset().ok());
  EXPECT_EQ(moved.length(), 0u);
  st = moved.prefill(nullptr, 0);
  EXPECT_EQ(st.code(), GLMRT_STATUS_INVALID_ARGUMENT);

  glmrt::Model plain;
  ASSERT_TRUE(glmrt::Model::load(artifact("add.so").c_str(), &plain).ok());
  glmrt::Decoder refused;
  st = glmrt::Decoder::create(plain, options, &refused);
  EXPECT_EQ(st.code(), GLMRT_STATUS_INVALID_ARGUMENT);
  EXPECT_FALSE(refused.valid());
}

//===----------------------------------------------------------------------===//
// tiny-glm compiled by glmc
//===----------------------------------------------------------------------===//

namespace {

std::string tiny_glm(const char *name) {
  return std::string(GLMRT_TEST_TINY_GLM_DIR) + "/" + name;
}

#define REQUIRE_TINY_GLM()                                                     \
  do {                                                                         \
    if (std::string(GLMRT_TEST_TINY_GLM_DIR).empty())                          \
      GTEST_SKIP() << "glmc is not built here (GLMC_BUILD_COMPILER=OFF): no "  \
                      "compiled tiny-glm";                                     \
  } while (0)

const std::vector<int64_t> kPrompt = {464, 12, 1001, 77, 5, 1999, 300, 42,
                                      818, 9, 1500, 260};

size_t argmax(const float *row, size_t n) {
  return size_t(std::max_element(row, row + n) - row);
}

/// Logits of the full-sequence model (tiny-glm.so) on `tokens`, [n, vocab].
std::vector<float> full_sequence_logits(glmrt_model_t *model,
                                        const std::vector<int64_t> &tokens) {
  const glmrt_entry_t *entry = nullptr;
  StatusPtr found(glmrt_model_entry_find(model, nullptr, &entry));
  EXPECT_EQ(found.get(), nullptr);
  if (!entry) return {};
  int64_t n = int64_t(tokens.size());
  std::vector<int64_t> positions(tokens.size()), mask(tokens.size(), 1);
  for (size_t i = 0; i < tokens.size(); ++i) positions[i] = int64_t(i);
  int64_t dims[2] = {1, n};
  std::vector<glmrt_tensor_view_t> in;
  for (size_t i = 0; i < glmrt_entry_input_count(entry); ++i) {
    glmrt_tensor_info_t info;
    glmrt_tensor_info_init(&info);
    StatusPtr st(glmrt_entry_input_info(entry, i, &info));
    std::string name = info.name;
    const int64_t *data = name == "input_ids"      ? tokens.data()
                          : name == "position_ids" ? positions.data()
                                                   : mask.data();
    EXPECT_TRUE(name == "input_ids" || name == "position_ids" ||
                name == "attention_mask")
        << name;
    in.push_back(glmrt_tensor_view_make(GLMRT_DTYPE_I64, 2, dims, data, 8 * n));
  }
  SessionPtr session;
  glmrt_session_options_t options;
  glmrt_session_options_init(&options);
  options.num_threads = 1;
  glmrt_session_t *s = nullptr;
  StatusPtr created(glmrt_session_create(model, &options, &s));
  EXPECT_EQ(created.get(), nullptr);
  session.reset(s);
  glmrt_tensor_t *out = nullptr;
  StatusPtr ran(glmrt_session_run(s, entry, in.data(), in.size(), &out, 1));
  EXPECT_EQ(ran.get(), nullptr) << glmrt_status_message(ran.get());
  TensorPtr logits(out);
  if (!out) return {};
  const float *p = static_cast<const float *>(glmrt_tensor_data(out));
  return std::vector<float>(p, p + glmrt_tensor_element_count(out));
}

/// Greedy decoding: `steps` tokens after `prompt`; the logits of each
/// generated token's step appended to *logits when given.
glmrt_status_t *greedy(glmrt_decoder_t *d, const std::vector<int64_t> &prompt,
                       int steps, std::vector<int64_t> *generated,
                       std::vector<float> *logits = nullptr) {
  size_t vocab = glmrt_decoder_vocab_size(d);
  const float *l = nullptr;
  glmrt_status_t *st = glmrt_decoder_prefill(d, prompt.data(), prompt.size(), &l);
  if (st) return st;
  int64_t next = int64_t(argmax(l + (prompt.size() - 1) * vocab, vocab));
  for (int i = 0; i < steps; ++i) {
    generated->push_back(next);
    st = glmrt_decoder_step(d, &next, &l);
    if (st) return st;
    if (logits) logits->insert(logits->end(), l, l + vocab);
    next = int64_t(argmax(l, vocab));
  }
  return nullptr;
}

} // namespace

TEST(TinyGlmDecoder, StepsReproduceTheFullSequenceLogits) {
  REQUIRE_TINY_GLM();
  ModelPtr decode = load_ok(tiny_glm("tiny-glm-decode.so"));
  ModelPtr full = load_ok(tiny_glm("tiny-glm.so"));
  ASSERT_TRUE(decode && full);
  DecoderPtr decoder = make_decoder(decode.get(), 64);
  ASSERT_TRUE(decoder);
  glmrt_decoder_t *d = decoder.get();
  EXPECT_EQ(glmrt_decoder_num_layers(d), 4u);
  EXPECT_EQ(glmrt_decoder_vocab_size(d), 2048u);
  // 4 layers x key/value x [1, 2, 64, 32] f32.
  EXPECT_EQ(glmrt_decoder_cache_bytes(d), 4u * 2u * 2u * 64u * 32u * 4u);
  const size_t vocab = 2048, prompt = 8;

  std::vector<float> got;
  const float *logits = nullptr;
  ASSERT_GLMRT_OK(glmrt_decoder_prefill(d, kPrompt.data(), prompt, &logits));
  got.insert(got.end(), logits, logits + prompt * vocab);
  for (size_t i = prompt; i < kPrompt.size(); ++i) {
    ASSERT_GLMRT_OK(glmrt_decoder_step(d, &kPrompt[i], &logits));
    got.insert(got.end(), logits, logits + vocab);
  }
  std::vector<float> want = full_sequence_logits(full.get(), kPrompt);
  ASSERT_EQ(got.size(), want.size());
  float worst = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::fabs(got[i] - want[i]));
    scale = std::max(scale, std::fabs(want[i]));
  }
  EXPECT_LE(worst, 1e-4f * std::max(scale, 1.0f))
      << "max |decoder - full| " << worst << ", max |logit| " << scale;
  for (size_t t = 0; t < kPrompt.size(); ++t)
    EXPECT_EQ(argmax(&got[t * vocab], vocab), argmax(&want[t * vocab], vocab))
        << "token " << t;
}

TEST(TinyGlmDecoder, ResetReusesMemoryAndRepeatsExactly) {
  REQUIRE_TINY_GLM();
  ModelPtr model = load_ok(tiny_glm("tiny-glm-decode.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 48);
  glmrt_decoder_t *d = decoder.get();
  std::vector<int64_t> first, second, third;
  std::vector<float> first_logits, second_logits;
  ASSERT_GLMRT_OK(greedy(d, kPrompt, 32, &first, &first_logits));
  glmrt_block_cache_stats_t s1 = stats_of(d);
  ASSERT_GLMRT_OK(glmrt_decoder_reset(d));
  ASSERT_GLMRT_OK(greedy(d, kPrompt, 32, &second, &second_logits));
  ASSERT_GLMRT_OK(glmrt_decoder_reset(d));
  ASSERT_GLMRT_OK(greedy(d, kPrompt, 32, &third));
  glmrt_block_cache_stats_t s2 = stats_of(d);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first, third);
  EXPECT_EQ(first_logits, second_logits); // bit for bit
  EXPECT_EQ(s2.system_allocs, s1.system_allocs)
      << "steady-state decoding took blocks from libc";
  EXPECT_GT(s2.hits, s1.hits);
}

TEST(TinyGlmDecoder, MaxLengthAndWrongModel) {
  REQUIRE_TINY_GLM();
  ModelPtr model = load_ok(tiny_glm("tiny-glm-decode.so"));
  ASSERT_TRUE(model);
  DecoderPtr decoder = make_decoder(model.get(), 14);
  std::vector<int64_t> generated;
  expect_status(greedy(decoder.get(), kPrompt, 5, &generated),
                GLMRT_STATUS_OUT_OF_RANGE, {"max_length 14", "14 are in it"});
  EXPECT_EQ(generated.size(), 3u); // steps 13, 14 ran; the third was refused
  EXPECT_EQ(glmrt_decoder_length(decoder.get()), 14u);

  // The full-sequence export has no cache.
  ModelPtr full = load_ok(tiny_glm("tiny-glm.so"));
  ASSERT_TRUE(full);
  glmrt_decoder_options_t options;
  glmrt_decoder_options_init(&options);
  options.max_length = 16;
  glmrt_decoder_t *d = nullptr;
  expect_status(glmrt_decoder_create(full.get(), &options, &d),
                GLMRT_STATUS_INVALID_ARGUMENT,
                {"cannot be run by a decoder", "no past_key_values"});
}

TEST(TinyGlmDecoder, TwoDecodersInParallelThreadsAgree) {
  REQUIRE_TINY_GLM();
  ModelPtr model = load_ok(tiny_glm("tiny-glm-decode.so"));
  ASSERT_TRUE(model);
  std::vector<int64_t> sequential;
  {
    DecoderPtr decoder = make_decoder(model.get(), 48);
    ASSERT_GLMRT_OK(greedy(decoder.get(), kPrompt, 24, &sequential));
  }
  std::vector<int64_t> results[2];
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] {
      DecoderPtr decoder = make_decoder(model.get(), 48);
      glmrt_status_t *st = greedy(decoder.get(), kPrompt, 24, &results[t]);
      EXPECT_EQ(st, nullptr) << glmrt_status_message(st);
      glmrt_status_free(st);
    });
  }
  for (std::thread &th : threads) th.join();
  EXPECT_EQ(results[0], sequential);
  EXPECT_EQ(results[1], sequential);

  // A decoder whose session has a pool of two threads.
  glmrt_session_options_t two;
  glmrt_session_options_init(&two);
  two.num_threads = 2;
  DecoderPtr pooled = make_decoder(model.get(), 48, 1, &two);
  ASSERT_EQ(glmrt_session_num_threads(glmrt_decoder_session(pooled.get())), 2u);
  std::vector<int64_t> with_pool;
  ASSERT_GLMRT_OK(greedy(pooled.get(), kPrompt, 24, &with_pool));
  EXPECT_EQ(with_pool, sequential);
}
