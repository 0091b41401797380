/*===- linear_q8act.c - linear and LM head with int8 activations ---------===*
 *
 * `deltac compile --act-quant=int8` (kernel_abi.h, "int8 activations"): each call quantizes its x
 * rows to int8 in blocks of 32 (an f32 scale per block) into the caller's scratch, then takes every
 * dot product with a block-quantized weight in integers, one int32 sum per block of 32, scaled once
 * per block:
 *
 *   y[t, n] = sum_b dw[n, b] dx[t, b] sum_i c[n, 32b + i] q[t, 32b + i]  +  sum_b e[n, b] s[t, b]
 *
 * with c the weight codes as stored (Q8_0: signed; int4: the unsigned nibble 0..15), dw the weight
 * block's scale, s[t, b] = dx[t, b] sum_i q[t, 32b + i], and e the code offset: -8 dw for the
 * symmetric int4 formats (their value is (c - 8) dw), the min m for the asymmetric ones, 0 for
 * Q8_0.
 *
 * Weights are decoded a tile of DC_Q8_ROWS rows at a time into scratch (codes as bytes, scales and
 * offsets as floats), and each decoded tile serves every token, DC_Q8_TOKENS at a time, so prefill
 * decodes each weight block once per call rather than once per token. The integer dot products use
 * what the target has, chosen when the kernels are compiled:
 *   - AVX-512 VNNI: vpdpbusd on two blocks per 512-bit register (u8 codes x s8 activations; Q8_0
 *     weights go through |c| and the sign moved onto the activations);
 *   - AVX2: vpmaddubsw + vpmaddwd on one block per 256-bit register (no int16 overflow: int4 codes
 *     are <= 15, and Q8_0 again uses |c| <= 127 with the sign on the activations);
 *   - arm64 (NEON intrinsics): each output is a chain acc = fma(f32(block sum), dw dx, acc) over
 *     its blocks, the block sum exact in int32, so every tile shape gives the same bits:
 *       - i8mm (armv8.6-a): tiles of 4 rows x 4 tokens by smmla: the 8-byte halves of two rows,
 *         and of two tokens, interleaved (zip of 64-bit lanes) so that one smmla adds the 2x2
 *         block [r0 t0, r0 t1, r1 t0, r1 t1] of 8 products each; 4 smmla per block of 32, then
 *         one conversion and one FMA with the 2x2 scales [dw0 dx0, dw0 dx1, dw1 dx0, dw1 dx1].
 *         The other tile shapes (decode: 4 rows x 1 token) as with dotprod;
 *       - dotprod (armv8.2-a+dotprod): sdot on 16 bytes, 2 per block and row/token pair, each
 *         int32x4 left unreduced; the 4 rows of a token (or 4 tokens of a row) are summed
 *         pairwise (addp) into one int32x4 [r0, r1, r2, r3], converted and FMA'd with the 4 scale
 *         products, so there is no horizontal reduction per output;
 *       - plain NEON (armv8-a): the same with vmull_s8 / vmlal_high_s8 (int16 products: Q8_0 fits
 *         two, |c q| <= 128 x 127, nibbles four) and pairwise widening adds into int32;
 *     the decoder converts f16 scales with the fp16 conversion instruction and splits nibbles
 *     with NEON and/shift;
 *   - otherwise portable C, which the compiler vectorizes as it can.
 * Every output depends only on its own weight row(s), token and residual, never on the tile it
 * falls in, so splitting the range changes no bit.
 *===----------------------------------------------------------------------===*/

#include "kernel_internal.h"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) &&                   \
    defined(__AVX512DQ__)
#define DC_Q8ACT_VNNI 1
#elif defined(__AVX2__) && defined(__FMA__)
#define DC_Q8ACT_AVX2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include "kernel_neon.h"
#define DC_Q8ACT_NEON 1
#if defined(__ARM_FEATURE_MATMUL_INT8) && defined(__ARM_FEATURE_DOTPROD)
#define DC_Q8ACT_I8MM 1
#endif
#endif

#define DC_Q8_BLOCK 32
#define DC_Q8_ROWS 4   /* weight rows decoded together */
#define DC_Q8_TOKENS 4 /* tokens sharing one pass over a decoded row tile */

/* The scratch of one call, carved in this order (each part 64-byte aligned). */
struct dc_q8_scratch {
  int8_t *q;  /* [T, K] activation codes */
  float *dx;  /* [T, K / 32] activation scales */
  float *sx;  /* [T, K / 32] dx times the block's code sum */
  uint8_t *w; /* [DC_Q8_ROWS, K] weight codes of the current row tile */
  float *dw;  /* [DC_Q8_ROWS, K / 32] their block scales */
  float *ew;  /* [DC_Q8_ROWS, K / 32] their code offsets (e above) */
};

