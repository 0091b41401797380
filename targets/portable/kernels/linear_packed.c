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
 * linear_q8act.c. One register of int32 sums then covers two Q8 blocks or a whole Q4 group before
 * the conversion and the FMA, which halves the f32 work per weight byte: Q4 folds the two halves
 * of a group with one vphaddd; Q8 blends the 128-bit halves of a pair's weights (three loads, two
 * vpblendd) so that each register already holds both blocks, and adds (vphaddd costs 2 cycles on
 * Zen 4, docs/kernels.md). The records' codes, bias and dxe lanes follow these layouts; tiles are
 * 4 rows x 3 tokens. At T = 1 (decode) x86 takes one row at a time, with VNNI too: on the
 * Zen 3 VM a decode GEMV streaming from memory ran at about 36 ns per 1024-value Q4 row against
 * about 50 with 4 rows interleaved, whose accesses hop between 4 rows 576 bytes apart and which the
 * prefetchers follow less well; on the Zen 4 VM the VNNI Q8_0_PACKED decode one row at a time took
 * 0.75-0.90x the time of 4 interleaved rows (one thread, from memory), and the 0.8B int8 model
 * decoded 16-38% faster in the fast bandwidth level, the same in the slow one (docs/perf-log.md,
 * "One-row int8 decode"). With T > 1 the AVX2 path regroups the codes by spans of 8
 * blocks, Q8 widened to int16 ("AVX2 prefill: int16 spans" below), Q4 as bytes ("Q4 on byte
 * spans"). Q4_0_X8 rows (kernel_abi.h; the layout the compiler picks for the AVX2 and the VNNI
 * builds) are already in byte-span order: decode reads them directly ("Q4_0_X8 at T = 1", VNNI
 * builds too, where it beat the group tiles above), prefill unpacks them into its panel without a
 * transpose. The other builds read Q4_0_X8 rows by rearranging each row tile into Q4_0_PACKED
 * order in scratch first.
 * arm64 (NEON intrinsics; records in value order, pairs of blocks) walks the blocks by pairs
 * (both blocks' f16 scales of a row from one 32-bit load, converted by fcvtl), and each output is a
 *chain acc = fma(f32(block sum), dw dx, acc) from acc = 0 with the block sum exact in int32, so
 *every tile shape gives the same bits:
 *   - i8mm (armv8.6-a): tiles of 4 rows x 4 tokens by usmmla (unsigned weights x signed
 *     activations): the 8-byte halves of two rows, and of two tokens, interleaved (zip of 64-bit
 *     lanes) so that one usmmla adds the 2x2 block [r0 t0, r0 t1, r1 t0, r1 t1]; 4 per block,
 *     started from the two tokens' bias totals [B0, B1, B0, B1], then one conversion and one FMA
 *     with the 2x2 scales [dw0 dx0, dw0 dx1, dw1 dx0, dw1 dx1]. Q8 codes are taken as stored
 *     (c + 128), Q4 nibbles (c + 8) by and/ushr. The other tile shapes (decode: 4 rows x 1 token)
 *     as with dotprod, but Q8 by usdot on the stored codes, started from the bias lanes;
 *   - dotprod (armv8.2-a+dotprod): sdot, 2 per block, row and token, started from the token's
 *     bias lanes (Q8 codes made signed by xor 0x80, with zero bias); the 4 int32x4 of the rows of
 *     a token (or the tokens of a row) summed pairwise (addp) into [r0, r1, r2, r3], converted and
 *     FMA'd with the 4 scale products: no horizontal reduction per output;
 *   - plain NEON (armv8-a): the same with vmull_s8 / vmlal_high_s8 (int16 holds two products of
 *     |c| <= 128 and |q| <= 127, or four of a nibble) and pairwise widening adds (sadalp) onto the
 *     bias lanes.
 * No prefetching on arm64 (not measured on hardware). Portable C elsewhere (codes in value order).
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
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include "kernel_neon.h"
#define DC_PK_NEON 1
#if defined(__ARM_FEATURE_MATMUL_INT8) && defined(__ARM_FEATURE_DOTPROD)
#define DC_PK_I8MM 1
#endif
#endif
#ifndef DC_PK_I8MM
#define DC_PK_I8MM 0
#endif
#ifndef DC_PK_AVX2
#define DC_PK_AVX2 0
#endif
#if DC_PK_VNNI || DC_PK_AVX2
#define DC_PK_SIMD 1  /* Q4 codes in group order */
#define DC_PK_SPANS 1 /* T > 1 on spans (linear_spans.h) */
#else
#define DC_PK_SIMD 0
#define DC_PK_SPANS 0
#endif
#ifndef DC_PK_VNNI
#define DC_PK_VNNI 0
#endif
/* The spans on 256-bit vpdpbusd (dc_dpbusd256, kernel_internal.h): the VNNI level, and the AVX2
 * kernels where the build has AVX-VNNI (--target=x86-64-avxvnni) or AVX-512 VNNI without the rest
 * of the VNNI level's extensions. They take it for their spans (T > 1, and Q4_0_X8 at T = 1): byte
 * spans for Q8 too, and no int16 sums to widen (linear_spans.h). */
#define DC_PK_DPBUSD (DC_PK_VNNI || (DC_PK_AVX2 && DC_HAS_DPBUSD256))

#define DC_PK_BLOCK 32
/* How far ahead the weight rows are prefetched, and into which cache. Zen 5, 0.8B int4 decode on 2
 * threads: 8 KiB gave about 75 tok/s, 16 KiB about 80, 32 KiB about 71 (the single-thread
 * microbenchmark is flat from 6 to 16 KiB). Locality 2 (prefetcht1: into L2, not L1): on Zen 4
 * (AVX2 VM, docs/perf-log.md) the single-thread GEMV at T = 1 went from 9 to 15 GB/s (Q4) and
 * from 9 to 20 GB/s (Q8) against prefetcht0, at any distance from 4 to 32 KiB; prefetchnta was as
 * slow as prefetcht0. Both can be set with -D for experiments. */
#ifndef DC_PK_PREFETCH_BYTES
#define DC_PK_PREFETCH_BYTES 16384
#endif
#ifndef DC_PK_PREFETCH_LOCALITY
#define DC_PK_PREFETCH_LOCALITY 2
#endif
#define DC_PK_ROWS 4 /* weight rows per tile */
#if DC_PK_VNNI
#define DC_PK_TOKENS 4 /* tokens per tile */
#elif DC_PK_AVX2
#ifndef DC_PK_TOKENS
#define DC_PK_TOKENS 3 /* 12 accumulators of the 16 registers; 3 beat 2 by 6% (Q8) */
#endif
#else
#define DC_PK_TOKENS 4
#endif

_Static_assert(DC_PK_ROWS <= 4,
               "dc_pk_scratch_bytes reserves a panel of 4 rows (kernel_internal.h)");
_Static_assert(DC_PK_TOKEN_ROUND % DC_PK_TOKENS == 0,
               "the scratch and the chunks must hold whole token tiles (kernel_internal.h)");

/* Bytes of a packed row of K values: codes (K or K / 2), then K / 32 f16 scales. */
DC_INLINE int64_t dc_pk_code_bytes(int q4, int64_t K) { return q4 ? K / 2 : K; }
DC_INLINE int64_t dc_pk_row_bytes(int q4, int64_t K) {
  return dc_pk_code_bytes(q4, K) + K / DC_PK_BLOCK * 2;
}

/* Byte offset in a Q4_0_X8 row of `blocks` blocks of qs byte i of block b (kernel_abi.h). */
DC_INLINE int64_t dc_x8_offset(int64_t blocks, int64_t b, int i) {
  const int64_t s = b / 8, g = dc_min64(8, blocks - 8 * s);
  return 128 * s + 4 * g * (i / 4) + 4 * (b % 8) + i % 4;
}

/* The Q4_0_PACKED row of the Q4_0_X8 row `row` of K values, at out. */
DC_INLINE void dc_x8_unshuffle_row(const uint8_t *restrict row, int64_t K, uint8_t *restrict out) {
  const int64_t blocks = K / DC_PK_BLOCK;
  for (int64_t b = 0; b < blocks; ++b)
    for (int i = 0; i < DC_PK_BLOCK / 2; i += 4)
      __builtin_memcpy(out + 16 * b + i, row + dc_x8_offset(blocks, b, i), 4);
  __builtin_memcpy(out + K / 2, row + K / 2, (size_t)(K / 16));
}

/*---- Activation records ---------------------------------------------------------------------*
 * The activations of a token, step by step: a step is a group of 4 blocks (128 values) in Q4
 * group order (SIMD builds), else a pair of blocks (64 values) in value order. A step's record is
 *   codes [values]  int8, in the step's order (zero where a row's last step has fewer blocks)
 *   bias [lanes]    int32, lanes = values / 8 (groups) or values / 4 (pairs)
 *   dxe [lanes]     f32
 * i.e. 256 bytes per group or 192 per pair. arm64 fills a pair's bias for block j (0, 1) as
 *   bias[4j + m] = o (sum of codes 4m .. 4m + 3 and 16 + 4m .. 16 + 4m + 3), m < 4: the lanes of
 *                  its sdot / usdot sum over the block's two 16-byte halves;
 *   bias[8 + j]  = o (sum of the block's 32 codes), for the 2x2 usmmla sums;
 * with o minus the code offset of the stored codes as the tiles take them: -8 for Q4 nibbles,
 * -128 for Q8 codes with i8mm (unsigned), 0 for Q8 otherwise (made signed by xor 0x80); dxe as
 * elsewhere (dxe[8j] is block j's scale). Records are interleaved by tiles of DC_PK_TOKENS
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
#if DC_PK_AVX2
      /* [halves 0 of both blocks | halves 1], as dc_pk_pair_q8 blends the weights */
      for (int i = 0; i < DC_PK_BLOCK; ++i)
        codes[(i / 16) * 32 + 16 * j + i % 16] = q[i];
#else
      for (int i = 0; i < DC_PK_BLOCK; ++i)
        codes[32 * j + i] = q[i];
#endif
#if DC_PK_NEON
      /* The offset of the codes as the arm64 tiles take them: nibbles c + 8; Q8 codes c + 128
       * with i8mm (usdot / usmmla take them unsigned), else none (made signed by xor 0x80). */
      const int32_t offset = q4 ? -8 : DC_PK_I8MM ? -128 : 0;
      int32_t total = 0;
      for (int m = 0; m < 4; ++m) {
        bias[4 * j + m] = offset * (four[m] + four[4 + m]);
        total += four[m] + four[4 + m];
      }
      bias[8 + j] = offset * total;
      for (int m = 0; m < 8; ++m)
        dxe[8 * j + m] = d;
#elif DC_PK_AVX2
      (void)bias;                 /* the AVX2 tiles make the codes signed instead */
      for (int m = 0; m < 4; ++m) /* [b0 x4 | b1 x4] */
        dxe[4 * j + m] = d;
#else
      for (int m = 0; m < 8; ++m) {
        bias[8 * j + m] = -128 * four[m];
        dxe[8 * j + m] = d;
      }
#endif
      continue;
    }
    for (int i = 0; i < DC_PK_BLOCK / 2; ++i) {
      codes[16 * j + i] = q[i];
      codes[64 + 16 * j + i] = q[16 + i];
    }
