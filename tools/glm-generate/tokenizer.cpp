//===- tokenizer.cpp - Byte-level BPE from a HF tokenizer.json -------------===//
#include "tokenizer.h"

#include "json.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace glmgen {

namespace {

//--- character classes ----------------------------------------------------------

struct ClassRange {
  uint32_t first, last;
  char cls; // L letter, N/n number (a word character or not), S whitespace,
            // W other word character (\w); other code points are in none
};

const ClassRange kClasses[] = {
#include "unicode_classes.inc"
};

char class_char(uint32_t cp) {
  size_t lo = 0, hi = sizeof(kClasses) / sizeof(kClasses[0]);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < kClasses[mid].first) hi = mid;
    else if (cp > kClasses[mid].last) lo = mid + 1;
    else return kClasses[mid].cls;
  }
  return 'O';
}

enum Class { kLetter, kNumber, kSpace, kOther };

Class class_of(uint32_t cp) {
  switch (class_char(cp)) {
  case 'L': return kLetter;
  case 'N':
  case 'n': return kNumber;
  case 'S': return kSpace;
  default: return kOther;
  }
}

/// \w of the Rust regex crate (added tokens' single_word).
bool is_word(uint32_t cp) {
  char c = class_char(cp);
  return c == 'L' || c == 'N' || c == 'W';
}

//--- UTF-8 -------------------------------------------------------------------

enum class Utf8 { kChar, kInvalid, kIncomplete };

/// Looks at the sequence starting at p[0] (n > 0 bytes available): a whole
/// character of *len bytes, an invalid maximal subpart of *len bytes (one
/// U+FFFD, as Unicode's "substitution of maximal subparts" and Rust's
/// from_utf8_lossy), or a valid but incomplete start (all n bytes).
Utf8 next_utf8(const unsigned char *p, size_t n, size_t *len, uint32_t *cp) {
  unsigned char b = p[0];
  if (b < 0x80) {
    *len = 1;
    *cp = b;
    return Utf8::kChar;
  }
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
  if (b >= 0xC2 && b <= 0xDF) need = 2;
  else if (b == 0xE0) need = 3, lo = 0xA0;
  else if (b >= 0xE1 && b <= 0xEC) need = 3;
  else if (b == 0xED) need = 3, hi = 0x9F;
  else if (b >= 0xEE && b <= 0xEF) need = 3;
  else if (b == 0xF0) need = 4, lo = 0x90;
  else if (b >= 0xF1 && b <= 0xF3) need = 4;
  else if (b == 0xF4) need = 4, hi = 0x8F;
  else {
    *len = 1;
    return Utf8::kInvalid;
  }
  uint32_t value = b & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < need; ++k) {
    if (k >= n) {
      *len = n;
      return Utf8::kIncomplete;
    }
    unsigned char c = p[k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (c < l || c > h) {
      *len = k;
      return Utf8::kInvalid;
    }
    value = (value << 6) | (c & 0x3F);
  }
  *len = need;
  *cp = value;
  return Utf8::kChar;
}

const char kReplacement[] = "\xEF\xBF\xBD"; // U+FFFD

/// Lossy UTF-8 of `bytes`, as String::from_utf8_lossy.
std::string lossy_utf8(const std::string &bytes) {
  Utf8Stream stream;
  std::string out = stream.push(bytes);
  return out + stream.finish();
}

/// GPT-2's byte -> printable character table (bytes_to_unicode).
void byte_chars(uint32_t out[256]) {
  bool direct[256] = {};
  for (int b = 0x21; b <= 0x7E; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) out[b] = direct[b] ? uint32_t(b) : next++;
}

std::string read_text(const std::string &path, std::string *error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open '" + path + "': " + std::strerror(errno);
    return "";
  }
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) *error = "cannot read '" + path + "'";
  return text;
}

bool flag(const Json *object, const char *key, bool fallback) {
  const Json *v = object ? object->get(key) : nullptr;
  return v && v->is_bool() ? v->as_bool() : fallback;
}

std::string type_of(const Json &object) {
  const Json *t = object.get("type");
  return t && t->is_string() ? t->as_string() : "";
}

//--- the Split regexes glm-generate knows ----------------------------------------
//
// No regex engine: each pattern that public tokenizer.json files use is
// recognised by its exact text and matched by hand, over code points, as
// Oniguruma (HF's engine) matches it: the leftmost match, alternatives in
// order, greedy runs given back as far as a lookahead needs.

