//===- GGUF.cpp - read and write GGUF files -------------------------------===//

#include "import/GGUF.h"

#include "import/GGMLQuants.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace llvm;

namespace deltac {

std::optional<int64_t> GGUFValue::getInteger() const {
  if (auto *u = std::get_if<uint64_t>(&scalar))
    return *u <= uint64_t(INT64_MAX) ? std::optional<int64_t>(int64_t(*u)) : std::nullopt;
  if (auto *i = std::get_if<int64_t>(&scalar))
    return *i;
  return std::nullopt;
}

std::optional<double> GGUFValue::getNumber() const {
  if (auto *d = std::get_if<double>(&scalar))
    return *d;
  if (std::optional<int64_t> i = getInteger())
    return double(*i);
  return std::nullopt;
}

std::optional<StringRef> GGUFValue::getString() const {
  if (auto *s = std::get_if<std::string>(&scalar); s && type == GGUFType::String)
    return StringRef(*s);
  return std::nullopt;
}

std::optional<bool> GGUFValue::getBool() const {
  if (auto *b = std::get_if<bool>(&scalar))
    return *b;
  return std::nullopt;
}

SmallVector<int64_t, 4> GGUFTensorInfo::shape() const {
  return SmallVector<int64_t, 4>(llvm::reverse(ne));
}

const GGUFValue *GGUFFile::find(StringRef key) const {
  auto it = metadataIndex.find(key);
  return it == metadataIndex.end() ? nullptr : &metadata[it->second].second;
}

namespace {

/// A bounds-checked little-endian reader over the parsed prefix.
class Cursor {
public:
  Cursor(ArrayRef<uint8_t> bytes, uint64_t fileSize, StringRef fileName, bool *needMore)
      : bytes(bytes), fileSize(fileSize), fileName(fileName), needMore(needMore) {}

  uint64_t position() const { return pos; }
  uint64_t remaining() const { return bytes.size() - pos; }

  Error need(uint64_t count, const Twine &what) {
    if (count <= remaining())
      return Error::success();
    if (needMore && bytes.size() < fileSize && pos <= fileSize && count <= fileSize - pos)
      *needMore = true;
    return fileError(fileName, "truncated GGUF file: " + what + " at byte " + Twine(pos) +
                                   " runs past the end (" + Twine(fileSize) + " bytes)");
  }

  template <typename T> Expected<T> read(const Twine &what) {
    if (Error e = need(sizeof(T), what))
      return std::move(e);
    T value = support::endian::read<T, llvm::endianness::little>(bytes.data() + pos);
    pos += sizeof(T);
    return value;
  }

