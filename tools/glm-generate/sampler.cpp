//===- sampler.cpp - Choosing the next token from logits -------------------===//
#include "sampler.h"

#include <algorithm>
#include <cmath>

namespace glmgen {

namespace {
uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
} // namespace

Random::Random(uint64_t seed) {
  for (uint64_t &s : s_) s = splitmix64(&seed);
}

uint64_t Random::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Random::uniform() { return double(next() >> 11) * 0x1.0p-53; }

int32_t argmax(const float *values, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (values[i] > values[best] || (std::isnan(values[best]) && !std::isnan(values[i])))
      best = i;
  return int32_t(best);
}

Sampler::Sampler(const SamplerOptions &options) : options_(options), random_(options.seed) {}

int32_t Sampler::sample(const float *logits, size_t vocab) {
  if (greedy() || vocab <= 1) return argmax(logits, vocab);
  // Candidates by logit, largest first, lower id first among equals.
  order_.resize(vocab);
  for (size_t i = 0; i < vocab; ++i) order_[i] = int32_t(i);
  auto before = [&](int32_t a, int32_t b) {
    float x = logits[a], y = logits[b];
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y); // NaN last
    return x > y || (!(y > x) && a < b);
  };
  size_t keep = options_.top_k > 0 && options_.top_k < vocab ? options_.top_k : vocab;
  if (keep < vocab) {
    std::partial_sort(order_.begin(), order_.begin() + long(keep), order_.end(), before);
    order_.resize(keep);
  } else {
    std::sort(order_.begin(), order_.end(), before);
  }
  // Softmax of logits / temperature over the candidates.
  probs_.resize(order_.size());
  double top = double(logits[order_[0]]) / options_.temperature, sum = 0;
  for (size_t i = 0; i < order_.size(); ++i) {
    double z = double(logits[order_[i]]) / options_.temperature - top;
    probs_[i] = std::isnan(z) ? 0 : std::exp(z);
    sum += probs_[i];
  }
  // Nucleus: the smallest prefix reaching top_p of the mass (at least one).
  size_t n = order_.size();
  if (options_.top_p < 1) {
    double mass = 0;
    for (size_t i = 0; i < order_.size(); ++i) {
      mass += probs_[i] / sum;
      if (mass >= options_.top_p) {
        n = i + 1;
        break;
      }
    }
    sum = 0;
    for (size_t i = 0; i < n; ++i) sum += probs_[i];
  }
  double u = random_.uniform() * sum, acc = 0;
  for (size_t i = 0; i < n; ++i) {
    acc += probs_[i];
    if (u < acc) return order_[i];
  }
  return order_[n - 1];
}

} // namespace glmgen
