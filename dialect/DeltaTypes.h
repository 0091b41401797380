//===- DeltaTypes.h - delta dialect types -----------------------*- C++ -*-===//

#ifndef DELTAC_DIALECT_DELTATYPES_H
#define DELTAC_DIALECT_DELTATYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#include "dialect/DeltaAttributes.h"

#include "deltac/weight_store.h"

#include <optional>

#define GET_TYPEDEF_CLASSES
#include "dialect/DeltaTypes.h.inc"

namespace deltac::delta {

/// The logical shape of a weight operand: a float tensor's shape or a quantized weight's shape.
/// Empty for any other type.
llvm::ArrayRef<int64_t> getWeightShape(mlir::Type weightType);

/// The weight-store encoding (deltac/weight_store.h) a weight type is stored in, or std::nullopt
/// for a type no encoding holds. The weight store writer and the program emitter both use it, so a
/// store and the program that reads it agree on every tensor's dtype.
std::optional<dc_ws_dtype> getStoreDType(mlir::Type weightType);

} // namespace deltac::delta

#endif // DELTAC_DIALECT_DELTATYPES_H
