//===- DeltacQuants.cpp - deltac's own int4 block formats -----------------===//
//
// The formats and the rounding rules are documented in DeltacQuants.h. Like GGMLQuants.cpp, blocks
// are read and written through byte offsets, and float contraction is off so that every multiply
// and add rounds on its own, as in ggml's reference quantizers.
//
//===----------------------------------------------------------------------===//

#include "import/DeltacQuants.h"

#include "import/GGMLQuants.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace deltac::quants {
namespace {

constexpr int64_t kActivationBlock = 32;

float loadHalf(const uint8_t *p) { return ggml::fp16ToFloat(uint16_t(p[0] | p[1] << 8)); }

void storeHalf(uint8_t *p, float f) {
  const uint16_t h = ggml::floatToFp16(f);
  p[0] = uint8_t(h & 0xFF);
  p[1] = uint8_t(h >> 8);
}

// A nibble from a truncated, non-negative code; NaN (from a NaN input) becomes 0.
uint8_t clampNibble(float truncated) {
  if (!(truncated >= 0.0f))
    return 0;
  return truncated >= 15.0f ? 15 : uint8_t(truncated);
}

// Value i < G/2 in the low nibble of qs[i], value i + G/2 in its high nibble.
void packNibbles(const uint8_t *codes, int64_t group, uint8_t *qs) {
  for (int64_t i = 0; i < group / 2; ++i)
    qs[i] = uint8_t(codes[i] | codes[i + group / 2] << 4);
}

void quantizeSymmetric(const float *x, int64_t group, uint8_t *block) {
  float amax = std::fabs(x[0]), max = x[0];
  for (int64_t i = 1; i < group; ++i)
    if (amax < std::fabs(x[i])) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  storeHalf(block, d);
  uint8_t codes[128];
  for (int64_t i = 0; i < group; ++i) {
    // The exact product plus 8.5 rounded once to f32, then truncated: gguf-py's Q4_0 (see
    // GGMLQuants.cpp), so groups of 32 give Q4_0's bytes.
    const double shifted = double(x[i]) * double(id) + 8.5;
    codes[i] = clampNibble(std::trunc(float(shifted)));
  }
  packNibbles(codes, group, block + 2);
}

void quantizeAsymmetric(const float *x, int64_t group, uint8_t *block) {
  float min = x[0], max = x[0];
  for (int64_t i = 1; i < group; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
  }
  const float d = (max - min) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  storeHalf(block, d);
  storeHalf(block + 2, min);
  uint8_t codes[128];
  for (int64_t i = 0; i < group; ++i)
    codes[i] = clampNibble(std::trunc((x[i] - min) * id + 0.5f));
  packNibbles(codes, group, block + 4);
}

} // namespace

bool isInt4Group(int64_t group) { return group == 32 || group == 64 || group == 128; }

std::optional<uint64_t> int4RowBytes(Int4Format format, int64_t n) {
  if (!isInt4Group(format.group) || n < 0 || n % format.group != 0)
    return std::nullopt;
  const uint64_t blocks = uint64_t(n / format.group);
  const uint64_t perBlock = uint64_t(format.blockBytes());
  if (blocks > std::numeric_limits<uint64_t>::max() / perBlock)
    return std::nullopt;
  return blocks * perBlock;
}

bool quantizeRowInt4(Int4Format format, const float *src, void *dst, int64_t n) {
  if (!int4RowBytes(format, n))
    return false;
  auto *block = static_cast<uint8_t *>(dst);
  for (int64_t b = 0; b < n / format.group; ++b, block += format.blockBytes()) {
    const float *x = src + b * format.group;
    if (format.asymmetric)
      quantizeAsymmetric(x, format.group, block);
    else
      quantizeSymmetric(x, format.group, block);
  }
  return true;
}