#if DC_PK_AVX2
    /* Lanes [b0 b0 b2 b2 | b1 b1 b3 b3] as dc_pk_group_q4 folds them: lane k of the pair of
     * block j sums the products of codes 8k .. 8k + 7 and 16 + 8k .. 16 + 8k + 7. */
    for (int k = 0; k < 2; ++k) {
      const int64_t lane = 4 * (j % 2) + 2 * (j / 2) + k;
      bias[lane] = -8 * (four[2 * k] + four[2 * k + 1] + four[4 + 2 * k] + four[5 + 2 * k]);
      dxe[lane] = d;
    }
#else
    for (int m = 0; m < 4; ++m) {
      bias[4 * j + m] = -8 * (four[m] + four[4 + m]);
      dxe[4 * j + m] = d;
    }
#endif
  }
}

#if DC_PK_SIMD
/* Prefetches the weight bytes `pf` bytes after the 64 codes at c (a row tile's codes come from
 * memory at the rate of a line per row and step; the hardware prefetchers do not ramp up on rows of
 * a few lines) and, with `scales`, after the scales at d. pf = 0: none. */
DC_INLINE void dc_pk_prefetch(int64_t pf, const uint8_t *c, const uint8_t *d, int scales) {
  if (!pf)
    return;
  __builtin_prefetch(c + pf, 0, DC_PK_PREFETCH_LOCALITY);
  if (scales)
    __builtin_prefetch(d + pf, 0, DC_PK_PREFETCH_LOCALITY);
}
#endif

