//===- GGUFFuzzer.cpp - libFuzzer target: GGUF files -----------------------===//
//
// Feeds arbitrary bytes to parseGGUF as a whole file and checks that every file it accepts has
// tensors of the right byte size, aligned, inside the data region and not overlapping. Parsing only
// a prefix (as readGGUF first does) must either give the same result or ask for more bytes, never
// fail a file the whole parse accepts. Accepted files also go through configFromGGUF, and an
// accepted config must give a tensor catalog of positive shapes.
//
//===----------------------------------------------------------------------===//

#include "import/GGMLQuants.h"
#include "import/GGUF.h"
#include "import/ModelConfig.h"
#include "import/TensorCatalog.h"

#include "llvm/ADT/STLExtras.h"

#include <cstdio>
#include <cstdlib>

using namespace deltac;

static void check(bool condition, const char *what) {
  if (!condition) {
    std::fprintf(stderr, "GGUFFuzzer: invariant violated: %s\n", what);
    std::abort();
  }
}

static void checkFile(const GGUFFile &file, uint64_t fileSize) {
  check(file.dataOffset % file.alignment == 0 && file.dataOffset <= fileSize,
        "data region aligned and inside the file");
  std::vector<const GGUFTensorInfo *> byOffset;
  for (const GGUFTensorInfo &t : file.tensors) {
    check(!t.ne.empty() && t.ne.size() <= 4, "1 to 4 dimensions");
    uint64_t rows = 1;
    for (size_t i = 1; i < t.ne.size(); ++i)
      check(!mulOverflows(rows, uint64_t(t.ne[i]), rows), "row count fits 64 bits");
    std::optional<uint64_t> rowBytes = ggml::rowBytes(t.type, t.ne[0]);
    uint64_t bytes;
    check(rowBytes && !mulOverflows(*rowBytes, rows, bytes) && bytes == t.bytes,
          "byte size matches dims and type");
    check(t.offset >= file.dataOffset && (t.offset - file.dataOffset) % file.alignment == 0,
          "data aligned inside the data region");
    check(t.offset <= fileSize && t.bytes <= fileSize - t.offset, "data inside the file");
    byOffset.push_back(&t);
  }
  llvm::sort(byOffset, [](auto *a, auto *b) { return a->offset < b->offset; });
  for (size_t i = 1; i < byOffset.size(); ++i)
    check(byOffset[i - 1]->offset + byOffset[i - 1]->bytes <= byOffset[i]->offset,
          "tensors do not overlap");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::ArrayRef<uint8_t> bytes(data, size);
  llvm::Expected<GGUFFile> whole = parseGGUF(bytes, size, "fuzz.gguf");
  bool accepted = bool(whole);
  if (!whole) {
    std::string message = llvm::toString(whole.takeError());
    check(llvm::StringRef(message).starts_with("fuzz.gguf: "), "error names the file");
  }

  // A prefix (its length taken from the input) must not turn an accepted file into an error.
  size_t prefixSize = size == 0 ? 0 : data[size - 1] * size / 256;
  bool needMore = false;
  llvm::Expected<GGUFFile> prefix =
      parseGGUF(bytes.take_front(prefixSize), size, "fuzz.gguf", &needMore);
  if (prefix) {
    check(accepted, "a prefix accepts only what the whole file accepts");
    check(prefix->tensors.size() == whole->tensors.size() &&
              prefix->metadata.size() == whole->metadata.size() &&
              prefix->dataOffset == whole->dataOffset,
          "a prefix parses the same header");
  } else {
    llvm::consumeError(prefix.takeError());
    check(!accepted || needMore, "a prefix too short for an accepted file asks for more");
  }
  if (!accepted)
    return 0;

  checkFile(*whole, size);
  llvm::Expected<ModelConfig> config = configFromGGUF(*whole, "fuzz.gguf");
  if (!config) {
    std::string message = llvm::toString(config.takeError());
    check(llvm::StringRef(message).starts_with("fuzz.gguf: "), "error names the file");
    return 0;
  }
  check(int64_t(config->fullAttention.size()) == config->numLayers, "one layer type per layer");
  for (bool withMTP : {false, true})
    for (const CatalogTensor &t : catalogTensors(*config, DecayStorage::NegExp, withMTP))
      for (int64_t d : t.shape)
        check(d > 0, "catalog shapes are positive");
  return 0;
}
