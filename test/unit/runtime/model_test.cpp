//===- model_test.cpp - Loading models: accessors and every refusal --------===//
#include "test_util.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

using namespace glmrt_test;

namespace {

/// Copies an artifact into a temporary directory, lets `patch` edit its
/// bytes, and returns the new path.
template <typename Patch>
std::string patched(const TempDir &dir, const std::string &name, Patch patch,
                    const std::string &new_name = "") {
  std::vector<unsigned char> bytes = read_file(artifact(name));
  patch(&bytes);
  std::string path = dir.file(new_name.empty() ? name : new_name);
  write_file(path, bytes);
  return path;
}

/// A GLM_CPU_* bit of this architecture that this CPU lacks, else an unknown
/// bit of this architecture (which no CPU has).
uint64_t missing_feature() {
  uint64_t have = glmrt_runtime_cpu_features();
#if defined(__aarch64__)
  unsigned first = 32;
#else
  unsigned first = 0;
#endif
  for (unsigned bit = first; bit < first + 32; ++bit)
    if (!(have & (1ull << bit))) return 1ull << bit;
  return 0;
}

} // namespace

//===--------------------------------------------------------------------===//
// Successful loads and accessors
//===--------------------------------------------------------------------===//

TEST(ModelLoad, AddModelAccessors) {
  ModelPtr model = load_ok(artifact("add.so"));
  ASSERT_TRUE(model);
  EXPECT_STREQ(glmrt_model_name(model.get()), "add");
  EXPECT_STREQ(glmrt_model_target(model.get()), "host");
  EXPECT_NE(std::string(glmrt_model_metadata_json(model.get())).find("glmrt unit test"),
            std::string::npos);
  ASSERT_EQ(glmrt_model_entry_count(model.get()), 1u);
  const glmrt_entry_t *entry = glmrt_model_entry_at(model.get(), 0);
  ASSERT_NE(entry, nullptr);
  EXPECT_STREQ(glmrt_entry_name(entry), "main");
  EXPECT_EQ(glmrt_model_entry_at(model.get(), 1), nullptr);
  EXPECT_EQ(glmrt_entry_input_count(entry), 1u);
  EXPECT_EQ(glmrt_entry_output_count(entry), 1u);

  glmrt_tensor_info_t info;
  glmrt_tensor_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_entry_input_info(entry, 0, &info));
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.dtype, GLMRT_DTYPE_F32);
  EXPECT_EQ(info.rank, 2u);
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_EQ(info.dims[1], 4);
  glmrt_tensor_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_entry_output_info(entry, 0, &info));
  EXPECT_STREQ(info.name, "y");
  expect_status(glmrt_entry_input_info(entry, 1, &info),
                GLMRT_STATUS_OUT_OF_RANGE, {"entry 'main'", "input 1"});
  expect_status(glmrt_entry_output_info(entry, 3, &info),
                GLMRT_STATUS_OUT_OF_RANGE, {"output 3"});
  expect_status(glmrt_entry_input_info(nullptr, 0, &info),
                GLMRT_STATUS_INVALID_ARGUMENT, {"entry"});
  expect_status(glmrt_entry_input_info(entry, 0, nullptr),
                GLMRT_STATUS_INVALID_ARGUMENT, {"info"});
  info.struct_size = 0;
  expect_status(glmrt_entry_input_info(entry, 0, &info),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_tensor_info_init"});

  glmrt_model_info_t minfo;
  glmrt_model_info_init(&minfo);
  ASSERT_GLMRT_OK(glmrt_model_info(model.get(), &minfo));
  EXPECT_EQ(minfo.abi_major, GLM_ABI_VERSION_MAJOR);
  EXPECT_EQ(minfo.abi_minor, GLM_ABI_VERSION_MINOR);
  EXPECT_STREQ(minfo.name, "add");
  EXPECT_STREQ(minfo.target, "host");
  EXPECT_STREQ(minfo.cpu, "generic");
  EXPECT_EQ(minfo.weights_size, 16u);
  EXPECT_EQ(minfo.flags, 0u);
  EXPECT_EQ(minfo.weights_path, nullptr);
  char *real = realpath(artifact("add.so").c_str(), nullptr);
  EXPECT_STREQ(minfo.path, real);
  free(real);
  expect_status(glmrt_model_info(nullptr, &minfo),
                GLMRT_STATUS_INVALID_ARGUMENT, {"model"});
  minfo.struct_size = 0;
  expect_status(glmrt_model_info(model.get(), &minfo),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_model_info_init"});
}

TEST(ModelLoad, OlderInfoStructsGetOnlyTheirFields) {
  ModelPtr model = load_ok(artifact("add.so"));
  ASSERT_TRUE(model);
  // A caller compiled against a header whose info struct ended at `flags`.
  glmrt_model_info_t minfo;
  std::memset(&minfo, 0xab, sizeof(minfo));
  minfo.struct_size = offsetof(glmrt_model_info_t, cpu_features);
  ASSERT_GLMRT_OK(glmrt_model_info(model.get(), &minfo));
  EXPECT_EQ(minfo.abi_major, GLM_ABI_VERSION_MAJOR);
  EXPECT_EQ(minfo.cpu_features, 0xababababababababull); // untouched
}

TEST(ModelLoad, EntryFind) {
  ModelPtr model = load_ok(artifact("multi.so"));
  ASSERT_TRUE(model);
  EXPECT_EQ(glmrt_model_entry_count(model.get()), 4u);
  const glmrt_entry_t *entry = nullptr;
  ASSERT_GLMRT_OK(glmrt_model_entry_find(model.get(), nullptr, &entry));
  EXPECT_STREQ(glmrt_entry_name(entry), "main");
  ASSERT_GLMRT_OK(glmrt_model_entry_find(model.get(), "double", &entry));
  EXPECT_STREQ(glmrt_entry_name(entry), "double");
  EXPECT_EQ(entry, glmrt_model_entry_at(model.get(), 1));
  const glmrt_entry_t *untouched = entry;
  expect_status(glmrt_model_entry_find(model.get(), "prefill", &entry),
                GLMRT_STATUS_NOT_FOUND,
                {"model 'multi'", "no entry 'prefill'", "'main'", "'double'",
                 "'const'"});
  EXPECT_EQ(entry, untouched);
  expect_status(glmrt_model_entry_find(nullptr, "main", &entry),
                GLMRT_STATUS_INVALID_ARGUMENT, {"model"});
  // Tensor infos for every dtype and a rank-0 output.
  glmrt_tensor_info_t info;
  glmrt_tensor_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_model_entry_find(model.get(), "main", &entry));
  ASSERT_GLMRT_OK(glmrt_entry_output_info(entry, 1, &info));
  EXPECT_STREQ(info.name, "prod");
  EXPECT_EQ(info.dtype, GLMRT_DTYPE_F64);
  EXPECT_EQ(info.rank, 0u);
}

