/*===- ops_elementwise.c - dc_op_* for elementwise ops, norms, column moves ===*
 *
 * Each op splits its kernel's range (elements or rows) across the session's threads; the kernels
 * give the same bits for any split (kernel_abi.h, "Threading").
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

#include <string.h>

/* Element ranges are cut on 16-float (one cache line) boundaries. */
#define DC_ELEMENT_GRANULE 16

typedef struct {
  const float *a, *b;
  float *y;
} dc_binary_args;

static void dc_add_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_binary_args *args = context;
  dc_k_add_f32(args->a, args->b, begin, end, args->y);
}

void dc_op_add(dc_exec *exec, const float *a, const float *b, int64_t n, float *y) {
  dc_binary_args args = {a, b, y};
  dc_exec_parallel(exec, n, DC_ELEMENT_GRANULE, 1.0, dc_add_task, &args);
}

static void dc_swiglu_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_binary_args *args = context;
  dc_k_swiglu_f32(args->a, args->b, begin, end, args->y);
}

void dc_op_swiglu(dc_exec *exec, const float *gate, const float *up, int64_t n, float *y) {
  dc_binary_args args = {gate, up, y};
  dc_exec_parallel(exec, n, DC_ELEMENT_GRANULE, 8.0, dc_swiglu_task, &args);
}

typedef struct {
  const float *x, *z, *weight;
  int64_t z_heads, z_stride; /* the gated norm's gate layout (dc_k_gated_rms_norm_f32) */
  int64_t d;
  int32_t scale_mode;
  float eps;
  float *y;
} dc_norm_args;

static void dc_rms_norm_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_norm_args *args = context;
  dc_k_rms_norm_f32(args->x, args->weight, args->d, args->scale_mode, args->eps, begin, end,
                    args->y);
}

void dc_op_rms_norm(dc_exec *exec, const float *x, const float *weight, int64_t rows, int64_t d,
                    int32_t scale_mode, float eps, float *y) {
  if (scale_mode != DC_K_NORM_PLAIN && scale_mode != DC_K_NORM_ONE_PLUS &&
      scale_mode != DC_K_NORM_NONE) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "rms_norm: unknown scale mode %d", (int)scale_mode);
    return;
  }
  if (scale_mode != DC_K_NORM_NONE && !weight) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "rms_norm: scale mode %d needs a weight", (int)scale_mode);
    return;
  }
  dc_norm_args args = {x, NULL, weight, 1, d, d, scale_mode, eps, y};
  dc_exec_parallel(exec, rows, 1, 3.0 * (double)d, dc_rms_norm_task, &args);
}

static void dc_l2_norm_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_norm_args *args = context;
  dc_k_l2_norm_f32(args->x, args->d, args->eps, begin, end, args->y);
}

void dc_op_l2_norm(dc_exec *exec, const float *x, int64_t rows, int64_t d, float eps, float *y) {
  dc_norm_args args = {x, NULL, NULL, 1, d, d, 0, eps, y};
  dc_exec_parallel(exec, rows, 1, 3.0 * (double)d, dc_l2_norm_task, &args);
}

static void dc_gated_rms_norm_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_norm_args *args = context;
  dc_k_gated_rms_norm_f32(args->x, args->z, args->z_heads, args->z_stride, args->weight, args->d,
                          args->eps, begin, end, args->y);
}

void dc_op_gated_rms_norm(dc_exec *exec, const float *x, const float *z, int64_t z_heads,
                          int64_t z_stride, const float *weight, int64_t rows, int64_t d, float eps,
                          float *y) {
  if (z_heads < 1 || z_stride < z_heads * d) {
    dc_exec_fail(
        exec, DC_STATUS_INTERNAL,
        "gated_rms_norm: a gate of %lld rows of %lld per token cannot be %lld floats apart",
        (long long)z_heads, (long long)d, (long long)z_stride);
    return;
  }
  dc_norm_args args = {x, z, weight, z_heads, z_stride, d, 0, eps, y};
  dc_exec_parallel(exec, rows, 1, 10.0 * (double)d, dc_gated_rms_norm_task, &args);
}

/* Column moves have no kernel: they are row copies, split over rows. */
typedef struct {
  const float *x;
  int64_t x_stride, x_offset;
  float *y;
  int64_t y_stride, y_offset;
  int64_t width;
} dc_columns_args;

static void dc_columns_task(void *context, int64_t begin, int64_t end, int32_t thread) {
  const dc_columns_args *args = context;
  for (int64_t r = begin; r < end; ++r)
    memcpy(args->y + r * args->y_stride + args->y_offset,
           args->x + r * args->x_stride + args->x_offset, (size_t)args->width * sizeof(float));
}

void dc_op_last_row(dc_exec *exec, const float *x, int64_t rows, int64_t width, float *y) {
  if (rows < 1 || width < 0) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL, "last_row: %lld rows of %lld", (long long)rows,
                 (long long)width);
    return;
  }
  memcpy(y, x + (rows - 1) * width, (size_t)width * sizeof(float));
}

void dc_op_slice_columns(dc_exec *exec, const float *x, int64_t rows, int64_t in_width,
                         int64_t offset, int64_t width, float *y) {
  if (offset < 0 || width < 0 || offset + width > in_width) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "slice_columns: columns [%lld, %lld) are outside a row of %lld", (long long)offset,
                 (long long)(offset + width), (long long)in_width);
    return;
  }
  dc_columns_args args = {x, in_width, offset, y, width, 0, width};
  dc_exec_parallel(exec, rows, 1, (double)width, dc_columns_task, &args);
}

void dc_op_place_columns(dc_exec *exec, const float *x, int64_t rows, int64_t width, int64_t offset,
                         int64_t out_width, float *y) {
  if (offset < 0 || width < 0 || offset + width > out_width) {
    dc_exec_fail(exec, DC_STATUS_INTERNAL,
                 "place_columns: columns [%lld, %lld) are outside a row of %lld", (long long)offset,
                 (long long)(offset + width), (long long)out_width);
    return;
  }
  dc_columns_args args = {x, width, 0, y, out_width, offset, width};
  dc_exec_parallel(exec, rows, 1, (double)width, dc_columns_task, &args);
}
