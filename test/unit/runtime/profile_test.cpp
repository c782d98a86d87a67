//===- profile_test.cpp - Per-layer profiles of --profile models -----------===//
//
// Over artifacts/profile_model.c: a model that marks its layers as glmc
// --profile code does and sleeps a known time in each, so that the times
// the runtime records can be checked against what the layers really took.
//
//===----------------------------------------------------------------------===//
#include "test_util.h"

#include <fstream>
#include <sstream>

using namespace glmrt_test;

namespace {

constexpr int32_t kDelayUs = 3000;

SessionPtr make_session(glmrt_model_t *model, uint32_t num_threads) {
  glmrt_session_options_t options;
  glmrt_session_options_init(&options);
  options.num_threads = num_threads;
  glmrt_session_t *session = nullptr;
  StatusPtr status(glmrt_session_create(model, &options, &session));
  EXPECT_EQ(status.get(), nullptr) << glmrt_status_message(status.get());
  return SessionPtr(session);
}

void run_profile_model(glmrt_session_t *session, int32_t delay_us) {
  int64_t dims[1] = {1};
  glmrt_tensor_view_t in =
      glmrt_tensor_view_make(GLMRT_DTYPE_I32, 1, dims, &delay_us, sizeof(delay_us));
  glmrt_tensor_t *y = nullptr;
  ASSERT_GLMRT_OK(glmrt_session_run(session, nullptr, &in, 1, &y, 1));
  TensorPtr owned(y);
  EXPECT_EQ(*static_cast<const int32_t *>(glmrt_tensor_data(y)), 7);
}

glmrt_profile_layer_info_t layer(glmrt_session_t *session, size_t index) {
  glmrt_profile_layer_info_t info;
  glmrt_profile_layer_info_init(&info);
  EXPECT_GLMRT_OK(glmrt_session_profile_layer(session, index, &info));
  return info;
}

glmrt_profile_summary_t summary(glmrt_session_t *session) {
  glmrt_profile_summary_t s;
  glmrt_profile_summary_init(&s);
  EXPECT_GLMRT_OK(glmrt_session_profile_summary(session, &s));
  return s;
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

} // namespace

TEST(Profile, LayerTable) {
  ModelPtr model = load_ok(artifact("profile.so"));
  ASSERT_TRUE(model);
  EXPECT_EQ(glmrt_model_profile_layer_count(model.get()), 2u);
  EXPECT_EQ(glmrt_model_profile_layer_count(nullptr), 0u);
  // A model without --profile, and one from an ABI 1.0 writer, have none.
  ModelPtr add = load_ok(artifact("add.so"));
  ModelPtr old = load_ok(artifact("profile_abi10.so"));
  ASSERT_TRUE(add && old);
  EXPECT_EQ(glmrt_model_profile_layer_count(add.get()), 0u);
  EXPECT_EQ(glmrt_model_profile_layer_count(old.get()), 0u);
}

TEST(Profile, TimesMatchTheLayers) {
  ModelPtr model = load_ok(artifact("profile.so"));
  ASSERT_TRUE(model);
  for (uint32_t threads : {1u, 2u}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    SessionPtr session = make_session(model.get(), threads);
    ASSERT_TRUE(session);
    run_profile_model(session.get(), 0); // not profiled
    ASSERT_GLMRT_OK(glmrt_session_set_profiling(session.get(), 1));
    constexpr int kRuns = 3;
    for (int r = 0; r < kRuns; ++r) run_profile_model(session.get(), kDelayUs);

    glmrt_profile_layer_info_t conv = layer(session.get(), 0);
    EXPECT_STREQ(conv.name, "/conv");
    EXPECT_STREQ(conv.op, "conv");
    EXPECT_STREQ(conv.shape, "1x8x4x4");
    EXPECT_EQ(conv.flops, 1000000u);
    EXPECT_EQ(conv.bytes, 4096u);
    // Twice per run, kDelayUs each time (usleep sleeps at least that).
    EXPECT_EQ(conv.calls, 2u * kRuns);
    EXPECT_GE(conv.total_ns, uint64_t(2 * kRuns) * kDelayUs * 1000);
    glmrt_profile_layer_info_t add = layer(session.get(), 1);
    EXPECT_STREQ(add.name, "/add + /relu");
    EXPECT_EQ(add.calls, uint64_t(kRuns));
    // Its parallel_for is part of it.
    EXPECT_GE(add.total_ns, uint64_t(kRuns) * 2 * kDelayUs * 1000);

    glmrt_profile_summary_t s = summary(session.get());
    EXPECT_EQ(s.num_layers, 2u);
    EXPECT_EQ(s.runs, uint64_t(kRuns));
    EXPECT_EQ(s.layer_ns, conv.total_ns + add.total_ns);
    // The layers cover the run but for what lies between the marks (the
    // output allocation after the id outside the table): most of it.
    EXPECT_LE(s.layer_ns, s.run_ns);
    EXPECT_GT(double(s.layer_ns), 0.5 * double(s.run_ns));
    EXPECT_EQ(s.events, uint64_t(kRuns) * 4); // 3 layer stretches + the run
    EXPECT_EQ(s.dropped_events, 0u);

    // Stopping keeps the counts and stops counting.
    ASSERT_GLMRT_OK(glmrt_session_set_profiling(session.get(), 0));
    run_profile_model(session.get(), 0);
    EXPECT_EQ(summary(session.get()).runs, uint64_t(kRuns));
    // Starting again clears them.
    ASSERT_GLMRT_OK(glmrt_session_set_profiling(session.get(), 1));
    EXPECT_EQ(summary(session.get()).runs, 0u);
    EXPECT_EQ(layer(session.get(), 0).calls, 0u);
  }
}

TEST(Profile, Errors) {
  ModelPtr model = load_ok(artifact("profile.so"));
  ModelPtr add = load_ok(artifact("add.so"));
  ASSERT_TRUE(model && add);
  SessionPtr plain = make_session(add.get(), 1);
  expect_status(glmrt_session_set_profiling(plain.get(), 1), GLMRT_STATUS_UNAVAILABLE,
                {"'add'", "no profile marks", "glmc --profile"});
  EXPECT_GLMRT_OK(glmrt_session_set_profiling(plain.get(), 0)); // harmless
  expect_status(glmrt_session_set_profiling(nullptr, 1), GLMRT_STATUS_INVALID_ARGUMENT,
                {"session is NULL"});

  SessionPtr session = make_session(model.get(), 1);
  glmrt_profile_layer_info_t info;
  glmrt_profile_layer_info_init(&info);
  glmrt_profile_summary_t s;
  glmrt_profile_summary_init(&s);
  // Nothing to read before profiling starts.
  expect_status(glmrt_session_profile_layer(session.get(), 0, &info),
                GLMRT_STATUS_UNAVAILABLE, {"never enabled"});
  expect_status(glmrt_session_profile_summary(session.get(), &s), GLMRT_STATUS_UNAVAILABLE,
                {"never enabled"});
  expect_status(glmrt_session_write_profile_trace(session.get(), "/tmp/x.json"),
                GLMRT_STATUS_UNAVAILABLE, {"never enabled"});
  ASSERT_GLMRT_OK(glmrt_session_set_profiling(session.get(), 1));
  expect_status(glmrt_session_profile_layer(session.get(), 2, &info),
                GLMRT_STATUS_OUT_OF_RANGE, {"index 2", "2 layers"});
  expect_status(glmrt_session_profile_layer(session.get(), 0, nullptr),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_profile_layer_info_init"});
  glmrt_profile_layer_info_t zeroed;
  std::memset(&zeroed, 0, sizeof(zeroed));
  expect_status(glmrt_session_profile_layer(session.get(), 0, &zeroed),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_profile_layer_info_init"});
  expect_status(glmrt_session_profile_summary(session.get(), nullptr),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_profile_summary_init"});
  expect_status(glmrt_session_profile_layer(nullptr, 0, &info), GLMRT_STATUS_INVALID_ARGUMENT,
                {"session is NULL"});
  expect_status(glmrt_session_write_profile_trace(session.get(), nullptr),
                GLMRT_STATUS_INVALID_ARGUMENT, {"path"});
  expect_status(glmrt_session_write_profile_trace(session.get(), "/nonexistent/dir/t.json"),
                GLMRT_STATUS_NOT_FOUND, {"/nonexistent/dir/t.json"});
}

TEST(Profile, OlderCallerStructs) {
  // A caller built against a header with only the first fields gets those.
  ModelPtr model = load_ok(artifact("profile.so"));
  SessionPtr session = make_session(model.get(), 1);
  ASSERT_GLMRT_OK(glmrt_session_set_profiling(session.get(), 1));
  run_profile_model(session.get(), 100);
  glmrt_profile_layer_info_t info;
  std::memset(&info, 0xab, sizeof(info));
  info.struct_size = offsetof(glmrt_profile_layer_info_t, flops);
  ASSERT_GLMRT_OK(glmrt_session_profile_layer(session.get(), 0, &info));
  EXPECT_STREQ(info.name, "/conv");
  uint64_t untouched;
  std::memset(&untouched, 0xab, sizeof(untouched));
  EXPECT_EQ(info.flops, untouched);
  EXPECT_EQ(info.struct_size, offsetof(glmrt_profile_layer_info_t, flops));
}

TEST(Profile, ChromeTrace) {
  ModelPtr model = load_ok(artifact("profile.so"));
  SessionPtr session = make_session(model.get(), 1);
  ASSERT_GLMRT_OK(glmrt_session_set_profiling(session.get(), 1));
  run_profile_model(session.get(), 500);
  run_profile_model(session.get(), 500);
  TempDir dir;
  std::string path = dir.file("trace.json");
  ASSERT_GLMRT_OK(glmrt_session_write_profile_trace(session.get(), path.c_str()));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string json = text.str();
  // The Chrome trace event format: an object with traceEvents, complete
  // ("X") events with ts/dur in microseconds.
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0), 0u);
  EXPECT_EQ(count(json, "\"ph\":\"X\""), 8u); // 2 runs x (3 layers + run)
  EXPECT_EQ(count(json, "\"name\":\"/conv\""), 4u);
  EXPECT_EQ(count(json, "\"name\":\"/add + /relu\""), 2u);
  EXPECT_EQ(count(json, "\"name\":\"run 1\""), 1u);
  EXPECT_NE(json.find("\"shape\":\"1x8x4x4\",\"flops\":1000000,\"bytes\":4096"),
            std::string::npos);
  EXPECT_NE(json.find("\"args\":{\"name\":\"profile\"}"), std::string::npos);
  EXPECT_EQ(json.substr(json.size() - 4), "\n]}\n");
}
