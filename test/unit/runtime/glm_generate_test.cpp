//===- glm_generate_test.cpp - The glm-generate command line ---------------===//
//
// Errors (bad arguments, tokenizer, model, prompt) on any build; generation
// itself on tiny-glm compiled by glmc (skipped where the compiler is not
// built). No timing asserts: the speeds are only checked to be printed.
//
//===----------------------------------------------------------------------===//
#include "json.h"

#include <gtest/gtest.h>

#include <ftw.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using glmgen::Json;

namespace {

int remove_entry(const char *path, const struct stat *, int, struct FTW *) {
  return std::remove(path);
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

std::string quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string tokenizer() {
  return std::string(GLM_TEST_MODELS_DIR) + "/tiny-glm/tokenizer.json";
}
std::string hf_tokenizer(const char *name) {
  return std::string(GLM_TEST_MODELS_DIR) + "/hf-tokenizers/" + name;
}
std::string tiny_glm(const char *name) {
  return std::string(GLMRT_TEST_TINY_GLM_DIR) + "/" + name;
}
std::string stand_in(const char *name) {
  return std::string(GLMRT_TEST_ARTIFACT_DIR) + "/" + name;
}

struct Result {
  int exit_code = -1; // -1: did not exit normally (crashed)
  std::string out, err;
};

#define REQUIRE_TINY_GLM()                                                     \
  do {                                                                         \
    if (std::string(GLMRT_TEST_TINY_GLM_DIR).empty())                          \
      GTEST_SKIP() << "glmc is not built here: no compiled tiny-glm";          \
  } while (0)

class GlmGenerate : public ::testing::Test {
protected:
  void SetUp() override {
    char templ[] = "/tmp/glm-generate-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { nftw(dir_.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

  std::string file(const std::string &name) const { return dir_ + "/" + name; }

  Result run(const std::vector<std::string> &args) {
    std::string cmd = quote(GLM_GENERATE_EXE);
    for (const std::string &a : args) cmd += " " + quote(a);
    cmd += " >" + quote(file("stdout.txt")) + " 2>" + quote(file("stderr.txt"));
    int status = std::system(cmd.c_str());
    Result r;
    if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    r.out = slurp(file("stdout.txt"));
    r.err = slurp(file("stderr.txt"));
    return r;
  }

  /// Runs the tool on tiny-glm with --json; parses its object.
  Json run_json(std::vector<std::string> args, Result *result = nullptr) {
    std::vector<std::string> all = {tiny_glm("tiny-glm-decode.so"), "--tokenizer",
                                    tokenizer(), "--threads", "1", "--json"};
    all.insert(all.end(), args.begin(), args.end());
    Result r = run(all);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Json j;
    EXPECT_EQ(Json::parse(r.out, &j), "") << r.out;
    if (result) *result = r;
    return j;
  }

  void expect_error(const std::vector<std::string> &args,
                    std::initializer_list<std::string> parts) {
    Result r = run(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("glm-generate: error: ", 0), 0u) << r.err;
    for (const std::string &p : parts)
      EXPECT_NE(r.err.find(p), std::string::npos) << "'" << p << "' not in: " << r.err;
  }

  std::string dir_;
};

std::vector<int64_t> ints(const Json *array) {
  std::vector<int64_t> v;
  if (array)
    for (const Json &x : array->items()) v.push_back(x.as_int());
  return v;
}

} // namespace

TEST_F(GlmGenerate, Help) {
  Result r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: glm-generate MODEL.so --tokenizer"), std::string::npos);
  EXPECT_NE(r.out.find("--top-p"), std::string::npos);
  EXPECT_NE(r.out.find("--no-special"), std::string::npos);
  EXPECT_NE(r.out.find("--eos TOKENS"), std::string::npos);
}

TEST_F(GlmGenerate, ArgumentErrors) {
  const std::string m = stand_in("decoder.so"), t = tokenizer();
  expect_error({}, {"no model given", "glm-generate --help"});
  expect_error({m, "--prompt", "x"}, {"no tokenizer given"});
  expect_error({m, "--tokenizer", t}, {"no prompt given"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--frobnicate"},
               {"unknown option '--frobnicate'"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "-n", "many"},
               {"-n needs a number of tokens, got 'many'"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--top-p", "0"}, {"--top-p"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--temperature", "-1"},
               {"--temperature"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--seed", "-3"}, {"--seed"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--ids", "--json"},
               {"do not go together"});
  expect_error({m, "extra", "--tokenizer", t, "--prompt", "x"}, {"unexpected argument 'extra'"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--prompt-ids", "1"},
               {"--prompt and --prompt-ids do not go together"});
  expect_error({m, "--tokenizer", t, "--prompt-ids", "1,x"}, {"'x' is not a token id"});
  expect_error({m, "--tokenizer", t, "--prompt-ids", ""}, {"the prompt is empty"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--repeat", "0"}, {"--repeat"});
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--eos", ""}, {"--eos needs"});
  expect_error({m, "--tokenizer", t, "--prompt-ids", "1", "--no-special"},
               {"--no-special does not go with --prompt-ids"});
  // --eos is resolved with the tokenizer, before the model is loaded.
  expect_error({m, "--tokenizer", t, "--prompt", "x", "--eos", "0,<|nope|>"},
               {"--eos: '<|nope|>' is neither a token id nor a token of"});
}

TEST_F(GlmGenerate, BadTokenizerFile) {
  const std::string m = stand_in("decoder.so");
  expect_error({m, "--tokenizer", file("missing.json"), "--prompt", "x"},
               {"tokenizer '", "missing.json': cannot open"});
  std::ofstream(file("bad.json")) << "{\"model\": {\"type\": \"BPE\", ";
  expect_error({m, "--tokenizer", file("bad.json"), "--prompt", "x"},
               {"bad.json': not valid JSON: line 1, column 27"});
  std::ofstream(file("wordpiece.json")) << "{\"model\": {\"type\": \"WordPiece\"}}";
  expect_error({m, "--tokenizer", file("wordpiece.json"), "--prompt", "x"},
               {"model type 'WordPiece' is not supported"});
}

TEST_F(GlmGenerate, RefusesUnknownSplitsClearly) {
  // The GLM-4-style tokenizer with a Split regex glm-generate does not know,
  // then with a behavior it does not know: exit 1, the pattern named.
  std::string good = slurp(hf_tokenizer("glm4.json"));
  const std::string known = R"(\\p{N}{1,3}|)";
  size_t at = good.find(known);
  ASSERT_NE(at, std::string::npos);
  std::string other = good;
  other.replace(at, known.size(), R"(\\p{N}{1,4}|)");
  std::ofstream(file("regex.json")) << other;
  expect_error({stand_in("decoder.so"), "--tokenizer", file("regex.json"), "--prompt", "x"},
               {"regex.json': pre_tokenizer Split regex '(?i:'s|'t|'re|'ve|'m|'ll|'d)",
                "\\p{N}{1,4}", "is not supported: glm-generate has no regex engine"});
  std::string behavior = good;
  at = behavior.find(R"("behavior": "Isolated")");
  ASSERT_NE(at, std::string::npos);
  behavior.replace(at, 22, R"("behavior": "Sideways")");
  std::ofstream(file("behavior.json")) << behavior;
  expect_error({stand_in("decoder.so"), "--tokenizer", file("behavior.json"), "--prompt", "x"},
               {"Split behavior 'Sideways' is not supported"});
}

TEST_F(GlmGenerate, BadModelAndPrompt) {
  const std::string t = tokenizer();
  expect_error({file("none.so"), "--tokenizer", t, "--prompt", "Hello"},
               {"cannot open model", "none.so"});
  // A model without a KV cache.
  expect_error({stand_in("add.so"), "--tokenizer", t, "--prompt", "Hello"},
               {"add.so' is not a decoder model glm-generate can run",
                "no past_key_values"});
  expect_error({stand_in("decoder.so"), "--tokenizer", t, "--prompt", ""},
               {"the prompt is empty"});
  expect_error({stand_in("decoder.so"), "--tokenizer", t, "--prompt", "caf\xC3"},
               {"the prompt cannot be tokenized", "not valid UTF-8"});
  expect_error({stand_in("decoder.so"), "--tokenizer", t, "--prompt",
                "Hello world, how are you?", "--max-length", "3"},
               {"the prompt has 9 tokens, more than --max-length 3"});
  // The stand-in's vocabulary has 8 tokens; "Hello" is [40, 458, 79].
  expect_error({stand_in("decoder.so"), "--tokenizer", t, "--prompt", "Hello"},
               {"the tokenizer gave token 40, but the model's vocabulary has 8"});
}

TEST_F(GlmGenerate, ModelFailureIsAnError) {
  // Tokens 1..6 of the stand-in are "!" .. "'"; it fails on token 7, which
  // greedy decoding picks (its logits grow with the id).
  std::ofstream(file("tiny.json"))
      << "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1, \"b\": 2}, "
         "\"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
         "\"decoder\": {\"type\": \"ByteLevel\"}}";
  expect_error({stand_in("decoder.so"), "--tokenizer", file("tiny.json"), "--prompt", "ab",
                "-n", "3"},
               {"glmrt_decoder_step", "model 'decoder' entry 'main' cannot run"});
}

TEST_F(GlmGenerate, GreedyStreamsTheSameTextEveryTime) {
  REQUIRE_TINY_GLM();
  std::vector<std::string> args = {tiny_glm("tiny-glm-decode.so"), "--tokenizer", tokenizer(),
                                   "--prompt", "Q: What is a computer?\nA:", "-n", "40",
                                   "--threads", "1", "--no-stop"};
  Result a = run(args), b = run(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_FALSE(a.out.empty());
  for (const char *part : {"prefill 10 tokens in", "decode 39 tokens in", "tokens/s",
                           "1 thread;", "peak memory", "(VmHWM)"})
    EXPECT_NE(a.err.find(part), std::string::npos) << part << " not in " << a.err;

  // The streamed text is the text of the generated ids.
  Json j = run_json({"--prompt", "Q: What is a computer?\nA:", "-n", "40", "--no-stop"});
  ASSERT_TRUE(j.get("text"));
  EXPECT_EQ(j.get("text")->as_string() + "\n", a.out);
  EXPECT_EQ(ints(j.get("generated_ids")).size(), 40u);
  EXPECT_EQ(j.get("decode_steps")->as_int(), 39);
  EXPECT_EQ(j.get("prefill_tokens")->as_int(), 10);
  EXPECT_EQ(j.get("threads")->as_int(), 1);
  EXPECT_GT(j.get("peak_rss_kib")->as_int(), 0);
  EXPECT_EQ(j.get("kv_cache_bytes")->as_int(), 4 * 2 * 2 * 50 * 32 * 4);
  EXPECT_EQ(j.get("stop")->as_string(), "tokens");
}

TEST_F(GlmGenerate, IdsMatchTheFixtures) {
  REQUIRE_TINY_GLM();
  // The prompt's ids (first line) as HF tokenizers gives them
  // (tokenizer-fixtures.json), then the generated ones.
  Result r = run({tiny_glm("tiny-glm-decode.so"), "--tokenizer", tokenizer(), "--prompt",
                  "It's a dog's life; they're sure we've won, I'm told, we'll see, he'd go.",
                  "-n", "5", "--ids", "--no-stop", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t nl = r.out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  Json fixtures;
  ASSERT_EQ(Json::parse(slurp(std::string(GLM_TEST_MODELS_DIR) +
                              "/tiny-glm/tokenizer-fixtures.json"),
                        &fixtures),
            "");
  std::string want;
  for (const Json &c : fixtures.get("encode")->items()) {
    if (c.get("text")->as_string() !=
        "It's a dog's life; they're sure we've won, I'm told, we'll see, he'd go.")
      continue;
    for (const Json &id : c.get("ids")->items())
      want += (want.empty() ? "" : " ") + std::to_string(id.as_int());
  }
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(r.out.substr(0, nl), want);
  std::string generated = r.out.substr(nl + 1);
  EXPECT_EQ(std::count(generated.begin(), generated.end(), ' '), 4) << generated;
}

TEST_F(GlmGenerate, PromptIdsAndRepeats) {
  REQUIRE_TINY_GLM();
  Json text = run_json({"--prompt", "Hello", "-n", "12", "--no-stop"});
  EXPECT_EQ(ints(text.get("prompt_ids")), (std::vector<int64_t>{40, 458, 79}));
  Json ids = run_json({"--prompt-ids", "40, 458 79", "-n", "12", "--no-stop"});
  EXPECT_EQ(ints(ids.get("generated_ids")), ints(text.get("generated_ids")));
  EXPECT_EQ(ids.get("text")->as_string(), text.get("text")->as_string());
  // --repeat: the same tokens every run (the sampler re-seeded), medians.
  Json sampled = run_json({"--prompt", "Hello", "-n", "12", "--no-stop", "--temperature",
                           "0.9", "--seed", "5"});
  Json repeated = run_json({"--prompt", "Hello", "-n", "12", "--no-stop", "--temperature",
                            "0.9", "--seed", "5", "--repeat", "3"});
  EXPECT_EQ(ints(repeated.get("generated_ids")), ints(sampled.get("generated_ids")));
  EXPECT_EQ(repeated.get("runs")->as_int(), 3);
  EXPECT_EQ(sampled.get("runs")->as_int(), 1);
  EXPECT_EQ(repeated.get("decode_steps")->as_int(), 11);
}

TEST_F(GlmGenerate, SamplingIsSeeded) {
  REQUIRE_TINY_GLM();
  auto sample = [&](const char *seed) {
    Json j = run_json({"--prompt", "The", "-n", "32", "--no-stop", "--temperature", "1.0",
                       "--top-k", "50", "--top-p", "0.95", "--seed", seed});
    return ints(j.get("generated_ids"));
  };
  std::vector<int64_t> a = sample("1"), b = sample("1"), c = sample("2");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Top-k 1 is greedy.
  Json greedy = run_json({"--prompt", "The", "-n", "16", "--no-stop"});
  Json top1 = run_json({"--prompt", "The", "-n", "16", "--no-stop", "--top-k", "1",
                        "--seed", "9"});
  EXPECT_EQ(ints(greedy.get("generated_ids")), ints(top1.get("generated_ids")));
}

TEST_F(GlmGenerate, StopsAtEndOfTextAndAtMaxLength) {
  REQUIRE_TINY_GLM();
  Json stopped = run_json({"--prompt", "The meaning of life is", "-n", "64"});
  std::vector<int64_t> ids = ints(stopped.get("generated_ids"));
  ASSERT_FALSE(ids.empty());
  if (stopped.get("stop")->as_string() == "eos") {
    EXPECT_EQ(ids.back(), 0); // <|endoftext|> ends it and is the last id
    EXPECT_LT(ids.size(), 64u);
    Json on = run_json({"--prompt", "The meaning of life is", "-n", "64", "--no-stop"});
    std::vector<int64_t> more = ints(on.get("generated_ids"));
    EXPECT_EQ(more.size(), 64u);
    EXPECT_EQ(std::vector<int64_t>(more.begin(), more.begin() + long(ids.size())), ids);
  } else {
    ADD_FAILURE() << "greedy decoding of this prompt no longer reaches <|endoftext|> "
                     "within 64 tokens; pick another prompt";
  }
  // --max-length: 6 prompt tokens, room for 5 more (the last needs no step).
  Result r;
  Json full = run_json({"--prompt", "The meaning of life is", "-n", "64", "--no-stop",
                        "--max-length", "10"},
                       &r);
  EXPECT_EQ(ints(full.get("generated_ids")).size(), 5u);
  EXPECT_EQ(full.get("stop")->as_string(), "max_length");
  EXPECT_NE(r.err.find("stopped at --max-length 10 tokens"), std::string::npos) << r.err;
}

TEST_F(GlmGenerate, RefusesTheFullSequenceExport) {
  REQUIRE_TINY_GLM();
  expect_error({tiny_glm("tiny-glm.so"), "--tokenizer", tokenizer(), "--prompt", "Hello"},
               {"is not a decoder model glm-generate can run",
                "model 'tiny-glm' entry 'main' cannot be run by a decoder",
                "no past_key_values"});
}

TEST_F(GlmGenerate, Glm4TokenizerPromptAsHfWithAndWithoutSpecialTokens) {
  REQUIRE_TINY_GLM();
  // tiny-glm's 2048 logits cover the GLM-4-style fixture's 2017 ids.
  Json fixtures;
  ASSERT_EQ(Json::parse(slurp(std::string(GLM_TEST_MODELS_DIR) + "/hf-tokenizers/fixtures.json"),
                        &fixtures),
            "");
  const Json *glm4 = &fixtures.get("files")->items()[0];
  ASSERT_EQ(glm4->get("file")->as_string(), "glm4.json");
  const std::string prompt = "<|system|>\nYou are GLM.<|user|>\nhi";
  std::string want, want_plain;
  const std::vector<Json> &texts = fixtures.get("texts")->items();
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].as_string() != prompt) continue;
    for (const Json &id : glm4->get("encode")->items()[i].items())
      want += (want.empty() ? "" : " ") + std::to_string(id.as_int());
    for (const Json &id : glm4->get("encode_plain")->items()[i].items())
      want_plain += (want_plain.empty() ? "" : " ") + std::to_string(id.as_int());
  }
  ASSERT_FALSE(want.empty());
  for (bool special : {true, false}) {
    std::vector<std::string> args = {tiny_glm("tiny-glm-decode.so"), "--tokenizer",
                                     hf_tokenizer("glm4.json"), "--prompt", prompt, "-n", "3",
                                     "--ids", "--no-stop", "--threads", "1", "--quiet"};
    if (!special) args.push_back("--no-special");
    Result r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), special ? want : want_plain);
  }
  EXPECT_EQ(want.rfind("2002 2004 ", 0), 0u) << want; // [gMASK] <sop>
}

TEST_F(GlmGenerate, EosTakesIdsAndTokenStrings) {
  REQUIRE_TINY_GLM();
  auto generate = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--prompt", "The meaning of life is", "-n", "16",
                                     "--tokenizer", hf_tokenizer("glm4.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_json(args);
  };
  Json unstopped = generate({"--no-stop"});
  std::vector<int64_t> all = ints(unstopped.get("generated_ids"));
  ASSERT_EQ(all.size(), 16u);
  EXPECT_EQ(unstopped.get("stop")->as_string(), "tokens");
  // Stop at the 5th token's id, given with token strings that never come
  // and in two options.
  const int64_t at = all[4];
  size_t first = size_t(std::find(all.begin(), all.end(), at) - all.begin());
  Json stopped = generate({"--eos", "<|observation|>", "--eos", "<|user|>," + std::to_string(at)});
  std::vector<int64_t> ids = ints(stopped.get("generated_ids"));
  EXPECT_EQ(stopped.get("stop")->as_string(), "eos");
  EXPECT_EQ(ids, std::vector<int64_t>(all.begin(), all.begin() + long(first) + 1));
  // The stop token is the last id; the text is that of the others.
  Json before = generate({"--no-stop", "-n", std::to_string(first)});
  EXPECT_EQ(stopped.get("text")->as_string(), before.get("text")->as_string());
}
