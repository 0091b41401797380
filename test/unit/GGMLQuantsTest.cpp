//===- GGMLQuantsTest.cpp - GGML block formats against gguf-py fixtures ---===//
//
// The fixtures under Inputs/ggml/ come from test/reference/ggml_quant_fixtures.py (gguf-py 0.17.1).
// Decoders and encoders must match them bit for bit; the remaining tests check properties that do
// not depend on the oracle (sizes, rounding rules, quantization error bounds).
//
//===----------------------------------------------------------------------===//

#include "import/GGMLQuants.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace deltac::ggml;

namespace {

std::vector<uint8_t> readFixture(const std::string &name) {
  const std::string path = std::string(DELTAC_TEST_INPUTS) + "/ggml/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path
                         << " (regenerate with test/reference/ggml_quant_fixtures.py)";
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// Fixtures are little-endian whatever the host is.
std::vector<float> decodeF32(const std::vector<uint8_t> &bytes) {
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t *p = &bytes[4 * i];
    out[i] =
        floatOf(uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
  }
  return out;
}

std::vector<uint16_t> decodeU16(const std::vector<uint8_t> &bytes) {
  std::vector<uint16_t> out(bytes.size() / 2);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
  return out;
}

// AssertionResult streams each insertion separately, so std::hex would not stick.
std::string hexBits(float f) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", static_cast<unsigned>(bitsOf(f)));
  return text;
}

// Compares float bit patterns and names the first mismatch, which is what one needs to debug a
// layout error.
::testing::AssertionResult sameBits(const std::vector<float> &expected,
                                    const std::vector<float> &actual) {
  if (expected.size() != actual.size())
    return ::testing::AssertionFailure()
           << "size " << actual.size() << ", expected " << expected.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    if (bitsOf(expected[i]) != bitsOf(actual[i]))
      return ::testing::AssertionFailure()
             << "first mismatch at index " << i << ": got " << actual[i] << " ("
             << hexBits(actual[i]) << "), expected " << expected[i] << " (" << hexBits(expected[i])
             << ")";
  }
  return ::testing::AssertionSuccess();
}

