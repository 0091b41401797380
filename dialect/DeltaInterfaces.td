//===- DeltaInterfaces.td - delta dialect op interfaces --------*- tablegen -*-===//

#ifndef DELTAC_DIALECT_DELTAINTERFACES_TD
#define DELTAC_DIALECT_DELTAINTERFACES_TD

include "mlir/IR/OpBase.td"

def Delta_StateUpdateOpInterface : OpInterface<"StateUpdateOpInterface"> {
  let cppNamespace = "::deltac::delta";
  let description = [{
    An op that reads a piece of recurrent state (conv state, delta-rule state, KV cache) as an operand and
    returns its updated value as a result. The pair (operand, result) is *tied*: both have the same type,
    and buffer planning may update the state in place because nothing reads the old value afterwards in a
    well-formed model (`delta-verify-model` checks this).
  }];
  let methods = [
    InterfaceMethod<
      "The state operands, in the same order as getUpdatedStates().",
      "::mlir::OperandRange", "getStateOperands">,
    InterfaceMethod<
      "The results holding the updated state, one for each state operand.",
      "::mlir::ResultRange", "getUpdatedStates">
  ];
  let verify = [{
    return ::deltac::delta::detail::verifyStateUpdateOp($_op);
  }];
}

#endif // DELTAC_DIALECT_DELTAINTERFACES_TD