enum Pattern {
  kGpt2,         // GPT-2's (also the ByteLevel pre-tokenizer's own)
  kGpt2NoTail,   // the same without the last |\s+
  kCl100k,       // cl100k_base: GLM-4, Llama-3 (digits by threes)
  kQwen2,        // Qwen2: digits one by one
  kCl100kAscii,  // cl100k spelled with [sS] classes instead of (?i:...)
  kQwen2Ascii,   // Qwen2 spelled so
  kLiteral,      // a "String" pattern: the string itself
};

struct KnownPattern {
  Pattern pattern;
  const char *regex;
};

const KnownPattern kPatterns[] = {
    {kGpt2, R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re"},
    {kGpt2NoTail, R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"},
    {kCl100k, R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"},
    {kQwen2, R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"},
    {kCl100kAscii, R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"},
    {kQwen2Ascii, R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"},
};

/// SplitDelimiterBehavior, in HF's spelling.
const char *const kBehaviors[] = {"Removed", "Isolated", "MergedWithPrevious",
                                  "MergedWithNext", "Contiguous"};
enum Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

/// A text as code points, their classes and where each starts.
struct CodePoints {
  std::vector<uint32_t> cps;
  std::vector<Class> cls;
  std::vector<size_t> offsets; // one more than cps: the end
  size_t size() const { return cps.size(); }
};

CodePoints code_points(const std::string &text) {
  CodePoints t;
  const unsigned char *p = reinterpret_cast<const unsigned char *>(text.data());
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    uint32_t cp = 0xFFFD;
    next_utf8(p + i, text.size() - i, &len, &cp);
    t.cps.push_back(cp);
    t.cls.push_back(class_of(cp));
    t.offsets.push_back(i);
    i += len;
  }
  t.offsets.push_back(text.size());
  return t;
}

/// 's|'t|'re|'ve|'m|'ll|'d at i: the end, or i. `fold`: 0 as written, 1
/// ASCII case ([sS]), 2 Oniguruma's (?i) (which also folds U+017F, long s,
/// to s).
size_t contraction(const CodePoints &t, size_t i, int fold) {
  const size_t n = t.size();
  if (t.cps[i] != '\'' || i + 1 >= n) return i;
  auto is = [&](size_t k, char c) {
    if (k >= n) return false;
    uint32_t x = t.cps[k];
    if (x == uint32_t(c)) return true;
    if (fold == 0) return false;
    if (x == uint32_t(c - 'a' + 'A')) return true;
    return fold == 2 && c == 's' && x == 0x17F;
  };
  if (is(i + 1, 's') || is(i + 1, 't') || is(i + 1, 'm') || is(i + 1, 'd')) return i + 2;
  if ((is(i + 1, 'r') && is(i + 2, 'e')) || (is(i + 1, 'v') && is(i + 2, 'e')) ||
      (is(i + 1, 'l') && is(i + 2, 'l')))
    return i + 3;
  return i;
}

size_t run_of(const CodePoints &t, size_t from, Class c) {
  size_t j = from;
  while (j < t.size() && t.cls[j] == c) ++j;
  return j;
}

bool is_crlf(uint32_t cp) { return cp == '\r' || cp == '\n'; }

/// The end of `pattern`'s match starting at code point i, or i (none).
size_t match_at(Pattern pattern, const CodePoints &t, size_t i) {
  const size_t n = t.size();
  if (pattern == kGpt2 || pattern == kGpt2NoTail) {
    size_t end = contraction(t, i, 0);
    if (end > i) return end;
    for (Class c : {kLetter, kNumber, kOther}) { //  ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
      if (t.cps[i] == ' ' && i + 1 < n && t.cls[i + 1] == c) return run_of(t, i + 1, c);
      if (t.cls[i] == c) return run_of(t, i, c);
    }
    size_t j = run_of(t, i, kSpace);
    if (j == i) return i;
    if (j == n) return j;                   // \s+(?!\S) to the end
    if (j - i >= 2) return j - 1;           // \s+(?!\S): all but the last
    return pattern == kGpt2 ? j : i;        // \s+
  }
  // cl100k and Qwen2.
  const bool ascii = pattern == kCl100kAscii || pattern == kQwen2Ascii;
  const size_t digits = pattern == kCl100k || pattern == kCl100kAscii ? 3 : 1;
  size_t end = contraction(t, i, ascii ? 1 : 2);
  if (end > i) return end;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!is_crlf(t.cps[i]) && t.cls[i] != kLetter && t.cls[i] != kNumber && i + 1 < n &&
      t.cls[i + 1] == kLetter)
    return run_of(t, i + 1, kLetter);
  if (t.cls[i] == kLetter) return run_of(t, i, kLetter);
  // \p{N}{1,3} or \p{N}
  if (t.cls[i] == kNumber) {
    size_t j = i;
    while (j < n && j - i < digits && t.cls[j] == kNumber) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t k = t.cps[i] == ' ' && i + 1 < n && t.cls[i + 1] == kOther ? i + 1 : i;
  if (t.cls[k] == kOther) {
    size_t j = run_of(t, k, kOther);
    while (j < n && is_crlf(t.cps[j])) ++j;
    return j;
  }
  size_t j = run_of(t, i, kSpace);
  if (j == i) return i;
  // \s*[\r\n]+: \s* gives back up to the last \r or \n of the run.
  for (size_t m = j; m > i; --m)
    if (is_crlf(t.cps[m - 1])) return m;
  if (j == n) return j;         // \s+(?!\S)
  if (j - i >= 2) return j - 1; // \s+(?!\S)
  return j;                     // \s+
}

/// HF's NormalizedString::split of `text` by a pattern with a behavior:
/// the pieces it keeps, empty ones dropped (as PreTokenizedString does).
void split_text(Pattern pattern, const std::string &literal, Behavior behavior, bool invert,
                const std::string &text, std::vector<std::string> *out) {
  struct Span {
    size_t from, to; // bytes
    bool match;
  };
  std::vector<Span> spans;
  size_t prev = 0;
  if (pattern == kLiteral) {
    for (size_t at = text.find(literal); at != std::string::npos;
         at = text.find(literal, at + literal.size())) {
      if (at > prev) spans.push_back({prev, at, false});
      spans.push_back({at, at + literal.size(), true});
      prev = at + literal.size();
    }
    if (prev < text.size()) spans.push_back({prev, text.size(), false});
  } else {
    CodePoints t = code_points(text);
    size_t last = 0; // code points
    for (size_t i = 0; i < t.size();) {
      size_t end = match_at(pattern, t, i);
      if (end == i) {
        ++i;
        continue;
      }
      if (i > last) spans.push_back({t.offsets[last], t.offsets[i], false});
      spans.push_back({t.offsets[i], t.offsets[end], true});
      last = i = end;
    }
    if (last < t.size()) spans.push_back({t.offsets[last], text.size(), false});
  }
  if (invert)
    for (Span &s : spans) s.match = !s.match;

  std::vector<Span> kept; // match now means "remove"
  bool previous = false;
  switch (behavior) {
  case kRemoved:
    kept = spans;
    break;
  case kIsolated:
    for (Span s : spans) kept.push_back({s.from, s.to, false});
    break;
  case kContiguous:
    for (const Span &s : spans) {
      if (s.match == previous && !kept.empty()) kept.back().to = s.to;
      else kept.push_back({s.from, s.to, false});
      previous = s.match;
    }
    break;
  case kMergedWithPrevious:
    for (const Span &s : spans) {
      if (s.match && !previous && !kept.empty()) kept.back().to = s.to;
      else kept.push_back({s.from, s.to, false});
      previous = s.match;
    }
    break;
  case kMergedWithNext:
    for (size_t k = spans.size(); k-- > 0;) {
      const Span &s = spans[k];
      if (s.match && !previous && !kept.empty()) kept.back().from = s.from;
      else kept.push_back({s.from, s.to, false});
      previous = s.match;
    }
    std::reverse(kept.begin(), kept.end());
    break;
  }
  for (const Span &s : kept)
    if (!s.match && s.to > s.from) out->push_back(text.substr(s.from, s.to - s.from));
}

//--- added tokens' boundaries (the Rust regex crate's \w and \s) --------------------

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

uint32_t code_point_at(const std::string &text, size_t at, size_t *len) {
  uint32_t cp = 0;
  *len = 1;
  next_utf8(reinterpret_cast<const unsigned char *>(text.data()) + at, text.size() - at, len, &cp);
  return cp;
}

/// Where the code point that ends text[0, at) starts (at > 0).
size_t previous_start(const std::string &text, size_t at) {
  size_t start = at - 1;
  while (start > 0 && continuation(text[start])) --start;
  return start;
}

/// \w$ of text[0, at) and ^\w of text[at, end).
bool word_before(const std::string &text, size_t at) {
  size_t len = 0;
  return at > 0 && is_word(code_point_at(text, previous_start(text, at), &len));
}
bool word_after(const std::string &text, size_t at) {
  size_t len = 0;
  return at < text.size() && is_word(code_point_at(text, at, &len));
}

/// Where the whitespace that ends text[0, at) starts (\s*$).
size_t trailing_space_start(const std::string &text, size_t at) {
  while (at > 0) {
    size_t start = previous_start(text, at), len = 0;
    if (class_of(code_point_at(text, start, &len)) != kSpace) break;
    at = start;
  }
  return at;
}

/// Bytes of whitespace from `at` on (^\s*).
size_t leading_space_length(const std::string &text, size_t at) {
  size_t from = at;
  while (at < text.size()) {
    size_t len = 1;
    if (class_of(code_point_at(text, at, &len)) != kSpace) break;
    at += len;
  }
  return at - from;
}

} // namespace

//--- Utf8Stream ----------------------------------------------------------------

std::string Utf8Stream::push(const std::string &bytes) {
  pending_ += bytes;
  std::string out;
  const unsigned char *p = reinterpret_cast<const unsigned char *>(pending_.data());
  size_t n = pending_.size(), i = 0;
  while (i < n) {
    size_t len = 0;
    uint32_t cp = 0;
    Utf8 kind = next_utf8(p + i, n - i, &len, &cp);
    if (kind == Utf8::kIncomplete) break;
    if (kind == Utf8::kChar) out.append(pending_, i, len);
    else out += kReplacement;
    i += len;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::finish() {
  std::string out = pending_.empty() ? "" : kReplacement;
  pending_.clear();
  return out;
}

std::string check_utf8(const std::string &text) {
  const unsigned char *p = reinterpret_cast<const unsigned char *>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    size_t len = 0;
    uint32_t cp = 0;
    Utf8 kind = next_utf8(p + i, n - i, &len, &cp);
    if (kind != Utf8::kChar) {
      char buffer[96];
      std::snprintf(buffer, sizeof(buffer), "byte 0x%02X at offset %zu %s",
                    unsigned(p[i + (kind == Utf8::kInvalid ? len - 1 : 0)]),
                    i + (kind == Utf8::kInvalid ? len - 1 : 0),
                    kind == Utf8::kInvalid ? "is not valid UTF-8"
                                           : "starts an unfinished character");
      return buffer;
    }
    i += len;
  }
  return "";
}

//--- loading -----------------------------------------------------------------------

std::string Tokenizer::load(const std::string &path, Tokenizer *out) {
  std::string error;
  std::string text = read_text(path, &error);
  if (!error.empty()) return error;
  return load_from_text(text, out);
}

std::string Tokenizer::load_from_text(const std::string &text, Tokenizer *out) {
  Json root;
  std::string error = Json::parse(text, &root);
  if (!error.empty()) return "not valid JSON: " + error;
  Tokenizer t;
  error = t.load_json(root);
  if (!error.empty()) return error;
  *out = std::move(t);
  return "";
}

std::string Tokenizer::load_json(const Json &root) {
  if (!root.is_object()) return "the file is " + std::string(root.kind_name()) + ", not a tokenizer object";
  const Json *model = root.get("model");
  if (!model || !model->is_object()) return "it has no \"model\" object";
  std::string type = type_of(*model);
  if (!type.empty() && type != "BPE")
    return "model type '" + type + "' is not supported (only byte-level BPE)";
  const Json *vocab = model->get("vocab");
  const Json *merges = model->get("merges");
  if (!vocab || !vocab->is_object()) return "model.vocab is missing or not an object";
  if (!merges || !merges->is_array()) return "model.merges is missing or not an array";
  const Json *dropout = model->get("dropout");
  if (dropout && !dropout->is_null() && !(dropout->is_number() && dropout->as_double() == 0))
    return "model.dropout is set; BPE dropout is not supported";
  for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json *v = model->get(key);
    if (v && !v->is_null() && !(v->is_string() && v->as_string().empty()))
      return std::string("model.") + key + " is set; it is not supported";
  }
  if (flag(model, "byte_fallback", false)) return "model.byte_fallback is not supported";
  if (flag(model, "ignore_merges", false)) ignore_merges_ = true;
  const Json *unk = model->get("unk_token");
  std::string unk_token = unk && unk->is_string() ? unk->as_string() : "";
  fuse_unk_ = flag(model, "fuse_unk", false);

  // Normalizer, pre-tokenizer, post-processor, decoder.
  const Json *normalizer = root.get("normalizer");
  if (normalizer && !normalizer->is_null())
    return "normalizer '" + type_of(*normalizer) + "' is not supported (only none)";
  std::string error = load_pre_tokenizer(root.get("pre_tokenizer"));
  if (!error.empty()) return error;
  error = load_post_processor(root.get("post_processor"));
  if (!error.empty()) return error;
  const Json *decoder = root.get("decoder");
  if (!decoder || !decoder->is_object() || type_of(*decoder) != "ByteLevel")
    return "decoder " +
           (decoder && decoder->is_object() ? "'" + type_of(*decoder) + "'"
                                            : std::string("(none)")) +
           " is not supported (only ByteLevel)";

  // Vocabulary.
  int64_t max_id = -1;
  for (const auto &member : vocab->members()) {
    const Json &id = member.second;
    if (!id.is_integer() || id.as_int() < 0 || id.as_int() > (1 << 30))
      return "model.vocab['" + member.first + "'] is not a token id";
    vocab_[member.first] = int32_t(id.as_int());
    max_id = std::max(max_id, id.as_int());
  }
  const Json *added = root.get("added_tokens");
  if (added && !added->is_array()) return "added_tokens is not an array";
  if (added) {
    for (const Json &a : added->items()) {
      const Json *id = a.get("id");
      const Json *content = a.get("content");
      if (!id || !id->is_integer() || id->as_int() < 0 || id->as_int() > (1 << 30) ||
          !content || !content->is_string())
        return "an entry of added_tokens has no id or content";
      if (!check_utf8(content->as_string()).empty())
        return "added token " + std::to_string(id->as_int()) + " is not valid UTF-8";
      bool special = flag(&a, "special", false);
      added_.push_back({content->as_string(), int32_t(id->as_int()), special,
                        flag(&a, "lstrip", false), flag(&a, "rstrip", false),
                        flag(&a, "single_word", false), flag(&a, "normalized", !special)});
      max_id = std::max(max_id, id->as_int());
    }
  }
  id_to_token_.assign(size_t(max_id + 1), "");
  special_.assign(size_t(max_id + 1), 0);
  for (const auto &member : vocab->members())
    id_to_token_[size_t(member.second.as_int())] = member.first;
  for (const Added &a : added_) id_to_token_[size_t(a.id)] = a.content;
  // HF skips a token in decoding when its text is a special token's.
  std::unordered_map<std::string, bool> special_text;
  for (const Added &a : added_)
    if (a.special) special_text[a.content] = true;
  for (size_t id = 0; id < id_to_token_.size(); ++id)
    if (!id_to_token_[id].empty() && special_text.count(id_to_token_[id])) special_[id] = 1;
  // Longest first, so that matching takes the longest at a position.
  // (Insertion sort: stable, and the list is short.)
  for (size_t i = 1; i < added_.size(); ++i)
    for (size_t j = i; j > 0 && added_[j].content.size() > added_[j - 1].content.size(); --j)
      std::swap(added_[j], added_[j - 1]);
  unk_id_ = -1;
  if (!unk_token.empty()) {
    auto it = vocab_.find(unk_token);
    if (it == vocab_.end()) return "model.unk_token '" + unk_token + "' is not in the vocabulary";
    unk_id_ = it->second;
  }

  // Merges: "a b" or ["a", "b"].
  uint64_t rank = 0;
  for (const Json &m : merges->items()) {
    std::string left, right;
    if (m.is_string()) {
      size_t space = m.as_string().find(' ', 1);
      if (space == std::string::npos) return "merge '" + m.as_string() + "' is not 'left right'";
      left = m.as_string().substr(0, space);
      right = m.as_string().substr(space + 1);
    } else if (m.is_array() && m.items().size() == 2 && m.items()[0].is_string() &&
               m.items()[1].is_string()) {
      left = m.items()[0].as_string();
      right = m.items()[1].as_string();
    } else {
      return "merge " + std::to_string(rank) + " is neither 'left right' nor [left, right]";
    }
    auto l = vocab_.find(left), r = vocab_.find(right), merged = vocab_.find(left + right);
    if (l == vocab_.end() || r == vocab_.end() || merged == vocab_.end())
      return "merge " + std::to_string(rank) + " ('" + left + "', '" + right +
             "') names a token that is not in the vocabulary";
    uint64_t key = (uint64_t(uint32_t(l->second)) << 32) | uint32_t(r->second);
    // The first (lowest-ranked) merge of a pair wins.
    merges_.emplace(key, (rank << 32) | uint32_t(merged->second));
    ++rank;
  }

  // The byte alphabet.
  uint32_t chars[256];
  byte_chars(chars);
  for (int b = 0; b < 256; ++b) {
    std::string s;
    append_utf8(chars[b], &s);
    auto it = vocab_.find(s);
    byte_symbol_[b] = it == vocab_.end() ? -1 : it->second;
    char_to_byte_[s] = uint8_t(b);
  }
  return "";
}

std::string Tokenizer::load_pre_tokenizer(const Json *pre) {
  const char *supported =
      " (only ByteLevel, or a Sequence of Splits by a known regex and a ByteLevel)";
  if (!pre || !pre->is_object())
    return std::string("pre_tokenizer (none) is not supported") + supported;
  std::vector<const Json *> steps;
  if (type_of(*pre) == "Sequence") {
    const Json *list = pre->get("pretokenizers");
    if (!list || !list->is_array()) return "pre_tokenizer Sequence has no pretokenizers array";
    for (const Json &step : list->items()) steps.push_back(&step);
  } else {
    steps.push_back(pre);
  }
  bool byte_level = false;
  for (const Json *step : steps) {
    std::string type = step->is_object() ? type_of(*step) : "";
    if (byte_level)
      return "pre_tokenizer '" + type + "' after ByteLevel is not supported" + supported;
    PreStep p{PreStep::kByteLevel, 0, kIsolated, false, false, true};
    if (type == "ByteLevel") {
      p.add_prefix_space = flag(step, "add_prefix_space", false);
      p.use_regex = flag(step, "use_regex", true);
      byte_level = true;
    } else if (type == "Split") {
      p.kind = PreStep::kSplit;
      const Json *pattern = step->get("pattern");
      const Json *regex = pattern ? pattern->get("Regex") : nullptr;
      const Json *literal = pattern ? pattern->get("String") : nullptr;
      if (regex && regex->is_string()) {
        p.pattern = -1;
        for (const KnownPattern &k : kPatterns)
          if (regex->as_string() == k.regex) p.pattern = k.pattern;
        if (p.pattern < 0)
          return "pre_tokenizer Split regex '" + regex->as_string() +
                 "' is not supported: glm-generate has no regex engine and knows only "
                 "GPT-2's, cl100k's (GLM-4, Llama-3) and Qwen2's split, by their exact text";
      } else if (literal && literal->is_string() && !literal->as_string().empty()) {
        p.pattern = kLiteral;
        split_literals_.push_back(literal->as_string());
        p.literal = split_literals_.size() - 1;
      } else {
        return "pre_tokenizer Split has no pattern {\"Regex\": ...} or {\"String\": ...}";
      }
      const Json *behavior = step->get("behavior");
      std::string name = behavior && behavior->is_string() ? behavior->as_string() : "";
      p.behavior = -1;
      for (int b = 0; b < int(sizeof(kBehaviors) / sizeof(kBehaviors[0])); ++b)
        if (name == kBehaviors[b]) p.behavior = b;
      if (p.behavior < 0)
        return "pre_tokenizer Split behavior '" + name +
               "' is not supported (only Removed, Isolated, MergedWithPrevious, "
               "MergedWithNext, Contiguous)";
      p.invert = flag(step, "invert", false);
    } else {
      return "pre_tokenizer '" + type + "' is not supported" + supported;
    }
    pre_.push_back(p);
  }
  if (!byte_level)
    return std::string("pre_tokenizer has no ByteLevel; it is not supported") + supported;
  return "";
}

std::string Tokenizer::load_post_processor(const Json *post) {
  if (!post || post->is_null()) return "";
  const char *supported = " (only ByteLevel, TemplateProcessing or a Sequence of them)";
  if (!post->is_object()) return std::string("post_processor is not an object") + supported;
  std::vector<const Json *> steps;
  if (type_of(*post) == "Sequence") {
    const Json *list = post->get("processors");
    if (!list || !list->is_array()) return "post_processor Sequence has no processors array";
    for (const Json &step : list->items()) steps.push_back(&step);
  } else {
    steps.push_back(post);
  }
  for (const Json *step : steps) {
    std::string type = step->is_object() ? type_of(*step) : "";
    if (type == "ByteLevel") continue; // offsets only
    if (type != "TemplateProcessing")
      return "post_processor '" + type + "' is not supported" + supported;
    const Json *single = step->get("single");
    const Json *specials = step->get("special_tokens");
    if (!single || !single->is_array())
      return "post_processor TemplateProcessing has no \"single\" template";
    std::vector<int32_t> before, after;
    bool sequence = false;
    for (const Json &item : single->items()) {
      const Json *special = item.get("SpecialToken");
      const Json *seq = item.get("Sequence");
      if (special) {
        const Json *name = special->get("id");
        if (!name || !name->is_string())
          return "post_processor template: a SpecialToken has no id";
        const Json *entry = specials ? specials->get(name->as_string()) : nullptr;
        const Json *ids = entry ? entry->get("ids") : nullptr;
        if (!ids || !ids->is_array())
          return "post_processor template: special token '" + name->as_string() +
                 "' is not in its special_tokens (with ids)";
        for (const Json &id : ids->items()) {
          if (!id.is_integer() || id.as_int() < 0 || id.as_int() > (1 << 30))
            return "post_processor special token '" + name->as_string() +
                   "' has an id that is not a token id";
          (sequence ? after : before).push_back(int32_t(id.as_int()));
        }
      } else if (seq) {
        const Json *which = seq->get("id");
        std::string name = which && which->is_string() ? which->as_string() : "";
        if (name != "A" || sequence)
          return "post_processor template for one sequence has sequence '" + name +
                 "'; only one sequence A is supported";
        sequence = true;
      } else {
        return "post_processor template has an item that is neither SpecialToken nor Sequence";
      }
    }
    if (!sequence) return "post_processor template for one sequence has no sequence A";
    // A later processor wraps what the earlier ones gave.
    prefix_.insert(prefix_.begin(), before.begin(), before.end());
    suffix_.insert(suffix_.end(), after.begin(), after.end());
  }
  return "";
}

//--- encoding ------------------------------------------------------------------------

void Tokenizer::bpe(const std::vector<int32_t> &initial, std::vector<int32_t> *ids) const {
  std::vector<int32_t> symbols = initial;
  while (symbols.size() > 1) {
    uint64_t best = std::numeric_limits<uint64_t>::max();
    size_t at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      uint64_t key = (uint64_t(uint32_t(symbols[i])) << 32) | uint32_t(symbols[i + 1]);
      auto it = merges_.find(key);
      if (it != merges_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == std::numeric_limits<uint64_t>::max()) break;
    symbols[at] = int32_t(uint32_t(best & 0xFFFFFFFFu));
    symbols.erase(symbols.begin() + long(at) + 1);
  }
  ids->insert(ids->end(), symbols.begin(), symbols.end());
}

void Tokenizer::pre_tokenize(const std::string &text,
                             std::vector<std::string> *pieces) const {
  pieces->assign(1, text);
  std::vector<std::string> next;
  for (const PreStep &step : pre_) {
    next.clear();
    for (const std::string &piece : *pieces) {
      if (step.kind == PreStep::kSplit) {
        split_text(Pattern(step.pattern),
                   step.pattern == kLiteral ? split_literals_[step.literal] : std::string(),
                   Behavior(step.behavior), step.invert, piece, &next);
        continue;
      }
      // ByteLevel: the prefix space on each piece, GPT-2's split; the bytes
      // are mapped in encode_segment.
      std::string p = piece;
      if (step.add_prefix_space && p[0] != ' ') p.insert(0, " ");
      if (step.use_regex) split_text(kGpt2, "", kIsolated, false, p, &next);
      else next.push_back(p);
    }
    pieces->swap(next);
  }
}

void Tokenizer::encode_segment(const std::string &segment, std::vector<int32_t> *ids) const {
  if (segment.empty()) return;
  std::vector<std::string> pieces;
  pre_tokenize(segment, &pieces);
  for (const std::string &piece : pieces) {
    std::vector<int32_t> symbols;
    bool last_unk = false;
    for (char byte : piece) {
      int32_t id = byte_symbol_[static_cast<unsigned char>(byte)];
      if (id >= 0) {
        symbols.push_back(id);
        last_unk = false;
      } else if (unk_id_ >= 0) {
        if (!(fuse_unk_ && last_unk)) symbols.push_back(unk_id_);
        last_unk = true;
      }
    }
    if (ignore_merges_) {
      std::string word;
      for (int32_t id : symbols) word += id_to_token_[size_t(id)];
      auto it = vocab_.find(word);
      if (it != vocab_.end()) {
        ids->push_back(it->second);
        continue;
      }
    }
    bpe(symbols, ids);
  }
}

void Tokenizer::find_added(const std::string &text, bool normalized,
                           std::vector<Piece> *out) const {
  // HF's AddedVocabulary::find_matches: leftmost longest (Aho-Corasick),
  // the search going on after each match's own end.
  size_t start_offset = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Added *match = nullptr;
    for (const Added &a : added_) { // longest first
      if (a.normalized == normalized && !a.content.empty() &&
          text.compare(pos, a.content.size(), a.content) == 0) {
        match = &a;
        break;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + match->content.size();
    pos = stop;
    if (match->single_word && (word_before(text, start) || word_after(text, stop)))
      continue; // not a word of its own
    if (match->lstrip) start = std::max(trailing_space_start(text, start), start_offset);
    if (match->rstrip) stop += leading_space_length(text, stop);
    if (start_offset < start) out->push_back({start_offset, start, -1});
    out->push_back({start, stop, match->id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out->push_back({start_offset, text.size(), -1});
}

std::string Tokenizer::encode(const std::string &text, std::vector<int32_t> *ids,
                              bool add_special) const {
  std::string error = check_utf8(text);
  if (!error.empty()) return "the text is not valid UTF-8: " + error;
  ids->clear();
  // Added tokens that match the raw text first, then those that match the
  // normalized text (with no normalizer, the same) in what is left.
  std::vector<Piece> raw, normalized;
  find_added(text, false, &raw);
  for (const Piece &r : raw) {
    if (r.id >= 0) {
      ids->push_back(r.id);
      continue;
    }
    std::string part = text.substr(r.from, r.to - r.from);
    normalized.clear();
    find_added(part, true, &normalized);
    for (const Piece &p : normalized) {
      if (p.id >= 0) ids->push_back(p.id);
      else encode_segment(part.substr(p.from, p.to - p.from), ids);
    }
  }
  if (add_special) {
    ids->insert(ids->begin(), prefix_.begin(), prefix_.end());
    ids->insert(ids->end(), suffix_.begin(), suffix_.end());
  }
  return "";
}

//--- decoding --------------------------------------------------------------------------

std::string Tokenizer::token_bytes(int32_t id, bool skip_special) const {
  if (id < 0 || size_t(id) >= id_to_token_.size()) return "";
  if (skip_special && special_[size_t(id)]) return "";
  const std::string &token = id_to_token_[size_t(id)];
  // Each character back to its byte; a token with a character outside the
  // byte alphabet is taken as it is (HF's ByteLevel decoder).
  std::string bytes;
  const unsigned char *p = reinterpret_cast<const unsigned char *>(token.data());
  for (size_t i = 0; i < token.size();) {
    size_t len = 1;
    uint32_t cp = 0;
    next_utf8(p + i, token.size() - i, &len, &cp);
    auto it = char_to_byte_.find(token.substr(i, len));
    if (it == char_to_byte_.end()) return token;
    bytes.push_back(char(it->second));
    i += len;
  }
  return bytes;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids, bool skip_special) const {
  std::string bytes;
  for (int32_t id : ids) bytes += token_bytes(id, skip_special);
  return lossy_utf8(bytes);
}

int32_t Tokenizer::token_to_id(const std::string &token) const {
  for (const Added &a : added_)
    if (a.content == token) return a.id;
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::vector<int32_t> Tokenizer::default_stop_ids() const {
  std::vector<int32_t> ids;
  for (const char *name : {"<|endoftext|>", "<|user|>", "<|observation|>", "<|eot_id|>",
                           "<|end_of_text|>", "<|im_end|>"}) {
    int32_t id = token_to_id(name);
    if (id >= 0 && (is_special(id) || ids.empty()) &&
        std::find(ids.begin(), ids.end(), id) == ids.end())
      ids.push_back(id);
  }
  return ids;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < special_.size() && special_[size_t(id)];
}

} // namespace glmgen
