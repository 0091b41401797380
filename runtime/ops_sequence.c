/*===- ops_sequence.c - dc_op_* for the Gated DeltaNet and attention ops ---===*
 *
 * causal_conv1d splits channels, gdn_gates and rope tokens, the delta rule value heads, attention
 * query heads. States and KV caches are updated in place.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

/*---- causal_conv1d ---------------------------------------------------------------------------*/

typedef struct {
  const float *x;
  int64_t T, C;
  const float *weight;
  int64_t K;
  int32_t act;
  float *state, *y;
} dc_conv_args;

static void dc_conv_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_conv_args *a = context;
  dc_k_causal_conv1d_f32(a->x, a->T, a->C, a->weight, a->K, a->state, a->act, begin, end, a->y,
                         a->state);
}

void dc_op_causal_conv1d(dc_exec *exec, const float *x, int64_t T, int64_t C, const float *weight,
                         int64_t K, int32_t act, float *state, float *y) {
  if (act != DC_K_ACT_NONE && act != DC_K_ACT_SILU) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "causal_conv1d: unknown activation %d", (int)act);
    return;
  }
  dc_conv_args args = {x, T, C, weight, K, act, state, y};
  dc_exec_parallel(exec, C, 16, (double)T * (double)(K + 8), dc_conv_task, &args);
}

/*---- gdn_gates -------------------------------------------------------------------------------*/

typedef struct {
  const float *a, *b, *decay, *dt_bias;
  int64_t nv;
  int32_t decay_form;
  float *g, *beta;
} dc_gates_args;

static void dc_gates_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_gates_args *a = context;
  dc_k_gdn_gates_f32(a->a, a->b, a->decay, a->dt_bias, a->nv, a->decay_form, begin, end, a->g,
                     a->beta);
}

void dc_op_gdn_gates(dc_exec *exec, const float *a, const float *b, const float *decay,
                     const float *dt_bias, int64_t T, int64_t nv, int32_t decay_form, float *g,
                     float *beta) {
  if (decay_form != DC_K_DECAY_A_LOG && decay_form != DC_K_DECAY_NEG_EXP) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "gdn_gates: unknown decay form %d", (int)decay_form);
    return;
  }
  dc_gates_args args = {a, b, decay, dt_bias, nv, decay_form, g, beta};
  dc_exec_parallel(exec, T, 1, 32.0 * (double)nv, dc_gates_task, &args);
}

/*---- gated_delta_rule ------------------------------------------------------------------------*/

/* An f16 state (--recurrent-state-type=f16 with delta-fuse-elementwise off) is widened, head range
 * by head range, into the thread's scratch after the chunked kernel's part, updated there in f32
 * and rounded back at the end of the call, as the fused kernel does. The wide copy spans all nv
 * heads so the kernels index it as they index the state; each thread fills only its own heads. */
typedef struct {
  dc_exec *exec;
  const float *q, *k, *v, *g, *beta;
  int64_t T, nk, nv, dk, dv;
  int32_t mapping;
  float scale;
  uint32_t state_dtype;
  void *state;
  float *out;
  int64_t chunk_scratch_bytes; /* the chunked kernel's part of the scratch (T > 1), 64-aligned */
} dc_delta_args;

static void dc_delta_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_delta_args *a = context;
  void *scratch = a->exec->scratch[thread];
  const int64_t head = a->dk * a->dv;
  float *state = a->state;
  if (a->state_dtype == DC_WS_F16) {
    state = (float *)((char *)scratch + a->chunk_scratch_bytes);
    dc_k_convert_f16_f32(a->state, begin * head, end * head, state);
  }
  if (a->T == 1)
    dc_k_gated_delta_rule_recurrent_f32(a->q, a->k, a->v, a->g, a->beta, a->T, a->nk, a->nv, a->dk,
                                        a->dv, a->mapping, a->scale, state, begin, end, a->out,
                                        state);
  else
    dc_k_gated_delta_rule_chunked_f32(a->q, a->k, a->v, a->g, a->beta, a->T, a->nk, a->nv, a->dk,
                                      a->dv, a->mapping, a->scale, state, begin, end, scratch,
                                      a->out, state);
  if (a->state_dtype == DC_WS_F16)
    dc_k_convert_f32_f16(state, begin * head, end * head, a->state);
}