int64_t dc_k_q8act_scratch_bytes(int64_t T, int64_t K) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  const int64_t unpacked = dc_align64(T * K) + 2 * dc_align64(4 * T * blocks) +
                           dc_align64(DC_Q8_ROWS * K) + 2 * dc_align64(4 * DC_Q8_ROWS * blocks);
  const int64_t packed = dc_pk_scratch_bytes(T, K); /* linear_packed.c */
  return unpacked > packed ? unpacked : packed;
}

DC_INLINE struct dc_q8_scratch dc_q8_carve(void *scratch, int64_t T, int64_t K) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  uint8_t *p = (uint8_t *)scratch;
  struct dc_q8_scratch s;
  s.q = (int8_t *)p, p += dc_align64(T * K);
  s.dx = (float *)(void *)p, p += dc_align64(4 * T * blocks);
  s.sx = (float *)(void *)p, p += dc_align64(4 * T * blocks);
  s.w = p, p += dc_align64(DC_Q8_ROWS * K);
  s.dw = (float *)(void *)p, p += dc_align64(4 * DC_Q8_ROWS * blocks);
  s.ew = (float *)(void *)p;
  return s;
}

/*---- Activation quantization ----------------------------------------------------------------*/

/* One row of K values, block by block (kernel_internal.h, dc_q8_quantize_block). */
DC_INLINE void dc_q8_quantize_row(const float *restrict x, int64_t K, int8_t *restrict q,
                                  float *restrict dx, float *restrict sx) {
  for (int64_t b = 0; b < K / DC_Q8_BLOCK; ++b) {
    const int32_t sum = dc_q8_quantize_block(x + b * DC_Q8_BLOCK, q + b * DC_Q8_BLOCK, &dx[b]);
    sx[b] = dx[b] * (float)sum;
  }
}

/*---- Weight decoding ------------------------------------------------------------------------*/

#if defined(__AVX2__) && defined(__F16C__)
/* The decoder's inner loops by hand where the target has AVX2 and F16C (the compiler's versions of
 * the nibble loops are several times slower): an f16 by the conversion instruction, and 32 codes
 * from 32 bytes (one nibble of each) or from 16 bytes (low nibbles, then high nibbles). */
DC_INLINE float dc_q8_half(const uint8_t *p) {
  return _cvtsh_ss((unsigned short)(p[0] | (p[1] << 8)));
}
DC_INLINE void dc_q8_nibbles32(const uint8_t *qs, int shift, uint8_t *codes) {
  const __m256i v = _mm256_loadu_si256((const void *)qs);
  const __m256i shifted = shift ? _mm256_srli_epi16(v, 4) : v;
  _mm256_storeu_si256((void *)codes, _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F)));
}
DC_INLINE void dc_q8_nibbles16(const uint8_t *qs, uint8_t *codes) {
  const __m128i v = _mm_loadu_si128((const void *)qs), mask = _mm_set1_epi8(0x0F);
  _mm_storeu_si128((void *)codes, _mm_and_si128(v, mask));
  _mm_storeu_si128((void *)(codes + 16), _mm_and_si128(_mm_srli_epi16(v, 4), mask));
}
#elif DC_Q8ACT_NEON
/* arm64: an f16 by the conversion instruction (__fp16), nibbles with NEON and/shift. */
DC_INLINE float dc_q8_half(const uint8_t *p) {
  __fp16 h;
  __builtin_memcpy(&h, p, 2);
  return (float)h;
}
DC_INLINE void dc_q8_nibbles32(const uint8_t *qs, int shift, uint8_t *codes) {
  for (int i = 0; i < DC_Q8_BLOCK; i += 16) {
    const uint8x16_t v = vld1q_u8(qs + i);
    vst1q_u8(codes + i, shift ? vshrq_n_u8(v, 4) : vandq_u8(v, vdupq_n_u8(0x0F)));
  }
}
DC_INLINE void dc_q8_nibbles16(const uint8_t *qs, uint8_t *codes) {
  const uint8x16_t v = vld1q_u8(qs);
  vst1q_u8(codes, vandq_u8(v, vdupq_n_u8(0x0F)));
  vst1q_u8(codes + 16, vshrq_n_u8(v, 4));
}
#else
DC_INLINE float dc_q8_half(const uint8_t *p) { return dc_load_f16(p); }
DC_INLINE void dc_q8_nibbles32(const uint8_t *qs, int shift, uint8_t *codes) {
  for (int i = 0; i < DC_Q8_BLOCK; ++i)
    codes[i] = (qs[i] >> shift) & 0x0F;
}
DC_INLINE void dc_q8_nibbles16(const uint8_t *qs, uint8_t *codes) {
  for (int i = 0; i < DC_Q8_BLOCK / 2; ++i) {
    codes[i] = qs[i] & 0x0F;
    codes[i + DC_Q8_BLOCK / 2] = qs[i] >> 4;
  }
}
#endif

