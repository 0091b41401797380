/*===- attention.c - partial RoPE and causal GQA attention over a KV cache ===*/

#include "kernel_internal.h"

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
      float cs[DC_ROPE_TILE], sn[DC_ROPE_TILE];
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

/* Row j of kv head kvh's visible keys (width hd) or values (width hdv): the cache below
 * `position`, this step's inputs from there on. */
DC_INLINE const float *visible_row(const float *cache, const float *step, int64_t j,
                                   int64_t position, int64_t kvh, int64_t S, int64_t nkv,
                                   int64_t width) {
  return j < position ? cache + (kvh * S + j) * width : step + ((j - position) * nkv + kvh) * width;
}

void dc_k_attention_f32(const float *q, const float *k, const float *v, const float *gate,
                        int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv, float scale,
                        float *key_cache, float *value_cache, int64_t S, int64_t position,
                        int64_t head_begin, int64_t head_end, float *restrict out) {
  const int64_t group = nh / nkv;

  /* Append this step's keys and values for the kv heads this call owns. */
  for (int64_t h = head_begin; h < head_end; ++h) {
    if (h % group != 0)
      continue;
    const int64_t kvh = h / group;
    for (int64_t t = 0; t < T; ++t) {
      const float *ks = k + (t * nkv + kvh) * hd, *vs = v + (t * nkv + kvh) * hdv;
      float *kd = key_cache + (kvh * S + position + t) * hd;
      float *vd = value_cache + (kvh * S + position + t) * hdv;
      for (int64_t d = 0; d < hd; ++d)
        kd[d] = ks[d];
      for (int64_t d = 0; d < hdv; ++d)
        vd[d] = vs[d];
    }
  }

  for (int64_t h = head_begin; h < head_end; ++h) {
    const int64_t kvh = h / group;
    for (int64_t t = 0; t < T; ++t) {
      const float *qq = q + (t * nh + h) * hd;
      float *o = out + (t * nh + h) * hdv;
      const int64_t visible = position + t + 1;
      for (int64_t d = 0; d < hdv; ++d)
        o[d] = 0.0f;
      /* Running max m and denominator l: after each block, o = sum_j exp(s_j - m) V_j. */
      float m = 0.0f, l = 0.0f;
      for (int64_t j0 = 0; j0 < visible; j0 += DC_KEY_BLOCK) {
        const int64_t count = dc_min64(DC_KEY_BLOCK, visible - j0);
        float p[DC_KEY_BLOCK];
        float block_max = 0.0f;
        for (int64_t jj = 0; jj < count; ++jj) {
          p[jj] =
              scale * dc_dot(qq, visible_row(key_cache, k, j0 + jj, position, kvh, S, nkv, hd), hd);
          block_max = jj == 0 || p[jj] > block_max ? p[jj] : block_max;
        }
        const float m_new = j0 == 0 || block_max > m ? block_max : m;
        if (j0 > 0 && m_new != m) {
          const float correction = dc_expf(m - m_new); /* m < m_new: a non-positive exponent */
          l *= correction;
          for (int64_t d = 0; d < hdv; ++d)
            o[d] *= correction;
        }
        m = m_new;
        for (int64_t jj = 0; jj < count; ++jj) {
          p[jj] = dc_expf(p[jj] - m);
          l += p[jj];
        }
        for (int64_t jj = 0; jj < count; ++jj) {
          const float *vr = visible_row(value_cache, v, j0 + jj, position, kvh, S, nkv, hdv);
          const float pj = p[jj];
          for (int64_t d = 0; d < hdv; ++d)
            o[d] += pj * vr[d];
        }
      }
      const float inv = 1.0f / l;
      if (gate) {
        const float *gt = gate + (t * nh + h) * hdv;
        for (int64_t d = 0; d < hdv; ++d)
          o[d] = o[d] * inv * dc_sigmoidf(gt[d]);
      } else {
        for (int64_t d = 0; d < hdv; ++d)
          o[d] *= inv;
      }
    }
  }
}
