//===- npy.cpp - NumPy .npy files: read and write --------------------------===//
//
// Format (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor
// version byte, the header length (uint16 little-endian for 1.0, uint32 for
// 2.0 and 3.0), then a Python dict literal with the keys 'descr',
// 'fortran_order' and 'shape', padded with spaces and ending in '\n' so that
// the data starts on a 64-byte boundary. The data follows, C order.
//
//===----------------------------------------------------------------------===//
#include "npy.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npy {

namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
/// Headers longer than this are refused (NumPy itself caps them at 10000
/// bytes by default).
constexpr size_t kMaxHeader = 1 << 20;

struct DescrEntry {
  const char *code; // without the byte-order character
  glmrt_dtype_t dtype;
};

constexpr DescrEntry kDescrs[] = {
    {"f4", GLMRT_DTYPE_F32}, {"f2", GLMRT_DTYPE_F16}, {"f8", GLMRT_DTYPE_F64},
    {"i1", GLMRT_DTYPE_I8},  {"u1", GLMRT_DTYPE_U8},  {"i2", GLMRT_DTYPE_I16},
    {"u2", GLMRT_DTYPE_U16}, {"i4", GLMRT_DTYPE_I32}, {"u4", GLMRT_DTYPE_U32},
    {"i8", GLMRT_DTYPE_I64}, {"u8", GLMRT_DTYPE_U64}, {"b1", GLMRT_DTYPE_BOOL},
};

/// A minimal parser for the header's Python dict literal.
class HeaderParser {
public:
  HeaderParser(const char *text, size_t size) : p_(text), end_(text + size) {}

  std::string parse(std::string *descr, bool *fortran, std::vector<int64_t> *shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_space();
    if (!eat('{')) return "header is not a dict";
    for (;;) {
      skip_space();
      if (eat('}')) break;
      std::string key;
      if (!string_literal(&key)) return "header has a malformed key";
      skip_space();
      if (!eat(':')) return "header lacks ':' after '" + key + "'";
      skip_space();
      if (key == "descr") {
        if (!string_literal(descr)) return "'descr' is not a string";
        have_descr = true;
      } else if (key == "fortran_order") {
        if (word("True")) *fortran = true;
        else if (word("False")) *fortran = false;
        else return "'fortran_order' is not True or False";
        have_fortran = true;
      } else if (key == "shape") {
        std::string error = tuple(shape);
        if (!error.empty()) return error;
        have_shape = true;
      } else {
        return "header has an unknown key '" + key + "'";
      }
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat('}')) break;
      return "header dict is malformed after '" + key + "'";
    }
    skip_space();
    if (p_ != end_) return "header has text after the dict";
    if (!have_descr) return "header lacks 'descr'";
    if (!have_fortran) return "header lacks 'fortran_order'";
    if (!have_shape) return "header lacks 'shape'";
    return "";
  }

private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
      ++p_;
  }
  bool eat(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool word(const char *w) {
    size_t n = std::strlen(w);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  bool string_literal(std::string *out) {
    if (p_ >= end_ || (*p_ != '\'' && *p_ != '"')) return false;
    char quote = *p_++;
    out->clear();
    while (p_ < end_ && *p_ != quote) {
      if (*p_ == '\\') return false; // never needed by valid headers
      out->push_back(*p_++);
    }
    return eat(quote);
  }
  std::string tuple(std::vector<int64_t> *out) {
    out->clear();
    if (!eat('(')) return "'shape' is not a tuple";
    for (;;) {
      skip_space();
      if (eat(')')) return "";
      if (p_ >= end_ || *p_ < '0' || *p_ > '9')
        return "'shape' holds something other than non-negative integers";
      int64_t value = 0;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        int digit = *p_++ - '0';
        if (value > (INT64_MAX - digit) / 10) return "'shape' has a dim too large";
        value = value * 10 + digit;
      }
      if (p_ < end_ && *p_ == 'L') ++p_; // Python 2 longs
      out->push_back(value);
      if (out->size() > GLMRT_MAX_RANK)
        return "'shape' has more than " + std::to_string(GLMRT_MAX_RANK) + " dims";
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat(')')) return "";
      return "'shape' is malformed";
    }
  }

  const char *p_;
  const char *end_;
};