  Expected<std::string> readString(const Twine &what) {
    Expected<uint64_t> length = read<uint64_t>(what + " length");
    if (!length)
      return length.takeError();
    if (Error e = need(*length, what + " (" + Twine(*length) + " bytes)"))
      return std::move(e);
    std::string s(reinterpret_cast<const char *>(bytes.data() + pos), *length);
    pos += *length;
    return s;
  }

private:
  ArrayRef<uint8_t> bytes;
  uint64_t fileSize;
  StringRef fileName;
  bool *needMore;
  uint64_t pos = 0;
};

/// Smallest encoded size of one value of `type`, to reject array counts the file cannot hold.
uint64_t minimumValueBytes(GGUFType type) {
  switch (type) {
  case GGUFType::U8: case GGUFType::I8: case GGUFType::Bool: return 1;
  case GGUFType::U16: case GGUFType::I16: return 2;
  case GGUFType::U32: case GGUFType::I32: case GGUFType::F32: return 4;
  case GGUFType::U64: case GGUFType::I64: case GGUFType::F64: case GGUFType::String: return 8;
  case GGUFType::Array: return 12;
  }
  return 1;
}

Expected<GGUFValue> readValue(Cursor &in, GGUFType type, StringRef key, StringRef fileName,
                              unsigned depth) {
  GGUFValue value;
  value.type = type;
  std::string what = ("value of '" + key + "'").str();
  auto setUnsigned = [&](auto v) -> Expected<GGUFValue> {
    if (!v)
      return v.takeError();
    value.scalar = uint64_t(*v);
    return value;
  };
  auto setSigned = [&](auto v) -> Expected<GGUFValue> {
    if (!v)
      return v.takeError();
    value.scalar = int64_t(*v);
    return value;
  };
  switch (type) {
  case GGUFType::U8: return setUnsigned(in.read<uint8_t>(what));
  case GGUFType::U16: return setUnsigned(in.read<uint16_t>(what));
  case GGUFType::U32: return setUnsigned(in.read<uint32_t>(what));
  case GGUFType::U64: return setUnsigned(in.read<uint64_t>(what));
  case GGUFType::I8: return setSigned(in.read<int8_t>(what));
  case GGUFType::I16: return setSigned(in.read<int16_t>(what));
  case GGUFType::I32: return setSigned(in.read<int32_t>(what));
  case GGUFType::I64: return setSigned(in.read<int64_t>(what));
  case GGUFType::F32: {
    Expected<uint32_t> bits = in.read<uint32_t>(what);
    if (!bits)
      return bits.takeError();
    float f;
    std::memcpy(&f, &*bits, 4);
    value.scalar = double(f);
    return value;
  }
  case GGUFType::F64: {
    Expected<uint64_t> bits = in.read<uint64_t>(what);
    if (!bits)
      return bits.takeError();
    double d;
    std::memcpy(&d, &*bits, 8);
    value.scalar = d;
    return value;
  }
  case GGUFType::Bool: {
    Expected<uint8_t> b = in.read<uint8_t>(what);
    if (!b)
      return b.takeError();
    if (*b > 1)
      return fileError(fileName, "metadata '" + key + "': invalid bool " + Twine(*b));
    value.scalar = *b == 1;
    return value;
  }
  case GGUFType::String: {
    Expected<std::string> s = in.readString(what);
    if (!s)
      return s.takeError();
    value.scalar = std::move(*s);
    return value;
  }
  case GGUFType::Array: {
    if (depth >= kMaxGGUFArrayDepth)
      return fileError(fileName, "metadata '" + key + "': arrays nested too deeply");
    Expected<uint32_t> elementType = in.read<uint32_t>(what + " element type");
    if (!elementType)
      return elementType.takeError();
    if (*elementType > uint32_t(GGUFType::F64))
      return fileError(fileName, "metadata '" + key + "': unknown array element type " +
                                     Twine(*elementType));
    Expected<uint64_t> count = in.read<uint64_t>(what + " count");
    if (!count)
      return count.takeError();
    value.elementType = GGUFType(*elementType);
    // Reject a count the bytes cannot hold before reserving for it; count * minBytes may wrap.
    uint64_t minBytes = minimumValueBytes(value.elementType), needed;
    if (*count > in.remaining() / minBytes) {
      if (mulOverflows(*count, minBytes, needed))
        needed = UINT64_MAX;
      if (Error e = in.need(needed, what + " (" + Twine(*count) + " elements)"))
        return std::move(e);
    }
    value.elements.reserve(*count);
    for (uint64_t i = 0; i < *count; ++i) {
      Expected<GGUFValue> element = readValue(in, value.elementType, key, fileName, depth + 1);
      if (!element)
        return element.takeError();
      value.elements.push_back(std::move(*element));
    }
    return value;
  }
  }
  return fileError(fileName, "metadata '" + key + "': unknown value type " +
                                 Twine(uint32_t(type)));
}

} // namespace

Expected<GGUFFile> parseGGUF(ArrayRef<uint8_t> bytes, uint64_t fileSize, StringRef fileName,
                             bool *needMoreBytes) {
  if (needMoreBytes)
    *needMoreBytes = false;
  Cursor in(bytes, fileSize, fileName, needMoreBytes);
  if (bytes.size() < 4 && fileSize >= 4)
    return in.need(4, "magic"); // asks for more bytes
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "GGUF", 4) != 0)
    return fileError(fileName, "not a GGUF file (bad magic)");
  (void)in.read<uint32_t>("magic");
  GGUFFile file;
  Expected<uint32_t> version = in.read<uint32_t>("version");
  if (!version)
    return version.takeError();
  if (*version != 2 && *version != 3)
    return fileError(fileName, "unsupported GGUF version " + Twine(*version) +
                                   " (deltac reads versions 2 and 3)");
  file.version = *version;
  Expected<uint64_t> tensorCount = in.read<uint64_t>("tensor count");
  if (!tensorCount)
    return tensorCount.takeError();
  Expected<uint64_t> metadataCount = in.read<uint64_t>("metadata count");
  if (!metadataCount)
    return metadataCount.takeError();
  if (*tensorCount > kMaxGGUFTensors)
    return fileError(fileName, "absurd tensor count " + Twine(*tensorCount));
  if (*metadataCount > kMaxGGUFMetadata)
    return fileError(fileName, "absurd metadata count " + Twine(*metadataCount));

  for (uint64_t i = 0; i < *metadataCount; ++i) {
    Expected<std::string> key = in.readString("metadata key #" + Twine(i));
    if (!key)
      return key.takeError();
    Expected<uint32_t> type = in.read<uint32_t>("type of '" + *key + "'");
    if (!type)
      return type.takeError();
    if (*type > uint32_t(GGUFType::F64))
      return fileError(fileName, "metadata '" + *key + "': unknown value type " + Twine(*type));
    Expected<GGUFValue> value = readValue(in, GGUFType(*type), *key, fileName, 0);
    if (!value)
      return value.takeError();
    if (!file.metadataIndex.try_emplace(*key, file.metadata.size()).second)
      return fileError(fileName, "duplicate metadata key '" + *key + "'");
    file.metadata.emplace_back(std::move(*key), std::move(*value));
  }
  if (const GGUFValue *alignment = file.find("general.alignment")) {
    std::optional<int64_t> a = alignment->getInteger();
    if (!a || *a <= 0 || *a > 65536 || !isPowerOf2_64(uint64_t(*a)))
      return fileError(fileName, "general.alignment must be a power of two up to 65536");
    file.alignment = uint64_t(*a);
  }

  StringMap<bool> seen;
  for (uint64_t i = 0; i < *tensorCount; ++i) {
    Expected<std::string> name = in.readString("tensor name #" + Twine(i));
    if (!name)
      return name.takeError();
    GGUFTensorInfo info;
    info.name = std::move(*name);
    auto bad = [&](const Twine &why) {
      return fileError(fileName, "tensor '" + info.name + "': " + why);
    };
    if (!seen.try_emplace(info.name, true).second)
      return bad("appears twice");
    Expected<uint32_t> dims = in.read<uint32_t>("dimension count of '" + info.name + "'");
    if (!dims)
      return dims.takeError();
    if (*dims == 0 || *dims > 4)
      return bad(Twine(*dims) + " dimensions (1 to 4 allowed)");
    uint64_t count = 1;
    for (uint32_t d = 0; d < *dims; ++d) {
      Expected<uint64_t> n = in.read<uint64_t>("dimensions of '" + info.name + "'");
      if (!n)
        return n.takeError();
      if (*n == 0 || *n > uint64_t(INT64_MAX) || mulOverflows(count, *n, count))
        return bad("absurd dimension " + Twine(*n));
      info.ne.push_back(int64_t(*n));
    }
    Expected<uint32_t> type = in.read<uint32_t>("type of '" + info.name + "'");
    if (!type)
      return type.takeError();
    std::optional<ggml::TypeTraits> traits = ggml::getTypeTraits(*type);
    if (!traits)
      return bad("unknown ggml type " + Twine(*type));
    info.type = *type;
    std::optional<uint64_t> rowBytes = ggml::rowBytes(*type, info.ne[0]);
    if (!rowBytes && info.ne[0] % traits->blockSize == 0)
      return bad("absurd size");
    if (!rowBytes)
      return bad("row length " + Twine(info.ne[0]) + " is not a multiple of " + traits->name +
                 "'s block size " + Twine(traits->blockSize));
    if (mulOverflows(*rowBytes, count / uint64_t(info.ne[0]), info.bytes))
      return bad("absurd size");
    Expected<uint64_t> offset = in.read<uint64_t>("offset of '" + info.name + "'");
    if (!offset)
      return offset.takeError();
    if (*offset % file.alignment != 0)
      return bad("data offset " + Twine(*offset) + " is not aligned to " + Twine(file.alignment));
    info.offset = *offset; // relative for now
    file.tensors.push_back(std::move(info));
  }

  file.dataOffset = alignTo(in.position(), file.alignment);
  if (file.dataOffset > fileSize)
    return fileError(fileName, "truncated GGUF file: no tensor data after the header");
  uint64_t dataBytes = fileSize - file.dataOffset;
  for (GGUFTensorInfo &info : file.tensors) {
    if (info.offset > dataBytes || info.bytes > dataBytes - info.offset)
      return fileError(fileName, "tensor '" + info.name + "': data at [" + Twine(info.offset) +
                                     ", " + Twine(info.offset + info.bytes) +
                                     ") runs past the end of the file's data (" +
                                     Twine(dataBytes) + " bytes; truncated file?)");
    info.offset += file.dataOffset;
  }
  std::vector<const GGUFTensorInfo *> byOffset;
  for (const GGUFTensorInfo &info : file.tensors)
    byOffset.push_back(&info);
  llvm::sort(byOffset, [](auto *a, auto *b) { return a->offset < b->offset; });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i - 1]->offset + byOffset[i - 1]->bytes > byOffset[i]->offset)
      return fileError(fileName, "tensors '" + byOffset[i - 1]->name + "' and '" +
                                     byOffset[i]->name + "' overlap in the data region");
  return file;
}

