//===- Linker.cpp - link model.so with ld.lld, or archive a static lib ----===//

#include "compiler/package/Artifact.h"

#include "runtime/include/glmrt/artifact_abi.h"

#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#ifndef GLMC_LD_LLD_PATH
#define GLMC_LD_LLD_PATH "ld.lld"
#endif

using namespace glmc;

namespace {

/// Finds ld.lld: GLMC_LD_LLD in the environment, the one found at build
/// time, then PATH.
std::string findLinker() {
  if (const char *env = std::getenv("GLMC_LD_LLD"))
    return env;
  if (llvm::sys::fs::can_execute(GLMC_LD_LLD_PATH))
    return GLMC_LD_LLD_PATH;
  for (const char *name : {"ld.lld-22", "ld.lld"})
    if (auto p = llvm::sys::findProgramByName(name))
      return *p;
  return "";
}

/// A temporary file removed when this goes out of scope.
struct TempFile {
  llvm::SmallString<128> path;
  bool create(llvm::StringRef prefix, llvm::StringRef suffix, std::string &error) {
    if (auto ec = llvm::sys::fs::createTemporaryFile(prefix, suffix, path)) {
      error = "cannot create a temporary file: " + ec.message();
      return false;
    }
    return true;
  }
  bool write(llvm::ArrayRef<char> bytes, std::string &error) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) {
      error = "cannot write " + path.str().str() + ": " + ec.message();
      return false;
    }
    os.write(bytes.data(), bytes.size());
    return true;
  }
  ~TempFile() {
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
};

} // namespace

bool package::linkSharedObject(llvm::ArrayRef<char> object, const std::string &outputPath,
                               const pipeline::TargetInfo &target, std::string &error,
                               const std::vector<std::string> &extraObjects) {
  std::string lld = findLinker();
  if (lld.empty()) {
    error = "ld.lld not found; install lld-22 or set GLMC_LD_LLD";
    return false;
  }
  TempFile obj, script, log;
  if (!obj.create("glmc-model", "o", error) || !obj.write(object, error) ||
      !script.create("glmc-exports", "map", error) || !log.create("glmc-lld", "log", error))
    return false;
  std::string exports = std::string("{\n  global: ") + GLM_ABI_DESCRIPTOR_SYMBOL + ";\n  local: *;\n};\n";
  if (!script.write(llvm::ArrayRef<char>(exports.data(), exports.size()), error))
    return false;
  // Link into a temporary next to the output and rename: a failed link
  // never leaves a half-written artifact behind.
  std::string tmpOut = outputPath + ".tmp-glmc";
  // No -soname: the artifact is dlopen'ed by path, and its bytes must not
  // depend on what the output file is called.
  // The weights object goes first: its section is then laid out before
  // .rodata and .text (lld keeps input order among read-only sections), so
  // the code's PC-relative references to its constants never span the
  // weights, whatever their size.
  std::vector<std::string> args = {lld, "-shared", "-o", tmpOut};
  args.insert(args.end(), extraObjects.begin(), extraObjects.end());
  args.insert(args.end(), {obj.path.str().str(),
                           "--version-script=" + script.path.str().str(),
                           "--build-id=sha1",
                           "--hash-style=gnu",
                           "--no-undefined-version",
                           "-z",
                           "noexecstack",
                           "-z",
                           "relro",
                           "-z",
                           "now",
                           "-O1",
                           "--gc-sections"});
  if (target.arch == GLM_ARCH_AARCH64)
    args.insert(args.begin() + 1, {"-m", "aarch64linux"});
  else
    args.insert(args.begin() + 1, {"-m", "elf_x86_64"});
  // libc/libm of the target, where available, record DT_NEEDED for what the
  // code calls (memcpy, memset); --as-needed drops unused ones.
  if (!target.sysrootLib.empty()) {
    args.push_back("--as-needed");
    for (const char *lib : {"libc.so.6", "libm.so.6"}) {
      std::string p = target.sysrootLib + "/" + lib;
      if (llvm::sys::fs::exists(p))
        args.push_back(p);
    }
  }
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.path.str(), log.path.str()};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(lld, argRefs, std::nullopt, redirects, /*SecondsToWait=*/600,
                                     0, &execError);
  if (rc != 0) {
    auto text = llvm::MemoryBuffer::getFile(log.path);
    error = "linking " + outputPath + " with " + lld + " failed" +
            (execError.empty() ? "" : " (" + execError + ")") + ": " +
            (text ? (*text)->getBuffer().trim().str() : std::string("no output"));
    llvm::sys::fs::remove(tmpOut);
    return false;
  }
  if (auto ec = llvm::sys::fs::rename(tmpOut, outputPath)) {
    error = "cannot write " + outputPath + ": " + ec.message();
    llvm::sys::fs::remove(tmpOut);
    return false;
  }
  return true;
}

bool package::writeStaticLibrary(
    llvm::ArrayRef<char> object, const std::string &outputPath, std::string &error,
    const std::vector<std::pair<std::string, std::string>> &extraObjects) {
  std::unique_ptr<llvm::MemoryBuffer> buf = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(object.data(), object.size()), "model.o", false);
  llvm::NewArchiveMember member(buf->getMemBufferRef());
  std::vector<llvm::NewArchiveMember> members;
  members.push_back(std::move(member));
  for (const auto &[path, name] : extraObjects) {
    llvm::Expected<llvm::NewArchiveMember> m =
        llvm::NewArchiveMember::getFile(path, /*Deterministic=*/true);
    if (!m) {
      error = "cannot read " + path + ": " + llvm::toString(m.takeError());
      return false;
    }
    m->MemberName = name;
    members.push_back(std::move(*m));
  }
  if (llvm::Error e = llvm::writeArchive(outputPath, members, llvm::SymtabWritingMode::NormalSymtab,
                                         llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                                         /*Thin=*/false)) {
    error = "cannot write " + outputPath + ": " + llvm::toString(std::move(e));
    return false;
  }
  return true;
}
