/*===- ops_projection.c - dc_op_* for embedding, linear, lm_head, moe ------===*
 *
 * The weight-typed ops pick the kernel for the weight's dc_ws_dtype. linear and lm_head split the
 * output columns (weight rows), embedding and moe the tokens.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

/* Output-column ranges are cut on multiples of 16, so no two threads write one cache line of a
 * row of y (except where the rows of y themselves are not line-aligned). */
#define DC_COLUMN_GRANULE 16

/* Checks what the kernels assume about a weight's dtype; records a failure and returns 0 if not.
 * Packed dtypes have f32-activation kernels only for the embedding (`packed_ok`); linear and
 * lm_head read them through ops_q8act.c. */
static int dc_check_dtype(dc_exec *exec, const char *op, uint32_t dtype, int packed_ok, int64_t row,
                          int64_t row2) {
  if (dtype > DC_WS_DTYPE_MAX || (!packed_ok && dc_ws_dtype_is_packed(dtype))) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "%s: unsupported weight dtype %u (%s)", op,
                 (unsigned)dtype, dc_ws_dtype_name(dtype));
    return 0;
  }
  const int64_t group = dc_ws_dtype_group(dtype);
  if (row % group != 0 || row2 % group != 0) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "%s: a %s weight needs rows of a multiple of %lld values, got %lld", op,
                 dc_ws_dtype_name(dtype), (long long)group,
                 (long long)(row % group != 0 ? row : row2));
    return 0;
  }
  return 1;
}

/*---- embedding -------------------------------------------------------------------------------*/

typedef struct {
  uint32_t dtype;
  const void *table;
  int64_t V, H;
  const int32_t *ids;
  float *y;
} dc_embedding_args;

