//===- ProjectionOps.cpp - verifiers of embedding, linear, LM head, MoE ---===//

#include "dialect/DeltaOps.h"
#include "dialect/VerifyHelpers.h"

using namespace mlir;
using namespace deltac::delta;

LogicalResult EmbeddingOp::verify() {
  Type table = getTable().getType();
  auto result = getResult().getType();
  if (failed(verify::rank(*this, "table", table, 2)) ||
      failed(verify::rank(*this, "result", result, 2)) ||
      failed(verify::dim(*this, "result", result, 0, getIds().getType().getDimSize(0),
                         "the number of ids")) ||
      failed(verify::dim(*this, "result", result, 1, verify::shapeOf(table)[1],
                         "the table's row length")))
    return failure();
  return success();
}

/// Shared by linear and lm_head: input [.., K] times weight [N, K] gives result [.., N]. With
/// `mergedHalves` (a swiglu linear) the weight is [2N, K] and the result [.., N].
static LogicalResult verifyMatmul(Operation *op, RankedTensorType input, Type weight,
                                  RankedTensorType result, bool mergedHalves = false) {
  if (failed(verify::rank(op, "weight", weight, 2)))
    return failure();
  ArrayRef<int64_t> w = verify::shapeOf(weight);
  int64_t outputs = w[0];
  if (mergedHalves) {
    if (w[0] % 2 != 0)
      return op->emitOpError() << "a swiglu weight stacks [gate; up] rows and needs an even row "
                                  "count, got "
                               << w[0];
    outputs = w[0] / 2;
  }
  if (input.getRank() < 1)
    return op->emitOpError() << "input must have at least one dimension, got " << input;
  if (result.getRank() != input.getRank())
    return op->emitOpError() << "result must have the input's rank, got " << input << " and "
                             << result;
  int64_t last = input.getRank() - 1;
  if (failed(verify::dim(op, "weight", weight, 1, input.getDimSize(last),
                         "the input's last dimension")) ||
      failed(verify::dim(op, "result", result, last, outputs,
                         mergedHalves ? "half the weight's row count" : "the weight's row count")))
    return failure();
  for (int64_t d = 0; d < last; ++d)
    if (failed(verify::dim(op, "result", result, d, input.getDimSize(d), "the input's dimension")))
      return failure();
  return success();
}

LogicalResult LinearOp::verify() {
  if (failed(verify::sameElementType(*this, "input", getInput().getType(), "result",
                                     getResult().getType())))
    return failure();
  return verifyMatmul(*this, getInput().getType(), getWeight().getType(), getResult().getType(),
                      getSwiglu());
}

LogicalResult LMHeadOp::verify() {
  if (failed(verify::rank(*this, "input", getInput().getType(), 2)))
    return failure();
  return verifyMatmul(*this, getInput().getType(), getWeight().getType(), getResult().getType());
}

LogicalResult MoEOp::verify() {
  auto input = getInput().getType();
  if (failed(verify::rank(*this, "input", input, 2)) ||
      failed(verify::sameElementType(*this, "input", input, "result", getResult().getType())))
    return failure();
  if (Type(input) != getResult().getType())
    return emitOpError() << "result must have the input's type " << input << ", got "
                         << getResult().getType();
  int64_t hidden = input.getDimSize(1);

  Type router = getRouter().getType();
  if (failed(verify::rank(*this, "router", router, 2)) ||
      failed(verify::dim(*this, "router", router, 1, hidden, "the hidden size")))
    return failure();
  int64_t experts = verify::shapeOf(router)[0];

  Type gate = getGateWeights().getType();
  if (failed(verify::rank(*this, "expert gate weights", gate, 3)) ||
      failed(verify::dim(*this, "expert gate weights", gate, 0, experts, "the expert count")) ||
      failed(verify::dim(*this, "expert gate weights", gate, 2, hidden, "the hidden size")))
    return failure();
  int64_t intermediate = verify::shapeOf(gate)[1];
  Type up = getUpWeights().getType();
  if (verify::shapeOf(up) != verify::shapeOf(gate))
    return emitOpError() << "expert up weights must have the gate weights' shape, got " << up
                         << " and " << gate;
  Type down = getDownWeights().getType();
  if (failed(verify::rank(*this, "expert down weights", down, 3)) ||
      failed(verify::dim(*this, "expert down weights", down, 0, experts, "the expert count")) ||
      failed(verify::dim(*this, "expert down weights", down, 1, hidden, "the hidden size")) ||
      failed(verify::dim(*this, "expert down weights", down, 2, intermediate,
                         "the expert intermediate size")))
    return failure();

  int64_t topK = getTopK();
  if (topK < 1 || topK > experts)
    return emitOpError() << "top_k must be between 1 and the expert count " << experts
                         << ", got " << topK;

  Value sharedGate = getSharedGateWeight(), sharedUp = getSharedUpWeight();
  Value sharedDown = getSharedDownWeight(), sharedExpertGate = getSharedExpertGate();
  int present = !!sharedGate + !!sharedUp + !!sharedDown + !!sharedExpertGate;
  if (present == 0)
    return success();
  if (present != 4)
    return emitOpError() << "a shared expert needs all of gate, up, down and the shared expert "
                            "gate";
  Type sg = sharedGate.getType(), su = sharedUp.getType(), sd = sharedDown.getType();
  Type seg = sharedExpertGate.getType();
  if (failed(verify::rank(*this, "shared gate weight", sg, 2)) ||
      failed(verify::dim(*this, "shared gate weight", sg, 1, hidden, "the hidden size")))
    return failure();
  int64_t sharedIntermediate = verify::shapeOf(sg)[0];
  if (verify::shapeOf(su) != verify::shapeOf(sg))
    return emitOpError() << "shared up weight must have the shared gate weight's shape, got "
                         << su << " and " << sg;
  if (failed(verify::rank(*this, "shared down weight", sd, 2)) ||
      failed(verify::dim(*this, "shared down weight", sd, 0, hidden, "the hidden size")) ||
      failed(verify::dim(*this, "shared down weight", sd, 1, sharedIntermediate,
                         "the shared intermediate size")) ||
      failed(verify::rank(*this, "shared expert gate", seg, 2)) ||
      failed(verify::dim(*this, "shared expert gate", seg, 0, 1, "one output")) ||
      failed(verify::dim(*this, "shared expert gate", seg, 1, hidden, "the hidden size")))
    return failure();
  return success();
}
