//===- VerifyHelpers.cpp - shared pieces of the op verifiers --------------===//

#include "dialect/VerifyHelpers.h"

#include "dialect/DeltaShapes.h"
#include "dialect/DeltaTypes.h"

using namespace mlir;

namespace deltac::delta::verify {

static std::string dimString(int64_t d) {
  return d == ShapedType::kDynamic ? std::string("?") : std::to_string(d);
}

LogicalResult rank(Operation *op, StringRef name, Type type, int64_t expected) {
  int64_t actual = static_cast<int64_t>(shapeOf(type).size());
  if (actual == expected)
    return success();
  return op->emitOpError() << name << " must have rank " << expected << ", got " << type;
}

ArrayRef<int64_t> shapeOf(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type); shaped && shaped.hasRank())
    return shaped.getShape();
  return getWeightShape(type);
}

LogicalResult dim(Operation *op, StringRef name, Type type, unsigned index, int64_t expected,
                  StringRef expectedWhat) {
  ArrayRef<int64_t> shape = shapeOf(type);
  if (index < shape.size() && dimsCompatible(shape[index], expected))
    return success();
  return op->emitOpError() << name << " dimension " << index << " ("
                           << (index < shape.size() ? dimString(shape[index]) : "missing")
                           << ") must equal " << expectedWhat << " (" << dimString(expected)
                           << ")";
}

LogicalResult divides(Operation *op, int64_t a, int64_t b, StringRef what) {
  if (a == ShapedType::kDynamic || b == ShapedType::kDynamic || (a > 0 && b % a == 0))
    return success();
  return op->emitOpError() << what << ": " << b << " is not a multiple of " << a;
}

LogicalResult epsilon(Operation *op, llvm::APFloat eps) {
  if (eps.isFiniteNonZero() && !eps.isNegative())
    return success();
  return op->emitOpError() << "eps must be positive and finite, got " << eps.convertToDouble();
}

LogicalResult sameElementType(Operation *op, StringRef nameA, Type a, StringRef nameB, Type b) {
  Type ea = cast<ShapedType>(a).getElementType();
  Type eb = cast<ShapedType>(b).getElementType();
  if (ea == eb)
    return success();
  return op->emitOpError() << nameA << " and " << nameB
                           << " must have the same element type, got " << ea << " and " << eb;
}

} // namespace deltac::delta::verify
