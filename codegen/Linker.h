//===- Linker.h - link a program into an executable or a library -*- C++ -*-===//

#ifndef DELTAC_CODEGEN_LINKER_H
#define DELTAC_CODEGEN_LINKER_H

#include "codegen/TargetInfo.h"

#include <string>
#include <vector>

namespace deltac {

struct LinkInputs {
  std::string driver;                  ///< a clang driver that can link for the target
  std::vector<std::string> libraries;  ///< static libraries, in link order (runtime, kernels)
};

/// Links `objects` with the runtime and the target's kernels into an executable at `output`
/// (written under a temporary name, then renamed). The executable needs only libc, libm and
/// libpthread.
llvm::Error linkExecutable(llvm::ArrayRef<std::string> objects, const TargetInfo &target,
                           const LinkInputs &inputs, llvm::StringRef output);

/// Writes a static library at `output` holding `objects` and every member of the static libraries
/// `archives`: one merged archive of objects (not an archive of archives) with a symbol table, so a
/// user links it alone. Members keep their file names; the archive is deterministic (no timestamps
/// or owners) and written under a temporary name, then renamed: nothing is left at `output` on
/// failure.
llvm::Error writeStaticLibrary(llvm::ArrayRef<std::string> objects,
                               llvm::ArrayRef<std::string> archives, llvm::StringRef output);

/// Compiles the C source `source` for `target` into a position-independent object at `objectPath`
/// (C11, -O2), with `includeDirectory` on the include path.
llvm::Error compileC(llvm::StringRef source, llvm::StringRef includeDirectory,
                     const TargetInfo &target, const LinkInputs &inputs,
                     llvm::StringRef objectPath);

/// Assembles an object that carries the file at `path` in read-only data, between the symbols
/// `symbol` and `symbol`_end (64-byte aligned): the weight store of --embed-weights
/// (dc_embedded_weights) and the tokenizer blob (dc_embedded_tokenizer).
llvm::Error assembleEmbeddedFile(llvm::StringRef path, llvm::StringRef symbol,
                                 const TargetInfo &target, const LinkInputs &inputs,
                                 llvm::StringRef objectPath);

} // namespace deltac

#endif // DELTAC_CODEGEN_LINKER_H
