//===- tokenizer_test.cpp - glm-generate's tokenizer, JSON reader, sampler -===//
//
// The tokenizer against HF `tokenizers` on the committed fixtures
// (test/models/tiny-glm/tokenizer-fixtures.json, written by
// test/models/gen/tokenizer_fixtures.py; the GLM-4-, Qwen2- and Llama-3-style
// tokenizers of test/models/hf-tokenizers, written with their fixtures by
// test/models/gen/hf_tokenizer_fixtures.py): every encoding id for id, with
// and without special tokens, every decoding byte for byte, also streamed
// token by token.
//
//===----------------------------------------------------------------------===//
#include "json.h"
#include "sampler.h"
#include "tokenizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

using glmgen::Json;
using glmgen::Tokenizer;

namespace {

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

std::string tokenizer_path() {
  return std::string(GLM_TEST_MODELS_DIR) + "/tiny-glm/tokenizer.json";
}

const Tokenizer &tiny_glm() {
  static Tokenizer *t = [] {
    auto *tok = new Tokenizer();
    std::string error = Tokenizer::load(tokenizer_path(), tok);
    EXPECT_EQ(error, "");
    return tok;
  }();
  return *t;
}

const Json &fixtures() {
  static Json *j = [] {
    auto *json = new Json();
    std::string text = slurp(std::string(GLM_TEST_MODELS_DIR) +
                             "/tiny-glm/tokenizer-fixtures.json");
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(Json::parse(text, json), "");
    return json;
  }();
  return *j;
}

std::vector<int32_t> ids_of(const Json &array) {
  std::vector<int32_t> ids;
  for (const Json &v : array.items()) ids.push_back(int32_t(v.as_int()));
  return ids;
}

std::string escaped(const std::string &s) { return glmgen::json_quote(s); }

std::string hf_dir() { return std::string(GLM_TEST_MODELS_DIR) + "/hf-tokenizers/"; }

const Json &hf_fixtures() {
  static Json *j = [] {
    auto *json = new Json();
    std::string text = slurp(hf_dir() + "fixtures.json");
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(Json::parse(text, json), "");
    return json;
  }();
  return *j;
}

/// The text of tokenizer file `name` with its "pre_tokenizer" line (each
/// top-level key has a line of its own) replaced by `pre_tokenizer`.
std::string with_pre_tokenizer(const std::string &name, const std::string &pre_tokenizer) {
  std::string text = slurp(hf_dir() + name);
  size_t at = text.find("\n\"pre_tokenizer\": ");
  size_t end = text.find(",\n", at);
  EXPECT_NE(at, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  if (at == std::string::npos || end == std::string::npos) return text;
  return text.substr(0, at) + "\n\"pre_tokenizer\": " + pre_tokenizer + text.substr(end);
}

/// Encodes every text; the number of texts whose ids differ from `want`'s
/// (the first few reported).
size_t encode_failures(const Tokenizer &tok, const Json &texts, const Json &want,
                       bool add_special, const std::string &what) {
  size_t failures = 0;
  EXPECT_LE(want.items().size(), texts.items().size());
  for (size_t i = 0; i < want.items().size() && i < texts.items().size(); ++i) {
    const std::string &text = texts.items()[i].as_string();
    std::vector<int32_t> ids;
    EXPECT_EQ(tok.encode(text, &ids, add_special), "");
    std::vector<int32_t> expected = ids_of(want.items()[i]);
    if (ids != expected && ++failures <= 5)
      ADD_FAILURE() << what << (add_special ? "" : " (no special)") << ": encode("
                    << escaped(text) << "): got " << ::testing::PrintToString(ids)
                    << ", HF gives " << ::testing::PrintToString(expected);
  }
  return failures;
}

} // namespace

//--- JSON ---------------------------------------------------------------------

TEST(GenerateJson, ParsesValues) {
  Json j;
  ASSERT_EQ(Json::parse(R"( {"a": [1, -2, 3.5, 1e3, true, false, null],
      "s": "x\"\\\/\b\f\n\r\t\u00e9\u4e2d\ud83d\ude42", "o": {}, "e": [],
      "a": "again", "big": 123456789012345678901234567890} )",
                        &j),
            "");
  ASSERT_TRUE(j.is_object());
  const Json *a = j.get("a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->is_string()); // the last of a repeated key
  EXPECT_EQ(a->as_string(), "again");
  const Json &list = j.members()[0].second;
  ASSERT_EQ(list.items().size(), 7u);
  EXPECT_TRUE(list.items()[0].is_integer());
  EXPECT_EQ(list.items()[1].as_int(), -2);
  EXPECT_FALSE(list.items()[2].is_integer());
  EXPECT_DOUBLE_EQ(list.items()[2].as_double(), 3.5);
  EXPECT_DOUBLE_EQ(list.items()[3].as_double(), 1000);
  EXPECT_TRUE(list.items()[4].as_bool());
  EXPECT_FALSE(list.items()[5].as_bool());
  EXPECT_TRUE(list.items()[6].is_null());
  EXPECT_EQ(j.get("s")->as_string(),
            "x\"\\/\b\f\n\r\t\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x99\x82");
  EXPECT_TRUE(j.get("o")->is_object());
  EXPECT_TRUE(j.get("e")->is_array());
  EXPECT_TRUE(j.get("big")->is_number());
  EXPECT_FALSE(j.get("big")->is_integer()); // beyond int64
  EXPECT_EQ(j.get("missing"), nullptr);
  EXPECT_EQ(list.get("a"), nullptr); // not an object
}