uint16_t loadHalfBits(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

constexpr uint32_t kSentinel = 0x7FBADBADu; // a NaN no decoder produces

// ---- Dequantization fixtures ------------------------------------------------------------------

struct BlockFixture {
  GGMLType type;
  const char *stem;
};

// Names the format in gtest's parameter dumps instead of printing raw bytes.
void PrintTo(const BlockFixture &fixture, std::ostream *os) { *os << fixture.stem; }

class DequantizeFixtureTest : public ::testing::TestWithParam<BlockFixture> {};

TEST_P(DequantizeFixtureTest, MatchesGgufPyBitExactly) {
  const BlockFixture &param = GetParam();
  const std::vector<uint8_t> blocks = readFixture(std::string(param.stem) + ".blocks");
  const std::vector<float> expected =
      decodeF32(readFixture(std::string(param.stem) + ".dequant.f32"));
  ASSERT_FALSE(expected.empty());
  const int64_t n = static_cast<int64_t>(expected.size());
  ASSERT_EQ(rowBytes(static_cast<uint32_t>(param.type), n), blocks.size());

  // One extra slot catches a decoder that writes past n.
  std::vector<float> actual(expected.size() + 1, floatOf(kSentinel));
  ASSERT_TRUE(dequantizeRow(param.type, blocks.data(), actual.data(), n));
  EXPECT_EQ(bitsOf(actual.back()), kSentinel) << "wrote past the end of the row";
  actual.pop_back();
  EXPECT_TRUE(sameBits(expected, actual));

  // Decoding block by block from an odd address must give the same values: the decoders may not
  // rely on alignment or on state carried between blocks.
  const TypeTraits traits = *getTypeTraits(static_cast<uint32_t>(param.type));
  std::vector<uint8_t> shifted(blocks.size() + 1);
  std::memcpy(shifted.data() + 1, blocks.data(), blocks.size());
  std::vector<float> perBlock(expected.size());
  for (int64_t b = 0; b < n / traits.blockSize; ++b)
    ASSERT_TRUE(dequantizeRow(param.type, shifted.data() + 1 + b * traits.bytesPerBlock,
                              perBlock.data() + b * traits.blockSize, traits.blockSize));
  EXPECT_TRUE(sameBits(expected, perBlock));
}

INSTANTIATE_TEST_SUITE_P(
    Formats, DequantizeFixtureTest,
    ::testing::Values(BlockFixture{GGMLType::Q8_0, "q8_0"}, BlockFixture{GGMLType::Q4_0, "q4_0"},
                      BlockFixture{GGMLType::Q4_1, "q4_1"}, BlockFixture{GGMLType::Q4_K, "q4_k"},
                      BlockFixture{GGMLType::Q5_K, "q5_k"}, BlockFixture{GGMLType::Q6_K, "q6_k"}),
    [](const auto &info) { return std::string(info.param.stem); });

// F16 and BF16 rows decode through dequantizeRow as well as the scalar conversions.
TEST(DequantizeRow, HalfFormatsMatchFixtures) {
  for (auto [type, stem] : {std::pair{GGMLType::F16, "f16"}, std::pair{GGMLType::BF16, "bf16"}}) {
    SCOPED_TRACE(stem);
    const std::vector<uint8_t> bits = readFixture(std::string(stem) + ".bits");
    const std::vector<float> expected = decodeF32(readFixture(std::string(stem) + ".dequant.f32"));
    ASSERT_EQ(bits.size(), 2 * expected.size());
    std::vector<float> actual(expected.size());
    ASSERT_TRUE(
        dequantizeRow(type, bits.data(), actual.data(), static_cast<int64_t>(actual.size())));
    EXPECT_TRUE(sameBits(expected, actual));
  }
}

TEST(DequantizeRow, F32IsACopy) {
  const std::vector<float> values = {1.0f, -0.0f, floatOf(0x7FC00123), 3.5e-42f};
  std::vector<float> out(values.size());
  ASSERT_TRUE(dequantizeRow(GGMLType::F32, values.data(), out.data(), 4));
  EXPECT_TRUE(sameBits(values, out));
}

TEST(DequantizeRow, RejectsUnsupportedTypesAndBadLengths) {
  std::vector<uint8_t> src(4096, 0x11);
  std::vector<float> dst(512, floatOf(kSentinel));
  for (GGMLType type :
       {GGMLType::Q5_0, GGMLType::Q5_1, GGMLType::Q8_1, GGMLType::Q2_K, GGMLType::Q3_K,
        GGMLType::Q8_K, GGMLType::IQ4_NL, GGMLType::I8, GGMLType::F64, GGMLType::TQ2_0,
        static_cast<GGMLType>(4u), static_cast<GGMLType>(1000u)})
    EXPECT_FALSE(dequantizeRow(type, src.data(), dst.data(), 256)) << static_cast<uint32_t>(type);
  EXPECT_FALSE(dequantizeRow(GGMLType::Q8_0, src.data(), dst.data(), 33));
  EXPECT_FALSE(dequantizeRow(GGMLType::Q4_K, src.data(), dst.data(), 128));
  EXPECT_FALSE(dequantizeRow(GGMLType::Q6_K, src.data(), dst.data(), -256));
  for (float f : dst)
    ASSERT_EQ(bitsOf(f), kSentinel) << "a rejected call wrote output";
  EXPECT_TRUE(dequantizeRow(GGMLType::Q4_K, src.data(), dst.data(), 0));
}

// ---- Quantization fixtures --------------------------------------------------------------------

class QuantizeFixtureTest : public ::testing::TestWithParam<BlockFixture> {};

TEST_P(QuantizeFixtureTest, MatchesGgufPyByteExactly) {
  const BlockFixture &param = GetParam();
  const std::vector<float> source = decodeF32(readFixture(std::string(param.stem) + ".source.f32"));
  const std::vector<uint8_t> expected = readFixture(std::string(param.stem) + ".quant");
  ASSERT_FALSE(source.empty());
  const int64_t n = static_cast<int64_t>(source.size());
  ASSERT_EQ(rowBytes(static_cast<uint32_t>(param.type), n), expected.size());

  std::vector<uint8_t> actual(expected.size() + 1, 0xA5);
  ASSERT_TRUE(quantizeRow(param.type, source.data(), actual.data(), n));
  EXPECT_EQ(actual.back(), 0xA5) << "wrote past the end of the row";
  actual.pop_back();
  const int64_t blockBytes = getTypeTraits(static_cast<uint32_t>(param.type))->bytesPerBlock;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(int(actual[i]), int(expected[i]))
        << "first mismatch at byte " << i << " (block " << i / blockBytes << ", offset "
        << i % blockBytes << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, QuantizeFixtureTest,
                         ::testing::Values(BlockFixture{GGMLType::Q8_0, "q8_0"},
                                           BlockFixture{GGMLType::Q4_0, "q4_0"},
                                           BlockFixture{GGMLType::Q4_1, "q4_1"}),
                         [](const auto &info) { return std::string(info.param.stem); });

TEST(QuantizeRow, RejectsOtherTypesAndBadLengths) {
  std::vector<float> src(256, 1.0f);
  std::vector<uint8_t> dst(1024, 0xA5);
  for (GGMLType type : {GGMLType::F32, GGMLType::F16, GGMLType::BF16, GGMLType::Q4_K,
                        GGMLType::Q5_K, GGMLType::Q6_K, GGMLType::Q5_0, GGMLType::Q8_1})
    EXPECT_FALSE(quantizeRow(type, src.data(), dst.data(), 256)) << static_cast<uint32_t>(type);
  EXPECT_FALSE(quantizeRow(GGMLType::Q8_0, src.data(), dst.data(), 48));
  EXPECT_FALSE(quantizeRow(GGMLType::Q4_0, src.data(), dst.data(), -32));
  for (uint8_t byte : dst)
    ASSERT_EQ(byte, 0xA5) << "a rejected call wrote output";
}

// ---- Type traits and row sizes ------------------------------------------------------------------

struct ExpectedTraits {
  uint32_t id;
  const char *name;
  int64_t blockSize;
  int64_t bytesPerBlock;
  bool canDequantize;
};

// Sizes from ggml's block structs (ggml-common.h).
constexpr ExpectedTraits kExpectedTraits[] = {
    {0, "f32", 1, 4, true},          {1, "f16", 1, 2, true},
    {2, "q4_0", 32, 18, true},       {3, "q4_1", 32, 20, true},
    {6, "q5_0", 32, 22, false},      {7, "q5_1", 32, 24, false},
    {8, "q8_0", 32, 34, true},       {9, "q8_1", 32, 36, false},
    {10, "q2_K", 256, 84, false},    {11, "q3_K", 256, 110, false},
    {12, "q4_K", 256, 144, true},    {13, "q5_K", 256, 176, true},
    {14, "q6_K", 256, 210, true},    {15, "q8_K", 256, 292, false},
    {16, "iq2_xxs", 256, 66, false}, {17, "iq2_xs", 256, 74, false},
    {18, "iq3_xxs", 256, 98, false}, {19, "iq1_s", 256, 50, false},
    {20, "iq4_nl", 32, 18, false},   {21, "iq3_s", 256, 110, false},
    {22, "iq2_s", 256, 82, false},   {23, "iq4_xs", 256, 136, false},
    {24, "i8", 1, 1, false},         {25, "i16", 1, 2, false},
    {26, "i32", 1, 4, false},        {27, "i64", 1, 8, false},
    {28, "f64", 1, 8, false},        {29, "iq1_m", 256, 56, false},
    {30, "bf16", 1, 2, true},        {34, "tq1_0", 256, 54, false},
    {35, "tq2_0", 256, 66, false},   {39, "mxfp4", 32, 17, false},
};

TEST(TypeTraits, MatchGgmlBlockSizes) {
  for (const ExpectedTraits &e : kExpectedTraits) {
    SCOPED_TRACE(e.name);
    std::optional<TypeTraits> traits = getTypeTraits(e.id);
    ASSERT_TRUE(traits.has_value());
    EXPECT_STREQ(traits->name, e.name);
    EXPECT_EQ(traits->blockSize, e.blockSize);
    EXPECT_EQ(traits->bytesPerBlock, e.bytesPerBlock);
    EXPECT_EQ(traits->canDequantize, e.canDequantize);
  }
}

TEST(TypeTraits, UnknownIdsAreRejected) {
  for (uint32_t id :
       {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 41u, 255u, 0x80000000u, 0xFFFFFFFFu}) {
    EXPECT_FALSE(getTypeTraits(id).has_value()) << id;
    EXPECT_FALSE(rowBytes(id, 256).has_value()) << id;
  }
}

TEST(RowBytes, ScalesWithBlocks) {
  for (const ExpectedTraits &e : kExpectedTraits) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(rowBytes(e.id, 0), 0u);
    EXPECT_EQ(rowBytes(e.id, e.blockSize), uint64_t(e.bytesPerBlock));
    EXPECT_EQ(rowBytes(e.id, 1024 * e.blockSize), uint64_t(1024 * e.bytesPerBlock));
  }
  EXPECT_EQ(rowBytes(uint32_t(GGMLType::Q8_0), 4096), 4352u);
  EXPECT_EQ(rowBytes(uint32_t(GGMLType::Q6_K), 5120), 4200u);
}

