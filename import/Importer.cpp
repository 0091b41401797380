//===- Importer.cpp - checkpoint to IR + weight store ---------------------===//

#include "import/Importer.h"

#include "import/GGMLQuants.h"
#include "import/ModelBuilder.h"
#include "import/WeightStore.h"

#include "llvm/ADT/StringMap.h"

#include <cstring>

using namespace llvm;

namespace deltac {

static constexpr uint64_t kChunkBytes = 16u << 20;

namespace {

/// Copies (or decodes) one tensor's pieces into the store through a reused buffer.
class TensorStreamer {
public:
  TensorStreamer(WeightStoreWriter &writer, const ImportOptions &options, uint64_t total)
      : writer(writer), options(options), total(total), buffer(kChunkBytes) {}

  /// Copies the source bytes, converting float elements when the store keeps another dtype.
  Error copy(size_t index, const ImportTensor &t, dc_ws_dtype storeDType) {
    for (const TensorPiece &piece : t.pieces) {
      for (uint64_t done = 0; done < piece.bytes;) {
        uint64_t n = std::min<uint64_t>(kChunkBytes, piece.bytes - done);
        MutableArrayRef<uint8_t> chunk(buffer.data(), n);
        if (Error e = piece.file->read(piece.offset + done, chunk))
          return e;
        ArrayRef<uint8_t> out = chunk;
        if (storeDType != t.dtype)
          out = convert(chunk, t.dtype, storeDType);
        if (Error e = writer.write(index, out))
          return e;
        done += n;
        report(n, t.spec.name);
      }
    }
    return Error::success();
  }

  /// Decodes GGML blocks row by row to f32 (the K-quants); rows never straddle a chunk.
  Error decode(size_t index, const ImportTensor &t) {
    auto type = static_cast<ggml::GGMLType>(t.decodeFrom);
    int64_t rowLength = t.spec.shape.back();
    uint64_t rowBytes = *ggml::rowBytes(uint32_t(t.decodeFrom), rowLength);
    uint64_t rowsPerChunk = std::max<uint64_t>(1, kChunkBytes / (rowLength * 4));
    std::vector<float> decoded(rowsPerChunk * rowLength);
    std::vector<uint8_t> encoded(rowsPerChunk * rowBytes);
    for (const TensorPiece &piece : t.pieces) {
      uint64_t rows = piece.bytes / rowBytes;
      for (uint64_t row = 0; row < rows;) {
        uint64_t n = std::min(rowsPerChunk, rows - row);
        MutableArrayRef<uint8_t> in(encoded.data(), n * rowBytes);
        if (Error e = piece.file->read(piece.offset + row * rowBytes, in))
          return e;
        for (uint64_t i = 0; i < n; ++i)
          ggml::dequantizeRow(type, in.data() + i * rowBytes, decoded.data() + i * rowLength,
                              rowLength);
        if (Error e = writer.write(index, ArrayRef<uint8_t>(
                                              reinterpret_cast<const uint8_t *>(decoded.data()),
                                              n * rowLength * 4)))
          return e;
        row += n;
        report(n * rowBytes, t.spec.name);
      }
    }
    return Error::success();
  }

private:
  static float loadFloat(const uint8_t *p, dc_ws_dtype dtype) {
    if (dtype == DC_WS_F32) {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    uint16_t h;
    std::memcpy(&h, p, 2);
    return dtype == DC_WS_BF16 ? ggml::bf16ToFloat(h) : ggml::fp16ToFloat(h);
  }

  /// Converts a chunk of whole elements between the float dtypes (f16/bf16 -> f32 is exact; f32 ->
  /// bf16 rounds to nearest even).
  ArrayRef<uint8_t> convert(ArrayRef<uint8_t> in, dc_ws_dtype from, dc_ws_dtype to) {
    size_t inBytes = from == DC_WS_F32 ? 4 : 2, outBytes = to == DC_WS_F32 ? 4 : 2;
    size_t count = in.size() / inBytes;
    converted.resize(count * outBytes);
    for (size_t i = 0; i < count; ++i) {
      float f = loadFloat(in.data() + i * inBytes, from);
      if (to == DC_WS_F32) {
        std::memcpy(converted.data() + 4 * i, &f, 4);
      } else {
        uint16_t h = to == DC_WS_BF16 ? ggml::floatToBf16(f) : ggml::floatToFp16(f);
        std::memcpy(converted.data() + 2 * i, &h, 2);
      }
    }
    return converted;
  }

  void report(uint64_t bytes, StringRef name) {
    done += bytes;
    if (options.progress)
      options.progress(done, total, name);
  }

  WeightStoreWriter &writer;
  const ImportOptions &options;
  uint64_t total, done = 0;
  std::vector<uint8_t> buffer, converted;
};

} // namespace

Expected<ImportResult> importCheckpoint(mlir::MLIRContext &context, const Checkpoint &checkpoint,
                                        const ImportOptions &options) {
  std::vector<StoredTensorSpec> specs;
  StringMap<const ImportTensor *> byName;
  auto storeDType = [&](const ImportTensor &t) {
    bool isFloat = t.dtype == DC_WS_F32 || t.dtype == DC_WS_F16 || t.dtype == DC_WS_BF16;
    return isFloat && options.floatDType >= 0 ? dc_ws_dtype(options.floatDType) : t.dtype;
  };
  for (const ImportTensor &t : checkpoint.tensors) {
    specs.push_back({t.spec.name, storeDType(t), t.spec.shape});
    byName[t.spec.name] = &t;
  }
  Expected<std::unique_ptr<WeightStoreWriter>> writer =
      WeightStoreWriter::create(options.storePath, std::move(specs));
  if (!writer)
    return writer.takeError();

  TensorStreamer streamer(**writer, options, checkpoint.sourceBytes());
  ModelDescription model;
  model.config = checkpoint.config;
  model.decay = checkpoint.decay;
  model.normsStoreOnePlus = checkpoint.normsStoreOnePlus;
  model.tiledValueHeads = checkpoint.tiledValueHeads;
  model.storePath = options.storePathInIR;
  model.maxContext = options.maxContext;
  // The store orders tensors by name; stream them in that order (sources are read by position).
  for (auto [index, spec] : llvm::enumerate((*writer)->tensors())) {
    const ImportTensor &t = *byName.lookup(spec.name);
    if (Error e = t.decodeFrom >= 0 ? streamer.decode(index, t)
                                     : streamer.copy(index, t, spec.dtype))
      return std::move(e);
    model.weights.push_back({spec.name, spec.dtype, spec.shape});
  }
  Expected<uint64_t> fingerprint = (*writer)->finish();
  if (!fingerprint)
    return fingerprint.takeError();

  ImportResult result;
  result.fingerprint = model.fingerprint = *fingerprint;
  result.tensorCount = model.weights.size();
  for (const StoredTensorSpec &spec : (*writer)->tensors())
    result.storeBytes += storedBytes(spec.dtype, spec.shape).value_or(0);
  result.module = buildModelModule(context, model);
  return result;
}

} // namespace deltac