TEST(GenerateJson, RefusesMalformedText) {
  const std::pair<const char *, const char *> cases[] = {
      {"", "line 1, column 1: unexpected end"},
      {"{", "an object key"},
      {"{\"a\" 1}", "':' was expected"},
      {"{\"a\": 1,}", "an object key"},
      {"[1 2]", "',' or ']'"},
      {"[1,\n  x]", "line 2, column 3: unexpected character 'x'"},
      {"\"abc", "not closed"},
      {"\"a\nb\"", "control character"},
      {"\"\\q\"", "unknown escape"},
      {"\"\\u12\"", "four hex digits"},
      {"\"\\ud83d\"", "low half"},
      {"\"\\ude42\"", "lone low surrogate"},
      {"01", "unexpected text after"},
      {"-", "a digit was expected"},
      {"1.", "after '.'"},
      {"1e", "exponent"},
      {"tru", "unexpected character 't'"},
      {"{} {}", "unexpected text after"},
  };
  for (const auto &c : cases) {
    Json j;
    std::string error = Json::parse(c.first, &j);
    EXPECT_NE(error.find(c.second), std::string::npos)
        << "input " << escaped(c.first) << " gave '" << error << "'";
  }
  Json j;
  std::string deep(100000, '[');
  EXPECT_NE(Json::parse(deep, &j).find("nested deeper than 256"), std::string::npos);
}

//--- the tokenizer against HF tokenizers -----------------------------------------

TEST(GenerateTokenizer, EncodesAsHfTokenizers) {
  const Tokenizer &tok = tiny_glm();
  const Json *cases = fixtures().get("encode");
  ASSERT_NE(cases, nullptr);
  ASSERT_GT(cases->items().size(), 400u);
  size_t failures = 0;
  for (const Json &c : cases->items()) {
    const std::string &text = c.get("text")->as_string();
    std::vector<int32_t> ids;
    ASSERT_EQ(tok.encode(text, &ids), "");
    std::vector<int32_t> want = ids_of(*c.get("ids"));
    if (ids != want && ++failures <= 10) {
      ADD_FAILURE() << "encode(" << escaped(text) << "): got "
                    << ::testing::PrintToString(ids) << ", HF gives "
                    << ::testing::PrintToString(want);
    }
  }
  EXPECT_EQ(failures, 0u);
}

