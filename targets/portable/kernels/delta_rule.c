/*===- delta_rule.c - the gated delta rule: recurrent step and chunked prefill ===*
 *
 * State S per value head is dk x dv, row-major (dv fastest), f32, as in delta.gated_delta_rule.
 * Both kernels treat value heads independently, so the head range is the unit of threading.
 *===----------------------------------------------------------------------===*/

#include "delta_rule_step.h"
#include "small_gemm.h"

DC_INLINE void copy_state(const float *in, float *out, int64_t n) {
  if (in != out)
    for (int64_t i = 0; i < n; ++i)
      out[i] = in[i];
}

/*---- Recurrent -------------------------------------------------------------------------------*/

DC_INLINE void recurrent_impl(const float *q, const float *k, const float *v, const float *g,
                              const float *beta, int64_t T, int64_t nk, int64_t nv, int64_t dk,
                              int64_t dv, int32_t mapping, float scale, const float *state_in,
                              int64_t head_begin, int64_t head_end, float *restrict out,
                              float *state_out) {
  for (int64_t h = head_begin; h < head_end; ++h) {
    const int64_t kh = dc_key_head(h, nk, nv, mapping);
    float *S = state_out + h * dk * dv;
    copy_state(state_in + h * dk * dv, S, dk * dv);
    for (int64_t t = 0; t < T; ++t) {
      const float *kk = k + (t * nk + kh) * dk, *qq = q + (t * nk + kh) * dk;
      const float *vv = v + (t * nv + h) * dv;
      const float decay = dc_expf(g[t * nv + h]), b = beta[t * nv + h];
      const float qk = scale * dc_dot(qq, kk, dk);
      /* After the head's last token, the next head's state comes in during the second pass. */
      const float *next = t + 1 == T && h + 1 < head_end ? state_in + (h + 1) * dk * dv : NULL;
      dc_delta_rule_step(S, kk, qq, vv, decay, b, scale, qk, dk, dv, next, out + (t * nv + h) * dv);
    }
  }
}

/* The decode kernel with dk and dv specialized to the model's (kernel_internal.h). */
void dc_k_gated_delta_rule_recurrent_f32(const float *q, const float *k, const float *v,
                                         const float *g, const float *beta, int64_t T, int64_t nk,
                                         int64_t nv, int64_t dk, int64_t dv, int32_t mapping,
                                         float scale, const float *state_in, int64_t head_begin,
                                         int64_t head_end, float *restrict out, float *state_out) {
  DC_SPECIALIZE(
      DC_MODEL_KEY_DIMS, dk,
      DC_SPECIALIZE_2(DC_MODEL_VALUE_DIMS, dv,
                      recurrent_impl(q, k, v, g, beta, T, nk, nv, DC_DIM, DC_DIM2, mapping, scale,
                                     state_in, head_begin, head_end, out, state_out)));
}

/*---- Chunked (WY / UT) -----------------------------------------------------------------------*/

#define DC_CHUNK DC_K_DELTA_RULE_CHUNK

/* The per-call work arrays, carved from the caller's scratch. */
struct chunk_scratch {
  float *kc;    /* [C, dk] keys of the chunk */
  float *qc;    /* [C, dk] queries of the chunk, times scale */
  float *w;     /* [C, dk] W; later exp(gamma_n - gamma_i) k_i */
  float *u;     /* [C, dv] U; later Vnew = U - W S */
  float *a;     /* [C, C]  A_ij = beta_i (k_i . k_j) exp(gamma_i - gamma_j), j < i */
  float *qk;    /* [C, C]  (q_i . k_j) exp(gamma_i - gamma_j), j <= i */
  float *gc;    /* [C]     g */
  float *gamma; /* [C]     inclusive prefix sum of g inside the chunk: gamma_i */
  float *tail;  /* [C]     sum of g after row i to the chunk's end: gamma_n - gamma_i */
  float *bc;    /* [C]     beta */
};

/* Carves the arrays from scratch (or, with scratch NULL, only counts them: *bytes). */
DC_INLINE struct chunk_scratch carve_scratch(void *scratch, int64_t dk, int64_t dv,
                                             int64_t *bytes) {
  struct dc_carver c = {(float *)scratch, 0};
  struct chunk_scratch s;
  s.kc = dc_carve(&c, DC_CHUNK * dk);
  s.qc = dc_carve(&c, DC_CHUNK * dk);
  s.w = dc_carve(&c, DC_CHUNK * dk);
  s.u = dc_carve(&c, DC_CHUNK * dv);
  s.a = dc_carve(&c, DC_CHUNK * DC_CHUNK);
  s.qk = dc_carve(&c, DC_CHUNK * DC_CHUNK);
  s.gc = dc_carve(&c, DC_CHUNK);
  s.gamma = dc_carve(&c, DC_CHUNK);
  s.tail = dc_carve(&c, DC_CHUNK);
  s.bc = dc_carve(&c, DC_CHUNK);
  *bytes = 4 * c.floats;
  return s;
}

