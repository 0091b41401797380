/*===- delta_rule_step.h - one token of the gated delta rule for one head ---===*
 *
 * Private to targets/portable/kernels/: the recurrent step shared by the decode kernel
 * (delta_rule.c) and the fused Gated DeltaNet kernel (gated_delta_net.c), so both compute a step
 * with the same arithmetic in the same order.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TARGETS_PORTABLE_DELTA_RULE_STEP_H
#define DELTAC_TARGETS_PORTABLE_DELTA_RULE_STEP_H

#include "f16_rows.h"
#include "kernel_internal.h"

/* Columns of S per tile. Each column j of S evolves on its own (its update needs only S[:, j], k,
 * q and v[j]), so a tile's dot products live in stack arrays and dv needs no scratch, and the tile
 * width changes no bit. With AVX-512 a tile of 128 keeps the two dot products of a whole Qwen3.5
 * row (dv = 128) in 16 of the 32 registers, and the first pass then reads the state's rows
 * contiguously, which the hardware prefetcher follows: the 0.8B's fused Gated DeltaNet at T = 1,
 * one thread, state from memory, went from 122 to 80 us on the Zen 4 VM (64 columns read half of
 * every 512-byte row, then the other half; docs/perf-log.md). With 16 vector registers (AVX2) or
 * 128-bit ones (NEON), 128 columns would spill, so 64 stays there. */
#if defined(__AVX512F__)
#define DC_DELTA_COLUMN_TILE 128
#else
#define DC_DELTA_COLUMN_TILE 64
#endif

/* The key head read by value head h (spec §2.4 item 6, §5.4 item 6). */
DC_INLINE int64_t dc_key_head(int64_t h, int64_t nk, int64_t nv, int32_t mapping) {
  return mapping == DC_K_HEADS_TILED ? h % nk : h / (nv / nk);
}

/* The three parts of a step on one tile of `width` columns, shared by the f32 and the f16 state so
 * both compute the same arithmetic in the same order. dc_delta_tile_dots accumulates one row of S
 * into the tile's two dot products; dc_delta_tile_outputs forms delta and the output from them;
 * dc_delta_tile_update applies the decay and the rank-1 update to one row. */
DC_INLINE void dc_delta_tile_dots(const float *srow, float ki, float qi, int64_t width, float *sk,
                                  float *sq) {
  for (int64_t j = 0; j < width; ++j) {
    sk[j] += srow[j] * ki;
    sq[j] += srow[j] * qi;
  }
}

DC_INLINE void dc_delta_tile_outputs(const float *sk, const float *sq, const float *vv, float decay,
                                     float b, float scale, float qk, int64_t width, float *delta,
                                     float *restrict o) {
  for (int64_t j = 0; j < width; ++j) {
    delta[j] = b * (vv[j] - decay * sk[j]);
    o[j] = scale * decay * sq[j] + qk * delta[j];
  }
}

DC_INLINE void dc_delta_tile_update(float *srow, float decay, float ki, const float *delta,
                                    int64_t width) {
  for (int64_t j = 0; j < width; ++j)
    srow[j] = decay * srow[j] + ki * delta[j];
}

/* Prefetches `bytes` bytes at `at` (lines into the L2), where there is a next state to fetch. */
DC_INLINE void dc_delta_prefetch(const void *at, int64_t bytes) {
  if (at)
    for (int64_t b = 0; b < bytes; b += 64)
      __builtin_prefetch((const char *)at + b, 0, 2);
}

/* One token for one value head, in place on S [dk, dv] (dv fastest):
 *   S <- decay S;  delta = b (v - S^T k);  S <- S + k delta^T;  o = S^T (scale q)
 * with decay = exp(g) and qk = scale (q . k) given by the caller. With S the state before the
 * token, pred = decay S^T k and the output after the update is scale decay S^T q + qk delta, so one
 * read of S serves both dot products and a second pass applies the rank-1 update.
 * `next` (or NULL): the state of the same shape and storage that the caller steps next. The second
 * pass runs on rows the first brought into the cache, so while it runs the memory would idle: it
 * prefetches the matching rows of `next` instead (decode: the next head's state; 0.8B int4 decode
 * +2.2% in alternated pairs on the Zen 4 VM, docs/perf-log.md "Gated DeltaNet state prefetch"). */
DC_INLINE void dc_delta_rule_step(float *S, const float *kk, const float *qq, const float *vv,
                                  float decay, float b, float scale, float qk, int64_t dk,
                                  int64_t dv, const float *next, float *restrict o) {
  for (int64_t j0 = 0; j0 < dv; j0 += DC_DELTA_COLUMN_TILE) {
    const int64_t width = dc_min64(DC_DELTA_COLUMN_TILE, dv - j0);
    DC_VEC_ALIGNED float sk[DC_DELTA_COLUMN_TILE] = {0}, sq[DC_DELTA_COLUMN_TILE] = {0};
    DC_VEC_ALIGNED float delta[DC_DELTA_COLUMN_TILE];
    for (int64_t i = 0; i < dk; ++i)
      dc_delta_tile_dots(S + i * dv + j0, kk[i], qq[i], width, sk, sq);
    dc_delta_tile_outputs(sk, sq, vv + j0, decay, b, scale, qk, width, delta, o + j0);
    for (int64_t i = 0; i < dk; ++i) {
      dc_delta_prefetch(next ? next + i * dv + j0 : NULL, width * 4);
      dc_delta_tile_update(S + i * dv + j0, decay, kk[i], delta, width);
    }
  }
}

