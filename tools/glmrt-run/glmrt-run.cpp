//===- glmrt-run.cpp - Run a glmc model.so on .npy files -------------------===//
//
//   glmrt-run model.so --input x.npy [--input name=y.npy ...]
//             [--output y.npy | --output name=y.npy ...] [--entry main]
//             [--threads N] [--bench N [--warmup W] [--bench-json FILE]]
//             [--profile [--profile-json FILE] [--trace FILE]]
//             [--print] [--info] [--no-checksum] [--no-block-cache]
//
// Exit status: 0 on success, 1 on any failure (with a message on stderr).
//
//===----------------------------------------------------------------------===//
#include "npy.h"

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
    "usage: glmrt-run MODEL.so [options]\n"
    "\n"
    "Runs an entry of a glmc model on inputs read from NumPy .npy files.\n"
    "\n"
    "options:\n"
    "  --input [NAME=]FILE.npy   an input; without NAME, inputs are taken in\n"
    "                            the entry's order (repeatable)\n"
    "  --output [NAME=]FILE.npy  write an output; without NAME, in the entry's\n"
    "                            order (repeatable)\n"
    "  --entry NAME              the entry to run (default: main)\n"
    "  --threads N               session threads (default 0: one per CPU)\n"
    "  --print                   print the outputs\n"
    "  --info                    print the model's target, metadata, entries,\n"
    "                            inputs and outputs (runs nothing unless\n"
    "                            inputs are given; then also the run's peak\n"
    "                            memory)\n"
    "  --bench N                 time N runs; print latency p50/p90/p99/mean/\n"
    "                            min/max in ms\n"
    "  --warmup W                untimed runs before --bench (default 1)\n"
    "  --bench-json FILE         also write the --bench numbers as JSON\n"
    "  --profile                 time every layer of a model compiled with\n"
    "                            glmc --profile over the --bench runs (default\n"
    "                            10 after 1 warmup); print them slowest first\n"
    "                            with op, shape, share and GFLOP/s or GB/s\n"
    "  --profile-json FILE       also write the layer times as JSON\n"
    "  --trace FILE              also write a Chrome trace (Perfetto,\n"
    "                            chrome://tracing) of the profiled runs\n"
    "  --no-checksum             do not verify the weights checksum on load\n"
    "  --no-block-cache          take every block from libc, keep none for\n"
    "                            later runs (GLMRT_SESSION_FLAG_NO_BLOCK_CACHE)\n"
    "  -h, --help                this text\n";

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string entry = "main";
  uint32_t threads = 0;
  bool print = false;
  bool info = false;
  bool no_checksum = false;
  bool no_block_cache = false;
  long bench = 0;
  long warmup = 1;
  bool warmup_given = false;
  std::string bench_json;
  bool bench_given = false;
  bool profile = false;
  std::string profile_json;
  std::string trace;
};

int fail(const std::string &message) {
  std::fprintf(stderr, "glmrt-run: error: %s\n", message.c_str());
  return 1;
}

