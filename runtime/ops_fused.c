/*===- ops_fused.c - dc_op_* for the forms delta-fuse-elementwise makes ----===*
 *
 * The linear with an epilogue splits output columns like the plain linear; the fused Gated
 * DeltaNet splits key heads, the unit its kernel owns (each key head with the value heads that read
 * it and all their conv channels), so the in-place conv-state update never races.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

/* Output-column ranges are cut on multiples of 16, as for the plain linear (ops_projection.c). */
#define DC_COLUMN_GRANULE 16

/*---- linear with an epilogue -----------------------------------------------------------------*/

typedef struct {
  uint32_t dtype;
  const float *x;
  int64_t T, K;
  const void *weight;
  int64_t N;
  int32_t epilogue;
  const float *residual;
  float *y;
} dc_linear_epilogue_args;

static void dc_linear_epilogue_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_linear_epilogue_args *a = context;
#define DC_EPILOGUE_CALL(fn)                                                                       \
  fn(a->x, a->T, a->K, a->weight, a->N, a->epilogue, a->residual, begin, end, a->y)
  switch (a->dtype) {
  case DC_WS_F32:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_f32);
    break;
  case DC_WS_F16:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_f16);
    break;
  case DC_WS_BF16:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_bf16);
    break;
  case DC_WS_Q8_0:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q8_0);
    break;
  case DC_WS_Q4_0:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q4_0);
    break;
  case DC_WS_Q4_1:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q4_1);
    break;
  case DC_WS_Q4_0_G64:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q4_0_g64);
    break;
  case DC_WS_Q4_1_G64:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q4_1_g64);
    break;
  case DC_WS_Q4_0_G128:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q4_0_g128);
    break;
  case DC_WS_Q4_1_G128:
    DC_EPILOGUE_CALL(dc_k_linear_epilogue_f32_q4_1_g128);
    break;
  }
#undef DC_EPILOGUE_CALL
}

void dc_op_linear_epilogue(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t K,
                           const void *weight, int64_t N, int32_t epilogue, const float *residual,
                           float *y) {
  if (dtype > DC_WS_DTYPE_MAX || dc_ws_dtype_is_packed(dtype)) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "linear_epilogue: unsupported weight dtype %u (%s)",
                 (unsigned)dtype, dc_ws_dtype_name(dtype));
    return;
  }
  const int64_t group = dc_ws_dtype_group(dtype);
  if (K % group != 0) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "linear_epilogue: a %s weight needs rows of a multiple of %lld values, got %lld",
                 dc_ws_dtype_name(dtype), (long long)group, (long long)K);
    return;
  }
  if (epilogue != DC_K_EPILOGUE_NONE && epilogue != DC_K_EPILOGUE_SWIGLU) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "linear_epilogue: unknown epilogue %d", (int)epilogue);
    return;
  }
  dc_linear_epilogue_args args = {dtype, x, T, K, weight, N, epilogue, residual, y};
  const double rows_per_column = epilogue == DC_K_EPILOGUE_SWIGLU ? 2.0 : 1.0;
  dc_exec_parallel(exec, N, DC_COLUMN_GRANULE, rows_per_column * (double)T * (double)K,
                   dc_linear_epilogue_task, &args);
}

/*---- gated_delta_net -------------------------------------------------------------------------*/

typedef struct {
  dc_exec *exec;
  const float *qkv, *a, *b;
  int64_t qkv_stride, a_stride, b_stride;
  int64_t T, nk, nv, dk, dv;
  const float *conv_weight;
  int64_t K;
  const float *decay, *dt_bias;
  int32_t decay_form, mapping;
  float scale, l2_eps;
  float *conv_state;
  uint32_t state_dtype;
  void *state;
  float *out;
} dc_gated_delta_net_args;

