//===- glmrt/glmrt.hpp - Header-only C++ wrapper over glmrt.h --------------===//
//
// RAII owners for the C API's objects. Nothing here throws: fallible calls
// return a glmrt::Status (check ok()), so it builds with -fno-exceptions.
// Handles are move-only, except Model, which copies by taking a reference.
//
//   glmrt::Model model;
//   glmrt::Status st = glmrt::Model::load("model.so", &model);
//   glmrt::Session session;
//   if (st.ok()) st = glmrt::Session::create(model, &session);
//   std::vector<glmrt::Tensor> outputs;
//   int64_t dims[2] = {1, 4};
//   float x[4] = {1, 2, 3, 4};
//   glmrt_tensor_view_t in =
//       glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
//   if (st.ok()) st = session.run(model.main(), &in, 1, &outputs);
//   if (!st.ok()) std::fprintf(stderr, "%s\n", st.message());
//
//===----------------------------------------------------------------------===//
#ifndef GLMRT_GLMRT_HPP
#define GLMRT_GLMRT_HPP

#include <glmrt/glmrt.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace glmrt {

/// Owns a glmrt_status_t*; default-constructed (or from NULL) means OK.
class Status {
public:
  Status() = default;
  /// Takes ownership of `status`.
  explicit Status(glmrt_status_t *status) : status_(status) {}
  Status(Status &&other) noexcept : status_(other.status_) {
    other.status_ = nullptr;
  }
  Status &operator=(Status &&other) noexcept {
    if (this != &other) {
      glmrt_status_free(status_);
      status_ = other.status_;
      other.status_ = nullptr;
    }
    return *this;
  }
  Status(const Status &) = delete;
  Status &operator=(const Status &) = delete;
  ~Status() { glmrt_status_free(status_); }

  bool ok() const { return status_ == nullptr; }
  glmrt_status_code_t code() const { return glmrt_status_code(status_); }
  const char *code_name() const { return glmrt_status_code_name(code()); }
  /// "OK" when ok(); borrowed from this object.
  const char *message() const { return glmrt_status_message(status_); }
  glmrt_status_t *get() const { return status_; }
  /// Gives up ownership; the caller frees the result.
  glmrt_status_t *release() {
    glmrt_status_t *s = status_;
    status_ = nullptr;
    return s;
  }

private:
  glmrt_status_t *status_ = nullptr;
};

/// glmrt_load_options_t, initialised.
struct LoadOptions : glmrt_load_options_t {
  LoadOptions() { glmrt_load_options_init(this); }
};

/// glmrt_session_options_t, initialised.
struct SessionOptions : glmrt_session_options_t {
  SessionOptions() { glmrt_session_options_init(this); }
};

/// glmrt_decoder_options_t, initialised.
struct DecoderOptions : glmrt_decoder_options_t {
  DecoderOptions() { glmrt_decoder_options_init(this); }
  explicit DecoderOptions(uint32_t max_length_tokens) : DecoderOptions() {
    max_length = max_length_tokens;
  }
};

/// glmrt_tensor_info_t, initialised.
struct TensorInfo : glmrt_tensor_info_t {
  TensorInfo() { glmrt_tensor_info_init(this); }
};

/// glmrt_model_info_t, initialised.
struct ModelInfo : glmrt_model_info_t {
  ModelInfo() { glmrt_model_info_init(this); }
};

/// glmrt_profile_layer_info_t, initialised.
struct ProfileLayerInfo : glmrt_profile_layer_info_t {
  ProfileLayerInfo() { glmrt_profile_layer_info_init(this); }
};

/// glmrt_session_memory_t, initialised.
struct SessionMemory : glmrt_session_memory_t {
  SessionMemory() { glmrt_session_memory_init(this); }
};

/// glmrt_profile_summary_t, initialised.
struct ProfileSummary : glmrt_profile_summary_t {
  ProfileSummary() { glmrt_profile_summary_init(this); }
};