/* Block b (values 32b .. 32b + 31) of a weight row: its 32 codes, scale and code offset. */
DC_INLINE void dc_q8_decode_block(enum dc_weight_format fmt, const uint8_t *row, int64_t b,
                                  uint8_t *restrict codes, float *dw, float *ew) {
  int64_t group = DC_Q8_BLOCK, block_bytes = 0;
  int asymmetric = 0;
  switch (fmt) {
  case DC_W_Q8_0: {
    const uint8_t *block = row + b * DC_K_Q8_0_BLOCK_BYTES;
    *dw = dc_q8_half(block);
    *ew = 0.0f;
    for (int i = 0; i < DC_Q8_BLOCK; ++i)
      codes[i] = block[2 + i];
    return;
  }
  case DC_W_Q4_0:
  case DC_W_Q4_1: {
    asymmetric = fmt == DC_W_Q4_1;
    const uint8_t *block = row + b * (asymmetric ? DC_K_Q4_1_BLOCK_BYTES : DC_K_Q4_0_BLOCK_BYTES);
    *dw = dc_q8_half(block);
    *ew = asymmetric ? dc_q8_half(block + 2) : -8.0f * *dw;
    dc_q8_nibbles16(block + (asymmetric ? 4 : 2), codes);
    return;
  }
  case DC_W_Q4_0_G64:
    group = DC_K_Q4_G64_GROUP, block_bytes = DC_K_Q4_0_G64_BLOCK_BYTES;
    break;
  case DC_W_Q4_1_G64:
    group = DC_K_Q4_G64_GROUP, block_bytes = DC_K_Q4_1_G64_BLOCK_BYTES, asymmetric = 1;
    break;
  case DC_W_Q4_0_G128:
    group = DC_K_Q4_G128_GROUP, block_bytes = DC_K_Q4_0_G128_BLOCK_BYTES;
    break;
  case DC_W_Q4_1_G128:
    group = DC_K_Q4_G128_GROUP, block_bytes = DC_K_Q4_1_G128_BLOCK_BYTES, asymmetric = 1;
    break;
  default:
    return;
  }
  /* deltac's groups: the 32 values are one half (or quarter) of a group, all low or all high
   * nibbles (kernel_internal.h, dc_decode_q4_group_span). */
  const int64_t k0 = b * DC_Q8_BLOCK;
  const uint8_t *block = row + k0 / group * block_bytes;
  const int64_t j = k0 % group, half = group / 2;
  const uint8_t *qs = block + (asymmetric ? 4 : 2) + j % half;
  *dw = dc_q8_half(block);
  *ew = asymmetric ? dc_q8_half(block + 2) : -8.0f * *dw;
  dc_q8_nibbles32(qs, j >= half ? 4 : 0, codes);
}

DC_INLINE void dc_q8_decode_row_impl(enum dc_weight_format fmt, const uint8_t *row, int64_t K,
                                     uint8_t *restrict codes, float *restrict dw,
                                     float *restrict ew) {
  for (int64_t b = 0; b < K / DC_Q8_BLOCK; ++b)
    dc_q8_decode_block(fmt, row, b, codes + b * DC_Q8_BLOCK, &dw[b], &ew[b]);
}

/* One loop per format; the rest of the driver does not depend on it (beyond signed codes), so it is
 * compiled once rather than once per entry point. */
