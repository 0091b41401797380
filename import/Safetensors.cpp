//===- Safetensors.cpp - read and write safetensors files -----------------===//

#include "import/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

using namespace llvm;

namespace deltac {

StringRef safetensorsDTypeName(SafetensorsDType dtype) {
  switch (dtype) {
  case SafetensorsDType::Bool: return "BOOL";
  case SafetensorsDType::U8: return "U8";
  case SafetensorsDType::I8: return "I8";
  case SafetensorsDType::I16: return "I16";
  case SafetensorsDType::U16: return "U16";
  case SafetensorsDType::F16: return "F16";
  case SafetensorsDType::BF16: return "BF16";
  case SafetensorsDType::I32: return "I32";
  case SafetensorsDType::U32: return "U32";
  case SafetensorsDType::F32: return "F32";
  case SafetensorsDType::F64: return "F64";
  case SafetensorsDType::I64: return "I64";
  case SafetensorsDType::U64: return "U64";
  case SafetensorsDType::F8E4M3: return "F8_E4M3";
  case SafetensorsDType::F8E5M2: return "F8_E5M2";
  }
  return "?";
}

unsigned safetensorsDTypeBytes(SafetensorsDType dtype) {
  switch (dtype) {
  case SafetensorsDType::Bool:
  case SafetensorsDType::U8:
  case SafetensorsDType::I8:
  case SafetensorsDType::F8E4M3:
  case SafetensorsDType::F8E5M2: return 1;
  case SafetensorsDType::I16:
  case SafetensorsDType::U16:
  case SafetensorsDType::F16:
  case SafetensorsDType::BF16: return 2;
  case SafetensorsDType::I32:
  case SafetensorsDType::U32:
  case SafetensorsDType::F32: return 4;
  case SafetensorsDType::F64:
  case SafetensorsDType::I64:
  case SafetensorsDType::U64: return 8;
  }
  return 0;
}

static std::optional<SafetensorsDType> parseDType(StringRef name) {
  return StringSwitch<std::optional<SafetensorsDType>>(name)
      .Case("BOOL", SafetensorsDType::Bool)
      .Case("U8", SafetensorsDType::U8)
      .Case("I8", SafetensorsDType::I8)
      .Case("I16", SafetensorsDType::I16)
      .Case("U16", SafetensorsDType::U16)
      .Case("F16", SafetensorsDType::F16)
      .Case("BF16", SafetensorsDType::BF16)
      .Case("I32", SafetensorsDType::I32)
      .Case("U32", SafetensorsDType::U32)
      .Case("F32", SafetensorsDType::F32)
      .Case("F64", SafetensorsDType::F64)
      .Case("I64", SafetensorsDType::I64)
      .Case("U64", SafetensorsDType::U64)
      .Case("F8_E4M3", SafetensorsDType::F8E4M3)
      .Case("F8_E5M2", SafetensorsDType::F8E5M2)
      .Default(std::nullopt);
}

Expected<std::vector<SafetensorsTensor>> parseSafetensorsHeader(StringRef json, uint64_t dataStart,
                                                                uint64_t dataBytes,
                                                                StringRef fileName) {
  Expected<json::Value> parsed = json::parse(json);
  if (!parsed)
    return fileError(fileName, "invalid JSON in the safetensors header: " +
                                   toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fileError(fileName, "the safetensors header is not a JSON object");

  std::vector<SafetensorsTensor> tensors;
  for (const auto &[key, value] : *root) {
    StringRef name = key;
    if (name == "__metadata__")
      continue;
    auto bad = [&](const Twine &why) {
      return fileError(fileName, "tensor '" + name + "': " + why);
    };
    const json::Object *entry = value.getAsObject();
    if (!entry)
      return bad("entry is not an object");
    std::optional<StringRef> dtypeName = entry->getString("dtype");
    if (!dtypeName)
      return bad("missing dtype");
    std::optional<SafetensorsDType> dtype = parseDType(*dtypeName);
    if (!dtype)
      return bad("unknown dtype '" + *dtypeName + "'");
    const json::Array *shape = entry->getArray("shape");
    const json::Array *offsets = entry->getArray("data_offsets");
    if (!shape)
      return bad("missing shape");
    if (!offsets || offsets->size() != 2)
      return bad("data_offsets must be [begin, end]");

    SafetensorsTensor tensor;
    tensor.name = name.str();
    tensor.dtype = *dtype;
    uint64_t count = 1;
    for (const json::Value &dim : *shape) {
      std::optional<int64_t> d = dim.getAsInteger();
      if (!d || *d < 0)
        return bad("shape entries must be non-negative integers");
      tensor.shape.push_back(*d);
      if (mulOverflows(count, static_cast<uint64_t>(*d), count))
        return bad("absurd shape (element count overflows)");
    }
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin)
      return bad("data_offsets must be non-negative with begin <= end");
    if (static_cast<uint64_t>(*end) > dataBytes)
      return bad("data_offsets [" + Twine(*begin) + ", " + Twine(*end) +
                 "] run past the end of the file's data (" + Twine(dataBytes) + " bytes)");
    uint64_t bytes;
    if (mulOverflows(count, uint64_t(safetensorsDTypeBytes(*dtype)), bytes))
      return bad("absurd shape (byte size overflows)");
    if (bytes != static_cast<uint64_t>(*end - *begin))
      return bad("data_offsets span " + Twine(*end - *begin) + " bytes but shape and dtype need " +
                 Twine(bytes));
    tensor.offset = dataStart + static_cast<uint64_t>(*begin);
    tensor.bytes = bytes;
    tensors.push_back(std::move(tensor));
  }

  // Overlapping data would make two tensors alias each other: a corrupt or malicious file. Empty
  // tensors hold no bytes and are left out, so they cannot separate two overlapping neighbours.
  std::vector<const SafetensorsTensor *> byOffset;
  for (const SafetensorsTensor &t : tensors)
    if (t.bytes != 0)
      byOffset.push_back(&t);
  llvm::sort(byOffset, [](const SafetensorsTensor *a, const SafetensorsTensor *b) {
    return a->offset < b->offset;
  });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const SafetensorsTensor *prev = byOffset[i - 1], *cur = byOffset[i];
    if (prev->offset + prev->bytes > cur->offset)
      return fileError(fileName, "tensors '" + prev->name + "' and '" + cur->name +
                                     "' overlap in the data region");
  }
  return tensors;
}