bool parse_count(const std::string &text, long min, long max, long *out) {
  if (text.empty()) return false;
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

/// Parses argv; returns "" or an error. Sets *help for -h.
std::string parse_args(int argc, char **argv, Options *o, bool *help) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline_value = true;
      }
    }
    auto take_value = [&](std::string *out) -> bool {
      if (has_inline_value) {
        *out = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    auto no_value = [&]() { return !has_inline_value; };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      *help = true;
    } else if (arg == "--input") {
      if (!take_value(&v)) return "--input needs a file";
      o->inputs.push_back(v);
    } else if (arg == "--output") {
      if (!take_value(&v)) return "--output needs a file";
      o->outputs.push_back(v);
    } else if (arg == "--entry") {
      if (!take_value(&v) || v.empty()) return "--entry needs a name";
      o->entry = v;
    } else if (arg == "--threads") {
      long n = 0;
      if (!take_value(&v) || !parse_count(v, 0, 4096, &n))
        return "--threads needs a number from 0 to 4096, got '" + v + "'";
      o->threads = static_cast<uint32_t>(n);
    } else if (arg == "--bench") {
      if (!take_value(&v) || !parse_count(v, 1, 100000000, &o->bench))
        return "--bench needs a positive number of runs, got '" + v + "'";
      o->bench_given = true;
    } else if (arg == "--warmup") {
      if (!take_value(&v) || !parse_count(v, 0, 100000000, &o->warmup))
        return "--warmup needs a number of runs, got '" + v + "'";
      o->warmup_given = true;
    } else if (arg == "--bench-json") {
      if (!take_value(&v) || v.empty()) return "--bench-json needs a file";
      o->bench_json = v;
    } else if (arg == "--profile" && no_value()) {
      o->profile = true;
    } else if (arg == "--profile-json") {
      if (!take_value(&v) || v.empty()) return "--profile-json needs a file";
      o->profile_json = v;
    } else if (arg == "--trace") {
      if (!take_value(&v) || v.empty()) return "--trace needs a file";
      o->trace = v;
    } else if (arg == "--print" && no_value()) {
      o->print = true;
    } else if (arg == "--info" && no_value()) {
      o->info = true;
    } else if (arg == "--no-checksum" && no_value()) {
      o->no_checksum = true;
    } else if (arg == "--no-block-cache" && no_value()) {
      o->no_block_cache = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return "unknown option '" + std::string(argv[i]) + "'";
    } else if (o->model.empty()) {
      o->model = arg;
    } else {
      return "unexpected argument '" + arg + "' (the model is '" + o->model +
             "'; inputs go after --input)";
    }
  }
  if (*help) return "";
  if (o->model.empty()) return "no model given";
  if ((!o->profile_json.empty() || !o->trace.empty()) && !o->profile)
    return "--profile-json and --trace need --profile";
  if (o->profile && o->bench == 0) {
    // Enough runs for stable layer times by default.
    o->bench = 10;
    if (!o->warmup_given) o->warmup = 1;
  } else if ((o->warmup_given || !o->bench_json.empty()) && o->bench == 0) {
    return "--warmup and --bench-json need --bench";
  }
  return "";
}

std::string shape_text(uint32_t rank, const int64_t *dims) {
  std::string s = "[";
  for (uint32_t i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += dims[i] < 0 ? "?" : std::to_string(dims[i]);
  }
  return s + "]";
}

/// Names and infos of an entry's inputs or outputs.
std::vector<glmrt::TensorInfo> tensor_infos(const glmrt::Entry &entry,
                                            bool outputs) {
  size_t n = outputs ? entry.output_count() : entry.input_count();
  std::vector<glmrt::TensorInfo> infos(n);
  for (size_t i = 0; i < n; ++i) {
    glmrt::Status status = outputs ? entry.output_info(i, &infos[i])
                                   : entry.input_info(i, &infos[i]);
    (void)status; // cannot fail for i < n
  }
  return infos;
}

void print_info(const glmrt::Model &model) {
  glmrt::ModelInfo info;
  glmrt::Status status = model.info(&info);
  char features[256];
  glmrt_cpu_features_format(info.cpu_features, features, sizeof(features));
  std::printf("model:    %s\n", model.name());
  std::printf("path:     %s\n", info.path ? info.path : "");
  std::printf("target:   %s (cpu %s)\n", model.target(), info.cpu);
  std::printf("abi:      %u.%u\n", unsigned(info.abi_major),
              unsigned(info.abi_minor));
  std::printf("features: %s\n", features[0] ? features : "(none)");
  std::printf("weights:  %" PRIu64 " bytes, %s\n", info.weights_size,
              info.weights_path ? info.weights_path : "embedded");
  std::printf("runtime:  glmrt %s on %s (%s)\n", glmrt_runtime_version_string(),
              glmrt_runtime_cpu_name(), glmrt_runtime_arch_name());
  std::printf("metadata: %s\n", model.metadata_json());
  for (size_t e = 0; e < model.entry_count(); ++e) {
    glmrt::Entry entry = model.entry(e);
    std::printf("entry %s\n", entry.name());
    for (int out = 0; out < 2; ++out) {
      for (const glmrt::TensorInfo &t : tensor_infos(entry, out != 0)) {
        std::printf("  %-6s %s: %s %s\n", out ? "output" : "input", t.name,
                    glmrt_dtype_name(static_cast<glmrt_dtype_t>(t.dtype)),
                    shape_text(t.rank, t.dims).c_str());
      }
    }
  }
}

