/*===- glmrt/glmrt.h - The glmc runtime C API -------------------------------===*
 *
 * glmrt loads a model.so written by glmc and runs it. This header is the whole
 * public C API. It is plain C11, includes only <stddef.h> and <stdint.h>, and
 * compiles as C++.
 *
 * Typical use:
 *
 *   glmrt_model_t *model = NULL;
 *   glmrt_session_t *session = NULL;
 *   glmrt_tensor_t *y = NULL;
 *   glmrt_status_t *st = glmrt_model_load("model.so", NULL, &model);
 *   if (!st) st = glmrt_session_create(model, NULL, &session);
 *   if (!st) {
 *     int64_t dims[2] = {1, 4};
 *     float x[4] = {1, 2, 3, 4};
 *     glmrt_tensor_view_t in =
 *         glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
 *     st = glmrt_session_run(session, NULL, &in, 1, &y, 1);
 *   }
 *   if (st) {
 *     fprintf(stderr, "%s\n", glmrt_status_message(st));
 *     glmrt_status_free(st);
 *   }
 *   glmrt_tensor_release(y);
 *   glmrt_session_release(session);
 *   glmrt_model_release(model);
 *
 * Conventions (the same for every function):
 *  - Every fallible call returns a glmrt_status_t*. NULL is success. A
 *    non-NULL status carries a stable code and a message that names what
 *    failed and why, and belongs to the caller until glmrt_status_free().
 *  - Results go through out_ parameters, which are written only on success.
 *  - Objects returned by _load/_create are the caller's and are released with
 *    the matching _release (NULL is a no-op). A session retains its model.
 *  - Accessors return borrowed pointers, valid while their owner lives.
 *  - Options and info structs start with `struct_size`; initialise them with
 *    their static inline _init() function, so that the library knows which
 *    fields the caller's version of this header has. Fields are only ever
 *    appended.
 *  - The library never prints, aborts, exits or reads the environment.
 *
 * Threading: a loaded model is immutable and may be shared by any number of
 * threads; each thread runs it through its own session. A session is used by
 * one thread at a time. Statuses and tensors may move between threads.
 *===----------------------------------------------------------------------===*/
#ifndef GLMRT_GLMRT_H
#define GLMRT_GLMRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Macros and version
 *===----------------------------------------------------------------------===*/

#if defined(_WIN32)
#define GLMRT_API
#else
#define GLMRT_API __attribute__((visibility("default")))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GLMRT_MUST_USE_RESULT __attribute__((warn_unused_result))
#else
#define GLMRT_MUST_USE_RESULT
#endif

/** Version of this header. The library's version: glmrt_runtime_version(). */
#define GLMRT_VERSION_MAJOR 0
#define GLMRT_VERSION_MINOR 1
#define GLMRT_VERSION_PATCH 0
/** Packs a version into one comparable integer. */
#define GLMRT_MAKE_VERSION(major, minor, patch)                               \
  ((((uint32_t)(major)) << 16) | (((uint32_t)(minor)) << 8) |               \
   ((uint32_t)(patch)))
#define GLMRT_VERSION                                                       \
  GLMRT_MAKE_VERSION(GLMRT_VERSION_MAJOR, GLMRT_VERSION_MINOR,              \
                     GLMRT_VERSION_PATCH)

/* Zero-initialiser for the _init() functions below ({0} warns in C++). */
#ifdef __cplusplus
#define GLMRT_ZERO_INIT {}
#else
#define GLMRT_ZERO_INIT {0}
#endif

/** Maximum rank of a model input or output (GLM_ABI_MAX_RANK). */
#define GLMRT_MAX_RANK 8

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

/** Status codes. Stable: never renumbered, only appended. */
typedef enum glmrt_status_code {
  GLMRT_STATUS_OK = 0,
  /** A bad argument, a malformed file, inputs that do not match the model. */
  GLMRT_STATUS_INVALID_ARGUMENT = 1,
  /** A file, an entry or another named thing does not exist. */
  GLMRT_STATUS_NOT_FOUND = 2,
  /** The artifact does not fit this runtime or machine: ABI version,
   *  architecture, CPU features. */
  GLMRT_STATUS_INCOMPATIBLE = 3,
  /** Checksum mismatch, truncated file. */
  GLMRT_STATUS_DATA_LOSS = 4,
  /** Out of memory, threads or another resource. */
  GLMRT_STATUS_RESOURCE_EXHAUSTED = 5,
  /** An index or a size outside its range (e.g. a KV cache that is full). */
  GLMRT_STATUS_OUT_OF_RANGE = 6,
  /** A service that is not available here (e.g. no CUDA driver). */
  GLMRT_STATUS_UNAVAILABLE = 7,
  /** A broken invariant inside glmrt or inside the model's code. */
  GLMRT_STATUS_INTERNAL = 8,
} glmrt_status_code_t;

