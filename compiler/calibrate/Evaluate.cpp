//===- Evaluate.cpp - quality of a compressed model -----------------------===//

#include "compiler/calibrate/Evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace glmc::calibrate;

namespace {

/// log-softmax of one row, in doubles.
void logSoftmax(const float *x, int64_t n, std::vector<double> &out) {
  out.resize(n);
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, double(x[i]));
  double s = 0;
  for (int64_t i = 0; i < n; ++i)
    s += std::exp(double(x[i]) - m);
  double lse = m + std::log(s);
  for (int64_t i = 0; i < n; ++i)
    out[i] = double(x[i]) - lse;
}

int64_t argmax(const float *x, int64_t n) {
  return std::max_element(x, x + n) - x;
}

int64_t labelAt(const npy::Array &a, int64_t i) {
  if (a.dtype == GLMRT_DTYPE_I64)
    return static_cast<const int64_t *>(a.data())[i];
  if (a.dtype == GLMRT_DTYPE_I32)
    return static_cast<const int32_t *>(a.data())[i];
  return -1;
}

} // namespace

bool glmc::calibrate::evaluate(HostModel &before, HostModel &after, const DataSet &data,
                               package::QualityMetrics &q, const ProgressFn &progress,
                               std::string &error) {
  auto outputIndex = [&](HostModel &m) -> size_t {
    const auto &names = m.outputNames();
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == data.logitsOutput())
        return i;
    return 0;
  };
  size_t ob = outputIndex(before), oa = outputIndex(after);
  q = package::QualityMetrics();
  q.task = data.task().empty() ? "unknown" : data.task();
  q.metricBefore = q.metricAfter = std::nan("");
  double cos = 0, kl = 0;
  int64_t rows = 0, agree = 0, tokens = 0, correct[2] = {0, 0};
  double nll[2] = {0, 0};
  std::vector<npy::Array> inputs;
  std::vector<glmrt::Tensor> outB, outA;
  std::vector<double> lb, la;
  for (size_t s = 0; s < data.size(); ++s) {
    if (progress)
      progress(s, data.size());
    if (!data.readInputs(s, before.inputNames(), inputs, error))
      return false;
    if (!before.run(inputs, outB, error) || !after.run(inputs, outA, error)) {
      error = "evaluation sample " + std::to_string(s) + ": " + error;
      return false;
    }
    const glmrt::Tensor &tb = outB[ob], &ta = outA[oa];
    if (tb.dtype() != GLMRT_DTYPE_F32 || ta.dtype() != GLMRT_DTYPE_F32 ||
        tb.element_count() != ta.element_count() || tb.rank() == 0) {
      error = "the evaluated output is not a float tensor of the same shape before and after";
      return false;
    }
    int64_t n = tb.dim(tb.rank() - 1), r = n ? tb.element_count() / n : 0;
    npy::Array label;
    bool haveLabel = data.hasLabels();
    if (haveLabel && !data.readLabel(s, label, error))
      return false;
    for (int64_t i = 0; i < r; ++i) {
      const float *b = tb.data<float>() + i * n, *a = ta.data<float>() + i * n;
      double dot = 0, nb = 0, na = 0;
      for (int64_t k = 0; k < n; ++k) {
        dot += double(b[k]) * a[k], nb += double(b[k]) * b[k], na += double(a[k]) * a[k];
        q.maxAbsDiff = std::max(q.maxAbsDiff, std::abs(double(b[k]) - a[k]));
      }
      cos += dot / std::max(std::sqrt(nb * na), 1e-30);
      int64_t mb = argmax(b, n), ma = argmax(a, n);
      agree += mb == ma;
      logSoftmax(b, n, lb);
      logSoftmax(a, n, la);
      for (int64_t k = 0; k < n; ++k)
        kl += std::exp(lb[k]) * (lb[k] - la[k]);
      ++rows;
      if (!haveLabel || i >= label.element_count())
        continue;
      int64_t y = labelAt(label, i);
      if (y < 0 || y >= n)
        continue;
      ++tokens;
      if (q.task == "lm") {
        nll[0] -= lb[y];
        nll[1] -= la[y];
      } else {
        correct[0] += mb == y;
        correct[1] += ma == y;
      }
    }
    ++q.samples;
  }
  if (progress)
    progress(data.size(), data.size());
  q.cosine = rows ? cos / rows : 0;
  q.top1Agreement = rows ? double(agree) / rows : 0;
  q.kl = rows ? kl / rows : 0;
  if (tokens) {
    if (q.task == "lm") {
      q.metricName = "perplexity";
      q.metricBefore = std::exp(nll[0] / tokens);
      q.metricAfter = std::exp(nll[1] / tokens);
    } else {
      q.metricName = "accuracy";
      q.metricBefore = double(correct[0]) / tokens;
      q.metricAfter = double(correct[1]) / tokens;
    }
  }
  return true;
}
