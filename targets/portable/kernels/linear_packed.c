/*===- linear_packed.c - int8-activation kernels for packed Q8_0 / Q4_0 rows ---===*
 *
 * The weights come from the delta-pack-weights pass (kernel_abi.h, "Packed rows"): each row holds
 * its codes first (Q8_0_PACKED: K bytes c + 128 in value order; Q4_0_PACKED: the 16 qs bytes of
 * each Q4_0 block in turn) and its K / 32 f16 scales after them. The kernels read codes and scales
 * straight from the row with whole-register loads and never decode a row into scratch; the
 * arithmetic is that of linear_q8act.c (activations quantized per call to int8 in blocks of 32,
 * exact int32 block sums, f32 scaling per block), only the order of the f32 sums differs.
 *
 * The activations are quantized once per call, a chunk of tokens at a time (dc_pk_chunk_tokens in
 * kernel_internal.h: the chunk's activation data stays in L2 while the whole range of weight rows
 * passes by), into records that line up with the weight registers ("Activation records" below):
 *   - codes, int8. Q8_0_PACKED: value order. Q4_0_PACKED (SIMD builds): per group of 4 blocks (128
 *     values) the 16 values of each block that sit in the low nibbles (i < 16), block after block,
 *     then the 16 in the high nibbles. One 64-byte load of a row's nibbles covers a group, lane j
 *     (128 bits) holding block j: masked with 0x0F it lines up with the first 64 codes, shifted
 *     right by 4 with the other 64.
 *   - bias, int32 per lane of an integer dot product: minus the code offset times the sum of the
 *     activation codes the lane multiplies (-128 x 4 codes for Q8_0_PACKED, whose codes are stored
 *     as c + 128; -8 x (4 + 4) codes for Q4_0_PACKED, whose nibbles are c + 8). Starting each
 *     lane's sum from it makes the offset free: vpdpbusd takes the unsigned codes as stored.
 *   - dxe, f32 per lane: the activation block scale of that lane.
 * With AVX-512 VNNI, a group of 128 Q4 values is one load, two and/shift, two vpdpbusd into one
 * int32 vector started from the bias, one conversion, and one FMA with the lane scales (4 f16
 * weight scales from one 8-byte load, vcvtph2ps and vpermps to [d0 x4, d1 x4, d2 x4, d3 x4], times
 * dxe); Q8_0_PACKED takes 64 values (2 blocks) per load the same way. Tiles of 4 rows x 4 tokens
 * keep the accumulators in registers and reuse each unpacked weight register for 4 tokens
 * (prefill); decode streams 4 rows at a time, prefetching DC_PK_PREFETCH_BYTES ahead (rows of a
 * few cache lines are too short for the hardware prefetchers: without it T = 1 ran at half the
 * bandwidth). Masked loads take a row's last g < 4 (Q4) or odd (Q8) blocks; the records of such a
 * step are zero past its blocks. AVX2 (x86-64-v3, and x86-64-v4, which has no VNNI) does the same
 * on 256 bits with vpmaddubsw + vpmaddwd: nibbles are small enough for its int16 pair sums, and Q8
 * codes go back to signed (xor 0x80) with |c| and the sign moved onto the activations, as in
 * linear_q8act.c. Portable C elsewhere (codes in value order).
 *
 * Every output depends only on its own weight row(s), token and residual, through the same
 * sequence of operations whatever the tile it falls in, so splitting the range changes no bit.
 *===----------------------------------------------------------------------===*/

#include "kernel_internal.h"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) &&                   \
    defined(__AVX512DQ__) && defined(__F16C__)
#define DC_PK_VNNI 1
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define DC_PK_AVX2 1
#endif
#if DC_PK_VNNI || DC_PK_AVX2
#define DC_PK_SIMD 1 /* Q4 codes in group order */
#else
#define DC_PK_SIMD 0
#endif

#define DC_PK_BLOCK 32
/* How far ahead the weight rows are prefetched. Zen 5, 0.8B int4 decode on 2 threads: 8 KiB gave
 * about 75 tok/s, 16 KiB about 80, 32 KiB about 71 (the single-thread microbenchmark is flat from
 * 6 to 16 KiB). */
#define DC_PK_PREFETCH_BYTES 16384
#define DC_PK_ROWS 4 /* weight rows per tile */
#if DC_PK_VNNI
#define DC_PK_TOKENS 4 /* tokens per tile */
#elif DC_PK_AVX2
#define DC_PK_TOKENS 2 /* 16 registers: 8 accumulators */
#else
#define DC_PK_TOKENS 4
#endif

