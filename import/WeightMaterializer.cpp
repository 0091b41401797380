//===- WeightMaterializer.cpp - write the weight store a module needs -----===//
//
// Every stored weight is produced row by row: a checkpoint tensor is copied when it arrives in the
// declared encoding, and otherwise decoded to f32 and encoded again; a derived weight evaluates its
// WeightDerivation on f32 rows of its sources. Memory stays bounded by one chunk of rows.
//
//===----------------------------------------------------------------------===//

#include "import/WeightMaterializer.h"

#include "dialect/DeltaOps.h"
#include "dialect/DeltaTypes.h"
#include "import/FileIO.h"
#include "import/GGMLQuants.h"
#include "import/WeightStore.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>

using namespace llvm;
using namespace deltac::delta;

namespace deltac {

static constexpr uint64_t kChunkBytes = 16u << 20;

/// The GGML type id of a weight-store dtype (the codecs of GGMLQuants.h work on those).
static uint32_t ggmlTypeOf(dc_ws_dtype dtype) {
  switch (dtype) {
  case DC_WS_F32: return uint32_t(ggml::GGMLType::F32);
  case DC_WS_F16: return uint32_t(ggml::GGMLType::F16);
  case DC_WS_BF16: return uint32_t(ggml::GGMLType::BF16);
  case DC_WS_Q8_0: return uint32_t(ggml::GGMLType::Q8_0);
  case DC_WS_Q4_0: return uint32_t(ggml::GGMLType::Q4_0);
  case DC_WS_Q4_1: return uint32_t(ggml::GGMLType::Q4_1);
  // deltac's own int4 groups have no GGML type; no checkpoint arrives in them.
  case DC_WS_Q4_0_G64:
  case DC_WS_Q4_1_G64:
  case DC_WS_Q4_0_G128:
  case DC_WS_Q4_1_G128:
  case DC_WS_Q8_0_PACKED:
  case DC_WS_Q4_0_PACKED:
  case DC_WS_Q4_0_X8: break;
  }
  return uint32_t(ggml::GGMLType::F32);
}


namespace {

/// A weight seen as rows: [rows, rowLength] with rowLength the last dimension.
struct RowShape {
  int64_t rows, rowLength;
};

RowShape rowShapeOf(WeightOp weight) {
  ArrayRef<int64_t> shape = getWeightShape(weight.getType());
  int64_t rowLength = shape.back(), rows = 1;
  for (int64_t d : shape.drop_back())
    rows *= d;
  return {rows, rowLength};
}

/// Where a tensor's encoded bytes go, in order: the store, or a stage that rearranges them first.
using Sink = function_ref<Error(ArrayRef<uint8_t>)>;

class StoreEmitter {
public:
  StoreEmitter(mlir::ModuleOp module, const Checkpoint &checkpoint,
               const StoreOptions &options, uint64_t total)
      : symbols(module), options(options), total(total) {
    for (const ImportTensor &t : checkpoint.tensors)
      byName[t.spec.name] = &t;
  }

  /// Sends all rows of `weight` to `out`, encoded as `target`.
  Error emit(Sink out, WeightOp weight, dc_ws_dtype target) {
    if (!weight.isDerived()) {
      Expected<const ImportTensor *> t = leaf(weight);
      if (!t)
        return t.takeError();
      return emitTensor(out, **t, target);
    }
    if (*weight.getDerivation() == WeightDerivation::concat_rows) {
      // Each source contributes its own rows: a source already in the target encoding is copied, so
      // merging never rounds a weight twice.
      for (WeightOp source : sources(weight))
        if (Error e = emit(out, source, target))
          return e;
      return Error::success();
    }
    if (*weight.getDerivation() == WeightDerivation::pack)
      return emitPacked(out, weight, target);
    return transcode(out, rowShapeOf(weight), weight.getSymName(), target,
                     [&](int64_t row, int64_t n, float *out) { return readRows(weight, row, n, out); });
  }

  /// Sends checkpoint tensor `t` to `out`: copied when it arrives as `target`.
  Error emitTensor(Sink out, const ImportTensor &t, dc_ws_dtype target) {
    if (t.decodeFrom < 0 && t.dtype == target)
      return copy(out, t);
    int64_t rowLength = t.spec.shape.back();
    int64_t rows = 1;
    for (int64_t d : ArrayRef<int64_t>(t.spec.shape).drop_back())
      rows *= d;
    RowShape shape{rows, rowLength};
    return transcode(out, shape, t.spec.name, target, [&](int64_t row, int64_t n, float *out) {
      return readTensorRows(t, rowLength, row, n, out);
    });
  }

private:
  /// pack(@w): the source's own blocks (copied when they are verbatim), rearranged row by row as
  /// they stream past; no value is decoded, so nothing is rounded.
  Error emitPacked(Sink out, WeightOp weight, dc_ws_dtype target) {
    const RowShape shape = rowShapeOf(weight);
    const uint64_t rowBytes = *storedBytes(target, {shape.rowLength});
    std::vector<uint8_t> pending, packed;
    auto repack = [&](ArrayRef<uint8_t> chunk) -> Error {
      pending.insert(pending.end(), chunk.begin(), chunk.end());
      const uint64_t rows = pending.size() / rowBytes;
      if (rows == 0)
        return Error::success();
      packed.resize(rows * rowBytes);
      packRows(target, pending.data(), packed.data(), int64_t(rows), shape.rowLength);
      pending.erase(pending.begin(), pending.begin() + ptrdiff_t(rows * rowBytes));
      return out(packed);
    };
    if (Error e = emit(repack, sources(weight).front(), *unpackedDType(target)))
      return e;
    if (!pending.empty())
      return createStringError(inconvertibleErrorCode(),
                               "internal error: packing @" + weight.getSymName() +
                                   " left a partial row");
    return Error::success();
  }

