/*===- gated_delta_net.c - the fused Gated DeltaNet core -------------------===*
 *
 * delta.gated_delta_net: causal conv1d + SiLU, q | k | v split, L2 norms, gates and the gated delta
 * rule in one kernel (docs/design/fusion.md). The unit of work is a key head: its q and k conv
 * channels, then each value head that reads it (its v channels, gates, state and output). Every
 *conv channel belongs to exactly one key head's call, so the conv state is updated in place without
 * races, and a key head's q and k are computed once for all the value heads that share them.
 *
 * Decode (T == 1, dk <= DC_GDN_STACK_DK): nothing leaves registers and the stack; q and k of the
 *key head are two arrays of dk floats, each value head's v is dv floats, g and beta are scalars,
 *and the step is the recurrent kernel's (delta_rule_step.h). Prefill stages one head's q, k, v, g
 *and beta in the scratch and hands them to the chunked kernel, which needs the whole sequence of a
 *head. Each stage performs the arithmetic of the unfused kernel it replaces in the same order (conv
 *as gdn.c, L2 norm as norms.c, gates as gdn.c), so fused and unfused builds agree to rounding of
 *the delta rule alone.
 *===----------------------------------------------------------------------===*/

#include "delta_rule_step.h"

/* The largest key head dimension the decode path keeps on the stack (2 arrays of this many floats).
 */
#define DC_GDN_STACK_DK 256
/* The largest value head dimension the decode path keeps on the stack. */
#define DC_GDN_STACK_DV 256
/* The longest conv whose taps the prefill path transposes into its scratch (Qwen3.5's is 4). */
#define DC_GDN_MAX_TAPS 8
/* How many tokens ahead the prefill conv fetches its rows of qkv (conv_silu_rows). */
#define DC_GDN_CONV_AHEAD 8

/* out[c] = silu(sum_j w[c0 + c, j] * m[t + j, c0 + c]) for c < n, m = concat(state, qkv) over time:
 * the arithmetic of dc_k_causal_conv1d_f32 with DC_K_ACT_SILU. The rows of the state are C floats
 * apart, those of qkv ldq (C, or more where qkv is a view into a wider projection). Tap j of
 * channel c0 + c is read at w[j * w_tap + c * w_channel]: the weight itself (w = weight + c0 K,
 * w_tap = 1, w_channel = K) or its transpose (transpose_conv_taps), which the prefill path builds
 * once so the channel loop reads contiguous floats. */
DC_INLINE void conv_silu(const float *restrict qkv, int64_t ldq, const float *state_in, int64_t C,
                         const float *restrict w, int64_t w_tap, int64_t w_channel, int64_t K,
                         int64_t t, int64_t c0, int64_t n, float *restrict out) {
  const int64_t hist = K - 1;
  if (K == 4 && w_tap == 1 && w_channel == 4) {
    /* Qwen3.5's 4 taps, read as stored (decode): the channel loop holds all four, so it
     * vectorizes with the weights' stride-4 loads, instead of walking the taps' strided columns
     * one float at a time. The same operations in the same order as the loop below. */
    const float *m0 = t < hist ? state_in + t * C + c0 : qkv + (t - hist) * ldq + c0;
    const float *m1 = t + 1 < hist ? state_in + (t + 1) * C + c0 : qkv + (t + 1 - hist) * ldq + c0;
    const float *m2 = t + 2 < hist ? state_in + (t + 2) * C + c0 : qkv + (t + 2 - hist) * ldq + c0;
    const float *m3 = qkv + t * ldq + c0;
    for (int64_t c = 0; c < n; ++c) {
      float acc = 0.0f;
      acc += w[4 * c] * m0[c];
      acc += w[4 * c + 1] * m1[c];
      acc += w[4 * c + 2] * m2[c];
      acc += w[4 * c + 3] * m3[c];
      out[c] = dc_siluf(acc);
    }
    return;
  }
  for (int64_t c = 0; c < n; ++c)
    out[c] = 0.0f;
  for (int64_t j = 0; j < K; ++j) {
    const int64_t row = t + j;
    const float *m = row < hist ? state_in + row * C + c0 : qkv + (row - hist) * ldq + c0;
    const float *wj = w + j * w_tap;
    for (int64_t c = 0; c < n; ++c)
      out[c] += wj[c * w_channel] * m[c];
  }
  for (int64_t c = 0; c < n; ++c)
    out[c] = dc_siluf(out[c]);
}

