//===- Compile.cpp - the `deltac compile` pipeline ------------------------===//
//
// Phases (ARCHITECTURE.md §1): import -> graph passes -> kernel calls over planned buffers (LLVM
// dialect) -> LLVM IR -> object -> executable, or a static library and its header (--emit=lib,
// docs/design/compile.md). `--emit` stops after one and writes its artifact; `--dump-phases-to`
// keeps them all.
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
#include "import/TokenizerImport.h"
#include "import/WeightMaterializer.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <future>

using namespace llvm;

namespace deltac {

// Paths of the static libraries generated executables link, filled in by the build
// (tools/deltac/CMakeLists.txt): {library name, path}.
static const std::pair<const char *, const char *> kLinkLibraries[] = {
#include "DeltacLinkPaths.inc"
};
static const char *const kLinkDriver = DELTAC_LINK_DRIVER;

namespace {

/// What compiling a model needs besides deltac itself: the runtime and kernel libraries, the kernel
/// sources (for specialization) and the runtime's public headers. A deltac in a build tree uses the
/// paths the build compiled in; an installed one (`cmake --install`, tools/deltac/CMakeLists.txt)
/// finds them relative to its own binary, PREFIX/bin/deltac: PREFIX/lib/deltac/ (libraries) and
/// PREFIX/share/deltac/{kernels,include}/.
struct Resources {
  std::string libraryDir;     ///< installed: where the libraries are; empty: the build's paths
  std::string kernelSources;  ///< the portable kernel sources
  std::string kernelInclude;  ///< where deltac/kernel_abi.h is
  std::string runtimeInclude; ///< where deltac/runtime.h is

  Expected<std::string> library(StringRef name) const {
    for (const auto &[lib, path] : kLinkLibraries) {
      if (!lib || name != lib)
        continue;
      if (libraryDir.empty())
        return std::string(path);
      SmallString<256> installed(libraryDir);
      sys::path::append(installed, sys::path::filename(path));
      return std::string(installed);
    }
    return createStringError(inconvertibleErrorCode(),
                             "this deltac was built without the library " + name.str());
  }
};

const Resources &resources() {
  static const Resources found = [] {
    Resources r{"", DELTAC_KERNEL_SOURCE_DIR, DELTAC_KERNEL_INCLUDE_DIR,
                DELTAC_RUNTIME_INCLUDE_DIR};
    static int anchor;
    SmallString<256> prefix(sys::fs::getMainExecutable("deltac", &anchor));
    sys::path::remove_filename(prefix); // PREFIX/bin
    sys::path::remove_filename(prefix); // PREFIX
    SmallString<256> share(prefix);
    sys::path::append(share, "share", "deltac");
    SmallString<256> include(share);
    sys::path::append(include, "include");
    SmallString<256> marker(include);
    sys::path::append(marker, "deltac", "runtime.h");
    if (prefix.empty() || !sys::fs::exists(marker))
      return r;
    SmallString<256> lib(prefix), kernels(share);
    sys::path::append(lib, "lib", "deltac");
    sys::path::append(kernels, "kernels");
    r.libraryDir = std::string(lib);
    r.kernelSources = std::string(kernels);
    r.kernelInclude = std::string(include);
    r.runtimeInclude = std::string(include);
    return r;
  }();
  return found;
}

/// The static libraries an executable (`withMain`) or a library for `target` links, in link order,
/// with the prebuilt kernels unless they are specialized: resolved before any work, so that a
/// deltac built without a target's libraries says so at once (and how to get them).
Expected<std::vector<std::string>> linkLibraries(const Resources &res, const TargetInfo &target,
                                                 bool withMain, bool prebuiltKernels) {
  std::vector<StringRef> names;
  if (withMain)
    names.push_back(target.runtimeMainLibrary);
  names.push_back(target.runtimeLibrary);
  if (prebuiltKernels)
    names.push_back(target.kernelLibrary);
  std::vector<std::string> paths;
  for (StringRef name : names) {
    Expected<std::string> path = res.library(name);
    if (!path) {
      if (target.missingLibraries.empty())
        return path.takeError();
      consumeError(path.takeError());
      return createStringError(inconvertibleErrorCode(), target.missingLibraries);
    }
    paths.push_back(std::move(*path));
  }
  return paths;
}

/// The time of each phase, and the progress line that shows which one runs.
class PhaseTimer {
public:
  PhaseTimer(unsigned count, bool progress) : line(count, progress) {}

