//===- TensorCatalog.h - the tensors a model needs, by canonical name -----===//
//
// deltac names weights by their Hugging Face text-model names without the wrapper prefix
// ("layers.0.linear_attn.in_proj_qkv.weight", "embed_tokens.weight"); both importers map their format's
// names onto these and the IR's weight symbols use them. Fused Hugging Face tensors (Qwen3-Next's
// in_proj_qkvz and in_proj_ba, fused expert gate_up_proj) are split into the canonical ones, and expert
// weights are stacked [E, rows, cols].
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_TENSORCATALOG_H
#define DELTAC_IMPORT_TENSORCATALOG_H

#include "import/ModelConfig.h"

#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace deltac {

/// What a weight is, which decides how it is synthesized and which quantization class it falls in.
enum class TensorRole {
  Embedding,   ///< [V, H] token embedding
  LMHead,      ///< [V, H] untied output projection
  Linear,      ///< [out, in] projection
  Experts,     ///< [E, out, in] stacked expert projections
  CenteredNorm,///< zero-centred RMSNorm weight (applied as 1 + w)
  PlainNorm,   ///< plain RMSNorm weight (the gated norm)
  Conv,        ///< [C, K] depthwise conv taps
  DecayLog,    ///< A_log [nv]
  DecayNegExp, ///< -exp(A_log) [nv], GGUF's ssm_a
  DtBias,      ///< dt_bias [nv]
};

struct CatalogTensor {
  std::string name;
  llvm::SmallVector<int64_t, 4> shape;
  TensorRole role;
  bool mtp = false; ///< part of the multi-token-prediction block
};

/// How a checkpoint format stores the delta-rule decay: A_log (Hugging Face) or -exp(A_log) (GGUF).
enum class DecayStorage { ALog, NegExp };

/// Every tensor of `config` in canonical form. MTP tensors are included when `withMTP`.
std::vector<CatalogTensor> catalogTensors(const ModelConfig &config, DecayStorage decay,
                                          bool withMTP);

/// Canonical name of the decay tensor of layer `layer`.
std::string decayTensorName(int64_t layer, DecayStorage decay);

} // namespace deltac

#endif // DELTAC_IMPORT_TENSORCATALOG_H
