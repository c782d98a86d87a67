//===- glm-generate.cpp - Generate text with a glmc-compiled decoder -------===//
//
//   glm-generate model.so --tokenizer tokenizer.json --prompt "..." [-n 64]
//                [--temperature T] [--top-k K] [--top-p P] [--seed S]
//                [--max-length L] [--threads N] [--ids] [--json]
//                [--no-stop] [--eos TOKENS] [--no-special] [--quiet]
//                [--prompt-ids IDS] [--repeat R]
//
// The model is a decode-with-cache export compiled by glmc, run through a
// glmrt decoder (runtime/include/glmrt/glmrt.h): the prompt in one prefill,
// then one step per token. Text streams to stdout as tokens arrive; the
// speeds and the peak memory go to stderr. Exit status: 0 on success, 1 on
// any failure (one "glm-generate: error: ..." line on stderr).
//
//===----------------------------------------------------------------------===//
#include "json.h"
#include "sampler.h"
#include "tokenizer.h"

#include <glmrt/glmrt.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

const char kUsage[] =
    "usage: glm-generate MODEL.so --tokenizer TOKENIZER.json --prompt TEXT "
    "[options]\n"
    "\n"
    "Generates text with a decoder model compiled by glmc from a KV-cache\n"
    "(decoder-with-past) ONNX export, streaming it to stdout.\n"
    "\n"
    "options:\n"
    "  --tokenizer FILE    the HF tokenizer.json (byte-level BPE: GPT-2, GLM-4,\n"
    "                      Llama-3 and Qwen2 style)\n"
    "  --prompt TEXT       the prompt (UTF-8)\n"
    "  --prompt-ids IDS    the prompt as token ids (\"1,2,3\" or \"1 2 3\"),\n"
    "                      instead of --prompt\n"
    "  -n, --max-new-tokens N\n"
    "                      tokens to generate (default 64)\n"
    "  --temperature T     sample from softmax(logits / T); 0 (default) is\n"
    "                      greedy\n"
    "  --top-k K           sample among the K most likely tokens (0: all)\n"
    "  --top-p P           sample among the most likely tokens whose\n"
    "                      probability reaches P (1: all)\n"
    "  --seed S            the sampler's seed (default 0); the same seed\n"
    "                      gives the same text\n"
    "  --max-length L      tokens the KV cache holds, prompt included\n"
    "                      (default: prompt + N)\n"
    "  --threads N         threads (default 0: one per CPU)\n"
    "  --ids               print token ids instead of text: the prompt's on\n"
    "                      one line, then the generated ones\n"
    "  --json              print one JSON object at the end (ids, text,\n"
    "                      speeds, memory) instead of streaming\n"
    "  --no-special        do not put the tokenizer's template tokens around the\n"
    "                      prompt (HF's add_special_tokens=False; e.g. GLM-4's\n"
    "                      [gMASK] <sop>, Llama-3's <|begin_of_text|>); special\n"
    "                      tokens written in the prompt are still matched\n"
    "  --no-stop           do not stop at an end token\n"
    "  --eos TOKENS        the tokens that end generation: token ids or token\n"
    "                      strings, comma-separated, the option repeatable\n"
    "                      (default: those of <|endoftext|>, <|user|>,\n"
    "                      <|observation|> (GLM-4), <|eot_id|>, <|end_of_text|>\n"
    "                      (Llama-3), <|im_end|> (Qwen2) the tokenizer has)\n"
    "  --quiet             do not print speeds and memory to stderr\n"
    "  --repeat R          generate R times (the decoder reset in between, the\n"
    "                      sampler re-seeded) and report the median speeds;\n"
    "                      the output is the last run's (for benchmarks)\n"
    "  -h, --help          this text\n"
    "\n"
    "Top-k and top-p without --temperature sample at temperature 1.\n";

struct Options {
  std::string model, tokenizer, prompt;
  bool prompt_given = false;
  std::vector<int32_t> prompt_ids;
  bool prompt_ids_given = false;
  long repeat = 1;
  long new_tokens = 64;
  double temperature = 0;
  bool temperature_given = false;
  long top_k = 0;
  double top_p = 1;
  uint64_t seed = 0;
  long max_length = 0;
  long threads = 0;
  bool ids = false, json = false, no_stop = false, quiet = false, no_special = false;
  std::vector<std::string> eos; // as given, resolved with the tokenizer
};

int fail(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "glm-generate: error: %s\n", message.c_str());
  return 1;
}