/// An output tensor; owns its data.
class Tensor {
public:
  Tensor() = default;
  /// Takes ownership of `tensor`.
  explicit Tensor(glmrt_tensor_t *tensor) : tensor_(tensor) {}
  Tensor(Tensor &&other) noexcept : tensor_(other.tensor_) {
    other.tensor_ = nullptr;
  }
  Tensor &operator=(Tensor &&other) noexcept {
    if (this != &other) {
      glmrt_tensor_release(tensor_);
      tensor_ = other.tensor_;
      other.tensor_ = nullptr;
    }
    return *this;
  }
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;
  ~Tensor() { glmrt_tensor_release(tensor_); }

  bool valid() const { return tensor_ != nullptr; }
  glmrt_dtype_t dtype() const { return glmrt_tensor_dtype(tensor_); }
  uint32_t rank() const { return glmrt_tensor_rank(tensor_); }
  const int64_t *dims() const { return glmrt_tensor_dims(tensor_); }
  int64_t dim(uint32_t i) const { return i < rank() ? dims()[i] : 0; }
  int64_t element_count() const { return glmrt_tensor_element_count(tensor_); }
  size_t byte_size() const { return glmrt_tensor_byte_size(tensor_); }
  void *data() const { return glmrt_tensor_data(tensor_); }
  template <typename T> T *data() const { return static_cast<T *>(data()); }
  glmrt_tensor_t *get() const { return tensor_; }
  glmrt_tensor_t *release() {
    glmrt_tensor_t *t = tensor_;
    tensor_ = nullptr;
    return t;
  }

private:
  glmrt_tensor_t *tensor_ = nullptr;
};

/// An entry point; borrowed from its Model (valid while the model lives).
class Entry {
public:
  Entry() = default;
  explicit Entry(const glmrt_entry_t *entry) : entry_(entry) {}

  bool valid() const { return entry_ != nullptr; }
  const char *name() const { return glmrt_entry_name(entry_); }
  size_t input_count() const { return glmrt_entry_input_count(entry_); }
  size_t output_count() const { return glmrt_entry_output_count(entry_); }
  Status input_info(size_t index, TensorInfo *info) const {
    return Status(glmrt_entry_input_info(entry_, index, info));
  }
  Status output_info(size_t index, TensorInfo *info) const {
    return Status(glmrt_entry_output_info(entry_, index, info));
  }
  const glmrt_entry_t *get() const { return entry_; }

private:
  const glmrt_entry_t *entry_ = nullptr;
};

/// A loaded model; copies share it (reference counted).
class Model {
public:
  Model() = default;
  /// Takes ownership of one reference to `model`.
  explicit Model(glmrt_model_t *model) : model_(model) {}
  Model(const Model &other) : model_(other.model_) {
    glmrt_model_retain(model_);
  }
  Model &operator=(const Model &other) {
    if (this != &other) {
      glmrt_model_retain(other.model_);
      glmrt_model_release(model_);
      model_ = other.model_;
    }
    return *this;
  }
  Model(Model &&other) noexcept : model_(other.model_) {
    other.model_ = nullptr;
  }
  Model &operator=(Model &&other) noexcept {
    if (this != &other) {
      glmrt_model_release(model_);
      model_ = other.model_;
      other.model_ = nullptr;
    }
    return *this;
  }
  ~Model() { glmrt_model_release(model_); }

  /// Loads `path` into *out (replacing what it held) on success.
  static Status load(const char *path, Model *out,
                     const glmrt_load_options_t *options = nullptr) {
    glmrt_model_t *model = nullptr;
    Status status(glmrt_model_load(path, options, &model));
    if (status.ok()) *out = Model(model);
    return status;
  }

