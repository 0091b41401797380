//===- deltac.cpp - the deltac driver -------------------------------------===//
//
// deltac import   checkpoint (HF directory or GGUF file) -> delta-dialect IR + weight store
// deltac synth    random-weight checkpoint with the real names and shapes of a model size
// deltac inspect  summary of a weight store or a checkpoint
//
// Thin: every command is a call into the import library. Errors are one line, "deltac: error: ...",
// naming the file and the problem, with exit status 1; outputs are written atomically.
//
//===----------------------------------------------------------------------===//

#include "Compile.h"
#include "Eval.h"
#include "Progress.h"
#include "Targets.h"

#include "dialect/DeltaDialect.h"
#include "import/Checkpoint.h"
#include "import/Importer.h"
#include "import/Synth.h"
#include "import/WeightMaterializer.h"
#include "import/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;
using namespace deltac;

namespace {

cl::SubCommand importCmd("import", "Import a Hugging Face directory or GGUF file");
cl::SubCommand synthCmd("synth", "Synthesize a random-weight checkpoint at real shapes");
cl::SubCommand inspectCmd("inspect", "Summarize a weight store (.dcw) or a checkpoint");
cl::SubCommand compileCmd("compile",
                          "Compile a checkpoint into an executable (or a library) for a target");
cl::SubCommand evalCmd("eval", "Compare a quantized build of a model with its f32 build");
cl::SubCommand targetsCmd("targets",
                          "List the targets, their CPU features, and which run on this machine");

cl::OptionCategory category("deltac options");

// import
cl::opt<std::string> importInput(cl::Positional, cl::desc("<HF directory | file.gguf>"),
                                 cl::Required, cl::sub(importCmd), cl::cat(category));
cl::opt<std::string> importOutput("o", cl::desc("Output IR file (.mlir)"), cl::Required,
                                  cl::value_desc("file"), cl::sub(importCmd), cl::cat(category));
cl::opt<std::string> importWeights("weights",
                                   cl::desc("Weight store to write (default: the IR path with .dcw)"),
                                   cl::value_desc("file"), cl::sub(importCmd), cl::cat(category));
cl::opt<int64_t> importMaxContext("max-context", cl::desc("KV cache length in tokens"),
                                  cl::init(4096), cl::sub(importCmd), cl::cat(category));

// synth
cl::opt<std::string> synthSize("size", cl::desc("tiny, 0.8b, 2b, 4b or 9b"), cl::init("tiny"),
                               cl::sub(synthCmd), cl::cat(category));
cl::opt<std::string> synthFormat("format", cl::desc("hf or gguf"), cl::init("hf"),
                                 cl::sub(synthCmd), cl::cat(category));
cl::opt<std::string> synthArch("arch", cl::desc("qwen3_5 (default), qwen3_5_moe or qwen3_next"),
                               cl::init("qwen3_5"), cl::sub(synthCmd), cl::cat(category));
cl::opt<std::string> synthOutput("o", cl::desc("Output directory (hf) or file (gguf)"),
                                 cl::Required, cl::sub(synthCmd), cl::cat(category));
cl::opt<uint64_t> synthSeed("seed", cl::desc("Random seed"), cl::init(0), cl::sub(synthCmd),
                            cl::cat(category));
cl::opt<int64_t> synthLayers("layers", cl::desc("Override the layer count"), cl::init(0),
                             cl::sub(synthCmd), cl::cat(category));
cl::opt<int64_t> synthVocab("vocab", cl::desc("Override the vocabulary size"), cl::init(0),
                            cl::sub(synthCmd), cl::cat(category));
cl::opt<std::string> synthDType("dtype",
                                cl::desc("Matrix element type: bf16, f16, f32 (gguf: q8_0, q4_0)"),
                                cl::init("bf16"), cl::sub(synthCmd), cl::cat(category));
cl::opt<bool> synthNoMTP("no-mtp", cl::desc("Leave out the MTP block"), cl::sub(synthCmd),
                         cl::cat(category));
cl::opt<uint64_t> synthShardBytes("max-shard-bytes",
                                  cl::desc("Split HF weights into shards above this size"),
                                  cl::init(4ull << 30), cl::sub(synthCmd), cl::cat(category));

// compile
cl::opt<std::string> compileInput(cl::Positional, cl::desc("<HF directory | file.gguf>"),
                                  cl::Required, cl::sub(compileCmd), cl::cat(category));
cl::opt<std::string> compileOutput("o",
                                   cl::desc("Output file (the executable, or the --emit artifact); "
                                            "--emit=lib: DIR/NAME, writing DIR/libNAME.a, "
                                            "DIR/NAME.h, DIR/deltac/runtime.h, DIR/NAME.dcw"),
                                   cl::Required, cl::value_desc("file"), cl::sub(compileCmd),
                                   cl::cat(category));
cl::opt<std::string>
    compileTarget("target",
                  cl::desc("host, x86-64-avx2, x86-64-avxvnni, x86-64-avx512, x86-64-avx512-vnni, "
                           "x86-64-amx, arm64, arm64-dotprod or arm64-i8mm"),
                  cl::init("host"), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> compileEmit("emit",
                                 cl::desc("Stop after a phase: mlir, kernels, llvm, obj, exe; or lib "
                                          "(a static library and a C header, no main)"),
                                 cl::init("exe"), cl::sub(compileCmd), cl::cat(category));
cl::opt<std::string> compileDType("dtype", cl::desc("Float weights in the executable: f32 or bf16"),
                                  cl::init("f32"), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> compileQuant(
    "quant", cl::desc("Projection weights: f32, bf16, int8, int4-g32, int4-g64 or int4-g128"),
    cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<bool> compileQuantAsym("quant-asym", cl::desc("int4 with a per-group minimum"),
                               cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> compileActQuant(
    "act-quant",
    cl::desc("Activations of the quantized linears and LM head: none, or int8 (integer dot "
             "products)"),
    cl::init("none"), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> compileRecurrentState(
    "recurrent-state-type",
    cl::desc("Storage of the Gated DeltaNet recurrent state: f32, or f16 (half the state traffic "
             "of a decode step; computed in f32, rounded to f16 once per call)"),
    cl::init("f32"), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> compileKVCacheType(
    "kv-cache-type",
    cl::desc("Storage of the attention layers' KV cache: f32, or f16 (half its memory and of the "
             "bytes attention reads; keys and values rounded to f16 as they are stored)"),
    cl::init("f32"), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> quantEmbedding("quant-embedding", cl::desc("Scheme of the token embedding"),
                                    cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> quantLMHead("quant-lm-head",
                                 cl::desc("Scheme of the LM head (of the embedding when tied)"),
                                 cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> quantDeltaNet("quant-deltanet",
                                   cl::desc("Scheme of the Gated DeltaNet projections"),
                                   cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> quantAttention("quant-attention",
                                    cl::desc("Scheme of the attention projections"),
                                    cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> quantMLP("quant-mlp", cl::desc("Scheme of the MLP and expert projections"),
                              cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<bool> compileNoSpecialize(
    "no-specialize-kernels",
    cl::desc("Link the prebuilt generic kernels instead of rebuilding them for the model's sizes"),
    cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::list<std::string> compileDisablePasses(
    "disable-pass",
    cl::desc("Leave out a graph optimization: fold-norm-scales, merge-linears, fuse-elementwise, "
             "remove-dead-work, pack-weights, or all (repeatable, comma-separated)"),
    cl::CommaSeparated, cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> compilePrefillLogits(
    "prefill-logits",
    cl::desc("Logits a prefill returns: all (every prompt position, the default) or last (the next "
             "token's only: faster, for generation)"),
    cl::init("all"), cl::sub(compileCmd), cl::cat(category));
cl::opt<bool> compileNoTokenizer(
    "no-tokenizer",
    cl::desc("Leave the checkpoint's tokenizer out (the executable then takes --tokens only)"),
    cl::sub(compileCmd), cl::cat(category));
cl::opt<bool> compileEmbed("embed-weights",
                           cl::desc("Put the weights inside the executable or library (no .dcw file)"),
                           cl::sub(compileCmd), cl::cat(category));
cl::opt<std::string> compileDump("dump-phases-to", cl::desc("Keep every phase's artifact here"),
                                 cl::value_desc("dir"), cl::sub(compileCmd), cl::cat(category));
cl::opt<int64_t> compileMaxContext("max-context", cl::desc("KV cache length in tokens"),
                                   cl::init(4096), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));
cl::opt<int64_t> compileMaxTokens("max-tokens",
                                  cl::desc("Largest prefill step in tokens (default 512)"),
                                  cl::init(0), cl::sub(compileCmd), cl::sub(evalCmd), cl::cat(category));

// eval (plus the compile options it shares)
cl::opt<std::string> evalInput(cl::Positional, cl::desc("<HF directory | file.gguf>"), cl::Required,
                               cl::sub(evalCmd), cl::cat(category));
cl::opt<std::string> evalDir("o", cl::desc("Directory for the two builds"), cl::Required,
                             cl::value_desc("dir"), cl::sub(evalCmd), cl::cat(category));
cl::opt<int64_t> evalPrompts("prompts", cl::desc("Number of prompts"), cl::init(4),
                             cl::sub(evalCmd), cl::cat(category));
cl::opt<int64_t> evalPromptTokens("prompt-tokens", cl::desc("Tokens per prompt"), cl::init(64),
                                  cl::sub(evalCmd), cl::cat(category));
cl::opt<bool> evalJson("json", cl::desc("Print one JSON object"), cl::sub(evalCmd),
                       cl::cat(category));

// inspect
cl::opt<std::string> inspectInput(cl::Positional, cl::desc("<file.dcw | HF directory | file.gguf>"),
                                  cl::Required, cl::sub(inspectCmd), cl::cat(category));

// shared
cl::opt<bool> noProgress("no-progress", cl::desc("Do not draw a progress line"),
                         cl::sub(cl::SubCommand::getAll()), cl::cat(category));

int fail(Error error) {
  errs() << "deltac: error: " << toString(std::move(error)) << "\n";
  return 1;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string mib(uint64_t bytes) { return formatv("{0:f1} MiB", double(bytes) / (1 << 20)).str(); }

int runImport() {
  auto start = std::chrono::steady_clock::now();
  Expected<Checkpoint> checkpoint = openCheckpoint(importInput);
  if (!checkpoint)
    return fail(checkpoint.takeError());
  for (const std::string &notice : checkpoint->notices)
    errs() << "deltac: note: " << importInput << ": " << notice << "\n";
  if (importMaxContext < 1 || importMaxContext > (1 << 22))
    return fail(createStringError(inconvertibleErrorCode(),
                                  "--max-context must be between 1 and 4194304"));

  std::string storePath = importWeights;
  if (storePath.empty()) {
    SmallString<256> p(importOutput);
    sys::path::replace_extension(p, "dcw");
    storePath = std::string(p);
  }
  // The IR names the store relative to itself when they share a directory.
  std::string storeInIR = sys::path::parent_path(storePath) == sys::path::parent_path(importOutput)
                              ? sys::path::filename(storePath).str()
                              : storePath;

  ProgressLine progress("import", !noProgress);
  ImportOptions options;
  options.maxContext = importMaxContext;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module = importCheckpoint(context, *checkpoint, options);
  StoreOptions storeOptions;
  storeOptions.storePath = storePath;
  storeOptions.storePathInIR = storeInIR;
  storeOptions.keepUnreferenced = options.quant; // the whole checkpoint, MTP weights included
  storeOptions.progress = [&](uint64_t done, uint64_t total, StringRef item) {
    progress.update(done, total, item);
  };
  Expected<StoreSummary> result = writeWeightStore(*module, *checkpoint, storeOptions);
  progress.finish();
  if (!result)
    return fail(result.takeError());
  // The store is complete and in place; a failure from here on removes it, so a failed import
  // leaves neither output behind.
  scope_exit removeStore([&] { sys::fs::remove(storePath); });
  if (failed(mlir::verify(*module)))
    return fail(fileError(importInput, "internal error: the imported module does not verify"));
  std::string text;
  raw_string_ostream os(text);
  module->print(os);
  if (Error e = writeFileAtomically(importOutput, text))
    return fail(std::move(e));
  removeStore.release();
  errs() << formatv("deltac: imported {0} tensors ({1}) from {2} into {3} and {4} in {5:f1} s\n",
                    result->tensorCount, mib(result->storeBytes), importInput, importOutput,
                    storePath, secondsSince(start));
  return 0;
}

int runSynth() {
  auto start = std::chrono::steady_clock::now();
  ModelArch arch;
  if (synthArch == "qwen3_5")
    arch = ModelArch::Qwen35;
  else if (synthArch == "qwen3_5_moe")
    arch = ModelArch::Qwen35MoE;
  else if (synthArch == "qwen3_next")
    arch = ModelArch::Qwen3Next;
  else
    return fail(createStringError(inconvertibleErrorCode(),
                                  "synth: unknown --arch '" + synthArch +
                                      "' (qwen3_5, qwen3_5_moe or qwen3_next)"));
  if (synthFormat != "hf" && synthFormat != "gguf")
    return fail(createStringError(inconvertibleErrorCode(),
                                  "synth: unknown --format '" + synthFormat + "' (hf or gguf)"));
  Expected<ModelConfig> config = syntheticConfig(synthSize, arch, synthLayers, synthVocab);
  if (!config)
    return fail(config.takeError());
  ProgressLine progress("synth", !noProgress);
  SynthOptions options;
  options.output = synthOutput;
  options.gguf = synthFormat == "gguf";
  options.config = *config;
  options.seed = synthSeed;
  options.dtype = synthDType;
  options.withMTP = !synthNoMTP;
  options.maxShardBytes = synthShardBytes;
  options.progress = [&](uint64_t done, uint64_t total, StringRef item) {
    progress.update(done, total, item);
  };
  if (Error e = synthesizeCheckpoint(options))
    return fail(std::move(e));
  progress.finish();
  errs() << formatv("deltac: wrote a {0} {1} checkpoint to {2} in {3:f1} s\n", synthSize,
                    synthFormat, synthOutput, secondsSince(start));
  return 0;
}

CompileOptions compileOptionsFromFlags(StringRef input, StringRef output) {
  CompileOptions options;
  options.input = input.str();
  options.output = output.str();
  options.target = compileTarget;
  options.emit = compileEmit;
  options.dtype = compileDType;
  options.embedWeights = compileEmbed;
  options.embedTokenizer = !compileNoTokenizer;
  options.specializeKernels = !compileNoSpecialize;
  options.disabledPasses.assign(compileDisablePasses.begin(), compileDisablePasses.end());
  options.prefillLogits = compilePrefillLogits;
  options.quant = compileQuant;
  options.quantAsym = compileQuantAsym;
  options.actQuant = compileActQuant;
  options.recurrentStateType = compileRecurrentState;
  options.kvCacheType = compileKVCacheType;
  // In WeightClass order (import/QuantPolicy.h).
  const std::string classes[] = {quantEmbedding, quantLMHead, quantDeltaNet, quantAttention,
                                 quantMLP};
  for (size_t i = 0; i < kWeightClassCount; ++i)
    options.quantClass[i] = classes[i];
  options.dumpPhasesTo = compileDump;
  options.maxContext = compileMaxContext;
  options.maxTokens = compileMaxTokens;
  options.progress = !noProgress;
  return options;
}

int runCompile() {
  if (Error e = compileModel(compileOptionsFromFlags(compileInput, compileOutput)))
    return fail(std::move(e));
  return 0;
}

int runEval() {
  EvalOptions options;
  options.compile = compileOptionsFromFlags(evalInput, "");
  options.compile.progress = false;
  options.workDir = evalDir;
  options.prompts = evalPrompts;
  options.promptTokens = evalPromptTokens;
  options.json = evalJson;
  if (options.prompts < 1 || options.promptTokens < 1)
    return fail(createStringError(inconvertibleErrorCode(),
                                  "--prompts and --prompt-tokens must be positive"));
  if (Error e = evaluateQuantization(options))
    return fail(std::move(e));
  return 0;
}

int runInspect() {
  if (StringRef(inspectInput).ends_with(".dcw")) {
    Expected<std::unique_ptr<WeightStore>> store = WeightStore::open(inspectInput);
    if (!store)
      return fail(store.takeError());
    uint64_t bytes = 0;
    for (const WeightStore::Tensor &t : (*store)->tensors())
      bytes += t.data.size();
    outs() << formatv("weight store {0}: {1} tensors, {2}, fingerprint {3:x16}\n", inspectInput,
                      (*store)->tensors().size(), mib(bytes), (*store)->fingerprint());
    for (const WeightStore::Tensor &t : (*store)->tensors()) {
      outs() << "  " << t.name << " " << weightDTypeName(t.dtype) << " [";
      interleave(t.shape, outs(), ", ");
      outs() << "]\n";
    }
    return 0;
  }
  Expected<Checkpoint> checkpoint = openCheckpoint(inspectInput);
  if (!checkpoint)
    return fail(checkpoint.takeError());
  const ModelConfig &c = checkpoint->config;
  int64_t full = llvm::count(c.fullAttention, true);
  outs() << formatv("{0} checkpoint {1}: {2}, {3} layers ({4} Gated DeltaNet, {5} attention), "
                    "hidden {6}, vocab {7}, {8} tensors, {9}{10}\n",
                    checkpoint->format == CheckpointFormat::GGUF ? "GGUF" : "Hugging Face",
                    inspectInput, archName(c.arch), c.numLayers, c.numLayers - full, full,
                    c.hiddenSize, c.vocabSize, checkpoint->tensors.size(),
                    mib(checkpoint->sourceBytes()), checkpoint->hasMTP ? ", with MTP" : "");
  for (const std::string &notice : checkpoint->notices)
    outs() << "  note: " << notice << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "deltac: compiler for hybrid delta-rule language models\n");
  if (importCmd)
    return runImport();
  if (synthCmd)
    return runSynth();
  if (inspectCmd)
    return runInspect();
  if (compileCmd)
    return runCompile();
  if (evalCmd)
    return runEval();
  if (targetsCmd)
    return listTargets();
  errs() << "deltac: error: no command given (compile, eval, import, synth, inspect or targets); "
            "see deltac --help\n";
  return 1;
}