static void dc_q8_decode_row(enum dc_weight_format fmt, const uint8_t *row, int64_t K,
                             uint8_t *restrict codes, float *restrict dw, float *restrict ew) {
  switch (fmt) {
  case DC_W_Q8_0:
    dc_q8_decode_row_impl(DC_W_Q8_0, row, K, codes, dw, ew);
    break;
  case DC_W_Q4_0:
    dc_q8_decode_row_impl(DC_W_Q4_0, row, K, codes, dw, ew);
    break;
  case DC_W_Q4_1:
    dc_q8_decode_row_impl(DC_W_Q4_1, row, K, codes, dw, ew);
    break;
  case DC_W_Q4_0_G64:
    dc_q8_decode_row_impl(DC_W_Q4_0_G64, row, K, codes, dw, ew);
    break;
  case DC_W_Q4_1_G64:
    dc_q8_decode_row_impl(DC_W_Q4_1_G64, row, K, codes, dw, ew);
    break;
  case DC_W_Q4_0_G128:
    dc_q8_decode_row_impl(DC_W_Q4_0_G128, row, K, codes, dw, ew);
    break;
  case DC_W_Q4_1_G128:
    dc_q8_decode_row_impl(DC_W_Q4_1_G128, row, K, codes, dw, ew);
    break;
  default:
    break;
  }
}

/*---- Integer dot products of a tile: R decoded rows x TT tokens ------------------------------*
 * out[r][t] = sum_b dw[r, b] dx[t, b] sum_i c[r, 32b + i] q[t, 32b + i]; `signed_codes` for Q8_0
 * (codes are int8), else the codes are unsigned nibbles. R and TT are constants at every call, so
 * the accumulators stay in registers. */

#if DC_Q8ACT_VNNI

/* [d[b] x 8, d[b + 1] x 8]: the scales of two blocks, lane for lane with a vpdpbusd result. */
DC_INLINE __m512 dc_q8_pair_scale(const float *d, int64_t b) {
  return _mm512_insertf32x8(_mm512_set1_ps(d[b]), _mm256_set1_ps(d[b + 1]), 1);
}

DC_INLINE void dc_q8_tile(const int signed_codes, const int R, const int TT,
                          const uint8_t *restrict w, const float *restrict dw, int64_t K,
                          const int8_t *restrict q, const float *restrict dx,
                          float out[DC_Q8_ROWS][DC_Q8_TOKENS]) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc[DC_Q8_ROWS][DC_Q8_TOKENS];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      acc[r][t] = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    __m512i xv[DC_Q8_TOKENS];
    __m512 dxv[DC_Q8_TOKENS];
    for (int t = 0; t < TT; ++t) {
      xv[t] = _mm512_loadu_si512((const void *)(q + t * K + b * DC_Q8_BLOCK));
      dxv[t] = dc_q8_pair_scale(dx + t * blocks, b);
    }
    for (int r = 0; r < R; ++r) {
      __m512i wv = _mm512_loadu_si512((const void *)(w + r * K + b * DC_Q8_BLOCK));
      const __m512 dwv = dc_q8_pair_scale(dw + r * blocks, b);
      __mmask64 negative = 0;
      if (signed_codes) {
        negative = _mm512_movepi8_mask(wv);
        wv = _mm512_abs_epi8(wv);
      }
      for (int t = 0; t < TT; ++t) {
        const __m512i xs =
            signed_codes ? _mm512_mask_sub_epi8(xv[t], negative, zero, xv[t]) : xv[t];
        const __m512i sums = _mm512_dpbusd_epi32(zero, wv, xs);
        acc[r][t] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(dwv, dxv[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      out[r][t] = _mm512_reduce_add_ps(acc[r][t]);
  if (b < blocks) { /* an odd last block, in 256 bits */
    const __m256i zero256 = _mm256_setzero_si256();
    for (int r = 0; r < R; ++r) {
      __m256i wv = _mm256_loadu_si256((const void *)(w + r * K + b * DC_Q8_BLOCK));
      __mmask32 negative = 0;
      if (signed_codes) {
        negative = _mm256_movepi8_mask(wv);
        wv = _mm256_abs_epi8(wv);
      }
      for (int t = 0; t < TT; ++t) {
        __m256i xs = _mm256_loadu_si256((const void *)(q + t * K + b * DC_Q8_BLOCK));
        if (signed_codes)
          xs = _mm256_mask_sub_epi8(xs, negative, zero256, xs);
        const __m256 f = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(zero256, wv, xs));
        const __m256 v = _mm256_mul_ps(f, _mm256_set1_ps(dw[r * blocks + b] * dx[t * blocks + b]));
        const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
        out[r][t] += _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
      }
    }
  }
}

#elif DC_Q8ACT_AVX2

DC_INLINE void dc_q8_tile(const int signed_codes, const int R, const int TT,
                          const uint8_t *restrict w, const float *restrict dw, int64_t K,
                          const int8_t *restrict q, const float *restrict dx,
                          float out[DC_Q8_ROWS][DC_Q8_TOKENS]) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[DC_Q8_ROWS][DC_Q8_TOKENS];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      acc[r][t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m256i xv[DC_Q8_TOKENS];
    for (int t = 0; t < TT; ++t)
      xv[t] = _mm256_loadu_si256((const void *)(q + t * K + b * DC_Q8_BLOCK));
    for (int r = 0; r < R; ++r) {
      const __m256i wv = _mm256_loadu_si256((const void *)(w + r * K + b * DC_Q8_BLOCK));
      const __m256i uw = signed_codes ? _mm256_abs_epi8(wv) : wv;
      const float dwb = dw[r * blocks + b];
      for (int t = 0; t < TT; ++t) {
        const __m256i xs = signed_codes ? _mm256_sign_epi8(xv[t], wv) : xv[t];
#if DC_HAS_DPBUSD256
        /* AVX-VNNI (or AVX-512 VNNI without the rest of the VNNI level): the same int32 sums. */
        const __m256i sums = dc_dpbusd256(_mm256_setzero_si256(), uw, xs);
        (void)ones;
#else
        /* |c| <= 127 and |q| <= 127 keep each pair sum of vpmaddubsw within int16. */
        const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(uw, xs), ones);
#endif
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                                    _mm256_set1_ps(dwb * dx[t * blocks + b]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t) {
      const __m256 v = acc[r][t];
      const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
      out[r][t] = _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
    }
}

#elif DC_Q8ACT_NEON

/* The exact sum of one block of 32 codes (two 16-byte halves w0, w1) times 32 activations (x0, x1),
 * spread over the 4 int32 lanes: sdot with dotprod; else vmull_s8 / vmlal_high_s8 into int16 and
 * pairwise adds into int32 (Q8_0: |c q| <= 128 x 127, two products fit int16; nibbles: 15 x 127,
 * four products fit). */
DC_INLINE int32x4_t dc_q8_dot32(const int signed_codes, int8x16_t w0, int8x16_t w1, int8x16_t x0,
                                int8x16_t x1) {
#if defined(__ARM_FEATURE_DOTPROD)
  (void)signed_codes;
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
#else
  int16x8_t a = vmlal_high_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), w0, x0);
  if (!signed_codes) {
    a = vmlal_high_s8(vmlal_s8(a, vget_low_s8(w1), vget_low_s8(x1)), w1, x1);
    return vpaddlq_s16(a);
  }
  const int16x8_t b = vmlal_high_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), w1, x1);
  return vpadalq_s16(vpaddlq_s16(a), b);
