/*===- linear_spans.h - the span path of the packed kernels (x86, T > 1) ---===*
 *
 * Part of linear_packed.c, included once by it (after its tiles, before its driver) where the
 * x86 span kernels are built (DC_PK_SPANS: AVX2, or AVX-512 VNNI). It uses that file's helpers
 * (dc_pk_store, dc_pk_tile_rows, dc_pk_prefetch, ...) and is not a header of its own.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_LINEAR_SPANS_H
#define DELTAC_LINEAR_SPANS_H

/*---- AVX2 prefill: int16 spans ---------------------------------------------------------------*
 * Without VNNI, the tiles above spend vpsignb (Q8) + vpmaddubsw + vpmaddwd per 32 values and pair
 * of row and token, all on the two ports that also multiply and FMA (docs/kernels.md, "What bounds
 * the AVX2 tiles"). With T > 1 each weight meets many tokens, so the driver (dc_pw_rows) widens
 * both operands to int16 once instead, and one vpmaddwd per 16 values and pair does the multiplies:
 * 2 port-0/1 instructions per 32 values and pair instead of 3 (Q8) or 2 plus the nibble unpacking
 * (Q4). Q4 takes the same spans as bytes, with 1 instead ("Q4 on byte spans" below).
 *
 * The widened values go by spans of 8 blocks (256 values), transposed so that int32 lane b of
 * every register of a span belongs to block b: register p (0 .. 15) holds values 2p and 2p + 1 of
 * each block. vpmaddwd adds each lane's two products, so after a span's 16 registers lane b holds
 * block b's exact int32 sum, and one conversion and one FMA with the 8 scale products dw_b dx_b
 * serve 8 blocks. A span record (DC_PW_REC bytes) is the 16 registers of int16 codes, then the 8
 * f32 block scales; a row's last span has zero codes and scales past its blocks.
 *   - activations: every token of a chunk, quantized exactly as for the other tiles (same codes and
 *     scales), span-major: span s of all the chunk's tokens, then span s + 1;
 *   - weights: a panel of DC_PK_WIDE_ROW_TILES row tiles' rows, built as they start and read by
 *     every token of the chunk ("One panel, four row tiles" below).
 * The row tiles go span by span over all the chunk's token tiles (4 rows x 2 tokens: 8 int32 sums,
 * which leaves registers for the operands; 4 x 3 spilled a sum). The f32 lane sums of every output
 * of the tile and chunk wait in scratch between spans. Each output is fma(f32(block sum), dw dx,
 * acc) per block into the lane of its block, from the first span's product, and the 8 lanes are
 * summed in one order (dc_pw_hsum): every tile shape gives the same bits, but the f32 order
 * differs from the T = 1 path's, so a token's outputs at T > 1 and at T = 1 can differ in the last
 * bits. Measured on the Zen 3 VM, one thread, 0.8B shapes at T = 512 (docs/perf-log.md): Q8 up
 * 54 -> 88 GOP/s, Q4 up 73 -> 86 GOP/s. */

#define DC_PW_REC DC_PK_WIDE_REC
#define dc_pw_spans dc_pk_wide_spans
#ifndef DC_PW_TOKENS
#define DC_PW_TOKENS 2 /* tokens per tile */
#endif
_Static_assert(DC_PK_TOKEN_ROUND % DC_PW_TOKENS == 0 && DC_PW_TOKENS <= DC_PK_TOKENS,
               "span records are laid out by token tiles in the same chunks and outputs");

/* out[p] lane b = in[b] lane p for 8 registers of 8 int32 lanes, in place. */
DC_INLINE void dc_pw_transpose8(__m256i v[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);     /* [r0_0 r1_0 r0_1 r1_1 | 4, 5] */
    t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]); /* [r0_2 r1_2 r0_3 r1_3 | 6, 7] */
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);         /* units 0 | 4 of 4 rows */
    u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);     /* 1 | 5 */
    u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]); /* 2 | 6 */
    u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]); /* 3 | 7 */
  }
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
    v[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
  }
}

/*---- Winograd's inner product (DC_PW_WINOGRAD) ----*
 * Per pair of values, w0 a0 + w1 a1 = (w0 + a1)(w1 + a0) - w0 w1 - a0 a1: one multiply per two
 * values instead of two, the products w0 w1 and a0 a1 summed once per row and per token. On int16
 * (sums within +-255) vpmaddwd adds two such products exactly in int32, so per 32 values and pair
 * the span loop takes two vpaddw, one vpmaddwd and one vpaddd, against two vpmaddwd and two vpaddd:
 * the same count, half of it multiplies. Where the multiplies have one 128-bit pipe (Zen 1:
 * vpmaddwd ymm 2 cycles, vpaddd 0.67; deltac-avx2-ports: 2.82 cycles per 32 values and pair against
 * 3.98) that is the bound; where they have two (Zen 3), both forms run at the issue width and this
 * one was no faster (docs/perf-log.md, "Prefetch bursts on the Zen 3 VM").
 * The record's 16 registers pair up: with R_p the int16 span's register p (lane b: values 2p,
 * 2p + 1 of block b), E_j holds in lane b the first values of R_2j and R_2j+1 (4j, 4j + 2) and O_j
 * their second (4j + 1, 4j + 3). A weight record holds E_j, O_j as registers 2j, 2j + 1, an
 * activation record O_j, E_j, so registers 2j of both add to (w0 + a1) and registers 2j + 1 to
 * (w1 + a0) for two pairs per lane. After the codes and scales, the record holds the 8 blocks'
 * corrections c = sum(v0 v1) over their pairs, each block's sum then being the span loop's int32
 * lane less c_w + c_a. A weight record holds DC_PW_BIAS - c_w (int32), DC_PW_BIAS being the bits
 * of the float 1.5 x 2^23; a token's record holds the float 12582912 + c_a. The span loop starts
 * its lanes at the weight's corrections, so a block's final lane is the int32 DC_PW_BIAS + s + c_a
 * with |s + c_a| <= 32 x 128 x 127 + 16 x 127^2 < 2^22, the bits of the float 12582912 + s + c_a
 * exactly (floats in [2^23, 2^24) step by 1); one vsubps of the token's float leaves s exactly,
 * as vcvtdq2ps of the int16 spans' lane does, so the outputs are bit for bit theirs. That takes
 * no integer subtraction for the corrections and no conversion: on Zen 1 vcvtdq2ps and vpsubd
 * share the pipes of the span loop's integer adds, and vsubps goes to a float add pipe the loop
 * leaves idle (docs/kernels.md). */
