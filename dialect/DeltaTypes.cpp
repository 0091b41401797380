//===- DeltaTypes.cpp - delta dialect types -------------------------------===//

#include "dialect/DeltaTypes.h"

#include "dialect/DeltaDialect.h"
#include "dialect/DeltaShapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace deltac::delta;

/// Parses a static dimension list without a trailing `x`: `6144x1024`.
static ParseResult parseDims(AsmParser &parser, SmallVector<int64_t> &dims) {
  return parser.parseDimensionList(dims, /*allowDynamic=*/false, /*withTrailingX=*/false);
}

static void printDims(AsmPrinter &printer, ArrayRef<int64_t> dims) {
  llvm::interleave(dims, printer.getStream(), "x");
}

#define GET_TYPEDEF_CLASSES
#include "dialect/DeltaTypes.cpp.inc"

void DeltaDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialect/DeltaTypes.cpp.inc"
      >();
}

static int64_t byteWidth(FloatType type) { return type ? type.getWidth() / 8 : 0; }

LogicalResult QuantizedWeightType::verify(function_ref<InFlightDiagnostic()> emitError,
                                          ArrayRef<int64_t> shape, QuantSchemeAttr scheme,
                                          WeightLayout layout) {
  if (shape.size() != 2 && shape.size() != 3)
    return emitError() << "quantized weight must be a matrix [N, K] or a stack of expert "
                          "matrices [E, N, K], got rank "
                       << shape.size();
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "quantized weight dimensions must be positive, got " << d;
  int64_t rowLength = shape.back();
  if (!groupsPerRow(rowLength, scheme.getGroupSize()))
    return emitError() << "group_size " << scheme.getGroupSize()
                       << " does not divide the row length " << rowLength;
  if (scheme.getStorage().getWidth() == 4 && rowLength % 2 != 0)
    return emitError() << "i4 rows must hold an even number of values, got " << rowLength;
  if (layout == WeightLayout::ggml_blocks) {
    bool isQ8_0 = scheme.getStorage().getWidth() == 8 && !scheme.isAsymmetric();
    bool isQ4_0 = scheme.getStorage().getWidth() == 4 && !scheme.isAsymmetric();
    bool isQ4_1 = scheme.getStorage().getWidth() == 4 && scheme.isAsymmetric() &&
                  scheme.getOffsetType().isF16();
    if (scheme.getGroupSize() != 32 || !scheme.getScaleType().isF16() ||
        !(isQ8_0 || isQ4_0 || isQ4_1))
      return emitError() << "ggml_blocks layout holds only GGUF Q8_0, Q4_0 and Q4_1 blocks "
                            "(group_size 32, f16 scale, f16 offset for Q4_1), got "
                         << scheme;
  }
  if (layout == WeightLayout::packed) {
    bool symmetric = !scheme.isAsymmetric() &&
                     (scheme.getStorage().getWidth() == 8 || scheme.getStorage().getWidth() == 4);
    if (scheme.getGroupSize() != 32 || !scheme.getScaleType().isF16() || !symmetric)
      return emitError() << "packed layout holds only Q8_0 and Q4_0 values (group_size 32, f16 "
                            "scale, symmetric), got "
                         << scheme;
  }
  if (layout == WeightLayout::packed_x8) {
    if (scheme.getGroupSize() != 32 || !scheme.getScaleType().isF16() || scheme.isAsymmetric() ||
        scheme.getStorage().getWidth() != 4)
      return emitError() << "packed_x8 layout holds only Q4_0 values (i4, group_size 32, f16 "
                            "scale, symmetric), got "
                         << scheme;
  }
  if (layout == WeightLayout::blocks) {
    bool groups = scheme.getGroupSize() == 64 || scheme.getGroupSize() == 128;
    bool offset = !scheme.isAsymmetric() || scheme.getOffsetType().isF16();
    if (scheme.getStorage().getWidth() != 4 || !groups || !scheme.getScaleType().isF16() || !offset)
      return emitError() << "blocks layout holds only int4 groups of 64 or 128 with an f16 scale "
                            "(and an f16 offset), got "
                         << scheme;
  }
  return success();
}

int64_t QuantizedWeightType::getStorageBytes() const {
  QuantSchemeAttr scheme = getScheme();
  return quantizedStorageBytes(getShape(), scheme.getStorage().getWidth(), scheme.getGroupSize(),
                               byteWidth(scheme.getScaleType()), byteWidth(scheme.getOffsetType()))
      .value_or(0);
}

ArrayRef<int64_t> deltac::delta::getWeightShape(Type weightType) {
  if (auto tensor = dyn_cast<RankedTensorType>(weightType))
    return tensor.getShape();
  if (auto quantized = dyn_cast<QuantizedWeightType>(weightType))
    return quantized.getShape();
  return {};
}

std::optional<dc_ws_dtype> deltac::delta::getStoreDType(Type type) {
  if (auto q = dyn_cast<QuantizedWeightType>(type)) {
    QuantSchemeAttr scheme = q.getScheme();
    if (q.getLayout() == WeightLayout::packed) // the type verifier admits only Q8_0 and Q4_0 here
      return scheme.getStorage().getWidth() == 8 ? DC_WS_Q8_0_PACKED : DC_WS_Q4_0_PACKED;
    if (q.getLayout() == WeightLayout::packed_x8) // only Q4_0
      return DC_WS_Q4_0_X8;
    if (q.getLayout() == WeightLayout::blocks && scheme.getStorage().getWidth() == 4) {
      // deltac's int4 groups (the type verifier admits only 64 and 128 here).
      if (scheme.getGroupSize() == 64)
        return scheme.isAsymmetric() ? DC_WS_Q4_1_G64 : DC_WS_Q4_0_G64;
      return scheme.isAsymmetric() ? DC_WS_Q4_1_G128 : DC_WS_Q4_0_G128;
    }
    if (scheme.getGroupSize() != 32 || q.getLayout() != WeightLayout::ggml_blocks)
      return std::nullopt;
    if (scheme.getStorage().getWidth() == 8)
      return scheme.isAsymmetric() ? std::nullopt : std::optional(DC_WS_Q8_0);
    if (scheme.getStorage().getWidth() == 4)
      return scheme.isAsymmetric() ? DC_WS_Q4_1 : DC_WS_Q4_0;
    return std::nullopt;
  }
  Type element = cast<RankedTensorType>(type).getElementType();
  if (element.isF32())
    return DC_WS_F32;
  if (element.isF16())
    return DC_WS_F16;
  if (element.isBF16())
    return DC_WS_BF16;
  return std::nullopt;
}
