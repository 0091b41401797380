//===- DeltaAttributes.cpp - delta dialect attributes ---------------------===//

#include "dialect/DeltaAttributes.h"

#include "dialect/DeltaDialect.h"
#include "dialect/DeltaShapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace deltac::delta;

#include "dialect/DeltaEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/DeltaAttributes.cpp.inc"

void DeltaDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/DeltaAttributes.cpp.inc"
      >();
}

LogicalResult QuantSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                      IntegerType storage, int64_t groupSize, FloatType scaleType,
                                      FloatType offsetType) {
  unsigned width = storage.getWidth();
  if (width != 4 && width != 8)
    return emitError() << "quantized storage must be i4 or i8, got " << storage;
  if (!storage.isSignless())
    return emitError() << "quantized storage must be signless (i4 or i8); the scheme's "
                          "offset decides whether codes are signed, got "
                       << storage;
  if (groupSize < 0)
    return emitError() << "group_size must be positive, or 0 for one group per row, got "
                       << groupSize;
  if (groupSize > 0 && width == 4 && groupSize % 2 != 0)
    return emitError() << "i4 groups must hold an even number of values, got group_size "
                       << groupSize;
  if (!scaleType.isF16() && !scaleType.isBF16() && !scaleType.isF32())
    return emitError() << "scale_type must be f16, bf16 or f32, got " << scaleType;
  if (offsetType && !offsetType.isF16() && !offsetType.isBF16() && !offsetType.isF32())
    return emitError() << "offset_type must be f16, bf16 or f32, got " << offsetType;
  return success();
}

int64_t QuantSchemeAttr::getGroupsPerRow(int64_t rowLength) const {
  return groupsPerRow(rowLength, getGroupSize()).value_or(0);
}
