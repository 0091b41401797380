//===- DeltaDialect.td - the delta dialect ---------------------*- tablegen -*-===//
//
// The `delta` dialect models hybrid delta-rule / gated-attention language models (Qwen3.5, Qwen3-Next,
// Qwen3.5-MoE) at the granularity of the model's own building blocks. See docs/design/dialect.md for why.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_DIALECT_DELTADIALECT_TD
#define DELTAC_DIALECT_DELTADIALECT_TD

include "mlir/IR/OpBase.td"

def Delta_Dialect : Dialect {
  let name = "delta";
  let cppNamespace = "::deltac::delta";
  let summary = "Operations of hybrid Gated DeltaNet / gated-attention language models";
  let description = [{
    The `delta` dialect describes one forward step of a hybrid language model: the layers of Qwen3.5
    (0.8B to 9B), Qwen3-Next and Qwen3.5-MoE, which interleave Gated DeltaNet (delta-rule linear attention
    with a fixed-size recurrent state) with gated softmax attention over a KV cache.

    Conventions shared by every op:

    * Activations are ranked tensors with value semantics. The leading dimension is the token count `T` of
      the step (1 for decode, the chunk length for prefill); it may be dynamic (`?`). There is no batch
      dimension: one compiled program serves one sequence.
    * Weights are never inline constants. Module-level `delta.weight` symbols name tensors in an external
      weight store and `delta.weight_ref` brings one into a function. A weight is either a float tensor or a
      `!delta.qweight` (integer codes with group scales).
    * Recurrent state (conv state, delta-rule state, KV cache) is module-level `delta.state`; ops that update
      state take the old value as an operand and return the new value as a result (see
      `StateUpdateOpInterface`), so the whole step is a pure function of its inputs.
    * Linear weights are PyTorch-shaped `[out, in]`.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

class Delta_Op<string mnemonic, list<Trait> traits = []>
    : Op<Delta_Dialect, mnemonic, traits>;

#endif // DELTAC_DIALECT_DELTADIALECT_TD
