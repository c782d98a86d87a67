/* "decoder": a stand-in for a model exported with a KV cache, the way
 * optimum/transformers name its inputs and outputs:
 *
 *   main(input_ids: i64[?, ?], position_ids: i64[?, ?],
 *        attention_mask: i64[?, ?],
 *        past_key_values.{0,1}.key/value: f32[?, 2, ?, 4])
 *     -> (logits: f32[?, ?, 8], present.{0,1}.key/value: f32[?, 2, ?, 4])
 *
 * present = past followed by one new row per token: for token t at
 * position p in layer l, head h, dim d the key is 16 t + d + l / 4 + h / 8
 * and the value twice the key. logits[b, j, v] = (v + 1) * S, where S sums
 * key(layer 0, head 0, dim 0) + value(layer 1, head 0, dim 0) over every row
 * of present up to token j (so logits depend on the whole cache, both
 * layers, keys and values). The model checks what a decoder must feed it:
 * attention_mask [batch, past + seq] of ones, position_ids past .. past +
 * seq - 1; anything else is GLM_ENTRY_SHAPE_MISMATCH. Token 7 makes the
 * entry fail after it allocated its outputs (GLM_ENTRY_SHAPE_MISMATCH).
 *
 * Variants (DEFINES) that a decoder must refuse or catch:
 *   DECODER_NO_PAST        no past_key_values inputs (a plain model)
 *   DECODER_BAD_PAIR       present.1.value has head_dim 8, its past 4
 *   DECODER_EXTRA_INPUT    an input "token_type_ids" the decoder cannot fill
 *   DECODER_NO_PRESENT     no present.1.key output
 *   DECODER_SHORT_PRESENT  present.1.key has one row too few at run time
 *   DECODER_DYNAMIC_HEADS  kv_heads of every cache tensor dynamic
 */
#include "test_artifact.h"

#include <string.h>

TEST_HEADER("decoder", 0, "");

#define LAYERS 2
#define HEADS 2
#define HEAD_DIM 4
#define VOCAB 8

static float key_of(int64_t token, int layer, int head, int d) {
  return (float)(16 * token + d) + 0.25f * (float)layer + 0.125f * (float)head;
}

static int32_t decoder_main(glm_call_t *call) {
  const glm_tensor_ref_t *ids = &call->inputs[0];
  const glm_tensor_ref_t *pos = &call->inputs[1];
  const glm_tensor_ref_t *mask = &call->inputs[2];
  int64_t b = ids->dims[0], s = ids->dims[1];
  int64_t past = call->inputs[3].dims[2];
  int64_t total = past + s;
  if (pos->dims[0] != b || pos->dims[1] != s || mask->dims[0] != b ||
      mask->dims[1] != total)
    return GLM_ENTRY_SHAPE_MISMATCH;
  for (int i = 0; i < 2 * LAYERS; ++i) {
    const glm_tensor_ref_t *p = &call->inputs[3 + i];
    if (p->dims[0] != b || p->dims[1] != HEADS || p->dims[2] != past ||
        p->dims[3] != HEAD_DIM)
      return GLM_ENTRY_SHAPE_MISMATCH;
  }
  const int64_t *id = (const int64_t *)ids->data;
  const int64_t *position = (const int64_t *)pos->data;
  const int64_t *m = (const int64_t *)mask->data;
  for (int64_t i = 0; i < b * total; ++i)
    if (m[i] != 1) return GLM_ENTRY_SHAPE_MISMATCH;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < s; ++j)
      if (position[i * s + j] != past + j) return GLM_ENTRY_SHAPE_MISMATCH;

  /* present.{l}.key/value */
  float *present[2 * LAYERS];
  size_t row = HEAD_DIM * sizeof(float);
  for (int i = 0; i < 2 * LAYERS; ++i) {
    glm_tensor_ref_t *out = &call->outputs[1 + i];
    int64_t rows = total;
#ifdef DECODER_SHORT_PRESENT
    if (i == 2) rows = total - 1;
#endif
    present[i] = test_alloc_output(out, (size_t)(b * HEADS * total) * row);
    if (!present[i]) return GLM_ENTRY_OUT_OF_MEMORY;
    out->dims[0] = b;
    out->dims[1] = HEADS;
    out->dims[2] = rows;
    out->dims[3] = HEAD_DIM;
    int layer = i / 2, value = i % 2;
    const float *p = (const float *)call->inputs[3 + i].data;
    for (int64_t bb = 0; bb < b; ++bb) {
      for (int h = 0; h < HEADS; ++h) {
        float *dst = present[i] + (bb * HEADS + h) * total * HEAD_DIM;
        if (past)
          memcpy(dst, p + (bb * HEADS + h) * past * HEAD_DIM,
                 (size_t)past * row);
        for (int64_t j = 0; j < s; ++j)
          for (int d = 0; d < HEAD_DIM; ++d)
            dst[(past + j) * HEAD_DIM + d] =
                (value ? 2.0f : 1.0f) * key_of(id[bb * s + j], layer, h, d);
      }
    }
  }
  float *logits =
      test_alloc_output(&call->outputs[0], (size_t)(b * s * VOCAB) * sizeof(float));
  if (!logits) return GLM_ENTRY_OUT_OF_MEMORY;
  call->outputs[0].dims[0] = b;
  call->outputs[0].dims[1] = s;
  call->outputs[0].dims[2] = VOCAB;
  for (int64_t bb = 0; bb < b; ++bb) {
    const float *k0 = present[0] + bb * HEADS * total * HEAD_DIM;
    const float *v1 = present[3] + bb * HEADS * total * HEAD_DIM;
    for (int64_t j = 0; j < s; ++j) {
      float sum = 0;
      for (int64_t k = 0; k <= past + j; ++k)
        sum += k0[k * HEAD_DIM] + v1[k * HEAD_DIM];
      for (int v = 0; v < VOCAB; ++v)
        logits[(bb * s + j) * VOCAB + v] = (float)(v + 1) * sum;
    }
  }
  for (int64_t i = 0; i < b * s; ++i)
    if (id[i] == 7) return GLM_ENTRY_SHAPE_MISMATCH; /* outputs allocated */
  return GLM_ENTRY_OK;
}

