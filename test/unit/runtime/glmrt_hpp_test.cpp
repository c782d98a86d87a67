//===- glmrt_hpp_test.cpp - The C++ wrapper (built with -fno-exceptions) ---===//
#include <glmrt/glmrt.hpp>

#include "test_util.h"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "glmrt_hpp_test must be compiled with -fno-exceptions"
#endif

using glmrt_test::artifact;

TEST(Hpp, LoadRunAndRelease) {
  glmrt::Model model;
  EXPECT_FALSE(model.valid());
  glmrt::Status status = glmrt::Model::load(artifact("add.so").c_str(), &model);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_STREQ(status.message(), "OK");
  EXPECT_STREQ(model.name(), "add");
  EXPECT_STREQ(model.target(), "host");
  EXPECT_NE(std::string(model.metadata_json()).find("producer"),
            std::string::npos);
  EXPECT_EQ(model.entry_count(), 1u);
  glmrt::Entry main = model.main();
  ASSERT_TRUE(main.valid());
  EXPECT_STREQ(main.name(), "main");
  EXPECT_EQ(main.input_count(), 1u);
  EXPECT_EQ(main.output_count(), 1u);
  glmrt::TensorInfo info;
  ASSERT_TRUE(main.input_info(0, &info).ok());
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.dims[0], -1);
  ASSERT_TRUE(main.output_info(0, &info).ok());
  EXPECT_STREQ(info.name, "y");
  EXPECT_EQ(main.output_info(1, &info).code(), GLMRT_STATUS_OUT_OF_RANGE);
  glmrt::ModelInfo minfo;
  ASSERT_TRUE(model.info(&minfo).ok());
  EXPECT_EQ(minfo.weights_size, 16u);

  glmrt::SessionOptions options;
  options.num_threads = 2;
  glmrt::Session session;
  ASSERT_TRUE(glmrt::Session::create(model, &session, &options).ok());
  EXPECT_EQ(session.num_threads(), 2u);

  float x[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  int64_t dims[2] = {2, 4};
  std::vector<glmrt_tensor_view_t> inputs = {
      glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x))};
  std::vector<glmrt::Tensor> outputs;
  status = session.run(main, inputs, &outputs);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(outputs.size(), 1u);
  const glmrt::Tensor &y = outputs[0];
  EXPECT_EQ(y.dtype(), GLMRT_DTYPE_F32);
  EXPECT_EQ(y.rank(), 2u);
  EXPECT_EQ(y.dim(0), 2);
  EXPECT_EQ(y.dim(1), 4);
  EXPECT_EQ(y.dim(5), 0);
  EXPECT_EQ(y.element_count(), 8);
  EXPECT_EQ(y.byte_size(), 32u);
  EXPECT_FLOAT_EQ(y.data<float>()[7], 5.0f);

  // The default Entry means "main"; the array overload works too.
  glmrt::Tensor single;
  status = session.run(glmrt::Entry(), inputs.data(), 1, &single, 1);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_FLOAT_EQ(single.data<float>()[0], 1.0f);
}

TEST(Hpp, ErrorsAreValuesNotExceptions) {
  glmrt::Model model;
  glmrt::Status status = glmrt::Model::load("/nonexistent/model.so", &model);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), GLMRT_STATUS_NOT_FOUND);
  EXPECT_STREQ(status.code_name(), "NOT_FOUND");
  EXPECT_NE(std::string(status.message()).find("/nonexistent/model.so"),
            std::string::npos);
  EXPECT_FALSE(model.valid());

  ASSERT_TRUE(glmrt::Model::load(artifact("multi.so").c_str(), &model).ok());
  glmrt::Entry entry;
  status = model.find_entry("nope", &entry);
  EXPECT_EQ(status.code(), GLMRT_STATUS_NOT_FOUND);
  EXPECT_FALSE(entry.valid());
  EXPECT_TRUE(model.find_entry("double", &entry).ok());
  EXPECT_STREQ(entry.name(), "double");
  EXPECT_FALSE(model.entry(99).valid());

  glmrt::Session session;
  ASSERT_TRUE(glmrt::Session::create(model, &session).ok());
  std::vector<glmrt::Tensor> outputs;
  status = session.run(entry, nullptr, 0, &outputs);
  EXPECT_EQ(status.code(), GLMRT_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(outputs.empty());

  // Statuses move; release hands the raw pointer over.
  glmrt::Status moved = std::move(status);
  EXPECT_TRUE(status.ok());
  EXPECT_FALSE(moved.ok());
  glmrt_status_t *raw = moved.release();
  EXPECT_TRUE(moved.ok());
  glmrt_status_free(raw);

  glmrt::LoadOptions load;
  load.cpu_features_disabled = ~0ull;
  EXPECT_TRUE(glmrt::Model::load(artifact("add.so").c_str(), &model, &load).ok())
      << "add.so needs no features";
}