static void dc_gated_delta_net_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_gated_delta_net_args *a = context;
  if (a->state_dtype == DC_WS_F16)
    dc_k_gated_delta_net_f32_state_f16(a->qkv, a->qkv_stride, a->a, a->a_stride, a->b, a->b_stride,
                                       a->T, a->nk, a->nv, a->dk, a->dv, a->conv_weight, a->K,
                                       a->conv_state, a->decay, a->dt_bias, a->decay_form,
                                       a->mapping, a->scale, a->l2_eps, a->state, begin, end,
                                       a->exec->scratch[thread], a->out, a->conv_state, a->state);
  else
    dc_k_gated_delta_net_f32(a->qkv, a->qkv_stride, a->a, a->a_stride, a->b, a->b_stride, a->T,
                             a->nk, a->nv, a->dk, a->dv, a->conv_weight, a->K, a->conv_state,
                             a->decay, a->dt_bias, a->decay_form, a->mapping, a->scale, a->l2_eps,
                             a->state, begin, end, a->exec->scratch[thread], a->out, a->conv_state,
                             a->state);
}

void dc_op_gated_delta_net(dc_exec *exec, const float *qkv, int64_t qkv_stride, const float *a,
                           int64_t a_stride, const float *b, int64_t b_stride, int64_t T,
                           int64_t nk, int64_t nv, int64_t dk, int64_t dv, const float *conv_weight,
                           int64_t K, const float *decay, const float *dt_bias, int32_t decay_form,
                           int32_t mapping, float scale, float l2_eps, float *conv_state,
                           uint32_t state_dtype, void *state, float *out) {
  if (state_dtype != DC_WS_F32 && state_dtype != DC_WS_F16) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "gated_delta_net: unsupported state dtype %u (%s)",
                 (unsigned)state_dtype, dc_ws_dtype_name(state_dtype));
    return;
  }
  if (mapping != DC_K_HEADS_GROUPED && mapping != DC_K_HEADS_TILED) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "gated_delta_net: unknown head mapping %d",
                 (int)mapping);
    return;
  }
  if (decay_form != DC_K_DECAY_A_LOG && decay_form != DC_K_DECAY_NEG_EXP) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "gated_delta_net: unknown decay form %d",
                 (int)decay_form);
    return;
  }
  if (nk <= 0 || nv % nk != 0 || K < 2) {
    dc_exec_fail(
        exec, DC_STATUS_INTERNAL,
        "gated_delta_net: %lld value heads, %lld key heads and kernel size %lld do not fit",
        (long long)nv, (long long)nk, (long long)K);
    return;
  }
  if (qkv_stride < 2 * nk * dk + nv * dv || a_stride < nv || b_stride < nv) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "gated_delta_net: token strides %lld (qkv), %lld (a), %lld (b) are narrower than "
                 "their rows",
                 (long long)qkv_stride, (long long)a_stride, (long long)b_stride);
    return;
  }
  if (!dc_exec_reserve_scratch(exec, dc_k_gated_delta_net_f32_scratch_bytes(T, dk, dv)))
    return;
  dc_gated_delta_net_args args = {
      exec,       qkv,     a,     b,      qkv_stride,  a_stride,    b_stride, T,
      nk,         nv,      dk,    dv,     conv_weight, K,           decay,    dt_bias,
      decay_form, mapping, scale, l2_eps, conv_state,  state_dtype, state,    out};
  /* Per key head: its r value heads' recurrence (about 4 dk dv per token) dominates the conv. */
  const double per_key_head =
      (double)T * (double)(nv / nk) * (4.0 * (double)dk * (double)dv + 8.0 * (double)(dk + dv));
  /* Decode: key heads claimed piece by piece, as the GEMVs' columns (docs/runtime.md, "Work
   * claiming"), so that a worker that is late or has lost its CPU holds no heads up. */
  if (T == 1)
    dc_exec_parallel_pieces(exec, nk, 1, per_key_head, dc_gated_delta_net_task, &args);
  else
    dc_exec_parallel(exec, nk, 1, per_key_head, dc_gated_delta_net_task, &args);
}
