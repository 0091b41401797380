//===- DeltacQuantsTest.cpp - deltac's int4 groups and int8 activations ---===//
//
// The int4 formats of import/DeltacQuants.h: groups of 32 reproduce GGUF's Q4_0 / Q4_1 byte for
// byte (so the rounding rules are ggml's, which GGMLQuantsTest checks against gguf-py); hand-built
// blocks of 64 and 128 values fix the layout (scale, min, nibble order); random groups stay within
// the quantization error bound; bad lengths are refused. The int8 activation quantization is
// checked for its rounding (nearest even), its scale and its error bound.
//
//===----------------------------------------------------------------------===//

#include "import/DeltacQuants.h"
#include "import/GGMLQuants.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace deltac;
using quants::Int4Format;

namespace {

std::vector<uint8_t> quantize(Int4Format format, const std::vector<float> &x) {
  std::vector<uint8_t> out(*quants::int4RowBytes(format, int64_t(x.size())));
  EXPECT_TRUE(quants::quantizeRowInt4(format, x.data(), out.data(), int64_t(x.size())));
  return out;
}

std::vector<float> dequantize(Int4Format format, const std::vector<uint8_t> &bytes, int64_t n) {
  std::vector<float> out(size_t(n), NAN);
  EXPECT_TRUE(quants::dequantizeRowInt4(format, bytes.data(), out.data(), n));
  return out;
}

double halfAt(const std::vector<uint8_t> &bytes, size_t offset) {
  return ggml::fp16ToFloat(uint16_t(bytes[offset] | bytes[offset + 1] << 8));
}

/// Rows of `groups` groups of `group` values at scales from 1e-3 to 1e3; every third group shifted
/// to be positive, so the asymmetric min is far from zero.
std::vector<std::vector<float>> randomGroups(uint32_t seed, int64_t group, int count) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> decades(-3.0f, 3.0f);
  std::vector<std::vector<float>> groups;
  for (int g = 0; g < count; ++g) {
    const float scale = std::pow(10.0f, decades(rng));
    std::vector<float> x(static_cast<size_t>(group));
    for (float &v : x)
      v = normal(rng) * scale;
    if (g % 3 == 0)
      for (float &v : x)
        v = std::fabs(v) + scale;
    groups.push_back(x);
  }
  return groups;
}

// The stored f16 is the correctly rounded value: within half an ulp.
void expectRoundedHalf(double exact, double stored) {
  EXPECT_LE(std::fabs(exact - stored), std::ldexp(std::fabs(exact), -11) + std::ldexp(1.0, -25))
      << "stored f16 " << stored << " is not the rounding of " << exact;
}

TEST(Int4Groups, BlockBytes) {
  EXPECT_EQ((Int4Format{32, false}.blockBytes()), 18);
  EXPECT_EQ((Int4Format{32, true}.blockBytes()), 20);
  EXPECT_EQ((Int4Format{64, false}.blockBytes()), 34);
  EXPECT_EQ((Int4Format{64, true}.blockBytes()), 36);
  EXPECT_EQ((Int4Format{128, false}.blockBytes()), 66);
  EXPECT_EQ((Int4Format{128, true}.blockBytes()), 68);
  EXPECT_EQ(quants::int4RowBytes({128, false}, 1024), 8u * 66);
  EXPECT_EQ(quants::int4RowBytes({64, true}, 192), 3u * 36);
}

