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

//--- character classes of the GPT-2 split -----------------------------------

struct ClassRange {
  uint32_t first, last;
  char cls; // 'L' letter, 'N' number, 'S' whitespace
};

const ClassRange kClasses[] = {
#include "unicode_classes.inc"
};

enum Class { kLetter, kNumber, kSpace, kOther };

Class class_of(uint32_t cp) {
  size_t lo = 0, hi = sizeof(kClasses) / sizeof(kClasses[0]);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < kClasses[mid].first) hi = mid;
    else if (cp > kClasses[mid].last) lo = mid + 1;
    else
      return kClasses[mid].cls == 'L'   ? kLetter
             : kClasses[mid].cls == 'N' ? kNumber
                                        : kSpace;
  }
  return kOther;
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
  const Json *pre = root.get("pre_tokenizer");
  if (pre && pre->is_object() && type_of(*pre) == "Sequence") {
    const Json *list = pre->get("pretokenizers");
    if (list && list->is_array() && list->items().size() == 1) pre = &list->items()[0];
  }
  if (!pre || !pre->is_object() || type_of(*pre) != "ByteLevel")
    return "pre_tokenizer " +
           (pre && pre->is_object() ? "'" + type_of(*pre) + "'" : std::string("(none)")) +
           " is not supported (only ByteLevel)";
  add_prefix_space_ = flag(pre, "add_prefix_space", false);
  use_regex_ = flag(pre, "use_regex", true);
  const Json *post = root.get("post_processor");
  if (post && !post->is_null() && !(post->is_object() && type_of(*post) == "ByteLevel"))
    return "post_processor '" + (post->is_object() ? type_of(*post) : std::string("?")) +
           "' is not supported (only none or ByteLevel)";
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
      for (const char *key : {"lstrip", "rstrip", "single_word"})
        if (flag(&a, key, false))
          return "added token '" + content->as_string() + "' has " + key +
                 " set; it is not supported";
      if (!check_utf8(content->as_string()).empty())
        return "added token " + std::to_string(id->as_int()) + " is not valid UTF-8";
      added_.push_back({content->as_string(), int32_t(id->as_int()),
                        flag(&a, "special", false)});
      max_id = std::max(max_id, id->as_int());
    }
  }
  id_to_token_.assign(size_t(max_id + 1), "");
  special_.assign(size_t(max_id + 1), 0);
  for (const auto &member : vocab->members())
    id_to_token_[size_t(member.second.as_int())] = member.first;
  for (const Added &a : added_) {
    id_to_token_[size_t(a.id)] = a.content;
    if (a.special) special_[size_t(a.id)] = 1;
  }
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

void Tokenizer::encode_segment(const std::string &segment, std::vector<int32_t> *ids) const {
  std::string text = segment;
  if (add_prefix_space_ && (text.empty() || text[0] != ' ')) text.insert(0, " ");
  if (text.empty()) return;

  // Code points and where each starts (the text is valid UTF-8).
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;
  const unsigned char *p = reinterpret_cast<const unsigned char *>(text.data());
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    uint32_t cp = 0xFFFD;
    next_utf8(p + i, text.size() - i, &len, &cp);
    cps.push_back(cp);
    offsets.push_back(i);
    i += len;
  }
  offsets.push_back(text.size());
  const size_t n = cps.size();

  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  std::vector<std::pair<size_t, size_t>> pieces; // code point ranges
  if (!use_regex_) {
    pieces.emplace_back(0, n);
  } else {
    auto run = [&](size_t from, Class c) {
      size_t j = from;
      while (j < n && class_of(cps[j]) == c) ++j;
      return j;
    };
    size_t i = 0;
    while (i < n) {
      size_t end = i;
      if (cps[i] == '\'' && i + 1 < n) {
        uint32_t a = cps[i + 1], b = i + 2 < n ? cps[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') end = i + 2;
        else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
          end = i + 3;
      }
      if (end == i) {
        Class here = class_of(cps[i]);
        Class after = i + 1 < n ? class_of(cps[i + 1]) : kSpace;
        for (Class c : {kLetter, kNumber, kOther}) {
          if (cps[i] == ' ' && i + 1 < n && after == c) {
            end = run(i + 1, c);
            break;
          }
          if (here == c) {
            end = run(i, c);
            break;
          }
        }
      }
      if (end == i) { // whitespace
        size_t j = run(i, kSpace);
        end = (j < n && j - i >= 2) ? j - 1 : j; // \s+(?!\S), else \s+
      }
      pieces.emplace_back(i, end);
      i = end;
    }
  }

  for (const auto &piece : pieces) {
    size_t from = offsets[piece.first], to = offsets[piece.second];
    std::vector<int32_t> symbols;
    bool last_unk = false;
    for (size_t b = from; b < to; ++b) {
      int32_t id = byte_symbol_[static_cast<unsigned char>(text[b])];
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

std::string Tokenizer::encode(const std::string &text, std::vector<int32_t> *ids) const {
  std::string error = check_utf8(text);
  if (!error.empty()) return "the text is not valid UTF-8: " + error;
  ids->clear();
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const Added *match = nullptr;
    for (const Added &a : added_) { // longest first
      if (!a.content.empty() && text.compare(i, a.content.size(), a.content) == 0) {
        match = &a;
        break;
      }
    }
    if (!match) {
      ++i;
      continue;
    }
    encode_segment(text.substr(start, i - start), ids);
    ids->push_back(match->id);
    i += match->content.size();
    start = i;
  }
  encode_segment(text.substr(start), ids);
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

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < special_.size() && special_[size_t(id)];
}

} // namespace glmgen