static void dc_embedding_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_embedding_args *a = context;
  switch (a->dtype) {
  case DC_WS_F32:
    dc_k_embedding_f32_f32(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_F16:
    dc_k_embedding_f32_f16(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_BF16:
    dc_k_embedding_f32_bf16(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q8_0:
    dc_k_embedding_f32_q8_0(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_0:
    dc_k_embedding_f32_q4_0(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_1:
    dc_k_embedding_f32_q4_1(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_0_G64:
    dc_k_embedding_f32_q4_0_g64(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_1_G64:
    dc_k_embedding_f32_q4_1_g64(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_0_G128:
    dc_k_embedding_f32_q4_0_g128(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_1_G128:
    dc_k_embedding_f32_q4_1_g128(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q8_0_PACKED:
    dc_k_embedding_f32_q8_0_packed(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_0_PACKED:
    dc_k_embedding_f32_q4_0_packed(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  case DC_WS_Q4_0_X8:
    dc_k_embedding_f32_q4_0_x8(a->table, a->V, a->H, a->ids, begin, end, a->y);
    break;
  }
}

void dc_op_embedding(dc_exec *exec, uint32_t dtype, const void *table, int64_t V, int64_t H,
                     const int32_t *ids, int64_t T, float *y) {
  if (!dc_check_dtype(exec, "embedding", dtype, 1, H, H))
    return;
  dc_embedding_args args = {dtype, table, V, H, ids, y};
  dc_exec_parallel(exec, T, 1, 2.0 * (double)H, dc_embedding_task, &args);
}

/*---- linear and lm_head ----------------------------------------------------------------------*/

typedef struct {
  uint32_t dtype;
  const float *x;
  int64_t T, K;
  const void *weight;
  int64_t N;
  float *y;
} dc_linear_args;

static void dc_linear_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_linear_args *a = context;
  switch (a->dtype) {
  case DC_WS_F32:
    dc_k_linear_f32_f32(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_F16:
    dc_k_linear_f32_f16(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_BF16:
    dc_k_linear_f32_bf16(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q8_0:
    dc_k_linear_f32_q8_0(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_0:
    dc_k_linear_f32_q4_0(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_1:
    dc_k_linear_f32_q4_1(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_0_G64:
    dc_k_linear_f32_q4_0_g64(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_1_G64:
    dc_k_linear_f32_q4_1_g64(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_0_G128:
    dc_k_linear_f32_q4_0_g128(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_1_G128:
    dc_k_linear_f32_q4_1_g128(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  }
}

void dc_op_linear(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t K,
                  const void *weight, int64_t N, float *y) {
  if (!dc_check_dtype(exec, "linear", dtype, 0, K, K))
    return;
  dc_linear_args args = {dtype, x, T, K, weight, N, y};
  dc_exec_parallel(exec, N, DC_COLUMN_GRANULE, (double)T * (double)K, dc_linear_task, &args);
}

static void dc_lm_head_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_linear_args *a = context;
  switch (a->dtype) {
  case DC_WS_F32:
    dc_k_lm_head_f32_f32(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_F16:
    dc_k_lm_head_f32_f16(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_BF16:
    dc_k_lm_head_f32_bf16(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q8_0:
    dc_k_lm_head_f32_q8_0(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_0:
    dc_k_lm_head_f32_q4_0(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_1:
    dc_k_lm_head_f32_q4_1(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_0_G64:
    dc_k_lm_head_f32_q4_0_g64(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_1_G64:
    dc_k_lm_head_f32_q4_1_g64(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_0_G128:
    dc_k_lm_head_f32_q4_0_g128(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  case DC_WS_Q4_1_G128:
    dc_k_lm_head_f32_q4_1_g128(a->x, a->T, a->K, a->weight, a->N, begin, end, a->y);
    break;
  }
}

void dc_op_lm_head(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t H,
                   const void *weight, int64_t V, float *y) {
  if (!dc_check_dtype(exec, "lm_head", dtype, 0, H, H))
    return;
  dc_linear_args args = {dtype, x, T, H, weight, V, y};
  dc_exec_parallel(exec, V, DC_COLUMN_GRANULE, (double)T * (double)H, dc_lm_head_task, &args);
}

/*---- moe -------------------------------------------------------------------------------------*/

typedef struct {
  dc_exec *exec;
  uint32_t dtype;
  const float *x;
  int64_t H;
  const float *router;
  int64_t E;
  const void *gate, *up, *down;
  int64_t I, top_k;
  int32_t normalize;
  const void *shared_gate, *shared_up, *shared_down;
  const float *shared_expert_gate;
  int64_t Is;
  float *out;
} dc_moe_args;

static void dc_moe_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_moe_args *a = context;
  void *scratch = a->exec->scratch[thread];
#define DC_MOE_CALL(fn)                                                                            \
  fn(a->x, a->H, a->router, a->E, a->gate, a->up, a->down, a->I, a->top_k, a->normalize,           \
     a->shared_gate, a->shared_up, a->shared_down, a->shared_expert_gate, a->Is, begin, end,       \
     scratch, a->out)
  switch (a->dtype) {
  case DC_WS_F32:
    DC_MOE_CALL(dc_k_moe_f32_f32);
    break;
  case DC_WS_F16:
    DC_MOE_CALL(dc_k_moe_f32_f16);
    break;
  case DC_WS_BF16:
    DC_MOE_CALL(dc_k_moe_f32_bf16);
    break;
  case DC_WS_Q8_0:
    DC_MOE_CALL(dc_k_moe_f32_q8_0);
    break;
  case DC_WS_Q4_0:
    DC_MOE_CALL(dc_k_moe_f32_q4_0);
    break;
  case DC_WS_Q4_1:
    DC_MOE_CALL(dc_k_moe_f32_q4_1);
    break;
  case DC_WS_Q4_0_G64:
    DC_MOE_CALL(dc_k_moe_f32_q4_0_g64);
    break;
  case DC_WS_Q4_1_G64:
    DC_MOE_CALL(dc_k_moe_f32_q4_1_g64);
    break;
  case DC_WS_Q4_0_G128:
    DC_MOE_CALL(dc_k_moe_f32_q4_0_g128);
    break;
  case DC_WS_Q4_1_G128:
    DC_MOE_CALL(dc_k_moe_f32_q4_1_g128);
    break;
  }
#undef DC_MOE_CALL
}

void dc_op_moe(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t H,
               const float *router, int64_t E, const void *gate, const void *up, const void *down,
               int64_t I, int64_t top_k, int32_t normalize, const void *shared_gate,
               const void *shared_up, const void *shared_down, const float *shared_expert_gate,
               int64_t Is, float *out) {
  if (!dc_check_dtype(exec, "moe", dtype, 0, H, I) ||
      (Is > 0 && !dc_check_dtype(exec, "moe", dtype, 0, Is, Is)))
    return;
  if (top_k < 1 || top_k > E) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "moe: top_k %lld is not in [1, %lld]", (long long)top_k,
                 (long long)E);
    return;
  }
  if (!dc_exec_reserve_scratch(exec, dc_k_moe_f32_scratch_bytes(H, E, I, Is)))
    return;
  dc_moe_args args = {
      exec, dtype, x,     H,         router,      E,         gate,        up,
      down, I,     top_k, normalize, shared_gate, shared_up, shared_down, shared_expert_gate,
      Is,   out};
  const double per_token = (double)E * (double)H + 3.0 * (double)top_k * (double)H * (double)I +
                           3.0 * (double)H * (double)Is;
  dc_exec_parallel(exec, T, 1, per_token, dc_moe_task, &args);
}
