//===- KernelSpecializer.h - kernels compiled for one model's shapes -*- C++ -*-===//
//
// The portable kernels take every size as an argument. For a compiled model, deltac rebuilds them
// with the model's row lengths and head dimensions as compile-time constants: it writes a header
// defining DC_MODEL_DIMS (targets/portable/kernels/kernel_internal.h, DC_SPECIALIZE) and compiles
// each kernel source with it for the target, so the hot loops (linear rows, norms, the delta-rule
// step) get constant trip counts. Calls with other sizes still take the generic path.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_CODEGEN_KERNELSPECIALIZER_H
#define DELTAC_CODEGEN_KERNELSPECIALIZER_H

#include "codegen/Linker.h"
#include "codegen/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"

#include <set>

namespace deltac {

/// The sizes the kernels of `model` are specialized to: every row length of a linear, LM head, norm
/// or MoE projection, and the delta-rule and attention head dimensions.
std::set<int64_t> specializationDims(mlir::ModuleOp model);

/// The header text that specializes the kernels to `dims`.
std::string specializationHeader(const std::set<int64_t> &dims);

struct KernelSources {
  std::string directory;        ///< the portable kernel sources (*.c)
  std::string includeDirectory; ///< where deltac/kernel_abi.h is
};

/// Compiles every kernel source with `header` for `target` into objects in `workDir`; returns their
/// paths.
llvm::Expected<std::vector<std::string>> compileSpecializedKernels(const std::string &header,
                                                                   const TargetInfo &target,
                                                                   const LinkInputs &driver,
                                                                   const KernelSources &sources,
                                                                   llvm::StringRef workDir);

} // namespace deltac

#endif // DELTAC_CODEGEN_KERNELSPECIALIZER_H
