//===- npy_test.cpp - The .npy reader/writer of tools/glmrt-run ------------===//
#include "npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

/// A .npy image with a hand-written header (version 1.0 unless told).
std::vector<unsigned char> image(const std::string &dict, size_t data_bytes,
                                 unsigned major = 1) {
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y',
                                    static_cast<unsigned char>(major), 0};
  size_t len = dict.size();
  out.push_back(len & 0xff);
  out.push_back((len >> 8) & 0xff);
  if (major >= 2) {
    out.push_back((len >> 16) & 0xff);
    out.push_back((len >> 24) & 0xff);
  }
  out.insert(out.end(), dict.begin(), dict.end());
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<unsigned char>(i));
  return out;
}

std::string parse_error(const std::vector<unsigned char> &bytes) {
  npy::Array a;
  return npy::parse(bytes.data(), bytes.size(), &a);
}

} // namespace

TEST(Npy, RoundTripEveryDtype) {
  const glmrt_dtype_t dtypes[] = {
      GLMRT_DTYPE_F32, GLMRT_DTYPE_F16, GLMRT_DTYPE_F64, GLMRT_DTYPE_I8,
      GLMRT_DTYPE_U8,  GLMRT_DTYPE_I16, GLMRT_DTYPE_U16, GLMRT_DTYPE_I32,
      GLMRT_DTYPE_U32, GLMRT_DTYPE_I64, GLMRT_DTYPE_U64, GLMRT_DTYPE_BOOL};
  for (glmrt_dtype_t dtype : dtypes) {
    SCOPED_TRACE(glmrt_dtype_name(dtype));
    int64_t shape[3] = {2, 3, 1};
    size_t bytes = 6 * glmrt_dtype_size(dtype);
    std::vector<unsigned char> data(bytes);
    for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<unsigned char>(i * 7 + 1);
    if (dtype == GLMRT_DTYPE_BOOL)
      for (auto &b : data) b &= 1;
    std::vector<unsigned char> file;
    ASSERT_EQ(npy::serialize(dtype, shape, 3, data.data(), bytes, &file), "");
    // The data starts on a 64-byte boundary and the header ends in '\n'.
    ASSERT_EQ((file.size() - bytes) % 64, 0u);
    EXPECT_EQ(file[file.size() - bytes - 1], '\n');
    npy::Array a;
    ASSERT_EQ(npy::parse(file.data(), file.size(), &a), "");
    EXPECT_EQ(a.dtype, dtype);
    EXPECT_EQ(a.descr, npy::descr_for(dtype));
    EXPECT_EQ(a.shape, std::vector<int64_t>({2, 3, 1}));
    EXPECT_EQ(a.element_count(), 6);
    ASSERT_EQ(a.byte_size, bytes);
    EXPECT_EQ(std::memcmp(a.data(), data.data(), bytes), 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  }
}

TEST(Npy, ScalarsAndVectorsAndEmpty) {
  double value = 2.5;
  std::vector<unsigned char> file;
  ASSERT_EQ(npy::serialize(GLMRT_DTYPE_F64, nullptr, 0, &value, 8, &file), "");
  EXPECT_NE(std::string(file.begin(), file.end()).find("'shape': ()"),
            std::string::npos);
  npy::Array a;
  ASSERT_EQ(npy::parse(file.data(), file.size(), &a), "");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.element_count(), 1);
  EXPECT_EQ(*static_cast<const double *>(a.data()), 2.5);

  int64_t n = 3;
  int32_t v[3] = {1, 2, 3};
  ASSERT_EQ(npy::serialize(GLMRT_DTYPE_I32, &n, 1, v, 12, &file), "");
  EXPECT_NE(std::string(file.begin(), file.end()).find("'shape': (3,)"),
            std::string::npos);

  int64_t zero[2] = {0, 5};
  ASSERT_EQ(npy::serialize(GLMRT_DTYPE_F32, zero, 2, nullptr, 0, &file), "");
  ASSERT_EQ(npy::parse(file.data(), file.size(), &a), "");
  EXPECT_EQ(a.element_count(), 0);
  EXPECT_EQ(a.byte_size, 0u);
}