/** Opaque status; NULL means success. */
typedef struct glmrt_status glmrt_status_t;

/** The code of a status; GLMRT_STATUS_OK for NULL. */
GLMRT_API glmrt_status_code_t glmrt_status_code(const glmrt_status_t *status);

/** The message of a status ("OK" for NULL). Borrowed from the status. */
GLMRT_API const char *glmrt_status_message(const glmrt_status_t *status);

/** Releases a status. NULL is a no-op. */
GLMRT_API void glmrt_status_free(glmrt_status_t *status);

/** The name of a code, e.g. "INVALID_ARGUMENT"; "UNKNOWN" for other values.
 *  Static storage. */
GLMRT_API const char *glmrt_status_code_name(glmrt_status_code_t code);

/*===----------------------------------------------------------------------===*
 * Runtime
 *===----------------------------------------------------------------------===*/

/** The library's version, GLMRT_MAKE_VERSION(major, minor, patch). */
GLMRT_API uint32_t glmrt_runtime_version(void);

/** The library's version as text, e.g. "0.1.0". Static storage. */
GLMRT_API const char *glmrt_runtime_version_string(void);

/** The artifact ABI this library reads: (major << 16) | minor. It loads
 *  artifacts with the same major and any minor. */
GLMRT_API uint32_t glmrt_runtime_abi_version(void);

/** The GLM_CPU_* feature bits (see <glmrt/artifact_abi.h>) detected on this
 *  machine (cpuid/xgetbv on x86-64, the auxiliary vector on AArch64). */
GLMRT_API uint64_t glmrt_runtime_cpu_features(void);

/** A name for this machine's CPU, e.g. "AMD EPYC 7B13" or "cortex-a76".
 *  Static storage. */
GLMRT_API const char *glmrt_runtime_cpu_name(void);

/** This machine's architecture, e.g. "x86-64" or "aarch64". Static storage. */
GLMRT_API const char *glmrt_runtime_arch_name(void);

/** The names of the feature bits in `features`, comma separated, e.g.
 *  "avx2, fma" (unknown bits as "bit N"), written NUL-terminated into
 *  `buffer` and truncated to `capacity`. Returns the length the full text
 *  needs, without the NUL (as snprintf). */
GLMRT_API size_t glmrt_cpu_features_format(uint64_t features, char *buffer,
                                           size_t capacity);

/*===----------------------------------------------------------------------===*
 * Element types
 *===----------------------------------------------------------------------===*/

/** Element types; the same values as glm_dtype_t in <glmrt/artifact_abi.h>. */
typedef enum glmrt_dtype {
  GLMRT_DTYPE_INVALID = 0,
  GLMRT_DTYPE_F32 = 1,
  GLMRT_DTYPE_F16 = 2,
  GLMRT_DTYPE_BF16 = 3,
  GLMRT_DTYPE_F64 = 4,
  GLMRT_DTYPE_I8 = 5,
  GLMRT_DTYPE_U8 = 6,
  GLMRT_DTYPE_I16 = 7,
  GLMRT_DTYPE_U16 = 8,
  GLMRT_DTYPE_I32 = 9,
  GLMRT_DTYPE_U32 = 10,
  GLMRT_DTYPE_I64 = 11,
  GLMRT_DTYPE_U64 = 12,
  GLMRT_DTYPE_BOOL = 13, /**< one byte per element, 0 or 1 */
  /* 8- and 4-bit types (ONNX FLOAT8*, FLOAT4E2M1, INT4, UINT4), one byte per
   * element: float8 as its bit pattern; a 4-bit value in the low nibble with
   * the high nibble zero, as ml_dtypes' NumPy arrays hold them. */
  GLMRT_DTYPE_F8E4M3FN = 14,
  GLMRT_DTYPE_F8E4M3FNUZ = 15,
  GLMRT_DTYPE_F8E5M2 = 16,
  GLMRT_DTYPE_F8E5M2FNUZ = 17,
  GLMRT_DTYPE_F4E2M1FN = 18,
  GLMRT_DTYPE_I4 = 19,
  GLMRT_DTYPE_U4 = 20,
} glmrt_dtype_t;

