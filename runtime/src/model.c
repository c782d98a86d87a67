/*===- model.c - Loading models and reading their descriptors ---------------===*
 *
 * glmrt_model_load checks the file's bytes (artifact_file.c), then dlopens it,
 * cross-checks the exported descriptor against what the file said, and binds
 * the process-wide host table.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "model.h"

#include "artifact_file.h"
#include "host.h"
#include "status.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The ABI 1.0 descriptor: the smallest struct_size this runtime accepts. */
#define DESCRIPTOR_V1_SIZE GLM_ABI_DESCRIPTOR_V1_0_SIZE
/* Sanity bounds on what a descriptor may declare. */
#define MAX_ENTRIES 1024u
#define MAX_TENSORS 65536u
#define MAX_NAME 4096u

/* What a call gets as weights when a model has an empty side file. */
static _Alignas(GLM_ABI_WEIGHTS_ALIGNMENT) const unsigned char
    empty_weights[GLM_ABI_WEIGHTS_ALIGNMENT];

static const char *checked_name(const char *name) {
  if (!name) return NULL;
  if (!memchr(name, '\0', MAX_NAME)) return NULL;
  return name;
}

static glmrt_status_t *check_tensor_descs(const char *display_path,
                                          const char *entry_name,
                                          const char *kind, uint32_t count,
                                          const glm_tensor_desc_t *descs) {
  if (count > MAX_TENSORS || (count > 0 && !descs))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "'%s': entry '%s' declares %u %ss without a "
                             "valid table",
                             display_path, entry_name, count, kind);
  for (uint32_t i = 0; i < count; ++i) {
    const glm_tensor_desc_t *d = &descs[i];
    if (!checked_name(d->name))
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': entry '%s' %s %u has no name",
                               display_path, entry_name, kind, i);
    if (glm_dtype_size(d->dtype) == 0)
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': entry '%s' %s '%s' has unknown dtype %u",
                               display_path, entry_name, kind, d->name,
                               d->dtype);
    if (d->rank > GLM_ABI_MAX_RANK || (d->rank > 0 && !d->dims))
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': entry '%s' %s '%s' has invalid rank %u "
                               "(at most %u)",
                               display_path, entry_name, kind, d->name, d->rank,
                               GLM_ABI_MAX_RANK);
    /* Inputs may tie dynamic dims into classes (-2 - c). */
    int64_t lowest = strcmp(kind, "input") == 0 ? GLM_ABI_MIN_TIED_DIM : -1;
    for (uint32_t k = 0; k < d->rank; ++k)
      if (d->dims[k] < lowest)
        return glmrt_make_status(
            GLMRT_STATUS_INVALID_ARGUMENT,
            "'%s': entry '%s' %s '%s' has invalid dim %u = %lld",
            display_path, entry_name, kind, d->name, k,
            (long long)d->dims[k]);
  }
  return NULL;
}

/* Cross-checks the descriptor the library exports against the file's
 * header and the ABI's rules. */
