//===- FormatNames.h - checkpoint-format tensor names -----------*- C++ -*-===//

#ifndef DELTAC_IMPORT_FORMATNAMES_H
#define DELTAC_IMPORT_FORMATNAMES_H

#include "import/ModelConfig.h"

#include <string>

namespace deltac {

/// The GGUF tensor name of canonical tensor `name` (llama.cpp's converter naming, spec §5.3).
std::string ggufTensorName(const ModelConfig &config, llvm::StringRef name);

/// The Hugging Face tensor name of canonical tensor `name`, before any fusion: the wrapper prefix
/// ("model.language_model." for Qwen3.5, "model." for Qwen3-Next) for the main model, none for lm_head
/// and mtp.
std::string hfTensorName(const ModelConfig &config, llvm::StringRef name);

} // namespace deltac

#endif // DELTAC_IMPORT_FORMATNAMES_H
