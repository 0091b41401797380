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

/// Links `object` with the runtime and the target's kernels into an executable at `output`
/// (written under a temporary name, then renamed). The executable needs only libc, libm and
/// libpthread.
llvm::Error linkExecutable(llvm::StringRef object, const TargetInfo &target,
                           const LinkInputs &inputs, llvm::StringRef output);

} // namespace deltac

#endif // DELTAC_CODEGEN_LINKER_H
