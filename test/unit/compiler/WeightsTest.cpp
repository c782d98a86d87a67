//===- WeightsTest.cpp - the weights blob writer --------------------------===//
//
// The bytes glm-outline-weights' layout turns into (dense, splat, i1,
// resource blobs, zero padding), their checksum against the runtime's
// glm_abi_checksum, the side file, and the ELF object the linker takes.
//
//===----------------------------------------------------------------------===//

#include "compiler/package/Weights.h"

#include "runtime/include/glmrt/artifact_abi.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace mlir;
using glmc::package::WeightsBlob;

namespace {

struct Fixture {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  std::vector<char> expected;

  /// f32 [1, 2] at 0, splat i32 5 x 3 at 64, i1 [1, 0, 1] at 128, a
  /// resource blob of 17 bytes at 192; 256 bytes.
  Fixture() {
    Builder b(&ctx);
    module = ModuleOp::create(b.getUnknownLoc());
    auto f32 = RankedTensorType::get({2}, b.getF32Type());
    auto i32 = RankedTensorType::get({3}, b.getI32Type());
    auto i1 = RankedTensorType::get({3}, b.getI1Type());
    auto u8 = RankedTensorType::get({17}, b.getIntegerType(8));
    std::vector<char> res(17);
    for (int i = 0; i < 17; ++i)
      res[i] = char(100 + i);
    SmallVector<Attribute> values = {
        DenseElementsAttr::get(f32, ArrayRef<float>{1.0f, 2.0f}),
        DenseElementsAttr::get(i32, b.getI32IntegerAttr(5)),
        DenseElementsAttr::get(i1, ArrayRef<bool>{true, false, true}),
        DenseResourceElementsAttr::get(u8, "r",
                                       HeapAsmResourceBlob::allocateAndCopyWithAlign(
                                           ArrayRef<char>(res.data(), res.size()), 64))};
    (*module)->setAttr("glm.weights",
                       b.getDictionaryAttr({b.getNamedAttr("size", b.getI64IntegerAttr(256)),
                                            b.getNamedAttr("offsets",
                                                           b.getDenseI64ArrayAttr({0, 64, 128, 192})),
                                            b.getNamedAttr("values", b.getArrayAttr(values))}));
    expected.assign(256, 0);
    float f[2] = {1.0f, 2.0f};
    std::memcpy(&expected[0], f, 8);
    int32_t five[3] = {5, 5, 5};
    std::memcpy(&expected[64], five, 12);
    expected[128] = 1;
    expected[130] = 1;
    std::memcpy(&expected[192], res.data(), 17);
  }
};

std::string readFile(const llvm::Twine &path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  return buf ? (*buf)->getBuffer().str() : std::string();
}

TEST(Weights, LayoutBytesAndChecksum) {
  Fixture fx;
  WeightsBlob blob;
  std::string error;
  ASSERT_TRUE(glmc::package::collectWeights(*fx.module, blob, error)) << error;
  EXPECT_EQ(blob.size, 256u);
  EXPECT_EQ(blob.materialize(), fx.expected);
  std::string out;
  llvm::raw_string_ostream os(out);
  uint64_t sum = glmc::package::writeWeights(blob, os);
  os.flush();
  EXPECT_EQ(out, std::string(fx.expected.begin(), fx.expected.end()));
  EXPECT_EQ(sum, glm_abi_checksum(fx.expected.data(), fx.expected.size()));
}

/// A packed weight (glm-pack-weights): a [3, 8] f32 matrix with panel
/// width 4 is written as panels [2][3][4], panel j holding columns 4j..4j+3
/// of every row; a dense and a resource matrix give the same bytes, a
/// splat is written as it is, and a panel width that does not divide the
/// columns is refused.
TEST(Weights, PackedWeightsAreWrittenInPanelOrder) {
  MLIRContext ctx;
  Builder b(&ctx);
  auto type = RankedTensorType::get({3, 8}, b.getF32Type());
  std::vector<float> w(24);
  for (int i = 0; i < 24; ++i)
    w[i] = float(i);
  ArrayRef<char> raw(reinterpret_cast<const char *>(w.data()), w.size() * 4);
  SmallVector<Attribute> values = {
      DenseElementsAttr::get(type, ArrayRef<float>(w)),
      DenseResourceElementsAttr::get(type, "p", HeapAsmResourceBlob::allocateAndCopyWithAlign(raw, 64)),
      DenseElementsAttr::get(type, b.getF32FloatAttr(2.5f))};
  auto build = [&](ArrayRef<int64_t> panels) {
    OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
    (*module)->setAttr("glm.weights",
                       b.getDictionaryAttr({b.getNamedAttr("size", b.getI64IntegerAttr(384)),
                                            b.getNamedAttr("offsets", b.getDenseI64ArrayAttr({0, 128, 256})),
                                            b.getNamedAttr("values", b.getArrayAttr(values)),
                                            b.getNamedAttr("panels", b.getDenseI64ArrayAttr(panels))}));
    return module;
  };
  std::vector<float> panelOrder;
  for (int j = 0; j < 2; ++j)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c)
        panelOrder.push_back(w[r * 8 + j * 4 + c]);
  std::vector<char> expected(384, 0);
  std::memcpy(&expected[0], panelOrder.data(), 96);
  std::memcpy(&expected[128], panelOrder.data(), 96);
  std::vector<float> splat(24, 2.5f);
  std::memcpy(&expected[256], splat.data(), 96);

