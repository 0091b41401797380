//===- DeltaTypesTest.cpp - delta types and attributes through the C++ API ===//

#include "dialect/DeltaOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/AsmParser/AsmParser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace deltac::delta;

namespace {

class DeltaTypesTest : public ::testing::Test {
protected:
  DeltaTypesTest() { context.loadDialect<DeltaDialect>(); }

  QuantSchemeAttr scheme(unsigned bits, int64_t group, FloatType offset = {}) {
    return QuantSchemeAttr::get(&context, IntegerType::get(&context, bits), group,
                                Float16Type::get(&context), offset);
  }

  /// Builds a quantized weight through the checked constructor; returns a null type and records the
  /// diagnostic when the verifier rejects it.
  QuantizedWeightType checked(ArrayRef<int64_t> shape, QuantSchemeAttr s, WeightLayout layout) {
    diagnostic.clear();
    return QuantizedWeightType::getChecked(
        [&] {
          return emitError(UnknownLoc::get(&context));
        },
        &context, shape, s, layout);
  }

  MLIRContext context;
  std::string diagnostic;
  /// The verifier's diagnostics go to `diagnostic` instead of stderr.
  ScopedDiagnosticHandler handler{&context, [this](Diagnostic &d) {
                                    diagnostic = d.str();
                                    return success();
                                  }};
};

TEST_F(DeltaTypesTest, StorageBytesOfRowMajorInt4) {
  auto type = QuantizedWeightType::get(&context, {2048, 1024}, scheme(4, 64),
                                       WeightLayout::row_major);
  EXPECT_EQ(type.getRows(), 2048);
  EXPECT_EQ(type.getRowLength(), 1024);
  EXPECT_EQ(type.getScheme().getGroupsPerRow(1024), 16);
  EXPECT_EQ(type.getStorageBytes(), 2048 * (512 + 16 * 2));
}

TEST_F(DeltaTypesTest, AsymmetricSchemeCountsOffsets) {
  QuantSchemeAttr s = scheme(4, 32, Float16Type::get(&context));
  EXPECT_TRUE(s.isAsymmetric());
  EXPECT_FALSE(scheme(4, 32).isAsymmetric());
  auto type = QuantizedWeightType::get(&context, {64, 64}, s, WeightLayout::ggml_blocks);
  EXPECT_EQ(type.getStorageBytes(), 64 * 2 * 20);
}

TEST_F(DeltaTypesTest, VerifierRejectsGroupThatDoesNotDivideRow) {
  EXPECT_FALSE(checked({64, 96}, scheme(4, 64), WeightLayout::row_major));
  EXPECT_NE(diagnostic.find("does not divide the row length 96"), std::string::npos) << diagnostic;
  EXPECT_TRUE(checked({64, 128}, scheme(4, 64), WeightLayout::row_major));
}

TEST_F(DeltaTypesTest, VerifierRejectsNonGgmlSchemeInGgmlLayout) {
  EXPECT_FALSE(checked({64, 128}, scheme(4, 64), WeightLayout::ggml_blocks));
  EXPECT_NE(diagnostic.find("ggml_blocks"), std::string::npos) << diagnostic;
  EXPECT_TRUE(checked({64, 128}, scheme(8, 32), WeightLayout::ggml_blocks));
}

// deltac's int4 blocks: groups of 64 and 128 only, and their size is the weight store's (34 / 36
// bytes per 64 values, 66 / 68 per 128).
TEST_F(DeltaTypesTest, BlocksLayoutHoldsInt4GroupsOf64And128) {
  auto g128 = checked({64, 256}, scheme(4, 128), WeightLayout::blocks);
  ASSERT_TRUE(g128);
  EXPECT_EQ(g128.getStorageBytes(), 64 * 2 * 66);
  auto g64 = checked({3, 192}, scheme(4, 64, Float16Type::get(&context)), WeightLayout::blocks);
  ASSERT_TRUE(g64);
  EXPECT_EQ(g64.getStorageBytes(), 3 * 3 * 36);
  EXPECT_FALSE(checked({64, 256}, scheme(4, 32), WeightLayout::blocks));
  EXPECT_NE(diagnostic.find("blocks layout holds only int4 groups of 64 or 128"),
            std::string::npos)
      << diagnostic;
  EXPECT_FALSE(checked({64, 256}, scheme(8, 64), WeightLayout::blocks));
  EXPECT_FALSE(checked({64, 192}, scheme(4, 128), WeightLayout::blocks));
}

// packed_x8 (the AVX2 kernels' Q4_0 rows) holds Q4_0 only, in Q4_0's bytes, as the q4_0_x8 store
// dtype.
TEST_F(DeltaTypesTest, PackedX8LayoutHoldsQ4_0Only) {
  auto q4 = checked({64, 288}, scheme(4, 32), WeightLayout::packed_x8);
  ASSERT_TRUE(q4);
  EXPECT_EQ(q4.getStorageBytes(), 64 * 9 * 18);
  EXPECT_EQ(getStoreDType(q4), DC_WS_Q4_0_X8);
  EXPECT_FALSE(checked({64, 288}, scheme(8, 32), WeightLayout::packed_x8));
  EXPECT_NE(diagnostic.find("packed_x8 layout holds only Q4_0 values"), std::string::npos)
      << diagnostic;
}

TEST_F(DeltaTypesTest, WeightShapeOfTensorsAndQuantizedWeights) {
  auto tensor = RankedTensorType::get({3584, 1024}, BFloat16Type::get(&context));
  EXPECT_EQ(getWeightShape(tensor), ArrayRef<int64_t>({3584, 1024}));
  auto quantized = QuantizedWeightType::get(&context, {8, 3584, 1024}, scheme(8, 0),
                                            WeightLayout::row_major);
  EXPECT_EQ(getWeightShape(quantized), ArrayRef<int64_t>({8, 3584, 1024}));
  EXPECT_TRUE(getWeightShape(IndexType::get(&context)).empty());
}

TEST_F(DeltaTypesTest, TypeRoundTripsThroughText) {
  const char *text = "!delta.qweight<6144x1024, #delta.quant<storage = i4, group_size = 32, "
                     "scale_type = f16, offset_type = bf16>, row_major>";
  Type parsed = parseType(text, &context);
  ASSERT_TRUE(parsed);
  auto type = dyn_cast<QuantizedWeightType>(parsed);
  ASSERT_TRUE(type);
  EXPECT_TRUE(type.getScheme().getOffsetType().isBF16());
  std::string printed;
  llvm::raw_string_ostream os(printed);
  Type(type).print(os);
  EXPECT_EQ(printed, text);
}

} // namespace