int64_t dc_k_gated_delta_rule_chunked_f32_scratch_bytes(int64_t dk, int64_t dv) {
  int64_t bytes;
  carve_scratch(NULL, dk, dv, &bytes);
  return bytes;
}

/* One chunk of n <= C tokens starting at `start` for value head h, reading and updating S. The
 * steps follow spec §4.1; a partial chunk simply has fewer rows (padding rows would be no-ops).
 *
 * Every decay exponent is formed as a sum of the g it spans (gamma_i, gamma_i - gamma_j,
 * gamma_n - gamma_i), never as a difference of two prefix sums: with fast decays gamma reaches
 * -thousands inside a chunk, where f32 spacing is ~1e-4 and gamma_i - gamma_j would lose the
 * small per-step g to cancellation. Sums of non-positive terms are accurate to a few ulp and are
 * non-positive, so exp never overflows. */
DC_INLINE void delta_rule_chunk(const float *q, const float *k, const float *v, const float *g,
                                const float *beta, int64_t nk, int64_t nv, int64_t dk, int64_t dv,
                                float scale, int64_t h, int64_t kh, int64_t start, int64_t n,
                                const struct chunk_scratch *s, float *restrict S,
                                float *restrict out) {
  float *restrict kc = s->kc, *restrict qc = s->qc, *restrict w = s->w, *restrict u = s->u;
  float *restrict a = s->a, *restrict qk = s->qk, *restrict gc = s->gc;
  float *restrict gamma = s->gamma, *restrict tail = s->tail, *restrict bc = s->bc;

  /* Gather the chunk; gamma is the chunk-local inclusive cumsum of g (non-increasing, g <= 0). */
  float cumulative = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = start + i;
    const float *kt = k + (t * nk + kh) * dk, *qt = q + (t * nk + kh) * dk;
    for (int64_t d = 0; d < dk; ++d) {
      kc[i * dk + d] = kt[d];
      qc[i * dk + d] = qt[d] * scale;
    }
    gc[i] = g[t * nv + h];
    cumulative += gc[i];
    gamma[i] = cumulative;
    bc[i] = beta[t * nv + h];
  }
  float suffix = 0.0f;
  for (int64_t i = n - 1; i >= 0; --i) {
    tail[i] = suffix;
    suffix += gc[i];
  }

  /* Q K^T and K K^T as products (w, free until the solve below, holds K^T [dk, C]), then the
   * decays of the lower triangles A (j < i) and QK^T (j <= i). The mask is the loop bound, applied
   * before exp; `segment` = g_{j+1} + ... + g_i = gamma_i - gamma_j, accumulated as j walks down
   * from i. Entries above the triangles are products the steps below never read. */
  for (int64_t j = 0; j < n; ++j)
    for (int64_t d = 0; d < dk; ++d)
      w[d * DC_CHUNK + j] = kc[j * dk + d];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      qk[i * DC_CHUNK + j] = a[i * DC_CHUNK + j] = 0.0f;
  dc_gemm_acc_lower(n, dk, 1.0f, qc, dk, 1, w, DC_CHUNK, qk, DC_CHUNK);
  dc_gemm_acc_lower(n, dk, 1.0f, kc, dk, 1, w, DC_CHUNK, a, DC_CHUNK);
  for (int64_t i = 0; i < n; ++i) {
    float segment = 0.0f;
    for (int64_t j = i; j >= 0; --j) {
      if (j < i)
        segment += gc[j + 1];
      const float decay = dc_expf(segment);
      qk[i * DC_CHUNK + j] *= decay;
      if (j < i)
        a[i * DC_CHUNK + j] *= bc[i] * decay;
    }
  }

  /* W = (I + A)^-1 (beta exp(gamma) K) and U = (I + A)^-1 (beta V) by forward substitution: row i
   * needs only rows < i. Blocked by DC_GEMM_ROWS rows: a block first takes every finished row
   * before it in one rows x i0 by i0 x d product (register tiles), then the few products inside
   * the block one row at a time. */
  for (int64_t i0 = 0; i0 < n; i0 += DC_GEMM_ROWS) {
    const int64_t rows = dc_min64(DC_GEMM_ROWS, n - i0);
    for (int64_t i = i0; i < i0 + rows; ++i) {
      const float *vi = v + ((start + i) * nv + h) * dv;
      const float bw = bc[i] * dc_expf(gamma[i]);
      for (int64_t d = 0; d < dk; ++d)
        w[i * dk + d] = bw * kc[i * dk + d];
      for (int64_t d = 0; d < dv; ++d)
        u[i * dv + d] = bc[i] * vi[d];
    }
    const float *ab = a + i0 * DC_CHUNK;
    dc_gemm_acc(rows, dk, i0, -1.0f, ab, DC_CHUNK, 1, w, dk, w + i0 * dk, dk);
    dc_gemm_acc(rows, dv, i0, -1.0f, ab, DC_CHUNK, 1, u, dv, u + i0 * dv, dv);
    for (int64_t i = i0 + 1; i < i0 + rows; ++i) {
      const float *ai = a + i * DC_CHUNK + i0;
      dc_gemm_acc(1, dk, i - i0, -1.0f, ai, 0, 1, w + i0 * dk, dk, w + i * dk, dk);
      dc_gemm_acc(1, dv, i - i0, -1.0f, ai, 0, 1, u + i0 * dv, dv, u + i * dv, dv);
    }
  }

  /* Vnew = U - W S, in place in u. */
  dc_gemm_acc(n, dv, dk, -1.0f, w, dk, 1, S, dv, u, dv);

  /* O = (exp(gamma) Q) S + (tril(Q K^T) * D) Vnew. qc is free now: it takes the exp(gamma) row
   * scales, and qk's upper triangle its zeros, so both terms are plain products. */
  for (int64_t i = 0; i < n; ++i) {
    const float eg = dc_expf(gamma[i]);
    for (int64_t d = 0; d < dk; ++d)
      qc[i * dk + d] *= eg;
    for (int64_t l = i + 1; l < n; ++l)
      qk[i * DC_CHUNK + l] = 0.0f;
    float *o = out + ((start + i) * nv + h) * dv;
    for (int64_t j = 0; j < dv; ++j)
      o[j] = 0.0f;
  }
  float *o = out + (start * nv + h) * dv;
  dc_gemm_acc(n, dv, dk, 1.0f, qc, dk, 1, S, dv, o, nv * dv);
  dc_gemm_acc_tril_a(n, dv, 1.0f, qk, DC_CHUNK, 1, u, dv, o, nv * dv);

  /* S <- exp(gamma_n) S + (exp(gamma_n - gamma) K)^T Vnew; W is free, so it holds the decayed K. */
  const float last = gamma[n - 1];
  for (int64_t i = 0; i < n; ++i) {
    const float coef = dc_expf(tail[i]);
    for (int64_t d = 0; d < dk; ++d)
      w[i * dk + d] = coef * kc[i * dk + d];
  }
  const float decay_all = dc_expf(last);
  for (int64_t e = 0; e < dk * dv; ++e)
    S[e] *= decay_all;
  dc_gemm_acc(dk, dv, n, 1.0f, w, 1, dk, u, dv, S, dv);
}