/* The conv taps of channels [c0, c0 + n), transposed: wt[j * n + c] = weight[(c0 + c) * K + j]. */
DC_INLINE void transpose_conv_taps(const float *restrict weight, int64_t K, int64_t c0, int64_t n,
                                   float *restrict wt) {
  for (int64_t c = 0; c < n; ++c)
    for (int64_t j = 0; j < K; ++j)
      wt[j * n + c] = weight[(c0 + c) * K + j];
}

/* New conv state of channels [c0, c0 + n): row r = m[T + r]. Called once every read of these
 * channels' old state is done; ascending r reads rows T + r > r of the old state, which an in-place
 * update has not overwritten yet (as in gdn.c). */
DC_INLINE void conv_state_update(const float *qkv, int64_t ldq, int64_t T, int64_t C, int64_t K,
                                 const float *state_in, int64_t c0, int64_t n, float *state_out) {
  const int64_t hist = K - 1;
  for (int64_t r = 0; r < hist; ++r) {
    const int64_t row = T + r;
    const float *m = row < hist ? state_in + row * C + c0 : qkv + (row - hist) * ldq + c0;
    float *s = state_out + r * C + c0;
    for (int64_t c = 0; c < n; ++c)
      s[c] = m[c];
  }
}

/* x <- x / sqrt(sum(x^2) + eps), as dc_k_l2_norm_f32. */
DC_INLINE void l2_normalize(float *x, int64_t d, float eps) {
  const float inv = 1.0f / dc_sqrtf(dc_sum_squares(x, d) + eps);
  for (int64_t i = 0; i < d; ++i)
    x[i] = x[i] * inv;
}

/* Shapes and operands of one call, passed by pointer to the two paths. */
struct gdn_args {
  const float *qkv, *a, *b;
  int64_t ldq, lda, ldb; /* floats from one token's row of qkv, a, b to the next's */
  int64_t T, nk, nv, C, K;
  const float *conv_weight, *conv_state_in, *decay, *dt_bias;
  int32_t decay_form, mapping;
  float scale, l2_eps;
  /* The delta-rule state: f32 (state_in, state_out) or f16 (state16_in, state16_out; the f32
   * pointers are then NULL). */
  const float *state_in;
  float *out, *conv_state_out, *state_out;
  const uint16_t *state16_in;
  uint16_t *state16_out;
};

/* g and beta of token t, value head h, as dc_k_gdn_gates_f32 (token t's a and b at a + t lda and
 * b + t ldb). */
DC_INLINE void gates(const struct gdn_args *p, int64_t t, int64_t h, float *g, float *beta) {
  const float bigA = p->decay_form == DC_K_DECAY_A_LOG ? -dc_expf(p->decay[h]) : p->decay[h];
  const float s = p->a[t * p->lda + h] + p->dt_bias[h];
  const float softplus = s > 20.0f ? s : dc_log1pf(dc_expf(s));
  *g = bigA * softplus;
  *beta = dc_sigmoidf(p->b[t * p->ldb + h]);
}

/* Value head j (0 .. r-1) of key head kh: the inverse of dc_key_head. */
DC_INLINE int64_t value_head(int64_t kh, int64_t j, int64_t nk, int64_t nv, int32_t mapping) {
  return mapping == DC_K_HEADS_TILED ? j * nk + kh : kh * (nv / nk) + j;
}

DC_INLINE void copy_floats(const float *in, float *out, int64_t n) {
  if (in != out)
    for (int64_t i = 0; i < n; ++i)
      out[i] = in[i];
}