/* Columns an f16 row is widened in at a time: one 512-bit register of floats. */
#define DC_DELTA_F16_CHUNK 16

/* Register tiles for the f16 state: a tile's two dot products stay in vector registers, each row
 * is widened in registers as it is loaded and rounded back as it is stored. The generic step below
 * widens each row through a stack array and keeps its dot products in memory; compiled for AVX2 the
 * 0.8B's fused Gated DeltaNet with an f16 state at T = 1 took 1.6 times as long as with an f32
 * state, on half the bytes (Zen 3 VM, docs/perf-log.md "An AVX2 step for the f16 state"), and
 * compiled for AVX-512 1.15-1.28 times (Zen 4 VM, docs/perf-log.md "The Zen 4 VM again"). A full
 * tile is DC_DELTA_F16_TILE_REGS registers of DC_DELTA_F16_LANES columns: with AVX-512 8 zmm (a
 * whole Qwen3.5 row, dv = 128: the two dot products take 16 of the 32 registers), with AVX2 4 ymm
 * (32 columns, 8 of the 16). */
#if defined(__AVX512F__)
#include <immintrin.h>
#define DC_DELTA_F16_TILES 1
#define DC_DELTA_F16_TILE_REGS 8
#define DC_DELTA_F16_LANES 16
typedef __m512 dc_delta_vec;   /* DC_DELTA_F16_LANES floats */
typedef __m256i dc_delta_half; /* as many halves */
#define DC_DELTA_V(op) _mm512_##op
#define DC_DELTA_HALF_LOAD _mm256_loadu_si256
#define DC_DELTA_HALF_STORE _mm256_storeu_si256
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define DC_DELTA_F16_TILES 1
#define DC_DELTA_F16_TILE_REGS 4
#define DC_DELTA_F16_LANES 8
typedef __m256 dc_delta_vec;
typedef __m128i dc_delta_half;
#define DC_DELTA_V(op) _mm256_##op
#define DC_DELTA_HALF_LOAD _mm_loadu_si128
#define DC_DELTA_HALF_STORE _mm_storeu_si128
#else
#define DC_DELTA_F16_TILES 0
#endif

#if DC_DELTA_F16_TILES
#define DC_DELTA_F16_TILE_COLUMNS (DC_DELTA_F16_TILE_REGS * DC_DELTA_F16_LANES)

