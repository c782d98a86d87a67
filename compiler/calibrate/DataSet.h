//===- DataSet.h - calibration and evaluation sets --------------*- C++ -*-===//
//
// A directory of samples in glmc's npy-dir layout ("format":
// "glmc-npy-dir-v1", docs/compression.md): manifest.json names the model
// inputs (one subdirectory of NNNNNN.npy files each), optional labels, the
// task and the output that holds the logits. Samples are read one at a
// time; a set is never held in memory.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_CALIBRATE_DATASET_H
#define GLMC_COMPILER_CALIBRATE_DATASET_H

#include "npy.h"

#include <memory>
#include <string>
#include <vector>

namespace glmc::calibrate {

class DataSet {
public:
  /// Opens `dir` (its manifest.json). Null and `error` on failure.
  static std::unique_ptr<DataSet> open(const std::string &dir, std::string &error);

  size_t size() const { return count; }
  const std::string &task() const { return taskName; }
  const std::string &logitsOutput() const { return logits; }
  bool hasLabels() const { return !labelDir.empty(); }
  const std::string &directory() const { return root; }

  /// Reads sample `i`'s inputs in the order of `modelInputs` (names);
  /// every model input must be in the set.
  bool readInputs(size_t i, const std::vector<std::string> &modelInputs,
                  std::vector<npy::Array> &out, std::string &error) const;
  /// Reads sample `i`'s (first) label.
  bool readLabel(size_t i, npy::Array &out, std::string &error) const;

private:
  std::string root, taskName, logits, labelDir;
  size_t count = 0;
  struct Input {
    std::string name, dir;
  };
  std::vector<Input> inputs;
};

} // namespace glmc::calibrate

#endif // GLMC_COMPILER_CALIBRATE_DATASET_H
