//===- Synth.h - synthesize random checkpoints at real shapes ---*- C++ -*-===//
//
// `deltac synth` writes a Hugging Face directory or a GGUF file with the real tensor names, shapes and
// layouts of a model size, filled with deterministic pseudo-random values. Every value is a function of
// (seed, canonical tensor, element index), so the HF and GGUF forms of one seed hold the same model
// (after the GGUF converter's transforms), whatever order the writer visits them in, and any size is
// written in bounded memory.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_SYNTH_H
#define DELTAC_IMPORT_SYNTH_H

#include "import/ModelConfig.h"
#include "import/TensorCatalog.h"

#include <functional>

namespace deltac {

struct SynthOptions {
  std::string output;        ///< HF: a directory (created); GGUF: a file
  bool gguf = false;
  ModelConfig config;
  uint64_t seed = 0;
  /// Element type of the matrices: "bf16" (default), "f16", "f32"; GGUF also "q8_0", "q4_0".
  std::string dtype = "bf16";
  bool withMTP = true;
  /// HF: split into model-0000i-of-0000N.safetensors shards above this size.
  uint64_t maxShardBytes = 4ull << 30;
  std::function<void(uint64_t, uint64_t, llvm::StringRef)> progress;
};

llvm::Error synthesizeCheckpoint(const SynthOptions &options);

/// The synthesized value of element `index` of canonical tensor `name` (before bf16 rounding and
/// before any format transform). Exposed for tests.
float synthValue(uint64_t seed, llvm::StringRef name, uint64_t index, TensorRole role);

} // namespace deltac

#endif // DELTAC_IMPORT_SYNTH_H