void dc_op_gated_delta_rule(dc_exec *exec, const float *q, const float *k, const float *v,
                            const float *g, const float *beta, int64_t T, int64_t nk, int64_t nv,
                            int64_t dk, int64_t dv, int32_t mapping, float scale,
                            uint32_t state_dtype, void *state, float *out) {
  if (state_dtype != DC_WS_F32 && state_dtype != DC_WS_F16) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "gated_delta_rule: unsupported state dtype %u (%s)",
                 (unsigned)state_dtype, dc_ws_dtype_name(state_dtype));
    return;
  }
  if (mapping != DC_K_HEADS_GROUPED && mapping != DC_K_HEADS_TILED) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "gated_delta_rule: unknown head mapping %d",
                 (int)mapping);
    return;
  }
  if (nk <= 0 || nv % nk != 0) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "gated_delta_rule: %lld value heads are not a multiple of %lld key heads",
                 (long long)nv, (long long)nk);
    return;
  }
  int64_t chunk = T > 1 ? dc_k_gated_delta_rule_chunked_f32_scratch_bytes(dk, dv) : 0;
  chunk = (chunk + 63) / 64 * 64;
  const int64_t wide = state_dtype == DC_WS_F16 ? 4 * nv * dk * dv : 0;
  if (chunk + wide > 0 && !dc_exec_reserve_scratch(exec, chunk + wide))
    return;
  dc_delta_args args = {exec, q,  k,       v,     g,           beta,  T,   nk,   nv,
                        dk,   dv, mapping, scale, state_dtype, state, out, chunk};
  const double per_head = 4.0 * (double)T * (double)dk * (double)dv;
  dc_exec_parallel(exec, nv, 1, per_head, dc_delta_task, &args);
}

/*---- rope ------------------------------------------------------------------------------------*/

typedef struct {
  const float *x;
  int64_t n, hd;
  const int32_t *positions;
  int64_t rotary_dim;
  double theta;
  float *y;
} dc_rope_args;

static void dc_rope_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_rope_args *a = context;
  dc_k_rope_f32(a->x, a->n, a->hd, a->positions, a->rotary_dim, a->theta, begin, end, a->y);
}

void dc_op_rope(dc_exec *exec, const float *x, int64_t T, int64_t n, int64_t hd,
                const int32_t *positions, int64_t rotary_dim, double theta, float *y) {
  if (rotary_dim < 0 || rotary_dim % 2 != 0 || rotary_dim > hd) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "rope: rotary dim %lld is not even and <= %lld",
                 (long long)rotary_dim, (long long)hd);
    return;
  }
  dc_rope_args args = {x, n, hd, positions, rotary_dim, theta, y};
  const double per_token = 4.0 * (double)n * (double)hd + 64.0 * (double)rotary_dim;
  dc_exec_parallel(exec, T, 1, per_token, dc_rope_task, &args);
}

/*---- attention -------------------------------------------------------------------------------*/

typedef struct {
  dc_exec *exec;
  const float *q, *k, *v, *gate;
  int64_t T, nh, nkv, hd, hdv;
  float scale;
  uint32_t cache_dtype;
  void *key_cache, *value_cache;
  int64_t S, position;
  float *out;
} dc_attention_args;

static void dc_attention_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_attention_args *a = context;
  if (a->cache_dtype == DC_WS_F16)
    dc_k_attention_f32_cache_f16(a->q, a->k, a->v, a->gate, a->T, a->nh, a->nkv, a->hd, a->hdv,
                                 a->scale, a->key_cache, a->value_cache, a->S, a->position, begin,
                                 end, a->exec->scratch[thread], a->out);
  else
    dc_k_attention_f32(a->q, a->k, a->v, a->gate, a->T, a->nh, a->nkv, a->hd, a->hdv, a->scale,
                       a->key_cache, a->value_cache, a->S, a->position, begin, end,
                       a->exec->scratch[thread], a->out);
}

void dc_op_attention(dc_exec *exec, const float *q, const float *k, const float *v,
                     const float *gate, int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv,
                     float scale, uint32_t cache_dtype, void *key_cache, void *value_cache,
                     int64_t S, int64_t position, float *out) {
  if (cache_dtype != DC_WS_F32 && cache_dtype != DC_WS_F16) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "attention: unsupported KV cache dtype %u (%s)",
                 (unsigned)cache_dtype, dc_ws_dtype_name(cache_dtype));
    return;
  }
  if (nkv <= 0 || nh % nkv != 0) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "attention: %lld query heads are not a multiple of %lld kv heads", (long long)nh,
                 (long long)nkv);
    return;
  }
  if (position < 0 || position + T > S) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "attention: %lld tokens at position %lld do not fit a cache of %lld rows",
                 (long long)T, (long long)position, (long long)S);
    return;
  }
  if (!dc_exec_reserve_scratch(exec, dc_k_attention_f32_scratch_bytes(hd, hdv)))
    return;
  dc_attention_args args = {exec, q,     k,           v,         gate,        T, nh,       nkv, hd,
                            hdv,  scale, cache_dtype, key_cache, value_cache, S, position, out};
  const double per_head = (double)T * (double)(position + T) * (double)(hd + hdv) * 1.5;
  /* Decode: query heads claimed piece by piece (docs/runtime.md, "Work claiming"), whole groups of
   * the query heads that share a kv head, whose cache rows the kernel reads once per group. */
  if (T == 1 && nkv > 0 && nh % nkv == 0)
    dc_exec_parallel_pieces(exec, nh, nh / nkv, per_head, dc_attention_task, &args);
  else
    dc_exec_parallel(exec, nh, 1, per_head, dc_attention_task, &args);
}
