/*===- glmrt/artifact_abi.h - The contract between model.so and glmrt ------===*
 *
 * This header is the whole binary contract between an artifact written by
 * glmc (model.so) and the runtime that loads it (glmrt). It is plain C, has no
 * dependency beyond <stddef.h>/<stdint.h>, and is included by both sides:
 * the runtime's loader reads it, compiler/package writes it.
 *
 * Layout of an artifact:
 *   - an allocatable ELF section named GLM_ABI_HEADER_SECTION that holds one
 *     glm_artifact_header_t. The loader reads it from the file's bytes (ELF
 *     section headers) *before* it dlopens anything, and refuses the file
 *     with a message when the magic, ABI major, architecture, CPU features,
 *     file size or weights checksum do not match.
 *   - one exported symbol, GLM_ABI_DESCRIPTOR_SYMBOL, a glm_model_descriptor_t.
 *     Every other symbol is hidden. The artifact has no initializers, no
 *     IFUNCs and no undefined symbols beyond libc/libm: memory and threads
 *     come from the runtime through glm_host_table_t.
 *
 * Rules: fields are appended, never reordered or reused. Every struct starts
 * with (or carries) a struct_size so that a newer reader can tell how much an
 * older writer wrote. An ABI major bump means the runtime refuses the file.
 *===----------------------------------------------------------------------===*/
#ifndef GLMRT_ARTIFACT_ABI_H
#define GLMRT_ARTIFACT_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "GLMA" little-endian. */
#define GLM_ABI_MAGIC 0x414D4C47u
#define GLM_ABI_VERSION_MAJOR 1u
#define GLM_ABI_VERSION_MINOR 2u

#define GLM_ABI_HEADER_SECTION ".glm_header"
#define GLM_ABI_WEIGHTS_SECTION ".glm_weights"
#define GLM_ABI_DESCRIPTOR_SYMBOL "glm_model_descriptor"

/* Maximum rank of a model input or output. */
#define GLM_ABI_MAX_RANK 8u
/* The lowest input dim value: class 65535 of tied dynamic dims. */
#define GLM_ABI_MIN_TIED_DIM (-2 - 65535)
/* Alignment of every tensor inside the weights blob and of the blob itself. */
#define GLM_ABI_WEIGHTS_ALIGNMENT 64u

/*--- architectures ---------------------------------------------------------*/
typedef enum glm_arch {
  GLM_ARCH_UNKNOWN = 0,
  GLM_ARCH_X86_64 = 1,
  GLM_ARCH_AARCH64 = 2,
} glm_arch_t;

/*--- CPU features (bit numbers in glm_artifact_header_t::cpu_features) -----*/
/* x86-64: bits 0..31 */
#define GLM_CPU_X86_SSE4_2 (1ull << 0)
#define GLM_CPU_X86_AVX (1ull << 1)
#define GLM_CPU_X86_AVX2 (1ull << 2)
#define GLM_CPU_X86_FMA (1ull << 3)
#define GLM_CPU_X86_F16C (1ull << 4)
#define GLM_CPU_X86_AVX512F (1ull << 5)
#define GLM_CPU_X86_AVX512BW (1ull << 6)
#define GLM_CPU_X86_AVX512DQ (1ull << 7)
#define GLM_CPU_X86_AVX512VL (1ull << 8)
#define GLM_CPU_X86_AVX512VNNI (1ull << 9)
#define GLM_CPU_X86_AVXVNNI (1ull << 10)
#define GLM_CPU_X86_AVX512BF16 (1ull << 11)
#define GLM_CPU_X86_BMI2 (1ull << 12)
/* AArch64: bits 32..63 */
#define GLM_CPU_ARM_NEON (1ull << 32)
#define GLM_CPU_ARM_DOTPROD (1ull << 33)
#define GLM_CPU_ARM_FP16 (1ull << 34)
#define GLM_CPU_ARM_I8MM (1ull << 35)
#define GLM_CPU_ARM_BF16 (1ull << 36)
#define GLM_CPU_ARM_SVE (1ull << 37)

