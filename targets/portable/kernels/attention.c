/*===- attention.c - partial RoPE and causal GQA attention over a KV cache ===*/

#include "f16_rows.h"
#include "small_gemm.h"

#if defined(__AVX__)
#include <immintrin.h>
#endif

/*---- RoPE ------------------------------------------------------------------------------------*/

/* Frequency slots whose cos/sin are computed together and applied to every head of a token. */
#define DC_ROPE_TILE 64

void dc_k_rope_f32(const float *x, int64_t n, int64_t hd, const int32_t *positions,
                   int64_t rotary_dim, double theta, int64_t t_begin, int64_t t_end, float *y) {
  const int64_t half = rotary_dim / 2;
  const double two_pi = 6.28318530717958647692528676655900577;
  for (int64_t t = t_begin; t < t_end; ++t) {
    const float *xt = x + t * n * hd;
    float *yt = y + t * n * hd;
    if (yt != xt)
      for (int64_t head = 0; head < n; ++head)
        for (int64_t j = 2 * half; j < hd; ++j)
          yt[head * hd + j] = xt[head * hd + j];
    const double p = (double)positions[t];
    for (int64_t i0 = 0; i0 < half; i0 += DC_ROPE_TILE) {
      const int64_t width = dc_min64(DC_ROPE_TILE, half - i0);
      DC_VEC_ALIGNED float cs[DC_ROPE_TILE], sn[DC_ROPE_TILE];
      for (int64_t i = 0; i < width; ++i) {
        /* p * f_i can reach 1e5 and more: a float product would be off by ~1e-2 rad there. Form
         * it in double and reduce it into (-2 pi, 2 pi) before the float sin/cos. */
        double angle = p * dc_pow(theta, -2.0 * (double)(i0 + i) / (double)rotary_dim);
        angle -= two_pi * (double)(int64_t)(angle / two_pi);
        cs[i] = dc_cosf((float)angle);
        sn[i] = dc_sinf((float)angle);
      }
      for (int64_t head = 0; head < n; ++head) {
        const float *xh = xt + head * hd + i0;
        float *yh = yt + head * hd + i0;
        for (int64_t i = 0; i < width; ++i) {
          const float x0 = xh[i], x1 = xh[i + half];
          yh[i] = x0 * cs[i] - x1 * sn[i];
          yh[i + half] = x1 * cs[i] + x0 * sn[i];
        }
      }
    }
  }
}

/*---- Attention -------------------------------------------------------------------------------*/

/* Keys scored per step of the running-max softmax. */
#define DC_KEY_BLOCK 64

/* One kv head's visible rows of one kind (keys, of width hd, or values, of width hdv): the cache's
 * rows below `position`, this step's inputs from there on. With an f16 cache (`f16` != 0, a
 * constant at every call) kv_row reads each row as f32 into a caller's buffer: a cache row widened,
 * a step row rounded to f16 and widened back, so every visible row has the value the cache holds
 * once the step is written, and a step split into several calls sees the same rows. */
struct kv_rows {
  const void *cache; /* the kv head's [S, width] rows: float, or uint16_t with an f16 cache */
  const float *step; /* the kv head's row of the step's first token; the next is nkv rows on */
  int64_t position, width, step_stride;
};

DC_INLINE struct kv_rows kv_rows_of(const int f16, const void *cache, const float *step,
                                    int64_t kvh, int64_t S, int64_t nkv, int64_t position,
                                    int64_t width) {
  struct kv_rows r;
  r.cache = f16 ? (const void *)((const uint16_t *)cache + kvh * S * width)
                : (const void *)((const float *)cache + kvh * S * width);
  r.step = step + kvh * width;
  r.position = position;
  r.width = width;
  r.step_stride = nkv * width;
  return r;
}

/* Row j as f32: in place with an f32 cache, in `buf` (width floats) with an f16 one. */
DC_INLINE const float *kv_row(const int f16, const struct kv_rows *r, int64_t j, float *buf) {
  if (j < r->position) {
    if (!f16)
      return (const float *)r->cache + j * r->width;
    dc_widen_f16_row((const uint16_t *)r->cache + j * r->width, r->width, buf);
    return buf;
  }
  const float *row = r->step + (j - r->position) * r->step_stride;
  if (!f16)
    return row;
  dc_round_f16_row(row, r->width, buf);
  return buf;
}

/* Row j's f16 storage when it is a row of an f16 cache (below `position`), NULL otherwise: the
 * decode path widens such rows a register at a time as it uses them. */
DC_INLINE const uint16_t *kv_cache_row_f16(const int f16, const struct kv_rows *r, int64_t j) {
  return f16 && j < r->position ? (const uint16_t *)r->cache + j * r->width : NULL;
}