Expected<GGUFFile> readGGUF(const InputFile &file) {
  // The header is usually well under a few MB (the tokenizer vocabulary dominates); read a prefix and
  // grow it until the parser has everything it needs.
  uint64_t prefix = std::min<uint64_t>(file.size(), 4u << 20);
  while (true) {
    std::vector<uint8_t> bytes(prefix);
    if (Error e = file.read(0, bytes))
      return std::move(e);
    bool needMore = false;
    Expected<GGUFFile> parsed = parseGGUF(bytes, file.size(), file.path(), &needMore);
    if (parsed || !needMore || prefix == file.size())
      return parsed;
    consumeError(parsed.takeError());
    prefix = std::min<uint64_t>(file.size(), prefix * 4);
  }
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

GGUFValue ggufU32(uint32_t v) {
  GGUFValue value;
  value.type = GGUFType::U32;
  value.scalar = uint64_t(v);
  return value;
}
GGUFValue ggufF32(float v) {
  GGUFValue value;
  value.type = GGUFType::F32;
  value.scalar = double(v);
  return value;
}
GGUFValue ggufBool(bool v) {
  GGUFValue value;
  value.type = GGUFType::Bool;
  value.scalar = v;
  return value;
}
GGUFValue ggufString(StringRef v) {
  GGUFValue value;
  value.type = GGUFType::String;
  value.scalar = v.str();
  return value;
}
GGUFValue ggufArray(GGUFType elementType, std::vector<GGUFValue> elements) {
  GGUFValue value;
  value.type = GGUFType::Array;
  value.elementType = elementType;
  value.elements = std::move(elements);
  return value;
}

namespace {
class ByteSink {
public:
  template <typename T> void put(T v) {
    uint8_t buf[sizeof(T)];
    support::endian::write<T, llvm::endianness::little>(buf, v);
    bytes.insert(bytes.end(), buf, buf + sizeof(T));
  }
  void putString(StringRef s) {
    put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void putValue(const GGUFValue &v) {
    switch (v.type) {
    case GGUFType::U8: put<uint8_t>(uint8_t(std::get<uint64_t>(v.scalar))); break;
    case GGUFType::U16: put<uint16_t>(uint16_t(std::get<uint64_t>(v.scalar))); break;
    case GGUFType::U32: put<uint32_t>(uint32_t(std::get<uint64_t>(v.scalar))); break;
    case GGUFType::U64: put<uint64_t>(std::get<uint64_t>(v.scalar)); break;
    case GGUFType::I8: put<int8_t>(int8_t(std::get<int64_t>(v.scalar))); break;
    case GGUFType::I16: put<int16_t>(int16_t(std::get<int64_t>(v.scalar))); break;
    case GGUFType::I32: put<int32_t>(int32_t(std::get<int64_t>(v.scalar))); break;
    case GGUFType::I64: put<int64_t>(std::get<int64_t>(v.scalar)); break;
    case GGUFType::F32: {
      float f = float(std::get<double>(v.scalar));
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      put<uint32_t>(bits);
      break;
    }
    case GGUFType::F64: {
      double d = std::get<double>(v.scalar);
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      put<uint64_t>(bits);
      break;
    }
    case GGUFType::Bool: put<uint8_t>(std::get<bool>(v.scalar) ? 1 : 0); break;
    case GGUFType::String: putString(std::get<std::string>(v.scalar)); break;
    case GGUFType::Array:
      put<uint32_t>(uint32_t(v.elementType));
      put<uint64_t>(v.elements.size());
      for (const GGUFValue &e : v.elements)
        putValue(e);
      break;
    }
  }
  std::vector<uint8_t> bytes;
};
} // namespace

Expected<std::unique_ptr<GGUFWriter>>
GGUFWriter::create(StringRef path, const std::vector<std::pair<std::string, GGUFValue>> &metadata,
                   std::vector<TensorSpec> tensors) {
  std::unique_ptr<GGUFWriter> writer(new GGUFWriter());
  constexpr uint64_t alignment = 32;
  ByteSink sink;
  sink.bytes.insert(sink.bytes.end(), {'G', 'G', 'U', 'F'});
  sink.put<uint32_t>(3);
  sink.put<uint64_t>(tensors.size());
  sink.put<uint64_t>(metadata.size());
  for (const auto &[key, value] : metadata) {
    sink.putString(key);
    sink.put<uint32_t>(uint32_t(value.type));
    sink.putValue(value);
  }
  uint64_t offset = 0;
  for (const TensorSpec &t : tensors) {
    sink.putString(t.name);
    sink.put<uint32_t>(t.shape.size());
    uint64_t count = 1;
    for (int64_t d : llvm::reverse(t.shape)) {
      sink.put<uint64_t>(uint64_t(d));
      count *= uint64_t(d);
    }
    sink.put<uint32_t>(t.type);
    sink.put<uint64_t>(offset);
    std::optional<uint64_t> row = ggml::rowBytes(t.type, t.shape.back());
    if (!row)
      return fileError(path, "internal error: tensor " + t.name + " does not fit its ggml type");
    uint64_t bytes = *row * (count / uint64_t(t.shape.back()));
    writer->sizes.push_back(bytes);
    offset = alignTo(offset + bytes, alignment);
  }
  sink.bytes.resize(alignTo(sink.bytes.size(), alignment), 0);

  Expected<std::unique_ptr<AtomicOutputFile>> out = AtomicOutputFile::create(path);
  if (!out)
    return out.takeError();
  writer->out = std::move(*out);
  if (Error e = writer->out->append(sink.bytes))
    return std::move(e);
  writer->specs = std::move(tensors);
  return writer;
}

Error GGUFWriter::write(size_t index, ArrayRef<uint8_t> chunk) {
  if (index != current || currentWritten + chunk.size() > sizes[index])
    return fileError(out->path(), "internal error: GGUF tensor data written out of order");
  if (Error e = out->append(chunk))
    return e;
  currentWritten += chunk.size();
  if (currentWritten == sizes[index]) {
    if (index + 1 < sizes.size())
      if (Error e = out->appendZeros(alignTo(sizes[index], 32) - sizes[index]))
        return e;
    ++current;
    currentWritten = 0;
  }
  return Error::success();
}

Error GGUFWriter::finish() {
  if (current != sizes.size())
    return fileError(out->path(), "internal error: GGUF tensor data incomplete");
  return out->commit();
}

} // namespace deltac
