//===- TokenizerFuzzer.cpp - libFuzzer target: the runtime tokenizer ------===//
//
// The first input byte picks what the rest is:
//   0  text for the tiny fixture tokenizer (test/fixtures/tokenizer_tiny): encoding either fails
//      cleanly (invalid UTF-8) or gives ids inside the vocabulary; ASCII text (which NFC leaves
//      alone) decodes back to itself, with and without special-token parsing.
//   1  edits to that tokenizer's blob, as (offset lo, offset hi, value) triples: a corrupted blob
//      is refused or opens into a tokenizer that encodes and decodes without faults.
//   2  a whole blob as raw bytes, the same way.
// The tokenizer's C files are compiled into the fuzzer with the sanitizers (CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#include "import/TokenizerImport.h"

#include "deltac/tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void check(bool condition, const char *what) {
  if (!condition) {
    std::fprintf(stderr, "TokenizerFuzzer: invariant violated: %s\n", what);
    std::abort();
  }
}

const std::vector<uint8_t> &tinyBlob() {
  static const std::vector<uint8_t> blob = [] {
    auto read = deltac::readTokenizer(DELTAC_TINY_TOKENIZER_DIR);
    if (!read || !*read) {
      std::fprintf(stderr, "TokenizerFuzzer: cannot read %s\n", DELTAC_TINY_TOKENIZER_DIR);
      std::abort();
    }
    return **read;
  }();
  return blob;
}

/// Encodes `text`; on success checks the ids and returns the decoded text through `decoded`.
bool roundTrip(const dc_tokenizer *tokenizer, const std::string &text, int parseSpecial,
               std::string *decoded) {
  int32_t *ids = nullptr;
  size_t count = 0;
  if (dc_status *status =
          dc_tokenizer_encode(tokenizer, text.data(), text.size(), parseSpecial, &ids, &count)) {
    check(dc_status_message(status)[0] != '\0', "an error has a message");
    dc_status_free(status);
    return false;
  }
  const int32_t vocab = dc_tokenizer_vocab_size(tokenizer);
  for (size_t i = 0; i < count; ++i) {
    check(ids[i] >= 0 && ids[i] < vocab, "ids inside the vocabulary");
    size_t length = 0;
    check(dc_tokenizer_token_bytes(tokenizer, ids[i], &length) != nullptr, "ids have bytes");
  }
  char *out = nullptr;
  dc_status *status = dc_tokenizer_decode(tokenizer, ids, count, 0, &out);
  std::free(ids);
  check(status == nullptr, "encoded ids decode");
  *decoded = out;
  std::free(out);
  return true;
}

/// Opens `blob`; if it is accepted, the tokenizer must run on a few texts without faults.
void exerciseBlob(const std::vector<uint8_t> &blob) {
  dc_tokenizer *tokenizer = nullptr;
  if (dc_status *status = dc_tokenizer_open(blob.data(), blob.size(), &tokenizer)) {
    dc_status_free(status);
    return;
  }
  for (const char *text : {"Hello world, it's 2026!", "<|im_start|>user\n\xe6\x9d\xb1 caf\xc3\xa9",
                           "  \t\r\n  x", ""}) {
    std::string decoded;
    roundTrip(tokenizer, text, 1, &decoded);
    roundTrip(tokenizer, text, 0, &decoded);
  }
  for (int32_t id = -1; id <= dc_tokenizer_vocab_size(tokenizer); ++id) {
    size_t length = 0;
    (void)dc_tokenizer_token_bytes(tokenizer, id, &length);
    (void)dc_tokenizer_is_special(tokenizer, id);
  }
  dc_tokenizer_close(tokenizer);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t mode = data[0] % 3;
  ++data;
  --size;
  if (mode == 0) {
    dc_tokenizer *tokenizer = nullptr;
    check(dc_tokenizer_open(tinyBlob().data(), tinyBlob().size(), &tokenizer) == nullptr,
          "the fixture's blob opens");
    std::string text(reinterpret_cast<const char *>(data), size);
    bool ascii = true;
    for (unsigned char c : text)
      ascii &= c < 0x80 && c != 0;
    for (int parseSpecial : {0, 1}) {
      std::string decoded;
      bool ok = roundTrip(tokenizer, text, parseSpecial, &decoded);
      if (ascii) {
        check(ok, "ASCII text encodes");
        check(decoded == text, "ASCII text decodes back to itself");
      }
    }
    dc_tokenizer_close(tokenizer);
  } else if (mode == 1) {
    std::vector<uint8_t> blob = tinyBlob();
    for (size_t i = 0; i + 3 <= size; i += 3)
      blob[(data[i] | size_t(data[i + 1]) << 8) % blob.size()] = data[i + 2];
    exerciseBlob(blob);
  } else {
    exerciseBlob(std::vector<uint8_t>(data, data + size));
  }
  return 0;
}
