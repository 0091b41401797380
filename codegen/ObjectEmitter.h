//===- ObjectEmitter.h - LLVM-dialect program to LLVM IR and objects -*- C++ -*-===//

#ifndef DELTAC_CODEGEN_OBJECTEMITTER_H
#define DELTAC_CODEGEN_OBJECTEMITTER_H

#include "codegen/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>

namespace deltac {

/// Translates the kernel-level module (LLVM dialect) to LLVM IR for `target`.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateProgram(mlir::ModuleOp program, const TargetInfo &target, llvm::LLVMContext &context);

/// Compiles `module` to a relocatable object for `target` and writes it to `path` atomically.
llvm::Error emitObject(llvm::Module &module, const TargetInfo &target, llvm::StringRef path);

} // namespace deltac

#endif // DELTAC_CODEGEN_OBJECTEMITTER_H