/*---- Decode: one token, no intermediate buffers ----------------------------------------------*/

/* One key head and its value heads for one token. `f16` (a constant after inlining) picks the
 * state's storage, so each entry point keeps one path. */
DC_INLINE void decode_key_head(const struct gdn_args *p, int64_t dk, int64_t dv, int64_t kh,
                               int f16) {
  const int64_t C = p->C, K = p->K, nk = p->nk, nv = p->nv;
  const int64_t q0 = kh * dk, k0 = nk * dk + kh * dk;
  DC_VEC_ALIGNED float q[DC_GDN_STACK_DK], k[DC_GDN_STACK_DK], v[DC_GDN_STACK_DV];
  conv_silu(p->qkv, p->ldq, p->conv_state_in, C, p->conv_weight + q0 * K, 1, K, K, 0, q0, dk, q);
  conv_silu(p->qkv, p->ldq, p->conv_state_in, C, p->conv_weight + k0 * K, 1, K, K, 0, k0, dk, k);
  conv_state_update(p->qkv, p->ldq, 1, C, K, p->conv_state_in, q0, dk, p->conv_state_out);
  conv_state_update(p->qkv, p->ldq, 1, C, K, p->conv_state_in, k0, dk, p->conv_state_out);
  l2_normalize(q, dk, p->l2_eps);
  l2_normalize(k, dk, p->l2_eps);
  const float qk = p->scale * dc_dot(q, k, dk);
  for (int64_t j = 0; j < nv / nk; ++j) {
    const int64_t h = value_head(kh, j, nk, nv, p->mapping);
    const int64_t v0 = 2 * nk * dk + h * dv;
    conv_silu(p->qkv, p->ldq, p->conv_state_in, C, p->conv_weight + v0 * K, 1, K, K, 0, v0, dv, v);
    conv_state_update(p->qkv, p->ldq, 1, C, K, p->conv_state_in, v0, dv, p->conv_state_out);
    float g, beta;
    gates(p, 0, h, &g, &beta);
    /* The value head this thread likely steps next: the key head's next one, or the next key
     * head's first; its state is prefetched during this step's second pass (delta_rule_step.h).
     * The next key head counts even past this call's range: decode claims key heads a piece at a
     * time (runtime/ops_fused.c), mostly one head per piece, and the thread's next claim is
     * usually the head after its last. Stopping at the range's end, as before, left 7 of every 8
     * heads of the 0.8B (one value head per key head) without the prefetch. */
    const int64_t next = j + 1 < nv / nk ? value_head(kh, j + 1, nk, nv, p->mapping)
                         : kh + 1 < nk   ? value_head(kh + 1, 0, nk, nv, p->mapping)
                                         : -1;
    if (f16) {
      uint16_t *S = p->state16_out + h * dk * dv;
      const uint16_t *in = p->state16_in + h * dk * dv;
      if (in != S)
        for (int64_t i = 0; i < dk * dv; ++i)
          S[i] = in[i];
      dc_delta_rule_step_f16(S, k, q, v, dc_expf(g), beta, p->scale, qk, dk, dv,
                             next < 0 ? NULL : p->state16_in + next * dk * dv, p->out + h * dv);
      continue;
    }
    float *S = p->state_out + h * dk * dv;
    copy_floats(p->state_in + h * dk * dv, S, dk * dv);
    dc_delta_rule_step(S, k, q, v, dc_expf(g), beta, p->scale, qk, dk, dv,
                       next < 0 ? NULL : p->state_in + next * dk * dv, p->out + h * dv);
  }
}

/*---- Prefill: stage one head, then the chunked kernel ----------------------------------------*/

