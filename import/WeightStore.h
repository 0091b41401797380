//===- WeightStore.h - write and read deltac weight stores ------*- C++ -*-===//
//
// The format is defined in runtime/include/deltac/weight_store.h. The writer streams: the caller
// declares every tensor up front, then feeds each tensor's bytes in table order, so a store of any size
// is written with a bounded buffer. The reader maps a store and validates every field before exposing it.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_WEIGHTSTORE_H
#define DELTAC_IMPORT_WEIGHTSTORE_H

#include "import/FileIO.h"

#include "deltac/weight_store.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MemoryBuffer.h"

#include <optional>
#include <vector>

namespace deltac {

/// Name of a weight-store dtype ("bf16", "q8_0", ...).
llvm::StringRef weightDTypeName(dc_ws_dtype dtype);

/// Values per block of a block-quantized dtype (32 for GGML's, 64 or 128 for deltac's int4 groups);
/// 1 for the float dtypes.
int64_t weightDTypeGroup(dc_ws_dtype dtype);

/// Bytes a tensor of `shape` takes in `dtype`; std::nullopt when the shape does not fit the encoding
/// (a block-quantized row not a multiple of its group) or the size overflows.
std::optional<uint64_t> storedBytes(dc_ws_dtype dtype, llvm::ArrayRef<int64_t> shape);

/// Encodes one row of n float values in `dtype` (import/GGMLQuants.h, import/DeltacQuants.h); out
/// receives storedBytes(dtype, {n}) bytes. Returns false, writing nothing, when n does not fit the
/// dtype.
bool encodeRow(dc_ws_dtype dtype, const float *values, uint8_t *out, int64_t n);

/// Decodes one stored row of n values of `dtype` to float; false when n does not fit the dtype.
bool decodeRow(dc_ws_dtype dtype, const uint8_t *bytes, float *values, int64_t n);

/// The GGUF block dtype a packed dtype rearranges (DC_WS_Q8_0_PACKED: DC_WS_Q8_0, ...), and back.
std::optional<dc_ws_dtype> unpackedDType(dc_ws_dtype packed);
std::optional<dc_ws_dtype> packedDType(dc_ws_dtype blocks);

/// Packs `rows` rows of n values from the blocks of unpackedDType(packed) into `packed` (the same
/// number of bytes; kernel_abi.h, "Packed rows"). Returns false for a dtype that is not packed or
/// an n that is not a multiple of 32.
bool packRows(dc_ws_dtype packed, const uint8_t *from, uint8_t *to, int64_t rows, int64_t n);

/// A tensor the writer will store.
struct StoredTensorSpec {
  std::string name;
  dc_ws_dtype dtype;
  llvm::SmallVector<int64_t, 4> shape;
};

class WeightStoreWriter {
public:
  /// Opens a temporary output for `path` and lays out `tensors` (sorted by name; names must be unique).
  static llvm::Expected<std::unique_ptr<WeightStoreWriter>>
  create(llvm::StringRef path, std::vector<StoredTensorSpec> tensors);

  /// The tensors in file order; feed their data in this order.
  llvm::ArrayRef<StoredTensorSpec> tensors() const { return specs; }
  uint64_t tensorBytes(size_t index) const { return entries[index].bytes; }

  /// Appends the next chunk of tensor `index`'s data. Tensors must be written in order, each completely.
  llvm::Error write(size_t index, llvm::ArrayRef<uint8_t> chunk);

  /// Checks that every tensor was written, writes the table and header, and renames the store into
  /// place. Returns the fingerprint.
  llvm::Expected<uint64_t> finish();

private:
  WeightStoreWriter() = default;
  std::unique_ptr<AtomicOutputFile> out;
  std::vector<StoredTensorSpec> specs;
  std::vector<dc_ws_tensor> entries;
  std::string strings;
  uint64_t dataOffset = 0;
  size_t current = 0;
  uint64_t currentWritten = 0;
  StreamHasher dataHash;
};

/// A validated, memory-mapped weight store.
class WeightStore {
public:
  struct Tensor {
    llvm::StringRef name;
    dc_ws_dtype dtype;
    llvm::SmallVector<int64_t, 4> shape;
    llvm::ArrayRef<uint8_t> data;
  };

  static llvm::Expected<std::unique_ptr<WeightStore>> open(llvm::StringRef path);

  uint64_t fingerprint() const { return header.fingerprint; }
  llvm::ArrayRef<Tensor> tensors() const { return tensorList; }
  const Tensor *find(llvm::StringRef name) const;

private:
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  dc_ws_header header;
  std::vector<Tensor> tensorList;
};

} // namespace deltac

#endif // DELTAC_IMPORT_WEIGHTSTORE_H
