//===- Linker.h - link a program object into an executable ------*- C++ -*-===//

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

/// Assembles an object that carries the weight store at `storePath` in read-only data, between the
/// symbols dc_embedded_weights and dc_embedded_weights_end (64-byte aligned), for
/// --embed-weights.
llvm::Error assembleEmbeddedWeights(llvm::StringRef storePath, const TargetInfo &target,
                                    const LinkInputs &inputs, llvm::StringRef objectPath);

} // namespace deltac

#endif // DELTAC_CODEGEN_LINKER_H