TEST(ModelLoad, NullsAndBadOptions) {
  glmrt_model_t *model = nullptr;
  expect_status(glmrt_model_load(nullptr, nullptr, &model),
                GLMRT_STATUS_INVALID_ARGUMENT, {"path"});
  expect_status(glmrt_model_load(artifact("add.so").c_str(), nullptr, nullptr),
                GLMRT_STATUS_INVALID_ARGUMENT, {"out_model"});
  glmrt_load_options_t options;
  std::memset(&options, 0, sizeof(options));
  expect_status(glmrt_model_load(artifact("add.so").c_str(), &options, &model),
                GLMRT_STATUS_INVALID_ARGUMENT, {"glmrt_load_options_init"});
  EXPECT_EQ(model, nullptr);
  // NULL accessors do not crash.
  EXPECT_STREQ(glmrt_model_name(nullptr), "");
  EXPECT_EQ(glmrt_model_entry_count(nullptr), 0u);
  EXPECT_EQ(glmrt_model_entry_at(nullptr, 0), nullptr);
  EXPECT_STREQ(glmrt_entry_name(nullptr), "");
  EXPECT_EQ(glmrt_entry_input_count(nullptr), 0u);
  glmrt_model_retain(nullptr);
  glmrt_model_release(nullptr);
}

TEST(ModelLoad, OptionsFromAnOlderHeaderAreAccepted) {
  // A caller whose options struct ended after `flags`.
  glmrt_load_options_t options;
  glmrt_load_options_init(&options);
  options.struct_size = offsetof(glmrt_load_options_t, cpu_features_disabled);
  options.cpu_features_disabled = ~0ull; // outside the struct: ignored
  ModelPtr model = load_ok(artifact("add.so"), &options);
  EXPECT_TRUE(model);
}