#define DC_PW_BIAS 0x4B400000
#define DC_PW_BIAS_F 12582912.0f
#if DC_PW_WINOGRAD
DC_INLINE void dc_pw_winograd(__m256i r[16], int act, uint8_t *restrict corr) {
  __m256i c = _mm256_setzero_si256();
  for (int p = 0; p < 16; ++p) /* lane b += v0 v1 + v1 0 over the lane's pair */
    c = _mm256_add_epi32(c, _mm256_madd_epi16(r[p], _mm256_srli_epi32(r[p], 16)));
  if (act) /* exact: integers below 2^24 */
    _mm256_storeu_ps((float *)(void *)corr,
                     _mm256_add_ps(_mm256_cvtepi32_ps(c), _mm256_set1_ps(DC_PW_BIAS_F)));
  else
    _mm256_storeu_si256((__m256i *)(void *)corr,
                        _mm256_sub_epi32(_mm256_set1_epi32(DC_PW_BIAS), c));
  for (int j = 0; j < 8; ++j) {
    const __m256i a = r[2 * j], b = r[2 * j + 1];
    const __m256i e = _mm256_blend_epi16(a, _mm256_slli_epi32(b, 16), 0xAA);
    const __m256i o = _mm256_blend_epi16(_mm256_srli_epi32(a, 16), b, 0xAA);
    r[2 * j] = act ? o : e;
    r[2 * j + 1] = act ? e : o;
  }
}
#endif

/* Writes the span record at `rec` from g (<= 8) blocks given as signed int8 codes, 16 values per
 * half (lo: values 0 .. 15, hi: 16 .. 31), and their scales; `act`: a token's record (Winograd's
 * layout differs for the two operands). */
DC_INLINE void dc_pw_emit(const __m128i lo8[8], const __m128i hi8[8], const float scale[8], int g,
                          int act, uint8_t *restrict rec) {
  __m256i r[16];
  for (int b = 0; b < 8; ++b) {
    r[b] = b < g ? _mm256_cvtepi8_epi16(lo8[b]) : _mm256_setzero_si256();
    r[8 + b] = b < g ? _mm256_cvtepi8_epi16(hi8[b]) : _mm256_setzero_si256();
  }
  dc_pw_transpose8(r);
  dc_pw_transpose8(r + 8);
#if DC_PW_WINOGRAD
  dc_pw_winograd(r, act, rec + 544);
#else
  (void)act;
#endif
  for (int p = 0; p < 16; ++p)
    _mm256_storeu_si256((__m256i *)(void *)(rec + 32 * p), r[p]);
  float *dx = (float *)(void *)(rec + 512);
  for (int b = 0; b < 8; ++b)
    dx[b] = b < g ? scale[b] : 0.0f;
}

/* Token x [K] quantized into its span records from `rec` (span stride `stride` bytes). */
DC_INLINE void dc_pw_quantize_token(const float *restrict x, int64_t K, uint8_t *restrict rec,
                                    int64_t stride) {
  const int64_t blocks = K / DC_PK_BLOCK;
  for (int64_t s = 0; s < dc_pw_spans(K); ++s) {
    const int g = (int)dc_min64(8, blocks - 8 * s);
    int8_t q[8][DC_PK_BLOCK];
    float d[8];
    __m128i lo[8], hi[8];
    for (int b = 0; b < g; ++b) {
      (void)dc_q8_quantize_block(x + (8 * s + b) * DC_PK_BLOCK, q[b], &d[b]);
      lo[b] = _mm_loadu_si128((const __m128i *)(const void *)q[b]);
      hi[b] = _mm_loadu_si128((const __m128i *)(const void *)(q[b] + 16));
    }
    dc_pw_emit(lo, hi, d, g, 1, rec + s * stride);
  }
}

/* Row `row` of K values into its span records at `rec` (consecutive): Q8 codes stored as c + 128
 * and Q4 nibbles as c + 8, both made signed int8 first. */
DC_INLINE void dc_pw_panel_row(const int q4, const uint8_t *restrict row, int64_t K,
                               uint8_t *restrict rec) {
  const int64_t blocks = K / DC_PK_BLOCK;
  const uint8_t *d = row + dc_pk_code_bytes(q4, K);
  const __m128i nibble = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8), flip = _mm_set1_epi8(-128);
  for (int64_t s = 0; s < dc_pw_spans(K); ++s) {
    const int g = (int)dc_min64(8, blocks - 8 * s);
    __m128i lo[8], hi[8];
    float scale[8];
    for (int b = 0; b < g; ++b) {
      const int64_t k = 8 * s + b;
      if (q4) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(row + 16 * k));
        lo[b] = _mm_sub_epi8(_mm_and_si128(v, nibble), eight);
        hi[b] = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), nibble), eight);
      } else {
        lo[b] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(row + 32 * k)), flip);
        hi[b] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(row + 32 * k + 16)),
                              flip);
      }
      scale[b] = dc_load_f16(d + 2 * k);
    }
    dc_pw_emit(lo, hi, scale, g, 0, rec + s * DC_PW_REC);
  }
}

/* The f32 lane sums at o += f dw dx, lane by lane (f: the span's 8 exact block sums). The first
 * span starts them: fma(f, scale, 0) = f scale. */
DC_INLINE void dc_pw_accumulate(const int first, __m256 f, __m256 dw, __m256 dx, float *o) {
  const __m256 scale = _mm256_mul_ps(dw, dx);
  _mm256_storeu_ps(o,
                   first ? _mm256_mul_ps(f, scale) : _mm256_fmadd_ps(f, scale, _mm256_loadu_ps(o)));
}

/*---- Q4 on byte spans: vpmaddubsw without saturation ----*
 * Q4 weights need no int16. A nibble n (0 .. 15, the stored c + 8) times an activation code
 * (|a| <= 127) is at most 1905 in magnitude, so vpmaddubsw (unsigned nibble x signed code, pairs
 * of products into int16) never saturates, and 8 of its pair sums (8 x 3810 < 32767) add exactly
 * in int16. A byte span is the int16 span's 8 blocks with int32 lane b holding 4 consecutive values
 * of block b: register p (0 .. 7) holds values 4p .. 4p + 3. The 8 registers of a span go through
 * vpmaddubsw and vpaddw, one vpmaddwd by ones widens the lane pairs into block b's int32 sum of
 * n a, and subtracting 8 x (the sum of block b's codes) gives the exact sum of c a, the int16
 * path's: the outputs are bit for bit those of the int16 spans. Per 256 values and pair: 8
 * multiplies on ports 0/1 plus 1 to widen, against 16 (Zen 3 VM, one thread, 0.8B shapes at
 * T = 512: up and down 84 -> 140-148 GOP/s, docs/perf-log.md). A byte span record (DC_PB_REC
 * bytes) is the 8 registers of codes, then the 8 f32 scales, then (activations) the 8 int32
 * corrections 8 x sum(codes); a row's last span has zero codes, scales and corrections past its
 * blocks. */