/* Prefetches row j's storage (cache or step row), a 64-byte line at a time. */
DC_INLINE void kv_prefetch(const int f16, const struct kv_rows *r, int64_t j) {
  const char *row;
  int64_t bytes;
  if (j < r->position) {
    const int64_t element = f16 ? 2 : 4;
    row = (const char *)r->cache + j * r->width * element;
    bytes = r->width * element;
  } else {
    row = (const char *)(r->step + (j - r->position) * r->step_stride);
    bytes = r->width * 4;
  }
  for (int64_t b = 0; b < bytes; b += 64)
    __builtin_prefetch(row + b);
}

/* Below this many new tokens a call streams the keys once per token (decode, streamed_heads);
 * from it on, query blocks share each key block (prefill, tiled_head). */
#define DC_ATTN_TILED_MIN_TOKENS 4
/* Queries and keys per block of the tiled path; see tiled_head. */
#define DC_ATTN_QUERIES 48
#define DC_ATTN_KEYS 64

/* out = o / l, times sigmoid(gate) when there is a gate: one output row of length hdv. */
DC_INLINE void finish_row(const float *o, float l, const float *gate_row, float *out_row,
                          int64_t hdv) {
  const float inv = 1.0f / l;
  if (gate_row) {
    for (int64_t d = 0; d < hdv; ++d)
      out_row[d] = o[d] * inv * dc_sigmoidf(gate_row[d]);
  } else {
    for (int64_t d = 0; d < hdv; ++d)
      out_row[d] = o[d] * inv;
  }
}

/*---- Decode: the query heads of a kv head together ----*
 * At T < DC_ATTN_TILED_MIN_TOKENS each query streams its visible keys and values in blocks of
 * DC_KEY_BLOCK with a running-max softmax. With GQA the G = nh / nkv query heads of a token share
 * one kv head, so they go together: each key row is read once for G dot products, and the values
 * go by DC_ATTN_VALUE_ROWS rows at a time, a column chunk of DC_ATTN_VALUE_CHUNK after another,
 * the G heads' accumulators of a chunk held in registers across those rows. Each value row is
 * prefetched as its key is scored: the chunked walk over several rows is not a pattern the
 * hardware prefetchers follow, and the cache comes from DRAM in decode (the weights stream through
 * the caches between two steps of a layer). Before, each head streamed the rows on its own and
 * kept its hdv-wide accumulator in memory: 0.8B shapes (8 heads, 2 kv heads, hd 256), one thread,
 * attention_decode/pos512 209 -> 151 us and pos4096 1880 -> 1190 us (docs/perf-log.md).
 *
 * Every output keeps the per-head operations in their order (the dot product's lanes as dc_dot
 * adds them, the running-max softmax, o[d] += p_j v_j[d] key by key), so grouping changes no bit:
 * a head's output is the same whatever heads share its call. */

/* Query heads per group (a longer run of heads on one kv head goes in several groups). */
#define DC_ATTN_GROUP_MAX 8
#if defined(__AVX512F__)
#define DC_ATTN_VALUE_CHUNK 32
#else
#define DC_ATTN_VALUE_CHUNK 16
#endif
#ifndef DC_ATTN_VALUE_ROWS
#define DC_ATTN_VALUE_ROWS 8
#endif

/* The work arrays, carved from the caller's scratch. The decode path uses the row buffers only
 * (with an f16 cache); the tiled path uses all of them. */
struct attention_scratch {
  float *key_row;    /* [hd] one key row as f32 (kv_row's buffer) */
  float *key_rows;   /* [DC_ATTN_KEYS, hd] the key block's rows as f32, when not read in place */
  float *value_rows; /* [DC_ATTN_VALUE_ROWS, hdv] value rows as f32 */
  float *keys_t;     /* [hd, DC_ATTN_KEYS]  the key block, transposed */
  float *values;     /* [DC_ATTN_KEYS, hdv] the value block */
  float *scores;     /* [DC_ATTN_QUERIES, DC_ATTN_KEYS] scores, then probabilities */
  float *o;          /* [DC_ATTN_QUERIES, hdv] unnormalized outputs */
  float *m, *l;      /* [DC_ATTN_QUERIES] running max and denominator per query */
};

/* Carves the arrays from scratch (or, with scratch NULL, only counts them: *bytes). */
DC_INLINE struct attention_scratch carve_scratch(void *scratch, int64_t hd, int64_t hdv,
                                                 int64_t *bytes) {
  struct dc_carver c = {(float *)scratch, 0};
  struct attention_scratch s;
  s.key_row = dc_carve(&c, hd);
  s.key_rows = dc_carve(&c, DC_ATTN_KEYS * hd);
  s.value_rows = dc_carve(&c, DC_ATTN_VALUE_ROWS * hdv);
  s.keys_t = dc_carve(&c, hd * DC_ATTN_KEYS);
  s.values = dc_carve(&c, DC_ATTN_KEYS * hdv);
  s.scores = dc_carve(&c, DC_ATTN_QUERIES * DC_ATTN_KEYS);
  s.o = dc_carve(&c, DC_ATTN_QUERIES * hdv);
  s.m = dc_carve(&c, DC_ATTN_QUERIES);
  s.l = dc_carve(&c, DC_ATTN_QUERIES);
  *bytes = 4 * c.floats;
  return s;
}