TEST(ModelLoad, RetainRelease) {
  ModelPtr model = load_ok(artifact("add.so"));
  ASSERT_TRUE(model);
  glmrt_model_retain(model.get());
  glmrt_model_release(model.get());
  EXPECT_STREQ(glmrt_model_name(model.get()), "add");
}

TEST(ModelLoad, SameFileTwiceAndRelativeAndSymlinkedPaths) {
  ModelPtr a = load_ok(artifact("add.so"));
  ModelPtr b = load_ok(artifact("add.so"));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a.get(), b.get());
  a.reset();
  EXPECT_STREQ(glmrt_model_name(b.get()), "add");

  // A relative path must not make dlopen search the library path.
  TempDir dir;
  copy_file(artifact("add.so"), dir.file("add.so"));
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(chdir(dir.path().c_str()), 0);
  ModelPtr relative = load_ok("add.so");
  ASSERT_EQ(chdir(cwd), 0);
  EXPECT_TRUE(relative);

  // External weights are found beside the real file, not the link.
  TempDir other;
  copy_file(artifact("add_ext.so"), dir.file("add_ext.so"));
  copy_file(artifact("add_ext.weights"), dir.file("add_ext.weights"));
  ASSERT_EQ(symlink(dir.file("add_ext.so").c_str(),
                    other.file("link.so").c_str()),
            0);
  ModelPtr linked = load_ok(other.file("link.so"));
  ASSERT_TRUE(linked);
  glmrt_model_info_t info;
  glmrt_model_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_model_info(linked.get(), &info));
  ASSERT_NE(info.weights_path, nullptr);
  EXPECT_NE(std::string(info.weights_path).find(dir.path()), std::string::npos);
}

TEST(ModelLoad, ExternalWeights) {
  ModelPtr model = load_ok(artifact("add_ext.so"));
  ASSERT_TRUE(model);
  glmrt_model_info_t info;
  glmrt_model_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_model_info(model.get(), &info));
  EXPECT_EQ(info.flags, GLM_ARTIFACT_FLAG_EXTERNAL_WEIGHTS);
  EXPECT_EQ(info.weights_size, 16u);
  ASSERT_NE(info.weights_path, nullptr);
  EXPECT_NE(std::string(info.weights_path).find("add_ext.weights"),
            std::string::npos);
}

TEST(ModelLoad, SkipChecksumOption) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.weights_checksum ^= 1;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS, {"checksum"});
  glmrt_load_options_t options;
  glmrt_load_options_init(&options);
  options.flags = GLMRT_LOAD_FLAG_SKIP_CHECKSUM;
  EXPECT_TRUE(load_ok(path, &options));
}

//===--------------------------------------------------------------------===//
// Refusals, in the loader's order
//===--------------------------------------------------------------------===//

TEST(ModelRefusal, MissingFile) {
  TempDir dir;
  expect_load_fails(dir.file("nope.so"), GLMRT_STATUS_NOT_FOUND,
                    {"cannot open model", "No such file"});
}

TEST(ModelRefusal, UnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TempDir dir;
  copy_file(artifact("add.so"), dir.file("add.so"));
  ASSERT_EQ(chmod(dir.file("add.so").c_str(), 0), 0);
  expect_load_fails(dir.file("add.so"), GLMRT_STATUS_NOT_FOUND,
                    {"Permission denied"});
}

TEST(ModelRefusal, Directory) {
  TempDir dir;
  expect_load_fails(dir.path(), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not a glmc artifact", "not a regular file"});
}

TEST(ModelRefusal, TextFile) {
  TempDir dir;
  write_text(dir.file("model.so"), "this is not a model\n");
  expect_load_fails(dir.file("model.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not a glmc artifact", "not an ELF file"});
}

TEST(ModelRefusal, EmptyFile) {
  TempDir dir;
  write_text(dir.file("empty.so"), "");
  expect_load_fails(dir.file("empty.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not an ELF file"});
}

TEST(ModelRefusal, ElfClass32) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    (*b)[EI_CLASS] = ELFCLASS32;
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not a glmc artifact", "64-bit"});
}

TEST(ModelRefusal, BigEndian) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    (*b)[EI_DATA] = ELFDATA2MSB;
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT, {"little-endian"});
}

TEST(ModelRefusal, NotASharedObject) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    uint16_t type = ET_REL;
    std::memcpy(b->data() + offsetof(Elf64_Ehdr, e_type), &type, 2);
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT, {"not a shared object"});
}