std::string errno_text(int err) {
  char buffer[128];
  // GNU strerror_r may return a static string instead of filling buffer.
  const char *text = strerror_r(err, buffer, sizeof(buffer));
  return text ? text : "unknown error";
}

} // namespace

void Array::Free::operator()(void *p) const { std::free(p); }

bool Array::allocate(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded < bytes) return false;
  data_.reset(std::aligned_alloc(64, rounded ? rounded : 64));
  byte_size = bytes;
  return data_ != nullptr;
}

int64_t Array::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

glmrt_dtype_t dtype_from_descr(const std::string &descr, std::string *error) {
  if (descr.size() != 3) {
    *error = "unsupported dtype '" + descr + "'";
    return GLMRT_DTYPE_INVALID;
  }
  char order = descr[0];
  std::string code = descr.substr(1);
  for (const DescrEntry &e : kDescrs) {
    if (code != e.code) continue;
    bool one_byte = glmrt_dtype_size(e.dtype) == 1;
    if (order == '<' || order == '|' || order == '=' || (order == '>' && one_byte))
      return e.dtype;
    if (order == '>') {
      *error = "big-endian dtype '" + descr + "' is not supported (save the "
               "array as little-endian, e.g. a.astype('<" + code + "'))";
      return GLMRT_DTYPE_INVALID;
    }
  }
  if (descr == "|V2" || descr == "<V2") {
    // ml_dtypes' bfloat16 arrays save as raw 2-byte voids.
    return GLMRT_DTYPE_U16;
  }
  if (descr == "|V1" || descr == "<V1") {
    // ml_dtypes' float8, float4, int4 and uint4 arrays: raw bytes.
    return GLMRT_DTYPE_U8;
  }
  *error = "unsupported dtype '" + descr +
           "' (supported: f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1)";
  return GLMRT_DTYPE_INVALID;
}

const char *descr_for(glmrt_dtype_t dtype) {
  switch (dtype) {
  case GLMRT_DTYPE_F32: return "<f4";
  case GLMRT_DTYPE_F16: return "<f2";
  case GLMRT_DTYPE_BF16: return "<u2";
  case GLMRT_DTYPE_F64: return "<f8";
  case GLMRT_DTYPE_I8: return "|i1";
  case GLMRT_DTYPE_U8: return "|u1";
  case GLMRT_DTYPE_I16: return "<i2";
  case GLMRT_DTYPE_U16: return "<u2";
  case GLMRT_DTYPE_I32: return "<i4";
  case GLMRT_DTYPE_U32: return "<u4";
  case GLMRT_DTYPE_I64: return "<i8";
  case GLMRT_DTYPE_U64: return "<u8";
  case GLMRT_DTYPE_BOOL: return "|b1";
  // 8- and 4-bit types: float8/float4 bit patterns and uint4 values as
  // uint8, int4 values as int8 (glmrt-run widens them).
  case GLMRT_DTYPE_F8E4M3FN:
  case GLMRT_DTYPE_F8E4M3FNUZ:
  case GLMRT_DTYPE_F8E5M2:
  case GLMRT_DTYPE_F8E5M2FNUZ:
  case GLMRT_DTYPE_F4E2M1FN:
  case GLMRT_DTYPE_U4: return "|u1";
  case GLMRT_DTYPE_I4: return "|i1";
  case GLMRT_DTYPE_INVALID: break;
  }
  return nullptr;
}

