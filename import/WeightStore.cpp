//===- WeightStore.cpp - write and read deltac weight stores --------------===//

#include "import/WeightStore.h"

#include "import/DeltacQuants.h"
#include "import/GGMLQuants.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace llvm;

namespace deltac {

static_assert(sizeof(dc_ws_header) == 96, "the header layout is part of the file format");
static_assert(sizeof(dc_ws_tensor) == 72, "the table entry layout is part of the file format");

StringRef weightDTypeName(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_F32: return "f32";
  case DC_WS_F16: return "f16";
  case DC_WS_BF16: return "bf16";
  case DC_WS_Q8_0: return "q8_0";
  case DC_WS_Q4_0: return "q4_0";
  case DC_WS_Q4_1: return "q4_1";
  case DC_WS_Q4_0_G64: return "q4_0_g64";
  case DC_WS_Q4_1_G64: return "q4_1_g64";
  case DC_WS_Q4_0_G128: return "q4_0_g128";
  case DC_WS_Q4_1_G128: return "q4_1_g128";
  case DC_WS_Q8_0_PACKED: return "q8_0_packed";
  case DC_WS_Q4_0_PACKED: return "q4_0_packed";
  case DC_WS_Q4_0_X8: return "q4_0_x8";
  }
  return "unknown";
}

int64_t weightDTypeGroup(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_F32:
  case DC_WS_F16:
  case DC_WS_BF16: return 1;
  case DC_WS_Q8_0:
  case DC_WS_Q4_0:
  case DC_WS_Q4_1:
  case DC_WS_Q8_0_PACKED:
  case DC_WS_Q4_0_PACKED:
  case DC_WS_Q4_0_X8: return 32;
  case DC_WS_Q4_0_G64:
  case DC_WS_Q4_1_G64: return 64;
  case DC_WS_Q4_0_G128:
  case DC_WS_Q4_1_G128: return 128;
  }
  return 1;
}

/// The int4 block format of a dtype stored as deltac's own blocks.
static std::optional<quants::Int4Format> int4Format(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_Q4_0_G64: return quants::Int4Format{64, false};
  case DC_WS_Q4_1_G64: return quants::Int4Format{64, true};
  case DC_WS_Q4_0_G128: return quants::Int4Format{128, false};
  case DC_WS_Q4_1_G128: return quants::Int4Format{128, true};
  default: return std::nullopt;
  }
}

/// The GGML type of a dtype GGUF also has.
static std::optional<ggml::GGMLType> ggmlType(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_F32: return ggml::GGMLType::F32;
  case DC_WS_F16: return ggml::GGMLType::F16;
  case DC_WS_BF16: return ggml::GGMLType::BF16;
  case DC_WS_Q8_0: return ggml::GGMLType::Q8_0;
  case DC_WS_Q4_0: return ggml::GGMLType::Q4_0;
  case DC_WS_Q4_1: return ggml::GGMLType::Q4_1;
  default: return std::nullopt;
  }
}

std::optional<dc_ws_dtype> unpackedDType(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_Q8_0_PACKED: return DC_WS_Q8_0;
  case DC_WS_Q4_0_PACKED:
  case DC_WS_Q4_0_X8: return DC_WS_Q4_0;
  default: return std::nullopt;
  }
}

std::optional<dc_ws_dtype> packedDType(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_Q8_0: return DC_WS_Q8_0_PACKED;
  case DC_WS_Q4_0: return DC_WS_Q4_0_PACKED;
  default: return std::nullopt;
  }
}

static quants::PackedKind packedKind(dc_ws_dtype packed) {
  switch (packed) {
  case DC_WS_Q8_0_PACKED: return quants::PackedKind::Q8_0;
  case DC_WS_Q4_0_X8: return quants::PackedKind::Q4_0_X8;
  default: return quants::PackedKind::Q4_0;
  }
}

bool packRows(dc_ws_dtype packed, const uint8_t *from, uint8_t *to, int64_t rows, int64_t n) {
  std::optional<dc_ws_dtype> blocks = unpackedDType(packed);
  std::optional<uint64_t> rowBytes = storedBytes(packed, {n});
  if (!blocks || !rowBytes)
    return false;
  for (int64_t r = 0; r < rows; ++r)
    quants::packRow(packedKind(packed), from + r * *rowBytes, to + r * *rowBytes, n);
  return true;
}