static glmrt_status_t *check_descriptor(const char *display_path,
                                        const glm_model_descriptor_t *d,
                                        const glmrt_artifact_file_t *file) {
  if (d->magic != GLM_ABI_MAGIC)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "'%s': bad descriptor magic 0x%08x (expected "
                             "0x%08x)",
                             display_path, d->magic, GLM_ABI_MAGIC);
  if (d->abi_major != GLM_ABI_VERSION_MAJOR)
    return glmrt_make_status(GLMRT_STATUS_INCOMPATIBLE,
                             "'%s': descriptor uses artifact ABI %u.%u, but "
                             "this runtime reads ABI %u.x",
                             display_path, d->abi_major, d->abi_minor,
                             GLM_ABI_VERSION_MAJOR);
  if (d->struct_size < DESCRIPTOR_V1_SIZE)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "'%s': descriptor struct_size %u is smaller than "
                             "the ABI %u.0 descriptor (%zu)",
                             display_path, d->struct_size,
                             GLM_ABI_VERSION_MAJOR, DESCRIPTOR_V1_SIZE);
  if (!d->header || memcmp(d->header, &file->header, file->header_bytes) != 0)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "'%s': the descriptor's header does not match the "
                             "%s section",
                             display_path, GLM_ABI_HEADER_SECTION);
  if (!d->bind_host)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "'%s': descriptor has no bind_host function",
                             display_path);
  if (d->num_entries == 0 || d->num_entries > MAX_ENTRIES || !d->entries)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "'%s': descriptor declares %u entries (need 1 to "
                             "%u)",
                             display_path, d->num_entries, MAX_ENTRIES);
  if (!(file->header.flags & GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS) &&
      file->header.weights_size > 0) {
    if (!d->weights)
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': descriptor has no weights pointer but "
                               "the header records %llu bytes of weights",
                               display_path,
                               (unsigned long long)file->header.weights_size);
    if ((uintptr_t)d->weights % GLM_ABI_WEIGHTS_ALIGNMENT != 0)
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': embedded weights are not %u-byte aligned",
                               display_path, GLM_ABI_WEIGHTS_ALIGNMENT);
  }
  for (uint32_t i = 0; i < d->num_entries; ++i) {
    const glm_entry_desc_t *e = &d->entries[i];
    if (!checked_name(e->name))
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': entry %u has no name", display_path, i);
    if (!e->fn)
      return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s': entry '%s' has no function",
                               display_path, e->name);
    for (uint32_t j = 0; j < i; ++j)
      if (strcmp(d->entries[j].name, e->name) == 0)
        return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                 "'%s': entry name '%s' appears twice",
                                 display_path, e->name);
    glmrt_status_t *status =
        check_tensor_descs(display_path, e->name, "input", e->num_inputs,
                           e->inputs);
    if (!status)
      status = check_tensor_descs(display_path, e->name, "output",
                                  e->num_outputs, e->outputs);
    if (status) return status;
  }
  return NULL;
}

static void model_destroy(glmrt_model_t *model) {
  if (!model) return;
  if (model->dl_handle) dlclose(model->dl_handle);
  if (model->weights_map) {
    glmrt_artifact_file_t file;
    memset(&file, 0, sizeof(file));
    file.weights_map = model->weights_map;
    file.weights_map_size = model->weights_map_size;
    glmrt_artifact_file_release(&file);
  }
  free(model->weights_path);
  free(model->path);
  free(model->entries);
  free(model);
}