TEST(GenerateTokenizer, DecodesAsHfTokenizersAlsoStreamed) {
  const Tokenizer &tok = tiny_glm();
  const Json *cases = fixtures().get("decode");
  ASSERT_NE(cases, nullptr);
  ASSERT_GT(cases->items().size(), 600u);
  size_t failures = 0;
  for (const Json &c : cases->items()) {
    std::vector<int32_t> ids = ids_of(*c.get("ids"));
    const std::string &want = c.get("text")->as_string();
    const std::string &want_special = c.get("text_with_special")->as_string();
    std::string got = tok.decode(ids);
    std::string got_special = tok.decode(ids, false);
    glmgen::Utf8Stream stream;
    std::string streamed;
    for (int32_t id : ids) streamed += stream.push(tok.token_bytes(id));
    streamed += stream.finish();
    if ((got != want || got_special != want_special || streamed != want) &&
        ++failures <= 10) {
      ADD_FAILURE() << "decode(" << ::testing::PrintToString(ids) << "): got "
                    << escaped(got) << " / " << escaped(got_special)
                    << " / streamed " << escaped(streamed) << ", HF gives "
                    << escaped(want) << " / " << escaped(want_special);
    }
  }
  EXPECT_EQ(failures, 0u);
}

TEST(GenerateTokenizer, Vocabulary) {
  const Tokenizer &tok = tiny_glm();
  EXPECT_EQ(tok.vocab_size(), 2048u);
  EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 0);
  EXPECT_TRUE(tok.is_special(0));
  EXPECT_FALSE(tok.is_special(1));
  EXPECT_EQ(tok.token_to_id("no such token"), -1);
  EXPECT_EQ(tok.token_bytes(0), "");
  EXPECT_EQ(tok.token_bytes(0, false), "<|endoftext|>");
  EXPECT_EQ(tok.token_bytes(-1), "");
  EXPECT_EQ(tok.token_bytes(5000), "");
  EXPECT_EQ(tok.decode({5000, -3}), ""); // unknown ids are skipped
  int32_t space = tok.token_to_id("\xC4\xA0"); // "Ġ", the byte ' '
  ASSERT_GE(space, 0);
  EXPECT_EQ(tok.token_bytes(space), " ");
}

