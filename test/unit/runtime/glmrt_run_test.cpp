//===- glmrt_run_test.cpp - tools/glmrt-run on the hand-built artifacts ----===//
#include "npy.h"

#include <glmrt/artifact_abi.h>

#include <gtest/gtest.h>

#include <ftw.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::string artifact(const std::string &name) {
  return std::string(GLMRT_TEST_ARTIFACT_DIR) + "/" + name;
}

int remove_entry(const char *path, const struct stat *, int, struct FTW *) {
  return std::remove(path);
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

std::string quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct Result {
  int exit_code = -1; // -1: did not exit normally (crashed)
  std::string out, err;
};

class GlmrtRun : public ::testing::Test {
protected:
  void SetUp() override {
    char templ[] = "/tmp/glmrt-run-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    nftw(dir_.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  }

  std::string file(const std::string &name) const { return dir_ + "/" + name; }

  Result run(const std::vector<std::string> &args) {
    std::string cmd = quote(GLMRT_RUN_EXE);
    for (const std::string &a : args) cmd += " " + quote(a);
    cmd += " >" + quote(file("stdout.txt")) + " 2>" + quote(file("stderr.txt"));
    int status = std::system(cmd.c_str());
    Result r;
    if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    r.out = slurp(file("stdout.txt"));
    r.err = slurp(file("stderr.txt"));
    return r;
  }

  template <typename T>
  std::string write_npy(const std::string &name, glmrt_dtype_t dtype,
                        std::vector<int64_t> shape, const std::vector<T> &v) {
    std::string path = file(name);
    EXPECT_EQ(npy::write(path, dtype, shape.data(), shape.size(), v.data(),
                         v.size() * sizeof(T)),
              "");
    return path;
  }

  void write_bytes(const std::string &name, const std::string &bytes) {
    std::ofstream(file(name), std::ios::binary) << bytes;
  }

  std::string dir_;
};

#define EXPECT_FAILS_WITH(result, text)                                        \
  do {                                                                         \
    Result _r = (result);                                                      \
    EXPECT_EQ(_r.exit_code, 1) << _r.err;                                      \
    EXPECT_NE(_r.err.find("glmrt-run: error: "), std::string::npos) << _r.err; \
    EXPECT_NE(_r.err.find(text), std::string::npos) << _r.err;                 \
  } while (0)

} // namespace

TEST_F(GlmrtRun, AddWritesOutputs) {
  std::string x = write_npy<float>("x.npy", GLMRT_DTYPE_F32, {2, 4},
                                   {0, 0, 0, 0, 10, 10, 10, 10});
  Result r = run({artifact("add.so"), "--input", x, "--output", file("y.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  npy::Array y;
  ASSERT_EQ(npy::read(file("y.npy"), &y), "");
  EXPECT_EQ(y.dtype, GLMRT_DTYPE_F32);
  EXPECT_EQ(y.shape, std::vector<int64_t>({2, 4}));
  const float *d = static_cast<const float *>(y.data());
  EXPECT_FLOAT_EQ(d[0], 1);
  EXPECT_FLOAT_EQ(d[7], 14);
}

TEST_F(GlmrtRun, NamedInputsAndOutputsAndPrint) {
  std::string a = write_npy<int32_t>("a.npy", GLMRT_DTYPE_I32, {3}, {1, 2, 3});
  std::string b = write_npy<double>("b.npy", GLMRT_DTYPE_F64, {2, 2}, {1, 2, 3, 4});
  // Named, in reverse order; outputs named too (prod first).
  Result r = run({artifact("multi.so"), "--input", "b=" + b, "--input", "a=" + a,
                  "--output", "prod=" + file("prod.npy"), "--output=inc=" +
                  file("inc.npy"), "--print"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inc: i32 [3]\n  [2, 3, 4]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("prod: f64 []\n  [24]"), std::string::npos) << r.out;
  npy::Array prod, inc;
  ASSERT_EQ(npy::read(file("prod.npy"), &prod), "");
  EXPECT_TRUE(prod.shape.empty());
  EXPECT_EQ(*static_cast<const double *>(prod.data()), 24.0);
  ASSERT_EQ(npy::read(file("inc.npy"), &inc), "");
  EXPECT_EQ(static_cast<const int32_t *>(inc.data())[2], 4);

  // A named input plus a positional one fills the remaining slot.
  r = run({artifact("multi.so"), "--input", "b=" + b, "--input", a});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inc: i32 [3]"), std::string::npos) << r.out;
}

TEST_F(GlmrtRun, OtherEntriesAndThreads) {
  std::string x = write_npy<uint8_t>("x.npy", GLMRT_DTYPE_U8, {4}, {1, 2, 3, 130});
  Result r = run({artifact("multi.so"), "--entry", "double", "--input", x, "--print"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[2, 4, 6, 4]"), std::string::npos) << r.out;
  r = run({artifact("multi.so"), "--entry=const", "--print"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("flags: bool [2]\n  [true, false]"), std::string::npos) << r.out;

  std::vector<float> v(3000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  std::string px = write_npy<float>("px.npy", GLMRT_DTYPE_F32, {3000}, v);
  std::string delay = write_npy<int32_t>("d.npy", GLMRT_DTYPE_I32, {1}, {0});
  r = run({artifact("parallel.so"), "--threads", "3", "--input", px, "--input",
           delay, "--output", file("y.npy"), "--print"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("... (3000 values)"), std::string::npos) << r.out;
  npy::Array y;
  ASSERT_EQ(npy::read(file("y.npy"), &y), "");
  EXPECT_FLOAT_EQ(static_cast<const float *>(y.data())[2999], 5998.0f);
}

TEST_F(GlmrtRun, Info) {
  Result r = run({artifact("multi.so"), "--info"});
  std::string abi_line = "abi:      " + std::to_string(GLM_ABI_VERSION_MAJOR) + "." +
                         std::to_string(GLM_ABI_VERSION_MINOR);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char *text :
       {"model:    multi", "target:   host", abi_line.c_str(), "entry main",
        "  input  a: i32 [3]", "  input  b: f64 [2, 2]", "  output prod: f64 []",
        "entry double", "  input  x: u8 [?]", "entry const", "metadata: {}"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  r = run({artifact("add_ext.so"), "--info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("add_ext.weights"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"producer\": \"glmrt unit test\""), std::string::npos);
}

TEST_F(GlmrtRun, Bench) {
  std::string x = write_npy<float>("x.npy", GLMRT_DTYPE_F32, {1, 4}, {1, 2, 3, 4});
  Result r = run({artifact("add.so"), "--input", x, "--bench", "7", "--warmup",
                  "2", "--bench-json", file("bench.json"), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bench: 7 runs (2 warmup), 2 threads"), std::string::npos)
      << r.out;
  for (const char *key : {"p50 ", "p90 ", "p99 ", "mean ", "min ", "max ",
                          "memory: peak 0.000 MiB in the last run",
                          "blocks from libc, 0 of them in the 7 timed runs"})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << "\n" << r.out;
  std::string json = slurp(file("bench.json"));
  for (const char *key :
       {"\"model\": \"add\"", "\"iterations\": 7", "\"warmup\": 2",
        "\"threads\": 2", "\"latency_ms\": {\"p50\": ", "\"p90\": ",
        "\"p99\": ", "\"mean\": ", "\"min\": ", "\"max\": "})
    EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json;
  EXPECT_EQ(json.front(), '{');
}

TEST_F(GlmrtRun, Profile) {
  std::string d = write_npy<int32_t>("d.npy", GLMRT_DTYPE_I32, {1}, {1000});
  Result r = run({artifact("profile.so"), "--input", d, "--profile", "--threads", "1",
                  "--profile-json", file("p.json"), "--trace", file("t.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Default: 10 runs after 1 warmup; slowest layer first (/add + /relu
  // sleeps 3 x 1 ms per run, /conv 2 x 1 ms).
  for (const char *text : {"profile: 10 runs, 1 threads, entry 'main', 2 layers",
                           "measured ", "% of measured)", "GFLOP/s", "add+relu",
                           "1x8x4x4"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  EXPECT_LT(r.out.find("/add + /relu"), r.out.find("/conv")) << r.out;
  std::string json = slurp(file("p.json"));
  for (const char *key : {"\"format\": \"glmrt-profile-v1\"", "\"runs\": 10",
                          "\"measured_ms\": ", "\"layers_ms\": ", "\"name\": \"/conv\"",
                          "\"calls\": 20", "\"flops\": 1000000", "\"rates_exact\": true"})
    EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json;
  EXPECT_NE(slurp(file("t.json")).find("\"traceEvents\""), std::string::npos);

  // With --bench, its runs are the profiled ones and its report follows.
  r = run({artifact("profile.so"), "--input", d, "--profile", "--bench", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("profile: 3 runs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bench: 3 runs"), std::string::npos) << r.out;

  std::string x = write_npy<float>("x.npy", GLMRT_DTYPE_F32, {1, 4}, {1, 2, 3, 4});
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x, "--profile"}),
                    "model 'add' has no profile marks; compile it with glmc --profile");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x, "--trace", file("t.json")}),
                    "--profile-json and --trace need --profile");
  EXPECT_FAILS_WITH(run({artifact("profile.so"), "--input", d, "--profile", "--trace",
                         "/nonexistent/t.json"}),
                    "cannot write the trace '/nonexistent/t.json'");
}

TEST_F(GlmrtRun, HelpExitsZero) {
  Result r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: glmrt-run"), std::string::npos);
}

TEST_F(GlmrtRun, UsageErrors) {
  std::string x = write_npy<float>("x.npy", GLMRT_DTYPE_F32, {1, 4}, {1, 2, 3, 4});
  EXPECT_FAILS_WITH(run({}), "no model given");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--bogus"}), "unknown option '--bogus'");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input"}), "--input needs a file");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--threads", "many"}),
                    "--threads needs a number");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--bench", "0"}),
                    "--bench needs a positive number");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x, "--warmup", "3"}),
                    "need --bench");
  EXPECT_FAILS_WITH(run({artifact("add.so"), artifact("add.so")}),
                    "unexpected argument");
}

TEST_F(GlmrtRun, ModelErrors) {
  std::string x = write_npy<float>("x.npy", GLMRT_DTYPE_F32, {1, 4}, {1, 2, 3, 4});
  EXPECT_FAILS_WITH(run({file("missing.so"), "--input", x}), "cannot open model");
  EXPECT_FAILS_WITH(run({x, "--input", x}), "not a glmc artifact");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--entry", "step", "--input", x}),
                    "no entry 'step'");
}

TEST_F(GlmrtRun, InputErrors) {
  std::string x = write_npy<float>("x.npy", GLMRT_DTYPE_F32, {1, 4}, {1, 2, 3, 4});
  std::string xi = write_npy<int64_t>("xi.npy", GLMRT_DTYPE_I64, {1, 4}, {1, 2, 3, 4});
  std::string x5 = write_npy<float>("x5.npy", GLMRT_DTYPE_F32, {1, 5}, {1, 2, 3, 4, 5});
  EXPECT_FAILS_WITH(run({artifact("add.so")}), "needs input x");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x, "--input", x}),
                    "too many inputs");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", "x=" + x, "--input", "x=" + x}),
                    "input 'x' is given twice");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", file("nope.npy")}),
                    "nope.npy: No such file");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", xi}),
                    "has dtype i64 ('<i8'), model expects f32 ('<f4')");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x5}),
                    "input 'x' dim 1 is 5, model expects 4");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x, "--output", file("a.npy"),
                         "--output", file("b.npy")}),
                    "too many outputs");
  EXPECT_FAILS_WITH(run({artifact("add.so"), "--input", x, "--output",
                         file("no/such/dir/y.npy")}),
                    "output 'y'");
}

