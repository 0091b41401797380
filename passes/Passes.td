//===- Passes.td - deltac graph passes -------------------------*- tablegen -*-===//

#ifndef DELTAC_PASSES_PASSES_TD
#define DELTAC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def VerifyModel : Pass<"delta-verify-model", "::mlir::ModuleOp"> {
  let summary = "Checks model-level invariants that no single op verifier can see";
  let description = [{
    Op verifiers check each op against its operands. This pass checks how a whole model module uses its
    weights and state, the mistakes an importer or a graph rewrite can make without breaking any op:

    * every `delta.state` read in a function is written back in that function exactly once, after the
      read (otherwise a step silently drops its state update);
    * no function writes a state it has not read (the old value would be lost unread — a sign of a
      state threaded to the wrong layer);
    * a state value is consumed by at most one state-updating op, so the update can happen in place;
    * every declared weight and state is used by some function (`delta.weight` symbols that are
      private are better removed with `symbol-dce`; this pass reports the public ones).

    The pass changes nothing. Example of what it rejects:

    ```mlir
    delta.state @conv : tensor<3x64xf32>
    func.func @decode(%x: tensor<1x64xf32>, %w: tensor<64x4xf32>) -> tensor<1x64xf32> {
      %s = delta.state_read @conv : tensor<3x64xf32>
      %y, %s1 = delta.causal_conv1d %x, %w, %s activation(silu) : ...
      // error: state @conv is read but its update is never written back
      return %y : tensor<1x64xf32>
    }
    ```
  }];
  let statistics = [
    Statistic<"numStatesChecked", "states-checked", "state symbols checked">,
    Statistic<"numWeightsChecked", "weights-checked", "weight symbols checked">
  ];
}

#endif // DELTAC_PASSES_PASSES_TD
