/*===- moe.c - softmax-routed top-k SwiGLU experts with a shared expert ---===*
 *
 * Token by token: router logits (f32 weights), softmax, top-k by repeated arg-max (ties go to the
 * lower index, as delta.moe specifies), then each chosen expert through the linear driver of
 * kernel_internal.h in the expert weights' own type. Intermediates live in the caller's scratch.
 *===----------------------------------------------------------------------===*/

/* The expert and router rows take the linear driver specialized to the MoE sizes only, not to
 * every dense linear's. */
#define DC_LINEAR_ROW_DIMS DC_MODEL_EXPERT_DIMS
#include "kernel_internal.h"

/* The per-call work arrays, carved from the caller's scratch. */
struct moe_scratch {
  float *probs;      /* [E] router probabilities; a chosen expert's entry becomes -1 */
  float *chosen_p;   /* [E] probabilities of the chosen experts, in choice order */
  int32_t *chosen;   /* [E] indices of the chosen experts */
  float *gate_act;   /* [max(I, Is)] gate projection, then silu(gate) * up */
  float *up_act;     /* [max(I, Is)] up projection */
  float *expert_out; /* [H] one expert's down projection */
};

/* Carves the arrays from scratch (or, with scratch NULL, only counts them: *bytes). */
DC_INLINE struct moe_scratch carve_scratch(void *scratch, int64_t H, int64_t E, int64_t I,
                                           int64_t Is, int64_t *bytes) {
  const int64_t inter = I > Is ? I : Is;
  struct dc_carver c = {(float *)scratch, 0};
  struct moe_scratch s;
  s.probs = dc_carve(&c, E);
  s.chosen_p = dc_carve(&c, E);
  s.chosen = (int32_t *)(void *)dc_carve(&c, E);
  s.gate_act = dc_carve(&c, inter);
  s.up_act = dc_carve(&c, inter);
  s.expert_out = dc_carve(&c, H);
  *bytes = 4 * c.floats;
  return s;
}

int64_t dc_k_moe_f32_scratch_bytes(int64_t H, int64_t E, int64_t I, int64_t Is) {
  int64_t bytes;
  carve_scratch(NULL, H, E, I, Is, &bytes);
  return bytes;
}

/* out += weight * down(silu(gate x) * up x) for one token; gate, up [I, H], down [H, I]. */
DC_INLINE void swiglu_expert(enum dc_weight_format fmt, const float *x, int64_t H, int64_t I,
                             const void *gate, const void *up, const void *down, float weight,
                             const struct moe_scratch *s, float *restrict out) {
  dc_linear_rows(fmt, x, 1, H, gate, I, 0, I, s->gate_act);
  dc_linear_rows(fmt, x, 1, H, up, I, 0, I, s->up_act);
  for (int64_t i = 0; i < I; ++i)
    s->gate_act[i] = dc_siluf(s->gate_act[i]) * s->up_act[i];
  dc_linear_rows(fmt, s->gate_act, 1, I, down, H, 0, H, s->expert_out);
  for (int64_t d = 0; d < H; ++d)
    out[d] += weight * s->expert_out[d];
}

DC_INLINE void moe_tokens(enum dc_weight_format fmt, const float *x, int64_t H, const float *router,
                          int64_t E, const void *gate, const void *up, const void *down, int64_t I,
                          int64_t top_k, int32_t normalize, const void *shared_gate,
                          const void *shared_up, const void *shared_down,
                          const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                          int64_t t_end, void *scratch, float *restrict out) {
  int64_t bytes;
  const struct moe_scratch s = carve_scratch(scratch, H, E, I, Is, &bytes);
  const int64_t up_stride = I * dc_row_bytes(fmt, H);   /* bytes per expert of gate and up */
  const int64_t down_stride = H * dc_row_bytes(fmt, I); /* bytes per expert of down */
  const int64_t k = top_k < E ? top_k : E;
  for (int64_t t = t_begin; t < t_end; ++t) {
    const float *xt = x + t * H;
    float *ot = out + t * H;

    /* p = softmax(router x). */
    dc_linear_rows(DC_W_F32, xt, 1, H, router, E, 0, E, s.probs);
    float max_logit = s.probs[0];
    for (int64_t e = 1; e < E; ++e)
      max_logit = s.probs[e] > max_logit ? s.probs[e] : max_logit;
    float total = 0.0f;
    for (int64_t e = 0; e < E; ++e) {
      s.probs[e] = dc_expf(s.probs[e] - max_logit);
      total += s.probs[e];
    }
    for (int64_t e = 0; e < E; ++e)
      s.probs[e] /= total;

    /* Top k: the first strict maximum wins, so ties go to the lower index; probabilities are
     * >= 0, so -1 marks an expert already taken. */
    float chosen_total = 0.0f;
    for (int64_t r = 0; r < k; ++r) {
      int64_t best = -1;
      float best_p = -1.0f;
      for (int64_t e = 0; e < E; ++e)
        if (s.probs[e] > best_p) {
          best = e;
          best_p = s.probs[e];
        }
      s.chosen[r] = (int32_t)best;
      s.chosen_p[r] = best_p;
      chosen_total += best_p;
      s.probs[best] = -1.0f;
    }

    for (int64_t d = 0; d < H; ++d)
      ot[d] = 0.0f;
    for (int64_t r = 0; r < k; ++r) {
      const int64_t e = s.chosen[r];
      const float weight = normalize ? s.chosen_p[r] / chosen_total : s.chosen_p[r];
      swiglu_expert(fmt, xt, H, I, (const uint8_t *)gate + e * up_stride,
                    (const uint8_t *)up + e * up_stride, (const uint8_t *)down + e * down_stride,
                    weight, &s, ot);
    }
    if (shared_gate) {
      const float weight = dc_sigmoidf(dc_dot(shared_expert_gate, xt, H));
      swiglu_expert(fmt, xt, H, Is, shared_gate, shared_up, shared_down, weight, &s, ot);
    }
  }
}