int64_t dc_k_attention_f32_scratch_bytes(int64_t hd, int64_t hdv) {
  int64_t bytes;
  carve_scratch(NULL, hd, hdv, &bytes);
  return bytes;
}

/* AVX2 hosts without AVX-512: the decode's key dot products and value sums in registers (key_chunks,
 * value_chunks). */
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && !defined(__AVX512F__)
#define DC_ATTN_AVX2_KEYS 1
#else
#define DC_ATTN_AVX2_KEYS 0
#endif
/* AVX-512 hosts: the key dot products of f16 rows in registers (key_chunks); f32 rows keep the C
 * loop, which was faster there (docs/perf-log.md, "The Zen 4 VM again"). */
#if defined(__AVX512F__)
#define DC_ATTN_AVX512_F16_KEYS 1
#else
#define DC_ATTN_AVX512_F16_KEYS 0
#endif

/* The G heads' dot products with one key row over its whole chunks of DC_LANES columns, into
 * acc[g] (zero on entry), the row given as f16 (kh) or f32 (kr, when kh is NULL); returns the first
 * column left for the caller's tail. Lane i of head g sums q[d] k[d] over d = i (mod DC_LANES) in
 * increasing d, one fma each: the operations of the C loop in streamed_group, in the same order, so
 * the bits are the same. On AVX2 the loop keeps the 16 lanes of each head in two ymm registers and
 * widens the f16 row a register at a time; the C loop, compiled for AVX2, widened through a stack
 * array and ran at about 0.65 FMA a cycle (Zen 3 VM, docs/perf-log.md). On AVX-512 it does f16 rows
 * alone, one zmm per head: the C loop stored each widened chunk to the stack and reloaded part of
 * it, which made its time depend on where the thread's stack lay (docs/perf-log.md, "The worker's
 * stack"). Elsewhere it returns 0 and the C loop does every column. */
DC_INLINE int64_t key_chunks(const int G, const float *restrict qg, int64_t hd,
                             const uint16_t *restrict kh, const float *restrict kr,
                             float acc[][DC_LANES]) {
#if DC_ATTN_AVX2_KEYS
  _Static_assert(DC_LANES == 16, "two ymm registers per head");
  __m256 lo[DC_ATTN_GROUP_MAX], hi[DC_ATTN_GROUP_MAX];
  for (int g = 0; g < G; ++g)
    lo[g] = hi[g] = _mm256_setzero_ps();
  int64_t d = 0;
#define DC_ATTN_KEY_STEP(k0, k1)                                                                   \
  for (int g = 0; g < G; ++g) {                                                                    \
    lo[g] = _mm256_fmadd_ps(_mm256_loadu_ps(qg + g * hd + d), k0, lo[g]);                          \
    hi[g] = _mm256_fmadd_ps(_mm256_loadu_ps(qg + g * hd + d + 8), k1, hi[g]);                      \
  }
  if (kh) {
    for (; d + DC_LANES <= hd; d += DC_LANES) {
      const __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(kh + d)));
      const __m256 k1 =
          _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(kh + d + 8)));
      DC_ATTN_KEY_STEP(k0, k1)
    }
  } else {
    for (; d + DC_LANES <= hd; d += DC_LANES) {
      const __m256 k0 = _mm256_loadu_ps(kr + d), k1 = _mm256_loadu_ps(kr + d + 8);
      DC_ATTN_KEY_STEP(k0, k1)
    }
  }
#undef DC_ATTN_KEY_STEP
  for (int g = 0; g < G; ++g) {
    _mm256_storeu_ps(acc[g], lo[g]);
    _mm256_storeu_ps(acc[g] + 8, hi[g]);
  }
  return d;
#elif DC_ATTN_AVX512_F16_KEYS
  _Static_assert(DC_LANES == 16, "one zmm register per head");
  (void)kr;
  if (!kh)
    return 0;
  __m512 lanes[DC_ATTN_GROUP_MAX];
  for (int g = 0; g < G; ++g)
    lanes[g] = _mm512_setzero_ps();
  int64_t d = 0;
  for (; d + DC_LANES <= hd; d += DC_LANES) {
    const __m512 kd = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(kh + d)));
    for (int g = 0; g < G; ++g)
      lanes[g] = _mm512_fmadd_ps(_mm512_loadu_ps(qg + g * hd + d), kd, lanes[g]);
  }
  for (int g = 0; g < G; ++g)
    _mm512_storeu_ps(acc[g], lanes[g]);
  return d;
#else
  (void)G, (void)qg, (void)hd, (void)kh, (void)kr, (void)acc;
  return 0;
#endif
}