// Groups of 32 are GGUF's Q4_0 / Q4_1 byte for byte, so the larger groups round exactly as ggml's
// reference quantizers do, only over more values.
TEST(Int4Groups, Group32IsGGUFQ4_0AndQ4_1) {
  for (bool asym : {false, true}) {
    const ggml::GGMLType type = asym ? ggml::GGMLType::Q4_1 : ggml::GGMLType::Q4_0;
    std::vector<float> row;
    for (const std::vector<float> &g : randomGroups(asym ? 11 : 12, 32, 64))
      row.insert(row.end(), g.begin(), g.end());
    const int64_t n = int64_t(row.size());
    std::vector<uint8_t> want(*ggml::rowBytes(uint32_t(type), n));
    ASSERT_TRUE(ggml::quantizeRow(type, row.data(), want.data(), n));
    EXPECT_EQ(quantize({32, asym}, row), want) << (asym ? "Q4_1" : "Q4_0");
    std::vector<float> decoded(row.size());
    ASSERT_TRUE(ggml::dequantizeRow(type, want.data(), decoded.data(), n));
    EXPECT_EQ(dequantize({32, asym}, want, n), decoded);
  }
}

// A symmetric group of 64 with d = 1: the first half counts up from -8, the second half down from
// 7, so the low nibbles (first half) and high nibbles (second half) differ in every byte.
TEST(Int4Groups, KnownSymmetricGroupOf64) {
  std::vector<float> x(64);
  for (int i = 0; i < 32; ++i) {
    x[i] = float(i % 16 - 8);
    x[i + 32] = float(7 - i % 16);
  }
  const std::vector<uint8_t> bytes = quantize({64, false}, x);
  ASSERT_EQ(bytes.size(), 34u);
  EXPECT_EQ(bytes[0], 0x00); // f16 1.0 = 0x3C00, little-endian
  EXPECT_EQ(bytes[1], 0x3C);
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(bytes[2 + i], uint8_t((i % 16) | (15 - i % 16) << 4)) << "code byte " << i;
  EXPECT_EQ(dequantize({64, false}, bytes, 64), x);
}

// An asymmetric group of 128: min 1, max 8.5, so d = 0.5 and the codes are 2 (x - 1).
TEST(Int4Groups, KnownAsymmetricGroupOf128) {
  std::vector<float> x(128);
  for (int i = 0; i < 64; ++i) {
    x[i] = 1.0f + 0.5f * float(i % 16);
    x[i + 64] = 1.0f + 0.5f * float(15 - i % 16);
  }
  const std::vector<uint8_t> bytes = quantize({128, true}, x);
  ASSERT_EQ(bytes.size(), 68u);
  EXPECT_EQ(bytes[0], 0x00); // d = 0.5: 0x3800
  EXPECT_EQ(bytes[1], 0x38);
  EXPECT_EQ(bytes[2], 0x00); // m = 1.0: 0x3C00
  EXPECT_EQ(bytes[3], 0x3C);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(bytes[4 + i], uint8_t((i % 16) | (15 - i % 16) << 4)) << "code byte " << i;
  EXPECT_EQ(dequantize({128, true}, bytes, 128), x);
}

// Decoding hand-written blocks: the scale's sign, the -8 offset and which nibble holds which value.
TEST(Int4Groups, DecodesHandWrittenBlocks) {
  // Group of 128, symmetric, d = -2 (0xC000): code byte 5 = 0x9A gives value 5 = (10 - 8) * -2 = -4
  // and value 69 = (9 - 8) * -2 = -2; all other codes are 8 (zero).
  std::vector<uint8_t> g128(66, 0x88);
  g128[0] = 0x00;
  g128[1] = 0xC0;
  g128[2 + 5] = 0x9A;
  std::vector<float> x = dequantize({128, false}, g128, 128);
  for (int i = 0; i < 128; ++i)
    EXPECT_EQ(x[i], i == 5 ? -4.0f : i == 69 ? -2.0f : 0.0f) << "value " << i;

  // Two groups of 64, asymmetric: the second block has d = 0.25 (0x3400), m = -3 (0xC200) and code
  // byte 31 = 0xF0: value 64 + 31 = -3, value 64 + 63 = 15 * 0.25 - 3.
  std::vector<uint8_t> g64(72, 0x00);
  g64[36 + 0] = 0x00;
  g64[36 + 1] = 0x34;
  g64[36 + 2] = 0x00;
  g64[36 + 3] = 0xC2;
  g64[36 + 4 + 31] = 0xF0;
  x = dequantize({64, true}, g64, 128);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(x[i], 0.0f) << "value " << i; // d = m = 0
  EXPECT_EQ(x[64 + 31], -3.0f);
  EXPECT_EQ(x[64 + 63], 0.75f);
  EXPECT_EQ(x[64 + 30], -3.0f);
}