/* Bytes of a packed row of K values: codes (K or K / 2), then K / 32 f16 scales. */
DC_INLINE int64_t dc_pk_code_bytes(int q4, int64_t K) { return q4 ? K / 2 : K; }
DC_INLINE int64_t dc_pk_row_bytes(int q4, int64_t K) {
  return dc_pk_code_bytes(q4, K) + K / DC_PK_BLOCK * 2;
}

/*---- Activation records ---------------------------------------------------------------------*
 * The activations of a token, step by step: a step is a group of 4 blocks (128 values) in Q4
 * group order (SIMD builds), else a pair of blocks (64 values) in value order. A step's record is
 *   codes [values]  int8, in the step's order (zero where a row's last step has fewer blocks)
 *   bias [lanes]    int32, lanes = values / 8 (groups) or values / 4 (pairs)
 *   dxe [lanes]     f32
 * i.e. 256 bytes per group or 192 per pair. Records are interleaved by tiles of DC_PK_TOKENS
 * tokens: token u of a tile has its step s record at tile + (s DC_PK_TOKENS + u) rec, so one
 * pointer walks a token tile step by step and its tokens sit at constant offsets. */

/* Whether the activations are in Q4 group order (else value order, pairs of blocks). */
DC_INLINE int dc_pk_grouped(int q4) { return q4 && DC_PK_SIMD; }
DC_INLINE int64_t dc_pk_step_values(int q4) { return dc_pk_grouped(q4) ? 128 : 64; }
DC_INLINE int64_t dc_pk_rec_bytes(int q4) { return dc_pk_grouped(q4) ? 256 : 192; }
DC_INLINE int64_t dc_pk_steps(int q4, int64_t K) {
  return (K + dc_pk_step_values(q4) - 1) / dc_pk_step_values(q4);
}

/* Token x [K] into its records from `rec` (step stride `stride` bytes). */
DC_INLINE void dc_pk_quantize_token(const int q4, const float *restrict x, int64_t K,
                                    uint8_t *restrict rec, int64_t stride) {
  const int64_t blocks = K / DC_PK_BLOCK, values = dc_pk_step_values(q4);
  const int64_t per = values / DC_PK_BLOCK, lanes = dc_pk_grouped(q4) ? values / 8 : values / 4;
  const int grouped = dc_pk_grouped(q4);
  if (blocks % per) /* a row's last step with fewer blocks: zeros in the rest of its record */
    __builtin_memset(rec + blocks / per * stride, 0, (size_t)dc_pk_rec_bytes(q4));
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t *r = rec + b / per * stride;
    int8_t *codes = (int8_t *)r;
    int32_t *bias = (int32_t *)(void *)(r + values);
    float *dxe = (float *)(void *)(r + values + 4 * lanes);
    const int64_t j = b % per;
    int8_t q[DC_PK_BLOCK];
    float d;
    (void)dc_q8_quantize_block(x + b * DC_PK_BLOCK, q, &d);
    int32_t four[8]; /* sums of codes 4m .. 4m + 3 */
    for (int m = 0; m < 8; ++m)
      four[m] = q[4 * m] + q[4 * m + 1] + q[4 * m + 2] + q[4 * m + 3];
    if (!grouped) {
      for (int i = 0; i < DC_PK_BLOCK; ++i)
        codes[32 * j + i] = q[i];
      for (int m = 0; m < 8; ++m) {
        bias[8 * j + m] = -128 * four[m];
        dxe[8 * j + m] = d;
      }
      continue;
    }
    for (int i = 0; i < DC_PK_BLOCK / 2; ++i) {
      codes[16 * j + i] = q[i];
      codes[64 + 16 * j + i] = q[16 + i];
    }
    for (int m = 0; m < 4; ++m) {
      bias[4 * j + m] = -8 * (four[m] + four[4 + m]);
      dxe[4 * j + m] = d;
    }
  }
}

#if DC_PK_SIMD
/* Prefetches the weight bytes `pf` bytes after the 64 codes at c (a row tile's codes come from
 * memory at the rate of a line per row and step; the hardware prefetchers do not ramp up on rows of
 * a few lines) and, with `scales`, after the scales at d. pf = 0: none. */
