/*===- linear_amx.h - the AMX path of the packed kernels (x86, T >= 16) ---===*
 *
 * Part of linear_packed.c, included once by it (after linear_spans.h, whose helpers it uses) where
 * the build has AMX-INT8 (DC_PK_AMX, kernel_internal.h: Sapphire Rapids and later). Not a header
 * of its own.
 *
 * An AMX tile multiply (tdpbssd) adds a 16 x 64-byte int8 tile A times a 16 x 64-byte tile B (16
 * rows of 4 values by 16 columns) into a 16 x 16 tile of int32 sums: 16 x 16 x 64 products per
 * instruction, against 64 per 512-bit vpdpbusd. Every block of 32 values has its own weight and
 * activation scale, so the tiles here take one block at a time (K = 32 bytes per row) and the f32
 * work per block stays on the vector units:
 *   - A: 16 tokens' codes of the block (32 bytes per token), as the chunk's tokens were quantized
 *     into a tile's 512 bytes per block;
 *   - B: 16 weight rows' codes of the block, from the panel (below): row k of the tile holds values
 *     4k .. 4k + 3 of each weight row, 4 bytes per row;
 *   - C: token t's 16 exact int32 block sums, one per weight row, as the span path's int32 lanes.
 * Both operands are signed (tdpbssd): the panel stores c = nibble - 8 or code - 128, so no
 * correction per token is left. Tiles: C 0 .. 3 (2 token tiles x 2 row tiles), A 4, 5, B 6, 7.
 * Per block the 4 products go to scratch (tilestored) and each of their 64 rows of 16 sums takes
 * one conversion, one product of scales and one FMA into its lane sums.
 *
 * The bits are the span path's (linear_spans.h): each output's sum is kept in 8 f32 lanes, block b
 * in lane b mod 8, each lane the chain fma(f32(block sum), dw dx, lane) over its blocks in order
 * from a product (mul) for the first span; the lanes of a row's last, partial span past its blocks
 * take that step with zeros, as the span's zero records give; then ((l0 + l1) + (l2 + l3)) +
 * ((l4 + l5) + (l6 + l7)) as dc_pw_hsum8, and the epilogue of dc_pk_store. So a token's outputs
 * are the same whether its call takes this path (T >= DC_PA_MIN_TOKENS) or the spans (1 < T <
 * DC_PA_MIN_TOKENS), and the runtime's token split stays free to cut anywhere (kernel_abi.h).
 *
 * Linux gives a process the AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM); the
 * first call asks, and where the kernel refuses (before Linux 5.16, or a VM without it) every call
 * takes the span path instead.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_LINEAR_AMX_H
#define DELTAC_LINEAR_AMX_H

#define DC_PA_TILE 16   /* tokens and weight rows per tile */
#define DC_PA_BTILE 512 /* bytes of one B tile (a block of 16 weight rows) */

/* Whether this process may use the AMX tiles: asked once (arch_prctl(ARCH_REQ_XCOMP_PERM,
 * XFEATURE_XTILEDATA), a raw system call, as the kernels link no library for it). The permission is
 * the process's, so threads racing here ask twice at worst. */
DC_INLINE int dc_pa_ready(void) {
#if defined(__linux__) && defined(__x86_64__)
  static int state; /* 0: not asked yet, 1: granted, -1: refused */
  int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
  if (s == 0) {
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(158L /* SYS_arch_prctl */), "D"(0x1023L /* ARCH_REQ_XCOMP_PERM */),
                       "S"(18L /* XFEATURE_XTILEDATA */)
                     : "rcx", "r11", "memory");
    s = ret == 0 ? 1 : -1;
    __atomic_store_n(&state, s, __ATOMIC_RELEASE);
  }
  return s > 0;
#else
  return 0;
#endif
}

/* The tile configuration (palette 1): C tiles 16 rows x 64 bytes, A 16 x 32, B 8 x 64. */
typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} dc_pa_config;

