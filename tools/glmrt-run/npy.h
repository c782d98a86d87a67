//===- npy.h - NumPy .npy files: read and write ----------------------------===//
//
// A small, dependency-free reader and writer for the NumPy .npy format
// (versions 1.0, 2.0 and 3.0), limited to what model inputs and outputs need:
// little-endian (or byte-order-free) numeric and bool dtypes in C order.
// Errors are returned as text (empty means success); nothing throws, so it
// builds with -fno-exceptions. Malformed files give an error, never a crash.
//
//===----------------------------------------------------------------------===//
#ifndef GLMC_TOOLS_GLMRT_RUN_NPY_H
#define GLMC_TOOLS_GLMRT_RUN_NPY_H

#include <glmrt/glmrt.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace npy {

/// Data from a .npy file: dense, C order, little-endian, 64-byte aligned.
struct Array {
  glmrt_dtype_t dtype = GLMRT_DTYPE_INVALID;
  /// The descr string as written in the file, e.g. "<f4".
  std::string descr;
  std::vector<int64_t> shape;
  size_t byte_size = 0;

  const void *data() const { return data_.get(); }
  void *data() { return data_.get(); }
  int64_t element_count() const;

  /// Allocates byte_size bytes (at least one) of 64-byte aligned storage.
  bool allocate(size_t bytes);

private:
  struct Free {
    void operator()(void *p) const;
  };
  std::unique_ptr<void, Free> data_;
};

/// The dtype a descr string denotes ("<f4" -> F32, "|b1" -> BOOL); sets
/// *error and returns GLMRT_DTYPE_INVALID for unsupported ones.
glmrt_dtype_t dtype_from_descr(const std::string &descr, std::string *error);

/// The descr this writer uses for a dtype ("<f4"); bf16 is written as its
/// bit pattern, "<u2", since NumPy has no bfloat16. NULL for invalid dtypes.
const char *descr_for(glmrt_dtype_t dtype);

/// Parses a whole .npy image. Returns "" or an error.
std::string parse(const unsigned char *bytes, size_t size, Array *out);

/// Reads a .npy file. Returns "" or an error that names the file.
std::string read(const std::string &path, Array *out);

/// Serialises an array as .npy version 1.0 (2.0 if the header needs it).
std::string serialize(glmrt_dtype_t dtype, const int64_t *shape, size_t rank,
                      const void *data, size_t byte_size,
                      std::vector<unsigned char> *out);

/// Writes an array to a .npy file. Returns "" or an error naming the file.
std::string write(const std::string &path, glmrt_dtype_t dtype,
                  const int64_t *shape, size_t rank, const void *data,
                  size_t byte_size);

} // namespace npy

#endif // GLMC_TOOLS_GLMRT_RUN_NPY_H
