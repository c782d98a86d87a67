//===- PruneConfig.h - glmc --config prune.yaml ------------------*- C++ -*-===//
//
// The compression settings of one model as a file, for build pipelines that
// keep them under version control (docs/compression.md, "--config"):
//
//   algorithm: {mode: structured, criterion: wanda, allocation: auto, reconstruct: true}
//   target_sparsity: 0.4
//   calib: calib/            # relative to the file's directory
//   exclude: ['lm_head']
//   layers:                  # per-layer sparsity, first match wins
//     - {match: 'layers\.0/', sparsity: 0.1}
//   schedule: {steps: 3}     # or {sparsities: [0.2, 0.3, 0.4]}
//
// The spelling of the article glmc grew from is accepted too: the keys
// under a `pruning_config:` wrapper, `algorithm: "magnitude"` (a criterion
// name), `schedule: "linear"` (kLinearSteps even steps ending at the target)
// and training-time keys that mean nothing after training
// (`update_frequency`), accepted with a note:
//
//   pruning_config:
//     algorithm: "magnitude"
//     target_sparsity: 0.4
//     schedule: "linear"
//     update_frequency: 100
//
// Flags given on the command line override the file.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_DRIVER_PRUNECONFIG_H
#define GLMC_COMPILER_DRIVER_PRUNECONFIG_H

#include "compiler/pipeline/Options.h"

#include <optional>
#include <string>
#include <vector>

namespace glmc::driver {

/// Steps of `schedule: linear`.
constexpr unsigned kLinearSteps = 4;

struct PruneConfig {
  struct AlgorithmSettings {
    std::optional<std::string> mode, criterion, allocation;
    std::optional<bool> reconstruct;
  };
  struct Algorithm : AlgorithmSettings {
    /// `algorithm: NAME` (a scalar): the criterion.
    std::string name;
  } algorithm;
  std::optional<double> targetSparsity;
  std::optional<std::string> calib, eval;
  std::vector<std::string> exclude;
  struct Layer {
    std::string match;
    double sparsity = -1;
  };
  std::vector<Layer> layers;
  struct ScheduleSettings {
    std::optional<unsigned> steps;
    std::vector<double> sparsities;
  };
  struct Schedule : ScheduleSettings {
    /// `schedule: NAME` (a scalar): "linear".
    std::string name;
  } schedule;
  /// Training-time settings (the seed's `update_frequency`): read, unused.
  std::optional<double> updateFrequency;
  /// One line each for the settings read but not used (for stderr).
  std::vector<std::string> notes;
};

/// Reads and validates `path`. On failure returns nullopt with `error` set
/// (file, line and what is wrong).
std::optional<PruneConfig> loadPruneConfig(const std::string &path, std::string &error);

/// Writes the file's settings into `options` (the caller then applies the
/// flags given on the command line). Paths are resolved against the file's
/// directory. Returns "" or an error (e.g. a schedule that does not end at
/// the target).
std::string applyPruneConfig(const PruneConfig &config, const std::string &path,
                             pipeline::CompileOptions &options);

/// The cumulative sparsity after each step: the schedule, or one step.
std::vector<double> pruneSteps(const pipeline::CompileOptions::Prune &prune);

/// The options of step `k` of `steps`: structured pruning removes channels,
/// so each step's ratio is relative to what the previous steps left;
/// unstructured steps (and untrimmed ones) are cumulative. Per-layer
/// sparsities grow with the schedule in proportion.
pipeline::CompileOptions::Prune pruneStep(const pipeline::CompileOptions::Prune &prune,
                                          const std::vector<double> &steps, size_t k);

} // namespace glmc::driver

#endif // GLMC_COMPILER_DRIVER_PRUNECONFIG_H
