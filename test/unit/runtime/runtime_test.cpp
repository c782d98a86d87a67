//===- runtime_test.cpp - Status, version, dtypes, CPU features ------------===//
#include "test_util.h"

#include <string>

using namespace glmrt_test;

TEST(Status, NullIsOk) {
  EXPECT_EQ(glmrt_status_code(nullptr), GLMRT_STATUS_OK);
  EXPECT_STREQ(glmrt_status_message(nullptr), "OK");
  glmrt_status_free(nullptr); // no-op
}

TEST(Status, CodesHaveStableValuesAndNames) {
  // The numbers are ABI: never renumbered.
  EXPECT_EQ(GLMRT_STATUS_OK, 0);
  EXPECT_EQ(GLMRT_STATUS_INVALID_ARGUMENT, 1);
  EXPECT_EQ(GLMRT_STATUS_NOT_FOUND, 2);
  EXPECT_EQ(GLMRT_STATUS_INCOMPATIBLE, 3);
  EXPECT_EQ(GLMRT_STATUS_DATA_LOSS, 4);
  EXPECT_EQ(GLMRT_STATUS_RESOURCE_EXHAUSTED, 5);
  EXPECT_EQ(GLMRT_STATUS_OUT_OF_RANGE, 6);
  EXPECT_EQ(GLMRT_STATUS_UNAVAILABLE, 7);
  EXPECT_EQ(GLMRT_STATUS_INTERNAL, 8);
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_OK), "OK");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_INVALID_ARGUMENT),
               "INVALID_ARGUMENT");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_NOT_FOUND), "NOT_FOUND");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_INCOMPATIBLE),
               "INCOMPATIBLE");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_DATA_LOSS), "DATA_LOSS");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_RESOURCE_EXHAUSTED),
               "RESOURCE_EXHAUSTED");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_OUT_OF_RANGE),
               "OUT_OF_RANGE");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_UNAVAILABLE), "UNAVAILABLE");
  EXPECT_STREQ(glmrt_status_code_name(GLMRT_STATUS_INTERNAL), "INTERNAL");
  EXPECT_STREQ(glmrt_status_code_name(static_cast<glmrt_status_code_t>(99)),
               "UNKNOWN");
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  glmrt_model_t *model = nullptr;
  glmrt_status_t *status = glmrt_model_load(nullptr, nullptr, &model);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(glmrt_status_code(status), GLMRT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(glmrt_status_message(status)).find("path"),
            std::string::npos);
  glmrt_status_free(status);
}

TEST(Runtime, Version) {
  EXPECT_EQ(glmrt_runtime_version(), GLMRT_VERSION);
  EXPECT_EQ(GLMRT_VERSION, GLMRT_MAKE_VERSION(GLMRT_VERSION_MAJOR,
                                              GLMRT_VERSION_MINOR,
                                              GLMRT_VERSION_PATCH));
  std::string text = std::to_string(GLMRT_VERSION_MAJOR) + "." +
                     std::to_string(GLMRT_VERSION_MINOR) + "." +
                     std::to_string(GLMRT_VERSION_PATCH);
  EXPECT_EQ(text, glmrt_runtime_version_string());
  EXPECT_EQ(glmrt_runtime_abi_version(),
            (GLM_ABI_VERSION_MAJOR << 16) | GLM_ABI_VERSION_MINOR);
}

TEST(Runtime, ArchAndCpu) {
#if defined(__x86_64__)
  EXPECT_STREQ(glmrt_runtime_arch_name(), "x86-64");
  // Every x86-64 CPU this project targets has SSE4.2; none has ARM bits.
  EXPECT_TRUE(glmrt_runtime_cpu_features() & GLM_CPU_X86_SSE4_2);
  EXPECT_EQ(glmrt_runtime_cpu_features() >> 32, 0u);
  uint64_t f = glmrt_runtime_cpu_features();
  // AVX-512 sub-features only with AVX-512F; AVX2 only with AVX.
  if (f & (GLM_CPU_X86_AVX512BW | GLM_CPU_X86_AVX512VL | GLM_CPU_X86_AVX512DQ)) {
    EXPECT_TRUE(f & GLM_CPU_X86_AVX512F);
  }
  if (f & GLM_CPU_X86_AVX2) {
    EXPECT_TRUE(f & GLM_CPU_X86_AVX);
  }
#elif defined(__aarch64__)
  EXPECT_STREQ(glmrt_runtime_arch_name(), "aarch64");
  EXPECT_TRUE(glmrt_runtime_cpu_features() & GLM_CPU_ARM_NEON);
#endif
  EXPECT_GT(std::strlen(glmrt_runtime_cpu_name()), 0u);
}