/* Stores the outputs of a tile whose products are p[rows][tokens]: outputs o < `outputs` of
 * tokens t < `tokens` at y[at + t N + o], as silu(p[o][t]) p[outputs + o][t] with `swiglu`, plus
 * residual[at + t N + o] when there is one. */
DC_INLINE void dc_pk_store(float p[DC_PK_ROWS][DC_PK_TOKENS], int64_t outputs, int64_t tokens,
                           int swiglu, const float *restrict residual, int64_t N, int64_t at,
                           float *restrict y) {
  for (int64_t o = 0; o < outputs; ++o) {
    /* A full token tile's SiLUs go in one loop of constant length per gate row, which the
     * compiler vectorizes (dc_siluf is branch-free; a lane's operations are the scalar call's, so
     * the bits are too): one at a time they cost about 15% of a SwiGLU projection at T = 512 on
     * the AVX2 span path (docs/kernels.md). A row of p is one tile row, so the vector load meets
     * whole stored rows. */
    float act[DC_PK_TOKENS];
    if (swiglu && tokens == DC_PK_TOKENS)
      for (int t = 0; t < DC_PK_TOKENS; ++t)
        act[t] = dc_siluf(p[o][t]) * p[outputs + o][t];
    for (int64_t t = 0; t < tokens; ++t) {
      float v = !swiglu                  ? p[o][t]
                : tokens == DC_PK_TOKENS ? act[t]
                                         : dc_siluf(p[o][t]) * p[outputs + o][t];
      if (residual)
        v += residual[at + t * N + o];
      y[at + t * N + o] = v;
    }
  }
}

/* The weight rows of the row tile of outputs n0 .. n0 + outputs - 1 into rp: those rows, then with
 * `swiglu` their up rows (N further on). Returns how many. */
DC_INLINE int64_t dc_pk_tile_rows(const uint8_t *weight, int64_t N, int64_t row_bytes, int64_t n0,
                                  int64_t outputs, int swiglu, const uint8_t *rp[DC_PK_ROWS]) {
  if (outputs == DC_PK_ROWS && !swiglu) {
    /* The usual tile, a constant count: plain stores. The loops below compile to masked stores,
     * which Zen 1 microcodes (docs/perf-log.md, "A Zen 1 VM"). */
    for (int o = 0; o < DC_PK_ROWS; ++o)
      rp[o] = weight + (n0 + o) * row_bytes;
    return DC_PK_ROWS;
  }
  int64_t rows = 0;
  for (int64_t o = 0; o < outputs; ++o)
    rp[rows++] = weight + (n0 + o) * row_bytes;
  if (swiglu)
    for (int64_t o = 0; o < outputs; ++o)
      rp[rows++] = weight + (N + n0 + o) * row_bytes;
  return rows;
}

/* The prefetch distance of a pass over row tiles of `step` rows: whole row tiles, at least
 * DC_PK_PREFETCH_BYTES ahead. */
DC_INLINE int64_t dc_pk_prefetch_distance(int64_t step, int64_t row_bytes) {
  const int64_t tile_rows_bytes = step * row_bytes;
  return (DC_PK_PREFETCH_BYTES + tile_rows_bytes - 1) / tile_rows_bytes * tile_rows_bytes;
}

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

