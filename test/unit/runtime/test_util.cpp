//===- test_util.cpp - Helpers for the glmrt unit tests --------------------===//
#include "test_util.h"

#include <elf.h>
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

namespace glmrt_test {

std::string artifact(const std::string &name) {
  return std::string(GLMRT_TEST_ARTIFACT_DIR) + "/" + name;
}

TempDir::TempDir() {
  char templ[] = "/tmp/glmrt-test-XXXXXX";
  const char *dir = mkdtemp(templ);
  EXPECT_NE(dir, nullptr);
  path_ = dir ? dir : "/tmp";
}

static int remove_entry(const char *path, const struct stat *, int,
                        struct FTW *) {
  return remove(path);
}

TempDir::~TempDir() {
  if (path_ != "/tmp") nftw(path_.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

std::vector<unsigned char> read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in),
                                    std::istreambuf_iterator<char>());
}

void write_file(const std::string &path,
                const std::vector<unsigned char> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

void write_text(const std::string &path, const std::string &text) {
  write_file(path, std::vector<unsigned char>(text.begin(), text.end()));
}

void copy_file(const std::string &from, const std::string &to) {
  write_file(to, read_file(from));
}

bool find_section(const std::vector<unsigned char> &elf, const char *name,
                  uint64_t *offset, uint64_t *size, uint32_t *index) {
  if (elf.size() < sizeof(Elf64_Ehdr)) return false;
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof(eh));
  if (eh.e_shoff + uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr) > elf.size())
    return false;
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  std::memcpy(sh.data(), elf.data() + eh.e_shoff, sh.size() * sizeof(Elf64_Shdr));
  const char *names = reinterpret_cast<const char *>(elf.data()) +
                      sh[eh.e_shstrndx].sh_offset;
  for (uint32_t i = 0; i < eh.e_shnum; ++i) {
    if (std::strcmp(names + sh[i].sh_name, name) == 0) {
      *offset = sh[i].sh_offset;
      *size = sh[i].sh_size;
      if (index) *index = i;
      return true;
    }
  }
  return false;
}

glm_artifact_header_t get_header(const std::vector<unsigned char> &elf) {
  uint64_t offset = 0, size = 0;
  glm_artifact_header_t h;
  std::memset(&h, 0, sizeof(h));
  EXPECT_TRUE(find_section(elf, GLM_ABI_HEADER_SECTION, &offset, &size));
  EXPECT_GE(size, sizeof(h));
  if (size >= sizeof(h)) std::memcpy(&h, elf.data() + offset, sizeof(h));
  return h;
}

void put_header(std::vector<unsigned char> *elf,
                const glm_artifact_header_t &h) {
  uint64_t offset = 0, size = 0;
  ASSERT_TRUE(find_section(*elf, GLM_ABI_HEADER_SECTION, &offset, &size));
  std::memcpy(elf->data() + offset, &h, sizeof(h));
}

ModelPtr load_ok(const std::string &path, const glmrt_load_options_t *options) {
  glmrt_model_t *model = nullptr;
  StatusPtr status(glmrt_model_load(path.c_str(), options, &model));
  EXPECT_EQ(status.get(), nullptr)
      << "loading " << path << ": " << glmrt_status_message(status.get());
  return ModelPtr(model);
}

void expect_status(glmrt_status_t *raw, glmrt_status_code_t code,
                   std::initializer_list<std::string> parts) {
  StatusPtr status(raw);
  ASSERT_NE(status.get(), nullptr) << "expected "
                                   << glmrt_status_code_name(code);
  const char *message = glmrt_status_message(status.get());
  EXPECT_EQ(glmrt_status_code(status.get()), code)
      << "got " << glmrt_status_code_name(glmrt_status_code(status.get()))
      << ": " << message;
  for (const std::string &part : parts)
    EXPECT_NE(std::string(message).find(part), std::string::npos)
        << "message lacks '" << part << "': " << message;
}

void expect_load_fails(const std::string &path, glmrt_status_code_t code,
                       std::initializer_list<std::string> parts,
                       const glmrt_load_options_t *options) {
  glmrt_model_t *model = reinterpret_cast<glmrt_model_t *>(0x1);
  glmrt_status_t *status = glmrt_model_load(path.c_str(), options, &model);
  EXPECT_EQ(model, reinterpret_cast<glmrt_model_t *>(0x1))
      << "out_model written on failure";
  StatusPtr owned(status);
  ASSERT_NE(status, nullptr) << path << " loaded but should not";
  std::string message = glmrt_status_message(status);
  EXPECT_NE(message.find(path), std::string::npos)
      << "message does not name the file: " << message;
  expect_status(owned.release(), code, parts);
}

} // namespace glmrt_test
