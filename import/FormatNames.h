//===- FormatNames.h - checkpoint-format tensor names -----------*- C++ -*-===//

#ifndef DELTAC_IMPORT_FORMATNAMES_H
#define DELTAC_IMPORT_FORMATNAMES_H

#include "import/ModelConfig.h"

#include <string>

namespace deltac {

/// The GGUF tensor name of canonical tensor `name` (llama.cpp's converter naming, spec §5.3).
std::string ggufTensorName(const ModelConfig &config, llvm::StringRef name);

/// The prefix Hugging Face puts before the text model's tensors in published checkpoints:
/// "model.language_model." for the Qwen3.5 VLM wrappers, "model." for Qwen3-Next. Text-only
/// *ForCausalLM checkpoints use "model." for every architecture.
llvm::StringRef defaultHFPrefix(const ModelConfig &config);

/// The Hugging Face tensor name of canonical tensor `name`, before any fusion: `prefix` before the main
/// model's tensors, nothing before lm_head and mtp.
std::string hfTensorName(llvm::StringRef prefix, llvm::StringRef name);

} // namespace deltac

#endif // DELTAC_IMPORT_FORMATNAMES_H
