//===- Passes.h - deltac graph passes ---------------------------*- C++ -*-===//

#ifndef DELTAC_PASSES_PASSES_H
#define DELTAC_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace deltac {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace deltac

#endif // DELTAC_PASSES_PASSES_H