/* The sum of the 8 lanes of v. */
DC_INLINE float dc_pk_hsum(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

/* Q4: group s of g blocks (g = 4 but in a row's last group); a: the group's record of token 0.
 * Half h of the group (blocks 2h, 2h + 1: lane j of a 256-bit register holds block 2h + j) gives
 * 8 int32 lanes; one vphaddd of the two halves folds them into [b0 b0 b2 b2 | b1 b1 b3 b3], so
 * that one bias add, one conversion and one FMA serve the 4 blocks. The record's bias and dxe
 * have that layout (dc_pk_quantize_token); missing blocks read as zero codes and zero scales. */
DC_INLINE void dc_pk_group_q4(const int R, const int TT, const int64_t g,
                              const uint8_t *const *rows, int64_t K, int64_t s,
                              const uint8_t *restrict a, int64_t pf,
                              __m256 acc[DC_PK_ROWS][DC_PK_TOKENS]) {
  const __m256i nibble = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (int r = 0; r < R; ++r) {
    const uint8_t *qs = rows[r] + 64 * s, *d = rows[r] + K / 2 + 8 * s;
    dc_pk_prefetch(pf, qs, d, s % 8 == 0);
    const __m256i v0 = g >= 2 ? _mm256_loadu_si256((const __m256i *)qs)
                              : _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    const __m256i v1 = g == 4 ? _mm256_loadu_si256((const __m256i *)(qs + 32))
                       : g == 3
                           ? _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(qs + 32)))
                           : _mm256_setzero_si256();
    const __m256i wl0 = _mm256_and_si256(v0, nibble), wl1 = _mm256_and_si256(v1, nibble);
    const __m256i wh0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), nibble);
    const __m256i wh1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), nibble);
    int64_t four = 0;
    __builtin_memcpy(&four, d, (size_t)(2 * g));
    const __m256 dw =
        _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi64_si128(four))),
                                 _mm256_set_epi32(3, 3, 1, 1, 2, 2, 0, 0));
    for (int t = 0; t < TT; ++t) {
      const uint8_t *at = a + 256 * t;
      /* nibble x |q| <= 15 x 127: the pair sums and their sum stay within int16. */
      const __m256i p0 = _mm256_add_epi16(
          _mm256_maddubs_epi16(wl0, _mm256_loadu_si256((const __m256i *)at)),
          _mm256_maddubs_epi16(wh0, _mm256_loadu_si256((const __m256i *)(at + 64))));
      const __m256i p1 = _mm256_add_epi16(
          _mm256_maddubs_epi16(wl1, _mm256_loadu_si256((const __m256i *)(at + 32))),
          _mm256_maddubs_epi16(wh1, _mm256_loadu_si256((const __m256i *)(at + 96))));
      const __m256i sum = _mm256_add_epi32(
          _mm256_hadd_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones)),
          _mm256_loadu_si256((const __m256i *)(at + 128)));
      const __m256 dx = _mm256_loadu_ps((const float *)(const void *)(at + 192));
      acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw, dx), acc[r][t]);
    }
  }
}

/* Q8: pair p of blocks (values 64p .. 64p + 63), or with `single` its first block only; a: the
 * pair's record of token 0. The weights are taken as wx = [c0..15 | c32..47] and
 * wy = [c16..31 | c48..63] (128-bit lane j holds block j), so vpmaddwd of either gives int32 lanes
 * [b0 x4 | b1 x4] and one add combines them: one conversion and one FMA serve both blocks. The
 * record's codes are in that order and its dxe has that layout (dc_pk_quantize_token). */
DC_INLINE void dc_pk_pair_q8(const int R, const int TT, const int single,
                             const uint8_t *const *rows, int64_t K, int64_t p,
                             const uint8_t *restrict a, int64_t pf,
                             __m256 acc[DC_PK_ROWS][DC_PK_TOKENS]) {
  const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
  for (int r = 0; r < R; ++r) {
    const uint8_t *c = rows[r] + 64 * p, *d = rows[r] + K + 4 * p;
    dc_pk_prefetch(pf, c, d, p % 16 == 0);
    __m256i wx, wy;
    if (single) {
      wx = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)c));
      wy = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(c + 16)));
    } else {
      const __m256i mid = _mm256_loadu_si256((const __m256i *)(c + 16));
      wx = _mm256_blend_epi32(_mm256_loadu_si256((const __m256i *)c), mid, 0xF0);
      wy = _mm256_blend_epi32(mid, _mm256_loadu_si256((const __m256i *)(c + 32)), 0xF0);
    }
    /* Signed codes. A missing second block's lanes turn -128 under the xor; its activation codes
     * in the record are zero, so they add nothing. */
    wx = _mm256_xor_si256(wx, flip);
    wy = _mm256_xor_si256(wy, flip);
    const __m256i ux = _mm256_abs_epi8(wx), uy = _mm256_abs_epi8(wy);
    int32_t two = 0;
    __builtin_memcpy(&two, d, single ? 2 : 4);
    const __m256 dw =
        _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128(two))),
                                 _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0));
    for (int t = 0; t < TT; ++t) {
      const uint8_t *at = a + 192 * t;
      /* |c| <= 128 and |q| <= 127 keep each pair sum of vpmaddubsw within int16. */
      const __m256i x0 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)at), wx);
      const __m256i x1 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(at + 32)), wy);
      const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ux, x0), ones),
                                           _mm256_madd_epi16(_mm256_maddubs_epi16(uy, x1), ones));
      const __m256 dx = _mm256_loadu_ps((const float *)(const void *)(at + 128));
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
      out[r][t] = dc_pk_hsum(acc[r][t]);
}

#elif DC_PK_NEON

/* Block j (0 or 1) of a pair record: codes at 32 j, the 4 bias lanes of its dot product at
 * 64 + 16 j, its bias total at 96 + 4 j, its scale at 128 + 32 j. */
#define DC_PK_REC 192

/* Block b of a row as two 16-value halves, as the dot products take them: nibbles (c + 8);
 * Q8 codes as stored (c + 128) with i8mm, else c (xor 0x80). */
DC_INLINE void dc_pk_weights(const int q4, const uint8_t *row, int64_t b, uint8x16_t v[2]) {
  if (q4) {
    const uint8x16_t x = vld1q_u8(row + 16 * b);
    v[0] = vandq_u8(x, vdupq_n_u8(0x0F));
    v[1] = vshrq_n_u8(x, 4);
    return;
  }
  v[0] = vld1q_u8(row + 32 * b);
  v[1] = vld1q_u8(row + 32 * b + 16);
  if (!DC_PK_I8MM) {
    v[0] = veorq_u8(v[0], vdupq_n_u8(0x80));
    v[1] = veorq_u8(v[1], vdupq_n_u8(0x80));
  }
}