std::string parse(const unsigned char *bytes, size_t size, Array *out) {
  if (size < 10 || std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0)
    return "not a .npy file (bad magic)";
  unsigned major = bytes[6], minor = bytes[7];
  size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return "truncated .npy header";
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8 |
                 size_t(bytes[10]) << 16 | size_t(bytes[11]) << 24;
    prefix = 12;
  } else {
    return "unsupported .npy version " + std::to_string(major) + "." +
           std::to_string(minor);
  }
  if (header_len > kMaxHeader) return "the .npy header is implausibly long";
  if (header_len > size - prefix)
    return "truncated .npy header (" + std::to_string(header_len) +
           " bytes announced, " + std::to_string(size - prefix) + " present)";

  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  HeaderParser parser(reinterpret_cast<const char *>(bytes + prefix), header_len);
  std::string error = parser.parse(&descr, &fortran, &shape);
  if (!error.empty()) return "malformed .npy header: " + error;
  std::string dtype_error;
  glmrt_dtype_t dtype = dtype_from_descr(descr, &dtype_error);
  if (dtype == GLMRT_DTYPE_INVALID) return dtype_error;
  // Fortran order only matters for arrays with two or more dims > 1.
  int non_trivial = 0;
  for (int64_t d : shape) non_trivial += d > 1;
  if (fortran && non_trivial > 1)
    return "Fortran-order arrays are not supported (save with "
           "np.ascontiguousarray)";

  size_t elem = glmrt_dtype_size(dtype);
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d != 0 && count > UINT64_MAX / uint64_t(d))
      return "shape is too large";
    count *= uint64_t(d);
  }
  if (count > SIZE_MAX / elem) return "shape is too large";
  size_t need = size_t(count) * elem;
  size_t have = size - prefix - header_len;
  if (have < need)
    return "truncated data: the shape needs " + std::to_string(need) +
           " bytes, the file has " + std::to_string(have);
  if (have > need)
    return "the file has " + std::to_string(have - need) +
           " bytes after the array data";

  Array result;
  result.dtype = dtype;
  result.descr = descr;
  result.shape = shape;
  if (!result.allocate(need)) return "out of memory";
  if (need) std::memcpy(result.data(), bytes + prefix + header_len, need);
  *out = std::move(result);
  return "";
}

std::string read(const std::string &path, Array *out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return path + ": " + errno_text(errno);
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return path + ": read error";
  std::string error = parse(bytes.data(), bytes.size(), out);
  if (!error.empty()) return path + ": " + error;
  return "";
}

std::string serialize(glmrt_dtype_t dtype, const int64_t *shape, size_t rank,
                      const void *data, size_t byte_size,
                      std::vector<unsigned char> *out) {
  const char *descr = descr_for(dtype);
  if (!descr) return "cannot write dtype " + std::string(glmrt_dtype_name(dtype));
  std::string dict = "{'descr': '" + std::string(descr) +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < rank; ++i) {
    dict += std::to_string(shape[i]);
    if (i + 1 < rank || rank == 1) dict += ",";
    if (i + 1 < rank) dict += " ";
  }
  dict += "), }";
  // Pad with spaces and a final '\n' so that the data is 64-byte aligned.
  bool v2 = dict.size() + 1 + 10 > 65535;
  size_t prefix = v2 ? 12 : 10;
  size_t total = prefix + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';

  out->clear();
  out->reserve(padded + byte_size);
  out->insert(out->end(), kMagic, kMagic + sizeof(kMagic));
  out->push_back(v2 ? 2 : 1);
  out->push_back(0);
  size_t len = dict.size();
  out->push_back(static_cast<unsigned char>(len & 0xff));
  out->push_back(static_cast<unsigned char>((len >> 8) & 0xff));
  if (v2) {
    out->push_back(static_cast<unsigned char>((len >> 16) & 0xff));
    out->push_back(static_cast<unsigned char>((len >> 24) & 0xff));
  }
  out->insert(out->end(), dict.begin(), dict.end());
  const unsigned char *bytes = static_cast<const unsigned char *>(data);
  if (byte_size) out->insert(out->end(), bytes, bytes + byte_size);
  return "";
}

std::string write(const std::string &path, glmrt_dtype_t dtype,
                  const int64_t *shape, size_t rank, const void *data,
                  size_t byte_size) {
  std::vector<unsigned char> bytes;
  std::string error = serialize(dtype, shape, rank, data, byte_size, &bytes);
  if (!error.empty()) return path + ": " + error;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) return path + ": " + errno_text(errno);
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return path + ": write error";
  return "";
}

} // namespace npy
