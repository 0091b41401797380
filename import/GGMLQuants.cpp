//===- GGMLQuants.cpp - GGML/GGUF tensor block formats --------------------===//
//
// Block layouts are documented in GGMLQuants.h. Every decoder reads its block through byte
// offsets rather than overlaying a struct, so nothing depends on host alignment or endianness.
//
//===----------------------------------------------------------------------===//

#include "import/GGMLQuants.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

// The reference rounds every float multiply and add on its own. Today no formula here can tell the
// difference (decoder products are exact; see the decoders), but a compiler that fuses `a * b + c`
// into an FMA (clang on AArch64, GCC in GNU mode) would silently break a future one, so forbid it.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace deltac::ggml {
namespace {

constexpr int64_t kBlock32 = 32; // values per block of the Q4_0 / Q4_1 / Q8_0 family
constexpr int64_t kBlockK = 256; // values per K-quant super-block

constexpr int64_t kQ8_0Bytes = 34;
constexpr int64_t kQ4_0Bytes = 18;
constexpr int64_t kQ4_1Bytes = 20;
constexpr int64_t kQ4_KBytes = 144;
constexpr int64_t kQ5_KBytes = 176;
constexpr int64_t kQ6_KBytes = 210;

// Indexed by type id; a null name marks an id ggml does not define.
constexpr TypeTraits kTraits[] = {
    /* 0 */ {"f32", 1, 4, true},
    /* 1 */ {"f16", 1, 2, true},
    /* 2 */ {"q4_0", 32, kQ4_0Bytes, true},
    /* 3 */ {"q4_1", 32, kQ4_1Bytes, true},
    /* 4 */ {nullptr, 0, 0, false}, // removed Q4_2
    /* 5 */ {nullptr, 0, 0, false}, // removed Q4_3
    /* 6 */ {"q5_0", 32, 22, false},
    /* 7 */ {"q5_1", 32, 24, false},
    /* 8 */ {"q8_0", 32, kQ8_0Bytes, true},
    // ggml's block_q8_1 holds two f16 (d, s) before the 32 quants: 36 bytes. gguf-py 0.17.1 still
    // says 40 (the old float d, float s layout); ggml is authoritative for sizes.
    /* 9 */ {"q8_1", 32, 36, false},
    /* 10 */ {"q2_K", 256, 84, false},
    /* 11 */ {"q3_K", 256, 110, false},
    /* 12 */ {"q4_K", 256, kQ4_KBytes, true},
    /* 13 */ {"q5_K", 256, kQ5_KBytes, true},
    /* 14 */ {"q6_K", 256, kQ6_KBytes, true},
    /* 15 */ {"q8_K", 256, 292, false},
    /* 16 */ {"iq2_xxs", 256, 66, false},
    /* 17 */ {"iq2_xs", 256, 74, false},
    /* 18 */ {"iq3_xxs", 256, 98, false},
    /* 19 */ {"iq1_s", 256, 50, false},
    /* 20 */ {"iq4_nl", 32, 18, false},
    /* 21 */ {"iq3_s", 256, 110, false},
    /* 22 */ {"iq2_s", 256, 82, false},
    /* 23 */ {"iq4_xs", 256, 136, false},
    /* 24 */ {"i8", 1, 1, false},
    /* 25 */ {"i16", 1, 2, false},
    /* 26 */ {"i32", 1, 4, false},
    /* 27 */ {"i64", 1, 8, false},
    /* 28 */ {"f64", 1, 8, false},
    /* 29 */ {"iq1_m", 256, 56, false},
    /* 30 */ {"bf16", 1, 2, true},
    /* 31 */ {nullptr, 0, 0, false}, // removed Q4_0_4_4
    /* 32 */ {nullptr, 0, 0, false}, // removed Q4_0_4_8
    /* 33 */ {nullptr, 0, 0, false}, // removed Q4_0_8_8
    /* 34 */ {"tq1_0", 256, 54, false},
    /* 35 */ {"tq2_0", 256, 66, false},
    /* 36 */ {nullptr, 0, 0, false}, // removed IQ4_NL_4_4
    /* 37 */ {nullptr, 0, 0, false}, // removed IQ4_NL_4_8
    /* 38 */ {nullptr, 0, 0, false}, // removed IQ4_NL_8_8
    /* 39 */ {"mxfp4", 32, 17, false},
};

constexpr uint32_t kNumTraits = sizeof(kTraits) / sizeof(kTraits[0]);

uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint16_t loadU16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

uint32_t loadU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void storeU16(uint8_t *p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xFF);
  p[1] = static_cast<uint8_t>(v >> 8);
}

