//===- NormOps.cpp - verifiers of the normalization ops -------------------===//

#include "dialect/DeltaOps.h"
#include "dialect/VerifyHelpers.h"

using namespace mlir;
using namespace deltac::delta;

/// A row-wise norm normalizes over the last dimension of `input`, which must be static, and scales by
/// a `[D]` weight (when there is one).
static LogicalResult verifyRowNorm(Operation *op, RankedTensorType input, Type weight,
                                   APFloat eps) {
  if (input.getRank() < 1 || input.isDynamicDim(input.getRank() - 1))
    return op->emitOpError() << "input must have a static last dimension, got " << input;
  if (weight) {
    if (failed(verify::rank(op, "weight", weight, 1)) ||
        failed(verify::dim(op, "weight", weight, 0, input.getShape().back(),
                           "the input's last dimension")))
      return failure();
  }
  return verify::epsilon(op, eps);
}

LogicalResult RMSNormOp::verify() {
  bool wantsWeight = getScale() != NormScale::none;
  if (wantsWeight != bool(getWeight()))
    return emitOpError() << (wantsWeight ? "needs a weight for scale '" : "takes no weight with scale '")
                         << stringifyEnum(getScale()) << "'";
  return verifyRowNorm(*this, getInput().getType(), getWeight() ? getWeight().getType() : Type(),
                       getEps());
}

LogicalResult L2NormOp::verify() {
  return verifyRowNorm(*this, getInput().getType(), Type(), getEps());
}

LogicalResult GatedRMSNormOp::verify() {
  return verifyRowNorm(*this, getInput().getType(), getWeight().getType(), getEps());
}