TEST(GenerateTokenizer, RefusesInvalidUtf8) {
  std::vector<int32_t> ids;
  EXPECT_NE(tiny_glm().encode("ab\xFF", &ids).find("byte 0xFF at offset 2 is not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(tiny_glm().encode("ab\xE2\x82", &ids).find("unfinished character"),
            std::string::npos);
  EXPECT_NE(tiny_glm().encode("\xED\xA0\x80", &ids).find("not valid UTF-8"),
            std::string::npos); // a UTF-16 surrogate
  EXPECT_EQ(glmgen::check_utf8("\xF0\x9F\x99\x82 ok"), "");
}

TEST(GenerateTokenizer, Utf8StreamHoldsIncompleteCharacters) {
  glmgen::Utf8Stream s;
  EXPECT_EQ(s.push("a\xF0\x9F"), "a");
  EXPECT_EQ(s.push("\x99"), "");
  EXPECT_EQ(s.push("\x82!"), "\xF0\x9F\x99\x82!");
  EXPECT_EQ(s.push("\xE2\x82"), "");
  EXPECT_EQ(s.push("A"), "\xEF\xBF\xBD" "A"); // E2 82 is one maximal subpart
  EXPECT_EQ(s.push("\x80\xC0"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(s.push("\xE4"), "");
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(s.finish(), "");
}

TEST(GenerateTokenizer, RefusesWhatItCannotReproduce) {
  std::string good = slurp(tokenizer_path());
  ASSERT_FALSE(good.empty());
  auto replaced = [&](const std::string &from, const std::string &to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  const std::pair<std::string, const char *> cases[] = {
      {"", "not valid JSON: line 1, column 1"},
      {"[]", "not a tokenizer object"},
      {"{}", "no \"model\" object"},
      {replaced("\"type\": \"BPE\"", "\"type\": \"WordPiece\""),
       "model type 'WordPiece' is not supported"},
      {replaced("\"merges\": [", "\"merges_\": ["), "model.merges is missing"},
      {replaced("\"normalizer\": null", "\"normalizer\": {\"type\": \"NFC\"}"),
       "normalizer 'NFC' is not supported"},
      {replaced("\"pre_tokenizer\": {\n    \"type\": \"ByteLevel\"",
                "\"pre_tokenizer\": {\n    \"type\": \"Whitespace\""),
       "pre_tokenizer 'Whitespace' is not supported"},
      {replaced("\"decoder\": {\n    \"type\": \"ByteLevel\"",
                "\"decoder\": {\n    \"type\": \"WordPiece\""),
       "decoder 'WordPiece' is not supported"},
      {replaced("\"dropout\": null", "\"dropout\": 0.1"), "BPE dropout"},
      {replaced("\"byte_fallback\": false", "\"byte_fallback\": true"), "byte_fallback"},
      {replaced("\"\xC4\xA0\",\n        \"t\"", "\"\xC4\xA0\",\n        \"nope\""),
       "merge 0 ('\xC4\xA0', 'nope') names a token that is not in the vocabulary"},
      {replaced("\"!\": 1,", "\"!\": -1,"), "model.vocab['!'] is not a token id"},
  };
  for (const auto &c : cases) {
    Tokenizer t;
    std::string error = Tokenizer::load_from_text(c.first, &t);
    EXPECT_NE(error.find(c.second), std::string::npos)
        << "expected '" << c.second << "', got '" << error << "'";
  }
  Tokenizer t;
  EXPECT_NE(Tokenizer::load("/nonexistent/tokenizer.json", &t).find(
                "cannot open '/nonexistent/tokenizer.json'"),
            std::string::npos);
}

//--- GLM-4, Qwen2 and Llama-3 style tokenizers against HF tokenizers -----------

TEST(GenerateTokenizer, HfStyleTokenizersEncodeAsHf) {
  const Json &f = hf_fixtures();
  const Json *texts = f.get("texts");
  const Json *files = f.get("files");
  ASSERT_NE(texts, nullptr);
  ASSERT_NE(files, nullptr);
  ASSERT_GE(texts->items().size(), 400u);
  ASSERT_EQ(files->items().size(), 3u);
  for (const Json &file : files->items()) {
    const std::string name = file.get("file")->as_string();
    Tokenizer tok;
    ASSERT_EQ(Tokenizer::load(hf_dir() + name, &tok), "") << name;
    ASSERT_EQ(file.get("encode")->items().size(), texts->items().size());
    ASSERT_EQ(file.get("encode_plain")->items().size(), texts->items().size());
    EXPECT_EQ(encode_failures(tok, *texts, *file.get("encode"), true, name), 0u) << name;
    EXPECT_EQ(encode_failures(tok, *texts, *file.get("encode_plain"), false, name), 0u)
        << name;
  }
}

TEST(GenerateTokenizer, HfStyleTokenizersDecodeAsHfAlsoStreamed) {
  for (const Json &file : hf_fixtures().get("files")->items()) {
    const std::string name = file.get("file")->as_string();
    Tokenizer tok;
    ASSERT_EQ(Tokenizer::load(hf_dir() + name, &tok), "") << name;
    const Json *cases = file.get("decode");
    ASSERT_GT(cases->items().size(), 120u);
    size_t failures = 0;
    for (const Json &c : cases->items()) {
      std::vector<int32_t> ids = ids_of(*c.get("ids"));
      const std::string &want = c.get("text")->as_string();
      const std::string &want_special = c.get("text_with_special")->as_string();
      std::string got = tok.decode(ids), got_special = tok.decode(ids, false);
      glmgen::Utf8Stream stream;
      std::string streamed;
      for (int32_t id : ids) streamed += stream.push(tok.token_bytes(id));
      streamed += stream.finish();
      if ((got != want || got_special != want_special || streamed != want) && ++failures <= 5)
        ADD_FAILURE() << name << ": decode(" << ::testing::PrintToString(ids) << "): got "
                      << escaped(got) << " / " << escaped(got_special) << " / streamed "
                      << escaped(streamed) << ", HF gives " << escaped(want) << " / "
                      << escaped(want_special);
    }
    EXPECT_EQ(failures, 0u) << name;
  }
}

TEST(GenerateTokenizer, EveryKnownSplitAndBehaviorAsHf) {
  const Json &f = hf_fixtures();
  const Json *variants = f.get("variants");
  ASSERT_NE(variants, nullptr);
  ASSERT_GE(variants->items().size(), 20u);
  for (const Json &v : variants->items()) {
    const std::string &pre = v.get("pre_tokenizer")->as_string();
    Tokenizer tok;
    ASSERT_EQ(Tokenizer::load_from_text(with_pre_tokenizer(v.get("file")->as_string(), pre),
                                        &tok),
              "")
        << pre;
    ASSERT_GE(v.get("encode")->items().size(), 200u);
    EXPECT_EQ(encode_failures(tok, *f.get("texts"), *v.get("encode"), false, pre), 0u) << pre;
  }
}

TEST(GenerateTokenizer, Glm4TemplateAndSpecialTokens) {
  Tokenizer tok;
  ASSERT_EQ(Tokenizer::load(hf_dir() + "glm4.json", &tok), "");
  const int32_t gmask = tok.token_to_id("[gMASK]"), sop = tok.token_to_id("<sop>");
  const int32_t user = tok.token_to_id("<|user|>");
  ASSERT_GE(gmask, 0);
  ASSERT_GE(sop, 0);
  ASSERT_GE(user, 0);
  EXPECT_EQ(tok.prefix_ids(), (std::vector<int32_t>{gmask, sop}));
  EXPECT_TRUE(tok.suffix_ids().empty());
  std::vector<int32_t> with, without;
  ASSERT_EQ(tok.encode("<|user|>\nHi", &with), "");
  ASSERT_EQ(tok.encode("<|user|>\nHi", &without, false), "");
  ASSERT_EQ(with.size(), without.size() + 2);
  EXPECT_EQ(with[0], gmask);
  EXPECT_EQ(with[1], sop);
  EXPECT_EQ(without[0], user); // matched in the raw text
  EXPECT_TRUE(tok.is_special(user));
  EXPECT_EQ(tok.decode(with), "\nHi");
  EXPECT_EQ(tok.decode(with, false), "[gMASK]<sop><|user|>\nHi");
  std::vector<int32_t> empty;
  ASSERT_EQ(tok.encode("", &empty), "");
  EXPECT_EQ(empty, (std::vector<int32_t>{gmask, sop})); // as HF: the template alone

  Tokenizer llama;
  ASSERT_EQ(Tokenizer::load(hf_dir() + "llama3.json", &llama), "");
  EXPECT_EQ(llama.prefix_ids(), (std::vector<int32_t>{llama.token_to_id("<|begin_of_text|>")}));
  Tokenizer qwen;
  ASSERT_EQ(Tokenizer::load(hf_dir() + "qwen2.json", &qwen), "");
  EXPECT_TRUE(qwen.prefix_ids().empty());
}

TEST(GenerateTokenizer, DefaultStopTokens) {
  EXPECT_EQ(tiny_glm().default_stop_ids(), (std::vector<int32_t>{0}));
  const std::pair<const char *, std::vector<const char *>> cases[] = {
      {"glm4.json", {"<|endoftext|>", "<|user|>", "<|observation|>"}},
      {"llama3.json", {"<|eot_id|>", "<|end_of_text|>"}},
      {"qwen2.json", {"<|endoftext|>", "<|im_end|>"}},
  };
  for (const auto &c : cases) {
    Tokenizer tok;
    ASSERT_EQ(Tokenizer::load(hf_dir() + c.first, &tok), "");
    std::vector<int32_t> want;
    for (const char *name : c.second) want.push_back(tok.token_to_id(name));
    EXPECT_EQ(tok.default_stop_ids(), want) << c.first;
    for (int32_t id : want) EXPECT_TRUE(tok.is_special(id)) << c.first << " " << id;
  }
}

TEST(GenerateTokenizer, RefusesUnknownSplitsAndProcessors) {
  const std::string byte_level =
      R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false})";
  auto pre = [&](const std::string &split) {
    return with_pre_tokenizer(
        "glm4.json", R"({"type": "Sequence", "pretokenizers": [)" + split + ", " + byte_level + "]}");
  };
  auto post = [&](const std::string &processor) {
    std::string text = slurp(hf_dir() + "glm4.json");
    size_t at = text.find("\n\"post_processor\": "), end = text.find(",\n", at + 1);
    EXPECT_NE(at, std::string::npos);
    return text.substr(0, at) + "\n\"post_processor\": " + processor + text.substr(end);
  };
  const std::pair<std::string, const char *> cases[] = {
      {pre(R"({"type": "Split", "pattern": {"Regex": "\\p{L}+|\\s+"}, "behavior": "Isolated"})"),
       "pre_tokenizer Split regex '\\p{L}+|\\s+' is not supported: glm-generate has no regex engine"},
      {pre(R"({"type": "Split", "pattern": {"Regex": "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+"}, "behavior": "Isolated"})"),
       "Split regex ''s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+' is not supported"},
      {pre(R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Shuffled"})"),
       "pre_tokenizer Split behavior 'Shuffled' is not supported (only Removed, Isolated"},
      {pre(R"({"type": "Split", "pattern": {"String": ""}, "behavior": "Isolated"})"),
       "Split has no pattern"},
      {pre(R"({"type": "Digits", "individual_digits": true})"),
       "pre_tokenizer 'Digits' is not supported"},
      {with_pre_tokenizer("glm4.json", R"({"type": "Sequence", "pretokenizers": [)" + byte_level +
                                           R"(, {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated"}]})"),
       "pre_tokenizer 'Split' after ByteLevel is not supported"},
      {with_pre_tokenizer("glm4.json", R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated"}]})"),
       "pre_tokenizer has no ByteLevel"},
      {post(R"({"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]})"),
       "post_processor 'RobertaProcessing' is not supported"},
      {post(R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<x>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}})"),
       "special token '<x>' is not in its special_tokens"},
      {post(R"({"type": "TemplateProcessing", "single": [{"Sequence": {"id": "B", "type_id": 0}}], "special_tokens": {}})"),
       "has sequence 'B'; only one sequence A is supported"},
      {post(R"({"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "BertProcessing"}]})"),
       "post_processor 'BertProcessing' is not supported"},
  };
  for (const auto &c : cases) {
    Tokenizer t;
    std::string error = Tokenizer::load_from_text(c.first, &t);
    EXPECT_NE(error.find(c.second), std::string::npos)
        << "expected '" << c.second << "', got '" << error << "'";
  }
}

