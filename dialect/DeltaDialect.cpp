//===- DeltaDialect.cpp - the delta dialect -------------------------------===//

#include "dialect/DeltaDialect.h"

#include "dialect/DeltaOps.h"
#include "dialect/DeltaShapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace deltac::delta;

static_assert(kDynamicDim == ShapedType::kDynamic,
              "DeltaShapes' dynamic-dimension marker must be MLIR's");

#include "dialect/DeltaDialect.cpp.inc"

void DeltaDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "dialect/DeltaOps.cpp.inc"
      >();
}