// Symmetric: d = max / -8 over the group (max the value of largest magnitude), so t = x / d is in
// [-8, 8]; codes round to nearest, except that t in (7.5, 8] clamps to 7 (up to one step). The f16
// scale adds at most 8 |dh - d|.
TEST(Int4Groups, SymmetricRoundTripWithinHalfStep) {
  for (int64_t group : {64, 128}) {
    for (const std::vector<float> &x : randomGroups(uint32_t(group), group, 200)) {
      const std::vector<uint8_t> bytes = quantize({group, false}, x);
      const std::vector<float> y = dequantize({group, false}, bytes, group);
      double amax = 0, max = 0;
      for (float v : x)
        if (std::fabs(double(v)) > amax) {
          amax = std::fabs(double(v));
          max = v;
        }
      const double d = max / -8, dh = halfAt(bytes, 0);
      expectRoundedHalf(d, dh);
      for (int64_t i = 0; i < group; ++i) {
        const double t = x[i] / d;
        const double bound =
            std::fabs(d) * std::max(0.5, t - 7) + 8 * std::fabs(d - dh) + 1e-6 * amax;
        ASSERT_LE(std::fabs(double(x[i]) - y[i]), bound) << "group " << group << ", value " << i;
      }
    }
  }
}

// Asymmetric: d = (max - min) / 15, codes round to nearest above min: |x - (min + q d)| <= d / 2,
// plus 15 |dh - d| + |mh - min| for the f16 fields.
TEST(Int4Groups, AsymmetricRoundTripWithinHalfStep) {
  for (int64_t group : {64, 128}) {
    for (const std::vector<float> &x : randomGroups(uint32_t(group + 1), group, 200)) {
      const std::vector<uint8_t> bytes = quantize({group, true}, x);
      const std::vector<float> y = dequantize({group, true}, bytes, group);
      double min = x[0], max = x[0];
      for (float v : x) {
        min = std::min(min, double(v));
        max = std::max(max, double(v));
      }
      const double d = (max - min) / 15, dh = halfAt(bytes, 0), mh = halfAt(bytes, 2);
      expectRoundedHalf(d, dh);
      expectRoundedHalf(min, mh);
      const double bound = d / 2 + 15 * std::fabs(d - dh) + std::fabs(min - mh) +
                           1e-6 * (std::fabs(min) + std::fabs(max));
      for (int64_t i = 0; i < group; ++i)
        ASSERT_LE(std::fabs(double(x[i]) - y[i]), bound) << "group " << group << ", value " << i;
    }
  }
}

// What the larger groups cost: a group's scale is set by its largest value, so on normally
// distributed weights the mean squared error grows from groups of 32 to 64 to 128.
TEST(Int4Groups, LargerGroupsCostAccuracy) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> row(128 * 256);
  for (float &v : row)
    v = normal(rng) * 0.02f;
  double mse[3] = {};
  const int64_t groups[3] = {32, 64, 128};
  for (int g = 0; g < 3; ++g) {
    const std::vector<float> y =
        dequantize({groups[g], false}, quantize({groups[g], false}, row), int64_t(row.size()));
    for (size_t i = 0; i < row.size(); ++i)
      mse[g] += (double(row[i]) - y[i]) * (double(row[i]) - y[i]);
  }
  EXPECT_LT(mse[0], mse[1]);
  EXPECT_LT(mse[1], mse[2]);
}

TEST(Int4Groups, ZeroGroupsStayZero) {
  for (int64_t group : {64, 128})
    for (bool asym : {false, true}) {
      const std::vector<float> zeros(size_t(group), 0.0f);
      const std::vector<float> y = dequantize({group, asym}, quantize({group, asym}, zeros), group);
      for (float v : y)
        ASSERT_EQ(v, 0.0f);
    }
}