//--- the sampler -------------------------------------------------------------------

TEST(GenerateSampler, GreedyAndDeterministicSampling) {
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.5f, NAN};
  EXPECT_EQ(glmgen::argmax(logits.data(), logits.size()), 1); // first of equals
  glmgen::SamplerOptions greedy;
  EXPECT_EQ(glmgen::Sampler(greedy).sample(logits.data(), logits.size()), 1);

  auto draw = [&](glmgen::SamplerOptions o, int n) {
    glmgen::Sampler s(o);
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) out.push_back(s.sample(logits.data(), logits.size()));
    return out;
  };
  glmgen::SamplerOptions o;
  o.temperature = 1.0;
  o.seed = 42;
  std::vector<int32_t> a = draw(o, 2000), b = draw(o, 2000);
  EXPECT_EQ(a, b); // same seed, same draws
  o.seed = 43;
  EXPECT_NE(draw(o, 2000), a);
  std::map<int32_t, int> counts;
  for (int32_t t : a) ++counts[t];
  EXPECT_EQ(counts.count(5), 0u); // NaN is never drawn
  // softmax(0.5, 2, -1, 2, 1.5) = 0.077, 0.347, 0.017, 0.347, 0.211: of
  // 2000 draws about 155, 694, 35, 694, 421.
  EXPECT_GT(counts[1], 600);
  EXPECT_GT(counts[3], 600);
  EXPECT_GT(counts[4], 330);
  EXPECT_LT(counts[2], 80);

  o.top_k = 2; // only ids 1 and 3
  for (int32_t t : draw(o, 500)) EXPECT_TRUE(t == 1 || t == 3) << t;
  o.top_k = 1;
  for (int32_t t : draw(o, 50)) EXPECT_EQ(t, 1);
  o.top_k = 0;
  o.top_p = 0.5; // 1 (0.347 of the mass), then 3: 0.694 >= 0.5
  for (int32_t t : draw(o, 500)) EXPECT_TRUE(t == 1 || t == 3) << t;
  o.top_p = 0.01;
  for (int32_t t : draw(o, 50)) EXPECT_EQ(t, 1);
  o.top_p = 1;
  o.temperature = 1e-3; // nearly greedy: the two equal maxima
  for (int32_t t : draw(o, 200)) EXPECT_TRUE(t == 1 || t == 3) << t;

  // The generator itself: xoshiro256** from splitmix64(0).
  glmgen::Random r(0);
  uint64_t first = r.next();
  glmgen::Random r2(0);
  EXPECT_EQ(r2.next(), first);
  double u = glmgen::Random(1).uniform();
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
}