DC_INLINE void dc_pa_configure(void) {
  dc_pa_config c;
  __builtin_memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int i = 0; i < 4; ++i) {
    c.rows[i] = 16;
    c.colsb[i] = 64;
  }
  for (int i = 4; i < 6; ++i) {
    c.rows[i] = 16;
    c.colsb[i] = 32;
  }
  for (int i = 6; i < 8; ++i) {
    c.rows[i] = 8;
    c.colsb[i] = 64;
  }
  _tile_loadconfig(&c);
}

/*---- The panel ----*
 * A row tile's 16 weight rows as B tiles, block by block (DC_PA_BTILE bytes each: 32-bit word
 * (k, n) is values 4k .. 4k + 3 of row n, signed), then the rows' f32 scales, 16 per block. A
 * NULL row is zero (codes and scales). Words of 8 rows at a time come out of one 8 x 8 transpose
 * (dc_pw_transpose8). */

/* Signed Q4 codes from nibbles (the low ones, or the high ones shifted down). */
DC_INLINE __m256i dc_pa_nibbles(__m256i v, int high) {
  const __m256i n = _mm256_and_si256(high ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(0x0F));
  return _mm256_sub_epi8(n, _mm256_set1_epi8(8));
}

/* Q4_0_X8 rows: chunk m of a span holds in lane j values 4m .. 4m + 3 of block j (low nibbles)
 * and 16 + 4m .. 16 + 4m + 3 (high): for 8 rows, transposed, B word rows m and 4 + m of each of
 * the span's blocks. */
DC_INLINE void dc_pa_panel_x8(const uint8_t *const rp[DC_PA_TILE], int64_t K,
                              uint8_t *restrict codes, float *restrict scales) {
  const int64_t blocks = K / DC_PK_BLOCK, code_bytes = dc_pk_code_bytes(1, K);
  for (int64_t s = 0; s < dc_pw_spans(K); ++s) {
    const int g = (int)dc_min64(8, blocks - 8 * s);
    const __m256i lanes = dc_x8_lanes(g);
    for (int h = 0; h < 2; ++h) {
      for (int m = 0; m < 4; ++m) {
        __m256i lo[8], hi[8];
        for (int r = 0; r < 8; ++r) {
          const uint8_t *row = rp[8 * h + r];
          /* a NULL row as nibbles 8 (code 0) in both halves */
          const __m256i v = row ? dc_x8_chunk(row, s, g, m, lanes) : _mm256_set1_epi8((char)0x88);
          lo[r] = dc_pa_nibbles(v, 0);
          hi[r] = dc_pa_nibbles(v, 1);
        }
        dc_pw_transpose8(lo);
        dc_pw_transpose8(hi);
        for (int j = 0; j < g; ++j) {
          uint8_t *b = codes + (8 * s + j) * DC_PA_BTILE + 32 * h;
          _mm256_storeu_si256((__m256i *)(void *)(b + 64 * m), lo[j]);
          _mm256_storeu_si256((__m256i *)(void *)(b + 64 * (4 + m)), hi[j]);
        }
      }
      __m256i d[8];
      for (int r = 0; r < 8; ++r) {
        const uint8_t *row = rp[8 * h + r];
        d[r] = row ? _mm256_castps_si256(dc_x8_scales(row + code_bytes, s, g))
                   : _mm256_setzero_si256();
      }
      dc_pw_transpose8(d);
      for (int j = 0; j < g; ++j)
        _mm256_storeu_si256((__m256i *)(void *)(scales + (8 * s + j) * DC_PA_TILE + 8 * h), d[j]);
    }
  }
}

/* Q4_0_PACKED and Q8_0_PACKED rows, block by block: a block's 8 words per row (Q4: the 16 qs
 * bytes' low nibbles, then their high ones; Q8: the codes made signed), transposed for 8 rows. */