/* The per-call staging arrays, carved from the caller's scratch. */
struct gdn_scratch {
  float *q, *k;    /* [T, dk] the key head's normalized queries and keys */
  float *v;        /* [T, dv] one value head's values */
  float *g, *beta; /* [T] */
  float *o;        /* [T, dv] the value head's output before it is scattered into out */
  float *taps;     /* [K, max(dk, dv)] conv taps of the channels being convolved, transposed */
  float *state;    /* [dk, dv] an f16 state's head, widened */
  void *chunk;     /* dc_k_gated_delta_rule_chunked_f32 scratch */
};

/* Carves the arrays from scratch (or, with scratch NULL, only counts them: *bytes). */
DC_INLINE struct gdn_scratch carve_scratch(void *scratch, int64_t T, int64_t dk, int64_t dv,
                                           int64_t *bytes) {
  struct dc_carver c = {(float *)scratch, 0};
  struct gdn_scratch s;
  s.q = dc_carve(&c, T * dk);
  s.k = dc_carve(&c, T * dk);
  s.v = dc_carve(&c, T * dv);
  s.o = dc_carve(&c, T * dv);
  s.g = dc_carve(&c, T);
  s.beta = dc_carve(&c, T);
  s.taps = dc_carve(&c, DC_GDN_MAX_TAPS * (dk > dv ? dk : dv));
  s.state = dc_carve(&c, dk * dv);
  s.chunk = dc_carve(&c, dc_k_gated_delta_rule_chunked_f32_scratch_bytes(dk, dv) / 4);
  *bytes = 4 * c.floats;
  return s;
}

int64_t dc_k_gated_delta_net_f32_scratch_bytes(int64_t T, int64_t dk, int64_t dv) {
  int64_t bytes;
  carve_scratch(NULL, T, dk, dv, &bytes);
  return bytes;
}

/* dst[t, c] = the conv + SiLU of channel c0 + c at token t, for every token (c < n). */
DC_INLINE void conv_silu_rows(const struct gdn_args *p, const struct gdn_scratch *s, int64_t c0,
                              int64_t n, float *dst) {
  const float *w = p->conv_weight + c0 * p->K;
  int64_t tap = 1, channel = p->K;
  if (p->K <= DC_GDN_MAX_TAPS) {
    transpose_conv_taps(p->conv_weight, p->K, c0, n, s->taps);
    w = s->taps, tap = n, channel = 1;
  }
  for (int64_t t = 0; t < p->T; ++t) {
    /* Token t's newest tap reads its n floats of row t of qkv (the taps before read rows the
     * tokens before brought in). The rows are ldq >= C floats apart, further than the hardware
     * prefetchers follow, so each one was a wait on L3 or memory: fetch row t + DC_GDN_CONV_AHEAD
     * now (a line per 16 floats). Kernel bench, qkv from memory: gated_delta_net/T512 21.4-22.4
     * -> 18.5-18.6 ms; in the model, whose qkv the projection just wrote (mostly in L3), within
     * the noise (docs/perf-log.md, "The SwiGLU epilogue of the span path"). */
    if (t + DC_GDN_CONV_AHEAD < p->T)
      for (int64_t c = 0; c < n; c += 16)
        __builtin_prefetch(p->qkv + (t + DC_GDN_CONV_AHEAD) * p->ldq + c0 + c);
    conv_silu(p->qkv, p->ldq, p->conv_state_in, p->C, w, tap, channel, p->K, t, c0, n, dst + t * n);
  }
}

