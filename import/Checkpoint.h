//===- Checkpoint.h - open a checkpoint and resolve its tensors -*- C++ -*-===//
//
// Opening a checkpoint reads only headers: the config (config.json or GGUF metadata) and every tensor's
// name, dtype, shape and byte range. It then maps the format's tensors onto the canonical catalog
// (TensorCatalog.h), so each canonical tensor becomes a list of byte ranges ("pieces") in the source
// files. The data is read later, streamed, by the importer.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_CHECKPOINT_H
#define DELTAC_IMPORT_CHECKPOINT_H

#include "import/FileIO.h"
#include "import/ModelConfig.h"
#include "import/TensorCatalog.h"

#include "deltac/weight_store.h"

#include <memory>
#include <vector>

namespace deltac {

/// A contiguous byte range of a source file.
struct TensorPiece {
  const InputFile *file;
  uint64_t offset;
  uint64_t bytes;
};

/// A canonical tensor and where its bytes come from.
struct ImportTensor {
  CatalogTensor spec;
  dc_ws_dtype dtype;               ///< how the weight store keeps it
  std::vector<TensorPiece> pieces; ///< concatenated, the tensor's source bytes
  /// A GGML type id whose blocks are decoded to f32 on the way (GGUF K-quants), or -1 to copy bytes.
  int64_t decodeFrom = -1;
};

enum class CheckpointFormat { HuggingFace, GGUF };

struct Checkpoint {
  CheckpointFormat format;
  std::string path;
  ModelConfig config;
  /// Facts about the stored values that the IR must reflect (spec §5.4):
  DecayStorage decay;   ///< A_log (HF) or -exp(A_log) (GGUF)
  bool normsStoreOnePlus; ///< zero-centred norm weights already hold 1 + w (GGUF)
  bool tiledValueHeads; ///< value heads in h mod nk order (GGUF qwen35/qwen35moe with nv != nk)
  bool hasMTP = false;
  std::vector<std::unique_ptr<InputFile>> files;
  std::vector<ImportTensor> tensors;
  /// One-line notices for the user (skipped vision tower, decoded K-quants).
  std::vector<std::string> notices;

  uint64_t sourceBytes() const;
};

/// Opens a Hugging Face directory or a GGUF file. Every problem (missing file, bad config, truncated or
/// corrupt header, unsupported architecture or dtype, missing, duplicate, unexpected or misshapen
/// tensors) is one error naming the file.
llvm::Expected<Checkpoint> openCheckpoint(llvm::StringRef path);

} // namespace deltac

#endif // DELTAC_IMPORT_CHECKPOINT_H