/*--- element types -----------------------------------------------------------*/
/* Values are stable and never renumbered. */
typedef enum glm_dtype {
  GLM_DTYPE_INVALID = 0,
  GLM_DTYPE_F32 = 1,
  GLM_DTYPE_F16 = 2,
  GLM_DTYPE_BF16 = 3,
  GLM_DTYPE_F64 = 4,
  GLM_DTYPE_I8 = 5,
  GLM_DTYPE_U8 = 6,
  GLM_DTYPE_I16 = 7,
  GLM_DTYPE_U16 = 8,
  GLM_DTYPE_I32 = 9,
  GLM_DTYPE_U32 = 10,
  GLM_DTYPE_I64 = 11,
  GLM_DTYPE_U64 = 12,
  GLM_DTYPE_BOOL = 13, /* one byte per element, 0 or 1 */
  /* ABI 1.2: 8- and 4-bit types, one byte per element; a 4-bit value is
     the low nibble of its byte, the high nibble zero (as ml_dtypes holds
     them; ONNX packs two per byte only inside a model file). */
  GLM_DTYPE_F8E4M3FN = 14,
  GLM_DTYPE_F8E4M3FNUZ = 15,
  GLM_DTYPE_F8E5M2 = 16,
  GLM_DTYPE_F8E5M2FNUZ = 17,
  GLM_DTYPE_F4E2M1FN = 18,
  GLM_DTYPE_I4 = 19,
  GLM_DTYPE_U4 = 20,
} glm_dtype_t;

/*--- the header section --------------------------------------------------*/
/* Flags in glm_artifact_header_t::flags. */
#define GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS (1u << 0)

typedef struct glm_artifact_header {
  uint32_t magic;         /* GLM_ABI_MAGIC */
  uint16_t abi_major;     /* GLM_ABI_VERSION_MAJOR of the writer */
  uint16_t abi_minor;     /* GLM_ABI_VERSION_MINOR of the writer */
  uint32_t struct_size;   /* sizeof(glm_artifact_header_t) of the writer */
  uint32_t arch;          /* glm_arch_t */
  uint64_t cpu_features;  /* GLM_CPU_* bits the code needs */
  uint32_t flags;         /* GLM_ARTIFACT_FLAG_* */
  uint32_t reserved0;
  uint64_t weights_size;  /* bytes in the weights blob */
  /* glm_abi_checksum() of the weights blob (seed 0). */
  uint64_t weights_checksum;
  /* NUL-terminated strings, zero padded. */
  char model_name[64];
  char target[32];        /* --target name, e.g. "x86-64-v3" */
  char cpu[32];           /* LLVM CPU name, e.g. "haswell" */
  char weights_file[128]; /* side file name (same directory) when external */
} glm_artifact_header_t;

/*--- host services, passed in by the runtime -----------------------------*/
/* A parallel task: process iterations [begin, end). */
typedef void (*glm_task_fn)(void *arg, int64_t begin, int64_t end);

typedef struct glm_host_table {
  uint32_t struct_size;
  uint32_t reserved;
  /* Aligned allocation; returns NULL on failure. Thread-safe. */
  void *(*alloc)(size_t size, size_t alignment);
  /* Releases a block from alloc; NULL is a no-op. Thread-safe. */
  void (*free)(void *ptr);
  /* Runs fn over [0, n) split into chunks of at least `grain` iterations on
   * the calling session's threads and returns when all are done. */
  void (*parallel_for)(int64_t n, int64_t grain, glm_task_fn fn, void *arg);
  /* ABI 1.1. A model compiled with `glmc --profile` calls this on the
   * calling thread where it starts layer `layer` (an index into its
   * descriptor's profile_layers) and with -1 where it returns. Models
   * check struct_size and skip their marks when the table is older or
   * the pointer is NULL. */
  void (*profile_mark)(int32_t layer);
  /* ABI 1.2. The model found an index out of range: `site` names the ONNX
   * node and operand ("node 'Gather_3': Gather index"), `value` is the
   * index, `bound` the size of the dim it indexes (valid: -bound to
   * bound - 1). The model goes on (its gathers clamp, memory stays safe)
   * and the runtime fails the run with OUT_OF_RANGE. Any thread of the
   * run may call it; models check struct_size and skip it when the table
   * is older or the pointer is NULL. */
  void (*report_error)(const char *site, int64_t value, int64_t bound);
} glm_host_table_t;

/*--- tensors at a call ---------------------------------------------------*/
typedef struct glm_tensor_ref {
  /* Inputs: the caller's dense row-major data. Outputs: written by the
   * model, dense row-major. */
  void *data;
  /* Outputs only: the block the runtime must release with host->free to
   * free `data`. The model always returns freshly allocated outputs, never
   * views of inputs or weights, and never the same block twice. */
  void *allocation;
  int64_t dims[GLM_ABI_MAX_RANK];
} glm_tensor_ref_t;

typedef struct glm_call {
  uint32_t struct_size;
  uint32_t reserved;
  const void *weights;      /* the weights blob, GLM_ABI_WEIGHTS_ALIGNMENT aligned */
  glm_tensor_ref_t *inputs; /* one per descriptor input, dims filled in */
  glm_tensor_ref_t *outputs;/* one per descriptor output, filled by the model */
} glm_call_t;