TEST(RowBytes, RejectsPartialBlocksAndNegativeLengths) {
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::Q8_0), 33).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::Q4_0), 16).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::Q4_K), 128).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::Q6_K), 257).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::F32), -1).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::Q8_0), -32).has_value());
}

TEST(RowBytes, DetectsOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // 2^62 floats need 2^64 bytes, one past the range; one value fewer fits exactly.
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::F32), kMax).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::F64), kMax).has_value());
  EXPECT_FALSE(rowBytes(uint32_t(GGMLType::F32), int64_t(1) << 62).has_value());
  EXPECT_EQ(rowBytes(uint32_t(GGMLType::F32), (int64_t(1) << 62) - 1),
            std::numeric_limits<uint64_t>::max() - 3);
  // Block formats pack values densely enough that the longest int64 row still fits.
  EXPECT_EQ(rowBytes(uint32_t(GGMLType::Q8_0), kMax / 32 * 32), uint64_t(kMax / 32) * 34u);
  EXPECT_EQ(rowBytes(uint32_t(GGMLType::I8), kMax), uint64_t(kMax));
}

// ---- fp16 ---------------------------------------------------------------------------------------

bool isHalfNaN(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }

TEST(Fp16, MatchesNumpyOnFixture) {
  const std::vector<float> source = decodeF32(readFixture("f16.source.f32"));
  const std::vector<uint16_t> expected = decodeU16(readFixture("f16.bits"));
  ASSERT_EQ(source.size(), expected.size());
  ASSERT_FALSE(source.empty());
  for (size_t i = 0; i < source.size(); ++i) {
    const uint16_t actual = floatToFp16(source[i]);
    if (std::isnan(source[i]))
      EXPECT_TRUE(isHalfNaN(actual)) << "index " << i;
    else
      ASSERT_EQ(actual, expected[i]) << "first mismatch at index " << i << ", input " << source[i]
                                     << " (0x" << std::hex << bitsOf(source[i]) << ")";
  }
}