bool parse_long(const std::string &text, long min, long max, long *out) {
  if (text.empty()) return false;
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

bool parse_double(const std::string &text, double min, double max, double *out) {
  if (text.empty()) return false;
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0' || !(value >= min && value <= max)) return false;
  *out = value;
  return true;
}

std::string parse_args(int argc, char **argv, Options *o, bool *help) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inline_value = true;
      }
    }
    auto take = [&](std::string *out) {
      if (inline_value) {
        *out = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      *help = true;
    } else if (arg == "--tokenizer") {
      if (!take(&v) || v.empty()) return "--tokenizer needs a file";
      o->tokenizer = v;
    } else if (arg == "--prompt") {
      if (!take(&v)) return "--prompt needs a text";
      o->prompt = v;
      o->prompt_given = true;
    } else if (arg == "--prompt-ids") {
      if (!take(&v)) return "--prompt-ids needs token ids";
      o->prompt_ids.clear();
      std::string token;
      for (size_t k = 0; k <= v.size(); ++k) {
        if (k == v.size() || v[k] == ',' || v[k] == ' ') {
          long id = 0;
          if (!token.empty() && !parse_long(token, 0, 1L << 30, &id))
            return "--prompt-ids: '" + token + "' is not a token id";
          if (!token.empty()) o->prompt_ids.push_back(int32_t(id));
          token.clear();
        } else {
          token += v[k];
        }
      }
      o->prompt_ids_given = true;
    } else if (arg == "--repeat") {
      if (!take(&v) || !parse_long(v, 1, 1000000, &o->repeat))
        return "--repeat needs a positive number of runs, got '" + v + "'";
    } else if (arg == "-n" || arg == "--max-new-tokens") {
      if (!take(&v) || !parse_long(v, 0, 1 << 24, &o->new_tokens))
        return arg + " needs a number of tokens, got '" + v + "'";
    } else if (arg == "--temperature") {
      if (!take(&v) || !parse_double(v, 0, 1e6, &o->temperature))
        return "--temperature needs a number >= 0, got '" + v + "'";
      o->temperature_given = true;
    } else if (arg == "--top-k") {
      if (!take(&v) || !parse_long(v, 0, 1L << 30, &o->top_k))
        return "--top-k needs a number >= 0, got '" + v + "'";
    } else if (arg == "--top-p") {
      if (!take(&v) || !parse_double(v, 0, 1, &o->top_p) || o->top_p <= 0)
        return "--top-p needs a number in (0, 1], got '" + v + "'";
    } else if (arg == "--seed") {
      char *end = nullptr;
      if (!take(&v) || v.empty() || v[0] == '-') return "--seed needs a number >= 0, got '" + v + "'";
      errno = 0;
      unsigned long long s = std::strtoull(v.c_str(), &end, 10);
      if (errno != 0 || *end != '\0') return "--seed needs a number >= 0, got '" + v + "'";
      o->seed = s;
    } else if (arg == "--max-length") {
      if (!take(&v) || !parse_long(v, 1, 1L << 30, &o->max_length))
        return "--max-length needs a positive number of tokens, got '" + v + "'";
    } else if (arg == "--threads") {
      if (!take(&v) || !parse_long(v, 0, 4096, &o->threads))
        return "--threads needs a number from 0 to 4096, got '" + v + "'";
    } else if (arg == "--eos") {
      if (!take(&v) || v.empty()) return "--eos needs token ids or token strings";
      o->eos.push_back(v);
    } else if (arg == "--no-special" && !inline_value) {
      o->no_special = true;
    } else if (arg == "--ids" && !inline_value) {
      o->ids = true;
    } else if (arg == "--json" && !inline_value) {
      o->json = true;
    } else if (arg == "--no-stop" && !inline_value) {
      o->no_stop = true;
    } else if (arg == "--quiet" && !inline_value) {
      o->quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return "unknown option '" + std::string(argv[i]) + "'";
    } else if (o->model.empty()) {
      o->model = arg;
    } else {
      return "unexpected argument '" + arg + "' (the model is '" + o->model +
             "'; the prompt goes after --prompt)";
    }
  }
  if (*help) return "";
  if (o->model.empty()) return "no model given";
  if (o->tokenizer.empty()) return "no tokenizer given (--tokenizer tokenizer.json)";
  if (!o->prompt_given && !o->prompt_ids_given)
    return "no prompt given (--prompt TEXT or --prompt-ids IDS)";
  if (o->prompt_given && o->prompt_ids_given)
    return "--prompt and --prompt-ids do not go together";
  if (o->ids && o->json) return "--ids and --json do not go together";
  if (o->no_special && o->prompt_ids_given)
    return "--no-special does not go with --prompt-ids (the ids are taken as they are)";
  return "";
}