#define DC_PB_REC DC_PK_BYTE_REC

/* Writes the byte span record at `rec` from g (<= 8) blocks of 32 byte codes in value order, their
 * scales, and their corrections (NULL: zero). */
DC_INLINE void dc_pb_emit(__m256i v[8], const float scale[8], const int32_t *corr, int g,
                          uint8_t *restrict rec) {
  for (int b = g; b < 8; ++b)
    v[b] = _mm256_setzero_si256();
  dc_pw_transpose8(v);
  for (int p = 0; p < 8; ++p)
    _mm256_storeu_si256((__m256i *)(void *)(rec + 32 * p), v[p]);
  float *d = (float *)(void *)(rec + 256);
  int32_t *c = (int32_t *)(void *)(rec + 288);
  for (int b = 0; b < 8; ++b) {
    d[b] = b < g ? scale[b] : 0.0f;
    c[b] = b < g && corr ? corr[b] : 0;
  }
}

/* Token x [K] quantized into its byte span records from `rec` (span stride `stride` bytes), the
 * corrections for weight codes stored with offset `offset` (8: Q4 nibbles, 128: Q8 codes). */
DC_INLINE void dc_pb_quantize_token(const float *restrict x, int64_t K, uint8_t *restrict rec,
                                    int64_t stride, int32_t offset) {
  const int64_t blocks = K / DC_PK_BLOCK;
  for (int64_t s = 0; s < dc_pw_spans(K); ++s) {
    const int g = (int)dc_min64(8, blocks - 8 * s);
    int8_t q[8][DC_PK_BLOCK];
    float d[8];
    int32_t corr[8];
    __m256i v[8];
    for (int b = 0; b < g; ++b) {
      corr[b] = offset * dc_q8_quantize_block(x + (8 * s + b) * DC_PK_BLOCK, q[b], &d[b]);
      v[b] = _mm256_loadu_si256((const __m256i *)(const void *)q[b]);
    }
    dc_pb_emit(v, d, corr, g, rec + s * stride);
  }
}

/* Lanes j < g of a 256-bit mask of 32-bit lanes (the blocks of a span of g blocks). */
DC_INLINE __m256i dc_x8_lanes(int g) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(g), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}

/* Chunk m (0 .. 3) of span s of a Q4_0_X8 row (g blocks): lane j holds qs bytes 4m .. 4m + 3 of
 * the span's block j; zero past g. */
DC_INLINE __m256i dc_x8_chunk(const uint8_t *restrict row, int64_t s, int g, int m, __m256i lanes) {
  if (g == 8)
    return _mm256_loadu_si256((const __m256i *)(const void *)(row + 128 * s + 32 * m));
  return _mm256_maskload_epi32((const int *)(const void *)(row + 128 * s + 4 * g * m), lanes);
}

/* The f32 scales of span s (g blocks) of a row whose scales start at d; zero past g. */
DC_INLINE __m256 dc_x8_scales(const uint8_t *restrict d, int64_t s, int g) {
  if (g == 8)
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(d + 16 * s)));
  uint16_t h[8] = {0};
  __builtin_memcpy(h, d + 16 * s, (size_t)(2 * g));
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h));
}

/* Q4 row `row` of K values into its byte span records at `rec` (consecutive): the nibbles as
 * stored (c + 8), low nibbles (values 0 .. 15) then high (16 .. 31). A Q4_0_PACKED row's blocks
 * are transposed into the span (dc_pb_emit). A Q4_0_X8 row (`x8`) needs no transpose: its chunk m
 * is the span's register m in its low nibbles and register 4 + m in its high ones. */
DC_INLINE void dc_pb_panel_row(const int x8, const uint8_t *restrict row, int64_t K,
                               uint8_t *restrict rec) {
  const int64_t blocks = K / DC_PK_BLOCK;
  const uint8_t *d = row + dc_pk_code_bytes(1, K);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  for (int64_t s = 0; s < dc_pw_spans(K); ++s) {
    const int g = (int)dc_min64(8, blocks - 8 * s);
    uint8_t *r = rec + s * DC_PB_REC;
    if (!x8) {
      __m256i v[8];
      float scale[8];
      for (int b = 0; b < g; ++b) {
        const int64_t k = 8 * s + b;
        const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(row + 16 * k));
        v[b] = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), nibble);
        scale[b] = dc_load_f16(d + 2 * k);
      }
      dc_pb_emit(v, scale, NULL, g, r);
      continue;
    }
    const __m256i lanes = dc_x8_lanes(g);
    for (int m = 0; m < 4; ++m) {
      const __m256i v = dc_x8_chunk(row, s, g, m, lanes);
      _mm256_storeu_si256((__m256i *)(void *)(r + 32 * m), _mm256_and_si256(v, nibble));
      _mm256_storeu_si256((__m256i *)(void *)(r + 32 * (4 + m)),
                          _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    }
    _mm256_storeu_ps((float *)(void *)(r + 256), dc_x8_scales(d, s, g));
    _mm256_storeu_si256((__m256i *)(void *)(r + 288), _mm256_setzero_si256());
  }
}

/* vpdpbusd (DC_PK_DPBUSD): Q8 row `row` of K values into its byte span records at `rec`
 * (consecutive): the codes as stored (c + 128, unsigned, as vpdpbusd takes them), transposed into
 * the span (dc_pb_emit). */
DC_INLINE void dc_pb_panel_row_q8(const uint8_t *restrict row, int64_t K, uint8_t *restrict rec) {
  const int64_t blocks = K / DC_PK_BLOCK;
  const uint8_t *d = row + dc_pk_code_bytes(0, K);
  for (int64_t s = 0; s < dc_pw_spans(K); ++s) {
    const int g = (int)dc_min64(8, blocks - 8 * s);
    __m256i v[8];
    float scale[8];
    for (int b = 0; b < g; ++b) {
      const int64_t k = 8 * s + b;
      v[b] = _mm256_loadu_si256((const __m256i *)(const void *)(row + 32 * k));
      scale[b] = dc_load_f16(d + 2 * k);
    }
    dc_pb_emit(v, scale, NULL, g, rec + s * DC_PB_REC);
  }
}

/* Whether a format's T > 1 path takes byte spans: Q4 always; Q8 with vpdpbusd (AVX-512 VNNI or
 * AVX-VNNI: it multiplies the stored unsigned codes by the signed activation codes directly, no
 * int16 needed). */
