//===- dc-tokenize.cpp - drive deltac's tokenizer for the parity test -----===//
//
//   dc-tokenize CHECKPOINT SAMPLES.json [--bench N]
//
// Builds the tokenizer blob of CHECKPOINT (a Hugging Face directory or a GGUF file) with
// readTokenizer, opens it with dc_tokenizer_open, and for every string of the JSON array in
// SAMPLES.json prints one JSON object per line:
//   {"ids": encode(parse_special=1), "ids_plain": encode(parse_special=0),
//    "decoded": decode(ids, skip_special=0), "decoded_skip": decode(ids, skip_special=1)}
// --bench N: encodes all samples N more times and prints the throughput on stderr.
//
//===----------------------------------------------------------------------===//

#include "import/TokenizerImport.h"

#include "deltac/tokenizer.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

using namespace llvm;

namespace {

int fail(const Twine &message) {
  errs() << "dc-tokenize: " << message << "\n";
  return 1;
}

/// Takes ownership of `status`; true if it was an error (printed).
bool failed(dc_status *status, StringRef what) {
  if (!status)
    return false;
  errs() << "dc-tokenize: " << what << ": " << dc_status_message(status) << "\n";
  dc_status_free(status);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 5 && StringRef(argv[3]) == "--bench"))
    return fail("usage: dc-tokenize CHECKPOINT SAMPLES.json [--bench N]");
  int benchRounds = argc == 5 ? std::atoi(argv[4]) : 0;

  Expected<std::optional<std::vector<uint8_t>>> blob = deltac::readTokenizer(argv[1]);
  if (!blob)
    return fail(toString(blob.takeError()));
  if (!*blob)
    return fail(Twine(argv[1]) + ": the checkpoint has no tokenizer");
  ErrorOr<std::unique_ptr<MemoryBuffer>> text = MemoryBuffer::getFile(argv[2]);
  if (!text)
    return fail(Twine(argv[2]) + ": " + text.getError().message());
  Expected<json::Value> parsed = json::parse((*text)->getBuffer());
  if (!parsed)
    return fail(Twine(argv[2]) + ": " + toString(parsed.takeError()));
  std::vector<std::string> samples;
  if (const json::Array *array = parsed->getAsArray())
    for (const json::Value &v : *array)
      if (std::optional<StringRef> s = v.getAsString())
        samples.push_back(s->str());
  if (!parsed->getAsArray() || samples.size() != parsed->getAsArray()->size())
    return fail(Twine(argv[2]) + ": not a JSON array of strings");

  dc_tokenizer *tokenizer = nullptr;
  if (failed(dc_tokenizer_open((*blob)->data(), (*blob)->size(), &tokenizer), "open"))
    return 1;

  for (const std::string &sample : samples) {
    json::Object out;
    int32_t *ids = nullptr;
    size_t count = 0;
    for (int parse = 1; parse >= 0; --parse) {
      int32_t *encoded;
      size_t n;
      if (failed(dc_tokenizer_encode(tokenizer, sample.data(), sample.size(), parse, &encoded,
                                     &n),
                 "encode"))
        return 1;
      out[parse ? "ids" : "ids_plain"] = json::Array(std::vector<int64_t>(encoded, encoded + n));
      if (parse) {
        ids = encoded;
        count = n;
      } else {
        std::free(encoded);
      }
    }
    for (int skip = 0; skip <= 1; ++skip) {
      char *decoded;
      if (failed(dc_tokenizer_decode(tokenizer, ids, count, skip, &decoded), "decode"))
        return 1;
      out[skip ? "decoded_skip" : "decoded"] = std::string(decoded);
      std::free(decoded);
    }
    std::free(ids);
    outs() << json::Value(std::move(out)) << "\n";
  }

  if (benchRounds > 0) {
    size_t bytes = 0, tokens = 0;
    auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < benchRounds; ++round)
      for (const std::string &sample : samples) {
        int32_t *encoded;
        size_t n;
        if (failed(dc_tokenizer_encode(tokenizer, sample.data(), sample.size(), 1, &encoded, &n),
                   "encode"))
          return 1;
        std::free(encoded);
        bytes += sample.size();
        tokens += n;
      }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    errs() << formatv("bench: {0} bytes, {1} tokens in {2:f3} s: {3:f2} MB/s, {4:f2} Mtokens/s\n",
                      bytes, tokens, seconds, bytes / seconds / 1e6, tokens / seconds / 1e6);
  }
  dc_tokenizer_close(tokenizer);
  return 0;
}