/* acc[g][i] += p[g][u] row[i] for the G heads' chunk of DC_ATTN_VALUE_CHUNK columns. */
DC_INLINE void value_chunk_fma(const int G, float acc[][DC_ATTN_VALUE_CHUNK],
                               const float p[][DC_KEY_BLOCK], int64_t u, const float *row) {
  for (int g = 0; g < G; ++g) {
    const float pu = p[g][u];
    for (int i = 0; i < DC_ATTN_VALUE_CHUNK; ++i)
      acc[g][i] += pu * row[i];
  }
}

/* The G heads' output accumulators o (G rows of hdv) += p[g][u0 + u] v_u over the rows v_u, u <
 * rows, of keys j .. j + rows - 1, over the whole chunks of DC_ATTN_VALUE_CHUNK columns; returns the
 * first column left for the caller's loops. value_buf: the step's own rows rounded to f16 and
 * widened (row u at u hdv), with an f16 cache. Each column adds its rows' products in order, one
 * fma each, as value_chunk_fma does: the bits are the same. On AVX2 the chunk's accumulators stay in
 * two ymm registers per head and each f16 row is widened a register at a time (the C loop widened
 * through a stack array and loaded the products' operands from it); elsewhere it returns 0. */
DC_INLINE int64_t value_chunks(const int G, const int f16, const struct kv_rows *values, int64_t j,
                               int64_t rows, const float *value_buf,
                               const float p[][DC_KEY_BLOCK], int64_t u0, int64_t hdv,
                               float *restrict o) {
#if DC_ATTN_AVX2_KEYS
  _Static_assert(DC_ATTN_VALUE_CHUNK == 16, "two ymm registers per head");
  const uint16_t *vh[DC_ATTN_VALUE_ROWS];
  const float *vf[DC_ATTN_VALUE_ROWS];
  for (int64_t u = 0; u < rows; ++u) {
    vh[u] = kv_cache_row_f16(f16, values, j + u);
    vf[u] = vh[u] ? NULL : f16 ? value_buf + u * hdv : kv_row(0, values, j + u, NULL);
  }
  int64_t d0 = 0;
  for (; d0 + DC_ATTN_VALUE_CHUNK <= hdv; d0 += DC_ATTN_VALUE_CHUNK) {
    __m256 lo[DC_ATTN_GROUP_MAX], hi[DC_ATTN_GROUP_MAX];
    for (int g = 0; g < G; ++g) {
      lo[g] = _mm256_loadu_ps(o + g * hdv + d0);
      hi[g] = _mm256_loadu_ps(o + g * hdv + d0 + 8);
    }
    for (int64_t u = 0; u < rows; ++u) {
      __m256 v0, v1;
      if (vh[u]) {
        v0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(vh[u] + d0)));
        v1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(vh[u] + d0 + 8)));
      } else {
        v0 = _mm256_loadu_ps(vf[u] + d0);
        v1 = _mm256_loadu_ps(vf[u] + d0 + 8);
      }
      for (int g = 0; g < G; ++g) {
        const __m256 pu = _mm256_broadcast_ss(&p[g][u0 + u]);
        lo[g] = _mm256_fmadd_ps(pu, v0, lo[g]);
        hi[g] = _mm256_fmadd_ps(pu, v1, hi[g]);
      }
    }
    for (int g = 0; g < G; ++g) {
      _mm256_storeu_ps(o + g * hdv + d0, lo[g]);
      _mm256_storeu_ps(o + g * hdv + d0 + 8, hi[g]);
    }
  }
  return d0;
#else
  (void)G, (void)f16, (void)values, (void)j, (void)rows, (void)value_buf, (void)p, (void)u0,
      (void)hdv, (void)o;
  return 0;
#endif
}

/* Query heads h0 .. h0 + G - 1 (one kv head) of token t. The callers pass G and f16 as constants
 * where they can, so that the compiler unrolls the loops over heads and keeps the tiles in
 * registers. `s` is used only with an f16 cache (and may be NULL otherwise). */
