//===- DerivedWeights.h - declaring derived weights from passes -*- C++ -*-===//
//
// Shared by the passes that rewrite weights (fold-norm-scales, merge-linears, remove-dead-work): they
// never touch values, they declare derived delta.weight ops (docs/design/weights.md).
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_PASSES_DERIVEDWEIGHTS_H
#define DELTAC_PASSES_DERIVEDWEIGHTS_H

#include "dialect/DeltaOps.h"

#include "mlir/IR/SymbolTable.h"

#include <string>

namespace deltac {

/// The name of the concatenation of `names`: shared leading and trailing name components once, the
/// differing middles joined by '+' ("a.b.x.weight", "a.b.y.weight" -> "a.b.x+y.weight").
std::string concatenatedWeightName(llvm::ArrayRef<llvm::StringRef> names);

/// The matrix weight type `type` ([N, K], float or quantized) with `rows` rows instead of N.
mlir::Type matrixWithRows(mlir::Type type, int64_t rows);

/// Declares weight `name` = derivation(sources) of `type` right after `after`, or returns the
/// existing declaration of that name if it has exactly this definition (prefill and decode derive the
/// same weights). Fails, with an error on the existing op, if the name holds another definition.
mlir::FailureOr<delta::WeightOp>
declareDerivedWeight(mlir::SymbolTable &symbols, llvm::StringRef name, mlir::Type type,
                     delta::WeightDerivation derivation, llvm::ArrayRef<llvm::StringRef> sources,
                     delta::WeightOp after);

} // namespace deltac

#endif // DELTAC_PASSES_DERIVEDWEIGHTS_H
