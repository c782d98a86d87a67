//===- PruneConfig.cpp - glmc --config prune.yaml --------------------------===//

#include "compiler/driver/PruneConfig.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLTraits.h"

#include <cmath>
#include <cstdio>

using glmc::driver::PruneConfig;

namespace {
/// The file: the keys at the top, or under `pruning_config:`.
struct ConfigFile {
  PruneConfig top;
  std::optional<PruneConfig> wrapped;
};

/// A ratio written into a pass option, exactly.
std::string exact(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}
} // namespace

LLVM_YAML_IS_SEQUENCE_VECTOR(PruneConfig::Layer)

namespace llvm::yaml {

// `algorithm` and `schedule` are mappings, or (the seed's spelling) a name.
template <> struct PolymorphicTraits<PruneConfig::Algorithm> {
  static NodeKind getKind(const PruneConfig::Algorithm &a) {
    return a.name.empty() ? NodeKind::Map : NodeKind::Scalar;
  }
  static PruneConfig::AlgorithmSettings &getAsMap(PruneConfig::Algorithm &a) { return a; }
  static std::string &getAsScalar(PruneConfig::Algorithm &a) { return a.name; }
  static std::vector<std::string> &getAsSequence(PruneConfig::Algorithm &) {
    static std::vector<std::string> none;
    return none;
  }
};

template <> struct PolymorphicTraits<PruneConfig::Schedule> {
  static NodeKind getKind(const PruneConfig::Schedule &s) {
    return s.name.empty() ? NodeKind::Map : NodeKind::Scalar;
  }
  static PruneConfig::ScheduleSettings &getAsMap(PruneConfig::Schedule &s) { return s; }
  static std::string &getAsScalar(PruneConfig::Schedule &s) { return s.name; }
  static std::vector<double> &getAsSequence(PruneConfig::Schedule &s) { return s.sparsities; }
};

template <> struct MappingTraits<PruneConfig::AlgorithmSettings> {
  static void mapping(IO &io, PruneConfig::AlgorithmSettings &a) {
    io.mapOptional("mode", a.mode);
    io.mapOptional("criterion", a.criterion);
    io.mapOptional("allocation", a.allocation);
    io.mapOptional("reconstruct", a.reconstruct);
  }
};

template <> struct MappingTraits<PruneConfig::Layer> {
  static void mapping(IO &io, PruneConfig::Layer &l) {
    io.mapRequired("match", l.match);
    io.mapRequired("sparsity", l.sparsity);
  }
};

template <> struct MappingTraits<PruneConfig::ScheduleSettings> {
  static void mapping(IO &io, PruneConfig::ScheduleSettings &s) {
    io.mapOptional("steps", s.steps);
    io.mapOptional("sparsities", s.sparsities);
  }
};

template <> struct MappingTraits<PruneConfig> {
  static void mapping(IO &io, PruneConfig &c) {
    io.mapOptional("algorithm", c.algorithm);
    io.mapOptional("target_sparsity", c.targetSparsity);
    io.mapOptional("calib", c.calib);
    io.mapOptional("eval", c.eval);
    io.mapOptional("exclude", c.exclude);
    io.mapOptional("layers", c.layers);
    io.mapOptional("schedule", c.schedule);
    io.mapOptional("update_frequency", c.updateFrequency);
  }
};

template <> struct MappingTraits<ConfigFile> {
  static void mapping(IO &io, ConfigFile &f) {
    io.mapOptional("pruning_config", f.wrapped);
    MappingTraits<PruneConfig>::mapping(io, f.top);
  }
};

} // namespace llvm::yaml

std::optional<PruneConfig> glmc::driver::loadPruneConfig(const std::string &path,
                                                         std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = path + ": " + buffer.getError().message();
    return std::nullopt;
  }
  std::string diag;
  auto handler = [](const llvm::SMDiagnostic &d, void *ctx) {
    auto *out = static_cast<std::string *>(ctx);
    if (out->empty())
      *out = llvm::formatv("line {0}: {1}", d.getLineNo(), d.getMessage()).str();
  };
  llvm::yaml::Input in((*buffer)->getBuffer(), nullptr, handler, &diag);
  ConfigFile file;
  in >> file;
  if (in.error()) {
    error = path + ": " + (diag.empty() ? in.error().message() : diag);
    return std::nullopt;
  }
  PruneConfig config = file.wrapped ? *file.wrapped : file.top;
  const PruneConfig &top = file.top;
  if (file.wrapped && (top.targetSparsity || top.calib || top.eval || !top.exclude.empty() ||
                       !top.layers.empty() || top.updateFrequency || !top.algorithm.name.empty() ||
                       top.algorithm.mode || top.algorithm.criterion || !top.schedule.name.empty() ||
                       top.schedule.steps || !top.schedule.sparsities.empty())) {
    error = path + ": give the settings under 'pruning_config:' or at the top, not both";
    return std::nullopt;
  }
  if (config.updateFrequency)
    config.notes.push_back(path + ": 'update_frequency' is a training-time setting; glmc prunes "
                                  "a trained model (each schedule step once), so it is ignored");
  return config;
}

