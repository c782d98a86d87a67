/*===- artifact_file.c - Checking a model.so from its bytes -----------------===*
 *
 * Everything here reads the file (mapped read-only); nothing from it runs.
 * The checks go in a fixed order so that each refusal names the most basic
 * thing that is wrong: readable, ELF, complete, architecture, glmc header,
 * ABI, CPU features, weights.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "artifact_file.h"

#include "cpu.h"
#include "status.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The ABI 1.0 header: the smallest struct_size this runtime accepts. */
#define HEADER_V1_SIZE sizeof(glm_artifact_header_t)

const char *glmrt_errno_text(int err, char *buffer, size_t capacity) {
  /* GNU strerror_r returns a pointer that may or may not be `buffer`. */
  const char *text = strerror_r(err, buffer, capacity);
  return text ? text : "unknown error";
}

/* A section's name, or "" when the string table cannot give one. */
static const char *section_name(const unsigned char *map, uint64_t file_size,
                                const Elf64_Shdr *strtab, uint32_t name) {
  if (!strtab || strtab->sh_type == SHT_NOBITS) return "";
  if (strtab->sh_offset > file_size || strtab->sh_size > file_size - strtab->sh_offset)
    return "";
  if (name >= strtab->sh_size) return "";
  const char *s = (const char *)map + strtab->sh_offset + name;
  if (!memchr(s, '\0', strtab->sh_size - name)) return "";
  return s;
}

static int fits(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

/* Checks that every char array of the header holds a NUL. */
static const char *unterminated_field(const glm_artifact_header_t *h) {
  if (!memchr(h->model_name, '\0', sizeof(h->model_name))) return "model_name";
  if (!memchr(h->target, '\0', sizeof(h->target))) return "target";
  if (!memchr(h->cpu, '\0', sizeof(h->cpu))) return "cpu";
  if (!memchr(h->weights_file, '\0', sizeof(h->weights_file)))
    return "weights_file";
  return NULL;
}

static glmrt_status_t *check_external_weights(const char *display_path,
                                              const char *resolved_path,
                                              uint32_t load_flags,
                                              glmrt_artifact_file_t *out) {
  glmrt_status_t *status = NULL;
  char *weights_path = NULL;
  void *map = NULL;
  size_t map_size = 0;
  int fd = -1;
  char err_text[128];
  const glm_artifact_header_t *h = &out->header;
  const char *name = h->weights_file;

  if (name[0] == '\0') {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' says its weights are in a side file but "
                               "names none",
                               display_path);
    goto cleanup;
  }
  if (strchr(name, '/') || strstr(name, "..") || strcmp(name, ".") == 0) {
    status = glmrt_make_status(
        GLMRT_STATUS_INVALID_ARGUMENT,
        "'%s' names external weights file '%s', which is not a plain file "
        "name in the model's directory (no '/' or '..' allowed)",
        display_path, name);
    goto cleanup;
  }
  const char *slash = strrchr(resolved_path, '/');
  size_t dir_len = slash ? (size_t)(slash - resolved_path) : 0;
  size_t name_len = strlen(name);
  weights_path = malloc(dir_len + 1 + name_len + 1);
  if (!weights_path) {
    status = glmrt_make_status(GLMRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    goto cleanup;
  }
  memcpy(weights_path, resolved_path, dir_len);
  weights_path[dir_len] = '/';
  memcpy(weights_path + dir_len + 1, name, name_len + 1);

  fd = open(weights_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    status = glmrt_make_status(
        GLMRT_STATUS_NOT_FOUND,
        "cannot open the external weights file '%s' of '%s': %s",
        weights_path, display_path,
        glmrt_errno_text(err, err_text, sizeof(err_text)));
    goto cleanup;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "external weights '%s' of '%s' is not a "
                               "regular file",
                               weights_path, display_path);
    goto cleanup;
  }
  if ((uint64_t)st.st_size != h->weights_size) {
    status = glmrt_make_status(
        GLMRT_STATUS_DATA_LOSS,
        "external weights file '%s' of '%s' has %llu bytes, but the model "
        "expects %llu%s",
        weights_path, display_path, (unsigned long long)st.st_size,
        (unsigned long long)h->weights_size,
        (uint64_t)st.st_size < h->weights_size ? " (truncated)" : "");
    goto cleanup;
  }
  if (h->weights_size > 0) {
    map_size = (size_t)h->weights_size;
    map = mmap(NULL, map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      map = NULL;
      status = glmrt_make_status(
          GLMRT_STATUS_RESOURCE_EXHAUSTED,
          "cannot map the external weights file '%s' of '%s' (%llu bytes): %s",
          weights_path, display_path, (unsigned long long)map_size,
          glmrt_errno_text(err, err_text, sizeof(err_text)));
      goto cleanup;
    }
  }
  if (!(load_flags & GLMRT_LOAD_FLAG_SKIP_CHECKSUM)) {
    uint64_t sum = glm_abi_checksum(map, h->weights_size);
    if (sum != h->weights_checksum) {
      status = glmrt_make_status(
          GLMRT_STATUS_DATA_LOSS,
          "external weights file '%s' of '%s' is corrupted: checksum is "
          "0x%016llx, the model expects 0x%016llx",
          weights_path, display_path, (unsigned long long)sum,
          (unsigned long long)h->weights_checksum);
      goto cleanup;
    }
  }
  out->weights_map = map;
  out->weights_map_size = map_size;
  out->weights_path = weights_path;
  map = NULL;
  weights_path = NULL;

cleanup:
  if (map) munmap(map, map_size);
  if (fd >= 0) close(fd);
  free(weights_path);
  return status;
}