/// Peak resident memory of this process in KiB (VmHWM), 0 if unknown.
long peak_rss_kib() {
  FILE *f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof(line), f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kib;
}

std::string ids_text(const std::vector<int32_t> &ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

std::string ids_json(const std::vector<int32_t> &ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const Options &o) {
  glmgen::Tokenizer tokenizer;
  std::string error = glmgen::Tokenizer::load(o.tokenizer, &tokenizer);
  if (!error.empty()) return fail("tokenizer '" + o.tokenizer + "': " + error);
  std::vector<int32_t> prompt = o.prompt_ids;
  if (!o.prompt_ids_given) {
    error = tokenizer.encode(o.prompt, &prompt, !o.no_special);
    if (!error.empty()) return fail("the prompt cannot be tokenized: " + error);
  }
  if (prompt.empty()) return fail("the prompt is empty: it has no tokens");

  std::vector<int32_t> stop = tokenizer.default_stop_ids();
  if (!o.eos.empty()) stop.clear();
  for (const std::string &spec : o.eos) {
    // Digits are a token id; a token string as a whole (it may hold
    // commas); else a comma-separated list of those.
    auto is_number = [](const std::string &s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    std::vector<std::string> items;
    if (!is_number(spec) && tokenizer.token_to_id(spec) >= 0) {
      items.push_back(spec);
    } else {
      for (size_t k = 0, from = 0; k <= spec.size(); ++k) {
        if (k < spec.size() && spec[k] != ',') continue;
        if (k > from) items.push_back(spec.substr(from, k - from));
        from = k + 1;
      }
    }
    for (const std::string &item : items) {
      long id = -1;
      if (!is_number(item)) id = tokenizer.token_to_id(item);
      else if (!parse_long(item, 0, 1L << 30, &id)) id = -1;
      if (id < 0)
        return fail("--eos: '" + item + "' is neither a token id nor a token of '" +
                    o.tokenizer + "'");
      stop.push_back(int32_t(id));
    }
  }
  long max_length = o.max_length ? o.max_length : long(prompt.size()) + std::max(o.new_tokens, 1L);
  if (long(prompt.size()) > max_length)
    return fail("the prompt has " + std::to_string(prompt.size()) +
                " tokens, more than --max-length " + std::to_string(max_length));
  if (max_length > 0xFFFFFFFFL) return fail("--max-length is too large");

  glmrt::Model model;
  glmrt::Status status = glmrt::Model::load(o.model.c_str(), &model);
  if (!status.ok()) return fail(status.message());
  glmrt::SessionOptions session_options;
  session_options.num_threads = uint32_t(o.threads);
  glmrt::DecoderOptions decoder_options{uint32_t(max_length)};
  decoder_options.session_options = &session_options;
  glmrt::Decoder decoder;
  status = glmrt::Decoder::create(model, decoder_options, &decoder);
  if (!status.ok())
    return fail("'" + o.model + "' is not a decoder model glm-generate can run: " +
                status.message());
  const size_t vocab = decoder.vocab_size();
  for (int32_t id : prompt)
    if (size_t(id) >= vocab)
      return fail("the tokenizer gave token " + std::to_string(id) +
                  ", but the model's vocabulary has " + std::to_string(vocab) +
                  " tokens (do the tokenizer and the model belong together?)");

  glmgen::SamplerOptions sampler_options;
  sampler_options.temperature =
      o.temperature_given ? o.temperature : (o.top_k > 0 || o.top_p < 1) ? 1.0 : 0.0;
  sampler_options.top_k = size_t(o.top_k);
  sampler_options.top_p = o.top_p;
  sampler_options.seed = o.seed;

  if (o.ids) {
    std::printf("%s\n", ids_text(prompt).c_str());
    std::fflush(stdout);
  }

  // One generation; only the last of --repeat runs prints.
  struct Run {
    std::vector<int32_t> generated;
    std::string text;
    double prefill_s = 0, decode_s = 0;
    long steps = 0;
    bool stopped_at_eos = false, hit_max_length = false;
  };
  std::vector<int64_t> prompt64(prompt.begin(), prompt.end());
  auto generate = [&](bool print, Run *run) -> glmrt::Status {
    glmgen::Sampler sampler(sampler_options);
    glmrt::Status st = decoder.reset();
    if (!st.ok()) return st;
    // Prefill.
    const float *logits = nullptr;
    auto start = std::chrono::steady_clock::now();
    st = decoder.prefill(prompt64, &logits);
    run->prefill_s = seconds_since(start);
    if (!st.ok()) return st;
    logits += (prompt.size() - 1) * vocab;
    // Decode: each token comes from the last logits; a step feeds it back.
    glmgen::Utf8Stream stream;
    for (long i = 0; i < o.new_tokens; ++i) {
      int32_t token = sampler.sample(logits, vocab);
      run->generated.push_back(token);
      if (!o.no_stop && std::find(stop.begin(), stop.end(), token) != stop.end()) {
        run->stopped_at_eos = true;
        break;
      }
      if (o.ids) {
        if (print) {
          std::printf("%s%d", run->generated.size() > 1 ? " " : "", token);
          std::fflush(stdout);
        }
      } else {
        std::string piece = stream.push(tokenizer.token_bytes(token));
        run->text += piece;
        if (print && !o.json && !piece.empty()) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
        }
      }
      if (i + 1 == o.new_tokens) break;
      if (decoder.length() == decoder.max_length()) {
        run->hit_max_length = true;
        break;
      }
      int64_t next = token;
      start = std::chrono::steady_clock::now();
      st = decoder.step(&next, &logits);
      run->decode_s += seconds_since(start);
      if (!st.ok()) return st;
      ++run->steps;
    }
    std::string tail = stream.finish();
    run->text += tail;
    if (print) {
      if (o.ids && run->stopped_at_eos)
        std::printf("%s%d", run->generated.size() > 1 ? " " : "", run->generated.back());
      if (o.ids) {
        std::printf("\n");
      } else if (!o.json) {
        std::fwrite(tail.data(), 1, tail.size(), stdout);
        std::printf("\n");
      }
      std::fflush(stdout);
    }
    return glmrt::Status();
  };

  Run last;
  std::vector<double> prefill_times, decode_times;
  for (long r = 0; r < o.repeat; ++r) {
    last = Run();
    status = generate(r + 1 == o.repeat, &last);
    if (!status.ok()) return fail(status.message());
    prefill_times.push_back(last.prefill_s);
    decode_times.push_back(last.decode_s);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  const std::vector<int32_t> &generated = last.generated;
  const std::string &text = last.text;
  double prefill_s = median(prefill_times), decode_s = median(decode_times);
  long steps = last.steps;
  bool stopped_at_eos = last.stopped_at_eos, hit_max_length = last.hit_max_length;

  double prefill_tps = prefill_s > 0 ? double(prompt.size()) / prefill_s : 0;
  double decode_tps = decode_s > 0 ? double(steps) / decode_s : 0;
  long peak = peak_rss_kib();
  uint32_t threads = glmrt_session_num_threads(decoder.session());
  if (o.json) {
    std::printf(
        "{\"model\": %s, \"prompt_ids\": %s, \"generated_ids\": %s, \"text\": %s,\n"
        " \"stop\": \"%s\", \"threads\": %u, \"max_length\": %zu,\n"
        " \"prefill_tokens\": %zu, \"prefill_s\": %.6f, \"prefill_tokens_per_s\": %.3f,\n"
        " \"decode_steps\": %ld, \"decode_s\": %.6f, \"decode_tokens_per_s\": %.3f,\n"
        " \"peak_rss_kib\": %ld, \"kv_cache_bytes\": %zu, \"runs\": %ld}\n",
        glmgen::json_quote(model.name()).c_str(), ids_json(prompt).c_str(),
        ids_json(generated).c_str(), glmgen::json_quote(text).c_str(),
        stopped_at_eos ? "eos" : hit_max_length ? "max_length" : "tokens", threads,
        decoder.max_length(), prompt.size(), prefill_s, prefill_tps, steps, decode_s,
        decode_tps, peak, decoder.cache_bytes(), o.repeat);
    std::fflush(stdout);
  }
  if (hit_max_length)
    std::fprintf(stderr, "glm-generate: stopped at --max-length %zu tokens\n",
                 decoder.max_length());
  if (!o.quiet)
    std::fprintf(stderr,
                 "glm-generate: prefill %zu tokens in %.2f ms (%.1f tokens/s); "
                 "decode %ld tokens in %.2f ms (%.1f tokens/s); %u thread%s; "
                 "peak memory %.1f MiB (VmHWM)\n",
                 prompt.size(), prefill_s * 1e3, prefill_tps, steps, decode_s * 1e3,
                 decode_tps, threads, threads == 1 ? "" : "s", double(peak) / 1024.0);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  bool help = false;
  std::string error = parse_args(argc, argv, &options, &help);
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!error.empty()) {
    std::fprintf(stderr, "glm-generate: error: %s\nrun 'glm-generate --help' for usage\n",
                 error.c_str());
    return 1;
  }
  return run(options);
}