Expected<std::vector<SafetensorsTensor>> readSafetensorsHeader(const InputFile &file) {
  uint8_t lengthBytes[8];
  if (file.size() < 8)
    return fileError(file.path(), "too short for a safetensors file (" + Twine(file.size()) +
                                      " bytes)");
  if (Error e = file.read(0, lengthBytes))
    return std::move(e);
  uint64_t length = support::endian::read64le(lengthBytes);
  if (length > kMaxSafetensorsHeaderBytes)
    return fileError(file.path(), "absurd safetensors header length " + Twine(length));
  if (length > file.size() - 8)
    return fileError(file.path(), "the safetensors header length " + Twine(length) +
                                      " runs past the end of the file (" + Twine(file.size()) +
                                      " bytes)");
  std::vector<uint8_t> header(length);
  if (Error e = file.read(8, header))
    return std::move(e);
  StringRef json(reinterpret_cast<const char *>(header.data()), header.size());
  return parseSafetensorsHeader(json, 8 + length, file.size() - 8 - length, file.path());
}

Expected<std::unique_ptr<SafetensorsWriter>> SafetensorsWriter::create(StringRef path,
                                                                       std::vector<Spec> tensors) {
  std::unique_ptr<SafetensorsWriter> writer(new SafetensorsWriter());
  json::Object root;
  uint64_t offset = 0;
  for (const Spec &spec : tensors) {
    uint64_t bytes = safetensorsDTypeBytes(spec.dtype);
    json::Array shape;
    for (int64_t d : spec.shape) {
      bytes *= static_cast<uint64_t>(d);
      shape.push_back(d);
    }
    root[spec.name] = json::Object{{"dtype", safetensorsDTypeName(spec.dtype)},
                                   {"shape", std::move(shape)},
                                   {"data_offsets", json::Array{offset, offset + bytes}}};
    writer->sizes.push_back(bytes);
    offset += bytes;
  }
  root["__metadata__"] = json::Object{{"format", "pt"}};
  std::string header = formatv("{0}", json::Value(std::move(root))).str();
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  while ((8 + header.size()) % 8 != 0)
    header.push_back(' ');

  Expected<std::unique_ptr<AtomicOutputFile>> out = AtomicOutputFile::create(path);
  if (!out)
    return out.takeError();
  writer->out = std::move(*out);
  uint8_t length[8];
  support::endian::write64le(length, header.size());
  if (Error e = writer->out->append(length))
    return std::move(e);
  if (Error e = writer->out->append(
          ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(header.data()), header.size())))
    return std::move(e);
  writer->specs = std::move(tensors);
  writer->expectedEnd = writer->out->size() + offset;
  return writer;
}

Error SafetensorsWriter::finish() {
  if (out->size() != expectedEnd)
    return fileError(out->path(), "internal error: tensor data incomplete");
  return out->commit();
}

} // namespace deltac