/// Splits "name=path" when `name` is one of `names`; else the whole spec is
/// a path and *name stays empty.
void split_spec(const std::string &spec,
                const std::vector<glmrt::TensorInfo> &infos, std::string *name,
                std::string *path) {
  size_t eq = spec.find('=');
  if (eq != std::string::npos) {
    std::string prefix = spec.substr(0, eq);
    for (const glmrt::TensorInfo &t : infos) {
      if (prefix == t.name) {
        *name = prefix;
        *path = spec.substr(eq + 1);
        return;
      }
    }
  }
  name->clear();
  *path = spec;
}

std::string names_of(const std::vector<glmrt::TensorInfo> &infos) {
  std::string s;
  for (const glmrt::TensorInfo &t : infos) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s.empty() ? "none" : s;
}

/// Assigns specs to slots: name=path to that slot, plain paths to the next
/// free slot in order. Returns "" or an error.
std::string assign(const std::vector<std::string> &specs,
                   const std::vector<glmrt::TensorInfo> &infos,
                   const char *kind, const std::string &entry,
                   std::vector<std::string> *paths) {
  paths->assign(infos.size(), "");
  // Named ones first, so positional ones fill what is left.
  std::vector<std::string> positional;
  for (const std::string &spec : specs) {
    std::string name, path;
    split_spec(spec, infos, &name, &path);
    if (name.empty()) {
      positional.push_back(path);
      continue;
    }
    for (size_t i = 0; i < infos.size(); ++i) {
      if (name != infos[i].name) continue;
      if (!(*paths)[i].empty())
        return std::string(kind) + " '" + name + "' is given twice";
      (*paths)[i] = path;
    }
  }
  size_t next = 0;
  for (const std::string &path : positional) {
    while (next < infos.size() && !(*paths)[next].empty()) ++next;
    if (next == infos.size())
      return "too many " + std::string(kind) + "s: entry '" + entry +
             "' has " + std::to_string(infos.size()) + " (" + names_of(infos) +
             "), '" + path + "' is left over";
    (*paths)[next++] = path;
  }
  return "";
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float value;
  if (exp == 0) value = std::ldexp(float(mant), -24);
  else if (exp == 31) value = mant ? NAN : INFINITY;
  else value = std::ldexp(float(mant | 0x400), int(exp) - 25);
  return sign ? -value : value;
}

