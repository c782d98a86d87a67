//===- tokenizer.h - Byte-level BPE from a HF tokenizer.json ---------------===//
//
// Encodes and decodes exactly as HF `tokenizers` does for the byte-level
// BPE tokenizers of GPT-2 (tiny-glm), GLM-4, Llama-3 and Qwen2: a "BPE"
// model with byte-level symbols; a pre-tokenizer that is "ByteLevel"
// (GPT-2's split of letters, numbers, other symbols and whitespace, then
// bytes mapped to printable characters) or a "Sequence" of "Split"s with a
// known regex (GPT-2's, cl100k's as GLM-4 and Llama-3 have it, Qwen2's; each
// a hand-written matcher, no regex engine) and a ByteLevel; post-processors
// "ByteLevel", "TemplateProcessing" (special tokens around the text) and
// "Sequence"s of them; the "ByteLevel" decoder; no normalizer; and added
// tokens (e.g. <|endoftext|>, [gMASK]) matched in the raw text before the
// split, leftmost longest, with their lstrip/rstrip/single_word/normalized
// flags.
//
// The character classes (\p{L}, \p{N}, \s, and \w for single_word) come
// from unicode_classes.inc, read off `tokenizers` itself by
// gen_unicode_classes.py. Anything else in the file (another model type,
// normalizer, pre-tokenizer, Split regex or behavior, post-processor or
// decoder; BPE dropout; a byte fallback) is refused at load with the field
// named, rather than tokenized differently.
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
  /// valid UTF-8). With `add_special`, the post-processor's special tokens
  /// go around them (HF encode's add_special_tokens, default true).
  std::string encode(const std::string &text, std::vector<int32_t> *ids,
                     bool add_special = true) const;

  /// The ids the post-processor puts before and after the text's (empty
  /// without a TemplateProcessing).
  const std::vector<int32_t> &prefix_ids() const { return prefix_; }
  const std::vector<int32_t> &suffix_ids() const { return suffix_; }

  /// The text of `ids`, as HF decode(ids, skip_special_tokens): bytes that
  /// are not valid UTF-8 become U+FFFD. Unknown ids are skipped.
  std::string decode(const std::vector<int32_t> &ids,
                     bool skip_special = true) const;

  /// The bytes token `id` stands for (possibly part of a UTF-8 character);
  /// "" for an unknown id or, with skip_special, a special token.
  std::string token_bytes(int32_t id, bool skip_special = true) const;

  /// The tokens that end generation unless told otherwise: those of
  /// <|endoftext|>; GLM-4's <|user|> and <|observation|>; Llama-3's
  /// <|eot_id|> and <|end_of_text|>; Qwen2's <|im_end|> that the tokenizer
  /// has as special added tokens (<|endoftext|> as any token), in that order.
  std::vector<int32_t> default_stop_ids() const;

  /// The id of a token's string form (vocab or added token), or -1.
  int32_t token_to_id(const std::string &token) const;
  /// Ids are in [0, vocab_size()).
  size_t vocab_size() const { return id_to_token_.size(); }
  bool is_special(int32_t id) const;

private:
  struct Added {
    std::string content;
    int32_t id;
    bool special, lstrip, rstrip, single_word, normalized;
  };
  /// A piece of the text: bytes [from, to) of the text it was cut from, and
  /// the added token it is (-1: none, to be pre-tokenized).
  struct Piece {
    size_t from, to;
    int32_t id;
  };
  /// One step of the pre-tokenizer.
  struct PreStep {
    enum Kind { kSplit, kByteLevel } kind;
    int pattern;  // kSplit: which known regex (tokenizer.cpp's kPatterns)
    int behavior; // kSplit: SplitDelimiterBehavior
    bool invert;  // kSplit
    bool add_prefix_space, use_regex; // kByteLevel
    size_t literal = 0; // kSplit by a "String": its index in split_literals_
  };
  struct PairHash {
    size_t operator()(uint64_t v) const { return std::hash<uint64_t>()(v); }
  };

  std::string load_json(const class Json &root);
  std::string load_pre_tokenizer(const class Json *pre);
  std::string load_post_processor(const class Json *post);
  void find_added(const std::string &text, bool normalized,
                  std::vector<Piece> *out) const;
  void pre_tokenize(const std::string &text, std::vector<std::string> *pieces) const;
  void encode_segment(const std::string &text, std::vector<int32_t> *ids) const;
  void bpe(const std::vector<int32_t> &symbols, std::vector<int32_t> *ids) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_; // "" where no token has the id
  // (left << 32 | right) -> rank << 32 | merged id
  std::unordered_map<uint64_t, uint64_t, PairHash> merges_;
  std::vector<Added> added_;     // longest first
  std::vector<uint8_t> special_; // per id
  std::vector<PreStep> pre_;
  std::vector<std::string> split_literals_;
  std::vector<int32_t> prefix_, suffix_; // from TemplateProcessing
  int32_t byte_symbol_[256];     // the vocab id of each byte's symbol, or -1
  std::unordered_map<std::string, uint8_t> char_to_byte_;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
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