DC_INLINE void dc_pk_prefetch(int64_t pf, const uint8_t *c, const uint8_t *d, int scales) {
  if (!pf)
    return;
  __builtin_prefetch(c + pf, 0, 3);
  if (scales)
    __builtin_prefetch(d + pf, 0, 3);
}
#endif

/*---- Tiles: R rows x TT tokens ---------------------------------------------------------------*
 * out[r][t] = the dot product of row rows[r] with token t, whose records start at act + t rec
 * (step stride DC_PK_TOKENS rec). R and TT are constants at every call, so the accumulators stay
 * in registers. */

#if DC_PK_VNNI

/* [h0 x4, h1 x4, h2 x4, h3 x4] (Q4, `per` = 4) or [h0 x8, h1 x8] (Q8, `per` = 8) from f16s. */
DC_INLINE __m512 dc_pk_spread(__m128i halves, int per) {
  const __m512i idx = per == 4 ? _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0)
                               : _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_cvtph_ps(halves)));
}

/* Q4: group s of g blocks (g = 4 but in a row's last group); a: its record of token 0. */
DC_INLINE void dc_pk_group_q4(const int R, const int TT, const int64_t g,
                              const uint8_t *const *rows, int64_t K, int64_t s,
                              const uint8_t *restrict a, int64_t pf,
                              __m512 acc[DC_PK_ROWS][DC_PK_TOKENS]) {
  const int full = g == 4;
  const __mmask64 bytes = full ? ~(__mmask64)0 : ((__mmask64)1 << (16 * g)) - 1;
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  __m512i lo[DC_PK_TOKENS], hi[DC_PK_TOKENS];
  for (int t = 0; t < TT; ++t) {
    lo[t] = _mm512_loadu_si512((const void *)(a + 256 * t));
    hi[t] = _mm512_loadu_si512((const void *)(a + 256 * t + 64));
  }
  for (int r = 0; r < R; ++r) {
    const uint8_t *qs = rows[r] + 64 * s, *d = rows[r] + K / 2 + 8 * s;
    dc_pk_prefetch(pf, qs, d, s % 8 == 0);
    const __m512i v =
        full ? _mm512_loadu_si512((const void *)qs) : _mm512_maskz_loadu_epi8(bytes, qs);
    const __m512i wl = _mm512_and_si512(v, nibble);
    const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
    const __m512 dw = dc_pk_spread(full ? _mm_loadl_epi64((const __m128i *)(const void *)d)
                                        : _mm_maskz_loadu_epi16((__mmask8)((1u << g) - 1), d),
                                   4);
    for (int t = 0; t < TT; ++t) {
      __m512i sum = _mm512_loadu_si512((const void *)(a + 256 * t + 128));
      sum = _mm512_dpbusd_epi32(sum, wl, lo[t]);
      sum = _mm512_dpbusd_epi32(sum, wh, hi[t]);
      const __m512 dx = _mm512_loadu_ps((const void *)(a + 256 * t + 192));
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, dx), acc[r][t]);
    }
  }
}

/* Q8: pair p of blocks (values 64p .. 64p + 63), or with `single` its first block only. */
DC_INLINE void dc_pk_pair_q8(const int R, const int TT, const int single,
                             const uint8_t *const *rows, int64_t K, int64_t p,
                             const uint8_t *restrict a, int64_t pf,
                             __m512 acc[DC_PK_ROWS][DC_PK_TOKENS]) {
  __m512i xv[DC_PK_TOKENS];
  for (int t = 0; t < TT; ++t)
    xv[t] = _mm512_loadu_si512((const void *)(a + 192 * t));
  for (int r = 0; r < R; ++r) {
    const uint8_t *c = rows[r] + 64 * p, *d = rows[r] + K + 4 * p;
    dc_pk_prefetch(pf, c, d, p % 16 == 0);
    const __m512i w = single ? _mm512_maskz_loadu_epi8((__mmask64)0xFFFFFFFFu, c)
                             : _mm512_loadu_si512((const void *)c);
    int32_t two = 0;
    __builtin_memcpy(&two, d, single ? 2 : 4);
    const __m512 dw = dc_pk_spread(_mm_cvtsi32_si128(two), 8);
    for (int t = 0; t < TT; ++t) {
      __m512i sum = _mm512_loadu_si512((const void *)(a + 192 * t + 64));
      sum = _mm512_dpbusd_epi32(sum, w, xv[t]);
      const __m512 dx = _mm512_loadu_ps((const void *)(a + 192 * t + 128));
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, dx), acc[r][t]);
    }
  }
}

