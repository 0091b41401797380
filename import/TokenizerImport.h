//===- TokenizerImport.h - a checkpoint's tokenizer as a runtime blob ----*- C++ -*-===//
//
// Reads the byte-level BPE tokenizer of a Qwen checkpoint (a Hugging Face tokenizer.json, or the
// tokenizer.ggml.* metadata of a GGUF file) and writes it as the tokenizer blob the C runtime opens
// with dc_tokenizer_open (deltac/tokenizer.h). The blob's layout, the supported pre-tokenizers and
// what is refused are in docs/tokenizer.md.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_TOKENIZERIMPORT_H
#define DELTAC_IMPORT_TOKENIZERIMPORT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace deltac {

/// The tokenizer of the checkpoint at `checkpointPath` (a Hugging Face directory with
/// tokenizer.json, or a GGUF file with tokenizer.ggml.* metadata) as a runtime blob
/// (docs/tokenizer.md); std::nullopt when the checkpoint carries none (no tokenizer.json; GGUF
/// without tokenizer.ggml.tokens or with tokenizer.ggml.model "no_vocab"). Every problem (bad
/// JSON, unsupported model type / pre-tokenizer / normalizer, merge naming an unknown token,
/// duplicate ids, ...) is one error naming the file.
llvm::Expected<std::optional<std::vector<uint8_t>>> readTokenizer(llvm::StringRef checkpointPath);

/// The number of token ids (1 + the largest) a blob from readTokenizer covers.
uint32_t tokenizerVocabSize(llvm::ArrayRef<uint8_t> blob);

/// The Split pre-tokenizer regexes deltac implements, as tokenizer.json writes them.
extern const char kQwen2PretokenizerRegex[];
extern const char kQwen35PretokenizerRegex[];

} // namespace deltac

#endif // DELTAC_IMPORT_TOKENIZERIMPORT_H