// Every half decodes to the value its fields define, computed here independently with ldexp.
TEST(Fp16, DecodesAllHalvesExactly) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float sign = (h & 0x8000) ? -1.0f : 1.0f;
    const int exponent = (h >> 10) & 0x1F;
    const int mantissa = h & 0x3FF;
    const float value = fp16ToFloat(static_cast<uint16_t>(h));
    if (exponent == 0x1F && mantissa != 0) {
      ASSERT_TRUE(std::isnan(value)) << std::hex << h;
      continue;
    }
    float expected;
    if (exponent == 0x1F)
      expected = sign * std::numeric_limits<float>::infinity();
    else if (exponent == 0)
      expected = sign * std::ldexp(float(mantissa), -24);
    else
      expected = sign * std::ldexp(float(mantissa + 1024), exponent - 25);
    ASSERT_EQ(bitsOf(value), bitsOf(expected)) << "half 0x" << std::hex << h;
  }
}

TEST(Fp16, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const uint16_t back = floatToFp16(fp16ToFloat(static_cast<uint16_t>(h)));
    if (isHalfNaN(static_cast<uint16_t>(h)))
      // A NaN comes back quiet with its payload otherwise kept.
      ASSERT_EQ(back, h | 0x0200) << std::hex << h;
    else
      ASSERT_EQ(back, h) << std::hex << h;
  }
}

// The exact midpoint between two neighbouring halves rounds to the even one; anything off the
// midpoint rounds to the nearer one. Covers subnormals, the normal range and overflow to inf.
TEST(Fp16, RoundsTiesToEven) {
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const double low = fp16ToFloat(static_cast<uint16_t>(h));
    const double high = h == 0x7BFF ? 65536.0 : fp16ToFloat(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((low + high) / 2); // exact: 12 significant bits
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    ASSERT_EQ(floatToFp16(mid), even) << "tie above 0x" << std::hex << h;
    ASSERT_EQ(floatToFp16(-mid), even | 0x8000) << "tie above -0x" << std::hex << h;
    ASSERT_EQ(floatToFp16(std::nextafter(mid, 0.0f)), h) << std::hex << h;
    ASSERT_EQ(floatToFp16(std::nextafter(mid, INFINITY)), h + 1) << std::hex << h;
  }
}

