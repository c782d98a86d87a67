//===- Weights.cpp - the weights blob, written without copying it ---------===//

#include "compiler/package/Weights.h"

#include "dialects/glm/ShapeUtils.h"
#include "runtime/include/glmrt/artifact_abi.h"

#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/SwapByteOrder.h"

#include <algorithm>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace glmc;
using namespace glmc::package;

namespace {

/// glm_abi_checksum over bytes that arrive in pieces.
class Checksum {
public:
  void update(const char *p, size_t n) {
    if (pending) {
      size_t take = std::min<size_t>(8 - pending, n);
      std::memcpy(tail + pending, p, take);
      pending += take;
      p += take;
      n -= take;
      if (pending < 8)
        return;
      word(tail);
      pending = 0;
    }
    for (; n >= 8; p += 8, n -= 8)
      word(p);
    std::memcpy(tail, p, n);
    pending = n;
  }
  uint64_t finish() const {
    uint64_t x = h;
    for (unsigned i = 0; i < pending; ++i) {
      x ^= (unsigned char)tail[i];
      x *= kPrime;
    }
    return x;
  }

private:
  static constexpr uint64_t kPrime = 0x100000001b3ull;
  void word(const char *p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (!llvm::sys::IsLittleEndianHost)
      w = llvm::byteswap(w);
    h ^= w;
    h *= kPrime;
  }
  uint64_t h = 0xcbf29ce484222325ull;
  char tail[8];
  unsigned pending = 0;
};

/// Streams the blob through `sink(bytes, size)`, releasing written pages of
/// file mappings; returns the checksum.
template <typename Sink>
uint64_t stream(const WeightsBlob &blob, Sink &&sink) {
  Checksum sum;
  auto emit = [&](const char *p, size_t n) {
    sum.update(p, n);
    sink(p, n);
  };
  static const char zeros[4096] = {};
  auto pad = [&](uint64_t n) {
    for (; n; ) {
      size_t k = std::min<uint64_t>(n, sizeof(zeros));
      emit(zeros, k);
      n -= k;
    }
  };
  const uint64_t page = (uint64_t)::sysconf(_SC_PAGESIZE);
  auto release = [&](const char *p, size_t n) {
    for (llvm::ArrayRef<char> m : blob.fileMappings) {
      if (p < m.data() || p + n > m.data() + m.size())
        continue;
      // Whole pages around the range, inside the mapping: pages of the
      // neighbours fault back in from the page cache if needed again.
      uintptr_t lo = llvm::alignDown((uintptr_t)p, page);
      uintptr_t hi = std::min<uintptr_t>(llvm::alignTo((uintptr_t)(p + n), page),
                                         llvm::alignTo((uintptr_t)(m.data() + m.size()), page));
      lo = std::max<uintptr_t>(lo, (uintptr_t)m.data());
      if (hi > lo)
        (void)::madvise((void *)lo, hi - lo, MADV_DONTNEED);
      return;
    }
  };
  constexpr size_t kChunk = size_t(64) << 20;
  uint64_t pos = 0;
  for (const WeightsBlob::Piece &piece : blob.pieces) {
    pad(piece.offset - pos);
    if (piece.panelWidth) {
      // Panel order: for each panel of panelWidth columns, its rows one
      // after the other, gathered into a buffer of whole panels.
      const uint64_t rowBytes = piece.cols * piece.elemBytes, stripe = piece.panelWidth * piece.elemBytes;
      const uint64_t panelBytes = piece.rows * stripe;
      const uint64_t perBuffer = std::max<uint64_t>(1, kChunk / std::max<uint64_t>(panelBytes, 1));
      std::vector<char> buffer;
      for (uint64_t j = 0; j < piece.cols / piece.panelWidth; j += perBuffer) {
        uint64_t count = std::min(perBuffer, piece.cols / piece.panelWidth - j);
        buffer.resize(count * panelBytes);
        char *out = buffer.data();
        for (uint64_t p = j; p < j + count; ++p)
          for (uint64_t r = 0; r < piece.rows; ++r, out += stripe)
            std::memcpy(out, piece.bytes.data() + r * rowBytes + p * stripe, stripe);
        emit(buffer.data(), buffer.size());
      }
      release(piece.bytes.data(), piece.bytes.size());
    } else if (piece.repeat == 1) {
      for (size_t at = 0; at < piece.bytes.size(); at += kChunk) {
        size_t n = std::min(kChunk, piece.bytes.size() - at);
        emit(piece.bytes.data() + at, n);
        release(piece.bytes.data() + at, n);
      }
    } else if (!piece.bytes.empty()) {
      // A splat: the element repeated into a buffer, written in blocks.
      std::string block;
      size_t per = std::max<size_t>(1, 65536 / piece.bytes.size());
      for (size_t i = 0; i < per; ++i)
        block.append(piece.bytes.data(), piece.bytes.size());
      for (uint64_t left = piece.repeat; left; ) {
        uint64_t k = std::min<uint64_t>(left, per);
        emit(block.data(), k * piece.bytes.size());
        left -= k;
      }
    }
    pos = piece.offset + piece.bytes.size() * piece.repeat;
  }
  pad(blob.size - pos);
  return sum.finish();
}

/// Writes `bytes` to the file, failing loudly on short writes.
bool writeAll(llvm::raw_fd_ostream &os, const std::string &path, std::string &error) {
  os.flush();
  if (os.has_error()) {
    error = "cannot write " + path + ": " + os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

} // namespace

std::vector<char> WeightsBlob::materialize() const {
  std::vector<char> out;
  out.reserve(size);
  stream(*this, [&](const char *p, size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

bool package::collectWeights(mlir::ModuleOp module, WeightsBlob &blob, std::string &error) {
  blob = WeightsBlob();
  blob.size = GLM_ABI_WEIGHTS_ALIGNMENT;
  auto layout = module->getAttrOfType<mlir::DictionaryAttr>("glm.weights");
  if (!layout)
    return true;
  auto size = layout.getAs<mlir::IntegerAttr>("size");
  auto offsets = layout.getAs<mlir::DenseI64ArrayAttr>("offsets");
  auto values = layout.getAs<mlir::ArrayAttr>("values");
  auto panels = layout.getAs<mlir::DenseI64ArrayAttr>("panels");
  if (!size || !offsets || !values || offsets.size() != (int64_t)values.size() ||
      (panels && panels.size() != offsets.size())) {
    error = "internal: malformed glm.weights layout";
    return false;
  }
  blob.size = size.getInt();
  uint64_t end = 0;
  for (auto [index, offsetAndValue] : llvm::enumerate(llvm::zip(offsets.asArrayRef(), values))) {
    auto [offset, value] = offsetAndValue;
    int64_t panelWidth = panels ? panels[index] : 0;
    auto attr = mlir::dyn_cast<mlir::ElementsAttr>(value);
    if (!attr) {
      error = "internal: glm.weights holds a non-elements attribute";
      return false;
    }
    auto type = mlir::cast<mlir::ShapedType>(attr.getType());
    mlir::Type et = type.getElementType();
    uint64_t n = type.getNumElements();
    WeightsBlob::Piece piece;
    piece.offset = offset;
    auto dense = mlir::dyn_cast<mlir::DenseElementsAttr>(attr);
    if (et.isInteger(1) && dense) {
      // Dense i1 is bit-packed; the ABI stores one byte per element.
      std::string &bytes = blob.owned.emplace_back();
      bytes.reserve(n);
      for (bool v : dense.getValues<bool>())
        bytes.push_back(v ? 1 : 0);
      piece.bytes = llvm::ArrayRef<char>(bytes.data(), bytes.size());
    } else {
      uint64_t elem = et.isInteger(1) ? 1 : et.getIntOrFloatBitWidth() / 8;
      llvm::ArrayRef<char> raw = mlir::glm::getRawBytes(attr);
      if (dense && dense.isSplat() && n != 1) {
        piece.bytes = raw.take_front(elem);
        piece.repeat = n;
      } else {
        piece.bytes = raw;
      }
      if (piece.bytes.size() * piece.repeat != elem * n) {
        error = "internal: weights constant of type " + std::to_string(n) + " elements has " +
                std::to_string(raw.size()) + " bytes";
        return false;
      }
      if (panelWidth > 0 && piece.repeat == 1) {
        if (type.getRank() != 2 || type.getDimSize(1) % panelWidth != 0) {
          error = "internal: a packed weight must be a matrix whose columns are a multiple of " +
                  std::to_string(panelWidth);
          return false;
        }
        piece.panelWidth = panelWidth;
        piece.rows = type.getDimSize(0);
        piece.cols = type.getDimSize(1);
        piece.elemBytes = elem;
      }
    }
    if (piece.offset < end || piece.offset % GLM_ABI_WEIGHTS_ALIGNMENT) {
      error = "internal: glm.weights offsets are not ascending and aligned";
      return false;
    }
    end = piece.offset + piece.bytes.size() * piece.repeat;
    blob.pieces.push_back(piece);
  }
  if (end > blob.size || blob.size % GLM_ABI_WEIGHTS_ALIGNMENT) {
    error = "internal: glm.weights size does not cover its constants";
    return false;
  }
  return true;
}

uint64_t package::writeWeights(const WeightsBlob &blob, llvm::raw_ostream &os) {
  return stream(blob, [&](const char *p, size_t n) { os.write(p, n); });
}

bool package::writeWeightsFile(const WeightsBlob &blob, const std::string &path,
                               uint64_t &checksum, std::string &error) {
  std::string tmp = path + ".tmp-glmc";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write " + path + ": " + ec.message();
      return false;
    }
    checksum = writeWeights(blob, os);
    if (!writeAll(os, path, error)) {
      llvm::sys::fs::remove(tmp);
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    error = "cannot write " + path + ": " + ec.message();
    llvm::sys::fs::remove(tmp);
    return false;
  }
  return true;
}

bool package::writeWeightsObject(const WeightsBlob &blob, uint32_t arch, const std::string &path,
                                 uint64_t &checksum, std::string &error) {
  namespace E = llvm::ELF;
  if (!llvm::sys::IsLittleEndianHost) {
    error = "writing ELF objects needs a little-endian host";
    return false;
  }
  // Layout: header | .glm_weights (at 64, 64-aligned) | .symtab | .strtab |
  // .shstrtab | section headers.
  static const char strtab[] = "\0glm_weights";
  static const char shstrtab[] = "\0.glm_weights\0.symtab\0.strtab\0.shstrtab";
  enum : unsigned { kNull, kWeights, kSymtab, kStrtab, kShstrtab, kNumSections };
  const uint64_t weightsOff = sizeof(E::Elf64_Ehdr);
  static_assert(sizeof(E::Elf64_Ehdr) % GLM_ABI_WEIGHTS_ALIGNMENT == 0);
  const uint64_t symtabOff = llvm::alignTo(weightsOff + blob.size, 8);
  const uint64_t strtabOff = symtabOff + 2 * sizeof(E::Elf64_Sym);
  const uint64_t shstrtabOff = strtabOff + sizeof(strtab);
  const uint64_t shOff = llvm::alignTo(shstrtabOff + sizeof(shstrtab), 8);

  E::Elf64_Ehdr eh = {};
  std::memcpy(eh.e_ident, E::ElfMagic, 4);
  eh.e_ident[E::EI_CLASS] = E::ELFCLASS64;
  eh.e_ident[E::EI_DATA] = E::ELFDATA2LSB;
  eh.e_ident[E::EI_VERSION] = E::EV_CURRENT;
  eh.e_ident[E::EI_OSABI] = E::ELFOSABI_NONE;
  eh.e_type = E::ET_REL;
  eh.e_machine = arch == GLM_ARCH_AARCH64 ? E::EM_AARCH64 : E::EM_X86_64;
  eh.e_version = E::EV_CURRENT;
  eh.e_shoff = shOff;
  eh.e_ehsize = sizeof(E::Elf64_Ehdr);
  eh.e_shentsize = sizeof(E::Elf64_Shdr);
  eh.e_shnum = kNumSections;
  eh.e_shstrndx = kShstrtab;

  E::Elf64_Sym syms[2] = {};
  syms[1].st_name = 1;
  syms[1].setBindingAndType(E::STB_GLOBAL, E::STT_OBJECT);
  syms[1].st_other = E::STV_HIDDEN;
  syms[1].st_shndx = kWeights;
  syms[1].st_value = 0;
  syms[1].st_size = blob.size;

  E::Elf64_Shdr sh[kNumSections] = {};
  sh[kWeights] = {1, E::SHT_PROGBITS, E::SHF_ALLOC, 0, weightsOff, blob.size, 0, 0,
                  GLM_ABI_WEIGHTS_ALIGNMENT, 0};
  sh[kSymtab] = {14, E::SHT_SYMTAB, 0, 0, symtabOff, sizeof(syms), kStrtab, /*first global=*/1,
                 8, sizeof(E::Elf64_Sym)};
  sh[kStrtab] = {22, E::SHT_STRTAB, 0, 0, strtabOff, sizeof(strtab), 0, 0, 1, 0};
  sh[kShstrtab] = {30, E::SHT_STRTAB, 0, 0, shstrtabOff, sizeof(shstrtab), 0, 0, 1, 0};

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  auto bytes = [&](const void *p, size_t n) { os.write((const char *)p, n); };
  bytes(&eh, sizeof(eh));
  checksum = writeWeights(blob, os);
  os.write_zeros(symtabOff - (weightsOff + blob.size));
  bytes(syms, sizeof(syms));
  bytes(strtab, sizeof(strtab));
  bytes(shstrtab, sizeof(shstrtab));
  os.write_zeros(shOff - (shstrtabOff + sizeof(shstrtab)));
  bytes(sh, sizeof(sh));
  return writeAll(os, path, error);
}