TEST_F(GlmrtRun, MalformedNpyIsAnErrorNotACrash) {
  auto npy_file = [](const std::string &dict, size_t data_bytes) {
    std::string out = "\x93NUMPY\x01";
    out += '\0';
    out += static_cast<char>(dict.size() & 0xff);
    out += static_cast<char>(dict.size() >> 8);
    return out + dict + std::string(data_bytes, '\0');
  };
  struct {
    const char *name;
    std::string bytes;
    const char *error;
  } cases[] = {
      {"empty.npy", "", "bad magic"},
      {"text.npy", "just some text\n", "bad magic"},
      {"short.npy", npy_file("", 0).substr(0, 9), "bad magic"},
      {"truncated_header.npy", npy_file("{'descr': '<f4'}", 0).substr(0, 20),
       "truncated .npy header"},
      {"header.npy", npy_file("{'descr': '<f4'", 0), "malformed .npy header"},
      {"big.npy",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 4)}", 16),
       "truncated data"},
      {"fortran.npy",
       npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 4), }", 32),
       "Fortran-order"},
  };
  for (const auto &c : cases) {
    write_bytes(c.name, c.bytes);
    Result r = run({artifact("add.so"), "--input", file(c.name)});
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.name), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << c.name << ": " << r.err;
  }
}
