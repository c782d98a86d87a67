//===- tokenizer.h - Byte-level BPE from a HF tokenizer.json ---------------===//
//
// Encodes and decodes exactly as HF `tokenizers` does for the GPT-2 family
// of tokenizers (tiny-glm's): a "BPE" model with byte-level symbols, the
// "ByteLevel" pre-tokenizer (GPT-2's split of letters, numbers, other
// symbols and whitespace, then bytes mapped to printable characters), the
// "ByteLevel" decoder, no normalizer, and added tokens (e.g.
// <|endoftext|>) matched in the text before the split, longest first.
//
// The split's character classes (\p{L}, \p{N}, \s) come from
// unicode_classes.inc, read off `tokenizers` itself by
// gen_unicode_classes.py. Anything else in the file (another model type,
// normalizer, pre-tokenizer or decoder; BPE dropout; a byte fallback) is
// refused at load with the field named, rather than tokenized differently.
//
//===----------------------------------------------------------------------===//
#ifndef GLM_GENERATE_TOKENIZER_H
#define GLM_GENERATE_TOKENIZER_H

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace glmgen {

class Tokenizer {
public:
  /// Reads a tokenizer.json; returns "" or what is wrong with it.
  static std::string load(const std::string &path, Tokenizer *out);
  /// The same from the file's text.
  static std::string load_from_text(const std::string &json, Tokenizer *out);

  /// Token ids of `text` (UTF-8); returns "" or why not (text that is not
  /// valid UTF-8).
  std::string encode(const std::string &text, std::vector<int32_t> *ids) const;

  /// The text of `ids`, as HF decode(ids, skip_special_tokens): bytes that
  /// are not valid UTF-8 become U+FFFD. Unknown ids are skipped.
  std::string decode(const std::vector<int32_t> &ids,
                     bool skip_special = true) const;

  /// The bytes token `id` stands for (possibly part of a UTF-8 character);
  /// "" for an unknown id or, with skip_special, a special token.
  std::string token_bytes(int32_t id, bool skip_special = true) const;

  /// The id of a token's string form (vocab or added token), or -1.
  int32_t token_to_id(const std::string &token) const;
  /// Ids are in [0, vocab_size()).
  size_t vocab_size() const { return id_to_token_.size(); }
  bool is_special(int32_t id) const;

private:
  struct Added {
    std::string content;
    int32_t id;
    bool special;
  };
  struct PairHash {
    size_t operator()(uint64_t v) const { return std::hash<uint64_t>()(v); }
  };

  std::string load_json(const class Json &root);
  void encode_segment(const std::string &text, std::vector<int32_t> *ids) const;
  void bpe(const std::vector<int32_t> &symbols, std::vector<int32_t> *ids) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_; // "" where no token has the id
  // (left << 32 | right) -> rank << 32 | merged id
  std::unordered_map<uint64_t, uint64_t, PairHash> merges_;
  std::vector<Added> added_;
  std::vector<uint8_t> special_; // per id
  int32_t byte_symbol_[256];     // the vocab id of each byte's symbol, or -1
  std::unordered_map<std::string, uint8_t> char_to_byte_;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  bool add_prefix_space_ = false;
  bool use_regex_ = true;
};

/// Turns a stream of bytes into valid UTF-8 as HF decode does at the end
/// (each maximal invalid subsequence becomes one U+FFFD), holding back an
/// incomplete character until its last byte arrives. So the text streamed
/// token by token equals the text of all the tokens decoded at once.
class Utf8Stream {
public:
  /// Appends `bytes`; returns the text that is complete.
  std::string push(const std::string &bytes);
  /// The end: what is held back (an incomplete character) as U+FFFD.
  std::string finish();

private:
  std::string pending_;
};

/// Returns "" when `text` is valid UTF-8, else a description of the first
/// bad byte.
std::string check_utf8(const std::string &text);

} // namespace glmgen

#endif // GLM_GENERATE_TOKENIZER_H
