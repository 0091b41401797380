//===- KernelSpecializer.h - kernels compiled for one model's shapes -*- C++ -*-===//
//
// The portable kernels take every size as an argument. For a compiled model, deltac rebuilds them
// with the model's row lengths and head dimensions as compile-time constants: it writes a header
// defining one list of sizes per kernel family (targets/portable/kernels/kernel_internal.h,
// DC_SPECIALIZE) and compiles each kernel source with it for the target, so the hot loops (linear
// rows, norms, the delta-rule step) get constant trip counts. Calls with other sizes still take the
// generic path. Each family gets only the sizes its kernels run at, since every size is one more
// copy of the family's loops for the C compiler to optimize.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_CODEGEN_KERNELSPECIALIZER_H
#define DELTAC_CODEGEN_KERNELSPECIALIZER_H

#include "codegen/Linker.h"
#include "codegen/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"

#include <atomic>
#include <set>

namespace deltac {

/// The sizes the kernels of a model are specialized to, one set per macro of kernel_internal.h.
struct SpecializationDims {
  /// DC_MODEL_ROW_DIMS: the row lengths the float-activation linear driver runs (linears and LM
  /// heads that do not take the int8-activation kernels).
  std::set<int64_t> rows;
  std::set<int64_t> experts; ///< DC_MODEL_EXPERT_DIMS: MoE router and expert row lengths
  std::set<int64_t> norms;   ///< DC_MODEL_NORM_DIMS: rms, l2 and gated rms norm row lengths
  std::set<int64_t> keys;    ///< DC_MODEL_KEY_DIMS: delta-rule key head dimensions (dk)
  std::set<int64_t> values;  ///< DC_MODEL_VALUE_DIMS: delta-rule value head dimensions (dv)
};

/// The sizes the kernels of `model` run at, per family.
SpecializationDims specializationDims(mlir::ModuleOp model);

/// The header text that specializes the kernels to `dims`.
std::string specializationHeader(const SpecializationDims &dims);

struct KernelSources {
  std::string directory;        ///< the portable kernel sources (*.c)
  std::string includeDirectory; ///< where deltac/kernel_abi.h is
};

/// Compiles every kernel source with `header` for `target` into objects in `workDir`; returns their
/// paths. Once `*stop` (when given) is set, no further compiler process starts: the call waits for
/// the running ones and returns an error.
llvm::Expected<std::vector<std::string>>
compileSpecializedKernels(const std::string &header, const TargetInfo &target,
                          const LinkInputs &driver, const KernelSources &sources,
                          llvm::StringRef workDir, const std::atomic<bool> *stop = nullptr);

} // namespace deltac

#endif // DELTAC_CODEGEN_KERNELSPECIALIZER_H