  bool valid() const { return model_ != nullptr; }
  const char *name() const { return glmrt_model_name(model_); }
  const char *target() const { return glmrt_model_target(model_); }
  const char *metadata_json() const { return glmrt_model_metadata_json(model_); }
  Status info(ModelInfo *info) const {
    return Status(glmrt_model_info(model_, info));
  }
  size_t entry_count() const { return glmrt_model_entry_count(model_); }
  /// Layers a model compiled with glmc --profile marks (0 otherwise).
  size_t profile_layer_count() const {
    return glmrt_model_profile_layer_count(model_);
  }
  /// Invalid Entry when out of range.
  Entry entry(size_t index) const {
    return Entry(glmrt_model_entry_at(model_, index));
  }
  Status find_entry(const char *name, Entry *out) const {
    const glmrt_entry_t *entry = nullptr;
    Status status(glmrt_model_entry_find(model_, name, &entry));
    if (status.ok()) *out = Entry(entry);
    return status;
  }
  /// The "main" entry, or an invalid Entry when the model has none.
  Entry main() const {
    const glmrt_entry_t *entry = nullptr;
    Status status(glmrt_model_entry_find(model_, "main", &entry));
    return status.ok() ? Entry(entry) : Entry();
  }
  glmrt_model_t *get() const { return model_; }

private:
  glmrt_model_t *model_ = nullptr;
};

/// A session: runs a model's entries on a thread pool. Move-only.
class Session {
public:
  Session() = default;
  /// Takes ownership of `session`.
  explicit Session(glmrt_session_t *session) : session_(session) {}
  Session(Session &&other) noexcept : session_(other.session_) {
    other.session_ = nullptr;
  }
  Session &operator=(Session &&other) noexcept {
    if (this != &other) {
      glmrt_session_release(session_);
      session_ = other.session_;
      other.session_ = nullptr;
    }
    return *this;
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  ~Session() { glmrt_session_release(session_); }

  /// Creates a session over `model` into *out on success.
  static Status create(const Model &model, Session *out,
                       const glmrt_session_options_t *options = nullptr) {
    glmrt_session_t *session = nullptr;
    Status status(glmrt_session_create(model.get(), options, &session));
    if (status.ok()) *out = Session(session);
    return status;
  }

  bool valid() const { return session_ != nullptr; }
  uint32_t num_threads() const { return glmrt_session_num_threads(session_); }
  glmrt_session_t *get() const { return session_; }

  /// Peak bytes of the last run, blocks taken from libc, cached bytes.
  Status memory(SessionMemory *memory) const {
    return Status(glmrt_session_memory(session_, memory));
  }
  /// Starts (clearing earlier counts) or stops per-layer timing.
  Status set_profiling(bool enabled) {
    return Status(glmrt_session_set_profiling(session_, enabled ? 1 : 0));
  }
  Status profile_layer(size_t index, ProfileLayerInfo *info) const {
    return Status(glmrt_session_profile_layer(session_, index, info));
  }
  Status profile_summary(ProfileSummary *summary) const {
    return Status(glmrt_session_profile_summary(session_, summary));
  }
  /// Chrome trace JSON of the profiled runs (Perfetto opens it).
  Status write_profile_trace(const char *path) const {
    return Status(glmrt_session_write_profile_trace(session_, path));
  }

  /// Runs `entry` (invalid Entry: "main"); fills `outputs` with num_outputs
  /// tensors on success.
  Status run(const Entry &entry, const glmrt_tensor_view_t *inputs,
             size_t num_inputs, Tensor *outputs, size_t num_outputs) {
    std::vector<glmrt_tensor_t *> raw(num_outputs, nullptr);
    Status status(glmrt_session_run(session_, entry.get(), inputs, num_inputs,
                                    raw.data(), num_outputs));
    if (status.ok())
      for (size_t i = 0; i < num_outputs; ++i) outputs[i] = Tensor(raw[i]);
    return status;
  }

  /// Runs `entry`; replaces *outputs with the entry's outputs on success.
  Status run(const Entry &entry, const glmrt_tensor_view_t *inputs,
             size_t num_inputs, std::vector<Tensor> *outputs) {
    const glmrt_entry_t *e = entry.get();
    if (!e) {
      Status found(glmrt_model_entry_find(glmrt_session_model(session_),
                                          "main", &e));
      if (!found.ok()) return found;
    }
    size_t count = glmrt_entry_output_count(e);
    std::vector<Tensor> result(count);
    Status status =
        run(Entry(e), inputs, num_inputs, result.data(), result.size());
    if (status.ok()) *outputs = std::move(result);
    return status;
  }

  Status run(const Entry &entry, const std::vector<glmrt_tensor_view_t> &inputs,
             std::vector<Tensor> *outputs) {
    return run(entry, inputs.data(), inputs.size(), outputs);
  }

private:
  glmrt_session_t *session_ = nullptr;
};

/// A decoder: runs a KV-cache model chunk by chunk and owns its cache and
/// session (see glmrt_decoder_create). Move-only.
///
///   glmrt::Decoder dec;
///   glmrt::Status st = glmrt::Decoder::create(model, glmrt::DecoderOptions(256), &dec);
///   const float *logits = nullptr;
///   if (st.ok()) st = dec.prefill(prompt, &logits);   // [n, vocab]
///   if (st.ok()) st = dec.step(next_token, &logits);  // [1, vocab]
class Decoder {
public:
  Decoder() = default;
  /// Takes ownership of `decoder`.
  explicit Decoder(glmrt_decoder_t *decoder) : decoder_(decoder) {}
  Decoder(Decoder &&other) noexcept : decoder_(other.decoder_) {
    other.decoder_ = nullptr;
  }
  Decoder &operator=(Decoder &&other) noexcept {
    if (this != &other) {
      glmrt_decoder_release(decoder_);
      decoder_ = other.decoder_;
      other.decoder_ = nullptr;
    }
    return *this;
  }
  Decoder(const Decoder &) = delete;
  Decoder &operator=(const Decoder &) = delete;
  ~Decoder() { glmrt_decoder_release(decoder_); }