  void begin(StringRef phase) {
    current = phase.str();
    start = std::chrono::steady_clock::now();
    line.begin(phase);
  }
  void done() {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    phases.emplace_back(current, seconds);
    line.end(seconds);
  }
  PhaseProgress &progress() { return line; }
  void print(raw_ostream &os) const {
    double total = 0;
    for (const auto &[name, seconds] : phases) {
      os << formatv("  {0,-10} {1,7:f2} s\n", name, seconds);
      total += seconds;
    }
    os << formatv("  {0,-10} {1,7:f2} s\n", "total", total);
  }

private:
  PhaseProgress line;
  std::string current;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, double>> phases;
};

std::string withSuffix(StringRef path, StringRef suffix) { return (path + suffix).str(); }

Error writeText(StringRef path, function_ref<void(raw_ostream &)> print) {
  std::string text;
  raw_string_ostream os(text);
  print(os);
  return writeFileAtomically(path, text);
}

std::string sizeText(uint64_t bytes) {
  if (bytes < (uint64_t(1) << 20))
    return formatv("{0} KiB", (bytes + 1023) / 1024).str();
  return formatv("{0:f1} MiB", double(bytes) / (1 << 20)).str();
}

uint64_t fileBytes(StringRef path) {
  uint64_t bytes = 0;
  sys::fs::file_size(path, bytes);
  return bytes;
}

/// Where --emit=lib writes (docs/design/compile.md, "Libraries"): `-o DIR/NAME` (or `-o DIR/`,
/// NAME then from the checkpoint's name) gives DIR/libNAME.a, DIR/NAME.h, DIR/deltac/runtime.h and
/// DIR/NAME.dcw; the header declares NAME_program() and NAME_open() with NAME made a C identifier.
struct LibraryLayout {
  std::string prefix;        ///< DIR/NAME: the other outputs and the temporaries are named after it
  std::string archive;       ///< DIR/libNAME.a
  std::string header;        ///< DIR/NAME.h
  std::string runtimeHeader; ///< DIR/deltac/runtime.h
  std::string symbol;        ///< NAME as a C identifier: the prefix of the header's functions
};

/// NAME with every character outside [A-Za-z0-9_] replaced by '_', and a leading digit prefixed by
/// "model_" (qwen3.5-0.8b -> qwen3_5_0_8b, 2b -> model_2b).
std::string cIdentifier(StringRef name) {
  std::string id;
  for (char c : name)
    id += isAlnum(c) || c == '_' ? c : '_';
  if (id.empty() || isDigit(id.front()))
    id = "model_" + id;
  return id;
}

Expected<LibraryLayout> libraryLayout(const CompileOptions &options) {
  StringRef output = options.output;
  SmallString<256> dir;
  std::string name;
  if (output.ends_with("/") || sys::fs::is_directory(output)) {
    dir = output;
    // The checkpoint's directory name, or its file name without .gguf (dots stay: qwen3.5-0.8b).
    StringRef input = sys::path::filename(StringRef(options.input).rtrim('/'));
    input.consume_back(".gguf");
    name = input.str();
  } else {
    dir = sys::path::parent_path(output);
    StringRef file = sys::path::filename(output);
    // -o DIR/libNAME.a names the archive itself.
    if (file.ends_with(".a") && file.starts_with("lib") && file.size() > 5)
      file = file.drop_front(3).drop_back(2);
    name = file.str();
  }
  if (dir.empty())
    dir = ".";
  if (name.empty() || name == "." || name == "..")
    return createStringError(inconvertibleErrorCode(), "--emit=lib: cannot name a library after '" +
                                                           options.output + "'; give -o DIR/NAME");
  LibraryLayout layout;
  layout.symbol = cIdentifier(name);
  // The runtime's symbols all start with dc_; NAME_program and NAME_open must not be among them.
  if (StringRef(layout.symbol).starts_with("dc_") || layout.symbol == "dc")
    return createStringError(inconvertibleErrorCode(),
                             "--emit=lib: the name '" + name +
                                 "' would give functions in the runtime's dc_ namespace; pick "
                                 "another -o");
  auto in = [&](const Twine &file) {
    SmallString<256> p(dir);
    sys::path::append(p, file);
    return std::string(p);
  };
  layout.prefix = in(name);
  layout.archive = in("lib" + name + ".a");
  layout.header = in(name + ".h");
  SmallString<256> runtimeHeader(dir);
  sys::path::append(runtimeHeader, "deltac", "runtime.h");
  layout.runtimeHeader = std::string(runtimeHeader);
  return layout;
}

/// `text` as a C string literal.
std::string cString(StringRef text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    if (c == '\n')
      quoted += "\\n";
    else
      quoted += c;
  }
  return quoted + "\"";
}

/// The header of a library: the model's two functions, over deltac/runtime.h (copied next to it).
std::string libraryHeader(const LibraryLayout &layout, const CompileOptions &options,
                          StringRef target, StringRef storePath, bool hasTokenizer) {
  std::string id = layout.symbol;
  std::string upper = StringRef(id).upper();
  std::string file = sys::path::filename(layout.header).str();
  std::string text;
  raw_string_ostream os(text);
  os << "/* " << file << " - " << id << ", a model compiled by `deltac compile --emit=lib`.\n"
     << " *\n"
     << " * Generated from " << options.input << " for the target " << target << "; do not edit.\n"
     << " * Link " << sys::path::filename(layout.archive)
     << " (the program, its kernels and the deltac runtime) and -lm -lpthread.\n"
     << " * The API is deltac/runtime.h, next to this header: open the model with " << id
     << "_open,\n"
     << " * then create sessions and samplers on it (docs/runtime.md in deltac).\n"
     << " *\n"
     << " * Each deltac library carries the runtime (dc_* symbols): a program links one. */\n\n"
     << "#ifndef DELTAC_MODEL_" << upper << "_H\n"
     << "#define DELTAC_MODEL_" << upper << "_H\n\n"
     << "#include \"deltac/runtime.h\"\n"
     << "#include \"deltac/tokenizer.h\"\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  if (options.embedWeights)
    os << "/* 1: the weight store is inside the library (deltac compile --embed-weights). */\n"
       << "#define " << upper << "_EMBEDDED_WEIGHTS 1\n\n";
  else
    os << "/* 0: the weight store is a file, " << sys::path::filename(storePath)
       << ", next to this header. */\n"
       << "#define " << upper << "_EMBEDDED_WEIGHTS 0\n\n"
       << "/* The weight store where deltac wrote it; " << id
       << "_open(NULL, ...) opens this file. */\n"
       << "#define " << upper << "_WEIGHTS_PATH " << cString(storePath) << "\n\n";
  os << "/* The model's program table (deltac/program.h), for dc_model_open and\n"
     << " * dc_model_open_embedded. Static data: never NULL, never freed. */\n"
     << "const struct dc_program *" << id << "_program(void);\n\n"
     << "/* Opens the model on the weight store at `weights_path`, as dc_model_open does;\n";
  if (options.embedWeights)
    os << " * NULL opens the store embedded in the library (dc_model_open_embedded).\n";
  else
    os << " * NULL opens the file " << upper << "_WEIGHTS_PATH names.\n";
  os << " * On success *out_model is a new model the caller owns and frees with\n"
     << " * dc_model_close; on failure, a status the caller frees with dc_status_free. */\n"
     << "dc_status *" << id << "_open(const char *weights_path, dc_model **out_model);\n\n";
  if (hasTokenizer)
    os << "/* 1: the checkpoint's tokenizer is inside the library. */\n"
       << "#define " << upper << "_HAS_TOKENIZER 1\n\n"
       << "/* Opens the model's tokenizer (deltac/tokenizer.h) on the blob inside the library.\n"
       << " * On success *out_tokenizer is a new tokenizer the caller owns and frees with\n"
       << " * dc_tokenizer_close; on failure, a status the caller frees with dc_status_free. */\n"
       << "dc_status *" << id << "_tokenizer_open(dc_tokenizer **out_tokenizer);\n\n";
  else
    os << "/* 0: the checkpoint had no tokenizer; the model takes token ids only. */\n"
       << "#define " << upper << "_HAS_TOKENIZER 0\n\n";
  os << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n"
     << "#endif /* DELTAC_MODEL_" << upper << "_H */\n";
  return text;
}

/// The C source of the header's two functions, compiled into the library.
std::string libraryEntrySource(const LibraryLayout &layout, const CompileOptions &options,
                               StringRef header, bool hasTokenizer) {
  std::string id = layout.symbol;
  std::string text;
  raw_string_ostream os(text);
  os << "#include " << cString(sys::path::filename(header)) << "\n\n"
     << "extern const struct dc_program dc_model_program;\n";
  if (options.embedWeights)
    os << "extern const unsigned char dc_embedded_weights[];\n"
       << "extern const unsigned char dc_embedded_weights_end[];\n";
  os << "\nconst struct dc_program *" << id << "_program(void) { return &dc_model_program; }\n\n"
     << "dc_status *" << id << "_open(const char *weights_path, dc_model **out_model) {\n";
  if (options.embedWeights)
    os << "  if (!weights_path)\n"
       << "    return dc_model_open_embedded(&dc_model_program, dc_embedded_weights,\n"
       << "                                  (size_t)(dc_embedded_weights_end - "
          "dc_embedded_weights),\n"
       << "                                  out_model);\n";
  else
    os << "  if (!weights_path)\n"
       << "    weights_path = " << StringRef(id).upper() << "_WEIGHTS_PATH;\n";
  os << "  return dc_model_open(&dc_model_program, weights_path, out_model);\n}\n";
  if (hasTokenizer)
    os << "\nextern const unsigned char dc_embedded_tokenizer[];\n"
       << "extern const unsigned char dc_embedded_tokenizer_end[];\n\n"
       << "dc_status *" << id << "_tokenizer_open(dc_tokenizer **out_tokenizer) {\n"
       << "  return dc_tokenizer_open(dc_embedded_tokenizer,\n"
       << "                           (size_t)(dc_embedded_tokenizer_end - "
          "dc_embedded_tokenizer),\n"
       << "                           out_tokenizer);\n}\n";
  return text;
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

/// The pipeline; appends every output to `created` as soon as it exists, so that a failure can
/// remove them all.
static Error runPipeline(const CompileOptions &options, std::vector<std::string> &created) {
  static const char *const emits[] = {"mlir", "kernels", "llvm", "obj", "exe", "lib"};
  if (!llvm::is_contained(emits, StringRef(options.emit)))
    return createStringError(inconvertibleErrorCode(),
                             "unknown --emit '" + options.emit +
                                 "' (mlir, kernels, llvm, obj, exe or lib)");
  if (options.dtype != "f32" && options.dtype != "bf16")
    return createStringError(inconvertibleErrorCode(),
                             "unknown --dtype '" + options.dtype + "' (f32 or bf16)");
  if (options.actQuant != "none" && options.actQuant != "int8")
    return createStringError(inconvertibleErrorCode(),
                             "unknown --act-quant '" + options.actQuant + "' (none or int8)");
  if (options.recurrentStateType != "f32" && options.recurrentStateType != "f16")
    return createStringError(inconvertibleErrorCode(), "unknown --recurrent-state-type '" +
                                                           options.recurrentStateType +
                                                           "' (f32 or f16)");
  if (options.kvCacheType != "f32" && options.kvCacheType != "f16")
    return createStringError(inconvertibleErrorCode(),
                             "unknown --kv-cache-type '" + options.kvCacheType + "' (f32 or f16)");
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
  bool library = options.emit == "lib";
  const Resources &res = resources();
  LinkInputs link;
  link.driver = kLinkDriver;
  if (library || options.emit == "exe") {
    Expected<std::vector<std::string>> libraries =
        linkLibraries(res, *target, !library, !options.specializeKernels);
    if (!libraries)
      return libraries.takeError();
    link.libraries = std::move(*libraries);
  }
  LibraryLayout layout;
  if (library) {
    Expected<LibraryLayout> found = libraryLayout(options);
    if (!found)
      return found.takeError();
    layout = std::move(*found);
    SmallString<256> dir(layout.runtimeHeader);
    sys::path::remove_filename(dir);
    if (std::error_code ec = sys::fs::create_directories(dir))
      return fileError(dir, "cannot create directory: " + ec.message());
  }
  // Every output and temporary is named after `prefix`: OUTPUT, or DIR/NAME for a library.
  std::string prefix = library ? layout.prefix : options.output;
  if (!options.dumpPhasesTo.empty())
    if (std::error_code ec = sys::fs::create_directories(options.dumpPhasesTo))
      return fileError(options.dumpPhasesTo, "cannot create directory: " + ec.message());
  auto dumpPath = [&](StringRef name) {
    SmallString<256> p(options.dumpPhasesTo);
    sys::path::append(p, name);
    return std::string(p);
  };
  bool dump = !options.dumpPhasesTo.empty();
  // The phases this --emit runs, for the progress line's "[k/N]".
  unsigned phaseCount = StringSwitch<unsigned>(options.emit)
                            .Case("mlir", 3)
                            .Case("kernels", 4)
                            .Case("llvm", 5)
                            .Case("obj", 6)
                            .Default(options.specializeKernels ? 8 : 7);
  PhaseTimer timer(phaseCount, options.progress);

  // 1. Import: the model's delta module (no weight values are read yet).
  timer.begin("import");
  Expected<Checkpoint> checkpoint = openCheckpoint(options.input);
  if (!checkpoint)
    return checkpoint.takeError();
  for (const std::string &notice : checkpoint->notices)
    timer.progress().note("deltac: note: " + options.input + ": " + notice);
  // The checkpoint's tokenizer, embedded in the output (docs/tokenizer.md); a broken one is an
  // error here rather than a model that cannot read text.
  std::optional<std::vector<uint8_t>> tokenizer;
  if (options.embedTokenizer) {
    Expected<std::optional<std::vector<uint8_t>>> read = readTokenizer(options.input);
    if (!read)
      return read.takeError();
    tokenizer = std::move(*read);
    if (tokenizer && tokenizerVocabSize(*tokenizer) > uint64_t(checkpoint->config.vocabSize))
      return createStringError(
          inconvertibleErrorCode(),
          formatv("{0}: the tokenizer has {1} token ids, more than the model's vocabulary of {2} "
                  "(mismatched files?)",
                  options.input, tokenizerVocabSize(*tokenizer), checkpoint->config.vocabSize)
              .str());
  }
  std::string storePath = withSuffix(prefix, ".dcw");
  ImportOptions importOptions;
  importOptions.maxContext = options.maxContext;
  importOptions.f16RecurrentState = options.recurrentStateType == "f16";
  importOptions.f16KVCache = options.kvCacheType == "f16";
  Expected<QuantPolicy> policy = quantPolicy(options);
  if (!policy)
    return policy.takeError();
  importOptions.quant = *policy;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> imported =
      importCheckpoint(context, *checkpoint, importOptions);
  mlir::ModuleOp model = *imported;
  // int8 activations for the block-quantized linears and LM head (codegen/ProgramEmitter.cpp).
  if (options.actQuant == "int8")
    model->setAttr("delta.act_quant", mlir::StringAttr::get(&context, "int8"));
  timer.done();

  // 2. Graph passes. Each addPass says why it is here.
  timer.begin("passes");
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
  if (enabled("pack-weights") && target->packsWeights) {
    PackWeightsOptions pack;
    pack.interleaveQ4 = target->interleavesQ4;
    passes.addPass(createPackWeights(pack));
  }
  // The model must still thread its state correctly after the rewrites.
  passes.addPass(createVerifyModel());
  if (failed(passes.run(model)))
    return createStringError(inconvertibleErrorCode(),
                             "internal error: the graph passes failed on " + options.input);
  timer.done();

  // 7, started now: the kernels rebuilt with the model's sizes as compile-time constants (or the
  // prebuilt, generic library with --no-specialize-kernels). The sizes are known once the graph
  // passes are done, so the compiler processes run beside phases 3 to 6 (the weight store, mostly
  // reading, converting and writing, and the program) on a thread that only waits for them;
  // phase 7 then waits for what is left (docs/design/compile.md, "Kernels specialized to the
  // model's shapes"). An early return stops it from starting more, waits for the running ones,
  // then removes the directory.
  const std::string kernelDims = specializationHeader(specializationDims(model));
  const bool buildKernels =
      options.specializeKernels && (options.emit == "exe" || options.emit == "lib");
  std::string kernelDir = dump ? dumpPath("kernels") : withSuffix(prefix, ".kernels");
  scope_exit removeKernelDir([&] {
    if (buildKernels && !dump)
      sys::fs::remove_directories(kernelDir);
  });
  std::atomic<bool> stopKernels{false};
  std::future<Expected<std::vector<std::string>>> kernelJob;
  scope_exit finishKernels([&] {
    if (!kernelJob.valid())
      return;
    stopKernels = true;
    Expected<std::vector<std::string>> unused = kernelJob.get();
    if (!unused)
      consumeError(unused.takeError());
  });
  auto startKernels = [&]() -> Error {
    if (std::error_code ec = sys::fs::create_directories(kernelDir))
      return fileError(kernelDir, "cannot create directory: " + ec.message());
    KernelSources sources{res.kernelSources, res.kernelInclude};
    kernelJob = std::async(std::launch::async, [&, sources] {
      return compileSpecializedKernels(kernelDims, *target, link, sources, kernelDir, &stopKernels);
    });
    return Error::success();
  };
  // Early only into an existing directory: an output in a missing one fails at the store's write,
  // as before, with nothing created.
  SmallString<256> kernelParent(kernelDir);
  sys::path::remove_filename(kernelParent);
  if (buildKernels && (kernelParent.empty() || sys::fs::is_directory(kernelParent)))
    if (Error e = startKernels())
      return e;

  // 3. The weight store: the weights the functions now reference, derived ones computed.
  timer.begin("weights");
  StoreOptions storeOptions;
  storeOptions.storePath = storePath;
  storeOptions.storePathInIR = sys::path::filename(storePath).str();
  storeOptions.progress = [&](uint64_t done, uint64_t total, StringRef item) {
    timer.progress().update(done, total, item);
  };
  Expected<StoreSummary> stored = writeWeightStore(model, *checkpoint, storeOptions);
  if (!stored)
    return stored.takeError();
  created.push_back(storePath);
  timer.done();
  if (dump)
    if (Error e = writeText(dumpPath("model.mlir"), [&](raw_ostream &os) { model.print(os); }))
      return e;
  if (options.emit == "mlir")
    return writeText(options.output, [&](raw_ostream &os) { model.print(os); });

  // 4. Kernel calls over planned buffers.
  timer.begin("lower");
  ProgramOptions programOptions;
  programOptions.target = target->name;
  programOptions.cpuFeatures = requiredCpuFeatures(*target);
  programOptions.maxTokens = maxTokens;
  ProgramSummary summary;
  auto program = emitProgram(model, programOptions, &summary);
  if (!program)
    return program.takeError();
  if (failed(mlir::verify(**program)))
    return createStringError(inconvertibleErrorCode(),
                             "internal error: the kernel-level module does not verify");
  timer.done();
  if (dump)
    if (Error e =
            writeText(dumpPath("kernels.mlir"), [&](raw_ostream &os) { (*program)->print(os); }))
      return e;
  // The sizes the kernels will be specialized to (phase 7); dumped here already, so that
  // `--emit=kernels --dump-phases-to` shows them without building the kernels (a build writes
  // them into the same directory itself).
  if (dump && options.specializeKernels && !buildKernels) {
    if (std::error_code ec = sys::fs::create_directories(dumpPath("kernels")))
      return fileError(dumpPath("kernels"), "cannot create directory: " + ec.message());
    if (Error e = writeFileAtomically(dumpPath("kernels/dc_model_dims.h"), kernelDims))
      return e;
  }
  if (options.emit == "kernels")
    return writeText(options.output, [&](raw_ostream &os) { (*program)->print(os); });

  // 5. LLVM IR.
  timer.begin("llvm");
  LLVMContext llvmContext;
  auto llvmModule = translateProgram(**program, *target, llvmContext);
  if (!llvmModule)
    return llvmModule.takeError();
  timer.done();
  if (dump)
    if (Error e = writeText(dumpPath("program.ll"),
                            [&](raw_ostream &os) { (*llvmModule)->print(os, nullptr); }))
      return e;
  if (options.emit == "llvm")
    return writeText(options.output, [&](raw_ostream &os) { (*llvmModule)->print(os, nullptr); });

  // 6. Object.
  timer.begin("object");
  std::string objectPath = options.emit == "obj" ? options.output
                           : dump                ? dumpPath("program.o")
                                                 : withSuffix(prefix, ".o");
  // Temporaries: removed whatever happens (objects) or unless --dump-phases-to keeps them.
  std::vector<std::string> temporaries;
  scope_exit removeTemporaries([&] {
    for (const std::string &path : temporaries)
      sys::fs::remove(path);
  });
  if (!dump && options.emit != "obj")
    temporaries.push_back(objectPath);
  if (Error e = emitObject(**llvmModule, *target, objectPath))
    return e;
  timer.done();
  if (options.emit == "obj")
    return Error::success();

  // 7. The specialized kernels, started after phase 2 (or now): what is left of their compile.
  std::vector<std::string> objects = {objectPath};
  if (buildKernels) {
    timer.begin("kernels");
    if (!kernelJob.valid())
      if (Error e = startKernels())
        return e;
    Expected<std::vector<std::string>> kernels = kernelJob.get();
    if (!kernels)
      return kernels.takeError();
    objects.insert(objects.end(), kernels->begin(), kernels->end());
    timer.done();
  }

  // 8. Executable (program + kernels + runtime + main), or library (the same without main, plus
  // the header's functions).
  timer.begin(library ? "archive" : "link");
  if (options.embedWeights) {
    std::string weightsObject = withSuffix(prefix, ".weights.o");
    temporaries.push_back(weightsObject);
    if (Error e =
            assembleEmbeddedFile(storePath, "dc_embedded_weights", *target, link, weightsObject))
      return e;
    objects.push_back(weightsObject);
  }
  if (tokenizer) {
    std::string blob = withSuffix(prefix, ".tokenizer");
    std::string blobObject = withSuffix(prefix, ".tokenizer.o");
    temporaries.push_back(blob);
    temporaries.push_back(blobObject);
    if (Error e = writeFileAtomically(
            blob, StringRef(reinterpret_cast<const char *>(tokenizer->data()), tokenizer->size())))
      return e;
    if (Error e = assembleEmbeddedFile(blob, "dc_embedded_tokenizer", *target, link, blobObject))
      return e;
    objects.push_back(blobObject);
  }
  if (library) {
    SmallString<256> absoluteStore(storePath);
    if (std::error_code ec = sys::fs::make_absolute(absoluteStore))
      return fileError(storePath, "cannot resolve the path: " + ec.message());
    // The runtime's public headers, next to the model's (libraries written to one directory share
    // them: a failure removes one only if this compile created it).
    for (const char *name : {"runtime.h", "tokenizer.h"}) {
      SmallString<256> source(res.runtimeInclude), copy(layout.runtimeHeader);
      sys::path::append(source, "deltac", name);
      sys::path::remove_filename(copy);
      sys::path::append(copy, name);
      ErrorOr<std::unique_ptr<MemoryBuffer>> header = MemoryBuffer::getFile(source);
      if (!header)
        return fileError(source, "cannot read: " + header.getError().message());
      if (!sys::fs::exists(copy))
        created.push_back(std::string(copy));
      if (Error e = writeFileAtomically(copy, (*header)->getBuffer()))
        return e;
    }
    created.push_back(layout.header);
    if (Error e =
            writeFileAtomically(layout.header, libraryHeader(layout, options, target->name,
                                                             absoluteStore, tokenizer.has_value())))
      return e;
    std::string entrySource = withSuffix(prefix, ".entry.c");
    std::string entryObject = withSuffix(prefix, ".entry.o");
    temporaries.push_back(entrySource);
    temporaries.push_back(entryObject);
    if (Error e = writeFileAtomically(
            entrySource, libraryEntrySource(layout, options, layout.header, tokenizer.has_value())))
      return e;
    SmallString<256> headerDir(layout.header);
    sys::path::remove_filename(headerDir);
    if (Error e = compileC(entrySource, headerDir.empty() ? "." : headerDir.str(), *target, link,
                           entryObject))
      return e;
    objects.push_back(entryObject);
    if (Error e = writeStaticLibrary(objects, link.libraries, layout.archive))
      return e;
    created.push_back(layout.archive);
  } else {
    if (Error e = linkExecutable(objects, *target, link, options.output))
      return e;
  }
  if (options.embedWeights) {
    sys::fs::remove(storePath); // it lives in the executable or the library now
    llvm::erase(created, storePath);
  }
  timer.done();
  timer.progress().clear();

  // The summary: what was written, how large, and where the time went.
  std::string artifact = library ? layout.archive : options.output;
  uint64_t artifactBytes = fileBytes(artifact);
  std::string weightsWhere = options.embedWeights ? std::string("embedded weights") : storePath;
  errs() << formatv("deltac: compiled {0} for {1}: {2} ({3} KiB) and {4} ({5:f1} MiB)\n",
                    options.input, target->name, artifact, artifactBytes / 1024, weightsWhere,
                    double(stored->storeBytes) / (1 << 20));
  auto file = [](StringRef kind, StringRef path, StringRef size) {
    errs() << formatv("  {0,-10} {1}  {2}\n", kind, path, size);
  };
  file(library ? "library" : "executable", artifact, sizeText(artifactBytes));
  if (library)
    file("header", layout.header, "+ " + layout.runtimeHeader);
  if (options.embedWeights)
    file("weights", "embedded", sizeText(stored->storeBytes));
  else
    file("weights", storePath, sizeText(fileBytes(storePath)));
  if (tokenizer)
    file("tokenizer", "embedded", sizeText(tokenizer->size()));
  else
    file("tokenizer", "none", "(the model takes token ids only)");
  if (!library && !target->emulator.empty())
    errs() << formatv("  {0,-10} {1} {2}\n", "run with", target->emulator, artifact);
  if (!programOptions.cpuFeatures.empty())
    errs() << formatv("  {0,-10} {1} (checked when it starts)\n", "CPU",
                      programOptions.cpuFeatures);
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

Error checkTargetLibraries(const TargetInfo &target) {
  Expected<std::vector<std::string>> paths =
      linkLibraries(resources(), target, /*withMain=*/true, /*prebuiltKernels=*/true);
  return paths ? Error::success() : paths.takeError();
}

Error compileModel(const CompileOptions &options) {
  for (const std::string &name : options.disabledPasses)
    if (name != "all" && !llvm::is_contained(graphOptimizationNames(), StringRef(name)))
      return createStringError(inconvertibleErrorCode(),
                               "unknown --disable-pass '" + name +
                                   "' (fold-norm-scales, merge-linears, fuse-elementwise, "
                                   "remove-dead-work, pack-weights or all)");
  if (options.prefillLogits != "all" && options.prefillLogits != "last")
    return createStringError(inconvertibleErrorCode(), "unknown --prefill-logits '" +
                                                           options.prefillLogits +
                                                           "' (all or last)");
  if (options.prefillLogits == "last" &&
      (llvm::is_contained(options.disabledPasses, "remove-dead-work") ||
       llvm::is_contained(options.disabledPasses, "all")))
    return createStringError(inconvertibleErrorCode(),
                             "--prefill-logits=last is done by the remove-dead-work pass, which "
                             "--disable-pass leaves out");
  std::vector<std::string> created;
  Error e = runPipeline(options, created);
  // Never leave half a build behind: a store no output refers to, a header without its library.
  if (e)
    for (const std::string &path : created)
      sys::fs::remove(path);
  return e;
}

} // namespace deltac