/** Bytes per element; 0 for an invalid dtype. */
GLMRT_API size_t glmrt_dtype_size(glmrt_dtype_t dtype);

/** A short name, e.g. "f32", "bool"; "invalid" for unknown values. */
GLMRT_API const char *glmrt_dtype_name(glmrt_dtype_t dtype);

/*===----------------------------------------------------------------------===*
 * Models
 *===----------------------------------------------------------------------===*/

/** A loaded artifact. Opaque, reference counted, immutable, thread-safe. */
typedef struct glmrt_model glmrt_model_t;

/** One entry point of a model ("main" for a plain model). Borrowed from the
 *  model: valid while the model lives. */
typedef struct glmrt_entry glmrt_entry_t;

/** glmrt_load_options_t::flags */
/** Do not verify the weights checksum (saves a read of the weights). */
#define GLMRT_LOAD_FLAG_SKIP_CHECKSUM (1u << 0)

typedef struct glmrt_load_options {
  uint32_t struct_size; /**< sizeof(glmrt_load_options_t); set by _init */
  uint32_t flags;       /**< GLMRT_LOAD_FLAG_* */
  /** GLM_CPU_* bits to treat as absent on this machine, as if the CPU lacked
   *  them (for tests, or to refuse code paths a deployment distrusts). */
  uint64_t cpu_features_disabled;
} glmrt_load_options_t;

static inline void glmrt_load_options_init(glmrt_load_options_t *options) {
  glmrt_load_options_t zero = GLMRT_ZERO_INIT;
  *options = zero;
  options->struct_size = (uint32_t)sizeof(*options);
}

/** Loads a model.so.
 *
 * Before any code from the file runs, the file's bytes are checked, in this
 * order: the file exists and is readable (NOT_FOUND); it is a 64-bit
 * little-endian ELF file (INVALID_ARGUMENT); the file holds every section it
 * lists (DATA_LOSS); its machine is this CPU's architecture (INCOMPATIBLE);
 * it has a valid `.glm_header` section (INVALID_ARGUMENT); its artifact ABI
 * major is this runtime's (INCOMPATIBLE); the header's architecture and CPU
 * features are present here (INCOMPATIBLE); the weights (embedded, or the
 * external side file, which must sit in the directory of the resolved
 * model path and may not name another directory) have the recorded size and
 * checksum (NOT_FOUND, DATA_LOSS). Only then is the file dlopen()ed, its
 * descriptor cross-checked (INVALID_ARGUMENT) and bound to the runtime's
 * host services.
 *
 * @param path     path of the model.so.
 * @param options  NULL for defaults.
 * @param out_model receives the model; release with glmrt_model_release().
 */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_model_load(const char *path, const glmrt_load_options_t *options,
                 glmrt_model_t **out_model);

/** Adds a reference to a model. NULL is a no-op. */
GLMRT_API void glmrt_model_retain(glmrt_model_t *model);

/** Drops a reference; the last one unloads the model. NULL is a no-op.
 *  Output tensors stay valid after their model is released. */
GLMRT_API void glmrt_model_release(glmrt_model_t *model);

/** The model name recorded by the compiler. Borrowed. */
GLMRT_API const char *glmrt_model_name(const glmrt_model_t *model);

/** The --target the model was compiled for, e.g. "x86-64-v3". Borrowed. */
GLMRT_API const char *glmrt_model_target(const glmrt_model_t *model);

/** Metadata JSON (compile flags, compression report, producer); "{}" when
 *  the artifact has none. Borrowed. */
GLMRT_API const char *glmrt_model_metadata_json(const glmrt_model_t *model);

