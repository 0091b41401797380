/*===- ops_q8act.c - dc_op_* for linear and lm_head with int8 activations -===*
 *
 * `deltac compile --act-quant=int8` lowers linear, linear-with-epilogue and lm_head with
 * block-quantized weights to these (kernel_abi.h, "int8 activations"). They split output columns
 * like their f32 counterparts; every thread's kernel call quantizes the activations into that
 * thread's scratch (T x K bytes and a little more), which costs far less than the call's
 * T x K x columns multiply-adds.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

/* Output-column ranges are cut on multiples of 16, as for the f32 linear (ops_projection.c). */
#define DC_Q8ACT_GRANULE 16

/* Prefill on packed weights (a linear or its epilogue, not the LM head) with at least this many
 * tokens per thread splits the tokens instead: each thread then quantizes only its own tokens'
 * activations rather than all of them. Column parts each quantize the whole T x K input, which on
 * the Zen 4 VM cost about 7% of a thread's down projection (0.8B, K = 3584, N = 1024, T = 512)
 * with 2 threads; a token part streams every weight row, as often as a column part streams its
 * half (the kernels re-read the rows once per chunk of about 120 tokens either way). The packed
 * kernels give every token the same bits for any T > 1 (linear_packed.c), and the parts are cut
 * on pairs of tokens, so none gets the T = 1 path. The cuts follow the threads' measured speeds
 * (dc_exec_parallel_balanced), as the decode column splits do: 0.8B int4 prefill of 512 tokens,
 * Zen 4 VM, 16 alternated pairs, median +2.6%, 12 of 16 faster (docs/perf-log.md). */
#define DC_Q8ACT_TOKEN_SPLIT_MIN 64

/* Checks the dtype and row length; records a failure and returns 0 if the kernels cannot. */
static int dc_q8act_check(dc_exec *exec, const char *op, uint32_t dtype, int64_t K) {
  if (dtype < DC_WS_Q8_0 || dtype > DC_WS_DTYPE_MAX) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "%s: int8 activations need a block-quantized weight, got dtype %u (%s)", op,
                 (unsigned)dtype, dc_ws_dtype_name(dtype));
    return 0;
  }
  const int64_t group = dc_ws_dtype_group(dtype);
  if (K % group != 0) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "%s: a %s weight needs rows of a multiple of %lld values, got %lld", op,
                 dc_ws_dtype_name(dtype), (long long)group, (long long)K);
    return 0;
  }
  return 1;
}

typedef struct {
  dc_exec *exec;
  uint32_t dtype;
  const float *x;
  int64_t T, K;
  const void *weight;
  int64_t N;
  int32_t epilogue; /* -1: plain linear, -2: lm_head, else a DC_K_EPILOGUE_* */
  const float *residual;
  float *y;
} dc_q8act_args;

#define DC_Q8ACT_PLAIN (-1)
#define DC_Q8ACT_LM_HEAD (-2)

static void dc_q8act_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_q8act_args *a = context;
  void *scratch = a->exec->scratch[thread];
#define DC_Q8ACT_CALL(w)                                                                           \
  do {                                                                                             \
    if (a->epilogue == DC_Q8ACT_PLAIN)                                                             \
      dc_k_linear_q8act_##w(a->x, a->T, a->K, a->weight, a->N, begin, end, scratch, a->y);         \
    else if (a->epilogue == DC_Q8ACT_LM_HEAD)                                                      \
      dc_k_lm_head_q8act_##w(a->x, a->T, a->K, a->weight, a->N, begin, end, scratch, a->y);        \
    else                                                                                           \
      dc_k_linear_epilogue_q8act_##w(a->x, a->T, a->K, a->weight, a->N, a->epilogue, a->residual,  \
                                     begin, end, scratch, a->y);                                   \
  } while (0)
  switch (a->dtype) {
  case DC_WS_Q8_0:
    DC_Q8ACT_CALL(q8_0);
    break;
  case DC_WS_Q4_0:
    DC_Q8ACT_CALL(q4_0);
    break;
  case DC_WS_Q4_1:
    DC_Q8ACT_CALL(q4_1);
    break;
  case DC_WS_Q4_0_G64:
    DC_Q8ACT_CALL(q4_0_g64);
    break;
  case DC_WS_Q4_1_G64:
    DC_Q8ACT_CALL(q4_1_g64);
    break;
  case DC_WS_Q4_0_G128:
    DC_Q8ACT_CALL(q4_0_g128);
    break;
  case DC_WS_Q4_1_G128:
    DC_Q8ACT_CALL(q4_1_g128);
    break;
  case DC_WS_Q8_0_PACKED:
    DC_Q8ACT_CALL(q8_0_packed);
    break;
  case DC_WS_Q4_0_PACKED:
    DC_Q8ACT_CALL(q4_0_packed);
    break;
  case DC_WS_Q4_0_X8:
    DC_Q8ACT_CALL(q4_0_x8);
    break;
  }
