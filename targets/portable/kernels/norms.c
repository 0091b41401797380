/*===- norms.c - RMSNorm (plain, 1 + w), L2 norm, gated RMSNorm -----------===*
 *
 * One row at a time: a fixed-order sum of squares (kernel_internal.h), then one scaling pass that
 * reads x[i] before writing y[i], which is what makes y == x legal.
 *===----------------------------------------------------------------------===*/

#include "kernel_internal.h"

DC_INLINE void rms_norm_impl(const float *x, const float *weight, int64_t d, int32_t scale_mode,
                             float eps, int64_t row_begin, int64_t row_end, float *y) {
  const float offset = scale_mode == DC_K_NORM_ONE_PLUS ? 1.0f : 0.0f;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float *xr = x + r * d;
    float *yr = y + r * d;
    const float inv = 1.0f / dc_sqrtf(dc_sum_squares(xr, d) / (float)d + eps);
    if (scale_mode == DC_K_NORM_NONE) {
      for (int64_t i = 0; i < d; ++i)
        yr[i] = xr[i] * inv;
      continue;
    }
    for (int64_t i = 0; i < d; ++i)
      yr[i] = xr[i] * inv * (offset + weight[i]);
  }
}

DC_INLINE void l2_norm_impl(const float *x, int64_t d, float eps, int64_t row_begin,
                            int64_t row_end, float *y) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float *xr = x + r * d;
    float *yr = y + r * d;
    const float inv = 1.0f / dc_sqrtf(dc_sum_squares(xr, d) + eps);
    for (int64_t i = 0; i < d; ++i)
      yr[i] = xr[i] * inv;
  }
}

DC_INLINE void gated_rms_norm_impl(const float *x, const float *z, int64_t z_heads,
                                   int64_t z_stride, const float *weight, int64_t d, float eps,
                                   int64_t row_begin, int64_t row_end, float *y) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float *xr = x + r * d, *zr = z + (r / z_heads) * z_stride + (r % z_heads) * d;
    float *yr = y + r * d;
    const float inv = 1.0f / dc_sqrtf(dc_sum_squares(xr, d) / (float)d + eps);
    for (int64_t i = 0; i < d; ++i)
      yr[i] = xr[i] * inv * weight[i] * dc_siluf(zr[i]);
  }
}

/* The entry points: the row length specialized to the model's (kernel_internal.h, DC_SPECIALIZE).
 */

void dc_k_rms_norm_f32(const float *x, const float *weight, int64_t d, int32_t scale_mode,
                       float eps, int64_t row_begin, int64_t row_end, float *y) {
  DC_SPECIALIZE(DC_MODEL_NORM_DIMS, d,
                rms_norm_impl(x, weight, DC_DIM, scale_mode, eps, row_begin, row_end, y));
}

void dc_k_l2_norm_f32(const float *x, int64_t d, float eps, int64_t row_begin, int64_t row_end,
                      float *y) {
  DC_SPECIALIZE(DC_MODEL_NORM_DIMS, d, l2_norm_impl(x, DC_DIM, eps, row_begin, row_end, y));
}

void dc_k_gated_rms_norm_f32(const float *x, const float *z, int64_t z_heads, int64_t z_stride,
                             const float *weight, int64_t d, float eps, int64_t row_begin,
                             int64_t row_end, float *y) {
  DC_SPECIALIZE(
      DC_MODEL_NORM_DIMS, d,
      gated_rms_norm_impl(x, z, z_heads, z_stride, weight, DC_DIM, eps, row_begin, row_end, y));
}
