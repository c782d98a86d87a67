//===- sampler.h - Choosing the next token from logits ---------------------===//
//
// Greedy (the largest logit, the lowest id among equals) or sampling from
// softmax(logits / temperature) restricted to the top_k largest logits and
// then to the smallest set whose probability reaches top_p (nucleus). The
// random numbers come from xoshiro256** seeded through splitmix64, and every
// step is computed in a fixed order in double precision: the same seed and
// logits give the same tokens on every machine.
//
//===----------------------------------------------------------------------===//
#ifndef GLM_GENERATE_SAMPLER_H
#define GLM_GENERATE_SAMPLER_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace glmgen {

struct SamplerOptions {
  double temperature = 0; ///< <= 0: greedy
  size_t top_k = 0;       ///< 0: all tokens
  double top_p = 1;       ///< 1: no nucleus cut
  uint64_t seed = 0;
};

/// xoshiro256** (Blackman and Vigna), seeded with splitmix64.
class Random {
public:
  explicit Random(uint64_t seed);
  uint64_t next();
  /// Uniform in [0, 1), 53 bits.
  double uniform();

private:
  uint64_t s_[4];
};

class Sampler {
public:
  explicit Sampler(const SamplerOptions &options);
  bool greedy() const { return options_.temperature <= 0; }
  /// The next token from `vocab` logits.
  int32_t sample(const float *logits, size_t vocab);

private:
  SamplerOptions options_;
  Random random_;
  std::vector<int32_t> order_;
  std::vector<double> probs_;
};

/// The index of the largest value, the lowest among equals (NaN never wins).
int32_t argmax(const float *values, size_t n);

} // namespace glmgen

#endif // GLM_GENERATE_SAMPLER_H
