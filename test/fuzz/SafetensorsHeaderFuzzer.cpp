//===- SafetensorsHeaderFuzzer.cpp - libFuzzer target: safetensors headers ===//
//
// Feeds arbitrary bytes to parseSafetensorsHeader as the header JSON and checks that every header
// it accepts describes tensors that fit the data region exactly and do not overlap. The same bytes
// are also parsed as a config.json (parseHFConfig), and an accepted config must give a tensor
// catalog of positive shapes.
//
// Input layout: the header JSON, optionally followed by a NUL byte and up to 8 bytes holding the
// data region's size (little-endian). Without the NUL the data region is 64 bytes per header byte.
//
//===----------------------------------------------------------------------===//

#include "import/ModelConfig.h"
#include "import/Safetensors.h"
#include "import/TensorCatalog.h"

#include "llvm/ADT/STLExtras.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace deltac;

static void check(bool condition, const char *what) {
  if (!condition) {
    std::fprintf(stderr, "SafetensorsHeaderFuzzer: invariant violated: %s\n", what);
    std::abort();
  }
}

static void checkHeader(llvm::StringRef json, uint64_t dataBytes) {
  uint64_t dataStart = 8 + json.size();
  llvm::Expected<std::vector<SafetensorsTensor>> tensors =
      parseSafetensorsHeader(json, dataStart, dataBytes, "fuzz.safetensors");
  if (!tensors) {
    std::string message = llvm::toString(tensors.takeError());
    check(llvm::StringRef(message).starts_with("fuzz.safetensors: "), "error names the file");
    return;
  }
  std::vector<const SafetensorsTensor *> nonEmpty;
  for (const SafetensorsTensor &t : *tensors) {
    uint64_t bytes = safetensorsDTypeBytes(t.dtype);
    for (int64_t d : t.shape) {
      check(d >= 0, "non-negative dimensions");
      check(!mulOverflows(bytes, uint64_t(d), bytes), "byte size fits 64 bits");
    }
    check(bytes == t.bytes, "byte size is shape x dtype");
    check(t.offset >= dataStart, "data starts after the header");
    check(t.offset - dataStart <= dataBytes && t.bytes <= dataBytes - (t.offset - dataStart),
          "data inside the data region");
    if (t.bytes != 0)
      nonEmpty.push_back(&t);
  }
  llvm::sort(nonEmpty, [](auto *a, auto *b) { return a->offset < b->offset; });
  for (size_t i = 1; i < nonEmpty.size(); ++i)
    check(nonEmpty[i - 1]->offset + nonEmpty[i - 1]->bytes <= nonEmpty[i]->offset,
          "tensors do not overlap");
}

static void checkConfig(llvm::StringRef json) {
  llvm::Expected<ModelConfig> config = parseHFConfig(json, "config.json");
  if (!config) {
    std::string message = llvm::toString(config.takeError());
    check(llvm::StringRef(message).starts_with("config.json: "), "error names the file");
    return;
  }
  check(int64_t(config->fullAttention.size()) == config->numLayers, "one layer type per layer");
  for (bool withMTP : {false, true})
    for (const CatalogTensor &t : catalogTensors(*config, DecayStorage::ALog, withMTP))
      for (int64_t d : t.shape)
        check(d > 0, "catalog shapes are positive");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef input(reinterpret_cast<const char *>(data), size);
  size_t nul = input.find('\0');
  llvm::StringRef json = input.take_front(nul);
  uint64_t dataBytes = uint64_t(json.size()) * 64;
  if (nul != llvm::StringRef::npos) {
    llvm::StringRef sizeBytes = input.drop_front(nul + 1).take_front(8);
    dataBytes = 0;
    std::memcpy(&dataBytes, sizeBytes.data(), sizeBytes.size()); // little-endian hosts
  }
  checkHeader(json, dataBytes);
  checkConfig(json);
  return 0;
}