DC_INLINE void dc_pa_panel_blocks(const int q4, const uint8_t *const rp[DC_PA_TILE], int64_t K,
                                  uint8_t *restrict codes, float *restrict scales) {
  const int64_t blocks = K / DC_PK_BLOCK, code_bytes = dc_pk_code_bytes(q4, K);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int h = 0; h < 2; ++h) {
      __m256i v[8];
      for (int r = 0; r < 8; ++r) {
        const uint8_t *row = rp[8 * h + r];
        if (!row) {
          v[r] = _mm256_setzero_si256();
        } else if (q4) {
          const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(row + 16 * b));
          const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
          v[r] = dc_pa_nibbles(both, 0);
        } else {
          const __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(row + 32 * b));
          v[r] = _mm256_xor_si256(c, _mm256_set1_epi8((char)0x80));
        }
      }
      dc_pw_transpose8(v);
      for (int k = 0; k < 8; ++k)
        _mm256_storeu_si256((__m256i *)(void *)(codes + b * DC_PA_BTILE + 64 * k + 32 * h), v[k]);
    }
    for (int n = 0; n < DC_PA_TILE; ++n)
      scales[b * DC_PA_TILE + n] = rp[n] ? dc_load_f16(rp[n] + code_bytes + 2 * b) : 0.0f;
  }
}

/* The panel of the row tile of outputs n0 .. n0 + outputs - 1: those rows; with `swiglu` (8
 * outputs at most) their gate rows at 0 .. 7 and their up rows, N further on, at 8 .. 15. */
DC_INLINE void dc_pa_panel(const int q4, const int x8, const uint8_t *restrict weight, int64_t N,
                           int64_t K, int64_t n0, int64_t outputs, int swiglu,
                           uint8_t *restrict codes, float *restrict scales) {
  const int64_t row_bytes = dc_pk_row_bytes(q4, K);
  const uint8_t *rp[DC_PA_TILE];
  for (int o = 0; o < DC_PA_TILE; ++o)
    rp[o] = 0;
  for (int64_t o = 0; o < outputs; ++o) {
    rp[o] = weight + (n0 + o) * row_bytes;
    if (swiglu)
      rp[DC_PA_TILE / 2 + o] = weight + (N + n0 + o) * row_bytes;
  }
  if (x8)
    dc_pa_panel_x8(rp, K, codes, scales);
  else
    dc_pa_panel_blocks(q4, rp, K, codes, scales);
}

/*---- Tiles ----*/

/* One block's int32 sums of a token tile (A at a: 16 tokens x 32 codes) by a row tile (B at w)
 * into c (16 x 16), on tile set `odd` (C 0, A 4, B 6, or C 1, A 5, B 7: consecutive blocks
 * alternate, so that one block's products go on while the last one's are being stored). */
DC_INLINE void dc_pa_product(const int odd, const int8_t *a, const uint8_t *w, int32_t *c) {
  if (odd) {
    _tile_zero(1);
    _tile_loadd(5, a, 32);
    _tile_loadd(7, w, 64);
    _tile_dpbssd(1, 5, 7);
    _tile_stored(1, c, 64);
  } else {
    _tile_zero(0);
    _tile_loadd(4, a, 32);
    _tile_loadd(6, w, 64);
    _tile_dpbssd(0, 4, 6);
    _tile_stored(0, c, 64);
  }
}

/* The 16 x 16 outputs' sums (before the epilogue) of the token tile at `codes` (block b's codes
 * at codes + 512 b; token t's scales at dx + t blocks) by the row tile at `panel` (scales at dw),
 * into out [token][row]. The blocks go lane by lane, lane l being blocks l, l + 8, ... (the span
 * path's lane l), so that the lane's 16 x 16 f32 sums stay in 16 registers; a finished lane joins
 * the others as dc_pw_hsum8 adds them, ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), through
 * `part` (3 x 256 floats). Each block's products are issued before the vector work of the block
 * before it (c: 2 x 256 int32), so the tile unit and the vector units overlap. */