  Expected<const ImportTensor *> leaf(WeightOp weight) {
    const ImportTensor *t = byName.lookup(weight.getSymName());
    if (!t)
      return createStringError(inconvertibleErrorCode(),
                               "the checkpoint has no tensor " + weight.getSymName());
    return t;
  }

  static uint32_t sourceType(const ImportTensor &t) {
    return t.decodeFrom >= 0 ? uint32_t(t.decodeFrom) : ggmlTypeOf(t.dtype);
  }

  SmallVector<WeightOp> sources(WeightOp weight) {
    SmallVector<WeightOp> result;
    for (mlir::Attribute a : weight.getSourcesAttr())
      result.push_back(symbols.lookup<WeightOp>(cast<mlir::FlatSymbolRefAttr>(a).getValue()));
    return result;
  }

  /// Reads `bytes` bytes at `offset` of the tensor's concatenated pieces.
  static Error readSource(const ImportTensor &t, uint64_t offset, MutableArrayRef<uint8_t> out) {
    for (const TensorPiece &piece : t.pieces) {
      if (out.empty())
        break;
      if (offset >= piece.bytes) {
        offset -= piece.bytes;
        continue;
      }
      uint64_t n = std::min<uint64_t>(out.size(), piece.bytes - offset);
      if (Error e = piece.file->read(piece.offset + offset, out.take_front(n)))
        return e;
      out = out.drop_front(n);
      offset = 0;
    }
    return Error::success();
  }

  /// Decodes rows [row, row + n) of `weight` to f32.
  Error readRows(WeightOp weight, int64_t row, int64_t n, float *out) {
    RowShape shape = rowShapeOf(weight);
    if (!weight.isDerived()) {
      Expected<const ImportTensor *> t = leaf(weight);
      if (!t)
        return t.takeError();
      return readTensorRows(**t, shape.rowLength, row, n, out);
    }
    SmallVector<WeightOp> from = sources(weight);
    switch (*weight.getDerivation()) {
    case WeightDerivation::concat_rows:
      for (WeightOp source : from) {
        int64_t rows = rowShapeOf(source).rows;
        if (row < rows) {
          int64_t take = std::min(n, rows - row);
          if (Error e = readRows(source, row, take, out))
            return e;
          out += take * shape.rowLength;
          n -= take;
          row = 0;
        } else {
          row -= rows;
        }
        if (n == 0)
          break;
      }
      return Error::success();
    case WeightDerivation::scale_columns:
    case WeightDerivation::scale_columns_one_plus: {
      std::vector<float> scale(shape.rowLength);
      if (Error e = readRows(from[1], 0, 1, scale.data()))
        return e;
      float offset = *weight.getDerivation() == WeightDerivation::scale_columns_one_plus ? 1.0f : 0.0f;
      if (Error e = readRows(from[0], row, n, out))
        return e;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < shape.rowLength; ++k)
          out[i * shape.rowLength + k] *= offset + scale[k];
      return Error::success();
    }
    }
    return Error::success();
  }

  /// Decodes rows [row, row + n) of a checkpoint tensor to f32.
  static Error readTensorRows(const ImportTensor &t, int64_t rowLength, int64_t row, int64_t n,
                              float *out) {
    uint32_t type = sourceType(t);
    uint64_t rowBytes = *ggml::rowBytes(type, rowLength);
    std::vector<uint8_t> raw(size_t(n) * rowBytes);
    if (Error e = readSource(t, uint64_t(row) * rowBytes, raw))
      return e;
    for (int64_t i = 0; i < n; ++i)
      ggml::dequantizeRow(ggml::GGMLType(type), raw.data() + i * rowBytes, out + i * rowLength,
                          rowLength);
    return Error::success();
  }

  /// Copies a checkpoint tensor's bytes unchanged.
  Error copy(Sink out, const ImportTensor &t) {
    std::vector<uint8_t> buffer;
    for (const TensorPiece &piece : t.pieces) {
      for (uint64_t done = 0; done < piece.bytes;) {
        uint64_t n = std::min<uint64_t>(kChunkBytes, piece.bytes - done);
        buffer.resize(n);
        if (Error e = piece.file->read(piece.offset + done, buffer))
          return e;
        if (Error e = out(buffer))
          return e;
        done += n;
        report(n, t.spec.name);
      }
    }
    return Error::success();
  }