/* The chunked kernel's work, with subnormals flushed by its caller (kernel_internal.h,
 * dc_flush_subnormals); not inlined, so that no arithmetic moves across the mode change. */
static __attribute__((noinline)) void
chunked_heads(const float *q, const float *k, const float *v, const float *g, const float *beta,
              int64_t T, int64_t nk, int64_t nv, int64_t dk, int64_t dv, int32_t mapping,
              float scale, const float *state_in, int64_t head_begin, int64_t head_end,
              void *scratch, float *restrict out, float *state_out) {
  int64_t bytes;
  const struct chunk_scratch s = carve_scratch(scratch, dk, dv, &bytes);
  for (int64_t h = head_begin; h < head_end; ++h) {
    const int64_t kh = dc_key_head(h, nk, nv, mapping);
    float *S = state_out + h * dk * dv;
    copy_state(state_in + h * dk * dv, S, dk * dv);
    for (int64_t start = 0; start < T; start += DC_CHUNK)
      delta_rule_chunk(q, k, v, g, beta, nk, nv, dk, dv, scale, h, kh, start,
                       dc_min64(DC_CHUNK, T - start), &s, S, out);
  }
}

void dc_k_gated_delta_rule_chunked_f32(const float *q, const float *k, const float *v,
                                       const float *g, const float *beta, int64_t T, int64_t nk,
                                       int64_t nv, int64_t dk, int64_t dv, int32_t mapping,
                                       float scale, const float *state_in, int64_t head_begin,
                                       int64_t head_end, void *scratch, float *restrict out,
                                       float *state_out) {
  const unsigned csr = dc_flush_subnormals();
  chunked_heads(q, k, v, g, beta, T, nk, nv, dk, dv, mapping, scale, state_in, head_begin, head_end,
                scratch, out, state_out);
  dc_restore_floating_point(csr);
}