#undef DC_Q8ACT_CALL
}

/* The packed layouts, whose kernels give a token the same bits whatever T > 1 it comes with. */
static int dc_q8act_packed(uint32_t dtype) {
  return dtype == DC_WS_Q8_0_PACKED || dtype == DC_WS_Q4_0_PACKED || dtype == DC_WS_Q4_0_X8;
}

/* Decode on packed weights: the output columns the pool hands this thread, piece by piece
 * (dc_pool_run_claimed), through the claimed kernels, which quantize the token once for all of
 * them. */
static void dc_q8act_claimed_task(void *context, void *claimer, int32_t thread) {
  const dc_q8act_args *a = context;
  void *scratch = a->exec->scratch[thread];
  const int32_t epilogue = a->epilogue < 0 ? DC_K_EPILOGUE_NONE : a->epilogue;
  const uint8_t *w = a->weight;
  switch (a->dtype) {
  case DC_WS_Q8_0_PACKED:
    dc_k_linear_claimed_q8act_q8_0_packed(a->x, a->T, a->K, w, a->N, epilogue, a->residual,
                                          dc_pool_claim, claimer, scratch, a->y);
    break;
  case DC_WS_Q4_0_PACKED:
    dc_k_linear_claimed_q8act_q4_0_packed(a->x, a->T, a->K, w, a->N, epilogue, a->residual,
                                          dc_pool_claim, claimer, scratch, a->y);
    break;
  case DC_WS_Q4_0_X8:
    dc_k_linear_claimed_q8act_q4_0_x8(a->x, a->T, a->K, w, a->N, epilogue, a->residual,
                                      dc_pool_claim, claimer, scratch, a->y);
    break;
  }
}

/* Tokens [begin, end) against every output column. */
static void dc_q8act_token_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_q8act_args *a = context;
  dc_q8act_args part = *a;
  part.x = a->x + begin * a->K;
  part.T = end - begin;
  part.residual = a->residual ? a->residual + begin * a->N : NULL;
  part.y = a->y + begin * a->N;
  dc_q8act_task(&part, 0, a->N, thread);
}

static void dc_q8act_run(dc_exec *exec, const char *op, uint32_t dtype, const float *x, int64_t T,
                         int64_t K, const void *weight, int64_t N, int32_t epilogue,
                         const float *residual, float *y) {
  if (!dc_q8act_check(exec, op, dtype, K))
    return;
  if (!dc_exec_reserve_scratch(exec, dc_k_q8act_scratch_bytes(T, K)))
    return;
  dc_q8act_args args = {exec, dtype, x, T, K, weight, N, epilogue, residual, y};
  const double rows_per_column = epilogue == DC_K_EPILOGUE_SWIGLU ? 2.0 : 1.0;
  if (dc_q8act_packed(dtype) && T == 1)
    dc_exec_parallel_claimed(exec, N, DC_Q8ACT_GRANULE, rows_per_column * (double)K,
                             dc_q8act_claimed_task, &args);
  else if (epilogue != DC_Q8ACT_LM_HEAD && dc_q8act_packed(dtype) && exec->threads > 1 &&
           T >= DC_Q8ACT_TOKEN_SPLIT_MIN * exec->threads)
    dc_exec_parallel_balanced(exec, T, 2, rows_per_column * (double)N * (double)K,
                              dc_q8act_token_task, &args);
  else /* every output column's bits are the same wherever the cuts fall (kernel_abi.h) */
    dc_exec_parallel_balanced(exec, N, DC_Q8ACT_GRANULE, rows_per_column * (double)T * (double)K,
                              dc_q8act_task, &args);
}

void dc_op_linear_q8act(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t K,
                        const void *weight, int64_t N, float *y) {
  dc_q8act_run(exec, "linear_q8act", dtype, x, T, K, weight, N, DC_Q8ACT_PLAIN, 0, y);
}

void dc_op_lm_head_q8act(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t H,
                         const void *weight, int64_t V, float *y) {
  dc_q8act_run(exec, "lm_head_q8act", dtype, x, T, H, weight, V, DC_Q8ACT_LM_HEAD, 0, y);
}

void dc_op_linear_epilogue_q8act(dc_exec *exec, uint32_t dtype, const float *x, int64_t T,
                                 int64_t K, const void *weight, int64_t N, int32_t epilogue,
                                 const float *residual, float *y) {
  if (epilogue != DC_K_EPILOGUE_NONE && epilogue != DC_K_EPILOGUE_SWIGLU) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "linear_epilogue_q8act: unknown epilogue %d",
                 (int)epilogue);
    return;
  }
  dc_q8act_run(exec, "linear_epilogue_q8act", dtype, x, T, K, weight, N, epilogue, residual, y);
}