bool encodeRow(dc_ws_dtype dtype, const float *values, uint8_t *out, int64_t n) {
  if (std::optional<quants::Int4Format> format = int4Format(dtype))
    return quants::quantizeRowInt4(*format, values, out, n);
  if (std::optional<dc_ws_dtype> blocks = unpackedDType(dtype)) {
    std::vector<uint8_t> encoded(storedBytes(dtype, {n}).value_or(0));
    return !encoded.empty() && encodeRow(*blocks, values, encoded.data(), n) &&
           packRows(dtype, encoded.data(), out, 1, n);
  }
  switch (dtype) {
  case DC_WS_F32:
    std::memcpy(out, values, size_t(n) * 4);
    return true;
  case DC_WS_F16:
  case DC_WS_BF16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h = dtype == DC_WS_BF16 ? ggml::floatToBf16(values[i]) : ggml::floatToFp16(values[i]);
      out[2 * i] = uint8_t(h & 0xFF);
      out[2 * i + 1] = uint8_t(h >> 8);
    }
    return true;
  default:
    return ggml::quantizeRow(*ggmlType(dtype), values, out, n);
  }
}

bool decodeRow(dc_ws_dtype dtype, const uint8_t *bytes, float *values, int64_t n) {
  if (std::optional<quants::Int4Format> format = int4Format(dtype))
    return quants::dequantizeRowInt4(*format, bytes, values, n);
  if (std::optional<dc_ws_dtype> blocks = unpackedDType(dtype)) {
    std::optional<uint64_t> rowBytes = storedBytes(dtype, {n});
    if (!rowBytes)
      return false;
    std::vector<uint8_t> unpacked(*rowBytes);
    quants::unpackRow(packedKind(dtype), bytes, unpacked.data(), n);
    return decodeRow(*blocks, unpacked.data(), values, n);
  }
  std::optional<ggml::GGMLType> type = ggmlType(dtype);
  return type && ggml::dequantizeRow(*type, bytes, values, n);
}

std::optional<uint64_t> storedBytes(dc_ws_dtype dtype, ArrayRef<int64_t> shape) {
  if (shape.empty() || shape.size() > DC_WS_MAX_RANK)
    return std::nullopt;
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d <= 0 || mulOverflows(count, static_cast<uint64_t>(d), count))
      return std::nullopt;
  }
  uint64_t blockBytes = 0, group = uint64_t(weightDTypeGroup(dtype));
  switch (dtype) {
  case DC_WS_F32: return count <= UINT64_MAX / 4 ? std::optional<uint64_t>(count * 4) : std::nullopt;
  case DC_WS_F16:
  case DC_WS_BF16:
    return count <= UINT64_MAX / 2 ? std::optional<uint64_t>(count * 2) : std::nullopt;
  case DC_WS_Q8_0:
  case DC_WS_Q8_0_PACKED: blockBytes = 34; break;
  case DC_WS_Q4_0:
  case DC_WS_Q4_0_PACKED:
  case DC_WS_Q4_0_X8: blockBytes = 18; break;
  case DC_WS_Q4_1: blockBytes = 20; break;
  case DC_WS_Q4_0_G64:
  case DC_WS_Q4_1_G64:
  case DC_WS_Q4_0_G128:
  case DC_WS_Q4_1_G128: blockBytes = uint64_t(int4Format(dtype)->blockBytes()); break;
  default: return std::nullopt;
  }
  if (uint64_t(shape.back()) % group != 0)
    return std::nullopt;
  return count / group * blockBytes;
}

static uint64_t alignTo64(uint64_t value) { return alignTo(value, DC_WS_ALIGNMENT); }

static ArrayRef<uint8_t> bytesOf(const void *data, size_t size) {
  return ArrayRef<uint8_t>(static_cast<const uint8_t *>(data), size);
}