glmrt_status_t *glmrt_artifact_file_check(const char *display_path,
                                          const char *resolved_path,
                                          uint32_t load_flags,
                                          uint64_t cpu_features_disabled,
                                          glmrt_artifact_file_t *out) {
  glmrt_status_t *status = NULL;
  int fd = -1;
  unsigned char *map = NULL;
  uint64_t file_size = 0;
  char err_text[128];
  glmrt_artifact_file_t result;
  memset(&result, 0, sizeof(result));

  /* 1. Exists and is readable. */
  fd = open(resolved_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    status = glmrt_make_status(GLMRT_STATUS_NOT_FOUND,
                               "cannot open model '%s': %s", display_path,
                               glmrt_errno_text(err, err_text, sizeof(err_text)));
    goto cleanup;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    status = glmrt_make_status(GLMRT_STATUS_NOT_FOUND,
                               "cannot stat model '%s': %s", display_path,
                               glmrt_errno_text(err, err_text, sizeof(err_text)));
    goto cleanup;
  }
  if (!S_ISREG(st.st_mode)) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' is not a glmc artifact: not a regular file",
                               display_path);
    goto cleanup;
  }
  result.dev = st.st_dev;
  result.ino = st.st_ino;
  result.size = st.st_size;
  result.mtime = st.st_mtim;
  file_size = (uint64_t)st.st_size;
  if (file_size > 0) {
    map = mmap(NULL, (size_t)file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      map = NULL;
      status = glmrt_make_status(GLMRT_STATUS_NOT_FOUND,
                                 "cannot read model '%s': %s", display_path,
                                 glmrt_errno_text(err, err_text, sizeof(err_text)));
      goto cleanup;
    }
  }

  /* 2. ELF magic and class. */
  if (file_size < SELFMAG || memcmp(map, ELFMAG, SELFMAG) != 0) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' is not a glmc artifact: not an ELF file",
                               display_path);
    goto cleanup;
  }
  if (file_size <= EI_DATA || map[EI_CLASS] != ELFCLASS64 ||
      map[EI_DATA] != ELFDATA2LSB) {
    status = glmrt_make_status(
        GLMRT_STATUS_INVALID_ARGUMENT,
        "'%s' is not a glmc artifact: not a 64-bit little-endian ELF file "
        "(class %u, data %u)",
        display_path, file_size > EI_CLASS ? map[EI_CLASS] : 0u,
        file_size > EI_DATA ? map[EI_DATA] : 0u);
    goto cleanup;
  }

  /* 3. The file holds everything the headers list. */
  if (file_size < sizeof(Elf64_Ehdr)) {
    status = glmrt_make_status(GLMRT_STATUS_DATA_LOSS,
                               "'%s' is truncated: %llu bytes, too short for "
                               "an ELF header",
                               display_path, (unsigned long long)file_size);
    goto cleanup;
  }
  Elf64_Ehdr ehdr;
  memcpy(&ehdr, map, sizeof(ehdr));
  if (ehdr.e_type != ET_DYN) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' is not a glmc artifact: not a shared "
                               "object (ELF type %u)",
                               display_path, (unsigned)ehdr.e_type);
    goto cleanup;
  }
  if (ehdr.e_shoff != 0 && ehdr.e_shentsize != sizeof(Elf64_Shdr)) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' is not a glmc artifact: malformed ELF "
                               "(section header size %u)",
                               display_path, (unsigned)ehdr.e_shentsize);
    goto cleanup;
  }
  if (ehdr.e_phnum != 0 &&
      (ehdr.e_phentsize != sizeof(Elf64_Phdr) ||
       !fits(ehdr.e_phoff, (uint64_t)ehdr.e_phnum * sizeof(Elf64_Phdr),
             file_size))) {
    status = glmrt_make_status(
        ehdr.e_phentsize != sizeof(Elf64_Phdr) ? GLMRT_STATUS_INVALID_ARGUMENT
                                               : GLMRT_STATUS_DATA_LOSS,
        "'%s' is truncated or malformed: its program headers (%u at byte "
        "%llu) do not fit in its %llu bytes",
        display_path, (unsigned)ehdr.e_phnum,
        (unsigned long long)ehdr.e_phoff, (unsigned long long)file_size);
    goto cleanup;
  }
  const Elf64_Shdr *shdrs = NULL;
  uint64_t shnum = ehdr.e_shnum;
  uint64_t shstrndx = ehdr.e_shstrndx;
  if (ehdr.e_shoff != 0) {
    if (!fits(ehdr.e_shoff, sizeof(Elf64_Shdr), file_size)) {
      status = glmrt_make_status(
          GLMRT_STATUS_DATA_LOSS,
          "'%s' is truncated: %llu bytes, but its section header table starts "
          "at byte %llu",
          display_path, (unsigned long long)file_size,
          (unsigned long long)ehdr.e_shoff);
      goto cleanup;
    }
    if (ehdr.e_shoff % 8 != 0) {
      status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                                 "'%s' is not a glmc artifact: misaligned "
                                 "section header table",
                                 display_path);
      goto cleanup;
    }
    shdrs = (const Elf64_Shdr *)(map + ehdr.e_shoff);
    /* Extended numbering: counts live in section 0. */
    if (shnum == 0) shnum = shdrs[0].sh_size;
    if (shstrndx == SHN_XINDEX) shstrndx = shdrs[0].sh_link;
    if (shnum > (file_size / sizeof(Elf64_Shdr)) + 1 ||
        !fits(ehdr.e_shoff, shnum * sizeof(Elf64_Shdr), file_size)) {
      status = glmrt_make_status(
          GLMRT_STATUS_DATA_LOSS,
          "'%s' is truncated: %llu bytes, but its section header table "
          "(%llu entries at byte %llu) needs %llu",
          display_path, (unsigned long long)file_size,
          (unsigned long long)shnum, (unsigned long long)ehdr.e_shoff,
          (unsigned long long)(ehdr.e_shoff + shnum * sizeof(Elf64_Shdr)));
      goto cleanup;
    }
  } else {
    shnum = 0;
  }
  const Elf64_Shdr *strtab =
      (shdrs && shstrndx < shnum) ? &shdrs[shstrndx] : NULL;
  for (uint64_t i = 0; i < shnum; ++i) {
    const Elf64_Shdr *s = &shdrs[i];
    if (s->sh_type == SHT_NOBITS || s->sh_type == SHT_NULL) continue;
    if (!fits(s->sh_offset, s->sh_size, file_size)) {
      const char *name = section_name(map, file_size, strtab, s->sh_name);
      status = glmrt_make_status(
          GLMRT_STATUS_DATA_LOSS,
          "'%s' is truncated: %llu bytes, but section %llu%s%s%s ends at "
          "byte %llu",
          display_path, (unsigned long long)file_size, (unsigned long long)i,
          name[0] ? " (" : "", name, name[0] ? ")" : "",
          (unsigned long long)(s->sh_offset + s->sh_size));
      goto cleanup;
    }
  }

  /* 4. Built for this CPU's architecture. */
  if (ehdr.e_machine != glmrt_cpu_elf_machine()) {
    char file_machine[32], this_machine[32];
    status = glmrt_make_status(
        GLMRT_STATUS_INCOMPATIBLE,
        "'%s' is built for %s, but this machine is %s", display_path,
        glmrt_elf_machine_name(ehdr.e_machine, file_machine,
                               sizeof(file_machine)),
        glmrt_elf_machine_name(glmrt_cpu_elf_machine(), this_machine,
                               sizeof(this_machine)));
    goto cleanup;
  }

  /* 5. A glmc header. */
  const Elf64_Shdr *header_section = NULL;
  const Elf64_Shdr *weights_section = NULL;
  for (uint64_t i = 0; i < shnum; ++i) {
    const char *name = section_name(map, file_size, strtab, shdrs[i].sh_name);
    if (!header_section && strcmp(name, GLM_ABI_HEADER_SECTION) == 0)
      header_section = &shdrs[i];
    else if (!weights_section && strcmp(name, GLM_ABI_WEIGHTS_SECTION) == 0)
      weights_section = &shdrs[i];
  }
  if (!header_section) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' is not a glmc artifact: it has no %s "
                               "section",
                               display_path, GLM_ABI_HEADER_SECTION);
    goto cleanup;
  }
  const unsigned char *hbytes = map + header_section->sh_offset;
  uint64_t hsize = header_section->sh_size;
  uint32_t magic = 0;
  if (header_section->sh_type != SHT_NOBITS && hsize >= sizeof(magic))
    memcpy(&magic, hbytes, sizeof(magic));
  if (magic != GLM_ABI_MAGIC) {
    status = glmrt_make_status(
        GLMRT_STATUS_INVALID_ARGUMENT,
        "'%s' is not a glmc artifact: bad magic 0x%08x in its %s section "
        "(expected 0x%08x)",
        display_path, magic, GLM_ABI_HEADER_SECTION, GLM_ABI_MAGIC);
    goto cleanup;
  }

  /* 6. ABI major and struct size. */
  uint16_t abi_major = 0, abi_minor = 0;
  uint32_t struct_size = 0;
  if (hsize >= offsetof(glm_artifact_header_t, arch)) {
    memcpy(&abi_major, hbytes + offsetof(glm_artifact_header_t, abi_major), 2);
    memcpy(&abi_minor, hbytes + offsetof(glm_artifact_header_t, abi_minor), 2);
    memcpy(&struct_size, hbytes + offsetof(glm_artifact_header_t, struct_size),
           4);
  }
  if (abi_major != GLM_ABI_VERSION_MAJOR) {
    status = glmrt_make_status(
        GLMRT_STATUS_INCOMPATIBLE,
        "'%s' uses artifact ABI %u.%u, but this runtime (glmrt %s) reads ABI "
        "%u.x",
        display_path, abi_major, abi_minor, glmrt_runtime_version_string(),
        GLM_ABI_VERSION_MAJOR);
    goto cleanup;
  }
  if (struct_size < HEADER_V1_SIZE || struct_size > hsize) {
    status = glmrt_make_status(
        GLMRT_STATUS_INCOMPATIBLE,
        "'%s' has a malformed artifact header: struct_size %u (the %s "
        "section has %llu bytes, an ABI %u.0 header needs %zu)",
        display_path, struct_size, GLM_ABI_HEADER_SECTION,
        (unsigned long long)hsize, GLM_ABI_VERSION_MAJOR, HEADER_V1_SIZE);
    goto cleanup;
  }
  result.header_bytes =
      struct_size < sizeof(result.header) ? struct_size : sizeof(result.header);
  memcpy(&result.header, hbytes, result.header_bytes);
  const glm_artifact_header_t *h = &result.header;
  const char *bad_field = unterminated_field(h);
  if (bad_field) {
    status = glmrt_make_status(GLMRT_STATUS_INVALID_ARGUMENT,
                               "'%s' has a malformed artifact header: field "
                               "%s is not NUL-terminated",
                               display_path, bad_field);
    goto cleanup;
  }

  /* 7. Architecture and CPU features. */
  if (h->arch != glmrt_cpu_arch()) {
    status = glmrt_make_status(
        GLMRT_STATUS_INCOMPATIBLE,
        "'%s' is compiled for %s (target '%s'), but this machine is %s",
        display_path,
        h->arch == GLM_ARCH_UNKNOWN || h->arch > GLM_ARCH_AARCH64
            ? "an unknown architecture"
            : glmrt_arch_name(h->arch),
        h->target, glmrt_arch_name(glmrt_cpu_arch()));
    goto cleanup;
  }
  uint64_t available = glmrt_cpu_detected_features() & ~cpu_features_disabled;
  uint64_t missing = h->cpu_features & ~available;
  if (missing) {
    char names[256];
    glmrt_cpu_features_format(missing, names, sizeof(names));
    int several = (missing & (missing - 1)) != 0;
    int disabled = (missing & cpu_features_disabled) != 0;
    status = glmrt_make_status(
        GLMRT_STATUS_INCOMPATIBLE,
        "'%s' needs CPU feature%s %s, which this CPU (%s) lacks%s; it was "
        "compiled for target '%s' (cpu '%s')",
        display_path, several ? "s" : "", names, glmrt_cpu_detected_name(),
        disabled ? " or which the load options disable" : "", h->target,
        h->cpu);
    goto cleanup;
  }

  /* 8. Weights. */
  if (h->flags & GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS) {
    status = check_external_weights(display_path, resolved_path, load_flags,
                                    &result);
    if (status) goto cleanup;
  } else if (h->weights_size > 0) {
    if (!weights_section || weights_section->sh_type == SHT_NOBITS) {
      status = glmrt_make_status(
          GLMRT_STATUS_INVALID_ARGUMENT,
          "'%s' records %llu bytes of embedded weights but has no %s section",
          display_path, (unsigned long long)h->weights_size,
          GLM_ABI_WEIGHTS_SECTION);
      goto cleanup;
    }
    if (weights_section->sh_size < h->weights_size) {
      status = glmrt_make_status(
          GLMRT_STATUS_DATA_LOSS,
          "'%s' is truncated: its %s section has %llu bytes, the header "
          "records %llu",
          display_path, GLM_ABI_WEIGHTS_SECTION,
          (unsigned long long)weights_section->sh_size,
          (unsigned long long)h->weights_size);
      goto cleanup;
    }
    if (!(load_flags & GLMRT_LOAD_FLAG_SKIP_CHECKSUM)) {
      uint64_t sum =
          glm_abi_checksum(map + weights_section->sh_offset, h->weights_size);
      if (sum != h->weights_checksum) {
        status = glmrt_make_status(
            GLMRT_STATUS_DATA_LOSS,
            "'%s' is corrupted: weights checksum is 0x%016llx, the header "
            "records 0x%016llx",
            display_path, (unsigned long long)sum,
            (unsigned long long)h->weights_checksum);
        goto cleanup;
      }
    }
  }

  *out = result;
  memset(&result, 0, sizeof(result));

cleanup:
  glmrt_artifact_file_release(&result);
  if (map) munmap(map, (size_t)file_size);
  if (fd >= 0) close(fd);
  return status;
}

void glmrt_artifact_file_release(glmrt_artifact_file_t *file) {
  if (!file) return;
  if (file->weights_map) munmap(file->weights_map, file->weights_map_size);
  free(file->weights_path);
  file->weights_map = NULL;
  file->weights_path = NULL;
}