/** Everything else the header says about a model. */
typedef struct glmrt_model_info {
  uint32_t struct_size; /**< set by glmrt_model_info_init */
  uint16_t abi_major;   /**< artifact ABI of the writer */
  uint16_t abi_minor;
  uint32_t arch;          /**< glm_arch_t */
  uint32_t flags;         /**< GLM_ARTIFACT_FLAG_* */
  uint64_t cpu_features;  /**< GLM_CPU_* bits the code needs */
  uint64_t weights_size;  /**< bytes of weights */
  uint64_t weights_checksum;
  const char *name;       /**< borrowed from the model */
  const char *target;     /**< borrowed */
  const char *cpu;        /**< LLVM CPU name, e.g. "haswell"; borrowed */
  const char *path;       /**< resolved path of the model.so; borrowed */
  const char *weights_path; /**< the side file, or NULL when embedded */
} glmrt_model_info_t;

static inline void glmrt_model_info_init(glmrt_model_info_t *info) {
  glmrt_model_info_t zero = GLMRT_ZERO_INIT;
  *info = zero;
  info->struct_size = (uint32_t)sizeof(*info);
}

/** Fills `info` (initialised with glmrt_model_info_init) about `model`. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_model_info(const glmrt_model_t *model, glmrt_model_info_t *info);

/** Number of entry points (at least 1). */
GLMRT_API size_t glmrt_model_entry_count(const glmrt_model_t *model);

/** The entry at `index`, or NULL when index >= glmrt_model_entry_count(). */
GLMRT_API const glmrt_entry_t *glmrt_model_entry_at(const glmrt_model_t *model,
                                                    size_t index);

/** Finds an entry by name; NULL name means "main". NOT_FOUND names the
 *  entries the model has. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_model_entry_find(const glmrt_model_t *model, const char *name,
                       const glmrt_entry_t **out_entry);

/*===----------------------------------------------------------------------===*
 * Entries
 *===----------------------------------------------------------------------===*/

/** Name, dtype and shape of an entry's input or output. */
typedef struct glmrt_tensor_info {
  uint32_t struct_size; /**< set by glmrt_tensor_info_init */
  uint32_t dtype;       /**< glmrt_dtype_t */
  const char *name;     /**< borrowed from the model */
  uint32_t rank;        /**< <= GLMRT_MAX_RANK */
  uint32_t reserved;
  int64_t dims[GLMRT_MAX_RANK]; /**< rank entries; -1 is dynamic */
} glmrt_tensor_info_t;

static inline void glmrt_tensor_info_init(glmrt_tensor_info_t *info) {
  glmrt_tensor_info_t zero = GLMRT_ZERO_INIT;
  *info = zero;
  info->struct_size = (uint32_t)sizeof(*info);
}

/** The entry's name. Borrowed. */
GLMRT_API const char *glmrt_entry_name(const glmrt_entry_t *entry);

/** Number of inputs of an entry. */
GLMRT_API size_t glmrt_entry_input_count(const glmrt_entry_t *entry);

/** Number of outputs of an entry. */
GLMRT_API size_t glmrt_entry_output_count(const glmrt_entry_t *entry);

/** Describes input `index` (OUT_OF_RANGE past the count). */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_entry_input_info(const glmrt_entry_t *entry, size_t index,
                       glmrt_tensor_info_t *info);

/** Describes output `index` (OUT_OF_RANGE past the count). */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_entry_output_info(const glmrt_entry_t *entry, size_t index,
                        glmrt_tensor_info_t *info);

/*===----------------------------------------------------------------------===*
 * Sessions
 *===----------------------------------------------------------------------===*/

/** A model plus a thread pool; runs entries. Used by one thread at a time. */
typedef struct glmrt_session glmrt_session_t;

/** A memory allocator for a session. All three fields or none. `alloc` must
 *  return blocks aligned to at least `alignment` (a power of two, >= 64) or
 *  NULL; both functions must be thread-safe and outlive every output tensor
 *  that the session returned. */
typedef struct glmrt_allocator {
  void *(*alloc)(void *self, size_t size, size_t alignment);
  void (*free)(void *self, void *ptr);
  void *self;
} glmrt_allocator_t;

/** glmrt_session_options_t::flags */
/** With the default allocator, take every block from libc and give it back
 *  at once instead of keeping freed blocks for later runs (less memory held
 *  between runs; lets valgrind see every use after free). */
#define GLMRT_SESSION_FLAG_NO_BLOCK_CACHE (1u << 0)

