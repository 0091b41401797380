/*===- linear.c - linear, LM head and embedding for every weight type -----===*
 *
 * All three share the span decoder of kernel_internal.h: a weight row is read 32 values at a time
 * (one GGML block, half or a quarter of a deltac int4 block, or a span of a float row), decoded to
 * f32 in registers, and used at once. The
 * portable kernels never repack weights; a target that wants a packed layout gets it from the
 * pack-weights pass and its own kernels.
 *===----------------------------------------------------------------------===*/

#include "kernel_internal.h"

/*---- linear ----------------------------------------------------------------------------------*/

void dc_k_linear_f32_f32(const float *x, int64_t T, int64_t K, const float *weight, int64_t N,
                         int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_F32, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_f16(const float *x, int64_t T, int64_t K, const uint16_t *weight, int64_t N,
                         int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_F16, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_bf16(const float *x, int64_t T, int64_t K, const uint16_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_BF16, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q8_0(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q8_0, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q4_0(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q4_0, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q4_1(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q4_1, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q4_0_g64(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                              int64_t N, int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q4_0_G64, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q4_1_g64(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                              int64_t N, int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q4_1_G64, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q4_0_g128(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                               int64_t N, int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q4_0_G128, x, T, K, weight, N, n_begin, n_end, y);
}

void dc_k_linear_f32_q4_1_g128(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                               int64_t N, int64_t n_begin, int64_t n_end, float *y) {
  dc_linear_rows(DC_W_Q4_1_G128, x, T, K, weight, N, n_begin, n_end, y);
}

/*---- lm_head ---------------------------------------------------------------------------------*/

void dc_k_lm_head_f32_f32(const float *x, int64_t T, int64_t H, const float *weight, int64_t V,
                          int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_F32, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_f16(const float *x, int64_t T, int64_t H, const uint16_t *weight, int64_t V,
                          int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_F16, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_bf16(const float *x, int64_t T, int64_t H, const uint16_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_BF16, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q8_0(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q8_0, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q4_0(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q4_0, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q4_1(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q4_1, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q4_0_g64(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                               int64_t V, int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q4_0_G64, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q4_1_g64(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                               int64_t V, int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q4_1_G64, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q4_0_g128(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                int64_t V, int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q4_0_G128, x, T, H, weight, V, v_begin, v_end, logits);
}

void dc_k_lm_head_f32_q4_1_g128(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                int64_t V, int64_t v_begin, int64_t v_end, float *logits) {
  dc_linear_rows(DC_W_Q4_1_G128, x, T, H, weight, V, v_begin, v_end, logits);
}

/*---- embedding -------------------------------------------------------------------------------*/

DC_INLINE void embedding_rows(enum dc_weight_format fmt, const void *restrict table, int64_t V,
                              int64_t H, const int32_t *restrict ids, int64_t t_begin,
                              int64_t t_end, float *restrict y) {
  const int64_t row_bytes = dc_row_bytes(fmt, H);
  for (int64_t t = t_begin; t < t_end; ++t) {
    float *out = y + t * H;
    const int64_t id = ids[t];
    if (id < 0 || id >= V) {
      for (int64_t i = 0; i < H; ++i)
        out[i] = 0.0f;
      continue;
    }
    const uint8_t *row = (const uint8_t *)table + id * row_bytes;
    for (int64_t k0 = 0; k0 < H; k0 += DC_SPAN) {
      const int64_t len = dc_min64(DC_SPAN, H - k0);
      float buf[DC_SPAN];
      const float *w = dc_decode_span(fmt, row, k0, len, buf);
      for (int64_t i = 0; i < len; ++i)
        out[k0 + i] = w[i];
    }
  }
}

void dc_k_embedding_f32_f32(const float *table, int64_t V, int64_t H, const int32_t *ids,
                            int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_F32, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_f16(const uint16_t *table, int64_t V, int64_t H, const int32_t *ids,
                            int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_F16, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_bf16(const uint16_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_BF16, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q8_0(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q8_0, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_0(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q4_0, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_1(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q4_1, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_0_g64(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                 int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q4_0_G64, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_1_g64(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                 int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q4_1_G64, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_0_g128(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                  int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q4_0_G128, table, V, H, ids, t_begin, t_end, y);
}

void dc_k_embedding_f32_q4_1_g128(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                  int64_t t_begin, int64_t t_end, float *y) {
  embedding_rows(DC_W_Q4_1_G128, table, V, H, ids, t_begin, t_end, y);
}