DC_INLINE void staged_key_head(const struct gdn_args *p, int64_t dk, int64_t dv, int64_t kh,
                               const struct gdn_scratch *s, int f16) {
  const int64_t C = p->C, K = p->K, T = p->T, nk = p->nk, nv = p->nv;
  const int64_t q0 = kh * dk, k0 = nk * dk + kh * dk;
  conv_silu_rows(p, s, q0, dk, s->q);
  conv_silu_rows(p, s, k0, dk, s->k);
  for (int64_t t = 0; t < T; ++t) {
    l2_normalize(s->q + t * dk, dk, p->l2_eps);
    l2_normalize(s->k + t * dk, dk, p->l2_eps);
  }
  conv_state_update(p->qkv, p->ldq, T, C, K, p->conv_state_in, q0, dk, p->conv_state_out);
  conv_state_update(p->qkv, p->ldq, T, C, K, p->conv_state_in, k0, dk, p->conv_state_out);
  for (int64_t j = 0; j < nv / nk; ++j) {
    const int64_t h = value_head(kh, j, nk, nv, p->mapping);
    const int64_t v0 = 2 * nk * dk + h * dv;
    conv_silu_rows(p, s, v0, dv, s->v);
    for (int64_t t = 0; t < T; ++t)
      gates(p, t, h, s->g + t, s->beta + t);
    conv_state_update(p->qkv, p->ldq, T, C, K, p->conv_state_in, v0, dv, p->conv_state_out);
    /* One head seen as nk = nv = 1: the staged arrays are exactly that layout. An f16 head is
     * widened into scratch, updated there in place, and rounded back once. */
    const float *state_in = s->state;
    float *state_out = s->state;
    if (f16)
      dc_widen_f16_row(p->state16_in + h * dk * dv, dk * dv, s->state);
    else
      state_in = p->state_in + h * dk * dv, state_out = p->state_out + h * dk * dv;
    if (T > 1)
      dc_k_gated_delta_rule_chunked_f32(s->q, s->k, s->v, s->g, s->beta, T, 1, 1, dk, dv,
                                        DC_K_HEADS_GROUPED, p->scale, state_in, 0, 1, s->chunk,
                                        s->o, state_out);
    else
      dc_k_gated_delta_rule_recurrent_f32(s->q, s->k, s->v, s->g, s->beta, T, 1, 1, dk, dv,
                                          DC_K_HEADS_GROUPED, p->scale, state_in, 0, 1, s->o,
                                          state_out);
    if (f16)
      dc_narrow_f16_row(s->state, dk * dv, p->state16_out + h * dk * dv);
    for (int64_t t = 0; t < T; ++t)
      copy_floats(s->o + t * dv, p->out + (t * nv + h) * dv, dv);
  }
}

/* Decode on the stack (one token, dk and dv within the stack arrays), or the staged path. */
DC_INLINE int decodes_on_stack(const struct gdn_args *p, int64_t dk, int64_t dv) {
  return p->T == 1 && dk <= DC_GDN_STACK_DK && dv <= DC_GDN_STACK_DV;
}

DC_INLINE void decode_key_heads(const struct gdn_args *p, int64_t dk, int64_t dv, int64_t kh_begin,
                                int64_t kh_end, int f16) {
  for (int64_t kh = kh_begin; kh < kh_end; ++kh)
    decode_key_head(p, dk, dv, kh, f16);
}

DC_INLINE void staged_key_heads(const struct gdn_args *p, int64_t dk, int64_t dv, int64_t kh_begin,
                                int64_t kh_end, void *scratch, int f16) {
  int64_t bytes;
  const struct gdn_scratch s = carve_scratch(scratch, p->T, dk, dv, &bytes);
  for (int64_t kh = kh_begin; kh < kh_end; ++kh)
    staged_key_head(p, dk, dv, kh, &s, f16);
}

/* `f16` (a constant after inlining) picks the state's storage, so each entry point keeps one path. */
DC_INLINE void gated_delta_net_impl(const struct gdn_args *p, int64_t dk, int64_t dv,
                                    int64_t kh_begin, int64_t kh_end, void *scratch, int f16) {
  if (decodes_on_stack(p, dk, dv))
    decode_key_heads(p, dk, dv, kh_begin, kh_end, f16);
  else
    staged_key_heads(p, dk, dv, kh_begin, kh_end, scratch, f16);
}

