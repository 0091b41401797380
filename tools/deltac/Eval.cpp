//===- Eval.cpp - `deltac eval`: a quantized build against the f32 build --===//

#include "Eval.h"

#include "codegen/TargetInfo.h"
#include "import/FileIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace llvm;

namespace deltac {
namespace {

/// Runs `binary` on `tokens` (no generation) and returns the logits of every position. `emulator`
/// (TargetInfo::emulator) is the command line that runs the target's executables here, if any.
Expected<std::vector<float>> promptLogits(StringRef binary, StringRef emulator,
                                          const std::vector<int32_t> &tokens, StringRef dumpPath) {
  std::string list;
  for (int32_t t : tokens)
    list += (list.empty() ? "" : ",") + std::to_string(t);
  SmallVector<StringRef> words;
  emulator.split(words, ' ', -1, /*KeepEmpty=*/false);
  std::vector<StringRef> argv(words.begin(), words.end());
  for (StringRef arg : {binary, StringRef("--tokens"), StringRef(list), StringRef("-n"),
                        StringRef("0"), StringRef("--dump-logits"), dumpPath})
    argv.push_back(arg);
  std::string program = binary.str();
  if (!words.empty()) {
    ErrorOr<std::string> found = sys::findProgramByName(words.front());
    if (!found)
      return createStringError(inconvertibleErrorCode(),
                               "cannot find " + words.front() + ", which runs " + binary +
                                   " on this machine");
    program = *found;
  }
  // The binary's statistics and errors go to a log next to the dump; an error quotes its last line.
  std::string log = (dumpPath + ".log").str();
  std::optional<StringRef> redirects[] = {StringRef(""), StringRef(""), StringRef(log)};
  std::string message;
  int status = sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0, 0, &message);
  if (status != 0) {
    if (ErrorOr<std::unique_ptr<MemoryBuffer>> text = MemoryBuffer::getFile(log))
      message = (*text)->getBuffer().trim().rsplit('\n').second.str();
    return fileError(binary, "exited with " + Twine(status) + (message.empty() ? "" : ": " + message));
  }
  ErrorOr<std::unique_ptr<MemoryBuffer>> dump = MemoryBuffer::getFile(dumpPath);
  if (!dump)
    return fileError(dumpPath, "cannot read the logits: " + dump.getError().message());
  std::vector<float> logits((*dump)->getBufferSize() / 4);
  std::memcpy(logits.data(), (*dump)->getBufferStart(), logits.size() * 4);
  return logits;
}

struct Metrics {
  double klSum = 0;
  int64_t positions = 0, agree = 0;
  double maxLogitError = 0;
};

void accumulateMetrics(ArrayRef<float> reference, ArrayRef<float> candidate, int64_t vocab, Metrics &m) {
  for (size_t row = 0; row * vocab < reference.size(); ++row) {
    ArrayRef<float> p = reference.slice(row * vocab, vocab), q = candidate.slice(row * vocab, vocab);
    double pMax = *std::max_element(p.begin(), p.end()), qMax = *std::max_element(q.begin(), q.end());
    double pSum = 0, qSum = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      pSum += std::exp(p[v] - pMax);
      qSum += std::exp(q[v] - qMax);
    }
    double pLog = pMax + std::log(pSum), qLog = qMax + std::log(qSum), kl = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      double lp = p[v] - pLog, lq = q[v] - qLog;
      kl += std::exp(lp) * (lp - lq);
      m.maxLogitError = std::max(m.maxLogitError, std::abs(double(p[v]) - double(q[v])));
    }
    m.klSum += kl;
    m.agree += std::max_element(p.begin(), p.end()) - p.begin() ==
               std::max_element(q.begin(), q.end()) - q.begin();
    ++m.positions;
  }
}

} // namespace

Error evaluateQuantization(const EvalOptions &options) {
  if (std::error_code ec = sys::fs::create_directories(options.workDir))
    return fileError(options.workDir, "cannot create directory: " + ec.message());
  auto path = [&](StringRef name) {
    SmallString<256> p(options.workDir);
    sys::path::append(p, name);
    return std::string(p);
  };
  CompileOptions reference = options.compile;
  reference.dtype = "f32";
  reference.quant.clear();
  reference.quantAsym = false;
  reference.actQuant = "none";
  reference.recurrentStateType = "f32";
  reference.kvCacheType = "f32";
  for (std::string &c : reference.quantClass)
    c.clear();
  reference.output = path("f32");
  reference.embedWeights = false;
  CompileOptions candidate = options.compile;
  candidate.output = path("quant");
  candidate.embedWeights = false;
  Expected<TargetInfo> target = lookupTarget(options.compile.target);
  if (!target)
    return target.takeError();
  const std::string &emulator = target->emulator;
  if (Error e = compileModel(reference))
    return e;
  if (Error e = compileModel(candidate))
    return e;

  // Fixed pseudo-random prompts (a linear congruential generator), the same for every build.
  Metrics m;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  int64_t vocab = 0;
  for (int64_t prompt = 0; prompt < options.prompts; ++prompt) {
    std::vector<int32_t> tokens;
    for (int64_t i = 0; i < options.promptTokens; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      tokens.push_back(int32_t(state >> 33));
    }
    // Token ids must be inside the vocabulary: read it from a first run on token 0.
    if (vocab == 0) {
      auto probe = promptLogits(reference.output, emulator, {0}, path("probe.bin"));
      if (!probe)
        return probe.takeError();
      vocab = int64_t(probe->size());
    }
    for (int32_t &t : tokens)
      t = int32_t(uint32_t(t) % uint32_t(vocab));
    auto want = promptLogits(reference.output, emulator, tokens, path("f32.bin"));
    if (!want)
      return want.takeError();
    auto got = promptLogits(candidate.output, emulator, tokens, path("quant.bin"));
    if (!got)
      return got.takeError();
    if (want->size() != got->size())
      return createStringError(inconvertibleErrorCode(), "the two builds disagree on the vocabulary");
    accumulateMetrics(*want, *got, vocab, m);
  }
  double meanKL = m.klSum / double(m.positions), top1 = double(m.agree) / double(m.positions);
  std::string scheme = options.compile.quant.empty() ? options.compile.dtype : options.compile.quant;
  if (options.compile.quantAsym)
    scheme += "-asym";
  if (options.compile.actQuant != "none")
    scheme += "+act-" + options.compile.actQuant;
  if (options.compile.recurrentStateType != "f32")
    scheme += "+state-" + options.compile.recurrentStateType;
  if (options.compile.kvCacheType != "f32")
    scheme += "+kv-" + options.compile.kvCacheType;
  if (options.json)
    outs() << formatv("{{\"scheme\": \"{0}\", \"positions\": {1}, \"mean_kl\": {2:e}, "
                      "\"top1_agreement\": {3:f4}, \"max_logit_error\": {4:e}}\n",
                      scheme, m.positions, meanKL, top1, m.maxLogitError);
  else
    outs() << formatv("scheme {0}: {1} positions, mean KL {2:e}, top-1 agreement {3:f2}%, "
                      "max logit error {4:e}\n",
                      scheme, m.positions, meanKL, 100 * top1, m.maxLogitError);
  return Error::success();
}

} // namespace deltac