DC_INLINE void streamed_group(const int G, const int f16, const float *q, const float *gate,
                              int64_t nh, int64_t hd, int64_t hdv, float scale,
                              const struct kv_rows *keys, const struct kv_rows *values, int64_t t,
                              int64_t h0, const struct attention_scratch *s, float *restrict out) {
  const float *qg = q + (t * nh + h0) * hd; /* G rows of hd */
  float *o = out + (t * nh + h0) * hdv;     /* G rows of hdv: the accumulators */
  const int64_t visible = keys->position + t + 1;
  float *key_buf = f16 ? s->key_row : NULL, *value_buf = f16 ? s->value_rows : NULL;
  for (int64_t e = 0; e < G * hdv; ++e)
    o[e] = 0.0f;
  DC_VEC_ALIGNED float m[DC_ATTN_GROUP_MAX] = {0}, l[DC_ATTN_GROUP_MAX] = {0};
  for (int64_t j0 = 0; j0 < visible; j0 += DC_KEY_BLOCK) {
    const int64_t count = dc_min64(DC_KEY_BLOCK, visible - j0);
    DC_VEC_ALIGNED float p[DC_ATTN_GROUP_MAX][DC_KEY_BLOCK];
    for (int64_t jj = 0; jj < count; ++jj) {
      /* The value pass below walks DC_ATTN_VALUE_ROWS rows a column chunk at a time, which the
       * hardware prefetchers do not follow: fetch each row as its key is scored. */
      kv_prefetch(f16, values, j0 + jj);
      DC_VEC_ALIGNED float acc[DC_ATTN_GROUP_MAX][DC_LANES] = {{0}};
      const uint16_t *kh = kv_cache_row_f16(f16, keys, j0 + jj);
      const float *kr = kh ? NULL : kv_row(f16, keys, j0 + jj, key_buf);
      int64_t d = key_chunks(G, qg, hd, kh, kr, acc);
      if (kh) {
        /* An f16 cache row, widened a register at a time (the same values, products and order as
         * the row widened whole: the bits do not change). */
        DC_VEC_ALIGNED float kd[DC_LANES];
        for (; d + DC_LANES <= hd; d += DC_LANES) {
          dc_widen_f16_row(kh + d, DC_LANES, kd);
          for (int g = 0; g < G; ++g)
            for (int i = 0; i < DC_LANES; ++i)
              acc[g][i] += qg[g * hd + d + i] * kd[i];
        }
        dc_widen_f16_row(kh + d, hd - d, kd);
        for (int g = 0; g < G; ++g)
          for (int i = 0; d + i < hd; ++i)
            acc[g][i] += qg[g * hd + d + i] * kd[i];
      } else {
        for (; d + DC_LANES <= hd; d += DC_LANES)
          for (int g = 0; g < G; ++g)
            for (int i = 0; i < DC_LANES; ++i)
              acc[g][i] += qg[g * hd + d + i] * kr[d + i];
        for (int g = 0; g < G; ++g)
          for (int i = 0; d + i < hd; ++i)
            acc[g][i] += qg[g * hd + d + i] * kr[d + i];
      }
      for (int g = 0; g < G; ++g)
        p[g][jj] = scale * dc_reduce_lanes(acc[g], DC_LANES);
    }
    for (int g = 0; g < G; ++g) {
      float block_max = p[g][0];
      for (int64_t jj = 1; jj < count; ++jj)
        block_max = p[g][jj] > block_max ? p[g][jj] : block_max;
      const float m_new = j0 == 0 || block_max > m[g] ? block_max : m[g];
      if (j0 > 0 && m_new != m[g]) {
        const float correction = dc_expf(m[g] - m_new); /* m < m_new: a non-positive exponent */
        l[g] *= correction;
        for (int64_t d = 0; d < hdv; ++d)
          o[g * hdv + d] *= correction;
      }
      m[g] = m_new;
      /* The branch-free exponential, so the block's exponentials vectorize (libm's expf, one call
       * per key and head, was about a quarter of the kernel after 4096 tokens). */
      for (int64_t jj = 0; jj < count; ++jj)
        p[g][jj] = dc_expf_vec(p[g][jj] - m_new);
      for (int64_t jj = 0; jj < count; ++jj)
        l[g] += p[g][jj];
    }
    for (int64_t u0 = 0; u0 < count; u0 += DC_ATTN_VALUE_ROWS) {
      const int64_t rows = dc_min64(DC_ATTN_VALUE_ROWS, count - u0);
      /* f32 rows are read in place, an f16 cache's rows widened a chunk at a time as they are
       * used; the step's own rows with an f16 cache are rounded first, into value_buf (row u at
       * u * hdv). (An array of the rows' pointers kept the f32 chunk loop from being vectorized:
       * 130 -> 425 us at attention_decode/pos512.) */
      if (f16)
        for (int64_t u = 0; u < rows; ++u)
          if (!kv_cache_row_f16(f16, values, j0 + u0 + u))
            kv_row(f16, values, j0 + u0 + u, value_buf + u * hdv);
#define DC_ATTN_VALUE_ROW(u) (f16 ? value_buf + (u)*hdv : kv_row(f16, values, j0 + u0 + (u), NULL))
      int64_t d0 = value_chunks(G, f16, values, j0 + u0, rows, value_buf, p, u0, hdv, o);
      for (; d0 + DC_ATTN_VALUE_CHUNK <= hdv; d0 += DC_ATTN_VALUE_CHUNK) {
        DC_VEC_ALIGNED float acc[DC_ATTN_GROUP_MAX][DC_ATTN_VALUE_CHUNK];
        for (int g = 0; g < G; ++g)
          for (int i = 0; i < DC_ATTN_VALUE_CHUNK; ++i)
            acc[g][i] = o[g * hdv + d0 + i];
        for (int64_t u = 0; u < rows; ++u) {
          const uint16_t *vh = kv_cache_row_f16(f16, values, j0 + u0 + u);
          if (vh) {
            DC_VEC_ALIGNED float widened[DC_ATTN_VALUE_CHUNK];
            dc_widen_f16_row(vh + d0, DC_ATTN_VALUE_CHUNK, widened);
            value_chunk_fma(G, acc, p, u0 + u, widened);
          } else {
            value_chunk_fma(G, acc, p, u0 + u, DC_ATTN_VALUE_ROW(u) + d0);
          }
        }
        for (int g = 0; g < G; ++g)
          for (int i = 0; i < DC_ATTN_VALUE_CHUNK; ++i)
            o[g * hdv + d0 + i] = acc[g][i];
      }
      for (int64_t u = 0; d0 < hdv && u < rows; ++u) {
        const uint16_t *vh = kv_cache_row_f16(f16, values, j0 + u0 + u);
        DC_VEC_ALIGNED float widened[DC_ATTN_VALUE_CHUNK];
        if (vh)
          dc_widen_f16_row(vh + d0, hdv - d0, widened);
        const float *row = vh ? widened - d0 : DC_ATTN_VALUE_ROW(u);
        for (int g = 0; g < G; ++g)
          for (int64_t d = d0; d < hdv; ++d)
            o[g * hdv + d] += p[g][u0 + u] * row[d];
      }
    }
  }
#undef DC_ATTN_VALUE_ROW
  for (int g = 0; g < G; ++g)
    finish_row(o + g * hdv, l[g], gate ? gate + (t * nh + h0 + g) * hdv : NULL, o + g * hdv, hdv);
}