#endif
}

/* [p[0], p[stride], p[2 stride], p[3 stride]]. */
DC_INLINE float32x4_t dc_q8_gather4(const float *p, int64_t stride) {
  float32x4_t v = vld1q_dup_f32(p);
  v = vld1q_lane_f32(p + stride, v, 1);
  v = vld1q_lane_f32(p + 2 * stride, v, 2);
  return vld1q_lane_f32(p + 3 * stride, v, 3);
}

#if DC_Q8ACT_I8MM

/* 4 rows x 4 tokens by smmla: acc[p][u] holds [r0 t0, r0 t1, r1 t0, r1 t1] of rows 2p, 2p + 1 and
 * tokens 2u, 2u + 1; each block's 2x2 int32 sums (4 smmla on the 8-byte halves of the rows and
 * tokens, interleaved in pairs) are converted and FMA'd with the matching 2x2 scales. */
DC_INLINE void dc_q8_tile_mmla(const uint8_t *restrict w, const float *restrict dw, int64_t K,
                               const int8_t *restrict q, const float *restrict dx,
                               float out[DC_Q8_ROWS][DC_Q8_TOKENS]) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  float32x4_t acc[2][2];
  for (int p = 0; p < 2; ++p)
    for (int u = 0; u < 2; ++u)
      acc[p][u] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < blocks; ++b) {
    uint8x16_t wz[2][4], xz[2][4];
    for (int p = 0; p < 2; ++p) {
      const uint8_t *w0 = w + (2 * p) * K + b * DC_Q8_BLOCK, *w1 = w0 + K;
      const uint8_t *x0 = (const uint8_t *)q + (2 * p) * K + b * DC_Q8_BLOCK, *x1 = x0 + K;
      for (int h = 0; h < 2; ++h) {
        const uint8x16_t a = vld1q_u8(w0 + 16 * h), c = vld1q_u8(w1 + 16 * h);
        wz[p][2 * h] = dc_neon_zip1_64(a, c);
        wz[p][2 * h + 1] = dc_neon_zip2_64(a, c);
        const uint8x16_t s = vld1q_u8(x0 + 16 * h), t = vld1q_u8(x1 + 16 * h);
        xz[p][2 * h] = dc_neon_zip1_64(s, t);
        xz[p][2 * h + 1] = dc_neon_zip2_64(s, t);
      }
    }
    const float32x4_t dwv = dc_q8_gather4(dw + b, blocks), dxv = dc_q8_gather4(dx + b, blocks);
    float32x4_t dwp[2], dxp[2];
    dc_neon_mmla_scales(dwv, dxv, dwp, dxp);
    for (int p = 0; p < 2; ++p)
      for (int u = 0; u < 2; ++u) {
        int32x4_t s = vdupq_n_s32(0);
        for (int i = 0; i < 4; ++i)
          s = vmmlaq_s32(s, vreinterpretq_s8_u8(wz[p][i]), vreinterpretq_s8_u8(xz[u][i]));
        acc[p][u] = vfmaq_f32(acc[p][u], vcvtq_f32_s32(s), vmulq_f32(dwp[p], dxp[u]));
      }
  }
  dc_neon_mmla_store(acc, out);
}
#endif

