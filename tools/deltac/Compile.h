//===- Compile.h - the `deltac compile` pipeline ----------------*- C++ -*-===//

#ifndef DELTAC_TOOLS_COMPILE_H
#define DELTAC_TOOLS_COMPILE_H

#include "import/QuantPolicy.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace deltac {

struct TargetInfo;

struct CompileOptions {
  std::string input;        ///< HF directory or GGUF file
  std::string output;       ///< the artifact --emit asks for
  std::string target = "host";
  std::string emit = "exe"; ///< mlir | kernels | llvm | obj | exe | lib
  std::string dtype = "f32"; ///< f32 | bf16: how float weights are stored (GGML blocks stay)
  std::string quant;         ///< --quant: scheme of every projection (import/QuantPolicy.h)
  bool quantAsym = false;    ///< int4 with a per-group min
  std::string actQuant = "none"; ///< --act-quant: none | int8 (integer dot products)
  /// --recurrent-state-type: f32 | f16, the delta-rule state's storage (docs/design/compile.md)
  std::string recurrentStateType = "f32";
  /// --kv-cache-type: f32 | f16, the attention layers' KV cache storage (docs/design/compile.md)
  std::string kvCacheType = "f32";
  /// --quant-embedding, --quant-lm-head, --quant-deltanet, --quant-attention, --quant-mlp
  std::string quantClass[5];
  std::string dumpPhasesTo; ///< keep every phase's artifact in this directory
  int64_t maxContext = 4096;
  int64_t maxTokens = 0;    ///< largest prefill step; 0: min(512, maxContext)
  bool embedWeights = false; ///< carry the weight store inside the executable
  bool embedTokenizer = true; ///< carry the checkpoint's tokenizer (if it has one) inside it
  bool specializeKernels = true; ///< rebuild the kernels with the model's sizes as constants
  /// Graph optimizations to leave out (--disable-pass): names from graphOptimizationNames(), or "all".
  std::vector<std::string> disabledPasses;
  /// --prefill-logits: "all" (one row per prompt token) or "last" (the next token's only).
  std::string prefillLogits = "all";
  bool progress = true;
};

/// The optional graph optimizations, in pipeline order, by the names --disable-pass takes.
llvm::ArrayRef<const char *> graphOptimizationNames();

/// The weight-encoding policy the options ask for.
llvm::Expected<QuantPolicy> quantPolicy(const CompileOptions &options);

/// Runs import, the graph passes, lowering to kernel calls, LLVM IR, object emission and linking,
/// stopping after `emit`. The weight store is written next to the output (OUTPUT.dcw). `lib` writes
/// a static library, its C header and the store instead of an executable (docs/design/compile.md,
/// "Libraries"). Shows the phases as they run when `progress` is set, and prints a summary with the
/// files written and the time of each phase to stderr. On failure, removes what it wrote.
llvm::Error compileModel(const CompileOptions &options);

/// Success if this deltac has every library an executable for `target` links (the prebuilt kernels
/// included), else the error `deltac compile` would give.
llvm::Error checkTargetLibraries(const TargetInfo &target);

} // namespace deltac

#endif // DELTAC_TOOLS_COMPILE_H