bool dequantizeRowInt4(Int4Format format, const void *src, float *dst, int64_t n) {
  if (!int4RowBytes(format, n))
    return false;
  const int64_t half = format.group / 2;
  const auto *block = static_cast<const uint8_t *>(src);
  for (int64_t b = 0; b < n / format.group; ++b, block += format.blockBytes()) {
    float *x = dst + b * format.group;
    const float d = loadHalf(block);
    if (format.asymmetric) {
      const float m = loadHalf(block + 2);
      const uint8_t *qs = block + 4;
      for (int64_t i = 0; i < half; ++i) {
        x[i] = float(qs[i] & 0x0F) * d + m;
        x[i + half] = float(qs[i] >> 4) * d + m;
      }
    } else {
      const uint8_t *qs = block + 2;
      for (int64_t i = 0; i < half; ++i) {
        x[i] = float((qs[i] & 0x0F) - 8) * d;
        x[i + half] = float((qs[i] >> 4) - 8) * d;
      }
    }
  }
  return true;
}

void quantizeActivationsQ8(const float *src, int64_t n, int8_t *codes, float *scales,
                           float *values) {
  for (int64_t b = 0; b < n / kActivationBlock; ++b) {
    const float *x = src + b * kActivationBlock;
    float amax = 0.0f;
    for (int64_t i = 0; i < kActivationBlock; ++i)
      amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    scales[b] = d;
    for (int64_t i = 0; i < kActivationBlock; ++i) {
      // nearbyint rounds to nearest even in the default rounding mode, as the kernels' conversions.
      float q = std::nearbyint(x[i] * id);
      q = std::min(127.0f, std::max(-127.0f, q));
      codes[b * kActivationBlock + i] = int8_t(q);
      if (values)
        values[b * kActivationBlock + i] = q * d;
    }
  }
}

namespace {
/// The byte layout of one GGUF block and of its place in a packed row.
struct PackedBlock {
  int64_t blockBytes, codeBytes;
  uint8_t codeOffset; ///< added to each code byte (Q8_0: int8 code + 128 as uint8)
};
PackedBlock packedBlock(PackedKind kind) {
  return kind == PackedKind::Q8_0 ? PackedBlock{34, 32, 0x80} : PackedBlock{18, 16, 0};
}
/// Where code byte i of block b of a row of `blocks` blocks sits in its packed row.
int64_t packedCodeIndex(PackedKind kind, int64_t blocks, int64_t b, int64_t i) {
  if (kind != PackedKind::Q4_0_X8)
    return b * packedBlock(kind).codeBytes + i;
  const int64_t span = b / 8, g = std::min<int64_t>(8, blocks - 8 * span);
  return 128 * span + 4 * g * (i / 4) + 4 * (b % 8) + i % 4;
}
} // namespace

void packRow(PackedKind kind, const uint8_t *from, uint8_t *to, int64_t n) {
  const PackedBlock p = packedBlock(kind);
  const int64_t blocks = n / kActivationBlock;
  uint8_t *scales = to + blocks * p.codeBytes;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t *block = from + b * p.blockBytes;
    scales[2 * b] = block[0];
    scales[2 * b + 1] = block[1];
    for (int64_t i = 0; i < p.codeBytes; ++i)
      to[packedCodeIndex(kind, blocks, b, i)] = uint8_t(block[2 + i] + p.codeOffset);
  }
}

void unpackRow(PackedKind kind, const uint8_t *from, uint8_t *to, int64_t n) {
  const PackedBlock p = packedBlock(kind);
  const int64_t blocks = n / kActivationBlock;
  const uint8_t *scales = from + blocks * p.codeBytes;
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t *block = to + b * p.blockBytes;
    block[0] = scales[2 * b];
    block[1] = scales[2 * b + 1];
    for (int64_t i = 0; i < p.codeBytes; ++i)
      block[2 + i] = uint8_t(from[packedCodeIndex(kind, blocks, b, i)] - p.codeOffset);
  }
}

} // namespace deltac::quants