DC_INLINE int dc_pw_bytes(int q4) { return q4 || DC_PK_DPBUSD; }

/* Adds span products to the f32 lane sums of R panel rows (span records at w + r wstride) by TT
 * tokens (records at a + t rec): acc + 8 (r DC_PW_TOKENS + t) holds output (r, t)'s 8 lanes.
 * `bytes` picks the byte spans (8 registers per span; into int32 lanes by vpdpbusd with VNNI, else
 * by vpmaddubsw into int16 sums widened at the end; then corrected), else the int16 spans (16
 * registers, vpmaddwd into int32 sums). Either way the sums of R x TT pairs stay in registers
 * through the span; the lane sums live in memory (one load, FMA and store per span), which leaves
 * the registers to the sums. */
DC_INLINE void dc_span(const int bytes, const int R, const int TT, const int first,
                       const uint8_t *restrict w, int64_t wstride, const uint8_t *restrict a,
                       float *restrict acc) {
  const int64_t rec = bytes ? DC_PB_REC : DC_PW_REC, scales = bytes ? 256 : 512;
  /* Byte spans' int32 lanes end less the token's correction (its code offset times sum(a), per
   * block). With vpdpbusd the lanes are int32 from the start, so they start from minus it, once per
   * token instead of a subtraction per row and token; the int32 sums are exact (modulo 2^32, as
   * vpdpbusd wraps), so the bits are the same. */
  __m256i sum[DC_PK_ROWS][DC_PW_TOKENS], corr[DC_PW_TOKENS];
  for (int t = 0; bytes && t < TT; ++t)
    corr[t] = _mm256_loadu_si256((const __m256i *)(const void *)(a + t * rec + 288));
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < TT; ++t)
      sum[r][t] = DC_PK_DPBUSD && bytes ? _mm256_sub_epi32(_mm256_setzero_si256(), corr[t])
                                        : _mm256_setzero_si256();
#if DC_PW_WINOGRAD
  if (!bytes) {
    /* start from the weights' corrections, DC_PW_BIAS - sum(w0 w1) per block; the tokens' come
     * off in the float epilogue below */
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < TT; ++t)
        sum[r][t] = _mm256_loadu_si256((const __m256i *)(const void *)(w + r * wstride + 544));
    for (int j = 0; j < 8; ++j) {
      __m256i x0[DC_PW_TOKENS], x1[DC_PW_TOKENS];
      for (int t = 0; t < TT; ++t) {
        x0[t] = _mm256_loadu_si256((const __m256i *)(const void *)(a + t * rec + 64 * j));
        x1[t] = _mm256_loadu_si256((const __m256i *)(const void *)(a + t * rec + 64 * j + 32));
      }
      for (int r = 0; r < R; ++r) {
        const __m256i w0 =
            _mm256_loadu_si256((const __m256i *)(const void *)(w + r * wstride + 64 * j));
        const __m256i w1 =
            _mm256_loadu_si256((const __m256i *)(const void *)(w + r * wstride + 64 * j + 32));
        for (int t = 0; t < TT; ++t)
          sum[r][t] = _mm256_add_epi32(sum[r][t], _mm256_madd_epi16(_mm256_add_epi16(w0, x0[t]),
                                                                    _mm256_add_epi16(w1, x1[t])));
      }
    }
  }
  for (int p = 0; p < (bytes ? 8 : 0); ++p) {
#else
  for (int p = 0; p < (bytes ? 8 : 16); ++p) {
#endif
    __m256i x[DC_PW_TOKENS];
    for (int t = 0; t < TT; ++t)
      x[t] = _mm256_loadu_si256((const __m256i *)(const void *)(a + t * rec + 32 * p));
    for (int r = 0; r < R; ++r) {
      const __m256i wr =
          _mm256_loadu_si256((const __m256i *)(const void *)(w + r * wstride + 32 * p));
      for (int t = 0; t < TT; ++t) {
#if DC_PK_DPBUSD
        sum[r][t] = bytes ? dc_dpbusd256(sum[r][t], wr, x[t])
                          : _mm256_add_epi32(sum[r][t], _mm256_madd_epi16(x[t], wr));
#else
        sum[r][t] = bytes ? _mm256_add_epi16(sum[r][t], _mm256_maddubs_epi16(wr, x[t]))
                          : _mm256_add_epi32(sum[r][t], _mm256_madd_epi16(x[t], wr));
#endif
      }
    }
  }
  /* The stores to acc may alias the records (byte pointers alias anything), so a token's scales
   * and corrections read inside the row loop are read again for every row. Byte spans read them
   * once, before it (Zen 3 VM, Q4, T = 512, 7 alternated pairs: about +2%); Q8 on int16 spans keeps
   * its loads. */
  __m256 dx[DC_PW_TOKENS];
  for (int t = 0; bytes && t < TT; ++t)
    dx[t] = _mm256_loadu_ps((const float *)(const void *)(a + t * rec + scales));
  for (int r = 0; r < R; ++r) {
    const __m256 dw = _mm256_loadu_ps((const float *)(const void *)(w + r * wstride + scales));
    for (int t = 0; t < TT; ++t) {
      __m256i block = sum[r][t];
#if !DC_PK_DPBUSD
      if (bytes) { /* block b's int32 lane (the int16 pair sums widened), less the correction */
        block = _mm256_madd_epi16(block, _mm256_set1_epi16(1));
        block = _mm256_sub_epi32(block, corr[t]);
      }
#endif
      const __m256 dxt =
          bytes ? dx[t] : _mm256_loadu_ps((const float *)(const void *)(a + t * rec + scales));
      /* the exact block sums as floats (Winograd's form: 12582912 + s + c_a less the token's
       * float 12582912 + c_a) */
      const __m256 f =
          DC_PW_WINOGRAD && !bytes
              ? _mm256_sub_ps(_mm256_castsi256_ps(block),
                              _mm256_loadu_ps((const float *)(const void *)(a + t * rec + 544)))
              : _mm256_cvtepi32_ps(block);
      dc_pw_accumulate(first, f, dw, dxt, acc + 8 * (r * DC_PW_TOKENS + t));
    }
  }
}

/* dc_span for `rows` (<= DC_PK_ROWS) by `tokens` (<= DC_PW_TOKENS), cut into the compiled shapes:
 * DC_PK_ROWS or 1 rows by DC_PW_TOKENS or 1 tokens. */
