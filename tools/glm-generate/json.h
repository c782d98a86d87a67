//===- json.h - A small JSON reader for tokenizer.json ---------------------===//
//
// Reads RFC 8259 JSON into a tree: objects keep their members in file order,
// strings are UTF-8 (\u escapes and surrogate pairs decoded), numbers keep
// their double value and, when they are integers that fit, their exact
// int64 value. No exceptions: parse() returns an error text with the line
// and column. Nesting deeper than 256 levels is refused (no stack overflow on
// hostile files).
//
//===----------------------------------------------------------------------===//
#ifndef GLM_GENERATE_JSON_H
#define GLM_GENERATE_JSON_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace glmgen {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }
  /// A number that is an integer within int64 range.
  bool is_integer() const { return kind_ == Kind::Number && integral_; }

  bool as_bool() const { return bool_; }
  double as_double() const { return number_; }
  int64_t as_int() const { return integer_; }
  const std::string &as_string() const { return string_; }
  /// Array elements.
  const std::vector<Json> &items() const { return items_; }
  /// Object members, in file order.
  const std::vector<std::pair<std::string, Json>> &members() const {
    return members_;
  }
  /// The member named `key` (the last one if repeated), or nullptr; nullptr
  /// for a non-object too.
  const Json *get(const std::string &key) const;

  /// "null", "a string", "an object", ... (for error messages).
  const char *kind_name() const;

  /// Parses `text`; on error returns "line L, column C: what" and leaves
  /// *out unspecified; "" on success.
  static std::string parse(const std::string &text, Json *out);

private:
  friend class JsonParser;
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  bool integral_ = false;
  double number_ = 0;
  int64_t integer_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

/// Appends the UTF-8 encoding of code point `cp` (<= 0x10FFFF) to *out.
void append_utf8(uint32_t cp, std::string *out);

/// `s` as a JSON string literal, quotes included (non-ASCII as UTF-8).
std::string json_quote(const std::string &s);

} // namespace glmgen

#endif // GLM_GENERATE_JSON_H