float bf16_to_float(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

bool is_small_float(glmrt_dtype_t dtype) {
  return dtype == GLMRT_DTYPE_F8E4M3FN || dtype == GLMRT_DTYPE_F8E4M3FNUZ ||
         dtype == GLMRT_DTYPE_F8E5M2 || dtype == GLMRT_DTYPE_F8E5M2FNUZ ||
         dtype == GLMRT_DTYPE_F4E2M1FN;
}

/// The value of a float8 / float4 bit pattern (ONNX's FLOAT8E4M3FN,
/// FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT4E2M1).
float small_float_to_float(glmrt_dtype_t dtype, uint8_t bits) {
  int exp_bits = 4, man_bits = 3, bias = 7;
  bool fnuz = false;
  switch (dtype) {
  case GLMRT_DTYPE_F8E4M3FNUZ: bias = 8; fnuz = true; break;
  case GLMRT_DTYPE_F8E5M2: exp_bits = 5; man_bits = 2; bias = 15; break;
  case GLMRT_DTYPE_F8E5M2FNUZ: exp_bits = 5; man_bits = 2; bias = 16; fnuz = true; break;
  case GLMRT_DTYPE_F4E2M1FN: exp_bits = 2; man_bits = 1; bias = 1; bits &= 0xf; break;
  default: break;
  }
  int width = 1 + exp_bits + man_bits;
  uint32_t sign = (bits >> (width - 1)) & 1;
  uint32_t mag = bits & ((1u << (width - 1)) - 1);
  uint32_t e = mag >> man_bits, m = mag & ((1u << man_bits) - 1);
  if (fnuz && sign && mag == 0) return NAN;
  if (dtype == GLMRT_DTYPE_F8E4M3FN && mag == 0x7f) return sign ? -NAN : NAN;
  if (dtype == GLMRT_DTYPE_F8E5M2 && e == 31) {
    float special = m ? NAN : INFINITY;
    return sign ? -special : special;
  }
  float value = e == 0 ? std::ldexp(float(m), 1 - bias - man_bits)
                       : std::ldexp(float(m | (1u << man_bits)), int(e) - bias - man_bits);
  return sign ? -value : value;
}

std::string element_text(glmrt_dtype_t dtype, const unsigned char *p) {
  char buffer[64];
  switch (dtype) {
  case GLMRT_DTYPE_F32: {
    float v;
    std::memcpy(&v, p, 4);
    std::snprintf(buffer, sizeof(buffer), "%.7g", double(v));
    break;
  }
  case GLMRT_DTYPE_F64: {
    double v;
    std::memcpy(&v, p, 8);
    std::snprintf(buffer, sizeof(buffer), "%.16g", v);
    break;
  }
  case GLMRT_DTYPE_F16:
  case GLMRT_DTYPE_BF16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    float f = dtype == GLMRT_DTYPE_F16 ? half_to_float(v) : bf16_to_float(v);
    std::snprintf(buffer, sizeof(buffer), "%.5g", double(f));
    break;
  }
#define INT_CASE(DT, T, FMT)                                                   \
  case DT: {                                                                   \
    T v;                                                                       \
    std::memcpy(&v, p, sizeof(T));                                             \
    std::snprintf(buffer, sizeof(buffer), "%" FMT, v);                         \
    break;                                                                     \
  }
    INT_CASE(GLMRT_DTYPE_I8, int8_t, PRId8)
    INT_CASE(GLMRT_DTYPE_U8, uint8_t, PRIu8)
    INT_CASE(GLMRT_DTYPE_I16, int16_t, PRId16)
    INT_CASE(GLMRT_DTYPE_U16, uint16_t, PRIu16)
    INT_CASE(GLMRT_DTYPE_I32, int32_t, PRId32)
    INT_CASE(GLMRT_DTYPE_U32, uint32_t, PRIu32)
    INT_CASE(GLMRT_DTYPE_I64, int64_t, PRId64)
    INT_CASE(GLMRT_DTYPE_U64, uint64_t, PRIu64)
#undef INT_CASE
  case GLMRT_DTYPE_BOOL:
    return *p ? "true" : "false";
  case GLMRT_DTYPE_I4:
    std::snprintf(buffer, sizeof(buffer), "%d", int(int8_t(uint8_t(*p << 4)) >> 4));
    break;
  case GLMRT_DTYPE_U4:
    std::snprintf(buffer, sizeof(buffer), "%u", unsigned(*p & 0xf));
    break;
  default:
    if (!is_small_float(dtype)) return "?";
    std::snprintf(buffer, sizeof(buffer), "%.5g", double(small_float_to_float(dtype, *p)));
    break;
  }
  return buffer;
}

void print_tensor(const char *name, const glmrt::Tensor &t) {
  constexpr int64_t kMaxShown = 256;
  glmrt_dtype_t dtype = t.dtype();
  std::printf("%s: %s %s\n", name, glmrt_dtype_name(dtype),
              shape_text(t.rank(), t.dims()).c_str());
  int64_t n = t.element_count();
  size_t elem = glmrt_dtype_size(dtype);
  const unsigned char *p = static_cast<const unsigned char *>(t.data());
  std::string line = "  [";
  for (int64_t i = 0; i < n && i < kMaxShown; ++i) {
    if (i) line += ", ";
    line += element_text(dtype, p + size_t(i) * elem);
  }
  if (n > kMaxShown) line += ", ... (" + std::to_string(n) + " values)";
  line += "]";
  std::printf("%s\n", line.c_str());
}