DC_INLINE void dc_pw_span_any(const int bytes, const int first, int64_t rows, int64_t tokens,
                              const uint8_t *w, int64_t wstride, const uint8_t *a, float *acc) {
  const int64_t rec = bytes ? DC_PB_REC : DC_PW_REC;
  if (rows == DC_PK_ROWS && tokens == DC_PW_TOKENS) {
    dc_span(bytes, DC_PK_ROWS, DC_PW_TOKENS, first, w, wstride, a, acc);
    return;
  }
  for (int64_t t = 0; t < tokens; ++t) {
    if (rows == DC_PK_ROWS) {
      dc_span(bytes, DC_PK_ROWS, 1, first, w, wstride, a + t * rec, acc + 8 * t);
      continue;
    }
    for (int64_t r = 0; r < rows; ++r)
      dc_span(bytes, 1, 1, first, w + r * wstride, wstride, a + t * rec,
              acc + 8 * (r * DC_PW_TOKENS + t));
  }
}

/* The sum of the 8 lanes of v as dc_pw_hsum8 adds them: ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)),
 * so that a tile's edge gives the bits of a full tile. */
DC_INLINE float dc_pw_hsum(__m256 v) {
  const __m256 a = _mm256_hadd_ps(v, v), b = _mm256_hadd_ps(a, a);
  return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1)));
}

/* The sums of the 8 lanes of each of v[0 .. 7], in one register. */
DC_INLINE __m256 dc_pw_hsum8(const __m256 v[8]) {
  const __m256 a = _mm256_hadd_ps(v[0], v[1]), b = _mm256_hadd_ps(v[2], v[3]);
  const __m256 c = _mm256_hadd_ps(v[4], v[5]), d = _mm256_hadd_ps(v[6], v[7]);
  const __m256 e = _mm256_hadd_ps(a, b), f = _mm256_hadd_ps(c, d);
  /* e = [v0 v1 v2 v3 (low halves) | v0 v1 v2 v3 (high halves)], f likewise for v4 .. v7 */
  return _mm256_add_ps(_mm256_permute2f128_ps(e, f, 0x20), _mm256_permute2f128_ps(e, f, 0x31));
}

/*---- One panel, four row tiles ----*
 * The span tile's 4 rows x 2 tokens use each activation register 4 times. Walking one row tile
 * over a chunk, every token's span records come from L2 once per 4 rows, and for Q8 (twice the
 * bytes of Q4) that stream held the int16 spans at about 85 GOP/s. So the panel holds
 * DC_PK_WIDE_ROW_TILES row tiles, and each token tile's span meets all of them in turn: the first
 * loads the records from L2, the others find them in L1. Zen 3 VM, one thread, 0.8B shapes at
 * T = 512 (docs/perf-log.md): Q8 up 87 -> 105 GOP/s, down 83 -> 100; Q4 unchanged (about 160). The
 * order of every output's operations is that of a single row tile, so the bits are too. */

/* The panel of the row tile of outputs n0 .. n0 + outputs - 1 at `dst`: its rows (dc_pk_tile_rows
 * order) as span records, `spans` records apart. Returns how many rows. */
DC_INLINE int64_t dc_pw_panel(const int q4, const int x8, const uint8_t *restrict weight, int64_t N,
                              int64_t K, int64_t n0, int64_t outputs, int swiglu,
                              uint8_t *restrict dst) {
  const int64_t row_bytes = dc_pk_row_bytes(q4, K), spans = dc_pw_spans(K);
  const int64_t rec = dc_pw_bytes(q4) ? DC_PB_REC : DC_PW_REC;
  const uint8_t *rp[DC_PK_ROWS];
  const int64_t rows = dc_pk_tile_rows(weight, N, row_bytes, n0, outputs, swiglu, rp);
  for (int64_t r = 0; r < rows; ++r) {
    if (q4)
      dc_pb_panel_row(x8, rp[r], K, dst + r * spans * rec);
    else if (dc_pw_bytes(q4))
      dc_pb_panel_row_q8(rp[r], K, dst + r * spans * rec);
    else
      dc_pw_panel_row(q4, rp[r], K, dst + r * spans * rec);
  }
  return rows;
}

/* The outputs of one row tile (`rows` rows) and token tile (`tokens` tokens) from their f32 lane
 * sums l (dc_span's layout): the lanes summed in one order (dc_pw_hsum8 or dc_pw_hsum), then
 * dc_pk_store at `at`. */
DC_INLINE void dc_pw_tile_out(const float *restrict l, int64_t rows, int64_t outputs,
                              int64_t tokens, int swiglu, const float *restrict residual, int64_t N,
                              int64_t at, float *restrict y) {
  float p[DC_PK_ROWS][DC_PK_TOKENS];
  if (rows == DC_PK_ROWS && tokens == DC_PW_TOKENS && DC_PK_ROWS * DC_PW_TOKENS == 8) {
    __m256 v[8];
    for (int i = 0; i < 8; ++i)
      v[i] = _mm256_loadu_ps(l + 8 * i);
    const __m256 sums = dc_pw_hsum8(v); /* lane r DC_PW_TOKENS + t: output (r, t) */
    if (!swiglu && outputs == DC_PK_ROWS) {
      /* Token t's 4 outputs are 4 consecutive floats of y: one store each. */
      const __m256 by_token =
          _mm256_permutevar8x32_ps(sums, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
      for (int t = 0; t < DC_PW_TOKENS; ++t) {
        __m128 o = t ? _mm256_extractf128_ps(by_token, 1) : _mm256_castps256_ps128(by_token);
        if (residual)
          o = _mm_add_ps(o, _mm_loadu_ps(residual + at + t * N));
        _mm_storeu_ps(y + at + t * N, o);
      }
      return;
    }
    float h[8];
    _mm256_storeu_ps(h, sums);
    if (swiglu && outputs == DC_PK_ROWS / 2) {
      /* Gates in lanes 0 .. 3, their up projections in 4 .. 7, both as (output, token): the 4
       * SiLUs in one loop the compiler vectorizes (dc_siluf is branch-free, and a lane's
       * operations are those of the scalar call, so the bits are too). One at a time, the exp and
       * the division took about 15% of a SwiGLU projection at T = 512. */
      float act[4];
      for (int i = 0; i < 4; ++i)
        act[i] = dc_siluf(h[i]) * h[4 + i];
      for (int t = 0; t < DC_PW_TOKENS; ++t)
        for (int o = 0; o < DC_PK_ROWS / 2; ++o) {
          float v = act[o * DC_PW_TOKENS + t];
          if (residual)
            v += residual[at + t * N + o];
          y[at + t * N + o] = v;
        }
      return;
    }
    for (int r = 0; r < DC_PK_ROWS; ++r)
      for (int t = 0; t < DC_PW_TOKENS; ++t)
        p[r][t] = h[r * DC_PW_TOKENS + t];
  } else {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = 0; t < tokens; ++t)
        p[r][t] = dc_pw_hsum(_mm256_loadu_ps(l + 8 * (r * DC_PW_TOKENS + t)));
  }
  dc_pk_store(p, outputs, tokens, swiglu, residual, N, at, y);
}