/* The shapes and operands both entry points share; the state pointers are set by the caller. */
DC_INLINE struct gdn_args
gdn_args_of(const float *qkv, int64_t qkv_stride, const float *a, int64_t a_stride, const float *b,
            int64_t b_stride, int64_t T, int64_t nk, int64_t nv, int64_t dk, int64_t dv,
            const float *conv_weight, int64_t K, const float *conv_state_in, const float *decay,
            const float *dt_bias, int32_t decay_form, int32_t mapping, float scale, float l2_eps,
            float *out, float *conv_state_out) {
  struct gdn_args p = {0};
  p.qkv = qkv, p.a = a, p.b = b;
  p.ldq = qkv_stride, p.lda = a_stride, p.ldb = b_stride;
  p.T = T, p.nk = nk, p.nv = nv, p.C = 2 * nk * dk + nv * dv, p.K = K;
  p.conv_weight = conv_weight, p.conv_state_in = conv_state_in;
  p.decay = decay, p.dt_bias = dt_bias, p.decay_form = decay_form, p.mapping = mapping;
  p.scale = scale, p.l2_eps = l2_eps;
  p.out = out, p.conv_state_out = conv_state_out;
  return p;
}

/* Both entry points run every path with dk and dv specialized to the model's (kernel_internal.h);
 * `f16` is a constant in each. The staged prefill path's time is not all in the chunked kernel it
 * calls: with it generic, the f16 entry's prefill of 512 tokens was 10% slower
 * (gated_delta_net_f16_state/T512). */
DC_INLINE void gated_delta_net_specialized(const struct gdn_args *p, int64_t dk, int64_t dv,
                                           int64_t kh_begin, int64_t kh_end, void *scratch,
                                           int f16) {
  DC_SPECIALIZE(
      DC_MODEL_KEY_DIMS, dk,
      DC_SPECIALIZE_2(DC_MODEL_VALUE_DIMS, dv,
                      gated_delta_net_impl(p, DC_DIM, DC_DIM2, kh_begin, kh_end, scratch, f16)));
}

void dc_k_gated_delta_net_f32(const float *qkv, int64_t qkv_stride, const float *a,
                              int64_t a_stride, const float *b, int64_t b_stride, int64_t T,
                              int64_t nk, int64_t nv, int64_t dk, int64_t dv,
                              const float *conv_weight, int64_t K, const float *conv_state_in,
                              const float *decay, const float *dt_bias, int32_t decay_form,
                              int32_t mapping, float scale, float l2_eps, const float *state_in,
                              int64_t kh_begin, int64_t kh_end, void *scratch, float *out,
                              float *conv_state_out, float *state_out) {
  struct gdn_args p = gdn_args_of(qkv, qkv_stride, a, a_stride, b, b_stride, T, nk, nv, dk, dv,
                                  conv_weight, K, conv_state_in, decay, dt_bias, decay_form,
                                  mapping, scale, l2_eps, out, conv_state_out);
  p.state_in = state_in, p.state_out = state_out;
  gated_delta_net_specialized(&p, dk, dv, kh_begin, kh_end, scratch, 0);
}

void dc_k_gated_delta_net_f32_state_f16(const float *qkv, int64_t qkv_stride, const float *a,
                                        int64_t a_stride, const float *b, int64_t b_stride,
                                        int64_t T, int64_t nk, int64_t nv, int64_t dk, int64_t dv,
                                        const float *conv_weight, int64_t K,
                                        const float *conv_state_in, const float *decay,
                                        const float *dt_bias, int32_t decay_form, int32_t mapping,
                                        float scale, float l2_eps, const uint16_t *state_in,
                                        int64_t kh_begin, int64_t kh_end, void *scratch, float *out,
                                        float *conv_state_out, uint16_t *state_out) {
  struct gdn_args p = gdn_args_of(qkv, qkv_stride, a, a_stride, b, b_stride, T, nk, nv, dk, dv,
                                  conv_weight, K, conv_state_in, decay, dt_bias, decay_form,
                                  mapping, scale, l2_eps, out, conv_state_out);
  p.state16_in = state_in, p.state16_out = state_out;
  gated_delta_net_specialized(&p, dk, dv, kh_begin, kh_end, scratch, 1);
}
