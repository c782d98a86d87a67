//===- test_util.h - Helpers for the glmrt unit tests ----------------------===//
#ifndef GLMRT_TEST_UTIL_H
#define GLMRT_TEST_UTIL_H

#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace glmrt_test {

/// Path of a hand-built artifact in the build tree, e.g. artifact("add.so").
std::string artifact(const std::string &name);

/// A fresh directory under /tmp, removed with everything in it.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

std::vector<unsigned char> read_file(const std::string &path);
void write_file(const std::string &path, const std::vector<unsigned char> &bytes);
void write_text(const std::string &path, const std::string &text);
void copy_file(const std::string &from, const std::string &to);

/// Offset and size of a named section in an ELF image; false if absent.
bool find_section(const std::vector<unsigned char> &elf, const char *name,
                  uint64_t *offset, uint64_t *size, uint32_t *index = nullptr);

/// Reads / writes the glm_artifact_header_t in an image's .glm_header.
glm_artifact_header_t get_header(const std::vector<unsigned char> &elf);
void put_header(std::vector<unsigned char> *elf, const glm_artifact_header_t &h);

/// Owns a status; prints its message in failures.
struct StatusDeleter {
  void operator()(glmrt_status_t *s) const { glmrt_status_free(s); }
};
using StatusPtr = std::unique_ptr<glmrt_status_t, StatusDeleter>;

struct ModelDeleter {
  void operator()(glmrt_model_t *m) const { glmrt_model_release(m); }
};
using ModelPtr = std::unique_ptr<glmrt_model_t, ModelDeleter>;

struct SessionDeleter {
  void operator()(glmrt_session_t *s) const { glmrt_session_release(s); }
};
using SessionPtr = std::unique_ptr<glmrt_session_t, SessionDeleter>;

struct TensorDeleter {
  void operator()(glmrt_tensor_t *t) const { glmrt_tensor_release(t); }
};
using TensorPtr = std::unique_ptr<glmrt_tensor_t, TensorDeleter>;

/// Loads or fails the test.
ModelPtr load_ok(const std::string &path,
                 const glmrt_load_options_t *options = nullptr);

/// Expects `status` to have `code` and a message containing every one of
/// `parts`; frees it.
void expect_status(glmrt_status_t *status, glmrt_status_code_t code,
                   std::initializer_list<std::string> parts);

/// Expects loading `path` to fail with `code` and a message containing the
/// path and every one of `parts`.
void expect_load_fails(const std::string &path, glmrt_status_code_t code,
                       std::initializer_list<std::string> parts,
                       const glmrt_load_options_t *options = nullptr);

} // namespace glmrt_test

#define ASSERT_GLMRT_OK(expr)                                                  \
  do {                                                                         \
    ::glmrt_test::StatusPtr _st(expr);                                         \
    ASSERT_EQ(_st.get(), nullptr) << glmrt_status_message(_st.get());          \
  } while (0)

#define EXPECT_GLMRT_OK(expr)                                                  \
  do {                                                                         \
    ::glmrt_test::StatusPtr _st(expr);                                         \
    EXPECT_EQ(_st.get(), nullptr) << glmrt_status_message(_st.get());          \
  } while (0)

#endif // GLMRT_TEST_UTIL_H
