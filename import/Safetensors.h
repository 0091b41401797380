//===- Safetensors.h - read and write safetensors files ---------*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
// name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data that follows the
// header, optionally with a "__metadata__" object of strings), then the data.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_SAFETENSORS_H
#define DELTAC_IMPORT_SAFETENSORS_H

#include "import/FileIO.h"

#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace deltac {

/// Element types of the safetensors format (those deltac can import are F32, F16 and BF16).
enum class SafetensorsDType { Bool, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, F8E4M3, F8E5M2 };

llvm::StringRef safetensorsDTypeName(SafetensorsDType dtype);
unsigned safetensorsDTypeBytes(SafetensorsDType dtype);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  uint64_t offset; ///< absolute offset of the data in the file
  uint64_t bytes;
};

/// Headers larger than this are rejected as absurd (real ones are a few hundred KB).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100u << 20;

/// Parses and validates a header's JSON for a file whose data region (after the header) has
/// `dataBytes` bytes starting at absolute offset `dataStart`. Checks: valid JSON object; every entry has a
/// known dtype, a shape of non-negative integers, offsets inside the data region whose length matches
/// shape x dtype; no two tensors overlap. Errors name `fileName`.
llvm::Expected<std::vector<SafetensorsTensor>>
parseSafetensorsHeader(llvm::StringRef json, uint64_t dataStart, uint64_t dataBytes,
                       llvm::StringRef fileName);

/// Reads and validates the header of a safetensors file.
llvm::Expected<std::vector<SafetensorsTensor>> readSafetensorsHeader(const InputFile &file);

/// Streams a safetensors file: declare all tensors, then write their data in declaration order.
class SafetensorsWriter {
public:
  struct Spec {
    std::string name;
    SafetensorsDType dtype;
    llvm::SmallVector<int64_t, 4> shape;
  };
  static llvm::Expected<std::unique_ptr<SafetensorsWriter>> create(llvm::StringRef path,
                                                                   std::vector<Spec> tensors);
  llvm::ArrayRef<Spec> tensors() const { return specs; }
  uint64_t tensorBytes(size_t index) const { return sizes[index]; }
  /// Appends data for the tensors in declaration order.
  llvm::Error write(llvm::ArrayRef<uint8_t> chunk) { return out->append(chunk); }
  llvm::Error finish();

private:
  SafetensorsWriter() = default;
  std::unique_ptr<AtomicOutputFile> out;
  std::vector<Spec> specs;
  std::vector<uint64_t> sizes;
  uint64_t expectedEnd = 0;
};

} // namespace deltac

#endif // DELTAC_IMPORT_SAFETENSORS_H
