//===- DeltaOps.h - delta dialect operations --------------------*- C++ -*-===//

#ifndef DELTAC_DIALECT_DELTAOPS_H
#define DELTAC_DIALECT_DELTAOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/DeltaAttributes.h"
#include "dialect/DeltaDialect.h"
#include "dialect/DeltaTypes.h"

namespace deltac::delta::detail {
/// Checks the StateUpdateOpInterface contract: as many updated states as state operands, pairwise of
/// equal type.
mlir::LogicalResult verifyStateUpdateOp(mlir::Operation *op);
} // namespace deltac::delta::detail

#include "dialect/DeltaInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialect/DeltaOps.h.inc"

#endif // DELTAC_DIALECT_DELTAOPS_H