/* Query heads head_begin .. head_end - 1 at T < DC_ATTN_TILED_MIN_TOKENS: per token, each run of
 * heads on one kv head in groups of up to DC_ATTN_GROUP_MAX (streamed_group). */
DC_INLINE void streamed_heads(const int f16, const float *q, const float *k, const float *v,
                              const float *gate, int64_t T, int64_t nh, int64_t nkv, int64_t hd,
                              int64_t hdv, float scale, const void *key_cache,
                              const void *value_cache, int64_t S, int64_t position,
                              int64_t head_begin, int64_t head_end,
                              const struct attention_scratch *s, float *restrict out) {
  const int64_t group = nh / nkv;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h0 = head_begin; h0 < head_end;) {
      const int64_t kvh = h0 / group;
      const int64_t run_end = dc_min64(head_end, (kvh + 1) * group);
      const int G = (int)dc_min64(DC_ATTN_GROUP_MAX, run_end - h0);
      const struct kv_rows keys = kv_rows_of(f16, key_cache, k, kvh, S, nkv, position, hd);
      const struct kv_rows values = kv_rows_of(f16, value_cache, v, kvh, S, nkv, position, hdv);
      if (G == 4)
        streamed_group(4, f16, q, gate, nh, hd, hdv, scale, &keys, &values, t, h0, s, out);
      else if (G == 8)
        streamed_group(8, f16, q, gate, nh, hd, hdv, scale, &keys, &values, t, h0, s, out);
      else if (G == 2)
        streamed_group(2, f16, q, gate, nh, hd, hdv, scale, &keys, &values, t, h0, s, out);
      else
        streamed_group(G, f16, q, gate, nh, hd, hdv, scale, &keys, &values, t, h0, s, out);
      h0 += G;
    }
}

#if defined(__AVX__)
/* dst[c * ld + j] = rows[j][d0 + c] for j, c < 8: an 8 x 8 block transposed in registers. */
DC_INLINE void transpose8x8(const float *const *rows, int64_t d0, float *dst, int64_t ld) {
  __m256 r[8], t[8], u[8];
  for (int j = 0; j < 8; ++j)
    r[j] = _mm256_loadu_ps(rows[j] + d0);
  for (int j = 0; j < 8; j += 2) { /* pairs of rows interleaved, per 128-bit half */
    t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
    t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
  for (int j = 0; j < 8; j += 4) { /* four rows' elements c and c + 4 together, c < 4 */
    u[j] = _mm256_shuffle_ps(t[j], t[j + 2], 0x44);
    u[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], 0xEE);
    u[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], 0x44);
    u[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) { /* rows 0-3 and 4-7 of columns c and c + 4 */
    _mm256_storeu_ps(dst + c * ld, _mm256_permute2f128_ps(u[c], u[c + 4], 0x20));
    _mm256_storeu_ps(dst + (c + 4) * ld, _mm256_permute2f128_ps(u[c], u[c + 4], 0x31));
  }
}
#endif