/* Every shape computes each output as acc = fma(f32(block sum), dw dx, acc), block by block from
 * acc = 0, with the block sum exact in int32: the same bits whatever the tile. */
DC_INLINE void dc_q8_tile(const int signed_codes, const int R, const int TT,
                          const uint8_t *restrict w, const float *restrict dw, int64_t K,
                          const int8_t *restrict q, const float *restrict dx,
                          float out[DC_Q8_ROWS][DC_Q8_TOKENS]) {
  const int64_t blocks = K / DC_Q8_BLOCK;
#if DC_Q8ACT_I8MM
  if (R == DC_Q8_ROWS && TT == DC_Q8_TOKENS) {
    dc_q8_tile_mmla(w, dw, K, q, dx, out);
    return;
  }
#endif
  if (R == 1 && TT == 1) {
    float acc = 0.0f;
    for (int64_t b = 0; b < blocks; ++b) {
      const int8_t *wb = (const int8_t *)w + b * DC_Q8_BLOCK, *xb = q + b * DC_Q8_BLOCK;
      const int32x4_t s = dc_q8_dot32(signed_codes, vld1q_s8(wb), vld1q_s8(wb + 16), vld1q_s8(xb),
                                      vld1q_s8(xb + 16));
      acc = __builtin_fmaf((float)vaddvq_s32(s), dw[b] * dx[b], acc);
    }
    out[0][0] = acc;
    return;
  }
  if (R == DC_Q8_ROWS) { /* acc[t]: the 4 rows of token t */
    float32x4_t acc[DC_Q8_TOKENS];
    for (int t = 0; t < TT; ++t)
      acc[t] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < blocks; ++b) {
      int8x16_t wv[DC_Q8_ROWS][2];
      for (int r = 0; r < DC_Q8_ROWS; ++r) {
        const int8_t *wb = (const int8_t *)w + r * K + b * DC_Q8_BLOCK;
        wv[r][0] = vld1q_s8(wb);
        wv[r][1] = vld1q_s8(wb + 16);
      }
      const float32x4_t dwv = dc_q8_gather4(dw + b, blocks);
      for (int t = 0; t < TT; ++t) {
        const int8_t *xb = q + t * K + b * DC_Q8_BLOCK;
        const int8x16_t x0 = vld1q_s8(xb), x1 = vld1q_s8(xb + 16);
        const int32x4_t s = dc_neon_sum4(dc_q8_dot32(signed_codes, wv[0][0], wv[0][1], x0, x1),
                                       dc_q8_dot32(signed_codes, wv[1][0], wv[1][1], x0, x1),
                                       dc_q8_dot32(signed_codes, wv[2][0], wv[2][1], x0, x1),
                                       dc_q8_dot32(signed_codes, wv[3][0], wv[3][1], x0, x1));
        acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(s), vmulq_n_f32(dwv, dx[t * blocks + b]));
      }
    }
    for (int t = 0; t < TT; ++t)
      for (int r = 0; r < DC_Q8_ROWS; ++r)
        out[r][t] = acc[t][r];
    return;
  }
  /* 1 row x 4 tokens: acc lanes are the tokens. */
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < blocks; ++b) {
    const int8_t *wb = (const int8_t *)w + b * DC_Q8_BLOCK;
    const int8x16_t w0 = vld1q_s8(wb), w1 = vld1q_s8(wb + 16);
    int32x4_t s4[DC_Q8_TOKENS];
    for (int t = 0; t < DC_Q8_TOKENS; ++t) {
      const int8_t *xb = q + t * K + b * DC_Q8_BLOCK;
      s4[t] = dc_q8_dot32(signed_codes, w0, w1, vld1q_s8(xb), vld1q_s8(xb + 16));
    }
    const int32x4_t s = dc_neon_sum4(s4[0], s4[1], s4[2], s4[3]);
    acc = vfmaq_f32(acc, vcvtq_f32_s32(s), vmulq_n_f32(dc_q8_gather4(dx + b, blocks), dw[b]));
  }
  for (int t = 0; t < DC_Q8_TOKENS; ++t)
    out[0][t] = acc[t];
}