typedef struct glmrt_session_options {
  uint32_t struct_size; /**< set by _init */
  /** Threads that run the model's parallel loops, the calling thread
   *  included. 0 means one per CPU this process may run on. 1 runs
   *  everything on the calling thread. */
  uint32_t num_threads;
  /** Where model memory comes from; all NULL (the default) means 64-byte
   *  aligned blocks from libc, through a per-session cache of freed blocks:
   *  repeated runs reuse the same memory. The cache holds at most the
   *  larger of 64 MiB and the peak the last run used; it goes when the
   *  session and every output tensor it returned are released. A caller's
   *  allocator is used as is, without a cache. */
  glmrt_allocator_t allocator;
  uint32_t flags; /**< GLMRT_SESSION_FLAG_* */
} glmrt_session_options_t;

static inline void
glmrt_session_options_init(glmrt_session_options_t *options) {
  glmrt_session_options_t zero = GLMRT_ZERO_INIT;
  *options = zero;
  options->struct_size = (uint32_t)sizeof(*options);
}

/** Creates a session over `model` (which it retains) and starts its worker
 *  threads; they live until glmrt_session_release().
 *  @param options NULL for defaults. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_create(glmrt_model_t *model,
                     const glmrt_session_options_t *options,
                     glmrt_session_t **out_session);

/** Joins the workers and releases the session (and its model reference).
 *  NULL is a no-op. Output tensors stay valid. */
GLMRT_API void glmrt_session_release(glmrt_session_t *session);

/** The session's model. Borrowed. */
GLMRT_API glmrt_model_t *glmrt_session_model(const glmrt_session_t *session);

/** Threads the session uses, the calling thread included. */
GLMRT_API uint32_t glmrt_session_num_threads(const glmrt_session_t *session);

/** What a session's runs took from memory (glmrt_session_memory). */
typedef struct glmrt_session_memory {
  uint32_t struct_size; /**< set by glmrt_session_memory_init */
  /** 1 with the default allocator (its block cache counts); 0 with a
   *  caller's allocator or GLMRT_SESSION_FLAG_NO_BLOCK_CACHE, where the
   *  numbers below are 0. */
  uint32_t measured;
  /** Most bytes the model held at once during the last run: activations,
   *  scratch and outputs (in the cache's size classes, at most a quarter
   *  above what was asked). */
  uint64_t last_run_peak_bytes;
  /** Blocks taken from libc since the session was created: constant once
   *  runs reach a steady state (every block comes from the cache). */
  uint64_t system_allocs;
  /** Idle bytes the session keeps for its next run. */
  uint64_t cached_bytes;
} glmrt_session_memory_t;

static inline void glmrt_session_memory_init(glmrt_session_memory_t *memory) {
  glmrt_session_memory_t zero = GLMRT_ZERO_INIT;
  *memory = zero;
  memory->struct_size = (uint32_t)sizeof(*memory);
}

/** Fills `memory` (initialised with glmrt_session_memory_init). */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_memory(const glmrt_session_t *session,
                     glmrt_session_memory_t *memory);

/*===----------------------------------------------------------------------===*
 * Tensors
 *===----------------------------------------------------------------------===*/

/** An input: a borrowed, dense, row-major view of the caller's data. This
 *  struct's layout is frozen (it is passed as an array). */
typedef struct glmrt_tensor_view {
  uint32_t dtype;        /**< glmrt_dtype_t */
  uint32_t rank;         /**< <= GLMRT_MAX_RANK */
  const int64_t *dims;   /**< rank entries, all >= 0 */
  const void *data;      /**< may be NULL only when byte_size is 0 */
  size_t byte_size;      /**< product(dims) * glmrt_dtype_size(dtype) */
} glmrt_tensor_view_t;

static inline glmrt_tensor_view_t
glmrt_tensor_view_make(glmrt_dtype_t dtype, uint32_t rank,
                       const int64_t *dims, const void *data,
                       size_t byte_size) {
  glmrt_tensor_view_t view;
  view.dtype = (uint32_t)dtype;
  view.rank = rank;
  view.dims = dims;
  view.data = data;
  view.byte_size = byte_size;
  return view;
}

/** An output: dense row-major data owned by the caller, released with
 *  glmrt_tensor_release(). Independent of the session and model that made
 *  it. Opaque. */
typedef struct glmrt_tensor glmrt_tensor_t;