void dc_k_moe_f32_f32(const float *x, int64_t H, const float *router, int64_t E, const float *gate,
                      const float *up, const float *down, int64_t I, int64_t top_k,
                      int32_t normalize, const float *shared_gate, const float *shared_up,
                      const float *shared_down, const float *shared_expert_gate, int64_t Is,
                      int64_t t_begin, int64_t t_end, void *scratch, float *out) {
  moe_tokens(DC_W_F32, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate, shared_up,
             shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_f16(const float *x, int64_t H, const float *router, int64_t E,
                      const uint16_t *gate, const uint16_t *up, const uint16_t *down, int64_t I,
                      int64_t top_k, int32_t normalize, const uint16_t *shared_gate,
                      const uint16_t *shared_up, const uint16_t *shared_down,
                      const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                      void *scratch, float *out) {
  moe_tokens(DC_W_F16, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate, shared_up,
             shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_bf16(const float *x, int64_t H, const float *router, int64_t E,
                       const uint16_t *gate, const uint16_t *up, const uint16_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint16_t *shared_gate,
                       const uint16_t *shared_up, const uint16_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out) {
  moe_tokens(DC_W_BF16, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q8_0(const float *x, int64_t H, const float *router, int64_t E,
                       const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                       const uint8_t *shared_up, const uint8_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out) {
  moe_tokens(DC_W_Q8_0, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q4_0(const float *x, int64_t H, const float *router, int64_t E,
                       const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                       const uint8_t *shared_up, const uint8_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out) {
  moe_tokens(DC_W_Q4_0, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q4_1(const float *x, int64_t H, const float *router, int64_t E,
                       const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                       const uint8_t *shared_up, const uint8_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out) {
  moe_tokens(DC_W_Q4_1, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q4_0_g64(const float *x, int64_t H, const float *router, int64_t E,
                           const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                           int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                           const uint8_t *shared_up, const uint8_t *shared_down,
                           const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                           int64_t t_end, void *scratch, float *out) {
  moe_tokens(DC_W_Q4_0_G64, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q4_1_g64(const float *x, int64_t H, const float *router, int64_t E,
                           const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                           int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                           const uint8_t *shared_up, const uint8_t *shared_down,
                           const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                           int64_t t_end, void *scratch, float *out) {
  moe_tokens(DC_W_Q4_1_G64, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q4_0_g128(const float *x, int64_t H, const float *router, int64_t E,
                            const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                            int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                            const uint8_t *shared_up, const uint8_t *shared_down,
                            const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                            int64_t t_end, void *scratch, float *out) {
  moe_tokens(DC_W_Q4_0_G128, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}

void dc_k_moe_f32_q4_1_g128(const float *x, int64_t H, const float *router, int64_t E,
                            const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                            int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                            const uint8_t *shared_up, const uint8_t *shared_down,
                            const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                            int64_t t_end, void *scratch, float *out) {
  moe_tokens(DC_W_Q4_1_G128, x, H, router, E, gate, up, down, I, top_k, normalize, shared_gate,
             shared_up, shared_down, shared_expert_gate, Is, t_begin, t_end, scratch, out);
}