Expected<std::unique_ptr<WeightStoreWriter>>
WeightStoreWriter::create(StringRef path, std::vector<StoredTensorSpec> tensors) {
  llvm::sort(tensors, [](const StoredTensorSpec &a, const StoredTensorSpec &b) {
    return a.name < b.name;
  });
  for (size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].name == tensors[i - 1].name)
      return fileError(path, "duplicate tensor " + tensors[i].name);

  std::unique_ptr<WeightStoreWriter> writer(new WeightStoreWriter());
  uint64_t tableOffset = alignTo64(sizeof(dc_ws_header));
  uint64_t stringsOffset = tableOffset + tensors.size() * sizeof(dc_ws_tensor);
  for (const StoredTensorSpec &spec : tensors) {
    dc_ws_tensor entry = {};
    entry.name_offset = writer->strings.size();
    entry.name_bytes = static_cast<uint32_t>(spec.name.size());
    entry.dtype = spec.dtype;
    entry.rank = static_cast<uint32_t>(spec.shape.size());
    std::optional<uint64_t> bytes = storedBytes(spec.dtype, spec.shape);
    if (!bytes)
      return fileError(path, "tensor " + spec.name + " has a shape that " +
                                 weightDTypeName(spec.dtype) + " cannot store");
    for (auto [i, d] : llvm::enumerate(spec.shape))
      entry.dims[i] = static_cast<uint64_t>(d);
    entry.bytes = *bytes;
    writer->strings += spec.name;
    writer->strings.push_back('\0');
    writer->entries.push_back(entry);
  }
  writer->dataOffset = alignTo64(stringsOffset + writer->strings.size());
  uint64_t offset = 0;
  for (dc_ws_tensor &entry : writer->entries) {
    entry.offset = offset;
    offset = alignTo64(offset + entry.bytes);
  }
  writer->specs = std::move(tensors);

  Expected<std::unique_ptr<AtomicOutputFile>> out = AtomicOutputFile::create(path);
  if (!out)
    return out.takeError();
  writer->out = std::move(*out);
  // The header, table and strings are written by finish(); reserve their space now.
  if (Error e = writer->out->appendZeros(writer->dataOffset))
    return std::move(e);
  return writer;
}

Error WeightStoreWriter::write(size_t index, ArrayRef<uint8_t> chunk) {
  if (index != current || index >= entries.size())
    return fileError(out->path(), "internal error: tensor data written out of order");
  const dc_ws_tensor &entry = entries[index];
  if (currentWritten + chunk.size() > entry.bytes)
    return fileError(out->path(), "internal error: too much data for tensor " + specs[index].name);
  if (Error e = out->append(chunk))
    return e;
  dataHash.update(chunk);
  currentWritten += chunk.size();
  if (currentWritten == entry.bytes) {
    // Pad to the next tensor's alignment; the padding is hashed like data.
    uint64_t padding = alignTo64(entry.bytes) - entry.bytes;
    static const uint8_t zeros[DC_WS_ALIGNMENT] = {};
    if (index + 1 < entries.size() && padding) {
      if (Error e = out->append(ArrayRef<uint8_t>(zeros, padding)))
        return e;
      dataHash.update(ArrayRef<uint8_t>(zeros, padding));
    }
    ++current;
    currentWritten = 0;
  }
  return Error::success();
}

Expected<uint64_t> WeightStoreWriter::finish() {
  // Zero-byte tensors cannot exist (every dim is positive), so every tensor needs a write() call.
  if (current != entries.size())
    return fileError(out->path(), "internal error: tensor " + specs[current].name +
                                      " was not written");
  dc_ws_header header = {};
  std::memcpy(header.magic, DC_WS_MAGIC, 8);
  header.version = DC_WS_VERSION;
  header.header_bytes = sizeof(dc_ws_header);
  header.tensor_count = entries.size();
  header.table_offset = alignTo64(sizeof(dc_ws_header));
  header.strings_offset = header.table_offset + entries.size() * sizeof(dc_ws_tensor);
  header.strings_bytes = strings.size();
  header.data_offset = dataOffset;
  header.file_bytes = out->size();

  StreamHasher tableHash;
  ArrayRef<uint8_t> table = bytesOf(entries.data(), entries.size() * sizeof(dc_ws_tensor));
  tableHash.update(table);
  tableHash.update(bytesOf(strings.data(), strings.size()));
  StreamHasher combined;
  uint64_t parts[2] = {tableHash.finish(), dataHash.finish()};
  combined.update(bytesOf(parts, sizeof(parts)));
  header.fingerprint = combined.finish();

  if (Error e = out->writeAt(header.table_offset, table))
    return std::move(e);
  if (Error e = out->writeAt(header.strings_offset, bytesOf(strings.data(), strings.size())))
    return std::move(e);
  if (Error e = out->writeAt(0, bytesOf(&header, sizeof(header))))
    return std::move(e);
  if (Error e = out->commit())
    return std::move(e);
  return header.fingerprint;
}

