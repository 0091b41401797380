//===- ProgramEmitter.h - delta module to an LLVM-dialect program -*- C++ -*-===//
//
// Lowers a model module (delta ops over tensors) to the kernel-call level: an LLVM-dialect module whose
// entry points call one dc_op_* function per op on planned buffers, plus the `dc_model_program` table
// (runtime/include/deltac/program.h) the runtime binds to.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_CODEGEN_PROGRAMEMITTER_H
#define DELTAC_CODEGEN_PROGRAMEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace deltac {

struct ProgramOptions {
  std::string target;      ///< recorded in the table
  std::string cpuFeatures; ///< dc_program.cpu_features (requiredCpuFeatures of the target)
  int64_t maxTokens = 512; ///< largest prefill call
};

/// Summary of what was emitted, for the compile report.
struct ProgramSummary {
  int64_t weights = 0, states = 0, kernelCalls = 0, arenaBytes = 0, stateBytes = 0;
};

/// Builds the kernel-level module from `model` (which must have passed delta-verify-model).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
emitProgram(mlir::ModuleOp model, const ProgramOptions &options, ProgramSummary *summary);

} // namespace deltac

#endif // DELTAC_CODEGEN_PROGRAMEMITTER_H
