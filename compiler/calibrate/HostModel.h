//===- HostModel.h - a model compiled for this machine, run in-process -*- C++ -*-===//
//
// Calibration and evaluation run the model being compiled: the driver
// builds it for the host into a temporary model.so and this loads it with
// glmrt, like any application would.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_CALIBRATE_HOSTMODEL_H
#define GLMC_COMPILER_CALIBRATE_HOSTMODEL_H

#include "npy.h"

#include <glmrt/glmrt.hpp>

#include <memory>
#include <string>
#include <vector>

namespace glmc::calibrate {

class HostModel {
public:
  /// Loads `path`; null and `error` on failure.
  static std::unique_ptr<HostModel> load(const std::string &path, std::string &error);

  const std::vector<std::string> &inputNames() const { return inputs; }
  const std::vector<std::string> &outputNames() const { return outputs; }

  /// Runs the main entry on `in` (model input order).
  bool run(const std::vector<npy::Array> &in, std::vector<glmrt::Tensor> &out, std::string &error);

private:
  glmrt::Model model;
  glmrt::Session session;
  std::vector<std::string> inputs, outputs;
};

} // namespace glmc::calibrate

#endif // GLMC_COMPILER_CALIBRATE_HOSTMODEL_H
