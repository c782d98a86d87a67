//===- Weights.h - the weights blob, written without copying it --*- C++ -*-===//
//
// glm-outline-weights lays the blob out (module attribute `glm.weights`:
// size, offsets, the constants); this writes its bytes straight from where
// the constants live (memory-mapped external data, moved-out protobuf
// strings) into the side file or an ELF object for the linker, computing
// the checksum on the way. The blob is never assembled in memory, and
// pages of mapped external data are dropped from the process once written,
// so the compiler's resident set stays well under the weights' size.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_PACKAGE_WEIGHTS_H
#define GLMC_COMPILER_PACKAGE_WEIGHTS_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace glmc::package {

/// The weights blob: constants at 64-byte aligned offsets, zeros between
/// and after them up to `size` (a multiple of 64).
struct WeightsBlob {
  struct Piece {
    uint64_t offset = 0;
    /// The constant's little-endian bytes, where they live.
    llvm::ArrayRef<char> bytes;
    /// A splat: `bytes` is one element, written `repeat` times.
    uint64_t repeat = 1;
    /// A packed weight (glm-pack-weights): `bytes` is a row-major [rows,
    /// cols] matrix of `elemBytes` elements, written as cols/panelWidth
    /// panels [rows, panelWidth], panel j holding columns j*panelWidth...
    uint64_t panelWidth = 0, rows = 0, cols = 0, elemBytes = 0;
  };
  uint64_t size = 0;
  /// Ascending offsets, not overlapping.
  std::vector<Piece> pieces;
  /// Read-only file mappings (the importer's external data). The pages of
  /// a piece inside one are released (madvise DONTNEED: the page cache
  /// keeps them) once written.
  std::vector<llvm::ArrayRef<char>> fileMappings;
  /// Bytes converted on the way (i1 constants: one byte per element).
  std::deque<std::string> owned;

  /// The contiguous blob, for the debugging emit kinds that put it into
  /// the LLVM module (--emit=llvm/obj of small models).
  std::vector<char> materialize() const;
};

/// The blob laid out by glm-outline-weights (an empty 64-byte blob when
/// the module has no `glm.weights`). Fails on constants it cannot write.
bool collectWeights(mlir::ModuleOp module, WeightsBlob &blob, std::string &error);

/// Writes the blob's bytes in order to `os`; returns glm_abi_checksum of them.
uint64_t writeWeights(const WeightsBlob &blob, llvm::raw_ostream &os);

/// Writes the blob to `path` (through `path`.tmp-glmc, renamed when complete).
bool writeWeightsFile(const WeightsBlob &blob, const std::string &path, uint64_t &checksum,
                      std::string &error);

/// Writes a relocatable ELF object for `arch` (GLM_ARCH_*) that defines the
/// hidden symbol `glm_weights` at the start of an allocatable 64-byte aligned
/// section .glm_weights holding the blob; the model's object references it.
bool writeWeightsObject(const WeightsBlob &blob, uint32_t arch, const std::string &path,
                        uint64_t &checksum, std::string &error);

/// Weights up to this size are embedded in model.so by default; larger ones
/// go to the side file (see docs/glmc.md, "Weights").
constexpr uint64_t kMaxEmbeddedWeights = uint64_t(2) << 30;

} // namespace glmc::package

#endif // GLMC_COMPILER_PACKAGE_WEIGHTS_H