  /// Creates a decoder over `model` into *out on success.
  static Status create(const Model &model,
                       const glmrt_decoder_options_t &options, Decoder *out) {
    glmrt_decoder_t *decoder = nullptr;
    Status status(glmrt_decoder_create(model.get(), &options, &decoder));
    if (status.ok()) *out = Decoder(decoder);
    return status;
  }

  bool valid() const { return decoder_ != nullptr; }
  /// batch x num_tokens ids; *logits (optional) gets [batch, num_tokens,
  /// vocab], valid until the next call.
  Status prefill(const int64_t *tokens, size_t num_tokens,
                 const float **logits = nullptr) {
    return Status(glmrt_decoder_prefill(decoder_, tokens, num_tokens, logits));
  }
  /// Batch 1: the whole vector is one sequence's next tokens.
  Status prefill(const std::vector<int64_t> &tokens,
                 const float **logits = nullptr) {
    return prefill(tokens.data(), tokens.size(), logits);
  }
  /// One token per sequence (`tokens` has batch() entries).
  Status step(const int64_t *tokens, const float **logits = nullptr) {
    return Status(glmrt_decoder_step(decoder_, tokens, logits));
  }
  /// Batch 1: one token.
  Status step(int64_t token, const float **logits = nullptr) {
    return step(&token, logits);
  }
  Status reset() { return Status(glmrt_decoder_reset(decoder_)); }

  size_t length() const { return glmrt_decoder_length(decoder_); }
  size_t max_length() const { return glmrt_decoder_max_length(decoder_); }
  size_t batch() const { return glmrt_decoder_batch(decoder_); }
  size_t vocab_size() const { return glmrt_decoder_vocab_size(decoder_); }
  size_t num_layers() const { return glmrt_decoder_num_layers(decoder_); }
  size_t cache_bytes() const { return glmrt_decoder_cache_bytes(decoder_); }
  /// The decoder's session (borrowed).
  glmrt_session_t *session() const { return glmrt_decoder_session(decoder_); }
  glmrt_decoder_t *get() const { return decoder_; }

private:
  glmrt_decoder_t *decoder_ = nullptr;
};

} // namespace glmrt

#endif // GLMRT_GLMRT_HPP
