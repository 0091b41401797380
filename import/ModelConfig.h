//===- ModelConfig.h - hyperparameters of an imported model -----*- C++ -*-===//
//
// One struct describes every supported architecture (spec §1). It is read from a Hugging Face
// config.json or from GGUF metadata, validated once, and then drives the expected tensor list, the IR
// builder and the checkpoint synthesizer.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_MODELCONFIG_H
#define DELTAC_IMPORT_MODELCONFIG_H

#include "import/GGUF.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace deltac {

enum class ModelArch { Qwen35, Qwen35MoE, Qwen3Next };

/// "qwen3_5", "qwen3_5_moe" or "qwen3_next" (the Hugging Face model_type of the text model family).
llvm::StringRef archName(ModelArch arch);
/// The GGUF general.architecture string: "qwen35", "qwen35moe" or "qwen3next".
llvm::StringRef ggufArchName(ModelArch arch);

struct ModelConfig {
  ModelArch arch = ModelArch::Qwen35;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t intermediateSize = 0; ///< dense MLP (0 for MoE models)
  int64_t vocabSize = 0;
  // Gated attention.
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;
  int64_t rotaryDim = 0;
  double ropeTheta = 0;
  llvm::SmallVector<int64_t, 3> mropeSections; ///< empty: plain partial RoPE
  // Gated DeltaNet.
  int64_t numKeyHeads = 0;
  int64_t numValueHeads = 0;
  int64_t keyHeadDim = 0;
  int64_t valueHeadDim = 0;
  int64_t convKernel = 0;
  double rmsNormEps = 0;
  bool tieWordEmbeddings = false;
  std::vector<bool> fullAttention; ///< per layer: gated attention (true) or Gated DeltaNet
  // Mixture of experts (numExperts == 0 for dense models).
  int64_t numExperts = 0;
  int64_t numExpertsPerToken = 0;
  int64_t expertIntermediateSize = 0;
  int64_t sharedExpertIntermediateSize = 0;
  bool normTopKProb = true;
  int64_t mtpLayers = 0;

  bool isMoE() const { return numExperts > 0; }
  int64_t keyDim() const { return numKeyHeads * keyHeadDim; }
  int64_t valueDim() const { return numValueHeads * valueHeadDim; }
  int64_t convDim() const { return 2 * keyDim() + valueDim(); }

  /// Checks the cross-field rules (head counts divide, rotary dim fits, layer list length, ...); the
  /// error names `source`.
  llvm::Error validate(llvm::StringRef source) const;
};

/// Reads a Hugging Face config.json (model_type qwen3_5 with text_config, qwen3_5_text, qwen3_5_moe,
/// qwen3_5_moe_text, qwen3_next). Errors name `fileName` and the offending key.
llvm::Expected<ModelConfig> parseHFConfig(llvm::StringRef jsonText, llvm::StringRef fileName);

/// Reads the model hyperparameters from GGUF metadata (architectures qwen35, qwen35moe, qwen3next).
/// The vocabulary size comes from the token embedding's shape.
llvm::Expected<ModelConfig> configFromGGUF(const GGUFFile &file, llvm::StringRef fileName);

/// The config.json a Hugging Face checkpoint of this model carries (what `deltac synth` writes).
std::string toHFConfigJSON(const ModelConfig &config);

/// The GGUF metadata of this model as llama.cpp's converter writes it.
std::vector<std::pair<std::string, GGUFValue>> toGGUFMetadata(const ModelConfig &config);

/// The configuration of a synthesized model: size "tiny", "0.8b", "2b", "4b" or "9b" for Qwen3.5;
/// "tiny" for the MoE architectures. `layers`/`vocab` override the depth and vocabulary when positive.
llvm::Expected<ModelConfig> syntheticConfig(llvm::StringRef size, ModelArch arch, int64_t layers,
                                            int64_t vocab);

} // namespace deltac

#endif // DELTAC_IMPORT_MODELCONFIG_H