float loadHalf(const uint8_t *p) { return fp16ToFloat(loadU16(p)); }

void storeHalf(uint8_t *p, float f) { storeU16(p, floatToFp16(f)); }

// ---- Dequantization -------------------------------------------------------------------------

void dequantizeQ8_0(const uint8_t *src, float *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kQ8_0Bytes, dst += kBlock32) {
    const float d = loadHalf(src);
    const uint8_t *qs = src + 2;
    for (int i = 0; i < kBlock32; ++i)
      dst[i] = static_cast<float>(static_cast<int8_t>(qs[i])) * d;
  }
}

void dequantizeQ4_0(const uint8_t *src, float *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kQ4_0Bytes, dst += kBlock32) {
    const float d = loadHalf(src);
    const uint8_t *qs = src + 2;
    for (int i = 0; i < kBlock32 / 2; ++i) {
      dst[i] = static_cast<float>((qs[i] & 0x0F) - 8) * d;
      dst[i + kBlock32 / 2] = static_cast<float>((qs[i] >> 4) - 8) * d;
    }
  }
}

void dequantizeQ4_1(const uint8_t *src, float *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kQ4_1Bytes, dst += kBlock32) {
    const float d = loadHalf(src);
    const float m = loadHalf(src + 2);
    const uint8_t *qs = src + 4;
    for (int i = 0; i < kBlock32 / 2; ++i) {
      dst[i] = static_cast<float>(qs[i] & 0x0F) * d + m;
      dst[i + kBlock32 / 2] = static_cast<float>(qs[i] >> 4) * d + m;
    }
  }
}

// The 6-bit scale and min of sub-block b (0..7) of a Q4_K/Q5_K super-block. Sub-blocks 0-3 use
// the low six bits of bytes 0-7; the high two bits of those bytes extend the nibbles in 8-11 to
// give sub-blocks 4-7 their six bits.
void unpackScaleMinK4(const uint8_t *s, int b, uint8_t &scale, uint8_t &min) {
  if (b < 4) {
    scale = s[b] & 0x3F;
    min = s[b + 4] & 0x3F;
    return;
  }
  scale = static_cast<uint8_t>((s[b + 4] & 0x0F) | ((s[b - 4] >> 6) << 4));
  min = static_cast<uint8_t>((s[b + 4] >> 4) | ((s[b] >> 6) << 4));
}

// ggml (dequantize_row_q4_K/q5_K) and gguf-py both compute d1 = d * sc and m1 = dmin * m in
// float32, then d1 * q - m1. With an 11-bit f16 mantissa, 6-bit scales and 5-bit codes every
// product is exact, so the subtraction is the only rounding and the order cannot change a result.
// `highBits` is null for Q4_K; for Q5_K it points at the 32 qh bytes.
void dequantizeSuperBlock4Or5(const uint8_t *block, const uint8_t *highBits, const uint8_t *qs,
                              float *dst) {
  const float d = loadHalf(block);
  const float dmin = loadHalf(block + 2);
  const uint8_t *scales = block + 4;
  for (int b = 0; b < 8; ++b) {
    uint8_t scale, min;
    unpackScaleMinK4(scales, b, scale, min);
    const float d1 = d * static_cast<float>(scale);
    const float m1 = dmin * static_cast<float>(min);
    const uint8_t *q = qs + 32 * (b / 2);
    const int shift = 4 * (b & 1);
    float *y = dst + 32 * b;
    for (int l = 0; l < 32; ++l) {
      int code = (q[l] >> shift) & 0x0F;
      if (highBits)
        code |= ((highBits[l] >> b) & 1) << 4;
      y[l] = d1 * static_cast<float>(code) - m1;
    }
  }
}

