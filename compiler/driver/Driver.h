//===- Driver.h - one compilation, from options to artifact -----*- C++ -*-===//
//
// What tools/glmc does, as a library: import → canonical → lowering →
// LLVM → object → model.so, with diagnostics, progress and exit codes.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_DRIVER_DRIVER_H
#define GLMC_COMPILER_DRIVER_DRIVER_H

#include "compiler/package/Report.h"
#include "compiler/pipeline/Options.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

#include "llvm/Support/raw_ostream.h"

namespace glmc::driver {

/// glmc's exit codes; documented in docs/glmc.md, never renumbered.
enum class ExitCode : int {
  Success = 0,
  /// The model is malformed or uses something glmc does not support.
  ModelError = 1,
  /// Bad flags or options (unknown target, missing input, ...).
  Usage = 2,
  /// The target or a requested feature is not available here.
  Unavailable = 3,
  /// A --fail-if quality gate held (no output written).
  CompressionConstraint = 4,
  /// Reading or writing a file failed.
  IOError = 5,
  /// A bug in glmc.
  Internal = 6,
};

/// Runs one compilation. Diagnostics go to `errs` (one line per error,
/// naming the file and the ONNX node), progress too when `progress`.
ExitCode compile(const pipeline::CompileOptions &options, llvm::raw_ostream &errs, bool progress);

/// Prints the --target table.
void printTargets(llvm::raw_ostream &os);

/// A --fail-if quality gate: NAME OP NUMBER.
struct Gate {
  std::string name, op;
  double value = 0;
  std::string text;
};

/// Parses "perplexity_increase > 0.03"; returns "" or what is wrong.
std::string parseGate(llvm::StringRef text, Gate &gate);

/// A gate's quantity from the report (nullopt where it is not measured:
/// quality without --eval, perplexity for a classifier).
std::optional<double> gateValue(const package::CompressionReport &report, llvm::StringRef name);

} // namespace glmc::driver

#endif // GLMC_COMPILER_DRIVER_DRIVER_H