std::string glmc::driver::applyPruneConfig(const PruneConfig &config, const std::string &path,
                                           pipeline::CompileOptions &options) {
  auto &p = options.prune;
  auto fail = [&](const llvm::Twine &what) { return path + ": " + what.str(); };
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  auto resolve = [&](const std::string &rel) {
    if (llvm::sys::path::is_absolute(rel) || dir.empty())
      return rel;
    llvm::SmallString<256> full(dir);
    llvm::sys::path::append(full, rel);
    return std::string(full);
  };
  const PruneConfig::Algorithm &a = config.algorithm;
  if (!a.name.empty()) {
    if (a.name != "magnitude" && a.name != "l1" && a.name != "wanda")
      return fail("algorithm: '" + a.name +
                  "' is not a criterion glmc knows (magnitude, l1 or wanda; or a mapping "
                  "{mode, criterion, allocation, reconstruct})");
    p.criterion = a.name;
  }
  if (a.mode)
    p.mode = *a.mode;
  if (a.criterion)
    p.criterion = *a.criterion;
  if (a.allocation)
    p.alloc = *a.allocation;
  if (a.reconstruct)
    p.reconstruct = *a.reconstruct;
  if (config.calib)
    options.calibDir = resolve(*config.calib);
  if (config.eval)
    options.evalDir = resolve(*config.eval);
  p.exclude.insert(p.exclude.end(), config.exclude.begin(), config.exclude.end());
  for (const PruneConfig::Layer &l : config.layers) {
    if (!(l.sparsity >= 0 && l.sparsity < 1))
      return fail("layers: sparsity of '" + l.match + "' must be in [0, 1)");
    p.layerRatios.push_back(l.match + "=" + exact(l.sparsity));
  }
  const std::vector<double> &s = config.schedule.sparsities;
  double target = config.targetSparsity.value_or(s.empty() ? 0.0 : s.back());
  if (!(target >= 0 && target < 1))
    return fail("target_sparsity must be in [0, 1)");
  p.ratio = target;
  if (config.schedule.steps && !s.empty())
    return fail("schedule: give steps or sparsities, not both");
  const std::string &named = config.schedule.name;
  if (!named.empty() && named != "linear")
    return fail("schedule: '" + named +
                "' is not a schedule glmc knows (linear; or {steps: N} or {sparsities: [...]})");
  std::optional<unsigned> steps = config.schedule.steps;
  if (named == "linear")
    steps = kLinearSteps;
  if (steps) {
    unsigned n = *steps;
    if (n == 0 || n > 100)
      return fail("schedule: steps must be 1 to 100");
    p.schedule.clear();
    for (unsigned k = 1; k <= n; ++k)
      p.schedule.push_back(target * k / n);
  } else if (!s.empty()) {
    for (size_t k = 0; k < s.size(); ++k)
      if (!(s[k] > (k ? s[k - 1] : 0.0) && s[k] < 1))
        return fail("schedule: sparsities must increase, each in (0, 1)");
    if (std::abs(s.back() - target) > 1e-12)
      return fail("schedule: the last step (" + exact(s.back()) +
                  ") must be target_sparsity (" + exact(target) + ")");
    p.schedule = s;
  }
  if (p.mode == "2:4" && p.schedule.size() > 1)
    return fail("schedule: 2:4 sparsity is one step (half of every 4 weights)");
  return "";
}

std::vector<double> glmc::driver::pruneSteps(const pipeline::CompileOptions::Prune &prune) {
  if (prune.schedule.empty())
    return {prune.ratio};
  return prune.schedule;
}

glmc::pipeline::CompileOptions::Prune
glmc::driver::pruneStep(const pipeline::CompileOptions::Prune &prune,
                        const std::vector<double> &steps, size_t k) {
  pipeline::CompileOptions::Prune step = prune;
  step.schedule.clear();
  // Structured pruning removes what earlier steps chose, so a step's ratio
  // is relative to what is left; masks (unstructured, untrimmed) stay in
  // place and are chosen again, so their ratios are cumulative.
  bool relative = prune.mode == "structured" && prune.trim;
  auto stepRatio = [&](double now, double before) {
    return relative ? 1.0 - (1.0 - now) / (1.0 - before) : now;
  };
  double fraction = prune.ratio > 0 ? steps[k] / prune.ratio : 1.0;
  double previous = k ? steps[k - 1] / prune.ratio : 0.0;
  step.ratio = stepRatio(steps[k], k ? steps[k - 1] : 0.0);
  step.layerRatios.clear();
  for (const std::string &entry : prune.layerRatios) {
    size_t eq = entry.rfind('=');
    double r = 0;
    if (eq == std::string::npos || llvm::StringRef(entry).substr(eq + 1).getAsDouble(r)) {
      step.layerRatios.push_back(entry); // the pass reports the malformed entry
      continue;
    }
    double now = r * fraction, before = r * previous;
    step.layerRatios.push_back(entry.substr(0, eq + 1) + exact(stepRatio(now, before)));
  }
  return step;
}
