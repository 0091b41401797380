//===- GGMLQuants.h - GGML/GGUF tensor block formats ------------*- C++ -*-===//
//
// Portable decoding (and, for the simple formats, encoding) of the tensor storage formats that GGUF
// files use. No MLIR or LLVM dependency: this is plain C++17 so it can be shared by the importer
// and by tools that only need to read weights.
//
// The reference is ggml's CPU code (ggml-quants.c, ggml-impl.h). The test oracle is the Python
// package gguf (gguf-py 0.17.1, gguf/quants.py), which reproduces ggml in numpy float32; where the
// two differ in float operation order, this file follows gguf-py and says so at the place.
//
// Block layouts
// -------------
// All multi-byte fields are little-endian and blocks are packed back to back with no padding, so a
// field's offset is not necessarily aligned. "f16" is an IEEE binary16 value. A row of n values of
// a block format is n / blockSize consecutive blocks.
//
//   F32   4 bytes per value.  F16  2 bytes per value (IEEE half).
//   BF16  2 bytes per value: the upper 16 bits of the float32 bit pattern.
//
//   Q8_0  32 values in 34 bytes:
//     [0,2)   d      f16 scale
//     [2,34)  qs     int8 x 32
//     x[i] = qs[i] * d
//
//   Q4_0  32 values in 18 bytes:
//     [0,2)   d      f16 scale
//     [2,18)  qs     16 bytes of 4-bit codes: value i (i < 16) is the low nibble of qs[i], value
//                    i + 16 the high nibble of qs[i]
//     x[i] = (q[i] - 8) * d
//
//   Q4_1  32 values in 20 bytes:
//     [0,2)   d      f16 scale
//     [2,4)   m      f16 offset (the block minimum)
//     [4,20)  qs     4-bit codes, nibble order as in Q4_0
//     x[i] = q[i] * d + m
//
//   The K-quants group 256 values into a super-block of sub-blocks. Each sub-block has a small
//   integer scale (and for Q4_K/Q5_K a min) that is itself scaled by the super-block's f16 d
//   (dmin).
//
//   Q4_K  256 values in 144 bytes, 8 sub-blocks of 32:
//     [0,2)     d       f16 super-scale of the sub-block scales
//     [2,4)     dmin    f16 super-scale of the sub-block mins
//     [4,16)    scales  8 six-bit scales sc[b] and 8 six-bit mins m[b], packed into 12 bytes s[]:
//                         b < 4:  sc = s[b] & 63,                      m = s[b+4] & 63
//                         b >= 4: sc = (s[b+4] & 15) | (s[b-4] >> 6) << 4,
//                                 m  = (s[b+4] >> 4) | (s[b]   >> 6) << 4
//     [16,144)  qs      4-bit codes: sub-blocks 2j and 2j+1 share qs[32j, 32j+32), 2j in the low
//                       nibbles and 2j+1 in the high nibbles
//     x = (d * sc[b]) * q - (dmin * m[b])
//
//   Q5_K  256 values in 176 bytes, 8 sub-blocks of 32:
//     [0,2) d, [2,4) dmin, [4,16) scales   as in Q4_K
//     [16,48)   qh      fifth bits: bit b of qh[l] belongs to value l of sub-block b
//     [48,176)  qs      low 4 bits, nibble order as in Q4_K
//     x = (d * sc[b]) * (q | qhbit << 4) - (dmin * m[b])
//
//   Q6_K  256 values in 210 bytes, 16 sub-blocks of 16:
//     [0,128)    ql      low 4 bits
//     [128,192)  qh      high 2 bits
//     [192,208)  scales  int8 scale per sub-block of 16 values
//     [208,210)  d       f16 super-scale
//     For value i = 128h + 32k + l (h < 2, k < 4, l < 32):
//       lo = ql[64h + 32(k & 1) + l] >> 4(k >> 1) & 15,  hi = qh[32h + l] >> 2k & 3
//       x[i] = (d * scales[i / 16]) * ((lo | hi << 4) - 32)
//
//   Other ids (Q5_0, Q5_1, Q2_K, Q3_K, the IQ and TQ formats, ...) are known to getTypeTraits for
//   sizing but are not decoded here.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_GGMLQUANTS_H
#define DELTAC_IMPORT_GGMLQUANTS_H

#include <cstdint>
#include <optional>

namespace deltac::ggml {

/// ggml's tensor type ids as stored in GGUF files. Ids 4, 5 and 31-33, 36-38 belonged to formats
/// ggml has removed and are deliberately absent.
enum class GGMLType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

/// Block geometry of a type: a row of n values occupies n / blockSize * bytesPerBlock bytes.
struct TypeTraits {
  const char *name;
  int64_t blockSize;
  int64_t bytesPerBlock;
  /// True when dequantizeRow implements the type.
  bool canDequantize;
};

/// Traits of a GGML type id as read from a file; std::nullopt for an id ggml does not define.
std::optional<TypeTraits> getTypeTraits(uint32_t type);

/// Bytes of a row of n values; std::nullopt if n is negative or not a multiple of the block size,
/// the type is unknown, or the size overflows.
std::optional<uint64_t> rowBytes(uint32_t type, int64_t n);

/// Decodes n values (a multiple of the block size) of type `type` from `src` into float32, bit for
/// bit as gguf-py's dequantize. Returns false, writing nothing, for a type it does not implement or
/// an n that is negative or not a multiple of the block size.
bool dequantizeRow(GGMLType type, const void *src, float *dst, int64_t n);

/// Encodes n float32 values (a multiple of 32) as Q8_0, Q4_0 or Q4_1 with ggml's reference
/// algorithm (quantize_row_*_ref), byte for byte as gguf-py's quantize. Returns false, writing
/// nothing, for any other type or a bad n.
bool quantizeRow(GGMLType type, const float *src, void *dst, int64_t n);

/// IEEE binary16 <-> float32. The narrowing conversion rounds to nearest even, overflows to
/// infinity and keeps NaN a (quiet) NaN.
float fp16ToFloat(uint16_t h);
uint16_t floatToFp16(float f);

/// bfloat16 <-> float32. The narrowing conversion rounds to nearest even and turns any NaN into a
/// quiet NaN, as ggml's ggml_compute_fp32_to_bf16.
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

} // namespace deltac::ggml

#endif // DELTAC_IMPORT_GGMLQUANTS_H