TEST(Int4Groups, RejectsBadGroupsAndLengths) {
  std::vector<float> x(256, 1.0f), y(256, 7.0f);
  std::vector<uint8_t> bytes(256, 0xAB);
  EXPECT_FALSE(quants::isInt4Group(96));
  EXPECT_FALSE(quants::isInt4Group(0));
  EXPECT_FALSE(quants::int4RowBytes({96, false}, 192));
  EXPECT_FALSE(quants::int4RowBytes({128, false}, 192));
  EXPECT_FALSE(quants::int4RowBytes({64, false}, -64));
  EXPECT_FALSE(quants::quantizeRowInt4({128, false}, x.data(), bytes.data(), 192));
  EXPECT_FALSE(quants::quantizeRowInt4({96, true}, x.data(), bytes.data(), 192));
  EXPECT_FALSE(quants::dequantizeRowInt4({64, true}, bytes.data(), y.data(), 96));
  for (uint8_t b : bytes)
    ASSERT_EQ(b, 0xAB) << "a refused call wrote its output";
  for (float v : y)
    ASSERT_EQ(v, 7.0f) << "a refused call wrote its output";
}

// Activations: d = amax / 127, codes rounded to nearest even, clamped to [-127, 127].
TEST(ActivationQuantization, KnownValues) {
  std::vector<float> x(64, 0.0f);
  x[0] = -127.0f; // d = 1 in the first block
  x[1] = 2.5f;    // ties to even
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = 0.49f;
  x[32] = 0.5f; // second block: d = 0.5 / 127, x[33] = 0.25 -> 63.5 -> 64
  x[33] = 0.25f;
  std::vector<int8_t> codes(64);
  std::vector<float> scales(2), values(64);
  quants::quantizeActivationsQ8(x.data(), 64, codes.data(), scales.data(), values.data());
  EXPECT_EQ(scales[0], 1.0f);
  EXPECT_EQ(scales[1], 0.5f / 127.0f);
  EXPECT_EQ(codes[0], -127);
  EXPECT_EQ(codes[1], 2);
  EXPECT_EQ(codes[2], 4);
  EXPECT_EQ(codes[3], -2);
  EXPECT_EQ(codes[4], 0);
  EXPECT_EQ(codes[5], 0);
  EXPECT_EQ(codes[32], 127);
  EXPECT_EQ(codes[33], 64);
  EXPECT_EQ(values[2], 4.0f);
  EXPECT_EQ(values[33], 64 * (0.5f / 127.0f));
}

TEST(ActivationQuantization, WithinHalfStepAndZeroBlocks) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  std::vector<float> x(32 * 100);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = normal(rng) * std::pow(10.0f, float(int(i / 32) % 7 - 3));
  std::fill(x.begin() + 32 * 5, x.begin() + 32 * 6, 0.0f); // one all-zero block
  std::vector<int8_t> codes(x.size());
  std::vector<float> scales(x.size() / 32), values(x.size());
  quants::quantizeActivationsQ8(x.data(), int64_t(x.size()), codes.data(), scales.data(),
                                values.data());
  for (size_t b = 0; b < scales.size(); ++b) {
    double amax = 0;
    for (int i = 0; i < 32; ++i)
      amax = std::max(amax, std::fabs(double(x[b * 32 + i])));
    EXPECT_EQ(scales[b], float(amax) / 127.0f);
    for (int i = 0; i < 32; ++i) {
      const size_t k = b * 32 + i;
      ASSERT_GE(codes[k], -127);
      ASSERT_LE(std::fabs(double(x[k]) - double(codes[k]) * scales[b]),
                scales[b] / 2.0 * (1 + 1e-6) + 1e-7 * amax)
          << "block " << b << ", value " << i;
      ASSERT_EQ(values[k], float(codes[k]) * scales[b]);
    }
  }
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(values[32 * 5 + i], 0.0f);
}

} // namespace