/* The block sum of weights w and the 32 activation codes at x, in 4 int32 lanes started from the
 * record's bias lanes at `bias` (which cancel the code offset): usdot (Q8 with i8mm), sdot, or
 * vmull_s8 / vmlal_high_s8 and pairwise widening adds (int16 holds two products of |c| <= 128
 * and |q| <= 127, or four of a nibble). */
DC_INLINE int32x4_t dc_pk_dot32(const int q4, const uint8x16_t w[2], const uint8_t *x,
                                const uint8_t *bias) {
  const int8x16_t x0 = vld1q_s8((const int8_t *)x), x1 = vld1q_s8((const int8_t *)x + 16);
  const int32x4_t init = vld1q_s32((const int32_t *)(const void *)bias);
#if DC_PK_I8MM
  if (!q4)
    return vusdotq_s32(vusdotq_s32(init, w[0], x0), w[1], x1);
#endif
  const int8x16_t w0 = vreinterpretq_s8_u8(w[0]), w1 = vreinterpretq_s8_u8(w[1]);
#if defined(__ARM_FEATURE_DOTPROD)
  (void)q4;
  return vdotq_s32(vdotq_s32(init, w0, x0), w1, x1);
#else
  int16x8_t a = vmlal_high_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), w0, x0);
  if (q4)
    return vpadalq_s16(init, vmlal_high_s8(vmlal_s8(a, vget_low_s8(w1), vget_low_s8(x1)), w1, x1));
  const int16x8_t c = vmlal_high_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), w1, x1);
  return vpadalq_s16(vpadalq_s16(init, a), c);
#endif
}

/* The f16 scales of block b of 4 rows (scales from d[r]). */
DC_INLINE float32x4_t dc_pk_scales4(const uint8_t *const *d, int64_t b) {
  uint16x4_t h = vld1_dup_u16((const uint16_t *)(const void *)(d[0] + 2 * b));
  h = vld1_lane_u16((const uint16_t *)(const void *)(d[1] + 2 * b), h, 1);
  h = vld1_lane_u16((const uint16_t *)(const void *)(d[2] + 2 * b), h, 2);
  h = vld1_lane_u16((const uint16_t *)(const void *)(d[3] + 2 * b), h, 3);
  return vcvt_f32_f16(vreinterpret_f16_u16(h));
}

/* Those of blocks 2p and 2p + 1: one 32-bit load per row, then unzipped. */
DC_INLINE void dc_pk_scales4_pair(const uint8_t *const *d, int64_t p, float32x4_t s[2]) {
  uint32_t two[DC_PK_ROWS];
  for (int r = 0; r < DC_PK_ROWS; ++r)
    __builtin_memcpy(&two[r], d[r] + 4 * p, 4);
  uint32x4_t v = vdupq_n_u32(two[0]);
  v = vsetq_lane_u32(two[1], v, 1);
  v = vsetq_lane_u32(two[2], v, 2);
  v = vsetq_lane_u32(two[3], v, 3);
  const uint16x8_t h = vreinterpretq_u16_u32(v);
  s[0] = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(vuzp1q_u16(h, h))));
  s[1] = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(vuzp2q_u16(h, h))));
}

DC_INLINE float dc_pk_half(const uint8_t *p) {
  __fp16 h;
  __builtin_memcpy(&h, p, 2);
  return (float)h;
}

/* The f32 at p of 4 token records. */
DC_INLINE float32x4_t dc_pk_gather4(const uint8_t *p) {
  float32x4_t v = vld1q_dup_f32((const float *)(const void *)p);
  v = vld1q_lane_f32((const float *)(const void *)(p + DC_PK_REC), v, 1);
  v = vld1q_lane_f32((const float *)(const void *)(p + 2 * DC_PK_REC), v, 2);
  return vld1q_lane_f32((const float *)(const void *)(p + 3 * DC_PK_REC), v, 3);
}

DC_INLINE float dc_pk_f32(const uint8_t *p) {
  float v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

/* Block b (the j-th of its pair, whose record of token 0 is at rec) of 4 rows x TT tokens:
 * acc[t] holds the 4 rows of token t. */
DC_INLINE void dc_pk_step_rows(const int q4, const int TT, const uint8_t *const *rows, int64_t b,
                               const int j, const uint8_t *rec, float32x4_t dw,
                               float32x4_t acc[DC_PK_TOKENS]) {
  uint8x16_t w[DC_PK_ROWS][2];
  for (int r = 0; r < DC_PK_ROWS; ++r)
    dc_pk_weights(q4, rows[r], b, w[r]);
  for (int t = 0; t < TT; ++t) {
    const uint8_t *at = rec + t * DC_PK_REC, *x = at + 32 * j, *bias = at + 64 + 16 * j;
    const int32x4_t s =
        dc_neon_sum4(dc_pk_dot32(q4, w[0], x, bias), dc_pk_dot32(q4, w[1], x, bias),
                     dc_pk_dot32(q4, w[2], x, bias), dc_pk_dot32(q4, w[3], x, bias));
    acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(s), vmulq_n_f32(dw, dc_pk_f32(at + 128 + 32 * j)));
  }
}