struct Latency {
  double p50, p90, p99, mean, min, max;
};

Latency summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    // Nearest rank.
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * ms.size()));
    return ms[rank ? rank - 1 : 0];
  };
  double sum = 0;
  for (double v : ms) sum += v;
  return {pct(50), pct(90), pct(99), sum / ms.size(), ms.front(), ms.back()};
}

std::string json_escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

/// Prints the session's per-layer profile (slowest first) and writes the
/// --profile-json and --trace files. Returns "" or an error.
std::string report_profile(const Options &o, const glmrt::Model &model,
                           const glmrt::Session &session,
                           const std::vector<double> &times_ms, bool rates) {
  glmrt::ProfileSummary summary;
  glmrt::Status status = session.profile_summary(&summary);
  if (!status.ok()) return status.message();
  std::vector<glmrt::ProfileLayerInfo> layers(summary.num_layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    status = session.profile_layer(i, &layers[i]);
    if (!status.ok()) return status.message();
  }
  double runs = summary.runs ? double(summary.runs) : 1.0;
  double measured = times_ms.empty() ? 0.0 : summarize(times_ms).mean;
  double layer_ms = summary.layer_ns / 1e6 / runs;
  double run_ms = summary.run_ns / 1e6 / runs;
  std::vector<size_t> order(layers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return layers[a].total_ns > layers[b].total_ns;
  });
  std::printf("profile: %" PRIu64 " runs, %u threads, entry '%s', %zu layers\n",
              summary.runs, session.num_threads(), o.entry.c_str(), layers.size());
  std::printf("measured %.4f ms/run, model %.4f ms/run, layers %.4f ms/run "
              "(%.1f%% of measured)\n",
              measured, run_ms, layer_ms, measured > 0 ? 100.0 * layer_ms / measured : 0.0);
  std::printf("%10s %6s %6s %9s %8s  %-22s %-16s %s\n", "ms/run", "share", "cum%",
              "GFLOP/s", "GB/s", "op", "shape", "layer");
  double cumulative = 0;
  for (size_t i : order) {
    const glmrt::ProfileLayerInfo &l = layers[i];
    double ms = l.total_ns / 1e6 / runs;
    double share = layer_ms > 0 ? 100.0 * ms / layer_ms : 0.0;
    cumulative += share;
    double per_call_s = l.calls ? l.total_ns / 1e9 / double(l.calls) : 0.0;
    char gflops[32] = "-", gbs[32] = "-";
    if (rates && per_call_s > 0 && l.flops)
      std::snprintf(gflops, sizeof(gflops), "%.1f", l.flops / per_call_s / 1e9);
    if (rates && per_call_s > 0 && l.bytes)
      std::snprintf(gbs, sizeof(gbs), "%.1f", l.bytes / per_call_s / 1e9);
    std::printf("%10.4f %5.1f%% %5.1f%% %9s %8s  %-22s %-16s %s\n", ms, share,
                cumulative, gflops, gbs, l.op, l.shape, l.name);
  }
  if (!rates)
    std::printf("(no rates: FLOPs and bytes count dynamic dims as 1, and this "
                "run's dynamic input dims are not all 1)\n");
  if (!o.profile_json.empty()) {
    FILE *f = std::fopen(o.profile_json.c_str(), "w");
    if (!f) return "cannot write " + o.profile_json + ": " + std::strerror(errno);
    std::fprintf(f,
                 "{\n  \"format\": \"glmrt-profile-v1\",\n  \"model\": \"%s\",\n"
                 "  \"entry\": \"%s\",\n  \"threads\": %u,\n  \"runs\": %" PRIu64 ",\n"
                 "  \"measured_ms\": %.6f,\n  \"run_ms\": %.6f,\n  \"layers_ms\": %.6f,\n"
                 "  \"rates_exact\": %s,\n  \"layers\": [",
                 json_escape(model.name()).c_str(), json_escape(o.entry).c_str(),
                 session.num_threads(), summary.runs, measured, run_ms, layer_ms,
                 rates ? "true" : "false");
    for (size_t i = 0; i < layers.size(); ++i) {
      const glmrt::ProfileLayerInfo &l = layers[i];
      std::fprintf(f,
                   "%s\n    {\"index\": %zu, \"name\": \"%s\", \"op\": \"%s\", "
                   "\"shape\": \"%s\", \"flops\": %" PRIu64 ", \"bytes\": %" PRIu64
                   ", \"calls\": %" PRIu64 ", \"ms\": %.6f}",
                   i ? "," : "", i, json_escape(l.name).c_str(), json_escape(l.op).c_str(),
                   json_escape(l.shape).c_str(), l.flops, l.bytes, l.calls,
                   l.total_ns / 1e6 / runs);
    }
    std::fprintf(f, "\n  ]\n}\n");
    if (std::fclose(f) != 0) return "cannot write " + o.profile_json;
  }
  if (!o.trace.empty()) {
    status = session.write_profile_trace(o.trace.c_str());
    if (!status.ok()) return status.message();
  }
  return "";
}