GLMRT_API glmrt_status_t *glmrt_model_load(const char *path,
                                           const glmrt_load_options_t *options,
                                           glmrt_model_t **out_model) {
  glmrt_status_t *status = NULL;
  glmrt_model_t *model = NULL;
  glmrt_artifact_file_t file;
  memset(&file, 0, sizeof(file));
  char err_text[128];
  uint32_t flags = 0;
  uint64_t disabled = 0;

  if (!path || !out_model) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "glmrt_model_load: %s is NULL",
                               !path ? "path" : "out_model");
    goto cleanup;
  }
  if (options) {
    if (options->struct_size < sizeof(uint32_t)) {
      status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                 "glmrt_model_load: options->struct_size is "
                                 "%u; initialise options with "
                                 "glmrt_load_options_init()",
                                 options->struct_size);
      goto cleanup;
    }
    if (GLMRT_STRUCT_HAS(options->struct_size, glmrt_load_options_t, flags))
      flags = options->flags;
    if (GLMRT_STRUCT_HAS(options->struct_size, glmrt_load_options_t,
                         cpu_features_disabled))
      disabled = options->cpu_features_disabled;
  }

  model = calloc(1, sizeof(*model));
  if (!model) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "out of memory loading '%s'", path);
    goto cleanup;
  }
  atomic_init(&model->refcount, 1);

  /* An absolute path: dlopen must not search library paths, and the side
   * file lives beside the real file. */
  model->path = realpath(path, NULL);
  if (!model->path) {
    int err = errno;
    status = glmrt_make_status(
        err == ENOMEM ? GLMRT_STATUS_RESOURCE_EXHAUSTED : GLMRT_STATUS_NOT_FOUND,
        "cannot open model '%s': %s", path,
        glmrt_errno_text(err, err_text, sizeof(err_text)));
    goto cleanup;
  }

  status = glmrt_artifact_file_check(path, model->path, flags, disabled, &file);
  if (status) goto cleanup;
  model->header = file.header;
  model->weights_map = file.weights_map;
  model->weights_map_size = file.weights_map_size;
  model->weights_path = file.weights_path;
  file.weights_map = NULL;
  file.weights_path = NULL;

  /* Only now may code from the file run. */
  model->dl_handle = dlopen(model->path, RTLD_NOW | RTLD_LOCAL);
  if (!model->dl_handle) {
    const char *why = dlerror();
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "cannot load '%s': %s", path,
                               why ? why : "dlopen failed");
    goto cleanup;
  }
  /* The file must still be the one that was checked. */
  struct stat st;
  if (stat(model->path, &st) != 0 || st.st_dev != file.dev ||
      st.st_ino != file.ino || st.st_size != file.size ||
      st.st_mtim.tv_sec != file.mtime.tv_sec ||
      st.st_mtim.tv_nsec != file.mtime.tv_nsec) {
    status = glmrt_make_status(GLMRT_STATUS_UNAVAILABLE,
                               "'%s' changed while it was being loaded", path);
    goto cleanup;
  }

  dlerror();
  const glm_model_descriptor_t *descriptor =
      (const glm_model_descriptor_t *)dlsym(model->dl_handle,
                                            GLM_ABI_DESCRIPTOR_SYMBOL);
  if (!descriptor) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' is not a glmc artifact: it does not "
                               "export %s",
                               path, GLM_ABI_DESCRIPTOR_SYMBOL);
    goto cleanup;
  }
  status = check_descriptor(path, descriptor, &file);
  if (status) goto cleanup;
  model->descriptor = descriptor;
  model->metadata_json =
      descriptor->metadata_json ? descriptor->metadata_json : "{}";
  model->weights = (model->header.flags & GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS)
                       ? (model->weights_map ? model->weights_map
                                             : (const void *)empty_weights)
                       : descriptor->weights;

  model->num_entries = descriptor->num_entries;
  model->entries = calloc(model->num_entries, sizeof(*model->entries));
  if (!model->entries) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED,
                               "out of memory loading '%s'", path);
    goto cleanup;
  }
  for (size_t i = 0; i < model->num_entries; ++i) {
    model->entries[i].model = model;
    model->entries[i].desc = &descriptor->entries[i];
  }

  descriptor->bind_host(glmrt_host_table());
  *out_model = model;
  model = NULL;

cleanup:
  glmrt_artifact_file_release(&file);
  model_destroy(model);
  return status;
}

GLMRT_API void glmrt_model_retain(glmrt_model_t *model) {
  if (model) atomic_fetch_add_explicit(&model->refcount, 1, memory_order_relaxed);
}

GLMRT_API void glmrt_model_release(glmrt_model_t *model) {
  if (!model) return;
  if (atomic_fetch_sub_explicit(&model->refcount, 1, memory_order_acq_rel) == 1)
    model_destroy(model);
}

GLMRT_API const char *glmrt_model_name(const glmrt_model_t *model) {
  return model ? model->header.model_name : "";
}

GLMRT_API const char *glmrt_model_target(const glmrt_model_t *model) {
  return model ? model->header.target : "";
}

GLMRT_API const char *glmrt_model_metadata_json(const glmrt_model_t *model) {
  return model ? model->metadata_json : "{}";
}

GLMRT_API glmrt_status_t *glmrt_model_info(const glmrt_model_t *model,
                                           glmrt_model_info_t *info) {
  if (!model || !info)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_model_info: %s is NULL",
                             !model ? "model" : "info");
  uint32_t size = info->struct_size;
  if (size < sizeof(uint32_t) || size > (1u << 20))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_model_info: info->struct_size is %u; "
                             "initialise info with glmrt_model_info_init()",
                             size);
  const glm_artifact_header_t *h = &model->header;
#define SET(field, value)                                                     \
  if (GLMRT_STRUCT_HAS(size, glmrt_model_info_t, field)) info->field = (value)
  SET(abi_major, h->abi_major);
  SET(abi_minor, h->abi_minor);
  SET(arch, h->arch);
  SET(flags, h->flags);
  SET(cpu_features, h->cpu_features);
  SET(weights_size, h->weights_size);
  SET(weights_checksum, h->weights_checksum);
  SET(name, h->model_name);
  SET(target, h->target);
  SET(cpu, h->cpu);
  SET(path, model->path);
  SET(weights_path, model->weights_path);
