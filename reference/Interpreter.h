//===- Interpreter.h - run a delta module with the reference ops -*- C++ -*-===//
//
// Evaluates an entry point of a model module op by op with the double-precision reference ops,
// reading weights from a weight store and keeping the module's delta.state values between calls. It is
// the slowest possible deltac backend and the one every other is judged against: end to end it must
// reproduce transformers' logits and states (test/unit/OracleTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_REFERENCE_INTERPRETER_H
#define DELTAC_REFERENCE_INTERPRETER_H

#include "import/WeightStore.h"
#include "reference/ReferenceOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace deltac::ref {

class Interpreter {
public:
  /// `module` and `store` must outlive the interpreter. All state starts at zero.
  Interpreter(mlir::ModuleOp module, const WeightStore &store);

  /// Evaluates the delta rule with the chunked WY/UT algorithm for steps of more than one token
  /// (chunk > 0), or with the recurrence for every step (chunk = 0, the default).
  void setDeltaRuleChunk(int64_t chunk) { deltaRuleChunk = chunk; }

  /// Runs entry point `entry` (prefill or decode) on `tokens` starting at absolute position `start`,
  /// and returns its logits [T, V].
  llvm::Expected<Tensor> run(llvm::StringRef entry, const std::vector<int32_t> &tokens,
                             int64_t start);

  /// The current value of state `name`, or null.
  const Tensor *state(llvm::StringRef name) const;

private:
  llvm::Expected<const Tensor *> weight(llvm::StringRef name);

  mlir::ModuleOp module;
  const WeightStore &store;
  llvm::StringMap<Tensor> weights, states;
  int64_t deltaRuleChunk = 0;
};

/// Decodes a stored tensor (f32, f16, bf16 or GGML blocks) to doubles.
Tensor decodeStoredTensor(const WeightStore::Tensor &tensor);

} // namespace deltac::ref

#endif // DELTAC_REFERENCE_INTERPRETER_H
