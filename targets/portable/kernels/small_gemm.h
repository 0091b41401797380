/*===- small_gemm.h - register-tiled f32 products of small matrices -------===*
 *
 * Private to targets/portable/kernels/. The chunked delta rule's products (64 x 128 by 128 x 128
 *and the like) and attention's score and value products over blocks of queries and keys. Static
 *functions: each kernel file that includes this gets its own copy, inlined into its callers.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TARGETS_PORTABLE_SMALL_GEMM_H
#define DELTAC_TARGETS_PORTABLE_SMALL_GEMM_H

#include "kernel_internal.h"

/* C[i, j] += alpha sum_p A(i, p) B[p, j] (i < m, j < cols, p < kdim),
 * with A(i, p) = a[i a_rs + p a_cs] (so a transposed A is a stride swap), B and C row-major with
 * rows ldb and ldc floats apart. Tiles of DC_GEMM_ROWS rows by DC_GEMM_COLS columns keep their
 * accumulators in registers across the whole p loop, so each B row is loaded once per tile rather
 * than once per output row, and C is read and written once instead of once per p.
 *
 * The tile is sized to the register file: the accumulators take rows x cols / lanes registers, and
 * one B row (cols / lanes) plus a broadcast of A must fit beside them.
 *   AVX-512, 32 zmm: 4 x 64 = 16 accumulators, 4 B registers.
 *   AVX2, 16 ymm:    6 x 16 = 12 accumulators, 2 B registers, 1 broadcast. (A 4 x 32 tile needs 16
 *                    accumulators alone and spilled: 21 GFLOP/s against 50+ for 6 x 16.)
 *   NEON, 32 q:      4 x 16 = 16 accumulators, 4 B registers. */
#if defined(__AVX512F__)
#define DC_GEMM_ROWS 4
#define DC_GEMM_COLS 64
#elif defined(__AVX2__)
#define DC_GEMM_ROWS 6
#define DC_GEMM_COLS 16
#else
#define DC_GEMM_ROWS 4
#define DC_GEMM_COLS 16
#endif

DC_INLINE void dc_gemm_tile(int64_t rows, int64_t cols, int64_t kdim, float alpha, const float *a,
                            int64_t a_rs, int64_t a_cs, const float *b, int64_t ldb, float *c,
                            int64_t ldc) {
  /* alpha scales the finished sums, not every A element: a multiply per A element would share the
   * FMA ports with the FMAs themselves. */
  float acc[DC_GEMM_ROWS][DC_GEMM_COLS];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      acc[r][j] = 0.0f;
  for (int64_t p = 0; p < kdim; ++p) {
    const float *bp = b + p * ldb;
    for (int64_t r = 0; r < rows; ++r) {
      const float ar = a[r * a_rs + p * a_cs];
      for (int64_t j = 0; j < cols; ++j)
        acc[r][j] += ar * bp[j];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] += alpha * acc[r][j];
}

/* A full-width tile with `rows` <= DC_GEMM_ROWS rows. Each row count gets its own copy with
 * constant bounds, so every one is fully unrolled with its accumulators in registers (a variable
 * row count kept them in memory). */
#define DC_GEMM_ROW_CASE(R)                                                                        \
  case R:                                                                                          \
    dc_gemm_tile(R, DC_GEMM_COLS, kdim, alpha, a, a_rs, a_cs, b, ldb, c, ldc);                     \
    return;
static void dc_gemm_full_width(int64_t rows, int64_t kdim, float alpha, const float *a,
                               int64_t a_rs, int64_t a_cs, const float *b, int64_t ldb, float *c,
                               int64_t ldc) {
  switch (rows) {
    DC_GEMM_ROW_CASE(1)
    DC_GEMM_ROW_CASE(2)
    DC_GEMM_ROW_CASE(3)
    DC_GEMM_ROW_CASE(4)
#if DC_GEMM_ROWS > 4
    DC_GEMM_ROW_CASE(5)
    DC_GEMM_ROW_CASE(6)
#endif
  default:
    dc_gemm_tile(rows, DC_GEMM_COLS, kdim, alpha, a, a_rs, a_cs, b, ldb, c, ldc);
  }
}
#undef DC_GEMM_ROW_CASE

static void dc_gemm_acc(int64_t m, int64_t ncols, int64_t kdim, float alpha, const float *a,
                        int64_t a_rs, int64_t a_cs, const float *b, int64_t ldb, float *c,
                        int64_t ldc) {
  for (int64_t i0 = 0; i0 < m; i0 += DC_GEMM_ROWS)
    for (int64_t j0 = 0; j0 < ncols; j0 += DC_GEMM_COLS) {
      const int64_t rows = dc_min64(DC_GEMM_ROWS, m - i0),
                    cols = dc_min64(DC_GEMM_COLS, ncols - j0);
      const float *at = a + i0 * a_rs;
      float *ct = c + i0 * ldc + j0;
      if (cols == DC_GEMM_COLS)
        dc_gemm_full_width(rows, kdim, alpha, at, a_rs, a_cs, b + j0, ldb, ct, ldc);
      else
        dc_gemm_tile(rows, cols, kdim, alpha, at, a_rs, a_cs, b + j0, ldb, ct, ldc);
    }
}

/* dc_gemm_acc for square C (m x m) of which only the lower triangle (j <= i) is wanted: each block
 * of DC_GEMM_ROWS rows stops at the column tile holding the diagonal, so about half the products
 * are skipped.
 * Entries above the diagonal are left as they are or get their products; callers must not read
 * them. Each computed entry's operations are dc_gemm_acc's, so its bits are too. */
static inline void dc_gemm_acc_lower(int64_t m, int64_t kdim, float alpha, const float *a,
                                     int64_t a_rs, int64_t a_cs, const float *b, int64_t ldb,
                                     float *c, int64_t ldc) {
  for (int64_t i0 = 0; i0 < m; i0 += DC_GEMM_ROWS) {
    const int64_t rows = dc_min64(DC_GEMM_ROWS, m - i0);
    /* whole column tiles: a partial one takes dc_gemm_tile's slow variable-width loop */
    const int64_t cols = dc_min64(m, (i0 + rows + DC_GEMM_COLS - 1) / DC_GEMM_COLS * DC_GEMM_COLS);
    dc_gemm_acc(rows, cols, kdim, alpha, a + i0 * a_rs, a_rs, a_cs, b, ldb, c + i0 * ldc, ldc);
  }
}

/* dc_gemm_acc with A (m x m, kdim = m) lower triangular: A(i, p) = 0 for p > i, so each block of
 * DC_GEMM_ROWS rows stops its sums at the block's last row. The skipped terms are 0 x B, so every
 * finite output has the bits of the full product (up to the sign of a zero). */
static inline void dc_gemm_acc_tril_a(int64_t m, int64_t ncols, float alpha, const float *a,
                                      int64_t a_rs, int64_t a_cs, const float *b, int64_t ldb,
                                      float *c, int64_t ldc) {
  for (int64_t i0 = 0; i0 < m; i0 += DC_GEMM_ROWS) {
    const int64_t rows = dc_min64(DC_GEMM_ROWS, m - i0);
    dc_gemm_acc(rows, ncols, i0 + rows, alpha, a + i0 * a_rs, a_rs, a_cs, b, ldb, c + i0 * ldc,
                ldc);
  }
}

#endif /* DELTAC_TARGETS_PORTABLE_SMALL_GEMM_H */