DC_INLINE void dc_pk_tile(const int q4, const int R, const int TT, const uint8_t *const *rows,
                          int64_t K, const uint8_t *restrict act, int64_t pf,
                          float out[DC_PK_ROWS][DC_PK_TOKENS]) {
  __m512 acc[DC_PK_ROWS][DC_PK_TOKENS];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      acc[r][t] = _mm512_setzero_ps();
  const int64_t blocks = K / DC_PK_BLOCK;
  if (q4) {
    const int64_t stride = DC_PK_TOKENS * 256;
    int64_t s = 0;
    for (; 4 * s + 4 <= blocks; ++s)
      dc_pk_group_q4(R, TT, 4, rows, K, s, act + s * stride, pf, acc);
    if (4 * s < blocks)
      dc_pk_group_q4(R, TT, blocks - 4 * s, rows, K, s, act + s * stride, pf, acc);
  } else {
    const int64_t stride = DC_PK_TOKENS * 192;
    int64_t p = 0;
    for (; 2 * p + 2 <= blocks; ++p)
      dc_pk_pair_q8(R, TT, 0, rows, K, p, act + p * stride, pf, acc);
    if (2 * p < blocks)
      dc_pk_pair_q8(R, TT, 1, rows, K, p, act + p * stride, pf, acc);
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      out[r][t] = _mm512_reduce_add_ps(acc[r][t]);
}

#elif DC_PK_AVX2

/* [h0 x4, h1 x4] of two f16 at p (the first only with `single`). */
DC_INLINE __m256 dc_pk_spread2(const uint8_t *p, int single) {
  int32_t two = 0;
  __builtin_memcpy(&two, p, single ? 2 : 4);
  const __m256 f = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128(two)));
  return _mm256_permutevar8x32_ps(f, _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0));
}

/* Q4: half h (blocks 2h, 2h + 1, or 2h alone with `single`) of group s; a: the group's record of
 * token 0. */
DC_INLINE void dc_pk_half_q4(const int R, const int TT, const int h, const int single,
                             const uint8_t *const *rows, int64_t K, int64_t s,
                             const uint8_t *restrict a, int64_t pf,
                             __m256 acc[DC_PK_ROWS][DC_PK_TOKENS]) {
  const __m256i nibble = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (int r = 0; r < R; ++r) {
    const uint8_t *qs = rows[r] + 64 * s + 32 * h;
    if (h == 0)
      dc_pk_prefetch(pf, qs, rows[r] + K / 2 + 8 * s, s % 8 == 0);
    const __m256i v = single ? _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)qs))
                             : _mm256_loadu_si256((const __m256i *)qs);
    const __m256i wl = _mm256_and_si256(v, nibble);
    const __m256i wh = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
    const __m256 dw = dc_pk_spread2(rows[r] + K / 2 + 8 * s + 4 * h, single);
    for (int t = 0; t < TT; ++t) {
      const uint8_t *at = a + 256 * t;
      /* nibble x |q| <= 15 x 127: the pair sums and their sum stay within int16. */
      const __m256i pairs = _mm256_add_epi16(
          _mm256_maddubs_epi16(wl, _mm256_loadu_si256((const __m256i *)(at + 32 * h))),
          _mm256_maddubs_epi16(wh, _mm256_loadu_si256((const __m256i *)(at + 64 + 32 * h))));
      const __m256i sum = _mm256_add_epi32(
          _mm256_madd_epi16(pairs, ones), _mm256_loadu_si256((const __m256i *)(at + 128 + 32 * h)));
      const __m256 dx = _mm256_loadu_ps((const float *)(const void *)(at + 192 + 32 * h));
      acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw, dx), acc[r][t]);
    }
  }
}