/* One query head, DC_ATTN_QUERIES queries at a time (FlashAttention's loop order). For each block
 * of DC_ATTN_KEYS keys the block's keys (transposed) and values are copied once into scratch (as
 * f32, widened from an f16 cache) and serve every query of the block through two register-tiled
 * products (small_gemm.h): scores = scale Q K^T, then o += P V after the running-max softmax. The
 * copies cost 1 / (2 x DC_ATTN_QUERIES) of the products' arithmetic; streaming, each query read
 * every key and value from cache and kept its hdv-wide accumulator in memory.
 *
 * Causality: query r of the block sees keys up to position + t0 + r. Key blocks past the block's
 * first query are partly masked; a masked score gets probability 0 and takes no part in the max.
 * Every query sees key 0, so the first key block leaves every row with a finite max. */
DC_INLINE void tiled_head(const int f16, const float *q, const float *gate, int64_t T, int64_t nh,
                          int64_t hd, int64_t hdv, float scale, const struct kv_rows *keys,
                          const struct kv_rows *values, int64_t h,
                          const struct attention_scratch *s, float *restrict out) {
  const int64_t position = keys->position;
  for (int64_t t0 = 0; t0 < T; t0 += DC_ATTN_QUERIES) {
    const int64_t rows = dc_min64(DC_ATTN_QUERIES, T - t0);
    const int64_t visible = position + t0 + rows; /* keys the block's last query sees */
    for (int64_t r = 0; r < rows; ++r) {
      s->m[r] = -__builtin_inff();
      s->l[r] = 0.0f;
    }
    for (int64_t e = 0; e < rows * hdv; ++e)
      s->o[e] = 0.0f;

    for (int64_t j0 = 0; j0 < visible; j0 += DC_ATTN_KEYS) {
      const int64_t count = dc_min64(DC_ATTN_KEYS, visible - j0);
      /* The key rows (in place, or widened into key_rows with an f16 cache), transposed 8 keys by
       * 8 columns at a time in registers where there is AVX. (Transposing row by row, a strided
       * store per element, compiled to scatters, about a quarter of the kernel; 8 keys at a time
       * in plain C, to gathers.) */
      const float *key_row[DC_ATTN_KEYS];
      for (int64_t jj = 0; jj < count; ++jj)
        key_row[jj] = kv_row(f16, keys, j0 + jj, s->key_rows + jj * hd);
      for (int64_t jb = 0; jb < count; jb += 8) {
        float *dst = s->keys_t + jb;
        int64_t d = 0;
#if defined(__AVX__)
        if (jb + 8 <= count)
          for (; d + 8 <= hd; d += 8)
            transpose8x8(key_row + jb, d, dst + d * DC_ATTN_KEYS, DC_ATTN_KEYS);
#endif
        for (; d < hd; ++d)
          for (int64_t j = 0; j < 8 && jb + j < count; ++j)
            dst[d * DC_ATTN_KEYS + j] = key_row[jb + j][d];
      }
      for (int64_t jj = 0; jj < count; ++jj) {
        /* With an f16 cache kv_row widens the row where it is wanted. */
        float *block_row = s->values + jj * hdv;
        const float *vr = kv_row(f16, values, j0 + jj, block_row);
        if (vr != block_row)
          for (int64_t d = 0; d < hdv; ++d)
            block_row[d] = vr[d];
      }
      /* The scores' columns in whole register tiles (a partial tile takes dc_gemm_tile's slow
       * variable-width loop): the keys past `count` are zeros, and their scores are never read. */
      const int64_t columns =
          dc_min64(DC_ATTN_KEYS, (count + DC_GEMM_COLS - 1) / DC_GEMM_COLS * DC_GEMM_COLS);
      for (int64_t d = 0; d < hd; ++d)
        for (int64_t jj = count; jj < columns; ++jj)
          s->keys_t[d * DC_ATTN_KEYS + jj] = 0.0f;
      for (int64_t e = 0; e < rows * DC_ATTN_KEYS; ++e)
        s->scores[e] = 0.0f;
      dc_gemm_acc(rows, columns, hd, scale, q + (t0 * nh + h) * hd, nh * hd, 1, s->keys_t,
                  DC_ATTN_KEYS, s->scores, DC_ATTN_KEYS);

      for (int64_t r = 0; r < rows; ++r) {
        float *p = s->scores + r * DC_ATTN_KEYS;
        /* Keys j0 .. j0 + seen - 1 are visible to query r. */
        const int64_t seen = dc_min64(count, position + t0 + r + 1 - j0);
        if (seen <= 0) {
          for (int64_t jj = 0; jj < count; ++jj)
            p[jj] = 0.0f;
          continue;
        }
        float block_max = p[0];
        for (int64_t jj = 1; jj < seen; ++jj)
          block_max = p[jj] > block_max ? p[jj] : block_max;
        const float m_old = s->m[r], m_new = block_max > m_old ? block_max : m_old;
        if (m_new != m_old && m_old != -__builtin_inff()) {
          const float correction = dc_expf(m_old - m_new); /* a non-positive exponent */
          s->l[r] *= correction;
          for (int64_t d = 0; d < hdv; ++d)
            s->o[r * hdv + d] *= correction;
        }
        s->m[r] = m_new;
        /* The exponentials in a loop of their own, which vectorizes, and their sum in DC_LANES
         * lanes (a fixed order; one running sum was a chain of dependent adds). */
        for (int64_t jj = 0; jj < seen; ++jj)
          p[jj] = dc_expf_vec(p[jj] - m_new);
        DC_VEC_ALIGNED float lanes[DC_LANES] = {0};
        int64_t jj = 0;
        for (; jj + DC_LANES <= seen; jj += DC_LANES)
          for (int i = 0; i < DC_LANES; ++i)
            lanes[i] += p[jj + i];
        float sum = dc_reduce_lanes(lanes, DC_LANES);
        for (; jj < seen; ++jj)
          sum += p[jj];
        for (int64_t jj = seen; jj < count; ++jj)
          p[jj] = 0.0f;
        s->l[r] += sum;
      }
      dc_gemm_acc(rows, hdv, count, 1.0f, s->scores, DC_ATTN_KEYS, 1, s->values, hdv, s->o, hdv);
    }

    for (int64_t r = 0; r < rows; ++r) {
      const int64_t t = t0 + r;
      finish_row(s->o + r * hdv, s->l[r], gate ? gate + (t * nh + h) * hdv : NULL,
                 out + (t * nh + h) * hdv, hdv);
    }
  }
}