#undef SET
  return NULL;
}

GLMRT_API size_t glmrt_model_entry_count(const glmrt_model_t *model) {
  return model ? model->num_entries : 0;
}

GLMRT_API const glmrt_entry_t *glmrt_model_entry_at(const glmrt_model_t *model,
                                                    size_t index) {
  if (!model || index >= model->num_entries) return NULL;
  return &model->entries[index];
}

GLMRT_API glmrt_status_t *glmrt_model_entry_find(const glmrt_model_t *model,
                                                 const char *name,
                                                 const glmrt_entry_t **out_entry) {
  if (!model || !out_entry)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "glmrt_model_entry_find: %s is NULL",
                             !model ? "model" : "out_entry");
  if (!name) name = "main";
  for (size_t i = 0; i < model->num_entries; ++i) {
    if (strcmp(model->entries[i].desc->name, name) == 0) {
      *out_entry = &model->entries[i];
      return NULL;
    }
  }
  /* List what there is. */
  char list[512];
  size_t used = 0;
  list[0] = '\0';
  for (size_t i = 0; i < model->num_entries && used < sizeof(list); ++i) {
    int n = snprintf(list + used, sizeof(list) - used, "%s'%s'",
                     i ? ", " : "", model->entries[i].desc->name);
    if (n < 0) break;
    used += (size_t)n;
  }
  return glmrt_make_status(GLMRT_STATUS_NOT_FOUND,
                           "model '%s' has no entry '%s' (it has %s)",
                           model->header.model_name, name, list);
}

GLMRT_API const char *glmrt_entry_name(const glmrt_entry_t *entry) {
  return entry ? entry->desc->name : "";
}

GLMRT_API size_t glmrt_entry_input_count(const glmrt_entry_t *entry) {
  return entry ? entry->desc->num_inputs : 0;
}

GLMRT_API size_t glmrt_entry_output_count(const glmrt_entry_t *entry) {
  return entry ? entry->desc->num_outputs : 0;
}

static glmrt_status_t *tensor_info(const glmrt_entry_t *entry, size_t index,
                                   glmrt_tensor_info_t *info, int output) {
  const char *fn = output ? "glmrt_entry_output_info" : "glmrt_entry_input_info";
  if (!entry || !info)
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT, "%s: %s is NULL",
                             fn, !entry ? "entry" : "info");
  uint32_t size = info->struct_size;
  if (size < sizeof(uint32_t) || size > (1u << 20))
    return glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                             "%s: info->struct_size is %u; initialise info "
                             "with glmrt_tensor_info_init()",
                             fn, size);
  uint32_t count = output ? entry->desc->num_outputs : entry->desc->num_inputs;
  if (index >= count)
    return glmrt_make_status(GLMRT_STATUS_OUT_OF_RANGE,
                             "entry '%s' has %u %ss; there is no %s %zu",
                             entry->desc->name, count,
                             output ? "output" : "input",
                             output ? "output" : "input", index);
  const glm_tensor_desc_t *d =
      output ? &entry->desc->outputs[index] : &entry->desc->inputs[index];
#define SET(field, value)                                                     \
  if (GLMRT_STRUCT_HAS(size, glmrt_tensor_info_t, field)) info->field = (value)
  SET(dtype, d->dtype);
  SET(name, d->name);
  SET(rank, d->rank);
#undef SET
  if (GLMRT_STRUCT_HAS(size, glmrt_tensor_info_t, dims))
    for (uint32_t k = 0; k < GLMRT_MAX_RANK; ++k)
      info->dims[k] = k < d->rank ? (d->dims[k] < 0 ? -1 : d->dims[k]) : 0;
  return NULL;
}

GLMRT_API glmrt_status_t *glmrt_entry_input_info(const glmrt_entry_t *entry,
                                                 size_t index,
                                                 glmrt_tensor_info_t *info) {
  return tensor_info(entry, index, info, 0);
}

GLMRT_API glmrt_status_t *glmrt_entry_output_info(const glmrt_entry_t *entry,
                                                  size_t index,
                                                  glmrt_tensor_info_t *info) {
  return tensor_info(entry, index, info, 1);
}