int run(const Options &o) {
  glmrt::LoadOptions load_options;
  if (o.no_checksum) load_options.flags |= GLMRT_LOAD_FLAG_SKIP_CHECKSUM;
  glmrt::Model model;
  glmrt::Status status = glmrt::Model::load(o.model.c_str(), &model, &load_options);
  if (!status.ok()) return fail(status.message());
  if (o.info) {
    print_info(model);
    if (o.inputs.empty() && o.outputs.empty() && o.bench == 0) return 0;
  }

  glmrt::Entry entry;
  status = model.find_entry(o.entry.c_str(), &entry);
  if (!status.ok()) return fail(status.message());
  std::vector<glmrt::TensorInfo> in_infos = tensor_infos(entry, false);
  std::vector<glmrt::TensorInfo> out_infos = tensor_infos(entry, true);

  // Which file feeds which input, and which output goes where.
  std::vector<std::string> in_paths, out_paths;
  std::string error = assign(o.inputs, in_infos, "input", o.entry, &in_paths);
  if (error.empty())
    error = assign(o.outputs, out_infos, "output", o.entry, &out_paths);
  if (!error.empty()) return fail(error);
  std::string missing;
  for (size_t i = 0; i < in_infos.size(); ++i)
    if (in_paths[i].empty())
      missing += (missing.empty() ? "" : ", ") + std::string(in_infos[i].name);
  if (!missing.empty())
    return fail("entry '" + o.entry + "' of model '" + model.name() +
                "' needs input" +
                (missing.find(',') != std::string::npos ? "s " : " ") +
                missing + " (give --input NAME=FILE.npy)");

  // Read the inputs.
  std::vector<npy::Array> arrays(in_infos.size());
  std::vector<glmrt_tensor_view_t> views(in_infos.size());
  for (size_t i = 0; i < in_infos.size(); ++i) {
    error = npy::read(in_paths[i], &arrays[i]);
    if (!error.empty()) return fail("input '" + std::string(in_infos[i].name) + "': " + error);
    const npy::Array &a = arrays[i];
    glmrt_dtype_t want = static_cast<glmrt_dtype_t>(in_infos[i].dtype);
    glmrt_dtype_t have = a.dtype;
    // NumPy has no bfloat16, float8, float4 or 4-bit integers: accept
    // bfloat16 bit patterns as uint16, float8/float4 bit patterns and uint4
    // values as uint8, int4 values as int8 (or ml_dtypes' raw bytes, read as
    // uint8: the 4-bit pattern in the low nibble).
    if (want == GLMRT_DTYPE_BF16 && have == GLMRT_DTYPE_U16) have = want;
    if ((is_small_float(want) || want == GLMRT_DTYPE_U4 || want == GLMRT_DTYPE_I4) &&
        have == GLMRT_DTYPE_U8)
      have = want;
    if (want == GLMRT_DTYPE_I4 && have == GLMRT_DTYPE_I8) {
      // int8 values in [-8, 7] -> the low nibble.
      unsigned char *b = static_cast<unsigned char *>(arrays[i].data());
      for (size_t k = 0; k < a.byte_size; ++k) {
        int v = int(int8_t(b[k]));
        if (v < -8 || v > 7)
          return fail("input '" + std::string(in_infos[i].name) + "' from " + in_paths[i] +
                      " holds " + std::to_string(v) + ", outside int4's [-8, 7]");
        b[k] = uint8_t(v) & 0xf;
      }
      have = want;
    }
    if ((want == GLMRT_DTYPE_I4 || want == GLMRT_DTYPE_U4 || want == GLMRT_DTYPE_F4E2M1FN) &&
        have == want) {
      const unsigned char *b = static_cast<const unsigned char *>(a.data());
      for (size_t k = 0; k < a.byte_size; ++k)
        if (b[k] > 0xf)
          return fail("input '" + std::string(in_infos[i].name) + "' from " + in_paths[i] +
                      " holds " + std::to_string(b[k]) + " at element " + std::to_string(k) +
                      ", which is not a 4-bit value (" + glmrt_dtype_name(want) +
                      " takes one per byte, in the low nibble)");
    }
    if (have != want)
      return fail("input '" + std::string(in_infos[i].name) + "' from " +
                  in_paths[i] + " has dtype " + glmrt_dtype_name(a.dtype) +
                  " ('" + a.descr + "'), model expects " +
                  glmrt_dtype_name(want) + " ('" +
                  (npy::descr_for(want) ? npy::descr_for(want) : "?") + "')");
    views[i] = glmrt_tensor_view_make(have, static_cast<uint32_t>(a.shape.size()),
                                      a.shape.data(), a.data(), a.byte_size);
  }

  glmrt::SessionOptions session_options;
  session_options.num_threads = o.threads;
  if (o.no_block_cache) session_options.flags |= GLMRT_SESSION_FLAG_NO_BLOCK_CACHE;
  glmrt::Session session;
  status = glmrt::Session::create(model, &session, &session_options);
  if (!status.ok()) return fail(status.message());

  std::vector<glmrt::Tensor> outputs;
  std::vector<double> times_ms;
  long total = o.bench > 0 ? o.warmup + o.bench : 1;
  if (o.profile && model.profile_layer_count() == 0)
    return fail("model '" + std::string(model.name()) +
                "' has no profile marks; compile it with glmc --profile");
  uint64_t allocs_before_timed = 0;
  for (long r = 0; r < total; ++r) {
    if (o.bench > 0 && r == o.warmup) {
      glmrt::SessionMemory memory;
      if (session.memory(&memory).ok()) allocs_before_timed = memory.system_allocs;
    }
    if (o.profile && r == (o.bench > 0 ? o.warmup : 0)) {
      status = session.set_profiling(true);
      if (!status.ok()) return fail(status.message());
    }
    auto start = std::chrono::steady_clock::now();
    status = session.run(entry, views, &outputs);
    auto stop = std::chrono::steady_clock::now();
    if (!status.ok()) {
      std::string message = status.message();
      // Name the files the inputs came from.
      std::string files;
      for (size_t i = 0; i < in_paths.size(); ++i)
        files += (i ? ", " : "") + std::string(in_infos[i].name) + "=" + in_paths[i];
      if (!files.empty()) message += " (inputs: " + files + ")";
      return fail(message);
    }
    if (o.bench > 0 && r >= o.warmup)
      times_ms.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
  }

  for (size_t i = 0; i < out_infos.size(); ++i) {
    const glmrt::Tensor &t = outputs[i];
    if (!out_paths[i].empty()) {
      const void *data = t.data();
      std::vector<int8_t> widened;
      if (t.dtype() == GLMRT_DTYPE_I4) { // the low nibble -> int8
        const unsigned char *b = static_cast<const unsigned char *>(t.data());
        for (size_t k = 0; k < t.byte_size(); ++k)
          widened.push_back(int8_t(uint8_t(b[k] << 4)) >> 4);
        data = widened.data();
      }
      error = npy::write(out_paths[i], t.dtype(), t.dims(), t.rank(), data, t.byte_size());
      if (!error.empty()) return fail("output '" + std::string(out_infos[i].name) + "': " + error);
      if (t.dtype() == GLMRT_DTYPE_BF16)
        std::fprintf(stderr,
                     "glmrt-run: note: output '%s' is bfloat16, written as "
                     "uint16 bit patterns\n",
                     out_infos[i].name);
      if (is_small_float(t.dtype()))
        std::fprintf(stderr,
                     "glmrt-run: note: output '%s' is %s, written as uint8 bit "
                     "patterns\n",
                     out_infos[i].name, glmrt_dtype_name(t.dtype()));
    }
    if (o.print) print_tensor(out_infos[i].name, t);
  }
  if (!o.print && o.bench == 0 && o.outputs.empty()) {
    for (size_t i = 0; i < out_infos.size(); ++i)
      std::printf("%s: %s %s\n", out_infos[i].name,
                  glmrt_dtype_name(outputs[i].dtype()),
                  shape_text(outputs[i].rank(), outputs[i].dims()).c_str());
  }

  // Memory, with the default allocator (its block cache counts).
  glmrt::SessionMemory memory;
  if ((o.info || o.bench > 0) && session.memory(&memory).ok() && memory.measured) {
    std::printf("memory: peak %.3f MiB in the last run (activations, scratch, outputs); "
                "%" PRIu64 " blocks from libc",
                memory.last_run_peak_bytes / 1048576.0, memory.system_allocs);
    if (o.bench > 0)
      std::printf(", %" PRIu64 " of them in the %ld timed runs",
                  memory.system_allocs - allocs_before_timed, o.bench);
    std::printf("\n");
  }

  if (o.profile) {
    status = session.set_profiling(false);
    if (!status.ok()) return fail(status.message());
    // Rates are exact when every dynamic input dim was 1 in these runs
    // (FLOPs and bytes count dynamic dims as 1).
    bool unit_dynamic = true;
    for (size_t i = 0; i < in_infos.size(); ++i)
      for (uint32_t k = 0; k < in_infos[i].rank; ++k)
        if (in_infos[i].dims[k] < 0 && views[i].dims[k] != 1) unit_dynamic = false;
    error = report_profile(o, model, session, times_ms, unit_dynamic);
    if (!error.empty()) return fail(error);
    if (!o.bench_given) return 0; // else --bench's own report too
  }

  if (o.bench > 0) {
    Latency l = summarize(times_ms);
    std::printf("bench: %ld runs (%ld warmup), %u threads, entry '%s'\n",
                o.bench, o.warmup, session.num_threads(), o.entry.c_str());
    std::printf("latency ms: p50 %.6g  p90 %.6g  p99 %.6g  mean %.6g  "
                "min %.6g  max %.6g\n",
                l.p50, l.p90, l.p99, l.mean, l.min, l.max);
    if (!o.bench_json.empty()) {
      FILE *f = std::fopen(o.bench_json.c_str(), "w");
      if (!f) return fail("cannot write " + o.bench_json + ": " + std::strerror(errno));
      std::fprintf(f,
                   "{\n  \"model\": \"%s\",\n  \"path\": \"%s\",\n"
                   "  \"entry\": \"%s\",\n  \"threads\": %u,\n"
                   "  \"warmup\": %ld,\n  \"iterations\": %ld,\n"
                   "  \"runtime\": \"glmrt %s\",\n"
                   "  \"latency_ms\": {\"p50\": %.6f, \"p90\": %.6f, "
                   "\"p99\": %.6f, \"mean\": %.6f, \"min\": %.6f, "
                   "\"max\": %.6f}\n}\n",
                   json_escape(model.name()).c_str(),
                   json_escape(o.model).c_str(), json_escape(o.entry).c_str(),
                   session.num_threads(), o.warmup, o.bench,
                   glmrt_runtime_version_string(), l.p50, l.p90, l.p99, l.mean,
                   l.min, l.max);
      if (std::fclose(f) != 0) return fail("cannot write " + o.bench_json);
    }
  }
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
    std::fprintf(stderr,
                 "glmrt-run: error: %s\nrun 'glmrt-run --help' for usage\n",
                 error.c_str());
    return 1;
  }
  return run(options);
}
