//===- Importer.cpp - checkpoint to IR + weight store ---------------------===//

#include "import/Importer.h"

#include "import/GGMLQuants.h"
#include "import/ModelBuilder.h"
#include "import/WeightStore.h"

#include "llvm/ADT/StringMap.h"

using namespace llvm;

namespace deltac {

static constexpr uint64_t kChunkBytes = 16u << 20;

namespace {

/// Copies (or decodes) one tensor's pieces into the store through a reused buffer.
class TensorStreamer {
public:
  TensorStreamer(WeightStoreWriter &writer, const ImportOptions &options, uint64_t total)
      : writer(writer), options(options), total(total), buffer(kChunkBytes) {}

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
  for (const ImportTensor &t : checkpoint.tensors) {
    specs.push_back({t.spec.name, t.dtype, t.spec.shape});
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
    if (Error e = t.decodeFrom >= 0 ? streamer.decode(index, t) : streamer.copy(index, t))
      return std::move(e);
    model.weights.push_back({spec.name, spec.dtype, spec.shape});
  }
  Expected<uint64_t> fingerprint = (*writer)->finish();
  if (!fingerprint)
    return fingerprint.takeError();

  ImportResult result;
  result.fingerprint = model.fingerprint = *fingerprint;
  result.tensorCount = model.weights.size();
  for (const ImportTensor &t : checkpoint.tensors)
    result.storeBytes += storedBytes(t.dtype, t.spec.shape).value_or(0);
  result.module = buildModelModule(context, model);
  return result;
}

} // namespace deltac