/* Both entry points: the caches are float (f16 == 0) or uint16_t f16 storage (f16 == 1). */
DC_INLINE void attention(const int f16, const float *q, const float *k, const float *v,
                         const float *gate, int64_t T, int64_t nh, int64_t nkv, int64_t hd,
                         int64_t hdv, float scale, void *key_cache, void *value_cache, int64_t S,
                         int64_t position, int64_t head_begin, int64_t head_end, void *scratch,
                         float *restrict out) {
  const int64_t group = nh / nkv;

  /* Append this step's keys and values for the kv heads this call owns. */
  for (int64_t h = head_begin; h < head_end; ++h) {
    if (h % group != 0)
      continue;
    const int64_t kvh = h / group;
    for (int64_t t = 0; t < T; ++t) {
      const float *ks = k + (t * nkv + kvh) * hd, *vs = v + (t * nkv + kvh) * hdv;
      const int64_t key_at = (kvh * S + position + t) * hd;
      const int64_t value_at = (kvh * S + position + t) * hdv;
      if (f16) {
        dc_narrow_f16_row(ks, hd, (uint16_t *)key_cache + key_at);
        dc_narrow_f16_row(vs, hdv, (uint16_t *)value_cache + value_at);
      } else {
        for (int64_t d = 0; d < hd; ++d)
          ((float *)key_cache)[key_at + d] = ks[d];
        for (int64_t d = 0; d < hdv; ++d)
          ((float *)value_cache)[value_at + d] = vs[d];
      }
    }
  }

  /* The f32 decode path reads rows in place and needs no scratch (which may then be NULL). */
  int64_t bytes;
  const int tiled = T >= DC_ATTN_TILED_MIN_TOKENS;
  const struct attention_scratch s =
      f16 || tiled ? carve_scratch(scratch, hd, hdv, &bytes) : (struct attention_scratch){0};
  if (!tiled) {
    streamed_heads(f16, q, k, v, gate, T, nh, nkv, hd, hdv, scale, key_cache, value_cache, S,
                   position, head_begin, head_end, &s, out);
    return;
  }
  for (int64_t h = head_begin; h < head_end; ++h) {
    const int64_t kvh = h / group;
    const struct kv_rows keys = kv_rows_of(f16, key_cache, k, kvh, S, nkv, position, hd);
    const struct kv_rows values = kv_rows_of(f16, value_cache, v, kvh, S, nkv, position, hdv);
    tiled_head(f16, q, gate, T, nh, hd, hdv, scale, &keys, &values, h, &s, out);
  }
}

void dc_k_attention_f32(const float *q, const float *k, const float *v, const float *gate,
                        int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv, float scale,
                        float *key_cache, float *value_cache, int64_t S, int64_t position,
                        int64_t head_begin, int64_t head_end, void *scratch, float *restrict out) {
  attention(0, q, k, v, gate, T, nh, nkv, hd, hdv, scale, key_cache, value_cache, S, position,
            head_begin, head_end, scratch, out);
}

void dc_k_attention_f32_cache_f16(const float *q, const float *k, const float *v, const float *gate,
                                  int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv,
                                  float scale, uint16_t *key_cache, uint16_t *value_cache,
                                  int64_t S, int64_t position, int64_t head_begin, int64_t head_end,
                                  void *scratch, float *restrict out) {
  attention(1, q, k, v, gate, T, nh, nkv, hd, hdv, scale, key_cache, value_cache, S, position,
            head_begin, head_end, scratch, out);
}
