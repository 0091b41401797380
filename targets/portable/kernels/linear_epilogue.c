/*===- linear_epilogue.c - linear with a fused SwiGLU and/or residual epilogue ===*
 *
 * delta.linear with `swiglu` or `residual` (docs/design/fusion.md). The shared row driver of
 * kernel_internal.h does the work: the epilogue is applied to each output right after its dot
 * product(s) are reduced, so the swiglu halves and the pre-residual sum never reach memory. Each
 * weight type gets its own entry point, as for the plain linear.
 *===----------------------------------------------------------------------===*/

#include "kernel_internal.h"

#define DC_DEFINE_LINEAR_EPILOGUE(name, ctype, fmt)                                                \
  void dc_k_linear_epilogue_f32_##name(const float *x, int64_t T, int64_t K, const ctype *weight,  \
                                       int64_t N, int32_t epilogue, const float *residual,         \
                                       int64_t n_begin, int64_t n_end, float *y) {                 \
    dc_linear_rows_epilogue(fmt, x, T, K, weight, N, epilogue, residual, n_begin, n_end, y);       \
  }

DC_DEFINE_LINEAR_EPILOGUE(f32, float, DC_W_F32)
DC_DEFINE_LINEAR_EPILOGUE(f16, uint16_t, DC_W_F16)
DC_DEFINE_LINEAR_EPILOGUE(bf16, uint16_t, DC_W_BF16)
DC_DEFINE_LINEAR_EPILOGUE(q8_0, uint8_t, DC_W_Q8_0)
DC_DEFINE_LINEAR_EPILOGUE(q4_0, uint8_t, DC_W_Q4_0)
DC_DEFINE_LINEAR_EPILOGUE(q4_1, uint8_t, DC_W_Q4_1)
DC_DEFINE_LINEAR_EPILOGUE(q4_0_g64, uint8_t, DC_W_Q4_0_G64)
DC_DEFINE_LINEAR_EPILOGUE(q4_1_g64, uint8_t, DC_W_Q4_1_G64)
DC_DEFINE_LINEAR_EPILOGUE(q4_0_g128, uint8_t, DC_W_Q4_0_G128)
DC_DEFINE_LINEAR_EPILOGUE(q4_1_g128, uint8_t, DC_W_Q4_1_G128)