/* Q8: block b, the j-th of its pair; a: the pair's record of token 0. */
DC_INLINE void dc_pk_block_q8(const int R, const int TT, const uint8_t *const *rows, int64_t K,
                              int64_t b, int j, const uint8_t *restrict a, int64_t pf,
                              __m256 acc[DC_PK_ROWS][DC_PK_TOKENS]) {
  const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
  for (int r = 0; r < R; ++r) {
    const __m256i w = /* the signed codes c */
        _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(rows[r] + 32 * b)), flip);
    const __m256i uw = _mm256_abs_epi8(w);
    const uint8_t *d = rows[r] + K + 2 * b;
    if (j == 0)
      dc_pk_prefetch(pf, rows[r] + 32 * b, d, b % 32 == 0);
    const __m256 dw = _mm256_set1_ps(_cvtsh_ss((unsigned short)(d[0] | (d[1] << 8))));
    for (int t = 0; t < TT; ++t) {
      const uint8_t *at = a + 192 * t;
      /* |c| <= 128 and |q| <= 127 keep each pair sum of vpmaddubsw within int16. */
      const __m256i xs = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(at + 32 * j)), w);
      const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(uw, xs), ones);
      const __m256 dx = _mm256_loadu_ps((const float *)(const void *)(at + 128 + 32 * j));
      acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw, dx), acc[r][t]);
    }
  }
}

DC_INLINE void dc_pk_tile(const int q4, const int R, const int TT, const uint8_t *const *rows,
                          int64_t K, const uint8_t *restrict act, int64_t pf,
                          float out[DC_PK_ROWS][DC_PK_TOKENS]) {
  __m256 acc[DC_PK_ROWS][DC_PK_TOKENS];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      acc[r][t] = _mm256_setzero_ps();
  const int64_t blocks = K / DC_PK_BLOCK;
  if (q4) {
    const int64_t stride = DC_PK_TOKENS * 256;
    int64_t s = 0;
    for (; 4 * s + 4 <= blocks; ++s) {
      dc_pk_half_q4(R, TT, 0, 0, rows, K, s, act + s * stride, pf, acc);
      dc_pk_half_q4(R, TT, 1, 0, rows, K, s, act + s * stride, pf, acc);
    }
    const int64_t g = blocks - 4 * s;
    if (g > 0)
      dc_pk_half_q4(R, TT, 0, g == 1, rows, K, s, act + s * stride, pf, acc);
    if (g > 2)
      dc_pk_half_q4(R, TT, 1, g == 3, rows, K, s, act + s * stride, pf, acc);
  } else {
    const int64_t stride = DC_PK_TOKENS * 192;
    for (int64_t b = 0; b < blocks; ++b)
      dc_pk_block_q8(R, TT, rows, K, b, (int)(b % 2), act + b / 2 * stride, pf, acc);
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t) {
      const __m256 v = acc[r][t];
      const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
      out[r][t] = _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
    }
}

#else

/* Records of pairs in value order: block b's codes at 32 (b % 2) in its pair's record, its scale
 * at dxe[8 (b % 2)]. */
DC_INLINE void dc_pk_tile(const int q4, const int R, const int TT, const uint8_t *const *rows,
                          int64_t K, const uint8_t *restrict act, int64_t pf,
                          float out[DC_PK_ROWS][DC_PK_TOKENS]) {
  (void)pf;
  const int64_t blocks = K / DC_PK_BLOCK;
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t) {
      const uint8_t *d = rows[r] + dc_pk_code_bytes(q4, K);
      float acc = 0.0f;
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t *rec = act + (b / 2 * DC_PK_TOKENS + t) * 192;
        const int8_t *q = (const int8_t *)rec + 32 * (b % 2);
        float dx;
        __builtin_memcpy(&dx, rec + 128 + 32 * (b % 2), 4);
        int32_t sum = 0;
        if (q4) {
          const uint8_t *qs = rows[r] + 16 * b;
          for (int i = 0; i < DC_PK_BLOCK / 2; ++i)
            sum += ((qs[i] & 0x0F) - 8) * q[i] + ((qs[i] >> 4) - 8) * q[16 + i];
        } else {
          const uint8_t *c = rows[r] + 32 * b;
          for (int i = 0; i < DC_PK_BLOCK; ++i)
            sum += (c[i] - 128) * q[i];
        }
        acc += (float)sum * (dc_load_f16(d + 2 * b) * dx);
      }
      out[r][t] = acc;
    }
}

#endif

/* A tile of `rows` (<= DC_PK_ROWS) rows against `tokens` (<= DC_PK_TOKENS) tokens of one token
 * tile, cut into the tile shapes that are compiled: DC_PK_ROWS or 1 rows by DC_PK_TOKENS or 1
 * tokens. `pf`: the prefetch distance of the first pass over the rows. */