TEST(ModelRefusal, TruncatedToHalf) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    b->resize(b->size() / 2);
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS, {"truncated"});
}

TEST(ModelRefusal, TruncatedInsideTheElfHeader) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    b->resize(40);
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS, {"truncated", "40 bytes"});
}

TEST(ModelRefusal, SectionPastTheEnd) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    uint64_t offset, size;
    uint32_t index;
    ASSERT_TRUE(find_section(*b, GLM_ABI_WEIGHTS_SECTION, &offset, &size, &index));
    Elf64_Ehdr eh;
    std::memcpy(&eh, b->data(), sizeof(eh));
    uint64_t huge = b->size();
    std::memcpy(b->data() + eh.e_shoff + index * sizeof(Elf64_Shdr) +
                    offsetof(Elf64_Shdr, sh_size),
                &huge, sizeof(huge));
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS,
                    {"truncated", GLM_ABI_WEIGHTS_SECTION});
}

TEST(ModelRefusal, OtherArchitectureInElf) {
  TempDir dir;
#if defined(__x86_64__)
  uint16_t other = EM_AARCH64;
  const char *names[] = {"built for aarch64", "this machine is x86-64"};
#else
  uint16_t other = EM_X86_64;
  const char *names[] = {"built for x86-64", "this machine is aarch64"};
#endif
  std::string path = patched(dir, "add.so", [&](std::vector<unsigned char> *b) {
    std::memcpy(b->data() + offsetof(Elf64_Ehdr, e_machine), &other, 2);
  });
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE, {names[0], names[1]});
}

TEST(ModelRefusal, NoHeaderSection) {
  expect_load_fails(artifact("add_noheader.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not a glmc artifact", "no .glm_header section"});
}

TEST(ModelRefusal, PlainSharedLibrary) {
  // A well-formed shared object that is not an artifact.
  expect_load_fails(GLMRT_TEST_LIBGLMRT, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"no .glm_header section"});
}

TEST(ModelRefusal, WrongHeaderMagic) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.magic = 0xdeadbeef;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not a glmc artifact", "bad magic 0xdeadbeef"});
}

TEST(ModelRefusal, AbiMajorPlusOne) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.abi_major = GLM_ABI_VERSION_MAJOR + 1;
    put_header(b, h);
  });
  std::string abi = "artifact ABI " + std::to_string(GLM_ABI_VERSION_MAJOR + 1);
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE,
                    {abi, "this runtime", "reads ABI"});
}

TEST(ModelLoad, AbiMinorPlusOneIsAccepted) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.abi_minor = GLM_ABI_VERSION_MINOR + 1;
    put_header(b, h);
  });
  // Minor versions only add fields: the file loads.
  ModelPtr model = load_ok(path);
  ASSERT_TRUE(model);
  glmrt_model_info_t info;
  glmrt_model_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_model_info(model.get(), &info));
  EXPECT_EQ(info.abi_minor, GLM_ABI_VERSION_MINOR + 1);
}

TEST(ModelRefusal, HeaderStructSizeTooSmall) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.struct_size = 8;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE, {"struct_size 8"});
}

TEST(ModelRefusal, HeaderStructSizeLargerThanSection) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.struct_size = 1u << 20;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE, {"struct_size 1048576"});
}

TEST(ModelRefusal, UnterminatedHeaderString) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    std::memset(h.target, 'A', sizeof(h.target));
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"target", "not NUL-terminated"});
}