TEST(Hpp, ModelCopiesShareAndOutliveOriginals) {
  glmrt::Model copy;
  glmrt::Tensor kept;
  {
    glmrt::Model model;
    ASSERT_TRUE(glmrt::Model::load(artifact("add.so").c_str(), &model).ok());
    copy = model;
    glmrt::Model another(model);
    EXPECT_EQ(another.get(), model.get());
  }
  ASSERT_TRUE(copy.valid());
  glmrt::Session session;
  ASSERT_TRUE(glmrt::Session::create(copy, &session).ok());
  float x[4] = {1, 1, 1, 1};
  int64_t dims[2] = {1, 4};
  glmrt_tensor_view_t in =
      glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
  ASSERT_TRUE(session.run(copy.main(), &in, 1, &kept, 1).ok());
  glmrt::Session moved = std::move(session);
  EXPECT_FALSE(session.valid());
  EXPECT_TRUE(moved.valid());
  copy = glmrt::Model();
  moved = glmrt::Session();
  EXPECT_FLOAT_EQ(kept.data<float>()[1], 3.0f);
  glmrt::Tensor other = std::move(kept);
  EXPECT_FALSE(kept.valid());
  glmrt_tensor_t *raw = other.release();
  glmrt_tensor_release(raw);
}

TEST(Hpp, Profile) {
  glmrt::Model model;
  ASSERT_TRUE(glmrt::Model::load(artifact("profile.so").c_str(), &model).ok());
  EXPECT_EQ(model.profile_layer_count(), 2u);
  glmrt::Session session;
  ASSERT_TRUE(glmrt::Session::create(model, &session).ok());
  glmrt::ProfileSummary summary;
  EXPECT_EQ(session.profile_summary(&summary).code(), GLMRT_STATUS_UNAVAILABLE);
  ASSERT_TRUE(session.set_profiling(true).ok());
  int32_t delay_us = 200;
  int64_t dims[1] = {1};
  std::vector<glmrt_tensor_view_t> inputs = {
      glmrt_tensor_view_make(GLMRT_DTYPE_I32, 1, dims, &delay_us, sizeof(delay_us))};
  std::vector<glmrt::Tensor> outputs;
  ASSERT_TRUE(session.run(glmrt::Entry(), inputs, &outputs).ok());
  ASSERT_TRUE(session.set_profiling(false).ok());
  ASSERT_TRUE(session.profile_summary(&summary).ok());
  EXPECT_EQ(summary.runs, 1u);
  glmrt::ProfileLayerInfo info;
  ASSERT_TRUE(session.profile_layer(1, &info).ok());
  EXPECT_STREQ(info.op, "add+relu");
  EXPECT_EQ(info.calls, 1u);
  EXPECT_GE(info.total_ns, 2u * 200u * 1000u);
  EXPECT_EQ(session.profile_layer(5, &info).code(), GLMRT_STATUS_OUT_OF_RANGE);
  glmrt_test::TempDir dir;
  EXPECT_TRUE(session.write_profile_trace(dir.file("t.json").c_str()).ok());
  EXPECT_FALSE(glmrt_test::read_file(dir.file("t.json")).empty());
}