void dequantizeQ4_K(const uint8_t *src, float *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kQ4_KBytes, dst += kBlockK)
    dequantizeSuperBlock4Or5(src, nullptr, src + 16, dst);
}

void dequantizeQ5_K(const uint8_t *src, float *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kQ5_KBytes, dst += kBlockK)
    dequantizeSuperBlock4Or5(src, src + 16, src + 48, dst);
}

// ggml evaluates `d * sc[is] * q` left to right and gguf-py computes (d * scales) first. The
// products are exact (11 + 7 + 6 significant bits), but the grouping still decides the sign of a
// zero: (d * 0) * -5 is -0 for d > 0, whereas d * (0 * -5) is +0. Keep (d * scale) * q.
void dequantizeQ6_K(const uint8_t *src, float *dst, int64_t numBlocks) {
  for (int64_t blk = 0; blk < numBlocks; ++blk, src += kQ6_KBytes, dst += kBlockK) {
    const uint8_t *ql = src;
    const uint8_t *qh = src + 128;
    const uint8_t *scales = src + 192;
    const float d = loadHalf(src + 208);
    for (int half = 0; half < 2; ++half) {
      for (int k = 0; k < 4; ++k) {
        const uint8_t *lowBytes = ql + 64 * half + 32 * (k & 1);
        const int lowShift = 4 * (k >> 1);
        const uint8_t *highBytes = qh + 32 * half;
        float *y = dst + 128 * half + 32 * k;
        // 32 values span two 16-value sub-blocks.
        const int firstSub = (128 * half + 32 * k) / 16;
        for (int sub = 0; sub < 2; ++sub) {
          const float ds = d * static_cast<float>(static_cast<int8_t>(scales[firstSub + sub]));
          for (int l = 16 * sub; l < 16 * sub + 16; ++l) {
            const int lo = (lowBytes[l] >> lowShift) & 0x0F;
            const int hi = (highBytes[l] >> (2 * k)) & 0x03;
            y[l] = ds * static_cast<float>((lo | (hi << 4)) - 32);
          }
        }
      }
    }
  }
}

// ---- Quantization (ggml's *_ref algorithms, as gguf-py reproduces them) -----------------------

// Nibble from a truncated float code, as numpy's astype(uint8).clip(0, 15) of a value that is
// non-negative for every finite input. NaN (from a NaN input) maps to 0 instead of being undefined.
uint8_t clampNibble(float truncated) {
  if (!(truncated >= 0.0f))
    return 0;
  return truncated >= 15.0f ? 15 : static_cast<uint8_t>(truncated);
}