#else

DC_INLINE void dc_q8_tile(const int signed_codes, const int R, const int TT,
                          const uint8_t *restrict w, const float *restrict dw, int64_t K,
                          const int8_t *restrict q, const float *restrict dx,
                          float out[DC_Q8_ROWS][DC_Q8_TOKENS]) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t) {
      float acc = 0.0f;
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t *wb = w + r * K + b * DC_Q8_BLOCK;
        const int8_t *xb = q + t * K + b * DC_Q8_BLOCK;
        int32_t sum = 0;
        if (signed_codes)
          for (int i = 0; i < DC_Q8_BLOCK; ++i)
            sum += (int32_t)(int8_t)wb[i] * (int32_t)xb[i];
        else
          for (int i = 0; i < DC_Q8_BLOCK; ++i)
            sum += (int32_t)wb[i] * (int32_t)xb[i];
        acc += (float)sum * (dw[r * blocks + b] * dx[t * blocks + b]);
      }
      out[r][t] = acc;
    }
}

#endif

/* A tile of `rows` (<= DC_Q8_ROWS) decoded rows against `tokens` (<= DC_Q8_TOKENS) tokens, cut into
 * the tile shapes that are compiled: 4 or 1 rows by 4 or 1 tokens. */
DC_INLINE void dc_q8_tile_any(const int signed_codes, int64_t rows, int64_t tokens,
                              const uint8_t *w, const float *dw, int64_t K, const int8_t *q,
                              const float *dx, float out[DC_Q8_ROWS][DC_Q8_TOKENS]) {
  const int64_t blocks = K / DC_Q8_BLOCK;
  float one[DC_Q8_ROWS][DC_Q8_TOKENS];
  if (rows == DC_Q8_ROWS && tokens == DC_Q8_TOKENS) {
    dc_q8_tile(signed_codes, DC_Q8_ROWS, DC_Q8_TOKENS, w, dw, K, q, dx, out);
    return;
  }
  if (rows == DC_Q8_ROWS) {
    for (int64_t t = 0; t < tokens; ++t) {
      dc_q8_tile(signed_codes, DC_Q8_ROWS, 1, w, dw, K, q + t * K, dx + t * blocks, one);
      for (int r = 0; r < DC_Q8_ROWS; ++r)
        out[r][t] = one[r][0];
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    int64_t t = 0;
    for (; t + DC_Q8_TOKENS <= tokens; t += DC_Q8_TOKENS) {
      dc_q8_tile(signed_codes, 1, DC_Q8_TOKENS, w + r * K, dw + r * blocks, K, q + t * K,
                 dx + t * blocks, one);
      for (int u = 0; u < DC_Q8_TOKENS; ++u)
        out[r][t + u] = one[0][u];
    }
    for (; t < tokens; ++t) {
      dc_q8_tile(signed_codes, 1, 1, w + r * K, dw + r * blocks, K, q + t * K, dx + t * blocks,
                 one);
      out[r][t] = one[0][0];
    }
  }
}

/*---- The driver -----------------------------------------------------------------------------*/

/* y = x W^T with the epilogue of dc_k_linear_epilogue_*: for DC_K_EPILOGUE_SWIGLU the weight is
 * [2N, K] and y[t, n] = silu(p[t, n]) * p[t, N + n]; a non-NULL residual [T, N] is added last. One
 * copy for every format and epilogue: the time goes into the tiles, which take both as constants.
 */
static void dc_q8act_rows(enum dc_weight_format fmt, const float *restrict x, int64_t T, int64_t K,
                          const void *restrict weight, int64_t N, int32_t epilogue,
                          const float *restrict residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *restrict y) {
  if (n_begin >= n_end || T <= 0)
    return;
  const struct dc_q8_scratch s = dc_q8_carve(scratch, T, K);
  const int64_t blocks = K / DC_Q8_BLOCK;
  for (int64_t t = 0; t < T; ++t)
    dc_q8_quantize_row(x + t * K, K, s.q + t * K, s.dx + t * blocks, s.sx + t * blocks);

  const int64_t row_bytes = dc_row_bytes(fmt, K);
  const int signed_codes = fmt == DC_W_Q8_0;
  const int swiglu = epilogue == DC_K_EPILOGUE_SWIGLU;
  /* Outputs per row tile: DC_Q8_ROWS, or half of it when each output needs a gate and an up row. */
  const int64_t step = swiglu ? DC_Q8_ROWS / 2 : DC_Q8_ROWS;
  for (int64_t n0 = n_begin; n0 < n_end; n0 += step) {
    const int64_t outputs = dc_min64(step, n_end - n0);
    int64_t rows = 0;
    for (int64_t o = 0; o < outputs; ++o, ++rows)
      dc_q8_decode_row(fmt, (const uint8_t *)weight + (n0 + o) * row_bytes, K, s.w + rows * K,
                       s.dw + rows * blocks, s.ew + rows * blocks);
    if (swiglu)
      for (int64_t o = 0; o < outputs; ++o, ++rows)
        dc_q8_decode_row(fmt, (const uint8_t *)weight + (N + n0 + o) * row_bytes, K, s.w + rows * K,
                         s.dw + rows * blocks, s.ew + rows * blocks);
    for (int64_t t0 = 0; t0 < T; t0 += DC_Q8_TOKENS) {
      const int64_t tokens = dc_min64(DC_Q8_TOKENS, T - t0);
      float p[DC_Q8_ROWS][DC_Q8_TOKENS];
      if (signed_codes)
        dc_q8_tile_any(1, rows, tokens, s.w, s.dw, K, s.q + t0 * K, s.dx + t0 * blocks, p);
      else
        dc_q8_tile_any(0, rows, tokens, s.w, s.dw, K, s.q + t0 * K, s.dx + t0 * blocks, p);
      if (!signed_codes) /* the int4 code offsets: sum_b e[r, b] s[t, b] */
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t t = 0; t < tokens; ++t)
            p[r][t] += dc_dot(s.ew + r * blocks, s.sx + (t0 + t) * blocks, blocks);
      for (int64_t o = 0; o < outputs; ++o)
        for (int64_t t = 0; t < tokens; ++t) {
          float v = swiglu ? dc_siluf(p[o][t]) * p[outputs + o][t] : p[o][t];
          if (residual)
            v += residual[(t0 + t) * N + n0 + o];
          y[(t0 + t) * N + n0 + o] = v;
        }
    }
  }
}