/* The SwiGLU outputs of a whole panel group (DC_PK_WIDE_ROW_TILES full row tiles of 2 gate and 2 up
 * rows) and one full token tile, from the row tiles' f32 lane sums (`l`, row tile i at
 * l + i stride): token t's 2 DC_PK_WIDE_ROW_TILES outputs at y + at + t N. Two row tiles' 8 gate
 * sums go through one 8-lane SiLU, where dc_pw_tile_out takes one tile's 4 at a time: on the Zen 4
 * VM that epilogue, a chain of dependent FMAs and a division per 4 values, held about a quarter of
 * the samples of the 0.8B's SwiGLU projection at T = 512 (docs/perf-log.md). The SiLU loop is
 * dc_siluf per lane, which the compiler vectorizes (a lane's operations are the scalar call's),
 * and each output is silu(gate) up (+ residual) as in dc_pk_store, so the bits are the same. */
DC_INLINE void dc_pw_swiglu_group(const float *restrict l, int64_t stride,
                                  const float *restrict residual, int64_t N, int64_t at,
                                  float *restrict y) {
  _Static_assert(DC_PK_ROWS * DC_PW_TOKENS == 8 && DC_PK_WIDE_ROW_TILES % 2 == 0,
                 "a row tile's sums are one register of 4 gate and 4 up lanes");
  for (int i = 0; i < DC_PK_WIDE_ROW_TILES; i += 2) {
    __m256 v[8], w[8];
    for (int k = 0; k < 8; ++k) {
      v[k] = _mm256_loadu_ps(l + i * stride + 8 * k);
      w[k] = _mm256_loadu_ps(l + (i + 1) * stride + 8 * k);
    }
    /* lane r DC_PW_TOKENS + t: row r's sum for token t; rows 0, 1 gates, 2, 3 their up rows */
    const __m256 a = dc_pw_hsum8(v), b = dc_pw_hsum8(w);
    DC_VEC_ALIGNED float gate[8], up[8], act[8];
    _mm256_store_ps(gate, _mm256_permute2f128_ps(a, b, 0x20));
    _mm256_store_ps(up, _mm256_permute2f128_ps(a, b, 0x31));
    for (int k = 0; k < 8; ++k)
      act[k] = dc_siluf(gate[k]) * up[k];
    /* lane (tile, output, token) -> token-major: token t's 4 outputs are consecutive in y */
    const __m256 by_token =
        _mm256_permutevar8x32_ps(_mm256_load_ps(act), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    for (int t = 0; t < DC_PW_TOKENS; ++t) {
      __m128 o = t ? _mm256_extractf128_ps(by_token, 1) : _mm256_castps256_ps128(by_token);
      const int64_t off = at + t * N + i * (DC_PK_ROWS / 2);
      if (residual)
        o = _mm_add_ps(o, _mm_loadu_ps(residual + off));
      _mm_storeu_ps(y + off, o);
    }
  }
}

/* dc_pk_rows_impl on spans (T > 1). Per chunk of tokens, their span records, span-major (span s
 * of chunk token t at act + (s tcr + t) rec, tcr = the chunk's tokens rounded up to whole tiles);
 * per group of up to DC_PK_WIDE_ROW_TILES row tiles, their panel, then span by span every token
 * tile of the chunk against each row tile, the lane sums of row tile i's outputs in
 * `lanes` + i tile_lanes chunk_tiles; then the sums of the lanes and the epilogue. */
DC_INLINE void dc_pw_rows(const int q4, const int x8, const float *restrict x, int64_t T, int64_t K,
                          const uint8_t *restrict weight, int64_t N, int32_t epilogue,
                          const float *restrict residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *restrict y) {
  enum { TILES = DC_PK_WIDE_ROW_TILES };
  const int64_t spans = dc_pw_spans(K);
  const int bytes = dc_pw_bytes(q4);
  const int64_t rec = bytes ? DC_PB_REC : DC_PW_REC; /* span record bytes */
  const int64_t chunk = dc_min64(T, dc_pk_wide_chunk_tokens(K, rec));
  const int64_t chunk_tiles = (chunk + DC_PW_TOKENS - 1) / DC_PW_TOKENS;
  const int64_t tile_lanes = 8 * DC_PK_ROWS * DC_PW_TOKENS; /* floats per token and row tile */
  const int64_t tile_panel = DC_PK_ROWS * spans * rec;      /* bytes per row tile */
  uint8_t *act = (uint8_t *)scratch;
  uint8_t *panel = act + chunk_tiles * DC_PW_TOKENS * spans * rec;
  float *lanes = (float *)(void *)(panel + TILES * tile_panel);
  const int swiglu = epilogue == DC_K_EPILOGUE_SWIGLU;
  const int64_t step = swiglu ? DC_PK_ROWS / 2 : DC_PK_ROWS;
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t tc = dc_min64(chunk, T - c0);
    const int64_t tcr = (tc + DC_PW_TOKENS - 1) / DC_PW_TOKENS * DC_PW_TOKENS;
    for (int64_t t = 0; t < tc; ++t) {
      if (bytes)
        dc_pb_quantize_token(x + (c0 + t) * K, K, act + t * rec, tcr * rec, q4 ? 8 : 128);
      else
        dc_pw_quantize_token(x + (c0 + t) * K, K, act + t * rec, tcr * rec);
    }
    for (int64_t g0 = n_begin; g0 < n_end; g0 += TILES * step) {
      int64_t rows[TILES], outputs[TILES];
      int tiles = 0;
      for (; tiles < TILES && g0 + tiles * step < n_end; ++tiles) {
        const int64_t n0 = g0 + tiles * step;
        outputs[tiles] = dc_min64(step, n_end - n0);
        rows[tiles] = dc_pw_panel(q4, x8, weight, N, K, n0, outputs[tiles], swiglu,
                                  panel + tiles * tile_panel);
      }
      int full = tiles == TILES;
      for (int i = 0; i < tiles; ++i)
        full &= rows[i] == DC_PK_ROWS;
      const int64_t whole = full ? tc / DC_PW_TOKENS * DC_PW_TOKENS : 0;
      for (int64_t s = 0; s < spans; ++s) {
        /* Whole panels and token tiles: the compiled 4 x 2 shape, with `first` a constant. */
        for (int64_t t0 = 0; t0 < whole; t0 += DC_PW_TOKENS) {
          const uint8_t *a = act + (s * tcr + t0) * rec, *w = panel + s * rec;
          float *l = lanes + t0 / DC_PW_TOKENS * tile_lanes;
          for (int i = 0; i < TILES; ++i, w += tile_panel, l += chunk_tiles * tile_lanes) {
            if (s == 0)
              dc_span(bytes, DC_PK_ROWS, DC_PW_TOKENS, 1, w, spans * rec, a, l);
            else
              dc_span(bytes, DC_PK_ROWS, DC_PW_TOKENS, 0, w, spans * rec, a, l);
          }
        }
        for (int64_t t0 = whole; t0 < tc; t0 += DC_PW_TOKENS)
          for (int i = 0; i < tiles; ++i)
            dc_pw_span_any(bytes, s == 0, rows[i], dc_min64(DC_PW_TOKENS, tc - t0),
                           panel + i * tile_panel + s * rec, spans * rec,
                           act + (s * tcr + t0) * rec,
                           lanes + (i * chunk_tiles + t0 / DC_PW_TOKENS) * tile_lanes);
      }
      /* A whole SwiGLU group's full token tiles take the grouped epilogue, the rest one tile. */
      const int64_t grouped = swiglu ? whole : 0;
      for (int64_t t0 = 0; t0 < grouped; t0 += DC_PW_TOKENS)
        dc_pw_swiglu_group(lanes + t0 / DC_PW_TOKENS * tile_lanes, chunk_tiles * tile_lanes,
                           residual, N, (c0 + t0) * N + g0, y);
      for (int i = 0; i < tiles; ++i)
        for (int64_t t0 = grouped; t0 < tc; t0 += DC_PW_TOKENS)
          dc_pw_tile_out(lanes + (i * chunk_tiles + t0 / DC_PW_TOKENS) * tile_lanes, rows[i],
                         outputs[i], dc_min64(DC_PW_TOKENS, tc - t0), swiglu, residual, N,
                         (c0 + t0) * N + g0 + i * step, y);
    }
  }
}

