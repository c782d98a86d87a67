//===- json.cpp - A small JSON reader for tokenizer.json -------------------===//
#include "json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace glmgen {

namespace {
constexpr int kMaxDepth = 256;
} // namespace

void append_utf8(uint32_t cp, std::string *out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string json_quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    default:
      if (c < 0x20 || c == 0x7F) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        out += buffer;
      } else {
        out.push_back(char(c));
      }
    }
  }
  return out + "\"";
}

const Json *Json::get(const std::string &key) const {
  if (kind_ != Kind::Object) return nullptr;
  for (size_t i = members_.size(); i-- > 0;)
    if (members_[i].first == key) return &members_[i].second;
  return nullptr;
}

const char *Json::kind_name() const {
  switch (kind_) {
  case Kind::Null: return "null";
  case Kind::Bool: return "a boolean";
  case Kind::Number: return "a number";
  case Kind::String: return "a string";
  case Kind::Array: return "an array";
  case Kind::Object: return "an object";
  }
  return "?";
}

class JsonParser {
public:
  explicit JsonParser(const std::string &text) : text_(text) {}

  std::string parse(Json *out) {
    skip_space();
    if (!value(out, 0)) return where() + error_;
    skip_space();
    if (pos_ != text_.size()) return where() + "unexpected text after the value";
    return "";
  }

private:
  const std::string &text_;
  size_t pos_ = 0;
  std::string error_;

  std::string where() const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return "line " + std::to_string(line) + ", column " +
           std::to_string(column) + ": ";
  }

  bool fail(const std::string &message) {
    error_ = message;
    return false;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool literal(const char *word) {
    size_t n = std::strlen(word);
    if (text_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  bool value(Json *out, int depth) {
    if (depth > kMaxDepth)
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (at_end()) return fail("unexpected end of the file, a value was expected");
    char c = peek();
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out->kind_ = Json::Kind::String;
      return string(&out->string_);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    if (literal("true")) {
      out->kind_ = Json::Kind::Bool;
      out->bool_ = true;
      return true;
    }
    if (literal("false")) {
      out->kind_ = Json::Kind::Bool;
      out->bool_ = false;
      return true;
    }
    if (literal("null")) {
      out->kind_ = Json::Kind::Null;
      return true;
    }
    return fail(std::string("unexpected character '") + c + "'");
  }

  bool object(Json *out, int depth) {
    out->kind_ = Json::Kind::Object;
    ++pos_; // '{'
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      if (peek() != '"') return fail("an object key (a string) was expected");
      std::string key;
      if (!string(&key)) return false;
      skip_space();
      if (peek() != ':') return fail("':' was expected after an object key");
      ++pos_;
      skip_space();
      out->members_.emplace_back(std::move(key), Json());
      if (!value(&out->members_.back().second, depth + 1)) return false;
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("',' or '}' was expected in an object");
    }
  }

  bool array(Json *out, int depth) {
    out->kind_ = Json::Kind::Array;
    ++pos_; // '['
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      out->items_.emplace_back();
      if (!value(&out->items_.back(), depth + 1)) return false;
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("',' or ']' was expected in an array");
    }
  }

  bool hex4(uint32_t *out) {
    if (pos_ + 4 > text_.size()) return fail("a \\u escape needs four hex digits");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_ + size_t(i)];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else return fail("a \\u escape needs four hex digits");
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  bool string(std::string *out) {
    ++pos_; // '"'
    for (;;) {
      if (at_end()) return fail("a string is not closed");
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("a control character inside a string");
      if (c != '\\') {
        out->push_back(char(c));
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) return fail("a string is not closed");
      char e = text_[pos_++];
      switch (e) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(&cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          if (text_.compare(pos_, 2, "\\u") != 0)
            return fail("a high surrogate \\u escape without its low half");
          pos_ += 2;
          if (!hex4(&low)) return false;
          if (low < 0xDC00 || low > 0xDFFF)
            return fail("a high surrogate \\u escape without its low half");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail("a lone low surrogate \\u escape");
        }
        append_utf8(cp, out);
        break;
      }
      default:
        return fail(std::string("unknown escape '\\") + e + "'");
      }
    }
  }

  bool number(Json *out) {
    size_t start = pos_;
    bool integral = true;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++pos_;
    } else {
      return fail("a digit was expected in a number");
    }
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) return fail("a digit was expected after '.'");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) return fail("a digit was expected in an exponent");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    std::string digits = text_.substr(start, pos_ - start);
    out->kind_ = Json::Kind::Number;
    out->number_ = std::strtod(digits.c_str(), nullptr);
    if (integral) {
      errno = 0;
      long long v = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == 0) {
        out->integral_ = true;
        out->integer_ = v;
      }
    }
    return true;
  }
};

std::string Json::parse(const std::string &text, Json *out) {
  *out = Json();
  JsonParser parser(text);
  return parser.parse(out);
}

} // namespace glmgen