TEST(ModelRefusal, HeaderArchitecture) {
  TempDir dir;
#if defined(__x86_64__)
  uint32_t other = GLM_ARCH_AARCH64;
  const char *expected = "compiled for aarch64";
#else
  uint32_t other = GLM_ARCH_X86_64;
  const char *expected = "compiled for x86-64";
#endif
  std::string path = patched(dir, "add.so", [&](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.arch = other;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE,
                    {expected, "target 'host'", "this machine is"});
  std::string unknown = patched(
      dir, "add.so",
      [](std::vector<unsigned char> *b) {
        glm_artifact_header_t h = get_header(*b);
        h.arch = 99;
        put_header(b, h);
      },
      "unknown.so");
  expect_load_fails(unknown, GLMRT_STATUS_INCOMPATIBLE,
                    {"unknown architecture"});
}

TEST(ModelRefusal, MissingCpuFeature) {
  uint64_t missing = missing_feature();
  ASSERT_NE(missing, 0u);
  char name[64];
  glmrt_cpu_features_format(missing, name, sizeof(name));
  TempDir dir;
  std::string path = patched(dir, "add.so", [&](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.cpu_features |= missing;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE,
                    {std::string("needs CPU feature ") + name,
                     std::string("which this CPU (") + glmrt_runtime_cpu_name() +
                         ") lacks",
                     "target 'host'"});
}

TEST(ModelRefusal, CpuFeatureDisabledByOptions) {
  // add_feat.so needs a feature every CPU of this architecture has.
#if defined(__x86_64__)
  const uint64_t feature = GLM_CPU_X86_SSE4_2;
  const char *name = "sse4.2";
#else
  const uint64_t feature = GLM_CPU_ARM_NEON;
  const char *name = "neon";
#endif
  ASSERT_TRUE(glmrt_runtime_cpu_features() & feature);
  EXPECT_TRUE(load_ok(artifact("add_feat.so")));
  glmrt_load_options_t options;
  glmrt_load_options_init(&options);
  options.cpu_features_disabled = feature;
  expect_load_fails(artifact("add_feat.so"), GLMRT_STATUS_INCOMPATIBLE,
                    {std::string("needs CPU feature ") + name, "lacks",
                     "load options disable"},
                    &options);
  // Disabling a feature the model does not need changes nothing.
  options.cpu_features_disabled = feature << 1;
  EXPECT_TRUE(load_ok(artifact("add_feat.so"), &options));
}

TEST(ModelRefusal, SeveralMissingFeaturesAreAllNamed) {
#if defined(__x86_64__)
  const uint64_t features = GLM_CPU_X86_AVX512F | GLM_CPU_X86_AVX512BW;
  const char *names = "features avx512f, avx512bw";
#else
  const uint64_t features = GLM_CPU_ARM_DOTPROD | GLM_CPU_ARM_I8MM;
  const char *names = "features dotprod, i8mm";
#endif
  TempDir dir;
  std::string path = patched(dir, "add.so", [&](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.cpu_features |= features;
    put_header(b, h);
  });
  glmrt_load_options_t options;
  glmrt_load_options_init(&options);
  options.cpu_features_disabled = features;
  expect_load_fails(path, GLMRT_STATUS_INCOMPATIBLE, {names}, &options);
}

TEST(ModelRefusal, ChecksumFlipped) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.weights_checksum ^= 0x100;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS,
                    {"corrupted", "weights checksum"});
}

TEST(ModelRefusal, WeightsByteFlipped) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    uint64_t offset, size;
    ASSERT_TRUE(find_section(*b, GLM_ABI_WEIGHTS_SECTION, &offset, &size));
    (*b)[offset + 5] ^= 0x40;
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS, {"weights checksum"});
}

TEST(ModelRefusal, WeightsSizeLargerThanSection) {
  TempDir dir;
  std::string path = patched(dir, "add.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.weights_size = 4096;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS,
                    {".glm_weights section has 16 bytes", "4096"});
}

TEST(ModelRefusal, WeightsWithoutSection) {
  TempDir dir;
  std::string path = patched(dir, "multi.so", [](std::vector<unsigned char> *b) {
    glm_artifact_header_t h = get_header(*b);
    h.weights_size = 64;
    put_header(b, h);
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"64 bytes of embedded weights", "no .glm_weights"});
}

//===--------------------------------------------------------------------===//
// External weights
//===--------------------------------------------------------------------===//

namespace {

/// Copies add_ext.so (patched) and, unless told not to, its side file into
/// `dir`.
std::string external_copy(const TempDir &dir,
                          void (*patch)(glm_artifact_header_t *),
                          bool with_side_file = true) {
  std::vector<unsigned char> bytes = read_file(artifact("add_ext.so"));
  glm_artifact_header_t h = get_header(bytes);
  if (patch) patch(&h);
  put_header(&bytes, h);
  std::string path = dir.file("add_ext.so");
  write_file(path, bytes);
  if (with_side_file)
    copy_file(artifact("add_ext.weights"), dir.file("add_ext.weights"));
  return path;
}

} // namespace

TEST(ExternalWeights, CopiedModelLoads) {
  TempDir dir;
  EXPECT_TRUE(load_ok(external_copy(dir, nullptr)));
}

