//===- VerifyHelpers.h - shared pieces of the op verifiers ------*- C++ -*-===//
//
// Internal to the dialect library. Every helper emits one op error that names the operand and says what
// was expected and what was found, so verifier messages read the same across ops.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_DIALECT_VERIFYHELPERS_H
#define DELTAC_DIALECT_VERIFYHELPERS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

namespace deltac::delta::verify {

/// Fails unless `type` is ranked with exactly `rank` dimensions.
mlir::LogicalResult rank(mlir::Operation *op, llvm::StringRef name, mlir::Type type, int64_t rank);

/// The shape of a tensor or quantized weight type.
llvm::ArrayRef<int64_t> shapeOf(mlir::Type type);

/// Fails unless dimension `dim` of `name` is compatible with `expected` (equal, or either dynamic);
/// `expectedWhat` says where `expected` comes from ("the hidden size of the input").
mlir::LogicalResult dim(mlir::Operation *op, llvm::StringRef name, mlir::Type type, unsigned dim,
                        int64_t expected, llvm::StringRef expectedWhat);

/// Fails unless `a` divides `b` (head counts); `what` names the relation.
mlir::LogicalResult divides(mlir::Operation *op, int64_t a, int64_t b, llvm::StringRef what);

/// Fails unless `eps` is positive and finite.
mlir::LogicalResult epsilon(mlir::Operation *op, llvm::APFloat eps);

/// Fails unless both types have the same element type.
mlir::LogicalResult sameElementType(mlir::Operation *op, llvm::StringRef nameA, mlir::Type a,
                                    llvm::StringRef nameB, mlir::Type b);

} // namespace deltac::delta::verify

#endif // DELTAC_DIALECT_VERIFYHELPERS_H