TEST(Fp16, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(floatToFp16(0.0f), 0x0000);
  EXPECT_EQ(floatToFp16(-0.0f), 0x8000);
  EXPECT_EQ(floatToFp16(1.0f), 0x3C00);
  EXPECT_EQ(floatToFp16(-2.0f), 0xC000);
  EXPECT_EQ(floatToFp16(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToFp16(65519.996f), 0x7BFF);
  EXPECT_EQ(floatToFp16(65520.0f), 0x7C00);
  EXPECT_EQ(floatToFp16(1e6f), 0x7C00);
  EXPECT_EQ(floatToFp16(-3e38f), 0xFC00);
  EXPECT_EQ(floatToFp16(inf), 0x7C00);
  EXPECT_EQ(floatToFp16(-inf), 0xFC00);
  EXPECT_EQ(floatToFp16(std::ldexp(1.0f, -14)), 0x0400); // smallest normal
  EXPECT_EQ(floatToFp16(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToFp16(std::ldexp(1.0f, -25)), 0x0000); // tie with zero: even
  EXPECT_EQ(floatToFp16(std::ldexp(1.5f, -24)), 0x0002); // tie 1|2: even
  EXPECT_EQ(floatToFp16(std::ldexp(2.5f, -24)), 0x0002); // tie 2|3: even
  EXPECT_EQ(floatToFp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(floatToFp16(floatOf(0x00000001)), 0x0000); // float32 subnormal
  EXPECT_EQ(floatToFp16(floatOf(0x807FFFFF)), 0x8000);
  // A signalling NaN whose payload sits below the kept bits must not collapse to inf.
  EXPECT_TRUE(isHalfNaN(floatToFp16(floatOf(0x7F800001))));
  EXPECT_TRUE(isHalfNaN(floatToFp16(floatOf(0xFFC00000))));
  EXPECT_EQ(floatToFp16(floatOf(0xFFC00000)) & 0x8000, 0x8000);
  EXPECT_TRUE(std::isnan(fp16ToFloat(0x7E00)));
  EXPECT_EQ(fp16ToFloat(0x7C00), inf);
  EXPECT_EQ(fp16ToFloat(0xFC00), -inf);
  EXPECT_EQ(fp16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16ToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(bitsOf(fp16ToFloat(0x8000)), 0x80000000u);
}

// ---- bf16 ---------------------------------------------------------------------------------------

TEST(Bf16, MatchesGgufPyOnFixture) {
  const std::vector<float> source = decodeF32(readFixture("bf16.source.f32"));
  const std::vector<uint16_t> expected = decodeU16(readFixture("bf16.bits"));
  ASSERT_EQ(source.size(), expected.size());
  ASSERT_FALSE(source.empty());
  // gguf-py pins ggml's NaN quieting too, so NaN inputs are compared bit for bit.
  for (size_t i = 0; i < source.size(); ++i)
    ASSERT_EQ(floatToBf16(source[i]), expected[i])
        << "first mismatch at index " << i << ", input 0x" << std::hex << bitsOf(source[i]);
}

TEST(Bf16, RoundTripsEveryValue) {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const float value = bf16ToFloat(static_cast<uint16_t>(b));
    ASSERT_EQ(bitsOf(value), b << 16);
    const bool isNaN = (b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0;
    ASSERT_EQ(floatToBf16(value), isNaN ? (b | 0x40) : b) << std::hex << b;
  }
}

TEST(Bf16, RoundsTiesToEvenAndQuietsNaN) {
  EXPECT_EQ(floatToBf16(floatOf(0x3F808000)), 0x3F80); // tie, kept lsb even: down
  EXPECT_EQ(floatToBf16(floatOf(0x3F818000)), 0x3F82); // tie, kept lsb odd: up
  EXPECT_EQ(floatToBf16(floatOf(0x3F808001)), 0x3F81);
  EXPECT_EQ(floatToBf16(floatOf(0x3F807FFF)), 0x3F80);
  EXPECT_EQ(floatToBf16(floatOf(0xBF818000)), 0xBF82);
  EXPECT_EQ(floatToBf16(floatOf(0x7F7F8000)), 0x7F80); // largest finite tie overflows to inf
  EXPECT_EQ(floatToBf16(floatOf(0x7F7F7FFF)), 0x7F7F);
  EXPECT_EQ(floatToBf16(floatOf(0xFF7FFFFF)), 0xFF80);
  EXPECT_EQ(floatToBf16(floatOf(0x00008000)), 0x0000); // subnormal tie
  EXPECT_EQ(floatToBf16(floatOf(0x00018000)), 0x0002);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(floatToBf16(floatOf(0x7F800001)), 0x7FC0); // would truncate to inf
  EXPECT_EQ(floatToBf16(floatOf(0xFFA00000)), 0xFFE0);
  EXPECT_EQ(floatToBf16(floatOf(0x7FFFFFFF)), 0x7FFF); // no carry out of a NaN
}

// ---- Quantize -> dequantize error bounds --------------------------------------------------------

struct Block32 {
  std::vector<float> x;        // the 32 inputs
  std::vector<float> decoded;  // after quantize + dequantize
  std::vector<uint8_t> packed; // the quantized block
};

Block32 roundTrip(GGMLType type, const std::vector<float> &x) {
  Block32 r{x, std::vector<float>(32), std::vector<uint8_t>(*rowBytes(uint32_t(type), 32))};
  EXPECT_TRUE(quantizeRow(type, x.data(), r.packed.data(), 32));
  EXPECT_TRUE(dequantizeRow(type, r.packed.data(), r.decoded.data(), 32));
  return r;
}

double halfAt(const std::vector<uint8_t> &packed, size_t offset) {
  return fp16ToFloat(loadHalfBits(&packed[offset]));
}

// The stored f16 must be the correctly rounded scale: at most half an ulp away, which is 2^-11
// relative for normal halves and 2^-25 absolute for subnormals.
void expectRoundedHalf(double exact, double stored) {
  EXPECT_LE(std::fabs(exact - stored), std::ldexp(std::fabs(exact), -11) + std::ldexp(1.0, -25))
      << "stored f16 " << stored << " is not the rounding of " << exact;
}

std::vector<std::vector<float>> randomBlocks(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> decades(-3.0f, 3.0f);
  std::vector<std::vector<float>> blocks;
  for (int b = 0; b < 200; ++b) {
    const float scale = std::pow(10.0f, decades(rng));
    std::vector<float> x(32);
    for (float &v : x)
      v = normal(rng) * scale;
    if (b % 3 == 0) // skewed blocks, so Q4_1's min is far from zero
      for (float &v : x)
        v = std::fabs(v) + scale;
    blocks.push_back(x);
  }
  return blocks;
}

// Slack for float32 rounding inside the encoder and decoder (a few ulps of the block's largest
// value, far below the half-step terms).
double floatSlack(double magnitude) { return 1e-6 * magnitude; }

// Q8_0: q = round(x / d) with d = amax / 127, so |x - q d| <= d / 2. Storing d as f16 (dh) moves
// every decoded value by q (dh - d) with |q| <= 127.
TEST(RoundTripError, Q8_0WithinHalfStepPlusScaleRounding) {
  for (const std::vector<float> &x : randomBlocks(1)) {
    const Block32 r = roundTrip(GGMLType::Q8_0, x);
    double amax = 0;
    for (float v : x)
      amax = std::max(amax, std::fabs(double(v)));
    const double d = amax / 127;
    const double dh = halfAt(r.packed, 0);
    expectRoundedHalf(d, dh);
    const double bound = d / 2 + 127 * std::fabs(d - dh) + floatSlack(amax);
    for (int i = 0; i < 32; ++i)
      ASSERT_LE(std::fabs(double(x[i]) - r.decoded[i]), bound) << "value " << i;
  }
}

// Q4_0: codes -8..7 of d = max / -8, where max is the signed value of largest magnitude, so
// t = x / d lies in [-8, 8]. Codes round t to nearest (half up), except that t in (7.5, 8] is
// clamped to 7, an error of (t - 7) steps (at most one). The f16 scale adds |c| |dh - d| <= 8 |dh -
// d|.
TEST(RoundTripError, Q4_0WithinHalfStepExceptClampedTop) {
  for (const std::vector<float> &x : randomBlocks(2)) {
    const Block32 r = roundTrip(GGMLType::Q4_0, x);
    double amax = 0, max = 0;
    for (float v : x) {
      if (std::fabs(double(v)) > amax) {
        amax = std::fabs(double(v));
        max = v;
      }
    }
    const double d = max / -8;
    const double dh = halfAt(r.packed, 0);
    expectRoundedHalf(d, dh);
    for (int i = 0; i < 32; ++i) {
      const double t = x[i] / d;
      const double steps = std::max(0.5, t - 7);
      const double bound = std::fabs(d) * steps + 8 * std::fabs(d - dh) + floatSlack(amax);
      ASSERT_LE(std::fabs(double(x[i]) - r.decoded[i]), bound) << "value " << i << ", t " << t;
    }
  }
}

// Q4_1: codes 0..15 of d = (max - min) / 15 above min, rounded to nearest, so |x - (min + q d)| <=
// d / 2. Storing d and min as f16 adds q |dh - d| + |mh - min| with q <= 15.
TEST(RoundTripError, Q4_1WithinHalfStepPlusScaleAndMinRounding) {
  for (const std::vector<float> &x : randomBlocks(3)) {
    const Block32 r = roundTrip(GGMLType::Q4_1, x);
    double min = x[0], max = x[0];
    for (float v : x) {
      min = std::min(min, double(v));
      max = std::max(max, double(v));
    }
    const double d = (max - min) / 15;
    const double dh = halfAt(r.packed, 0);
    const double mh = halfAt(r.packed, 2);
    expectRoundedHalf(d, dh);
    expectRoundedHalf(min, mh);
    const double bound = d / 2 + 15 * std::fabs(d - dh) + std::fabs(min - mh) +
                         floatSlack(std::fabs(min) + std::fabs(max));
    for (int i = 0; i < 32; ++i)
      ASSERT_LE(std::fabs(double(x[i]) - r.decoded[i]), bound) << "value " << i;
  }
}

// With a power-of-two step and inputs on a fine binary grid, every float operation in the encoder
// and decoder is exact and the scales are exact halves, so the bound is exactly half a step with
// no slack. Ties (t exactly k + 1/2) occur on this grid and still land within d / 2.
TEST(RoundTripError, ExactGridStaysWithinHalfStep) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> exponents(-10, 8);
  for (int trial = 0; trial < 300; ++trial) {
    const int k = exponents(rng);
    const double d = std::ldexp(1.0, k);
    // Multiples of d / 16 so that ties are common.
    auto onGrid = [&](int lo, int hi) {
      return float(std::ldexp(double(std::uniform_int_distribution<int>(lo, hi)(rng)), k - 4));
    };

    std::vector<float> x8(32), x40(32), x41(32);
    for (int i = 0; i < 32; ++i) {
      x8[i] = onGrid(-127 * 16, 127 * 16);
      x40[i] = onGrid(-8 * 16, int(7.5 * 16)); // never clamped
      x41[i] = onGrid(-40 * 16, -25 * 16);     // min near -40 d
    }
    x8[trial % 32] = float(127 * d); // amax = 127 d
    x40[trial % 32] = float(-8 * d); // max = -8 d, so the Q4_0 step is +d
    const int lowAt = trial % 32, highAt = (trial + 7) % 32;
    x41[lowAt] = float(-40 * d);
    x41[highAt] = float(-25 * d); // max - min = 15 d

    const Block32 r8 = roundTrip(GGMLType::Q8_0, x8);
    const Block32 r40 = roundTrip(GGMLType::Q4_0, x40);
    const Block32 r41 = roundTrip(GGMLType::Q4_1, x41);
    ASSERT_EQ(halfAt(r8.packed, 0), d);
    ASSERT_EQ(halfAt(r40.packed, 0), d);
    ASSERT_EQ(halfAt(r41.packed, 0), d);
    ASSERT_EQ(halfAt(r41.packed, 2), -40 * d);
    for (int i = 0; i < 32; ++i) {
      ASSERT_LE(std::fabs(double(x8[i]) - r8.decoded[i]), d / 2) << "Q8_0 value " << i;
      ASSERT_LE(std::fabs(double(x40[i]) - r40.decoded[i]), d / 2) << "Q4_0 value " << i;
      ASSERT_LE(std::fabs(double(x41[i]) - r41.decoded[i]), d / 2) << "Q4_1 value " << i;
    }
  }
}

// Rounding direction on ties is part of the format: Q8_0 rounds half away from zero, Q4_0 and Q4_1
// round half up (toward +inf in code space).
TEST(RoundTripError, TieDirections) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f; // d = 1
  x[1] = 2.5f;
  x[2] = -2.5f;
  const Block32 r8 = roundTrip(GGMLType::Q8_0, x);
  EXPECT_EQ(r8.decoded[1], 3.0f);
  EXPECT_EQ(r8.decoded[2], -3.0f);

  std::fill(x.begin(), x.end(), 0.0f);
  x[0] = -8.0f; // Q4_0: d = 1, t = x
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 7.75f; // clamped to code 7
  const Block32 r40 = roundTrip(GGMLType::Q4_0, x);
  EXPECT_EQ(r40.decoded[0], -8.0f);
  EXPECT_EQ(r40.decoded[1], 3.0f);
  EXPECT_EQ(r40.decoded[2], -2.0f);
  EXPECT_EQ(r40.decoded[3], 7.0f);

  std::fill(x.begin(), x.end(), 0.0f);
  x[0] = 15.0f; // Q4_1: min 0, d = 1
  x[1] = 2.5f;
  const Block32 r41 = roundTrip(GGMLType::Q4_1, x);
  EXPECT_EQ(r41.decoded[0], 15.0f);
  EXPECT_EQ(r41.decoded[1], 3.0f);
}

// A block of zeros has d = 0 and must decode to zeros, not NaN from a 0 * inf inverse scale.
TEST(RoundTripError, ZeroBlocksStayZero) {
  const std::vector<float> zeros(32, 0.0f);
  for (GGMLType type : {GGMLType::Q8_0, GGMLType::Q4_0, GGMLType::Q4_1}) {
    const Block32 r = roundTrip(type, zeros);
    for (float v : r.decoded)
      ASSERT_EQ(v, 0.0f) << static_cast<uint32_t>(type);
  }
}

// ---- Hand-built K-quant blocks ----------------------------------------------------------------
// Independent of the fixtures: a block whose fields are chosen so that each decoded value names
// where it came from.

TEST(KQuants, Q4_KScaleAndMinPacking) {
  // Sub-block b gets scale b + 1 + 32 * (b >= 4) and min 2 * b + 1 + 16 * (b >= 4); the
  // upper-half values need the high bits stored in bytes 0-7.
  uint8_t block[144] = {};
  block[0] = 0x00;
  block[1] = 0x3C; // d = 1.0
  block[2] = 0x00;
  block[3] = 0x38; // dmin = 0.5
  uint8_t scale[8], min[8];
  for (int b = 0; b < 8; ++b) {
    scale[b] = uint8_t(b + 1 + (b >= 4 ? 32 : 0));
    min[b] = uint8_t(2 * b + 1 + (b >= 4 ? 16 : 0));
  }
  uint8_t *s = block + 4;
  for (int b = 0; b < 4; ++b) {
    s[b] = uint8_t(scale[b] | ((scale[b + 4] >> 4) << 6));
    s[b + 4] = uint8_t(min[b] | ((min[b + 4] >> 4) << 6));
    s[b + 8] = uint8_t((scale[b + 4] & 15) | ((min[b + 4] & 15) << 4));
  }
  // Code of value l in sub-block b: (l + b) & 15.
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l)
      block[16 + 32 * j + l] = uint8_t(((l + 2 * j) & 15) | (((l + 2 * j + 1) & 15) << 4));
  float out[256];
  ASSERT_TRUE(dequantizeRow(GGMLType::Q4_K, block, out, 256));
  for (int b = 0; b < 8; ++b)
    for (int l = 0; l < 32; ++l)
      ASSERT_EQ(out[32 * b + l], float(scale[b] * ((l + b) & 15)) - 0.5f * float(min[b]))
          << "sub-block " << b << " value " << l;
}

TEST(KQuants, Q5_KHighBits) {
  uint8_t block[176] = {};
  block[1] = 0x3C; // d = 1.0, dmin = 0
  for (int b = 0; b < 4; ++b)
    block[4 + b] = 1; // scale 1 for sub-blocks 0-3
  for (int b = 0; b < 4; ++b)
    block[12 + b] = 1; // scale 1 (low nibble) for sub-blocks 4-7
  // qh[l] = l * 7 (mod 256): bit b is the fifth bit of value l in sub-block b.
  for (int l = 0; l < 32; ++l)
    block[16 + l] = uint8_t(l * 7);
  for (int i = 0; i < 128; ++i)
    block[48 + i] = uint8_t(0x5A);
  float out[256];
  ASSERT_TRUE(dequantizeRow(GGMLType::Q5_K, block, out, 256));
  for (int b = 0; b < 8; ++b)
    for (int l = 0; l < 32; ++l) {
      const int low = (b & 1) ? 0x5 : 0xA;
      const int high = (uint8_t(l * 7) >> b) & 1;
      ASSERT_EQ(out[32 * b + l], float(low + 16 * high)) << "sub-block " << b << " value " << l;
    }
}

TEST(KQuants, Q6_KLayout) {
  uint8_t block[210] = {};
  // Value i gets code i % 64 (so q = i % 64 - 32) and sub-block scale i / 16 - 8.
  for (int i = 0; i < 256; ++i) {
    const int code = i % 64;
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    block[64 * half + 32 * (k & 1) + l] |= uint8_t((code & 15) << (4 * (k >> 1)));
    block[128 + 32 * half + l] |= uint8_t((code >> 4) << (2 * k));
  }
  for (int sub = 0; sub < 16; ++sub)
    block[192 + sub] = uint8_t(int8_t(sub - 8));
  block[208] = 0x00;
  block[209] = 0x40; // d = 2.0
  float out[256];
  ASSERT_TRUE(dequantizeRow(GGMLType::Q6_K, block, out, 256));
  for (int i = 0; i < 256; ++i)
    ASSERT_EQ(out[i], 2.0f * float(i / 16 - 8) * float(i % 64 - 32)) << "value " << i;
}

} // namespace