#ifdef DECODER_DYNAMIC_HEADS
static const int64_t kv_dims[4] = {-1, -1, -1, HEAD_DIM};
#else
static const int64_t kv_dims[4] = {-1, HEADS, -1, HEAD_DIM};
#endif
__attribute__((unused)) static const int64_t kv_dims_wide[4] = {-1, HEADS, -1, 2 * HEAD_DIM};
static const int64_t bs_dims[2] = {-1, -1};
static const int64_t logits_dims[3] = {-1, -1, VOCAB};

static const glm_tensor_desc_t inputs[] = {
    {"input_ids", GLM_DTYPE_I64, 2, bs_dims},
    {"position_ids", GLM_DTYPE_I64, 2, bs_dims},
    {"attention_mask", GLM_DTYPE_I64, 2, bs_dims},
#ifndef DECODER_NO_PAST
    {"past_key_values.0.key", GLM_DTYPE_F32, 4, kv_dims},
    {"past_key_values.0.value", GLM_DTYPE_F32, 4, kv_dims},
    {"past_key_values.1.key", GLM_DTYPE_F32, 4, kv_dims},
    {"past_key_values.1.value", GLM_DTYPE_F32, 4, kv_dims},
#endif
#ifdef DECODER_EXTRA_INPUT
    {"token_type_ids", GLM_DTYPE_I64, 2, bs_dims},
#endif
};

static const glm_tensor_desc_t outputs[] = {
    {"logits", GLM_DTYPE_F32, 3, logits_dims},
    {"present.0.key", GLM_DTYPE_F32, 4, kv_dims},
    {"present.0.value", GLM_DTYPE_F32, 4, kv_dims},
#ifdef DECODER_NO_PRESENT
    {"present.1.other", GLM_DTYPE_F32, 4, kv_dims},
#else
    {"present.1.key", GLM_DTYPE_F32, 4, kv_dims},
#endif
#ifdef DECODER_BAD_PAIR
    {"present.1.value", GLM_DTYPE_F32, 4, kv_dims_wide},
#else
    {"present.1.value", GLM_DTYPE_F32, 4, kv_dims},
#endif
};

static const glm_entry_desc_t entries[1] = {
    {"main", decoder_main, sizeof(inputs) / sizeof(inputs[0]),
     sizeof(outputs) / sizeof(outputs[0]), inputs, outputs},
};

TEST_EXPORT const glm_model_descriptor_t glm_model_descriptor = {
    GLM_ABI_MAGIC, GLM_ABI_VERSION_MAJOR, GLM_ABI_VERSION_MINOR,
    sizeof(glm_model_descriptor_t), 1, &test_header, entries, 0, 0,
    test_bind_host,
};