/* Block b of 1 row x TT (1 or 4) tokens: acc lanes are the tokens (lane 0 alone for TT = 1). */
DC_INLINE void dc_pk_step_row(const int q4, const int TT, const uint8_t *row, const uint8_t *d,
                              int64_t b, const int j, const uint8_t *rec, float32x4_t *acc) {
  uint8x16_t w[2];
  dc_pk_weights(q4, row, b, w);
  const float dw = dc_pk_half(d + 2 * b);
  if (TT == 1) {
    const int32x4_t s = dc_pk_dot32(q4, w, rec + 32 * j, rec + 64 + 16 * j);
    const float a = __builtin_fmaf((float)vaddvq_s32(s), dw * dc_pk_f32(rec + 128 + 32 * j),
                                   vgetq_lane_f32(*acc, 0));
    *acc = vsetq_lane_f32(a, *acc, 0);
    return;
  }
  int32x4_t s4[DC_PK_TOKENS];
  for (int t = 0; t < DC_PK_TOKENS; ++t) {
    const uint8_t *at = rec + t * DC_PK_REC;
    s4[t] = dc_pk_dot32(q4, w, at + 32 * j, at + 64 + 16 * j);
  }
  const int32x4_t s = dc_neon_sum4(s4[0], s4[1], s4[2], s4[3]);
  *acc = vfmaq_f32(*acc, vcvtq_f32_s32(s), vmulq_n_f32(dc_pk_gather4(rec + 128 + 32 * j), dw));
}

#if DC_PK_I8MM

/* Block b of 4 rows x 4 tokens by usmmla (unsigned weights as stored or unpacked, signed
 * activations): acc[p][u] = [r0 t0, r0 t1, r1 t0, r1 t1] of rows 2p, 2p + 1 and tokens 2u, 2u + 1,
 * each block's 2x2 sums started from the tokens' bias totals [B0, B1, B0, B1]. */
DC_INLINE void dc_pk_step_mmla(const int q4, const uint8_t *const *rows, int64_t b, const int j,
                               const uint8_t *rec, float32x4_t dwv, float32x4_t acc[2][2]) {
  uint8x16_t wz[2][4], xz[2][4];
  int32x4_t init[2];
  for (int p = 0; p < 2; ++p) {
    uint8x16_t w0[2], w1[2];
    dc_pk_weights(q4, rows[2 * p], b, w0);
    dc_pk_weights(q4, rows[2 * p + 1], b, w1);
    const uint8_t *r0 = rec + 2 * p * DC_PK_REC, *r1 = r0 + DC_PK_REC;
    for (int h = 0; h < 2; ++h) {
      wz[p][2 * h] = dc_neon_zip1_64(w0[h], w1[h]);
      wz[p][2 * h + 1] = dc_neon_zip2_64(w0[h], w1[h]);
      const uint8x16_t s = vld1q_u8(r0 + 32 * j + 16 * h), t = vld1q_u8(r1 + 32 * j + 16 * h);
      xz[p][2 * h] = dc_neon_zip1_64(s, t);
      xz[p][2 * h + 1] = dc_neon_zip2_64(s, t);
    }
    int32x2_t two = vld1_dup_s32((const int32_t *)(const void *)(r0 + 96 + 4 * j));
    two = vld1_lane_s32((const int32_t *)(const void *)(r1 + 96 + 4 * j), two, 1);
    init[p] = vcombine_s32(two, two);
  }
  const float32x4_t dxv = dc_pk_gather4(rec + 128 + 32 * j);
  float32x4_t dwp[2], dxp[2];
  dc_neon_mmla_scales(dwv, dxv, dwp, dxp);
  for (int p = 0; p < 2; ++p)
    for (int u = 0; u < 2; ++u) {
      int32x4_t s = init[u];
      for (int i = 0; i < 4; ++i)
        s = vusmmlaq_s32(s, wz[p][i], vreinterpretq_s8_u8(xz[u][i]));
      acc[p][u] = vfmaq_f32(acc[p][u], vcvtq_f32_s32(s), vmulq_f32(dwp[p], dxp[u]));
    }
}
#endif

/* Every shape computes each output as acc = fma(f32(block sum), dw dx, acc), block by block from
 * acc = 0, with the block sum exact in int32: the same bits whatever the tile. The blocks go by
 * pairs (one record per token), then a row's odd last block. */
DC_INLINE void dc_pk_tile(const int q4, const int R, const int TT, const uint8_t *const *rows,
                          int64_t K, const uint8_t *restrict act, int64_t pf,
                          float out[DC_PK_ROWS][DC_PK_TOKENS]) {
  (void)pf;
  const int64_t blocks = K / DC_PK_BLOCK, stride = DC_PK_TOKENS * DC_PK_REC;
  const int64_t pairs = blocks / 2;
  const uint8_t *d[DC_PK_ROWS];
  for (int r = 0; r < R; ++r)
    d[r] = rows[r] + dc_pk_code_bytes(q4, K);
  if (R == 1) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < pairs; ++p) {
      dc_pk_step_row(q4, TT, rows[0], d[0], 2 * p, 0, act + p * stride, &acc);
      dc_pk_step_row(q4, TT, rows[0], d[0], 2 * p + 1, 1, act + p * stride, &acc);
    }
    if (blocks % 2)
      dc_pk_step_row(q4, TT, rows[0], d[0], blocks - 1, 0, act + pairs * stride, &acc);
    for (int t = 0; t < TT; ++t)
      out[0][t] = acc[t];
    return;
  }
