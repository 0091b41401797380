//===- DeltaAttributes.h - delta dialect attributes and enums ---*- C++ -*-===//

#ifndef DELTAC_DIALECT_DELTAATTRIBUTES_H
#define DELTAC_DIALECT_DELTAATTRIBUTES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialect/DeltaDialect.h"
#include "dialect/DeltaEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/DeltaAttributes.h.inc"

#endif // DELTAC_DIALECT_DELTAATTRIBUTES_H