/* Returns 0 on success; non-zero codes are GLM_ENTRY_* below. */
typedef int32_t (*glm_entry_fn)(glm_call_t *call);
#define GLM_ENTRY_OK 0
#define GLM_ENTRY_OUT_OF_MEMORY 1
#define GLM_ENTRY_SHAPE_MISMATCH 2

/*--- the descriptor ------------------------------------------------------*/
typedef struct glm_tensor_desc {
  const char *name;
  uint32_t dtype; /* glm_dtype_t */
  uint32_t rank;  /* <= GLM_ABI_MAX_RANK */
  /* rank entries; negative is dynamic. Inputs: -2 - c marks a dynamic dim
   * of class c; every input dim of one class must have the same size at
   * run time (the compiled code combines them without broadcasting).
   * Loaders that only test `< 0` read these as plain dynamic dims.
   * Classes are 0 .. 65535 (dims down to GLM_ABI_MIN_TIED_DIM). */
  const int64_t *dims;
} glm_tensor_desc_t;

typedef struct glm_entry_desc {
  const char *name;  /* "main" for a plain model */
  glm_entry_fn fn;
  uint32_t num_inputs;
  uint32_t num_outputs;
  const glm_tensor_desc_t *inputs;
  const glm_tensor_desc_t *outputs;
} glm_entry_desc_t;

/* One layer of a profiled model (glmc --profile). */
typedef struct glm_profile_layer {
  const char *name;  /* ONNX node names, " + " between fused ones */
  const char *op;    /* glm op names, "+" between them */
  const char *shape; /* output shape, e.g. "1x64x56x56" */
  uint64_t flops;    /* per run, dynamic dims counted as 1 */
  uint64_t bytes;    /* operands and results per run, likewise */
} glm_profile_layer_t;

typedef struct glm_model_descriptor {
  uint32_t magic;       /* GLM_ABI_MAGIC */
  uint16_t abi_major;
  uint16_t abi_minor;
  uint32_t struct_size; /* sizeof(glm_model_descriptor_t) of the writer */
  uint32_t num_entries;
  const glm_artifact_header_t *header; /* the same bytes as the header section */
  const glm_entry_desc_t *entries;
  const void *weights;  /* embedded blob, or NULL when external */
  const char *metadata_json; /* compile flags, report, producer; NUL-terminated */
  /* Must be called once before any entry runs; the table must outlive every
   * call. Calling it again with the same table is harmless. */
  void (*bind_host)(const glm_host_table_t *host);
  /* ABI 1.1 (present when struct_size covers them): the layers whose
   * starts the model marks through host->profile_mark; 0 and NULL for a
   * model compiled without --profile. */
  uint32_t num_profile_layers;
  uint32_t reserved1;
  const glm_profile_layer_t *profile_layers;
} glm_model_descriptor_t;

/* The ABI 1.0 descriptor's size: the smallest a reader accepts. */
#define GLM_ABI_DESCRIPTOR_V1_0_SIZE offsetof(glm_model_descriptor_t, num_profile_layers)

/*--- checksum ------------------------------------------------------------*/
/* 64-bit FNV-1a over 8-byte little-endian words, then the tail bytes. Both
 * the compiler and the loader use this one definition. */
static inline uint64_t glm_abi_checksum(const void *data, uint64_t size) {
  const unsigned char *p = (const unsigned char *)data;
  uint64_t h = 0xcbf29ce484222325ull;
  const uint64_t prime = 0x100000001b3ull;
  uint64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; --b) w = (w << 8) | p[i + (uint64_t)b];
    h ^= w;
    h *= prime;
  }
  for (; i < size; ++i) {
    h ^= p[i];
    h *= prime;
  }
  return h;
}

/* Size in bytes of one element of a dtype, 0 for an invalid value. */
static inline size_t glm_dtype_size(uint32_t dtype) {
  switch (dtype) {
  case GLM_DTYPE_F64: case GLM_DTYPE_I64: case GLM_DTYPE_U64: return 8;
  case GLM_DTYPE_F32: case GLM_DTYPE_I32: case GLM_DTYPE_U32: return 4;
  case GLM_DTYPE_F16: case GLM_DTYPE_BF16: case GLM_DTYPE_I16:
  case GLM_DTYPE_U16: return 2;
  case GLM_DTYPE_I8: case GLM_DTYPE_U8: case GLM_DTYPE_BOOL:
  case GLM_DTYPE_F8E4M3FN: case GLM_DTYPE_F8E4M3FNUZ: case GLM_DTYPE_F8E5M2:
  case GLM_DTYPE_F8E5M2FNUZ: case GLM_DTYPE_F4E2M1FN: case GLM_DTYPE_I4:
  case GLM_DTYPE_U4: return 1;
  default: return 0;
  }
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GLMRT_ARTIFACT_ABI_H */