/*---- Entry points ---------------------------------------------------------------------------*/

#define DC_DEFINE_Q8ACT(name, fmt)                                                                 \
  void dc_k_linear_q8act_##name(const float *x, int64_t T, int64_t K, const uint8_t *weight,       \
                                int64_t N, int64_t n_begin, int64_t n_end, void *scratch,          \
                                float *y) {                                                        \
    dc_q8act_rows(fmt, x, T, K, weight, N, DC_K_EPILOGUE_NONE, 0, n_begin, n_end, scratch, y);     \
  }                                                                                                \
  void dc_k_lm_head_q8act_##name(const float *x, int64_t T, int64_t H, const uint8_t *weight,      \
                                 int64_t V, int64_t v_begin, int64_t v_end, void *scratch,         \
                                 float *logits) {                                                  \
    dc_q8act_rows(fmt, x, T, H, weight, V, DC_K_EPILOGUE_NONE, 0, v_begin, v_end, scratch,         \
                  logits);                                                                         \
  }                                                                                                \
  void dc_k_linear_epilogue_q8act_##name(                                                          \
      const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N, int32_t epilogue,    \
      const float *residual, int64_t n_begin, int64_t n_end, void *scratch, float *y) {            \
    dc_q8act_rows(fmt, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);        \
  }

DC_DEFINE_Q8ACT(q8_0, DC_W_Q8_0)
DC_DEFINE_Q8ACT(q4_0, DC_W_Q4_0)
DC_DEFINE_Q8ACT(q4_1, DC_W_Q4_1)
DC_DEFINE_Q8ACT(q4_0_g64, DC_W_Q4_0_G64)
DC_DEFINE_Q8ACT(q4_1_g64, DC_W_Q4_1_G64)
DC_DEFINE_Q8ACT(q4_0_g128, DC_W_Q4_0_G128)
DC_DEFINE_Q8ACT(q4_1_g128, DC_W_Q4_1_G128)
