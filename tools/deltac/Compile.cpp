//===- Compile.cpp - the `deltac compile` pipeline ------------------------===//
//
// Phases (ARCHITECTURE.md §1): import -> graph passes -> kernel calls over planned buffers (LLVM
// dialect) -> LLVM IR -> object -> executable. `--emit` stops after one and writes its artifact;
// `--dump-phases-to` keeps them all.
//
//===----------------------------------------------------------------------===//

#include "Compile.h"

#include "Progress.h"

#include "codegen/KernelSpecializer.h"
#include "codegen/Linker.h"
#include "codegen/ObjectEmitter.h"
#include "codegen/ProgramEmitter.h"
#include "codegen/TargetInfo.h"
#include "import/Checkpoint.h"
#include "import/FileIO.h"
#include "import/Importer.h"
#include "import/WeightMaterializer.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;

namespace deltac {

// Paths of the static libraries generated executables link, filled in by the build
// (tools/deltac/CMakeLists.txt): {library name, path}.
static const std::pair<const char *, const char *> kLinkLibraries[] = {
#include "DeltacLinkPaths.inc"
};
static const char *const kLinkDriver = DELTAC_LINK_DRIVER;

static Expected<std::string> libraryPath(StringRef name) {
  for (const auto &[lib, path] : kLinkLibraries)
    if (lib && name == lib)
      return std::string(path);
  return createStringError(inconvertibleErrorCode(),
                           "this deltac was built without the library " + name.str());
}

namespace {

class PhaseTimer {
public:
  void done(StringRef phase) {
    auto now = std::chrono::steady_clock::now();
    phases.emplace_back(phase.str(), std::chrono::duration<double>(now - last).count());
    last = now;
  }
  void print(raw_ostream &os) const {
    double total = 0;
    for (const auto &[name, seconds] : phases) {
      os << formatv("  {0,-10} {1,7:f2} s\n", name, seconds);
      total += seconds;
    }
    os << formatv("  {0,-10} {1,7:f2} s\n", "total", total);
  }

private:
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, double>> phases;
};

std::string withSuffix(StringRef path, StringRef suffix) { return (path + suffix).str(); }

Error writeText(StringRef path, function_ref<void(raw_ostream &)> print) {
  std::string text;
  raw_string_ostream os(text);
  print(os);
  return writeFileAtomically(path, text);
}

} // namespace

Expected<QuantPolicy> quantPolicy(const CompileOptions &options) {
  QuantPolicy policy;
  policy.floats = options.dtype == "bf16" ? WeightScheme::BF16 : WeightScheme::F32;
  policy.asymmetric = options.quantAsym;
  if (!options.quant.empty()) {
    Expected<WeightScheme> scheme = parseWeightScheme(options.quant, "--quant");
    if (!scheme)
      return scheme.takeError();
    policy.projections = *scheme;
  }
  static const char *const flags[] = {"--quant-embedding", "--quant-lm-head", "--quant-deltanet",
                                      "--quant-attention", "--quant-mlp"};
  for (size_t i = 0; i < kWeightClassCount; ++i) {
    if (options.quantClass[i].empty())
      continue;
    Expected<WeightScheme> scheme = parseWeightScheme(options.quantClass[i], flags[i]);
    if (!scheme)
      return scheme.takeError();
    policy.overrides[i] = *scheme;
  }
  return policy;
}

/// The pipeline; sets `wroteStore` once the weight store exists, so a failure can remove it.
static Error runPipeline(const CompileOptions &options, bool &wroteStore) {
  static const char *const phases[] = {"mlir", "kernels", "llvm", "obj", "exe"};
  if (!llvm::is_contained(phases, StringRef(options.emit)))
    return createStringError(inconvertibleErrorCode(),
                             "unknown --emit '" + options.emit +
                                 "' (mlir, kernels, llvm, obj or exe)");
  if (options.dtype != "f32" && options.dtype != "bf16")
    return createStringError(inconvertibleErrorCode(),
                             "unknown --dtype '" + options.dtype + "' (f32 or bf16)");
  if (options.actQuant != "none" && options.actQuant != "int8")
    return createStringError(inconvertibleErrorCode(),
                             "unknown --act-quant '" + options.actQuant + "' (none or int8)");
  if (Expected<QuantPolicy> policy = quantPolicy(options); !policy)
    return policy.takeError();
  Expected<TargetInfo> target = lookupTarget(options.target);
  if (!target)
    return target.takeError();
  int64_t maxTokens =
      options.maxTokens ? options.maxTokens : std::min<int64_t>(512, options.maxContext);
  if (maxTokens < 1 || maxTokens > options.maxContext)
    return createStringError(inconvertibleErrorCode(),
                             "--max-tokens must be between 1 and --max-context");
  if (!options.dumpPhasesTo.empty())
    if (std::error_code ec = sys::fs::create_directories(options.dumpPhasesTo))
      return fileError(options.dumpPhasesTo, "cannot create directory: " + ec.message());
  auto dumpPath = [&](StringRef name) {
    SmallString<256> p(options.dumpPhasesTo);
    sys::path::append(p, name);
    return std::string(p);
  };
  bool dump = !options.dumpPhasesTo.empty();
  PhaseTimer timer;

  // 1. Import: the model's delta module (no weight values are read yet).
  Expected<Checkpoint> checkpoint = openCheckpoint(options.input);
  if (!checkpoint)
    return checkpoint.takeError();
  for (const std::string &notice : checkpoint->notices)
    errs() << "deltac: note: " << options.input << ": " << notice << "\n";
  std::string storePath = withSuffix(options.output, ".dcw");
  ImportOptions importOptions;
  importOptions.maxContext = options.maxContext;
  Expected<QuantPolicy> policy = quantPolicy(options);
  if (!policy)
    return policy.takeError();
  importOptions.quant = *policy;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> imported = importCheckpoint(context, *checkpoint, importOptions);
  mlir::ModuleOp model = *imported;
  // int8 activations for the block-quantized linears and LM head (codegen/ProgramEmitter.cpp).
  if (options.actQuant == "int8")
    model->setAttr("delta.act_quant", mlir::StringAttr::get(&context, "int8"));
  timer.done("import");

  // 2. Graph passes. Each addPass says why it is here.
  mlir::PassManager passes(&context);
  // Refuse models whose state threading the in-place lowering could not honour.
  passes.addPass(createVerifyModel());
  // Fold the identity reshapes the importer emits for every head split.
  passes.addPass(mlir::createCanonicalizerPass());
  auto enabled = [&](StringRef name) {
    return !llvm::is_contained(options.disabledPasses, name) &&
           !llvm::is_contained(options.disabledPasses, "all");
  };
  // Norm scales into the weights first, so the merged weights below are the folded ones.
  if (enabled("fold-norm-scales"))
    passes.addPass(createFoldNormScales());
  // One matrix-vector product per input: fewer, larger kernels per step.
  if (enabled("merge-linears"))
    passes.addPass(createMergeLinears());
  // Elementwise work into the neighbouring kernels; after the merge, whose gate/up weights the
  // swiglu epilogue needs.
  if (enabled("fuse-elementwise"))
    passes.addPass(createFuseElementwise());
  // Last: drop what the rewrites above left unused, and the declarations nothing reaches.
  if (enabled("remove-dead-work")) {
    RemoveDeadWorkOptions deadWork;
    deadWork.prefillLogits = options.prefillLogits;
    passes.addPass(createRemoveDeadWork(deadWork));
  }
  // The weights the kernels read, in the layout the target's int8-activation kernels load fastest
  // (a no-op without --act-quant=int8); after every pass that merges or narrows weights.
  if (enabled("pack-weights") && target->packsWeights)
    passes.addPass(createPackWeights());
  // The model must still thread its state correctly after the rewrites.
  passes.addPass(createVerifyModel());
  if (failed(passes.run(model)))
    return createStringError(inconvertibleErrorCode(),
                             "internal error: the graph passes failed on " + options.input);
  timer.done("passes");

  // 3. The weight store: the weights the functions now reference, derived ones computed.
  ProgressLine progress("weights", options.progress);
  StoreOptions storeOptions;
  storeOptions.storePath = storePath;
  storeOptions.storePathInIR = sys::path::filename(storePath).str();
  storeOptions.progress = [&](uint64_t done, uint64_t total, StringRef item) {
    progress.update(done, total, item);
  };
  Expected<StoreSummary> stored = writeWeightStore(model, *checkpoint, storeOptions);
  progress.finish();
  if (!stored)
    return stored.takeError();
  wroteStore = true;
  timer.done("weights");
  if (dump)
    if (Error e = writeText(dumpPath("model.mlir"), [&](raw_ostream &os) { model.print(os); }))
      return e;
  if (options.emit == "mlir")
    return writeText(options.output, [&](raw_ostream &os) { model.print(os); });

  // 4. Kernel calls over planned buffers.
  ProgramOptions programOptions;
  programOptions.target = target->name;
  programOptions.maxTokens = maxTokens;
  ProgramSummary summary;
  auto program = emitProgram(model, programOptions, &summary);
  if (!program)
    return program.takeError();
  if (failed(mlir::verify(**program)))
    return createStringError(inconvertibleErrorCode(),
                             "internal error: the kernel-level module does not verify");
  timer.done("lower");
  if (dump)
    if (Error e = writeText(dumpPath("kernels.mlir"), [&](raw_ostream &os) { (*program)->print(os); }))
      return e;
  if (options.emit == "kernels")
    return writeText(options.output, [&](raw_ostream &os) { (*program)->print(os); });

  // 5. LLVM IR.
  LLVMContext llvmContext;
  auto llvmModule = translateProgram(**program, *target, llvmContext);
  if (!llvmModule)
    return llvmModule.takeError();
  timer.done("llvm");
  if (dump)
    if (Error e = writeText(dumpPath("program.ll"), [&](raw_ostream &os) { (*llvmModule)->print(os, nullptr); }))
      return e;
  if (options.emit == "llvm")
    return writeText(options.output, [&](raw_ostream &os) { (*llvmModule)->print(os, nullptr); });

  // 6. Object.
  std::string objectPath = options.emit == "obj" ? options.output
                           : dump                ? dumpPath("program.o")
                                                 : withSuffix(options.output, ".o");
  if (Error e = emitObject(**llvmModule, *target, objectPath))
    return e;
  timer.done("object");
  if (options.emit == "obj")
    return Error::success();

  // 7. The kernels, rebuilt with the model's sizes as compile-time constants (or the prebuilt,
  // generic library with --no-specialize-kernels).
  LinkInputs link;
  link.driver = kLinkDriver;
  std::vector<std::string> objects = {objectPath};
  std::string kernelDir = dump ? dumpPath("kernels") : withSuffix(options.output, ".kernels");
  auto removeKernelDir = make_scope_exit([&] {
    if (!dump)
      sys::fs::remove_directories(kernelDir);
  });
  std::vector<StringRef> libraries = {"DeltacRuntimeMain", "DeltacRuntime"};
  if (options.specializeKernels) {
    if (std::error_code ec = sys::fs::create_directories(kernelDir))
      return fileError(kernelDir, "cannot create directory: " + ec.message());
    KernelSources sources{DELTAC_KERNEL_SOURCE_DIR, DELTAC_KERNEL_INCLUDE_DIR};
    auto kernels = compileSpecializedKernels(specializationHeader(specializationDims(model)),
                                             *target, link, sources, kernelDir);
    if (!kernels)
      return kernels.takeError();
    objects.insert(objects.end(), kernels->begin(), kernels->end());
    timer.done("kernels");
  } else {
    libraries.push_back(target->kernelLibrary);
  }

  // 8. Executable: program + kernels + runtime.
  for (StringRef lib : libraries) {
    Expected<std::string> path = libraryPath(lib);
    if (!path)
      return path.takeError();
    link.libraries.push_back(*path);
  }
  std::string weightsObject = withSuffix(options.output, ".weights.o");
  if (options.embedWeights) {
    if (Error e = assembleEmbeddedWeights(storePath, *target, link, weightsObject))
      return e;
    objects.push_back(weightsObject);
  }
  Error linked = linkExecutable(objects, *target, link, options.output);
  if (!dump)
    sys::fs::remove(objectPath);
  if (options.embedWeights)
    sys::fs::remove(weightsObject);
  if (linked)
    return linked;
  if (options.embedWeights)
    sys::fs::remove(storePath); // it lives in the executable now
  timer.done("link");

  uint64_t exeBytes = 0;
  sys::fs::file_size(options.output, exeBytes);
  std::string weightsWhere = options.embedWeights ? std::string("embedded weights") : storePath;
  errs() << formatv("deltac: compiled {0} for {1}: {2} ({3} KiB) and {4} ({5:f1} MiB)\n",
                    options.input, target->name, options.output, exeBytes / 1024, weightsWhere,
                    double(stored->storeBytes) / (1 << 20));
  errs() << formatv("  {0} weights, {1} states ({2:f1} MiB), {3} kernel calls, arena {4:f1} MiB "
                    "at {5} tokens\n",
                    summary.weights, summary.states, double(summary.stateBytes) / (1 << 20),
                    summary.kernelCalls, double(summary.arenaBytes) / (1 << 20), maxTokens);
  timer.print(errs());
  return Error::success();
}

ArrayRef<const char *> graphOptimizationNames() {
  static const char *const names[] = {"fold-norm-scales", "merge-linears", "fuse-elementwise",
                                      "remove-dead-work", "pack-weights"};
  return names;
}

Error compileModel(const CompileOptions &options) {
  for (const std::string &name : options.disabledPasses)
    if (name != "all" && !llvm::is_contained(graphOptimizationNames(), StringRef(name)))
      return createStringError(inconvertibleErrorCode(),
                               "unknown --disable-pass '" + name +
                                   "' (fold-norm-scales, merge-linears, fuse-elementwise, "
                                   "remove-dead-work, pack-weights or all)");
  if (options.prefillLogits != "all" && options.prefillLogits != "last")
    return createStringError(inconvertibleErrorCode(),
                             "unknown --prefill-logits '" + options.prefillLogits + "' (all or last)");
  if (options.prefillLogits == "last" &&
      (llvm::is_contained(options.disabledPasses, "remove-dead-work") ||
       llvm::is_contained(options.disabledPasses, "all")))
    return createStringError(inconvertibleErrorCode(),
                             "--prefill-logits=last is done by the remove-dead-work pass, which "
                             "--disable-pass leaves out");
  bool wroteStore = false;
  Error e = runPipeline(options, wroteStore);
  // Never leave a store behind that no output refers to.
  if (e && wroteStore)
    sys::fs::remove(withSuffix(options.output, ".dcw"));
  return e;
}

} // namespace deltac