#if DC_PK_I8MM
  if (TT == DC_PK_TOKENS) {
    float32x4_t acc[2][2];
    for (int p = 0; p < 2; ++p)
      for (int u = 0; u < 2; ++u)
        acc[p][u] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < pairs; ++p) {
      float32x4_t dw[2];
      dc_pk_scales4_pair(d, p, dw);
      dc_pk_step_mmla(q4, rows, 2 * p, 0, act + p * stride, dw[0], acc);
      dc_pk_step_mmla(q4, rows, 2 * p + 1, 1, act + p * stride, dw[1], acc);
    }
    if (blocks % 2)
      dc_pk_step_mmla(q4, rows, blocks - 1, 0, act + pairs * stride, dc_pk_scales4(d, blocks - 1),
                      acc);
    dc_neon_mmla_store(acc, out);
    return;
  }
#endif
  float32x4_t acc[DC_PK_TOKENS];
  for (int t = 0; t < TT; ++t)
    acc[t] = vdupq_n_f32(0.0f);
  for (int64_t p = 0; p < pairs; ++p) {
    float32x4_t dw[2];
    dc_pk_scales4_pair(d, p, dw);
    dc_pk_step_rows(q4, TT, rows, 2 * p, 0, act + p * stride, dw[0], acc);
    dc_pk_step_rows(q4, TT, rows, 2 * p + 1, 1, act + p * stride, dw[1], acc);
  }
  if (blocks % 2)
    dc_pk_step_rows(q4, TT, rows, blocks - 1, 0, act + pairs * stride, dc_pk_scales4(d, blocks - 1),
                    acc);
  for (int t = 0; t < TT; ++t)
    for (int r = 0; r < DC_PK_ROWS; ++r)
      out[r][t] = acc[t][r];
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