Expected<std::unique_ptr<WeightStore>> WeightStore::open(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot open: " + buffer.getError().message());
  auto store = std::make_unique<WeightStore>();
  store->buffer = std::move(*buffer);
  ArrayRef<uint8_t> file(reinterpret_cast<const uint8_t *>(store->buffer->getBufferStart()),
                         store->buffer->getBufferSize());
  auto bad = [&](const Twine &why) { return fileError(path, "not a valid weight store: " + why); };

  if (file.size() < sizeof(dc_ws_header))
    return bad("shorter than its header");
  dc_ws_header &h = store->header;
  std::memcpy(&h, file.data(), sizeof(h));
  if (std::memcmp(h.magic, DC_WS_MAGIC, 8) != 0)
    return bad("wrong magic");
  if (h.version != DC_WS_VERSION)
    return bad("version " + Twine(h.version) + ", this deltac reads " + Twine(DC_WS_VERSION));
  if (h.header_bytes != sizeof(dc_ws_header))
    return bad("header size " + Twine(h.header_bytes));
  if (h.file_bytes != file.size())
    return bad("the header says " + Twine(h.file_bytes) + " bytes but the file has " +
               Twine(file.size()) + " (truncated or incomplete)");
  if (h.fingerprint == 0)
    return bad("no fingerprint (the write did not finish)");
  uint64_t tableBytes;
  if (mulOverflows(h.tensor_count, uint64_t(sizeof(dc_ws_tensor)), tableBytes) ||
      h.table_offset > file.size() || tableBytes > file.size() - h.table_offset)
    return bad("tensor table past the end of the file");
  if (h.strings_offset > file.size() || h.strings_bytes > file.size() - h.strings_offset)
    return bad("name table past the end of the file");
  if (h.data_offset % DC_WS_ALIGNMENT != 0 || h.data_offset > file.size())
    return bad("misaligned or out-of-range data offset");

  const uint8_t *strings = file.data() + h.strings_offset;
  uint64_t previousEnd = 0;
  for (uint64_t i = 0; i < h.tensor_count; ++i) {
    dc_ws_tensor t;
    std::memcpy(&t, file.data() + h.table_offset + i * sizeof(t), sizeof(t));
    if (t.name_offset > h.strings_bytes || t.name_bytes >= h.strings_bytes - t.name_offset)
      return bad("tensor #" + Twine(i) + " has a name outside the name table");
    Tensor tensor;
    tensor.name = StringRef(reinterpret_cast<const char *>(strings + t.name_offset), t.name_bytes);
    if (t.dtype > DC_WS_DTYPE_MAX)
      return bad("tensor " + tensor.name + " has unknown dtype " + Twine(t.dtype));
    tensor.dtype = static_cast<dc_ws_dtype>(t.dtype);
    if (t.rank == 0 || t.rank > DC_WS_MAX_RANK)
      return bad("tensor " + tensor.name + " has rank " + Twine(t.rank));
    for (uint32_t d = 0; d < t.rank; ++d) {
      if (t.dims[d] == 0 || t.dims[d] > uint64_t(INT64_MAX))
        return bad("tensor " + tensor.name + " has an invalid dimension");
      tensor.shape.push_back(static_cast<int64_t>(t.dims[d]));
    }
    std::optional<uint64_t> expected = storedBytes(tensor.dtype, tensor.shape);
    if (!expected || *expected != t.bytes)
      return bad("tensor " + tensor.name + " has " + Twine(t.bytes) +
                 " bytes, which does not match its shape and dtype");
    if (t.offset % DC_WS_ALIGNMENT != 0 || t.offset < previousEnd ||
        t.offset > file.size() - h.data_offset || t.bytes > file.size() - h.data_offset - t.offset)
      return bad("tensor " + tensor.name + " has data out of range, misaligned or overlapping");
    previousEnd = t.offset + t.bytes;
    if (!store->tensorList.empty() && store->tensorList.back().name >= tensor.name)
      return bad("tensor names are not sorted and unique at " + tensor.name);
    tensor.data = file.slice(h.data_offset + t.offset, t.bytes);
    store->tensorList.push_back(std::move(tensor));
  }
  return store;
}

const WeightStore::Tensor *WeightStore::find(StringRef name) const {
  auto it = llvm::partition_point(tensorList, [&](const Tensor &t) { return t.name < name; });
  return it != tensorList.end() && it->name == name ? &*it : nullptr;
}

} // namespace deltac
