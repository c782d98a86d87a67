//===- Calibration.cpp - calibration statistics and weight refits ---------===//

#include "passes/compress/Calibration.h"

#include "dialects/glm/ShapeUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::glm;

WeightView::WeightView(PrunableOpInterface op) {
  auto t = rankedOrNull(op.getPrunableWeight());
  ArrayRef<int64_t> shape = t.getShape();
  int64_t od = op.getWeightOutputDim(), id = op.getWeightInputDim();
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  nOut = shape[od];
  outStride = strides[od];
  if (id >= 0) {
    nIn = shape[id];
    inStride = strides[id];
  }
  // The other dims, row-major, as flat offsets.
  restOffset.assign(1, 0);
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
    if (d == od || d == id)
      continue;
    SmallVector<int64_t> next;
    for (int64_t base : restOffset)
      for (int64_t k = 0; k < shape[d]; ++k)
        next.push_back(base + k * strides[d]);
    restOffset = std::move(next);
  }
  nInner = restOffset.size();
}

std::optional<CalibStats> CalibStats::of(Operation *op) {
  auto dict = op->getAttrOfType<DictionaryAttr>("glm.calib");
  if (!dict)
    return std::nullopt;
  CalibStats s;
  auto rows = dict.getAs<IntegerAttr>("rows");
  auto sum = dict.getAs<ElementsAttr>("sum");
  auto sqsum = dict.getAs<ElementsAttr>("sqsum");
  if (!rows || !sum || !sqsum || rows.getInt() <= 0)
    return std::nullopt;
  s.rows = rows.getInt();
  auto a = getValuesAsDouble(sum), b = getValuesAsDouble(sqsum);
  if (!a || !b || a->size() != b->size())
    return std::nullopt;
  s.sum = std::move(*a);
  s.sqsum = std::move(*b);
  s.features = s.sum.size();
  if (auto gram = dict.getAs<ElementsAttr>("gram")) {
    auto g = getValuesAsDouble(gram);
    if (!g || (int64_t)g->size() != s.features * s.features)
      return std::nullopt;
    s.gram = std::move(*g);
  }
  return s;
}

/// Solves A X = B for symmetric positive definite A (n x n, row-major) and
/// B (n x m), in place (X in B). False if A is not positive definite.
static bool solveSPD(SmallVectorImpl<double> &a, int64_t n, SmallVectorImpl<double> &b,
                     int64_t m) {
  // Cholesky A = L L^T, L in the lower triangle of a.
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0))
      return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      const double *li = &a[i * n], *lj = &a[j * n];
      for (int64_t k = 0; k < j; ++k)
        s -= li[k] * lj[k];
      a[i * n + j] = s / d;
    }
  }
  // L Y = B, then L^T X = Y.
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < i; ++k) {
      double l = a[i * n + k];
      if (l != 0)
        for (int64_t c = 0; c < m; ++c)
          b[i * m + c] -= l * b[k * m + c];
    }
    for (int64_t c = 0; c < m; ++c)
      b[i * m + c] /= a[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    for (int64_t k = i + 1; k < n; ++k) {
      double l = a[k * n + i];
      if (l != 0)
        for (int64_t c = 0; c < m; ++c)
          b[i * m + c] -= l * b[k * m + c];
    }
    for (int64_t c = 0; c < m; ++c)
      b[i * m + c] /= a[i * n + i];
  }
  return true;
}

bool mlir::glm::refitAfterRemoval(const WeightView &view, const CalibStats &stats,
                                  ArrayRef<int64_t> removedChannels, SmallVectorImpl<double> &w,
                                  SmallVectorImpl<double> &bias) {
  int64_t inner = view.inner(), nf = view.features();
  if (stats.features != nf || removedChannels.empty())
    return false;
  SmallVector<bool> gone(nf, false);
  SmallVector<int64_t> removed, kept;
  for (int64_t c : removedChannels)
    for (int64_t r = 0; r < inner; ++r)
      gone[c * inner + r] = true;
  for (int64_t f = 0; f < nf; ++f)
    (gone[f] ? removed : kept).push_back(f);
  int64_t nk = kept.size(), nr = removed.size(), n = stats.rows;

  if (stats.hasGram()) {
    // min E|| W_R f_R - [D, db] [f_K; 1] ||^2 over the change D of the kept
    // weights and db of the bias: [D, db]^T = A^-1 C W_R^T with
    // A = E[[f_K;1][f_K;1]^T] + damping and C = E[[f_K;1] f_R^T].
    int64_t na = nk + 1;
    SmallVector<double> a(na * na), c(na * nr);
    double diag = 0;
    for (int64_t i = 0; i < nk; ++i) {
      for (int64_t j = 0; j < nk; ++j)
        a[i * na + j] = stats.gram[kept[i] * nf + kept[j]] / n;
      a[i * na + nk] = a[nk * na + i] = stats.mean(kept[i]);
      diag += a[i * na + i];
      for (int64_t j = 0; j < nr; ++j)
        c[i * nr + j] = stats.gram[kept[i] * nf + removed[j]] / n;
    }
    a[nk * na + nk] = 1.0;
    for (int64_t j = 0; j < nr; ++j)
      c[nk * nr + j] = stats.mean(removed[j]);
    // 1% of the mean diagonal, as SparseGPT damps its Hessian.
    double damp = 0.01 * (nk ? diag / nk : 1.0) + 1e-12;
    for (int64_t i = 0; i < nk; ++i)
      a[i * na + i] += damp;
    if (!solveSPD(a, na, c, nr))
      return false;
    // c is now X = A^-1 C (na x nr): per output o, delta = X w_R(o).
    for (int64_t o = 0; o < view.outputs(); ++o) {
      SmallVector<double> wr(nr);
      bool any = false;
      for (int64_t j = 0; j < nr; ++j)
        any |= (wr[j] = w[view.index(o, removed[j])]) != 0.0;
      if (!any)
        continue;
      for (int64_t i = 0; i < na; ++i) {
        double d = 0;
        for (int64_t j = 0; j < nr; ++j)
          d += c[i * nr + j] * wr[j];
        if (i < nk)
          w[view.index(o, kept[i])] += d;
        else
          bias[o] += d;
      }
    }
  } else {
    // Bias compensation: the removed features contribute their mean.
    for (int64_t o = 0; o < view.outputs(); ++o)
      for (int64_t f : removed)
        bias[o] += w[view.index(o, f)] * stats.mean(f);
  }
  for (int64_t o = 0; o < view.outputs(); ++o)
    for (int64_t f : removed)
      w[view.index(o, f)] = 0.0;
  return true;
}