void quantizeQ8_0(const float *src, uint8_t *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kBlock32, dst += kQ8_0Bytes) {
    float amax = 0.0f;
    for (int i = 0; i < kBlock32; ++i)
      amax = std::max(amax, std::fabs(src[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    storeHalf(dst, d);
    for (int i = 0; i < kBlock32; ++i) {
      // std::round rounds halves away from zero, like C roundf and gguf-py's np_roundf. |q| <= 127
      // for finite inputs; the clamp only keeps inf/NaN inputs from undefined conversions.
      const float q = std::round(src[i] * id);
      const int code = q >= -127.0f && q <= 127.0f ? static_cast<int>(q) : 0;
      dst[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(code));
    }
  }
}

// Packs 32 nibble codes with value i in the low and value i + 16 in the high nibble of byte i.
void packNibbles(const uint8_t *codes, uint8_t *qs) {
  for (int i = 0; i < kBlock32 / 2; ++i)
    qs[i] = static_cast<uint8_t>(codes[i] | (codes[i + kBlock32 / 2] << 4));
}

void quantizeQ4_0(const float *src, uint8_t *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kBlock32, dst += kQ4_0Bytes) {
    // The signed value of largest magnitude, first one on ties (numpy argmax). ggml starts from
    // max = 0.0f instead of x[0]; the two only differ for a block of zeros starting with -0.0,
    // where gguf-py stores d = +0 and ggml d = -0. We follow gguf-py.
    float amax = std::fabs(src[0]);
    float max = src[0];
    for (int i = 1; i < kBlock32; ++i) {
      if (amax < std::fabs(src[i])) {
        amax = std::fabs(src[i]);
        max = src[i];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    storeHalf(dst, d);
    uint8_t codes[kBlock32];
    for (int i = 0; i < kBlock32; ++i) {
      // ggml computes (int8_t)(x * id + 8.5f) in float, so its result depends on whether the C
      // compiler fuses that into an FMA. gguf-py pins the FMA-like variant: the exact product plus
      // 8.5 in double, rounded once to float32 and then truncated. We follow gguf-py.
      const double shifted = static_cast<double>(src[i]) * static_cast<double>(id) + 8.5;
      codes[i] = clampNibble(std::trunc(static_cast<float>(shifted)));
    }
    packNibbles(codes, dst + 2);
  }
}

void quantizeQ4_1(const float *src, uint8_t *dst, int64_t numBlocks) {
  for (int64_t b = 0; b < numBlocks; ++b, src += kBlock32, dst += kQ4_1Bytes) {
    float min = src[0];
    float max = src[0];
    for (int i = 1; i < kBlock32; ++i) {
      min = std::min(min, src[i]);
      max = std::max(max, src[i]);
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    storeHalf(dst, d);
    storeHalf(dst + 2, min);
    uint8_t codes[kBlock32];
    // Float32 step by step, as gguf-py. Unlike Q4_0, fusing the multiply and add (as ggml's C may)
    // cannot change a code: a double rounding only differs when the sum crosses a power of two,
    // and no power of two lies in the half unit just below an integer code boundary.
    for (int i = 0; i < kBlock32; ++i)
      codes[i] = clampNibble(std::trunc((src[i] - min) * id + 0.5f));
    packNibbles(codes, dst + 4);
  }
}

} // namespace

// ---- Half-precision conversions ---------------------------------------------------------------

float fp16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  if (exponent == 0x1F) // inf or NaN; the NaN payload moves to the top of the float mantissa
    return bitsToFloat(sign | 0x7F800000 | (mantissa << 13));
  if (exponent != 0) // rebias 15 -> 127
    return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24 is exact in float32.
  return bitsToFloat(sign | floatBits(static_cast<float>(mantissa) * 0x1p-24f));
}

uint16_t floatToFp16(float f) {
  const uint32_t bits = floatBits(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t abs = bits & 0x7FFFFFFF;
  if (abs > 0x7F800000) // NaN: set the quiet bit so a payload that lives only in low bits survives
    return static_cast<uint16_t>(sign | 0x7E00 | ((abs >> 13) & 0x3FF));
  if (abs >= 0x477FF000) // >= 65520, halfway between 65504 and 2^16, rounds (to even) to inf
    return static_cast<uint16_t>(sign | 0x7C00);
  if (abs >= 0x38800000) { // >= 2^-14: a normal half
    // Adding just under half an ulp, plus the kept lsb, rounds to nearest even; a carry out of the
    // mantissa correctly bumps the exponent.
    const uint32_t rounded = abs + 0x0FFF + ((abs >> 13) & 1);
    return static_cast<uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
  }
  // Subnormal half (or zero): the result is round(|f| * 2^24) with ties to even. Float32
  // subnormals are below 2^-126 and always round to zero.
  const uint32_t exponent = abs >> 23;
  if (exponent < 102) // |f| < 2^-25: at most half of the smallest subnormal, below the tie
    return sign;
  const uint32_t mantissa = (abs & 0x7FFFFF) | 0x800000;
  const uint32_t shift = 126 - exponent; // 14..24
  uint32_t q = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1);
  const uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (q & 1)))
    ++q; // may reach 0x400, which is exactly the smallest normal half
  return static_cast<uint16_t>(sign | q);
}

