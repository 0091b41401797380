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

/// The GGML type id of a weight-store dtype.
static uint32_t ggmlTypeOf(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_F32: return uint32_t(ggml::GGMLType::F32);
  case DC_WS_F16: return uint32_t(ggml::GGMLType::F16);
  case DC_WS_BF16: return uint32_t(ggml::GGMLType::BF16);
  case DC_WS_Q8_0: return uint32_t(ggml::GGMLType::Q8_0);
  case DC_WS_Q4_0: return uint32_t(ggml::GGMLType::Q4_0);
  case DC_WS_Q4_1: return uint32_t(ggml::GGMLType::Q4_1);
  }
  return uint32_t(ggml::GGMLType::F32);
}

namespace {

/// Copies (or re-encodes) one tensor's pieces into the store through a reused buffer.
class TensorStreamer {
public:
  TensorStreamer(WeightStoreWriter &writer, const ImportOptions &options, uint64_t total)
      : writer(writer), options(options), total(total), buffer(kChunkBytes) {}

  /// Copies the source bytes: the store keeps the tensor as it arrives.
  Error copy(size_t index, const ImportTensor &t) {
    for (const TensorPiece &piece : t.pieces) {
      for (uint64_t done = 0; done < piece.bytes;) {
        uint64_t n = std::min<uint64_t>(kChunkBytes, piece.bytes - done);
        MutableArrayRef<uint8_t> chunk(buffer.data(), n);
        if (Error e = piece.file->read(piece.offset + done, chunk))
          return e;
        if (Error e = writer.write(index, chunk))
          return e;
        done += n;
        report(n, t.spec.name);
      }
    }
    return Error::success();
  }

  /// Re-encodes a tensor row by row: decodes each source row (any GGML type: f32, f16, bf16, blocks,
  /// K-quants) to f32, then encodes it as the store keeps it (a float type or Q8_0/Q4_0/Q4_1 blocks).
  Error transcode(size_t index, const ImportTensor &t, uint32_t sourceType, dc_ws_dtype storeDType) {
    int64_t rowLength = t.spec.shape.back();
    uint64_t rowBytes = *ggml::rowBytes(sourceType, rowLength);
    uint32_t targetType = ggmlTypeOf(storeDType);
    uint64_t outRowBytes = *ggml::rowBytes(targetType, rowLength);
    uint64_t rowsPerChunk = std::max<uint64_t>(1, kChunkBytes / (rowLength * 4));
    std::vector<float> decoded(rowsPerChunk * rowLength);
    std::vector<uint8_t> encoded(rowsPerChunk * rowBytes), out(rowsPerChunk * outRowBytes);
    for (const TensorPiece &piece : t.pieces) {
      uint64_t rows = piece.bytes / rowBytes;
      for (uint64_t row = 0; row < rows;) {
        uint64_t n = std::min(rowsPerChunk, rows - row);
        MutableArrayRef<uint8_t> in(encoded.data(), n * rowBytes);
        if (Error e = piece.file->read(piece.offset + row * rowBytes, in))
          return e;
        for (uint64_t i = 0; i < n; ++i) {
          float *values = decoded.data() + i * rowLength;
          ggml::dequantizeRow(ggml::GGMLType(sourceType), in.data() + i * rowBytes, values,
                              rowLength);
          encodeRow(ggml::GGMLType(targetType), values, out.data() + i * outRowBytes, rowLength);
        }
        if (Error e = writer.write(index, ArrayRef<uint8_t>(out.data(), n * outRowBytes)))
          return e;
        row += n;
        report(n * rowBytes, t.spec.name);
      }
    }
    return Error::success();
  }

private:
  static void encodeRow(ggml::GGMLType type, const float *values, uint8_t *out, int64_t n) {
    switch (type) {
    case ggml::GGMLType::F32:
      std::memcpy(out, values, size_t(n) * 4);
      return;
    case ggml::GGMLType::F16:
    case ggml::GGMLType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h = type == ggml::GGMLType::BF16 ? ggml::floatToBf16(values[i])
                                                  : ggml::floatToFp16(values[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    default:
      ggml::quantizeRow(type, values, out, n);
    }
  }

  void report(uint64_t bytes, StringRef name) {
    done += bytes;
    if (options.progress)
      options.progress(done, total, name);
  }

  WeightStoreWriter &writer;
  const ImportOptions &options;
  uint64_t total, done = 0;
  std::vector<uint8_t> buffer;
};

} // namespace

Expected<ImportResult> importCheckpoint(mlir::MLIRContext &context, const Checkpoint &checkpoint,
                                        const ImportOptions &options) {
  std::vector<StoredTensorSpec> specs;
  StringMap<const ImportTensor *> byName;
  bool tied = checkpoint.config.tieWordEmbeddings;
  auto storeDType = [&](const ImportTensor &t) {
    return options.quant.storeDType(t.spec, t.dtype, tied && t.spec.role == TensorRole::Embedding);
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
    // K-quant sources arrive as blocks the store never keeps; everything else is copied unless the
    // policy asks for another encoding.
    uint32_t sourceType = t.decodeFrom >= 0 ? uint32_t(t.decodeFrom) : ggmlTypeOf(t.dtype);
    bool same = t.decodeFrom < 0 && spec.dtype == t.dtype;
    if (Error e = same ? streamer.copy(index, t)
                       : streamer.transcode(index, t, sourceType, spec.dtype))
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
