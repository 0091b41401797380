/*===- elementwise.c - add and SwiGLU --------------------------------------===*
 *
 * No restrict: the ABI lets y equal an input (in place). The compiler then vectorizes behind a
 * runtime overlap check.
 *===----------------------------------------------------------------------===*/

#include "f16_rows.h"
#include "kernel_internal.h"

void dc_k_add_f32(const float *a, const float *b, int64_t begin, int64_t end, float *y) {
  for (int64_t i = begin; i < end; ++i)
    y[i] = a[i] + b[i];
}

void dc_k_convert_f16_f32(const uint16_t *x, int64_t begin, int64_t end, float *y) {
  dc_widen_f16_row(x + begin, end - begin, y + begin);
}

void dc_k_convert_f32_f16(const float *x, int64_t begin, int64_t end, uint16_t *y) {
  dc_narrow_f16_row(x + begin, end - begin, y + begin);
}

void dc_k_swiglu_f32(const float *gate, const float *up, int64_t begin, int64_t end, float *y) {
  for (int64_t i = begin; i < end; ++i)
    y[i] = dc_siluf(gate[i]) * up[i];
}