TEST(Runtime, CpuFeaturesFormat) {
  char buffer[128];
  size_t n = glmrt_cpu_features_format(
      GLM_CPU_X86_AVX2 | GLM_CPU_X86_FMA | GLM_CPU_ARM_DOTPROD | (1ull << 63),
      buffer, sizeof(buffer));
  EXPECT_STREQ(buffer, "avx2, fma, dotprod, bit 63");
  EXPECT_EQ(n, std::strlen(buffer));
  EXPECT_EQ(glmrt_cpu_features_format(0, buffer, sizeof(buffer)), 0u);
  EXPECT_STREQ(buffer, "");
  // Truncation behaves like snprintf: NUL-terminated, full length returned.
  char small[6];
  n = glmrt_cpu_features_format(GLM_CPU_X86_AVX512F | GLM_CPU_X86_AVX512BW,
                                small, sizeof(small));
  EXPECT_EQ(n, std::strlen("avx512f, avx512bw"));
  EXPECT_STREQ(small, "avx51");
  EXPECT_EQ(glmrt_cpu_features_format(GLM_CPU_X86_AVX, nullptr, 0), 3u);
}

TEST(Dtype, SizesAndNames) {
  struct {
    glmrt_dtype_t dtype;
    size_t size;
    const char *name;
  } cases[] = {
      {GLMRT_DTYPE_F32, 4, "f32"},  {GLMRT_DTYPE_F16, 2, "f16"},
      {GLMRT_DTYPE_BF16, 2, "bf16"}, {GLMRT_DTYPE_F64, 8, "f64"},
      {GLMRT_DTYPE_I8, 1, "i8"},    {GLMRT_DTYPE_U8, 1, "u8"},
      {GLMRT_DTYPE_I16, 2, "i16"},  {GLMRT_DTYPE_U16, 2, "u16"},
      {GLMRT_DTYPE_I32, 4, "i32"},  {GLMRT_DTYPE_U32, 4, "u32"},
      {GLMRT_DTYPE_I64, 8, "i64"},  {GLMRT_DTYPE_U64, 8, "u64"},
      {GLMRT_DTYPE_BOOL, 1, "bool"},
      // ABI 1.2: one byte per element.
      {GLMRT_DTYPE_F8E4M3FN, 1, "f8e4m3fn"}, {GLMRT_DTYPE_F8E4M3FNUZ, 1, "f8e4m3fnuz"},
      {GLMRT_DTYPE_F8E5M2, 1, "f8e5m2"},     {GLMRT_DTYPE_F8E5M2FNUZ, 1, "f8e5m2fnuz"},
      {GLMRT_DTYPE_F4E2M1FN, 1, "f4e2m1fn"}, {GLMRT_DTYPE_I4, 1, "i4"},
      {GLMRT_DTYPE_U4, 1, "u4"},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(glmrt_dtype_size(c.dtype), c.size) << c.name;
    EXPECT_STREQ(glmrt_dtype_name(c.dtype), c.name);
    EXPECT_EQ(glmrt_dtype_size(c.dtype), glm_dtype_size(c.dtype));
  }
  EXPECT_EQ(glmrt_dtype_size(GLMRT_DTYPE_INVALID), 0u);
  EXPECT_STREQ(glmrt_dtype_name(static_cast<glmrt_dtype_t>(77)), "invalid");
}

TEST(Options, InitSetsStructSize) {
  glmrt_load_options_t load;
  std::memset(&load, 0xff, sizeof(load));
  glmrt_load_options_init(&load);
  EXPECT_EQ(load.struct_size, sizeof(load));
  EXPECT_EQ(load.flags, 0u);
  EXPECT_EQ(load.cpu_features_disabled, 0u);
  glmrt_session_options_t session;
  std::memset(&session, 0xff, sizeof(session));
  glmrt_session_options_init(&session);
  EXPECT_EQ(session.struct_size, sizeof(session));
  EXPECT_EQ(session.num_threads, 0u);
  EXPECT_EQ(session.allocator.alloc, nullptr);
  glmrt_tensor_info_t tensor;
  glmrt_tensor_info_init(&tensor);
  EXPECT_EQ(tensor.struct_size, sizeof(tensor));
  glmrt_model_info_t model;
  glmrt_model_info_init(&model);
  EXPECT_EQ(model.struct_size, sizeof(model));
}