DC_INLINE void dc_pa_tile(const int8_t *restrict codes, const float *restrict dx, int64_t K,
                          const uint8_t *restrict panel, const float *restrict dw,
                          int32_t *restrict c, float *restrict part, float *restrict out) {
  const int64_t blocks = K / DC_PK_BLOCK, spans = dc_pw_spans(K);
  int odd = 0;                       /* the tile set and half of c of the block in hand */
  dc_pa_product(0, codes, panel, c); /* block 0, which every row has */
  for (int l = 0; l < 8; ++l) {
    __m512 acc[DC_PA_TILE];
    for (int64_t s = 0; s < spans; ++s) {
      const int64_t b = 8 * s + l;
      /* the next block in this order that exists (lanes past a last span's blocks have none) */
      const int64_t next = s + 1 < spans && b + 8 < blocks ? b + 8 : l + 1 < 8 ? l + 1 : blocks;
      if (b < blocks && next < blocks)
        dc_pa_product(!odd, codes + next * DC_PA_BTILE, panel + next * DC_PA_BTILE,
                      c + (!odd) * 256);
      if (b < blocks) {
        const int32_t *ck = c + odd * 256;
        const float *dxb = dx + b;
        const __m512 w = _mm512_loadu_ps(dw + b * DC_PA_TILE);
        for (int t = 0; t < DC_PA_TILE; ++t) {
          const __m512 f = _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(ck + 16 * t)));
          const __m512 scale = _mm512_mul_ps(w, _mm512_set1_ps(dxb[t * blocks]));
          acc[t] = s == 0 ? _mm512_mul_ps(f, scale) : _mm512_fmadd_ps(f, scale, acc[t]);
        }
        odd = !odd;
      } else {
        /* a block missing from the last span: the span path's zero record, fma(0, 0, lane) */
        for (int t = 0; t < DC_PA_TILE; ++t)
          acc[t] = s == 0 ? _mm512_setzero_ps() : _mm512_add_ps(acc[t], _mm512_setzero_ps());
      }
    }
    /* Lane l is complete. part 0 holds l0, then l0 + l1, then (l0 + l1) + (l2 + l3); part 1 l2,
     * then l4, then l4 + l5; part 2 l6; lane 7 completes the sum into out. */
    float *dst = l == 7 ? out : part + 256 * (l == 0 || l == 1 || l == 3 ? 0 : l == 6 ? 2 : 1);
    for (int t = 0; t < DC_PA_TILE; ++t) {
      __m512 v = acc[t];
      if (l == 1)
        v = _mm512_add_ps(_mm512_loadu_ps(part + 16 * t), v);
      else if (l == 3)
        v = _mm512_add_ps(_mm512_loadu_ps(part + 16 * t),
                          _mm512_add_ps(_mm512_loadu_ps(part + 256 + 16 * t), v));
      else if (l == 5)
        v = _mm512_add_ps(_mm512_loadu_ps(part + 256 + 16 * t), v);
      else if (l == 7)
        v = _mm512_add_ps(_mm512_loadu_ps(part + 16 * t),
                          _mm512_add_ps(_mm512_loadu_ps(part + 256 + 16 * t),
                                        _mm512_add_ps(_mm512_loadu_ps(part + 512 + 16 * t), v)));
      _mm512_storeu_ps(dst + 16 * t, v);
    }
  }
}

/* The outputs n0 .. n0 + outputs - 1 of `tokens` tokens from their sums (dc_pa_tile's `out`:
 * token t's 16 rows at sums + 16 t) through the epilogue of dc_pk_store: token t's at
 * y + at + t N. */
DC_INLINE void dc_pa_tile_out(const float *restrict sums, int64_t tokens, int64_t outputs,
                              int swiglu, const float *restrict residual, int64_t N, int64_t at,
                              float *restrict y) {
  const __mmask16 mask = (__mmask16)((1u << outputs) - 1u);
  for (int64_t t = 0; t < tokens; ++t) {
    const __m512 sum = _mm512_loadu_ps(sums + 16 * t);
    const int64_t off = at + t * N;
    if (swiglu) {
      DC_VEC_ALIGNED float p[DC_PA_TILE], act[DC_PA_TILE / 2];
      _mm512_store_ps(p, sum);
      for (int o = 0; o < DC_PA_TILE / 2; ++o)
        act[o] = dc_siluf(p[o]) * p[DC_PA_TILE / 2 + o];
      __m256 a = _mm256_load_ps(act);
      const __mmask8 m8 = (__mmask8)mask;
      if (residual)
        a = _mm256_add_ps(a, _mm256_maskz_loadu_ps(m8, residual + off));
      _mm256_mask_storeu_ps(y + off, m8, a);
    } else {
      __m512 a = sum;
      if (residual)
        a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(mask, residual + off));
      _mm512_mask_storeu_ps(y + off, mask, a);
    }
  }
}

