/*===- gdn.c - the Gated DeltaNet prologue: causal conv1d and the gates ---===*/

#include "kernel_internal.h"

/* Channels per tile: the conv accumulates one tile of channels for one token in registers. */
#define DC_CONV_TILE 64

/* Row `row` of m = concat(state, x) restricted to channels c0.. (rows 0 .. K-2 are the state). */
DC_INLINE const float *conv_history_row(const float *x, const float *state, int64_t C, int64_t hist,
                                        int64_t row, int64_t c0) {
  return row < hist ? state + row * C + c0 : x + (row - hist) * C + c0;
}

void dc_k_causal_conv1d_f32(const float *restrict x, int64_t T, int64_t C,
                            const float *restrict weight, int64_t K, const float *state_in,
                            int32_t act, int64_t c_begin, int64_t c_end, float *restrict y,
                            float *state_out) {
  const int64_t hist = K - 1;
  for (int64_t c0 = c_begin; c0 < c_end; c0 += DC_CONV_TILE) {
    const int64_t width = dc_min64(DC_CONV_TILE, c_end - c0);
    for (int64_t t = 0; t < T; ++t) {
      DC_VEC_ALIGNED float acc[DC_CONV_TILE] = {0};
      for (int64_t j = 0; j < K; ++j) {
        const float *m = conv_history_row(x, state_in, C, hist, t + j, c0);
        const float *w = weight + c0 * K + j;
        for (int64_t c = 0; c < width; ++c)
          acc[c] += w[c * K] * m[c];
      }
      float *out = y + t * C + c0;
      if (act == DC_K_ACT_SILU)
        for (int64_t c = 0; c < width; ++c)
          out[c] = dc_siluf(acc[c]);
      else
        for (int64_t c = 0; c < width; ++c)
          out[c] = acc[c];
    }
    /* New state rows r = m[T + r]. Ascending r reads rows T + r > r of the old state, which an
     * in-place update has not overwritten yet. */
    for (int64_t r = 0; r < hist; ++r) {
      const float *m = conv_history_row(x, state_in, C, hist, T + r, c0);
      float *s = state_out + r * C + c0;
      for (int64_t c = 0; c < width; ++c)
        s[c] = m[c];
    }
  }
}

void dc_k_gdn_gates_f32(const float *a, const float *b, const float *decay, const float *dt_bias,
                        int64_t nv, int32_t decay_form, int64_t t_begin, int64_t t_end,
                        float *restrict g, float *restrict beta) {
  for (int64_t t = t_begin; t < t_end; ++t)
    for (int64_t h = 0; h < nv; ++h) {
      const float bigA = decay_form == DC_K_DECAY_A_LOG ? -dc_expf(decay[h]) : decay[h];
      const float s = a[t * nv + h] + dt_bias[h];
      /* PyTorch's softplus: the identity above 20, where log1p(exp(s)) == s in float anyway. */
      const float softplus = s > 20.0f ? s : dc_log1pf(dc_expf(s));
      g[t * nv + h] = bigA * softplus;
      beta[t * nv + h] = dc_sigmoidf(b[t * nv + h]);
    }
}