  OwningOpRef<ModuleOp> module = build({4, 4, 4});
  WeightsBlob blob;
  std::string error;
  ASSERT_TRUE(glmc::package::collectWeights(*module, blob, error)) << error;
  EXPECT_EQ(blob.materialize(), expected);
  std::string out;
  llvm::raw_string_ostream os(out);
  uint64_t sum = glmc::package::writeWeights(blob, os);
  os.flush();
  EXPECT_EQ(out, std::string(expected.begin(), expected.end()));
  EXPECT_EQ(sum, glm_abi_checksum(expected.data(), expected.size()));

  OwningOpRef<ModuleOp> bad = build({3, 0, 0});
  EXPECT_FALSE(glmc::package::collectWeights(*bad, blob, error));
  EXPECT_NE(error.find("multiple of 3"), std::string::npos) << error;
}

TEST(Weights, NoLayoutIsOneEmptyBlock) {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx));
  WeightsBlob blob;
  std::string error;
  ASSERT_TRUE(glmc::package::collectWeights(*module, blob, error)) << error;
  EXPECT_EQ(blob.materialize(), std::vector<char>(GLM_ABI_WEIGHTS_ALIGNMENT, 0));
}

TEST(Weights, ChecksumOfPiecesAtAnyBoundary) {
  // Pieces of odd sizes at odd offsets: the streamed checksum still equals
  // the one over the whole buffer (8-byte words, then the tail bytes).
  std::string data;
  for (int i = 0; i < 1000; ++i)
    data.push_back(char(i * 37 + 11));
  WeightsBlob blob;
  blob.size = 1003;
  blob.pieces.push_back({3, llvm::ArrayRef<char>(data.data(), 5)});
  blob.pieces.push_back({13, llvm::ArrayRef<char>(data.data() + 5, 990)});
  std::vector<char> all = blob.materialize();
  ASSERT_EQ(all.size(), 1003u);
  EXPECT_EQ(glmc::package::writeWeights(blob, llvm::nulls()),
            glm_abi_checksum(all.data(), all.size()));
}