TEST(Npy, ReadsWhatNumPyWrites) {
  // Byte-for-byte what numpy 1.26 writes for np.arange(6, dtype='<i2')
  // .reshape(2, 3) (v1.0), with double quotes, and as version 2.0 and 3.0.
  std::string dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }";
  dict.append(118 - dict.size() - 1, ' ');
  dict += '\n';
  for (unsigned major : {1u, 2u, 3u}) {
    npy::Array a;
    std::vector<unsigned char> file = image(dict, 12, major);
    ASSERT_EQ(npy::parse(file.data(), file.size(), &a), "") << major;
    EXPECT_EQ(a.dtype, GLMRT_DTYPE_I16);
    EXPECT_EQ(a.shape, std::vector<int64_t>({2, 3}));
  }
  npy::Array a;
  auto file = image("{\"descr\": \"|b1\", \"fortran_order\": False, \"shape\": (4,)}\n", 4);
  EXPECT_EQ(npy::parse(file.data(), file.size(), &a), "");
  EXPECT_EQ(a.dtype, GLMRT_DTYPE_BOOL);
  // Key order does not matter; '=' and '|' byte orders; 1-byte '>'.
  file = image("{'shape': (2,), 'fortran_order': False, 'descr': '=u4'}", 8);
  EXPECT_EQ(npy::parse(file.data(), file.size(), &a), "");
  EXPECT_EQ(a.dtype, GLMRT_DTYPE_U32);
  file = image("{'descr': '>u1', 'fortran_order': False, 'shape': (2,)}", 2);
  EXPECT_EQ(npy::parse(file.data(), file.size(), &a), "");
  // Fortran order of a vector is the same bytes as C order.
  file = image("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 1)}", 12);
  EXPECT_EQ(npy::parse(file.data(), file.size(), &a), "");
  // ml_dtypes' bfloat16 comes as raw 2-byte voids.
  file = image("{'descr': '|V2', 'fortran_order': False, 'shape': (1,)}", 2);
  EXPECT_EQ(npy::parse(file.data(), file.size(), &a), "");
  EXPECT_EQ(a.dtype, GLMRT_DTYPE_U16);
  // ... and its float8, float4, int4 and uint4 as raw 1-byte voids.
  file = image("{'descr': '|V1', 'fortran_order': False, 'shape': (3,)}", 3);
  EXPECT_EQ(npy::parse(file.data(), file.size(), &a), "");
  EXPECT_EQ(a.dtype, GLMRT_DTYPE_U8);
  // Written back: float8/float4/uint4 as uint8, int4 widened to int8.
  EXPECT_STREQ(npy::descr_for(GLMRT_DTYPE_F8E4M3FN), "|u1");
  EXPECT_STREQ(npy::descr_for(GLMRT_DTYPE_F4E2M1FN), "|u1");
  EXPECT_STREQ(npy::descr_for(GLMRT_DTYPE_U4), "|u1");
  EXPECT_STREQ(npy::descr_for(GLMRT_DTYPE_I4), "|i1");
}