#if DC_PK_SPANS
#include "linear_spans.h"
#endif
#if DC_PK_AMX
#include "linear_amx.h"
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
  /* x86 decode: one row at a time (the header). arm64 keeps its 4-row tiles at T = 1, whose
   * pairwise adds spare a horizontal sum per output (not timed on Arm hardware). */
  if (rows == DC_PK_ROWS && !((DC_PK_AVX2 || DC_PK_VNNI) && tokens == 1)) {
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

/* The rows of outputs n_begin .. n_end - 1 against the tc tokens from c0 whose records are in act
 * (token tiles tile_bytes apart): tiles of rows, then tiles of tokens. Without the AVX2 kernels,
 * Q4_0_X8 rows are rearranged into Q4_0_PACKED rows, a row tile at a time, in `panel`. */
DC_INLINE void dc_pk_rows_chunk(const int q4, const int x8, const uint8_t *restrict act,
                                uint8_t *restrict panel, int64_t c0, int64_t tc, int64_t K,
                                const uint8_t *restrict weight, int64_t N, int32_t epilogue,
                                const float *restrict residual, int64_t n_begin, int64_t n_end,
                                float *restrict y) {
  const int64_t row_bytes = dc_pk_row_bytes(q4, K), rec = dc_pk_rec_bytes(q4);
  const int64_t tile_bytes = dc_pk_steps(q4, K) * DC_PK_TOKENS * rec; /* one token tile */
  const int swiglu = epilogue == DC_K_EPILOGUE_SWIGLU;
  /* Outputs per row tile: DC_PK_ROWS, or half of it when each output needs a gate and an up row. */
  const int64_t step = swiglu ? DC_PK_ROWS / 2 : DC_PK_ROWS;
  const int64_t pf = dc_pk_prefetch_distance(step, row_bytes);
  for (int64_t n0 = n_begin; n0 < n_end; n0 += step) {
    const int64_t outputs = dc_min64(step, n_end - n0);
    const uint8_t *rp[DC_PK_ROWS];
    const int64_t rows = dc_pk_tile_rows(weight, N, row_bytes, n0, outputs, swiglu, rp);
    for (int64_t r = 0; x8 && r < rows; ++r) {
      dc_x8_unshuffle_row(rp[r], K, panel + r * row_bytes);
      rp[r] = panel + r * row_bytes;
    }
    for (int64_t t0 = 0; t0 < tc; t0 += DC_PK_TOKENS) {
      const int64_t tokens = dc_min64(DC_PK_TOKENS, tc - t0);
      float p[DC_PK_ROWS][DC_PK_TOKENS];
      dc_pk_tile_any(q4, rows, tokens, rp, K, act + t0 / DC_PK_TOKENS * tile_bytes,
                     t0 == 0 ? pf : 0, p);
      dc_pk_store(p, outputs, tokens, swiglu, residual, N, (c0 + t0) * N + n0, y);
    }
  }
}

/* The scratch of dc_pk_rows_chunk: the panel (Q4_0_X8 rows rearranged, one row tile), then the
 * token records (dc_pk_scratch_bytes). */
DC_INLINE uint8_t *dc_pk_scratch_records(const int q4, const int x8, int64_t K, void *scratch) {
  return (uint8_t *)scratch + (x8 ? DC_PK_ROWS * dc_pk_row_bytes(q4, K) : 0);
}

/* y = x W^T with the epilogue of dc_k_linear_epilogue_* (as dc_q8act_rows in linear_q8act.c): for
 * DC_K_EPILOGUE_SWIGLU the weight is [2N, K] and y[t, n] = silu(p[t, n]) * p[t, N + n]; a non-NULL
 * residual [T, N] is added last. Chunks of tokens outermost (quantized into scratch as each
 * starts), then dc_pk_rows_chunk. On x86 with T > 1: dc_pw_rows, or with AMX and T >=
 * DC_PA_MIN_TOKENS dc_pa_rows (the same bits). */
DC_INLINE void dc_pk_rows_impl(const int q4, const int x8, const float *restrict x, int64_t T,
                               int64_t K, const uint8_t *restrict weight, int64_t N,
                               int32_t epilogue, const float *restrict residual, int64_t n_begin,
                               int64_t n_end, void *scratch, float *restrict y) {
  if (n_begin >= n_end || T <= 0)
    return;
#if DC_PK_AMX
  if (T >= DC_PA_MIN_TOKENS && dc_pa_ready()) {
    dc_pa_rows(q4, x8, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
    return;
  }
#endif
#if DC_PK_SPANS
  if (T > 1) {
    dc_pw_rows(q4, x8, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
    return;
  }
  if (x8) {
    dc_x8_quantize(x, K, scratch);
    dc_x8_rows_quantized((const uint8_t *)scratch, K, weight, N, epilogue, residual, n_begin, n_end,
                         y);
    return;
  }
#endif
  const int64_t rec = dc_pk_rec_bytes(q4);
  const int64_t tile_bytes = dc_pk_steps(q4, K) * DC_PK_TOKENS * rec; /* one token tile */
  const int64_t chunk = dc_min64(T, dc_pk_chunk_tokens(K, dc_pk_grouped(q4) ? 2 : 3));
  uint8_t *act = dc_pk_scratch_records(q4, x8, K, scratch);
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t tc = dc_min64(chunk, T - c0);
    for (int64_t t = 0; t < tc; ++t)
      dc_pk_quantize_token(q4, x + (c0 + t) * K, K,
                           act + t / DC_PK_TOKENS * tile_bytes + t % DC_PK_TOKENS * rec,
                           DC_PK_TOKENS * rec);
    dc_pk_rows_chunk(q4, x8, act, (uint8_t *)scratch, c0, tc, K, weight, N, epilogue, residual,
                     n_begin, n_end, y);
  }
}

/* dc_pk_rows_impl over the ranges `claim` hands out (kernel_abi.h, "Claimed ranges"). At T = 1
 * the token is quantized once for all of them; other T go range by range. */
DC_INLINE void dc_pk_rows_claimed(const int q4, const int x8, const float *restrict x, int64_t T,
                                  int64_t K, const uint8_t *restrict weight, int64_t N,
                                  int32_t epilogue, const float *restrict residual,
                                  dc_k_claim_fn claim, void *claimer, void *scratch,
                                  float *restrict y) {
  int64_t begin, end;
  if (T != 1) {
    while (claim(claimer, &begin, &end))
      dc_pk_rows_impl(q4, x8, x, T, K, weight, N, epilogue, residual, begin, end, scratch, y);
    return;
  }
#if DC_PK_SPANS
  if (x8) {
    dc_x8_quantize(x, K, scratch);
    while (claim(claimer, &begin, &end))
      dc_x8_rows_quantized((const uint8_t *)scratch, K, weight, N, epilogue, residual, begin, end,
                           y);
    return;
  }
#endif
  uint8_t *act = dc_pk_scratch_records(q4, x8, K, scratch);
  dc_pk_quantize_token(q4, x, K, act, DC_PK_TOKENS * dc_pk_rec_bytes(q4));
  while (claim(claimer, &begin, &end))
    if (begin < end)
      dc_pk_rows_chunk(q4, x8, act, (uint8_t *)scratch, 0, 1, K, weight, N, epilogue, residual,
                       begin, end, y);
}

static void dc_pk_rows_q8(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int32_t epilogue, const float *residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *y) {
  dc_pk_rows_impl(0, 0, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
}

static void dc_pk_rows_q4(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int32_t epilogue, const float *residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *y) {
  dc_pk_rows_impl(1, 0, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
}

static void dc_pk_rows_q4_x8(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                             int32_t epilogue, const float *residual, int64_t n_begin,
                             int64_t n_end, void *scratch, float *y) {
  dc_pk_rows_impl(1, 1, x, T, K, weight, N, epilogue, residual, n_begin, n_end, scratch, y);
}

#define DC_DEFINE_PACKED_CLAIMED(name, q4, x8)                                                     \
  void dc_k_linear_claimed_q8act_##name(                                                           \
      const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N, int32_t epilogue,    \
      const float *residual, dc_k_claim_fn claim, void *claimer, void *scratch, float *y) {        \
    dc_pk_rows_claimed(q4, x8, x, T, K, weight, N, epilogue, residual, claim, claimer, scratch,    \
                       y);                                                                         \
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
DC_DEFINE_PACKED(q4_0_x8, dc_pk_rows_q4_x8)
DC_DEFINE_PACKED_CLAIMED(q8_0_packed, 0, 0)
DC_DEFINE_PACKED_CLAIMED(q4_0_packed, 1, 0)
DC_DEFINE_PACKED_CLAIMED(q4_0_x8, 1, 1)

/*---- Embedding ------------------------------------------------------------------------------*/

/* Rows t_begin .. t_end - 1 of y [T, H] from table [V, H] (exact values; zeros for an id outside
 * [0, V)). */
DC_INLINE void dc_pk_embedding(const int q4, const int x8, const uint8_t *restrict table, int64_t V,
                               int64_t H, const int32_t *restrict ids, int64_t t_begin,
                               int64_t t_end, float *restrict y) {
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
        for (int i = 0; i < DC_PK_BLOCK / 2; ++i) {
          const uint8_t qs = row[x8 ? dc_x8_offset(H / DC_PK_BLOCK, b, i) : 16 * b + i];
          o[i] = (float)((qs & 0x0F) - 8) * scale;
          o[i + DC_PK_BLOCK / 2] = (float)((qs >> 4) - 8) * scale;
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
  dc_pk_embedding(0, 0, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_0_packed(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                    int64_t t_begin, int64_t t_end, float *y) {
  dc_pk_embedding(1, 0, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_0_x8(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                int64_t t_begin, int64_t t_end, float *y) {
  dc_pk_embedding(1, 1, table, V, H, ids, t_begin, t_end, y);
}