float bf16ToFloat(uint16_t b) { return bitsToFloat(static_cast<uint32_t>(b) << 16); }

uint16_t floatToBf16(float f) {
  const uint32_t bits = floatBits(f);
  // Truncating a NaN could clear every mantissa bit and make it inf; force the quiet bit.
  if ((bits & 0x7FFFFFFF) > 0x7F800000)
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  // No overflow past 32 bits: the largest non-NaN pattern, 0xFF800000, has room for the bias.
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

// ---- Public entry points ----------------------------------------------------------------------

std::optional<TypeTraits> getTypeTraits(uint32_t type) {
  if (type >= kNumTraits || !kTraits[type].name)
    return std::nullopt;
  return kTraits[type];
}

std::optional<uint64_t> rowBytes(uint32_t type, int64_t n) {
  std::optional<TypeTraits> traits = getTypeTraits(type);
  if (!traits || n < 0 || n % traits->blockSize != 0)
    return std::nullopt;
  const uint64_t blocks = static_cast<uint64_t>(n / traits->blockSize);
  const uint64_t perBlock = static_cast<uint64_t>(traits->bytesPerBlock);
  if (blocks > std::numeric_limits<uint64_t>::max() / perBlock)
    return std::nullopt;
  return blocks * perBlock;
}

bool dequantizeRow(GGMLType type, const void *src, float *dst, int64_t n) {
  std::optional<TypeTraits> traits = getTypeTraits(static_cast<uint32_t>(type));
  if (!traits || !traits->canDequantize || n < 0 || n % traits->blockSize != 0)
    return false;
  const auto *bytes = static_cast<const uint8_t *>(src);
  const int64_t numBlocks = n / traits->blockSize;
  switch (type) {
  case GGMLType::F32:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = bitsToFloat(loadU32(bytes + 4 * i));
    return true;
  case GGMLType::F16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = fp16ToFloat(loadU16(bytes + 2 * i));
    return true;
  case GGMLType::BF16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = bf16ToFloat(loadU16(bytes + 2 * i));
    return true;
  case GGMLType::Q8_0:
    dequantizeQ8_0(bytes, dst, numBlocks);
    return true;
  case GGMLType::Q4_0:
    dequantizeQ4_0(bytes, dst, numBlocks);
    return true;
  case GGMLType::Q4_1:
    dequantizeQ4_1(bytes, dst, numBlocks);
    return true;
  case GGMLType::Q4_K:
    dequantizeQ4_K(bytes, dst, numBlocks);
    return true;
  case GGMLType::Q5_K:
    dequantizeQ5_K(bytes, dst, numBlocks);
    return true;
  case GGMLType::Q6_K:
    dequantizeQ6_K(bytes, dst, numBlocks);
    return true;
  default:
    return false;
  }
}

bool quantizeRow(GGMLType type, const float *src, void *dst, int64_t n) {
  if (n < 0 || n % kBlock32 != 0)
    return false;
  auto *bytes = static_cast<uint8_t *>(dst);
  const int64_t numBlocks = n / kBlock32;
  switch (type) {
  case GGMLType::Q8_0:
    quantizeQ8_0(src, bytes, numBlocks);
    return true;
  case GGMLType::Q4_0:
    quantizeQ4_0(src, bytes, numBlocks);
    return true;
  case GGMLType::Q4_1:
    quantizeQ4_1(src, bytes, numBlocks);
    return true;
  default:
    return false;
  }
}

} // namespace deltac::ggml