TEST(Npy, MalformedFilesGiveErrors) {
  struct Case {
    const char *what;
    std::vector<unsigned char> bytes;
    const char *error;
  } cases[] = {
      {"empty", {}, "bad magic"},
      {"text", image("hello", 0), "malformed .npy header"},
      {"not npy", {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}, "bad magic"},
      {"version 9", image("{}", 0, 9), "unsupported .npy version 9.0"},
      {"v2 short", {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 5, 0}, "truncated"},
      {"header past end", {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{'},
       "truncated .npy header"},
      {"huge v2 header", {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0x7f},
       "implausibly long"},
      {"not a dict", image("['descr']", 0), "not a dict"},
      {"missing shape", image("{'descr': '<f4', 'fortran_order': False}", 4),
       "lacks 'shape'"},
      {"missing descr", image("{'fortran_order': False, 'shape': ()}", 4),
       "lacks 'descr'"},
      {"missing order", image("{'descr': '<f4', 'shape': ()}", 4),
       "lacks 'fortran_order'"},
      {"unknown key", image("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", 4),
       "unknown key 'x'"},
      {"bad bool", image("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", 4),
       "not True or False"},
      {"unterminated string", image("{'descr': '<f4", 0), "malformed"},
      {"escape", image("{'descr': '<f\\4', 'fortran_order': False, 'shape': ()}", 4),
       "'descr' is not a string"},
      {"negative dim", image("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", 0),
       "non-negative integers"},
      {"float dim", image("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", 0),
       "'shape' is malformed"},
      {"dim overflow",
       image("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 0),
       "too large"},
      {"size overflow",
       image("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 0),
       "too large"},
      {"rank 9",
       image("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}", 4),
       "more than 8 dims"},
      {"unclosed shape", image("{'descr': '<f4', 'fortran_order': False, 'shape': (1", 0),
       "'shape'"},
      {"trailing text", image("{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", 4),
       "text after the dict"},
      {"big endian", image("{'descr': '>f4', 'fortran_order': False, 'shape': ()}", 4),
       "big-endian"},
      {"object dtype", image("{'descr': '|O', 'fortran_order': False, 'shape': ()}", 8),
       "unsupported dtype '|O'"},
      {"complex", image("{'descr': '<c8', 'fortran_order': False, 'shape': ()}", 8),
       "unsupported dtype '<c8'"},
      {"fortran", image("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", 16),
       "Fortran-order"},
      {"short data", image("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 23),
       "needs 24 bytes, the file has 23"},
      {"extra data", image("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 9),
       "1 bytes after the array data"},
  };
  for (const Case &c : cases) {
    std::string error = parse_error(c.bytes);
    EXPECT_NE(error.find(c.error), std::string::npos)
        << c.what << ": got '" << error << "'";
  }
}

TEST(Npy, RandomCorruptionNeverCrashes) {
  int64_t shape[2] = {3, 5};
  std::vector<float> data(15, 1.0f);
  std::vector<unsigned char> good;
  ASSERT_EQ(npy::serialize(GLMRT_DTYPE_F32, shape, 2, data.data(), 60, &good), "");
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 5000; ++trial) {
    std::vector<unsigned char> bytes = good;
    int edits = 1 + trial % 4;
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % std::min<size_t>(bytes.size(), 80);
      bytes[pos] = static_cast<unsigned char>(rng());
    }
    if (trial % 7 == 0) bytes.resize(rng() % bytes.size());
    npy::Array a;
    std::string error = npy::parse(bytes.data(), bytes.size(), &a);
    if (error.empty()) {
      // Whatever parsed must be self-consistent.
      EXPECT_EQ(a.byte_size, static_cast<size_t>(a.element_count()) *
                                 glmrt_dtype_size(a.dtype));
    }
  }
}

TEST(Npy, FilesAndErrorsNameThePath) {
  char templ[] = "/tmp/glmrt-npy-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  std::string dir = templ;
  int64_t shape[1] = {2};
  uint64_t v[2] = {7, 9};
  EXPECT_EQ(npy::write(dir + "/v.npy", GLMRT_DTYPE_U64, shape, 1, v, 16), "");
  npy::Array a;
  EXPECT_EQ(npy::read(dir + "/v.npy", &a), "");
  EXPECT_EQ(static_cast<const uint64_t *>(a.data())[1], 9u);
  std::string error = npy::read(dir + "/missing.npy", &a);
  EXPECT_NE(error.find(dir + "/missing.npy: No such file"), std::string::npos) << error;
  error = npy::write(dir + "/no/such/dir.npy", GLMRT_DTYPE_U64, shape, 1, v, 16);
  EXPECT_NE(error.find("dir.npy"), std::string::npos) << error;
  error = npy::read(dir, &a); // a directory
  EXPECT_FALSE(error.empty());
  std::remove((dir + "/v.npy").c_str());
  std::remove(dir.c_str());
}