TEST(Weights, SideFileFromAReleasedMapping) {
  // A piece inside a read-only file mapping is written, then its pages are
  // released; writing again reads them back from the file.
  llvm::SmallString<128> src, dst;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("glmc-weights-src", "bin", src));
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("glmc-weights-dst", "bin", dst));
  llvm::FileRemover rmSrc(src), rmDst(dst);
  const size_t n = 3 * 4096 + 100;
  std::string bytes(n, 0);
  for (size_t i = 0; i < n; ++i)
    bytes[i] = char(i * 7);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(src, ec);
    ASSERT_FALSE(ec);
    os << bytes;
  }
  int fd = ::open(src.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  void *map = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(map, MAP_FAILED);
  WeightsBlob blob;
  blob.size = 64 + llvm::alignTo(n - 10, 64);
  blob.pieces.push_back({64, llvm::ArrayRef<char>((const char *)map + 10, n - 10)});
  blob.fileMappings.push_back(llvm::ArrayRef<char>((const char *)map, n));
  std::vector<char> want = blob.materialize();
  for (int round = 0; round < 2; ++round) {
    uint64_t sum = 0;
    std::string error;
    ASSERT_TRUE(glmc::package::writeWeightsFile(blob, std::string(dst), sum, error)) << error;
    EXPECT_EQ(readFile(dst), std::string(want.begin(), want.end()));
    EXPECT_EQ(sum, glm_abi_checksum(want.data(), want.size()));
  }
  ::munmap(map, n);
}

TEST(Weights, ObjectDefinesHiddenAlignedWeights) {
  Fixture fx;
  WeightsBlob blob;
  std::string error;
  ASSERT_TRUE(glmc::package::collectWeights(*fx.module, blob, error)) << error;
  for (uint32_t arch : {(uint32_t)GLM_ARCH_X86_64, (uint32_t)GLM_ARCH_AARCH64}) {
    llvm::SmallString<128> path;
    ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("glmc-weights", "o", path));
    llvm::FileRemover rm(path);
    uint64_t sum = 0;
    ASSERT_TRUE(glmc::package::writeWeightsObject(blob, arch, std::string(path), sum, error))
        << error;
    EXPECT_EQ(sum, glm_abi_checksum(fx.expected.data(), fx.expected.size()));
    auto buf = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(bool(buf));
    auto obj = llvm::object::ObjectFile::createObjectFile((*buf)->getMemBufferRef());
    ASSERT_TRUE(bool(obj)) << llvm::toString(obj.takeError());
    auto *elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(obj->get());
    ASSERT_NE(elf, nullptr);
    EXPECT_EQ(elf->getELFFile().getHeader().e_machine,
              arch == GLM_ARCH_AARCH64 ? llvm::ELF::EM_AARCH64 : llvm::ELF::EM_X86_64);
    bool found = false;
    for (const llvm::object::SectionRef &s : elf->sections()) {
      auto name = s.getName();
      if (!name || *name != GLM_ABI_WEIGHTS_SECTION)
        continue;
      found = true;
      EXPECT_EQ(s.getAlignment().value(), GLM_ABI_WEIGHTS_ALIGNMENT);
      EXPECT_EQ(llvm::object::ELFSectionRef(s).getFlags(), (uint64_t)llvm::ELF::SHF_ALLOC);
      auto contents = s.getContents();
      ASSERT_TRUE(bool(contents));
      EXPECT_EQ(contents->str(), std::string(fx.expected.begin(), fx.expected.end()));
    }
    EXPECT_TRUE(found);
    bool symbol = false;
    for (const llvm::object::ELFSymbolRef &sym : elf->symbols()) {
      auto name = sym.getName();
      if (!name || *name != "glm_weights")
        continue;
      symbol = true;
      EXPECT_EQ(sym.getOther(), (uint8_t)llvm::ELF::STV_HIDDEN);
      EXPECT_EQ(sym.getBinding(), (uint8_t)llvm::ELF::STB_GLOBAL);
      EXPECT_EQ(sym.getSize(), 256u);
    }
    EXPECT_TRUE(symbol);
  }
}

} // namespace
