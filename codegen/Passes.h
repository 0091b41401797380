//===- Passes.h - deltac lowering passes ------------------------*- C++ -*-===//

#ifndef DELTAC_CODEGEN_PASSES_H
#define DELTAC_CODEGEN_PASSES_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace deltac {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

} // namespace deltac

#endif // DELTAC_CODEGEN_PASSES_H