/* Where token t's codes of block b go in a chunk: tile by tile of 16 tokens, block by block. */
DC_INLINE int8_t *dc_pa_codes(int8_t *codes, int64_t blocks, int64_t t, int64_t b) {
  return codes + ((t / DC_PA_TILE * blocks + b) * DC_PA_TILE + t % DC_PA_TILE) * DC_PK_BLOCK;
}

/* dc_pk_rows_impl on AMX tiles: per chunk of tokens their codes and scales, per group of 2 row
 * tiles the panel, then per pair of token tiles the lane sums and the outputs. */
DC_INLINE void dc_pa_rows(const int q4, const int x8, const float *restrict x, int64_t T, int64_t K,
                          const uint8_t *restrict weight, int64_t N, int32_t epilogue,
                          const float *restrict residual, int64_t n_begin, int64_t n_end,
                          void *scratch, float *restrict y) {
  const int64_t blocks = K / DC_PK_BLOCK;
  const int64_t chunk = dc_min64(T, dc_pa_chunk_tokens(K));
  const int64_t chunk_round = (chunk + 31) / 32 * 32;
  uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  int8_t *codes = (int8_t *)base;
  float *dx = (float *)(void *)(base + chunk_round * K);
  uint8_t *panel = (uint8_t *)(dx + chunk_round * blocks);
  float *dw = (float *)(void *)(panel + 2 * blocks * DC_PA_BTILE);
  float *part = dw + 2 * blocks * DC_PA_TILE, *sums = part + 3 * 256;
  int32_t *c = (int32_t *)(void *)(sums + 256);
  const int swiglu = epilogue == DC_K_EPILOGUE_SWIGLU;
  const int64_t step = swiglu ? DC_PA_TILE / 2 : DC_PA_TILE;
  dc_pa_configure();
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t tc = dc_min64(chunk, T - c0);
    const int64_t tcr = (tc + 31) / 32 * 32;
    for (int64_t t = 0; t < tcr; ++t) {
      if (t < tc) {
        for (int64_t b = 0; b < blocks; ++b)
          (void)dc_q8_quantize_block(x + (c0 + t) * K + b * DC_PK_BLOCK,
                                     dc_pa_codes(codes, blocks, t, b), dx + t * blocks + b);
      } else {
        for (int64_t b = 0; b < blocks; ++b)
          __builtin_memset(dc_pa_codes(codes, blocks, t, b), 0, DC_PK_BLOCK);
        __builtin_memset(dx + t * blocks, 0, (size_t)blocks * sizeof(float));
      }
    }
    for (int64_t g0 = n_begin; g0 < n_end; g0 += 2 * step) {
      int64_t outputs[2];
      for (int j = 0; j < 2; ++j) {
        const int64_t left = n_end - (g0 + j * step);
        outputs[j] = left <= 0 ? 0 : dc_min64(step, left);
        dc_pa_panel(q4, x8, weight, N, K, g0 + j * step, outputs[j], swiglu,
                    panel + j * blocks * DC_PA_BTILE, dw + j * blocks * DC_PA_TILE);
      }
      for (int64_t t0 = 0; t0 < tc; t0 += DC_PA_TILE) {
        const int64_t tokens = dc_min64(DC_PA_TILE, tc - t0);
        for (int j = 0; j < 2; ++j) {
          if (outputs[j] == 0)
            continue;
          dc_pa_tile(codes + t0 * K, dx + t0 * blocks, K, panel + j * blocks * DC_PA_BTILE,
                     dw + j * blocks * DC_PA_TILE, c, part, sums);
          dc_pa_tile_out(sums, tokens, outputs[j], swiglu, residual, N,
                         (c0 + t0) * N + g0 + j * step, y);
        }
      }
    }
  }
  _tile_release();
}

#endif /* DELTAC_LINEAR_AMX_H */