DC_INLINE void dc_pk_tile_any(const int q4, int64_t rows, int64_t tokens, const uint8_t *const *rp,
                              int64_t K, const uint8_t *act, int64_t pf,
                              float out[DC_PK_ROWS][DC_PK_TOKENS]) {
  const int64_t rec = dc_pk_rec_bytes(q4);
  float one[DC_PK_ROWS][DC_PK_TOKENS];
  if (rows == DC_PK_ROWS && tokens == DC_PK_TOKENS) {
    dc_pk_tile(q4, DC_PK_ROWS, DC_PK_TOKENS, rp, K, act, pf, out);
    return;
  }
  if (rows == DC_PK_ROWS) {
    for (int64_t t = 0; t < tokens; ++t) {
      dc_pk_tile(q4, DC_PK_ROWS, 1, rp, K, act + t * rec, t == 0 ? pf : 0, one);
      for (int r = 0; r < DC_PK_ROWS; ++r)
        out[r][t] = one[r][0];
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (tokens == DC_PK_TOKENS) {
      dc_pk_tile(q4, 1, DC_PK_TOKENS, rp + r, K, act, pf, one);
      for (int u = 0; u < DC_PK_TOKENS; ++u)
        out[r][u] = one[0][u];
      continue;
    }
    for (int64_t t = 0; t < tokens; ++t) {
      dc_pk_tile(q4, 1, 1, rp + r, K, act + t * rec, t == 0 ? pf : 0, one);
      out[r][t] = one[0][0];
    }
  }
}

/*---- The driver -----------------------------------------------------------------------------*/

/* y = x W^T with the epilogue of dc_k_linear_epilogue_* (as dc_q8act_rows in linear_q8act.c): for
 * DC_K_EPILOGUE_SWIGLU the weight is [2N, K] and y[t, n] = silu(p[t, n]) * p[t, N + n]; a non-NULL
 * residual [T, N] is added last. Chunks of tokens outermost (quantized into scratch as each
 * starts), then tiles of rows, then tiles of tokens. */
DC_INLINE void dc_pk_rows_impl(const int q4, const float *restrict x, int64_t T, int64_t K,
                               const uint8_t *restrict weight, int64_t N, int32_t epilogue,
                               const float *restrict residual, int64_t n_begin, int64_t n_end,
                               void *scratch, float *restrict y) {
  if (n_begin >= n_end || T <= 0)
    return;
  const int64_t row_bytes = dc_pk_row_bytes(q4, K), rec = dc_pk_rec_bytes(q4);
  const int64_t tile_bytes = dc_pk_steps(q4, K) * DC_PK_TOKENS * rec; /* one token tile */
  const int64_t chunk = dc_min64(T, dc_pk_chunk_tokens(K, dc_pk_grouped(q4) ? 2 : 3));
  uint8_t *act = (uint8_t *)scratch;
  const int swiglu = epilogue == DC_K_EPILOGUE_SWIGLU;
  /* Outputs per row tile: DC_PK_ROWS, or half of it when each output needs a gate and an up row. */
  const int64_t step = swiglu ? DC_PK_ROWS / 2 : DC_PK_ROWS;
  /* Prefetch distance: whole row tiles, at least DC_PK_PREFETCH_BYTES ahead. */
  const int64_t tile_rows_bytes = step * row_bytes;
  const int64_t pf =
      (DC_PK_PREFETCH_BYTES + tile_rows_bytes - 1) / tile_rows_bytes * tile_rows_bytes;
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t tc = dc_min64(chunk, T - c0);
    for (int64_t t = 0; t < tc; ++t)
      dc_pk_quantize_token(q4, x + (c0 + t) * K, K,
                           act + t / DC_PK_TOKENS * tile_bytes + t % DC_PK_TOKENS * rec,
                           DC_PK_TOKENS * rec);
    for (int64_t n0 = n_begin; n0 < n_end; n0 += step) {
      const int64_t outputs = dc_min64(step, n_end - n0);
      const uint8_t *rp[DC_PK_ROWS];
      int64_t rows = 0;
      for (int64_t o = 0; o < outputs; ++o)
        rp[rows++] = weight + (n0 + o) * row_bytes;
      if (swiglu)
        for (int64_t o = 0; o < outputs; ++o)
          rp[rows++] = weight + (N + n0 + o) * row_bytes;
      for (int64_t t0 = 0; t0 < tc; t0 += DC_PK_TOKENS) {
        const int64_t tokens = dc_min64(DC_PK_TOKENS, tc - t0);
        float p[DC_PK_ROWS][DC_PK_TOKENS];
        dc_pk_tile_any(q4, rows, tokens, rp, K, act + t0 / DC_PK_TOKENS * tile_bytes,
                       t0 == 0 ? pf : 0, p);
        for (int64_t o = 0; o < outputs; ++o)
          for (int64_t t = 0; t < tokens; ++t) {
            const int64_t at = (c0 + t0 + t) * N + n0 + o;
            float v = swiglu ? dc_siluf(p[o][t]) * p[outputs + o][t] : p[o][t];
            if (residual)
              v += residual[at];
            y[at] = v;
          }
      }
    }
  }
}