/*---- Q4_0_X8 at T = 1 ------------------------------------------------------------------------*
 * Decode reads Q4_0_X8 rows (kernel_abi.h) as they are stored: the 4 chunks of a span, masked into
 * low and high nibbles, are the span's 8 byte-span registers, so the token's byte span records
 * (dc_pb_quantize_token) meet them directly. Per span, row and token: 4 loads, 8 vpmaddubsw added
 * in int16 (8 pair sums, within int16 as in dc_span), one vpmaddwd into the 8 blocks' int32 lanes,
 * the correction, one conversion and one FMA with the 8 scale products: against the group tiles
 * above, half the widening and scale work and no vphaddd. Each output is the byte spans' chain
 * (the first span's product, then one FMA per span, lanes summed by dc_pw_hsum), so by
 * construction its bits are those of the T > 1 path. With VNNI the 8 products per chunk go by
 * vpdpbusd straight into the blocks' int32 lanes (no int16 sums, no widening), in two chains of 4
 * (low and high nibbles) added at the end rather than one of 8: on the Zen 4 VM, in cache, one
 * thread, 0.8B down at T = 1, 58.7 -> 53.2 us against the vpmaddubsw form (docs/perf-log.md). The
 * int32 sums are exact either way, so the bits are the same. A full span (8 blocks) then went into
 * 512-bit registers, two chunks each (docs/kernels.md, "Eight rows per lane sum"). AVX-VNNI
 * without AVX-512 (DC_PK_DPBUSD alone) takes the 256-bit chains for every span. */

/* The products of span s (g blocks) of the row at w with the token's record a of that span: f, the
 * blocks' int32 sums less the correction, as floats, and scale, the blocks' scale products. */
DC_INLINE void dc_x8_span(const int g, const uint8_t *restrict w, int64_t K, int64_t s,
                          const uint8_t *restrict a, __m256 *f, __m256 *scale) {
  __m256i sum;
#if DC_PK_VNNI
  if (g == 8) {
    /* Two chunks per 512-bit register (lanes 8 .. 15 hold chunk m + 1's blocks), folded into
     * the 8 block lanes at the end. */
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i v01 = _mm512_loadu_si512((const void *)(w + 128 * s));
    const __m512i v23 = _mm512_loadu_si512((const void *)(w + 128 * s + 64));
    __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(v01, nibble),
                                     _mm512_loadu_si512((const void *)a));
    __m512i hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                     _mm512_and_si512(_mm512_srli_epi16(v01, 4), nibble),
                                     _mm512_loadu_si512((const void *)(a + 128)));
    lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v23, nibble),
                             _mm512_loadu_si512((const void *)(a + 64)));
    hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(_mm512_srli_epi16(v23, 4), nibble),
                             _mm512_loadu_si512((const void *)(a + 192)));
    lo = _mm512_add_epi32(lo, hi);
    sum = _mm256_add_epi32(_mm512_castsi512_si256(lo), _mm512_extracti64x4_epi64(lo, 1));
  } else
#endif
#if DC_PK_DPBUSD
  {
    const __m256i nibble = _mm256_set1_epi8(0x0F), lanes = dc_x8_lanes(g);
    __m256i hi = _mm256_setzero_si256();
    sum = _mm256_setzero_si256();
    for (int m = 0; m < 4; ++m) {
      const __m256i v = dc_x8_chunk(w, s, g, m, lanes);
      sum = dc_dpbusd256(sum, _mm256_and_si256(v, nibble),
                         _mm256_loadu_si256((const __m256i *)(const void *)(a + 32 * m)));
      hi = dc_dpbusd256(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble),
                        _mm256_loadu_si256((const __m256i *)(const void *)(a + 32 * (4 + m))));
    }
    sum = _mm256_add_epi32(sum, hi);
  }
#else
  const __m256i nibble = _mm256_set1_epi8(0x0F), lanes = dc_x8_lanes(g);
  sum = _mm256_setzero_si256();
  for (int m = 0; m < 4; ++m) {
    const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(a + 32 * m));
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(a + 32 * (4 + m)));
    const __m256i v = dc_x8_chunk(w, s, g, m, lanes);
    const __m256i wl = _mm256_and_si256(v, nibble);
    const __m256i wh = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
    sum = _mm256_add_epi16(
        sum, _mm256_add_epi16(_mm256_maddubs_epi16(wl, lo), _mm256_maddubs_epi16(wh, hi)));
  }
  sum = _mm256_madd_epi16(sum, _mm256_set1_epi16(1)); /* int16 pair sums into int32 lanes */
