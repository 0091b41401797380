//===- DeltaDialect.h - the delta dialect -----------------------*- C++ -*-===//

#ifndef DELTAC_DIALECT_DELTADIALECT_H
#define DELTAC_DIALECT_DELTADIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialect/DeltaDialect.h.inc"

#endif // DELTAC_DIALECT_DELTADIALECT_H