static void dc_pk_rows_q8(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int32_t epilogue, const float *residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *y) {
  dc_pk_rows_impl(0, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
}

static void dc_pk_rows_q4(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int32_t epilogue, const float *residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *y) {
  dc_pk_rows_impl(1, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
}

/*---- Entry points ---------------------------------------------------------------------------*/

#define DC_DEFINE_PACKED(name, rows_fn)                                                            \
  void dc_k_linear_q8act_##name(const float *x, int64_t T, int64_t K, const uint8_t *weight,       \
                                int64_t N, int64_t n_begin, int64_t n_end, void *scratch,          \
                                float *y) {                                                        \
    rows_fn(x, T, K, weight, N, DC_K_EPILOGUE_NONE, 0, n_begin, n_end, scratch, y);                \
  }                                                                                                \
  void dc_k_lm_head_q8act_##name(const float *x, int64_t T, int64_t H, const uint8_t *weight,      \
                                 int64_t V, int64_t v_begin, int64_t v_end, void *scratch,         \
                                 float *logits) {                                                  \
    rows_fn(x, T, H, weight, V, DC_K_EPILOGUE_NONE, 0, v_begin, v_end, scratch, logits);           \
  }                                                                                                \
  void dc_k_linear_epilogue_q8act_##name(                                                          \
      const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N, int32_t epilogue,    \
      const float *residual, int64_t n_begin, int64_t n_end, void *scratch, float *y) {            \
    rows_fn(x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);                   \
  }

DC_DEFINE_PACKED(q8_0_packed, dc_pk_rows_q8)
DC_DEFINE_PACKED(q4_0_packed, dc_pk_rows_q4)

/*---- Embedding ------------------------------------------------------------------------------*/

/* Rows t_begin .. t_end - 1 of y [T, H] from table [V, H] (exact values; zeros for an id outside
 * [0, V)). */
DC_INLINE void dc_pk_embedding(const int q4, const uint8_t *restrict table, int64_t V, int64_t H,
                               const int32_t *restrict ids, int64_t t_begin, int64_t t_end,
                               float *restrict y) {
  const int64_t row_bytes = dc_pk_row_bytes(q4, H);
  for (int64_t t = t_begin; t < t_end; ++t) {
    float *out = y + t * H;
    const int64_t id = ids[t];
    if (id < 0 || id >= V) {
      for (int64_t i = 0; i < H; ++i)
        out[i] = 0.0f;
      continue;
    }
    const uint8_t *row = table + id * row_bytes, *d = row + dc_pk_code_bytes(q4, H);
    for (int64_t b = 0; b < H / DC_PK_BLOCK; ++b) {
      const float scale = dc_load_f16(d + 2 * b);
      float *o = out + b * DC_PK_BLOCK;
      if (q4) {
        const uint8_t *qs = row + 16 * b;
        for (int i = 0; i < DC_PK_BLOCK / 2; ++i) {
          o[i] = (float)((qs[i] & 0x0F) - 8) * scale;
          o[i + DC_PK_BLOCK / 2] = (float)((qs[i] >> 4) - 8) * scale;
        }
      } else {
        const uint8_t *c = row + 32 * b;
        for (int i = 0; i < DC_PK_BLOCK; ++i)
          o[i] = (float)(c[i] - 128) * scale;
      }
    }
  }
}

void dc_k_embedding_f32_q8_0_packed(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                    int64_t t_begin, int64_t t_end, float *y) {
  dc_pk_embedding(0, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_0_packed(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                    int64_t t_begin, int64_t t_end, float *y) {
  dc_pk_embedding(1, table, V, H, ids, t_begin, t_end, y);
}