  /// Reads rows as f32 a chunk at a time and encodes them as `target`.
  Error transcode(Sink out, RowShape shape, StringRef name, dc_ws_dtype target,
                  function_ref<Error(int64_t, int64_t, float *)> read) {
    uint64_t outRowBytes = *storedBytes(target, {shape.rowLength});
    int64_t chunkRows = std::max<int64_t>(1, kChunkBytes / (shape.rowLength * 4));
    std::vector<float> values;
    std::vector<uint8_t> encoded;
    for (int64_t row = 0; row < shape.rows; row += chunkRows) {
      int64_t n = std::min(chunkRows, shape.rows - row);
      values.resize(size_t(n * shape.rowLength));
      encoded.resize(size_t(n) * outRowBytes);
      if (Error e = read(row, n, values.data()))
        return e;
      for (int64_t i = 0; i < n; ++i)
        encodeRow(target, values.data() + i * shape.rowLength,
                  encoded.data() + i * outRowBytes, shape.rowLength);
      if (Error e = out(encoded))
        return e;
      report(encoded.size(), name);
    }
    return Error::success();
  }

  void report(uint64_t bytes, StringRef name) {
    done += bytes;
    if (options.progress)
      options.progress(done, total, name);
  }

  mlir::SymbolTable symbols;
  StringMap<const ImportTensor *> byName;
  const StoreOptions &options;
  uint64_t total, done = 0;
};

} // namespace

Expected<StoreSummary> writeWeightStore(mlir::ModuleOp module, const Checkpoint &checkpoint,
                                        const StoreOptions &options) {
  // The store holds what the functions read: a weight only a derivation names is an input of the
  // computation, not an output.
  StringSet<> referenced;
  module.walk([&](WeightRefOp ref) { referenced.insert(ref.getName()); });
  mlir::SymbolTable symbols(module);
  std::vector<StoredTensorSpec> specs;
  for (WeightOp weight : module.getOps<WeightOp>()) {
    if (!referenced.contains(weight.getSymName()))
      continue;
    std::optional<dc_ws_dtype> dtype = getStoreDType(weight.getType());
    if (!dtype) {
      std::string type;
      raw_string_ostream(type) << weight.getType();
      return createStringError(inconvertibleErrorCode(), "internal error: weight @" +
                                                             weight.getSymName() + " has type " +
                                                             type + ", which no store encoding holds");
    }
    ArrayRef<int64_t> shape = getWeightShape(weight.getType());
    specs.push_back({weight.getSymName().str(), *dtype, SmallVector<int64_t, 4>(shape)});
  }
  StringMap<const ImportTensor *> extra;
  if (options.keepUnreferenced) {
    bool tied = checkpoint.config.tieWordEmbeddings;
    for (const ImportTensor &t : checkpoint.tensors) {
      if (referenced.contains(t.spec.name))
        continue;
      dc_ws_dtype dtype = options.keepUnreferenced->storeDType(
          t.spec, t.dtype, tied && t.spec.role == TensorRole::Embedding);
      specs.push_back({t.spec.name, dtype, t.spec.shape});
      extra[t.spec.name] = &t;
    }
  }
  uint64_t total = 0;
  for (const StoredTensorSpec &spec : specs)
    total += storedBytes(spec.dtype, spec.shape).value_or(0);
  Expected<std::unique_ptr<WeightStoreWriter>> writer =
      WeightStoreWriter::create(options.storePath, std::move(specs));
  if (!writer)
    return writer.takeError();

  StoreEmitter emitter(module, checkpoint, options, total);
  StoreSummary summary;
  for (auto [index, spec] : llvm::enumerate((*writer)->tensors())) {
    const ImportTensor *t = extra.lookup(spec.name);
    auto toStore = [&, index = index](ArrayRef<uint8_t> chunk) {
      return (*writer)->write(index, chunk);
    };
    Error e = t ? emitter.emitTensor(toStore, *t, spec.dtype)
                : emitter.emit(toStore, symbols.lookup<WeightOp>(spec.name), spec.dtype);
    if (e)
      return std::move(e);
    summary.storeBytes += (*writer)->tensorBytes(index);
  }
  summary.tensorCount = (*writer)->tensors().size();
  Expected<uint64_t> fingerprint = (*writer)->finish();
  if (!fingerprint)
    return fingerprint.takeError();
  summary.fingerprint = *fingerprint;

  mlir::Builder b(module.getContext());
  char hex[19];
  snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)*fingerprint);
  module->setAttr("delta.weight_store",
                  b.getDictionaryAttr({b.getNamedAttr("path", b.getStringAttr(options.storePathInIR)),
                                       b.getNamedAttr("fingerprint", b.getStringAttr(hex))}));
  return summary;
}

} // namespace deltac