GLMRT_API glmrt_dtype_t glmrt_tensor_dtype(const glmrt_tensor_t *tensor);
GLMRT_API uint32_t glmrt_tensor_rank(const glmrt_tensor_t *tensor);
/** rank entries. Borrowed from the tensor. */
GLMRT_API const int64_t *glmrt_tensor_dims(const glmrt_tensor_t *tensor);
/** Product of the dims (1 for rank 0). */
GLMRT_API int64_t glmrt_tensor_element_count(const glmrt_tensor_t *tensor);
/** The data, at least 64-byte aligned with the default allocator. The caller
 *  may read and write it. */
GLMRT_API void *glmrt_tensor_data(const glmrt_tensor_t *tensor);
GLMRT_API size_t glmrt_tensor_byte_size(const glmrt_tensor_t *tensor);
/** Frees the tensor and its data. NULL is a no-op. */
GLMRT_API void glmrt_tensor_release(glmrt_tensor_t *tensor);

/*===----------------------------------------------------------------------===*
 * Running
 *===----------------------------------------------------------------------===*/

/** Runs an entry.
 *
 * Inputs are checked against the entry before the model runs: count, dtype,
 * rank, every static dim, and byte_size (INVALID_ARGUMENT, naming the input
 * and the values). Inputs are borrowed for the call and never written.
 *
 * @param session     the session; not used by another thread meanwhile.
 * @param entry       an entry of the session's model, or NULL for "main".
 * @param inputs      one view per entry input, in entry order.
 * @param num_inputs  glmrt_entry_input_count(entry).
 * @param out_outputs receives one new tensor per entry output, in entry
 *                    order; the caller releases each. Written only on
 *                    success.
 * @param num_outputs glmrt_entry_output_count(entry).
 *
 * A model that reports failure gives RESOURCE_EXHAUSTED (out of memory),
 * INVALID_ARGUMENT (shapes it cannot run, e.g. dynamic dims that disagree)
 * or INTERNAL (also for outputs that break the artifact contract); what it
 * allocated is released. A session that is already running on another
 * thread refuses the call with INVALID_ARGUMENT.
 *
 * Inputs need only the alignment of their element type. The model's
 * parallel loops run on this session's threads.
 */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_run(glmrt_session_t *session, const glmrt_entry_t *entry,
                  const glmrt_tensor_view_t *inputs, size_t num_inputs,
                  glmrt_tensor_t **out_outputs, size_t num_outputs);

/*===----------------------------------------------------------------------===*
 * Profiling: time per layer of a model compiled with `glmc --profile`
 *===----------------------------------------------------------------------===*/

/** A profiled model calls the runtime where each layer (one ONNX node, or
 * the nodes fused into one loop nest) starts; with profiling enabled on a
 * session, every run of it times its layers. A layer's time runs from its
 * start to the next layer's, on the calling thread, so it includes the
 * parallel work the layer hands to the session's threads. Models compiled
 * without --profile have no layers and no overhead.
 *
 *   glmrt_session_set_profiling(session, 1);   // clears earlier counts
 *   ... glmrt_session_run(...) as often as wanted ...
 *   for (size_t i = 0; i < glmrt_model_profile_layer_count(model); ++i) {
 *     glmrt_profile_layer_info_t info;
 *     glmrt_profile_layer_info_init(&info);
 *     glmrt_session_profile_layer(session, i, &info);  // name, time, ...
 *   }
 *   glmrt_session_write_profile_trace(session, "trace.json");  // Perfetto
 */

/** Layers a profiled model marks; 0 for a model without --profile. */
GLMRT_API size_t glmrt_model_profile_layer_count(const glmrt_model_t *model);

/** Starts (enabled != 0; clears what earlier runs recorded) or stops timing
 *  the session's runs. UNAVAILABLE when the model has no profile layers. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_set_profiling(glmrt_session_t *session, int enabled);

typedef struct glmrt_profile_layer_info {
  uint32_t struct_size; /**< set by glmrt_profile_layer_info_init */
  uint32_t reserved;
  const char *name;  /**< ONNX node names, " + " between fused ones */
  const char *op;    /**< glm op names, "+" between them */
  const char *shape; /**< output shape, e.g. "1x64x56x56" */
  uint64_t flops;    /**< per call, dynamic dims counted as 1 (shape "?") */
  uint64_t bytes;    /**< operands and results per call, likewise */
  uint64_t calls;    /**< times it ran since profiling started */
  uint64_t total_ns; /**< its time over those calls */
} glmrt_profile_layer_info_t;