#endif
  const __m256 dx = _mm256_loadu_ps((const float *)(const void *)(a + 256));
  const __m256i corr = _mm256_loadu_si256((const __m256i *)(const void *)(a + 288));
  *f = _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, corr));
  *scale = _mm256_mul_ps(dc_x8_scales(w + K / 2, s, g), dx);
}

/* Full spans per prefetch burst of dc_x8_row, each measured on the machine of its ISA (one thread
 * and two, weights from memory, docs/perf-log.md "Prefetch bursts"): with VNNI 16 (2 KiB of codes,
 * 32 lines; Zen 4 VM); AVX2 alone 4 (512 bytes, 8 lines): on the Zen 3 VM bursts of 32 lines held
 * the 0.8B down projection (K = 3584) at 0.6-0.7 of the bandwidth probe, and 8-line bursts took
 * 1.15-1.25x less time there and on the 2B's (K = 6144), every other shape the same. */
#if DC_PK_VNNI
#define DC_X8_PREFETCH_SPANS 16
#else
#define DC_X8_PREFETCH_SPANS 4
#endif

/* The row at w (row_bytes long) against the one token whose byte span records start at act, its
 * 8 lanes not yet summed: the first span's product, then one FMA per span (the full spans with
 * g = 8, a constant, so no masks; then a row's last span of fewer blocks). The lines `pf` bytes
 * ahead are prefetched in bursts, one before each piece of DC_X8_PREFETCH_SPANS spans (the last
 * burst runs to the row's end, its scales included), so the span loop holds no prefetch
 * conditions. A single burst per row was 1.66x slower on the 2B's down projection (K = 6144, 54
 * lines a row) from memory, one thread, Zen 4 VM (docs/perf-log.md, "Prefetch bursts"). */
DC_INLINE __m256 dc_x8_row(const uint8_t *restrict w, int64_t K, int64_t row_bytes,
                           const uint8_t *restrict act, int64_t pf) {
  const int64_t blocks = K / DC_PK_BLOCK, full = blocks / 8;
  __m256 f, scale, acc = _mm256_setzero_ps();
  int64_t s = 0;
  do {
    const int64_t piece_end = dc_min64(full, s + DC_X8_PREFETCH_SPANS);
    if (pf) {
      const int64_t end = piece_end < full ? 128 * piece_end : row_bytes;
      for (int64_t at = 128 * s; at < end; at += 64)
        __builtin_prefetch(w + pf + at, 0, DC_PK_PREFETCH_LOCALITY);
      if (end == row_bytes)
        __builtin_prefetch(w + pf + row_bytes - 1, 0, DC_PK_PREFETCH_LOCALITY);
    }
    for (; s < piece_end; ++s) {
      dc_x8_span(8, w, K, s, act + s * DC_PB_REC, &f, &scale);
      acc = s == 0 ? _mm256_mul_ps(f, scale) : _mm256_fmadd_ps(f, scale, acc);
    }
  } while (s < full);
  if (blocks % 8) {
    dc_x8_span((int)(blocks % 8), w, K, full, act + full * DC_PB_REC, &f, &scale);
    acc = full == 0 ? _mm256_mul_ps(f, scale) : _mm256_fmadd_ps(f, scale, acc);
  }
  return acc;
}

/* The lanes of `rows` rows from `first` (row_bytes apart) into acc[at ..]; a constant `rows` lets
 * the compiler unroll the full groups. */
DC_INLINE void dc_x8_group(int64_t rows, const uint8_t *restrict first, int64_t row_bytes,
                           int64_t K, const uint8_t *restrict act, int64_t pf, __m256 *acc) {
  for (int64_t r = 0; r < rows; ++r)
    acc[r] = dc_x8_row(first + r * row_bytes, K, row_bytes, act, pf);
}

/* The token's byte span records for dc_x8_rows_quantized, at the start of the scratch. */
DC_INLINE void dc_x8_quantize(const float *restrict x, int64_t K, void *scratch) {
  dc_pb_quantize_token(x, K, (uint8_t *)scratch, DC_PB_REC, 8);
}

/* dc_pk_rows_impl for Q4_0_X8 at T = 1 on the records dc_x8_quantize left in act: groups of 8 rows
 * one row at a time (4 outputs' gate and up rows with SwiGLU), whose 8 lane sums dc_pw_hsum8 makes
 * in one register: 7 shuffles and adds per group against 4 per row, in the order of dc_pw_hsum, so
 * the bits are those of the T > 1 path. */
DC_INLINE void dc_x8_rows_quantized(const uint8_t *restrict act, int64_t K,
                                    const uint8_t *restrict weight, int64_t N, int32_t epilogue,
                                    const float *restrict residual, int64_t n_begin, int64_t n_end,
                                    float *restrict y) {
  const int64_t row_bytes = dc_pk_row_bytes(1, K);
  const int swiglu = epilogue == DC_K_EPILOGUE_SWIGLU;
  const int64_t step = swiglu ? 4 : 8;
  const int64_t pf = dc_pk_prefetch_distance(step, row_bytes);
  for (int64_t n0 = n_begin; n0 < n_end; n0 += step) {
    const int64_t outputs = dc_min64(step, n_end - n0);
    __m256 acc[8];
    for (int r = 0; r < 8; ++r)
      acc[r] = _mm256_setzero_ps();
    const uint8_t *rows = weight + n0 * row_bytes;
    if (outputs == 8)
      dc_x8_group(8, rows, row_bytes, K, act, pf, acc);
    else if (outputs == 4 && swiglu)
      dc_x8_group(4, rows, row_bytes, K, act, pf, acc);
    else
      dc_x8_group(outputs, rows, row_bytes, K, act, pf, acc);
    if (swiglu)
      dc_x8_group(outputs, rows + N * row_bytes, row_bytes, K, act, pf, acc + 4);
    const __m256 all = dc_pw_hsum8(acc);
    if (outputs == 8) {
      /* a plain group of 8 (no SwiGLU): one store; the loop below compiles to masked stores */
      _mm256_storeu_ps(y + n0, residual ? _mm256_add_ps(all, _mm256_loadu_ps(residual + n0)) : all);
      continue;
    }
    float sums[8];
    _mm256_storeu_ps(sums, all);
    /* Separate loops: one with a select would compute the SiLUs of every plain output too. */
    if (swiglu)
      for (int64_t o = 0; o < outputs; ++o)
        sums[o] = dc_siluf(sums[o]) * sums[4 + o];
    for (int64_t o = 0; o < outputs; ++o)
      y[n0 + o] = residual ? sums[o] + residual[n0 + o] : sums[o];
  }
}

#endif /* DELTAC_LINEAR_SPANS_H */
