//===- Evaluate.h - quality of a compressed model ---------------*- C++ -*-===//
//
// --eval: the compressed model against the uncompressed one (both built by
// this glmc for the host) on an evaluation set: logits cosine, top-1
// agreement, KL(before || after) of the softmax over the last axis, max
// abs difference, and with labels accuracy (classification) or perplexity
// (lm, labels[b, t] the target of logits[b, t, :]) before and after. The
// same definitions as tools/eval/glm_eval.py.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_COMPILER_CALIBRATE_EVALUATE_H
#define GLMC_COMPILER_CALIBRATE_EVALUATE_H

#include "compiler/calibrate/DataSet.h"
#include "compiler/calibrate/HostModel.h"
#include "compiler/calibrate/Statistics.h"
#include "compiler/package/Report.h"

namespace glmc::calibrate {

bool evaluate(HostModel &before, HostModel &after, const DataSet &data,
              package::QualityMetrics &out, const ProgressFn &progress, std::string &error);

} // namespace glmc::calibrate

#endif // GLMC_COMPILER_CALIBRATE_EVALUATE_H
