//===- ContractionTiles.h - register and cache tiles of f32 contractions --===//
//
// One choice of tile sizes per target, shared by glm-pack-weights (the
// panel width of packed weights) and glm-tile-and-vectorize (the register
// and cache tiles): a packed weight's panels are exactly one register tile
// wide.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_LOWERING_CONTRACTIONTILES_H
#define GLMC_PASSES_LOWERING_CONTRACTIONTILES_H

#include <algorithm>
#include <cstdint>

namespace mlir::glm {

/// Register tiles [MR, NR], cache tiles [MT, NT, KT].
struct ContractionTiles {
  int64_t mr, nr, mt, nt, kt;
};

inline ContractionTiles chooseContractionTiles(int64_t vectorBits, int64_t numRegisters) {
  int64_t lanes = std::max<int64_t>(vectorBits / 32, 4);
  ContractionTiles t;
  // NR = 2 vectors; MR rows so that MR*2 accumulators + 2 B vectors + one
  // broadcast fit in the register file (AVX2: 6x16 in 16 ymm; AVX-512:
  // 14x32 is too wide for small N, use 8x32; NEON: 8x8 in 32 q regs).
  t.nr = 2 * lanes;
  int64_t budget = numRegisters - 3;
  t.mr = std::clamp<int64_t>(budget / 2, 2, 8);
  if (numRegisters >= 32 && vectorBits == 128) {
    t.nr = 2 * lanes; // NEON: 8 columns
    t.mr = 8;
  }
  t.mt = 8 * t.mr;
  t.nt = 8 * t.nr;
  t.kt = 256;
  return t;
}

} // namespace mlir::glm

#endif // GLMC_PASSES_LOWERING_CONTRACTIONTILES_H
