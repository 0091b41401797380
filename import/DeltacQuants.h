//===- DeltacQuants.h - deltac's own int4 block formats ---------*- C++ -*-===//
//
// GGUF has int4 blocks of 32 values only (Q4_0, Q4_1; import/GGMLQuants.h). deltac adds the same
// two encodings over groups of 64 and 128 values, so a row spends fewer bytes on scales:
//
//   Q4_0_G64   64 values in 34 bytes:  [0,2) f16 d,  [2,34) qs[32]         x[i] = (q[i] - 8) * d
//   Q4_1_G64   64 values in 36 bytes:  [0,2) f16 d,  [2,4) f16 m,  [4,36) qs[32]   x[i] = q[i] * d
//   + m Q4_0_G128  128 values in 66 bytes: [0,2) f16 d,  [2,66) qs[64] Q4_1_G128  128 values in 68
//   bytes: [0,2) f16 d,  [2,4) f16 m,  [4,68) qs[64]
//
// The nibble order is Q4_0's: in a block of G values, value i < G/2 is the low nibble of qs[i] and
// value i + G/2 the high nibble of qs[i]. All fields are little-endian, blocks are packed back to
// back and a row of n values (n a multiple of G) is n / G blocks. With G = 32 both encodings are
// exactly GGUF's Q4_0 / Q4_1, so the functions below accept 32 too (and agree with GGMLQuants byte
// for byte).
//
// Quantization is round-to-nearest with the scale chosen as ggml's Q4_0 / Q4_1 reference quantizers
// choose it, over the whole group:
//   symmetric:  max = the value of largest magnitude (the first one on ties), d = max / -8,
//               q = min(15, trunc(x / d + 8.5)), so max itself gets code 0 (-8 d) and values of the
//               opposite sign up to 7 d are reached;
//   asymmetric: m = min x, d = (max x - m) / 15, q = trunc((x - m) / d + 0.5).
// d and m are stored as f16 (rounded to nearest even); codes use the unrounded f32 d, as ggml does.
//
// Also here: the int8 activation quantization of the integer-dot-product kernels (`deltac compile
// --act-quant=int8`, kernel_abi.h): what the kernels compute, written independently of them.
//
// Plain C++17 like GGMLQuants: no MLIR or LLVM dependency.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_DELTACQUANTS_H
#define DELTAC_IMPORT_DELTACQUANTS_H

#include <cstdint>
#include <optional>

namespace deltac::quants {

/// An int4 block encoding: groups of 32 (GGUF Q4_0 / Q4_1), 64 or 128 values.
struct Int4Format {
  int64_t group = 32;      ///< values per block: 32, 64 or 128
  bool asymmetric = false; ///< an f16 min after the f16 scale (x = q d + m)

  /// Bytes of one block: the f16 scale, the f16 min if asymmetric, group / 2 bytes of codes.
  int64_t blockBytes() const { return (asymmetric ? 4 : 2) + group / 2; }
};

/// True for the group sizes the int4 formats exist in (32, 64, 128).
bool isInt4Group(int64_t group);

/// Bytes of a row of n values; std::nullopt for a bad group, or an n that is negative or not a
/// multiple of the group.
std::optional<uint64_t> int4RowBytes(Int4Format format, int64_t n);

/// Encodes n values (a multiple of the group) as described above. Returns false, writing nothing,
/// for a bad group or n.
bool quantizeRowInt4(Int4Format format, const float *src, void *dst, int64_t n);

/// Decodes n values; exact (every decoded value is the float nearest q d + m, or (q - 8) d
/// exactly). Returns false, writing nothing, for a bad group or n.
bool dequantizeRowInt4(Int4Format format, const void *src, float *dst, int64_t n);

/// The activation quantization of the int8-activation kernels (kernel_abi.h, "int8 activations"):
/// n values (a multiple of 32) in blocks of 32, each with the f32 scale d = max|x| / 127 and codes
/// q = round(x * (127 / max|x|)) rounded to nearest even, in [-127, 127] (all zero when max|x| is
/// 0). Writes n codes and n / 32 scales; `values`, when not null, receives q * d (n floats, exact
/// products rounded to f32), the activations the kernel's integer dot products see.
void quantizeActivationsQ8(const float *src, int64_t n, int8_t *codes, float *scales,
                           float *values);

/// The packed rows of the int8-activation kernels (kernel_abi.h, "Packed rows"): a row of n values
/// (a multiple of 32) of GGUF Q8_0 or Q4_0 blocks rearranged as all its codes (Q8_0: code + 128 as
/// a byte; Q4_0: each block's 16 code bytes in turn), then its n / 32 f16 scales. Moves bytes only,
/// so packing then unpacking gives back the blocks exactly. `to` holds as many bytes as `from`.
/// Q4_0_X8 (the AVX2 kernels') interleaves the Q4_0 code bytes of each span of 8 blocks 4 bytes at a
/// time: byte i of the span's block j at 4 g (i / 4) + 4 j + i % 4 of the span (128 bytes; g < 8
/// blocks in a row's last span).
enum class PackedKind { Q8_0, Q4_0, Q4_0_X8 };
void packRow(PackedKind kind, const uint8_t *from, uint8_t *to, int64_t n);
void unpackRow(PackedKind kind, const uint8_t *from, uint8_t *to, int64_t n);

} // namespace deltac::quants

#endif // DELTAC_IMPORT_DELTACQUANTS_H