TEST(ExternalWeights, MissingSideFile) {
  TempDir dir;
  std::string path = external_copy(dir, nullptr, false);
  expect_load_fails(path, GLMRT_STATUS_NOT_FOUND,
                    {"external weights file", "add_ext.weights",
                     "No such file"});
}

TEST(ExternalWeights, NameWithParentDirectory) {
  TempDir dir;
  std::string path = external_copy(dir, [](glm_artifact_header_t *h) {
    std::strcpy(h->weights_file, "../add_ext.weights");
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"'../add_ext.weights'", "no '/' or '..'"});
}

TEST(ExternalWeights, NameWithSlash) {
  TempDir dir;
  std::string path = external_copy(dir, [](glm_artifact_header_t *h) {
    std::strcpy(h->weights_file, "/etc/passwd");
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT, {"'/etc/passwd'"});
}

TEST(ExternalWeights, EmptyName) {
  TempDir dir;
  std::string path = external_copy(dir, [](glm_artifact_header_t *h) {
    h->weights_file[0] = '\0';
  });
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT, {"names none"});
}

TEST(ExternalWeights, SideFileTruncated) {
  TempDir dir;
  std::string path = external_copy(dir, nullptr);
  std::vector<unsigned char> w = read_file(dir.file("add_ext.weights"));
  w.resize(w.size() / 2);
  write_file(dir.file("add_ext.weights"), w);
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS,
                    {"add_ext.weights", "has 8 bytes", "expects 16",
                     "truncated"});
}

TEST(ExternalWeights, SideFileCorrupted) {
  TempDir dir;
  std::string path = external_copy(dir, nullptr);
  std::vector<unsigned char> w = read_file(dir.file("add_ext.weights"));
  w[3] ^= 1;
  write_file(dir.file("add_ext.weights"), w);
  expect_load_fails(path, GLMRT_STATUS_DATA_LOSS,
                    {"add_ext.weights", "corrupted", "checksum"});
  glmrt_load_options_t options;
  glmrt_load_options_init(&options);
  options.flags = GLMRT_LOAD_FLAG_SKIP_CHECKSUM;
  EXPECT_TRUE(load_ok(path, &options));
}

TEST(ExternalWeights, SideFileIsADirectory) {
  TempDir dir;
  std::string path = external_copy(dir, nullptr, false);
  ASSERT_EQ(mkdir(dir.file("add_ext.weights").c_str(), 0700), 0);
  expect_load_fails(path, GLMRT_STATUS_INVALID_ARGUMENT,
                    {"not a regular file"});
}

//===--------------------------------------------------------------------===//
// Descriptor cross-checks (after dlopen)
//===--------------------------------------------------------------------===//

TEST(DescriptorRefusal, NotExported) {
  expect_load_fails(artifact("add_nodesc.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"does not export glm_model_descriptor"});
}

TEST(DescriptorRefusal, BadMagic) {
  expect_load_fails(artifact("add_baddescmagic.so"),
                    GLMRT_STATUS_INVALID_ARGUMENT,
                    {"bad descriptor magic 0x12345678"});
}

TEST(DescriptorRefusal, TiedDimsOnlyOnInputsAndInRange) {
  expect_load_fails(artifact("tied_badoutput.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"output 'y' has invalid dim 1 = -2"});
  expect_load_fails(artifact("tied_badclass.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"input 'a' has invalid dim 0 = -65538"});
}

TEST(ModelLoad, TiedDimsReadAsDynamic) {
  // The public info says -1 for every dynamic dim, tied or not.
  ModelPtr model = load_ok(artifact("tied.so"));
  ASSERT_TRUE(model);
  const glmrt_entry_t *entry = nullptr;
  ASSERT_GLMRT_OK(glmrt_model_entry_find(model.get(), "main", &entry));
  glmrt_tensor_info_t info;
  glmrt_tensor_info_init(&info);
  ASSERT_GLMRT_OK(glmrt_entry_input_info(entry, 1, &info));
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_EQ(info.dims[1], -1);
}

TEST(DescriptorRefusal, HeaderPointerMismatch) {
  expect_load_fails(artifact("add_headermismatch.so"),
                    GLMRT_STATUS_INVALID_ARGUMENT,
                    {"descriptor's header does not match"});
}

TEST(DescriptorRefusal, NoBindHost) {
  expect_load_fails(artifact("add_nobind.so"), GLMRT_STATUS_INVALID_ARGUMENT,
                    {"no bind_host"});
}
