//===- GGUF.h - read and write GGUF files -----------------------*- C++ -*-===//
//
// GGUF (version 2 and 3): magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata
// key/value pairs, the tensor infos (name, dims in ggml order [innermost, ...], ggml type, offset), then
// padding to `general.alignment` (default 32) and the tensor data. All little-endian.
//
// The parser works on an in-memory prefix of the file (normally the whole file, memory-mapped) and
// checks every length, count and offset against the bytes available, so it is safe on arbitrary input;
// it is the libFuzzer target's entry point.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_GGUF_H
#define DELTAC_IMPORT_GGUF_H

#include "import/FileIO.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <variant>
#include <vector>

namespace deltac {

enum class GGUFType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9,
  U64 = 10, I64 = 11, F64 = 12
};

/// One metadata value. Integers of every width are held as int64/uint64, floats as double.
struct GGUFValue {
  GGUFType type = GGUFType::U32;
  std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
  GGUFType elementType = GGUFType::U32; ///< for arrays
  std::vector<GGUFValue> elements;      ///< for arrays

  std::optional<int64_t> getInteger() const;
  std::optional<double> getNumber() const;
  std::optional<llvm::StringRef> getString() const;
  std::optional<bool> getBool() const;
};

struct GGUFTensorInfo {
  std::string name;
  llvm::SmallVector<int64_t, 4> ne; ///< ggml order: ne[0] is the innermost (contiguous) dimension
  uint32_t type;                    ///< ggml type id
  uint64_t offset;                  ///< absolute offset of the data in the file
  uint64_t bytes;

  /// Row-major shape, outermost first (ne reversed): a ggml [in, out] weight is [out, in].
  llvm::SmallVector<int64_t, 4> shape() const;
};

struct GGUFFile {
  uint32_t version = 3;
  std::vector<std::pair<std::string, GGUFValue>> metadata; ///< in file order
  llvm::StringMap<size_t> metadataIndex;
  std::vector<GGUFTensorInfo> tensors;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;

  const GGUFValue *find(llvm::StringRef key) const;
};

/// Limits that make absurd declared sizes an error instead of a giant allocation.
constexpr uint64_t kMaxGGUFTensors = 1u << 20;
constexpr uint64_t kMaxGGUFMetadata = 1u << 20;
constexpr unsigned kMaxGGUFArrayDepth = 4;

/// Parses the header, metadata and tensor infos from `bytes` (the file's first bytes; `fileSize` is the
/// whole file's size, so tensor data ranges are checked against it). Errors name `fileName`. When the
/// header continues past `bytes` but not past the file, `*needMoreBytes` (if given) is set so the caller
/// can retry with a longer prefix.
llvm::Expected<GGUFFile> parseGGUF(llvm::ArrayRef<uint8_t> bytes, uint64_t fileSize,
                                   llvm::StringRef fileName, bool *needMoreBytes = nullptr);

/// Reads a GGUF file's header through positioned reads: the metadata and tensor infos only, no data.
llvm::Expected<GGUFFile> readGGUF(const InputFile &file);

/// Streams a GGUF file (version 3): set metadata and tensor infos, then write the tensor data in
/// declaration order.
class GGUFWriter {
public:
  struct TensorSpec {
    std::string name;
    llvm::SmallVector<int64_t, 4> shape; ///< row-major, outermost first
    uint32_t type;                       ///< ggml type id
  };
  static llvm::Expected<std::unique_ptr<GGUFWriter>>
  create(llvm::StringRef path, const std::vector<std::pair<std::string, GGUFValue>> &metadata,
         std::vector<TensorSpec> tensors);
  llvm::ArrayRef<TensorSpec> tensors() const { return specs; }
  uint64_t tensorBytes(size_t index) const { return sizes[index]; }
  /// Appends the data of tensor `index`; tensors in order, each completely.
  llvm::Error write(size_t index, llvm::ArrayRef<uint8_t> chunk);
  llvm::Error finish();

private:
  GGUFWriter() = default;
  std::unique_ptr<AtomicOutputFile> out;
  std::vector<TensorSpec> specs;
  std::vector<uint64_t> sizes;
  size_t current = 0;
  uint64_t currentWritten = 0;
};

/// Metadata value constructors for writers.
GGUFValue ggufU32(uint32_t v);
GGUFValue ggufF32(float v);
GGUFValue ggufBool(bool v);
GGUFValue ggufString(llvm::StringRef v);
GGUFValue ggufArray(GGUFType elementType, std::vector<GGUFValue> elements);

} // namespace deltac

#endif // DELTAC_IMPORT_GGUF_H