static inline void
glmrt_profile_layer_info_init(glmrt_profile_layer_info_t *info) {
  glmrt_profile_layer_info_t zero = GLMRT_ZERO_INIT;
  *info = zero;
  info->struct_size = (uint32_t)sizeof(*info);
}

/** Layer `index` of the session's profile (strings borrowed from the
 *  model). UNAVAILABLE before glmrt_session_set_profiling, OUT_OF_RANGE
 *  past glmrt_model_profile_layer_count(). */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_profile_layer(const glmrt_session_t *session, size_t index,
                            glmrt_profile_layer_info_t *info);

typedef struct glmrt_profile_summary {
  uint32_t struct_size; /**< set by glmrt_profile_summary_init */
  uint32_t reserved;
  uint64_t num_layers;
  uint64_t runs;     /**< entry calls timed */
  uint64_t run_ns;   /**< their time, each from call to return */
  uint64_t layer_ns; /**< the layers' time, summed */
  uint64_t events;   /**< layer and run events kept for the trace */
  uint64_t dropped_events; /**< events past the trace's limit (2^20) */
} glmrt_profile_summary_t;

static inline void
glmrt_profile_summary_init(glmrt_profile_summary_t *summary) {
  glmrt_profile_summary_t zero = GLMRT_ZERO_INIT;
  *summary = zero;
  summary->struct_size = (uint32_t)sizeof(*summary);
}

/** Totals of the session's profile (UNAVAILABLE before profiling). */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_profile_summary(const glmrt_session_t *session,
                              glmrt_profile_summary_t *summary);

/** Writes the recorded runs as a Chrome trace (JSON; chrome://tracing or
 *  ui.perfetto.dev): one slice per run and, inside it, one per layer with
 *  its op, shape and FLOPs. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_session_write_profile_trace(const glmrt_session_t *session,
                                  const char *path);

/*===----------------------------------------------------------------------===*
 * Decoders: generation with a key/value cache
 *===----------------------------------------------------------------------===*/

/** A decoder runs a model exported for decoding with a KV cache (the
 * optimum / transformers "decoder with past" form) one chunk of tokens at a
 * time and keeps the cache between calls. Prefill the prompt, then step one
 * token at a time:
 *
 *   glmrt_decoder_options_t options;
 *   glmrt_decoder_options_init(&options);
 *   options.max_length = 256;                 // prompt + generated tokens
 *   glmrt_decoder_t *dec = NULL;
 *   const float *logits = NULL;               // [batch, n, vocab]
 *   glmrt_status_t *st = glmrt_decoder_create(model, &options, &dec);
 *   if (!st) st = glmrt_decoder_prefill(dec, prompt, prompt_len, &logits);
 *   while (!st && ...) {
 *     int64_t next = argmax(logits + (n - 1) * vocab, vocab);
 *     st = glmrt_decoder_step(dec, &next, &logits);   // n is now 1
 *   }
 *   glmrt_decoder_release(dec);
 *
 * The model's inputs are found by name: `input_ids` [batch, seq] (required),
 * `attention_mask` [batch, past + seq] and `position_ids` [batch, seq]
 * (optional; the decoder fills them: a mask of ones, positions
 * past .. past + seq - 1), and `past_key_values.{i}.key` / `.value`
 * [batch, kv_heads, past, head_dim] for layers i = 0 .. L-1. Its outputs:
 * `logits` [batch, seq, vocab] f32 and `present.{i}.key` / `.value`
 * [batch, kv_heads, past + seq, head_dim], each with the dtype and the
 * kv_heads and head_dim of its past input. Other outputs are released
 * unread. glmrt_decoder_create refuses (INVALID_ARGUMENT, naming the input
 * or output) any other input, a missing one, or pairs that disagree.
 *
 * The cache belongs to the decoder: allocated once at create for
 * max_length tokens, reused by every call and across
 * glmrt_decoder_reset(), freed at release. Going past max_length is
 * OUT_OF_RANGE and leaves the decoder as it was. The model returns each
 * call's `present` tensors as fresh blocks; the decoder copies them into
 * its cache and gives the blocks back to its session (with the default
 * allocator they are reused by the next call, so steady-state decoding
 * takes no memory from libc).
 *
 * A decoder owns its own session: several decoders may run one loaded
 * model on different threads at once. One decoder is used by one thread at
 * a time (a second thread's call is refused with INVALID_ARGUMENT). */