/* One register of an f16 row, widened; and one rounded back (to nearest, ties to even). */
DC_INLINE dc_delta_vec dc_delta_vec_f16(const uint16_t *row) {
  return DC_DELTA_V(cvtph_ps)(DC_DELTA_HALF_LOAD((const dc_delta_half *)(const void *)row));
}
DC_INLINE void dc_delta_vec_store_f16(uint16_t *row, dc_delta_vec v) {
  DC_DELTA_HALF_STORE((dc_delta_half *)(void *)row,
                      DC_DELTA_V(cvtps_ph)(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* dc_delta_rule_step_f16 on the `regs` x DC_DELTA_F16_LANES columns from j0 (regs a constant at
 * each call: DC_DELTA_F16_TILE_REGS, or 1 for the columns left), in registers: the same operations
 * per column in the same order as the generic tile (an FMA per row into each dot product; the
 * update decay * s fused with the product ki * delta), so the same bits. */
DC_INLINE void dc_delta_f16_tile(const int regs, uint16_t *S, const float *kk, const float *qq,
                                 const float *vv, float decay, float b, float scale, float qk,
                                 int64_t dk, int64_t dv, int64_t j0, const uint16_t *next,
                                 float *restrict o) {
  const int64_t L = DC_DELTA_F16_LANES;
  dc_delta_vec sk[DC_DELTA_F16_TILE_REGS], sq[DC_DELTA_F16_TILE_REGS];
  for (int c = 0; c < regs; ++c)
    sk[c] = sq[c] = DC_DELTA_V(setzero_ps)();
  for (int64_t i = 0; i < dk; ++i) {
    const uint16_t *row = S + i * dv + j0;
    const dc_delta_vec ki = DC_DELTA_V(set1_ps)(kk[i]), qi = DC_DELTA_V(set1_ps)(qq[i]);
    for (int c = 0; c < regs; ++c) {
      const dc_delta_vec s = dc_delta_vec_f16(row + L * c);
      sk[c] = DC_DELTA_V(fmadd_ps)(s, ki, sk[c]);
      sq[c] = DC_DELTA_V(fmadd_ps)(s, qi, sq[c]);
    }
  }
  DC_VEC_ALIGNED float dots_k[DC_DELTA_F16_TILE_COLUMNS], dots_q[DC_DELTA_F16_TILE_COLUMNS];
  DC_VEC_ALIGNED float delta[DC_DELTA_F16_TILE_COLUMNS];
  for (int c = 0; c < regs; ++c) {
    DC_DELTA_V(storeu_ps)(dots_k + L * c, sk[c]);
    DC_DELTA_V(storeu_ps)(dots_q + L * c, sq[c]);
  }
  dc_delta_tile_outputs(dots_k, dots_q, vv + j0, decay, b, scale, qk, regs * L, delta, o + j0);
  dc_delta_vec d[DC_DELTA_F16_TILE_REGS];
  for (int c = 0; c < regs; ++c)
    d[c] = DC_DELTA_V(loadu_ps)(delta + L * c);
  const dc_delta_vec dec = DC_DELTA_V(set1_ps)(decay);
  for (int64_t i = 0; i < dk; ++i) {
    uint16_t *row = S + i * dv + j0;
    dc_delta_prefetch(next ? next + i * dv + j0 : NULL, 2 * regs * L);
    const dc_delta_vec ki = DC_DELTA_V(set1_ps)(kk[i]);
    for (int c = 0; c < regs; ++c)
      dc_delta_vec_store_f16(row + L * c, DC_DELTA_V(fmadd_ps)(dec, dc_delta_vec_f16(row + L * c),
                                                               DC_DELTA_V(mul_ps)(ki, d[c])));
  }
}
#endif

/* The same step on an f16 state (`next` likewise): each row is widened to f32 as it is read, 16
 * columns at a time (one register, so the converted values need not go through memory), and the
 * updated row is rounded back to f16 (to nearest, ties to even) as it is written, so the result is
 * the f32 step's, rounded once. Each decode step reads and writes half the bytes of the f32 state.
 * With AVX2 or AVX-512 the columns go through the register tiles first (dc_delta_f16_tile, same
 * bits): whole tiles, then single registers; the generic loop takes what is left. */
DC_INLINE void dc_delta_rule_step_f16(uint16_t *S, const float *kk, const float *qq,
                                      const float *vv, float decay, float b, float scale, float qk,
                                      int64_t dk, int64_t dv, const uint16_t *next,
                                      float *restrict o) {
  int64_t j0 = 0;
#if DC_DELTA_F16_TILES
  for (; j0 + DC_DELTA_F16_TILE_COLUMNS <= dv; j0 += DC_DELTA_F16_TILE_COLUMNS)
    dc_delta_f16_tile(DC_DELTA_F16_TILE_REGS, S, kk, qq, vv, decay, b, scale, qk, dk, dv, j0, next,
                      o);
  for (; j0 + DC_DELTA_F16_LANES <= dv; j0 += DC_DELTA_F16_LANES)
    dc_delta_f16_tile(1, S, kk, qq, vv, decay, b, scale, qk, dk, dv, j0, next, o);
#endif
  for (; j0 < dv; j0 += DC_DELTA_COLUMN_TILE) {
    const int64_t width = dc_min64(DC_DELTA_COLUMN_TILE, dv - j0);
    DC_VEC_ALIGNED float sk[DC_DELTA_COLUMN_TILE] = {0}, sq[DC_DELTA_COLUMN_TILE] = {0};
    DC_VEC_ALIGNED float delta[DC_DELTA_COLUMN_TILE];
    for (int64_t i = 0; i < dk; ++i)
      for (int64_t j = 0; j < width; j += DC_DELTA_F16_CHUNK) {
        const int64_t n = dc_min64(DC_DELTA_F16_CHUNK, width - j);
        DC_VEC_ALIGNED float row[DC_DELTA_F16_CHUNK];
        dc_widen_f16_row(S + i * dv + j0 + j, n, row);
        dc_delta_tile_dots(row, kk[i], qq[i], n, sk + j, sq + j);
      }
    dc_delta_tile_outputs(sk, sq, vv + j0, decay, b, scale, qk, width, delta, o + j0);
    for (int64_t i = 0; i < dk; ++i) {
      dc_delta_prefetch(next ? next + i * dv + j0 : NULL, width * 2);
      for (int64_t j = 0; j < width; j += DC_DELTA_F16_CHUNK) {
        const int64_t n = dc_min64(DC_DELTA_F16_CHUNK, width - j);
        DC_VEC_ALIGNED float row[DC_DELTA_F16_CHUNK];
        dc_widen_f16_row(S + i * dv + j0 + j, n, row);
        dc_delta_tile_update(row, decay, kk[i], delta + j, n);
        dc_narrow_f16_row(row, n, S + i * dv + j0 + j);
      }
    }
  }
}

#endif /* DELTAC_TARGETS_PORTABLE_DELTA_RULE_STEP_H */