typedef struct glmrt_decoder glmrt_decoder_t;

typedef struct glmrt_decoder_options {
  uint32_t struct_size; /**< set by _init */
  /** Most tokens the cache holds per sequence, prompt and generated
   *  together. Required: at least 1. */
  uint32_t max_length;
  /** Sequences decoded in lockstep, all of the same length; 0 means 1. */
  uint32_t batch;
  uint32_t reserved;
  /** The entry to run; NULL means "main". */
  const char *entry;
  /** Options of the decoder's session (threads, allocator, flags); NULL
   *  for the defaults. With a caller's allocator the cache comes from it
   *  too; otherwise from libc. */
  const glmrt_session_options_t *session_options;
} glmrt_decoder_options_t;

static inline void
glmrt_decoder_options_init(glmrt_decoder_options_t *options) {
  glmrt_decoder_options_t zero = GLMRT_ZERO_INIT;
  *options = zero;
  options->struct_size = (uint32_t)sizeof(*options);
}

/** Creates a decoder over `model` (retained through the decoder's
 *  session): checks the entry's inputs and outputs (above), creates the
 *  session and allocates the cache (RESOURCE_EXHAUSTED when it does not
 *  fit).
 *  @param options required: max_length has no default. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_decoder_create(glmrt_model_t *model,
                     const glmrt_decoder_options_t *options,
                     glmrt_decoder_t **out_decoder);

/** Releases the decoder, its cache and its session. NULL is a no-op. */
GLMRT_API void glmrt_decoder_release(glmrt_decoder_t *decoder);

/** Runs `num_tokens` tokens per sequence after those already in the cache
 *  (the prompt at first; later calls continue, as a chunked prefill) and
 *  appends their keys and values to the cache.
 *
 * @param tokens     batch x num_tokens token ids, row-major; each in
 *                   [0, vocab) (INVALID_ARGUMENT otherwise).
 * @param num_tokens at least 1; length + num_tokens <= max_length
 *                   (OUT_OF_RANGE otherwise).
 * @param out_logits receives the logits, [batch, num_tokens, vocab] f32:
 *                   one row per token given, the last row predicts the
 *                   next token. Borrowed from the decoder, valid until its
 *                   next prefill/step/reset/release. May be NULL.
 *
 * On failure the cache and the length are as before the call. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_decoder_prefill(glmrt_decoder_t *decoder, const int64_t *tokens,
                      size_t num_tokens, const float **out_logits);

/** One token per sequence (`tokens` has batch entries): the same as
 *  glmrt_decoder_prefill(decoder, tokens, 1, out_logits). */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_decoder_step(glmrt_decoder_t *decoder, const int64_t *tokens,
                   const float **out_logits);

/** Empties the cache (length 0) for a new sequence; keeps its memory. The
 *  logits of the last call become invalid. */
GLMRT_API GLMRT_MUST_USE_RESULT glmrt_status_t *
glmrt_decoder_reset(glmrt_decoder_t *decoder);

/** Tokens per sequence in the cache (0 for NULL). */
GLMRT_API size_t glmrt_decoder_length(const glmrt_decoder_t *decoder);

/** The max_length the decoder was created with (0 for NULL). */
GLMRT_API size_t glmrt_decoder_max_length(const glmrt_decoder_t *decoder);

/** Sequences per call (0 for NULL). */
GLMRT_API size_t glmrt_decoder_batch(const glmrt_decoder_t *decoder);

/** Size of the vocabulary: the last dim of `logits` (0 for NULL). */
GLMRT_API size_t glmrt_decoder_vocab_size(const glmrt_decoder_t *decoder);

/** Layers: the number of past_key_values.{i} pairs (0 for NULL). */
GLMRT_API size_t glmrt_decoder_num_layers(const glmrt_decoder_t *decoder);

/** Bytes of the cache, allocated at create (0 for NULL). */
GLMRT_API size_t glmrt_decoder_cache_bytes(const glmrt_decoder_t *decoder);

/** The decoder's session (borrowed; for its thread count; do not run it
 *  while the decoder is in use). */
GLMRT_API glmrt_session_t *
glmrt_decoder_session(const glmrt_decoder_t *decoder);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GLMRT_GLMRT_H */
