/*===- kernel_neon.h - NEON helpers of the arm64 int8-activation kernels -===*
 *
 * Shared by linear_q8act.c and linear_packed.c, whose arm64 paths compute every output as one chain
 * acc = fma(f32(block sum), dw dx, acc) over exact int32 block sums (see their header comments).
 * Only included where __ARM_NEON is defined.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TARGETS_PORTABLE_KERNEL_NEON_H
#define DELTAC_TARGETS_PORTABLE_KERNEL_NEON_H

#include "kernel_internal.h"

#include <arm_neon.h>

/* [sum a, sum b, sum c, sum d]: four int32x4 partial sums reduced side by side, exactly (addp). */
DC_INLINE int32x4_t dc_neon_sum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

/* [a lo, b lo] and [a hi, b hi] by 64-bit halves: two rows (or two tokens) of 8 codes each, as one
 * smmla / usmmla operand takes them. */
DC_INLINE uint8x16_t dc_neon_zip1_64(uint8x16_t a, uint8x16_t b) {
  return vreinterpretq_u8_u64(vzip1q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
}
DC_INLINE uint8x16_t dc_neon_zip2_64(uint8x16_t a, uint8x16_t b) {
  return vreinterpretq_u8_u64(vzip2q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
}

/* The scales of a 4 x 4 tile's 2 x 2 mmla blocks, from the 4 rows' scales dw and the 4 tokens' dx:
 * block (p, u) = [r0 t0, r0 t1, r1 t0, r1 t1] of rows 2p, 2p + 1 and tokens 2u, 2u + 1 takes
 * dwp[p] dxp[u], with dwp[p] = [dw 2p, dw 2p, dw 2p+1, dw 2p+1], dxp[u] = [dx 2u, dx 2u+1] twice. */
DC_INLINE void dc_neon_mmla_scales(float32x4_t dw, float32x4_t dx, float32x4_t dwp[2],
                                   float32x4_t dxp[2]) {
  dwp[0] = vzip1q_f32(dw, dw);
  dwp[1] = vzip2q_f32(dw, dw);
  const float64x2_t dx64 = vreinterpretq_f64_f32(dx);
  dxp[0] = vreinterpretq_f32_f64(vdupq_laneq_f64(dx64, 0));
  dxp[1] = vreinterpretq_f32_f64(vdupq_laneq_f64(dx64, 1));
}

/* out[r][t] of a 4 x 4 tile from its 2 x 2 mmla blocks acc[p][u] (layout above). */
DC_INLINE void dc_neon_mmla_store(float32x4_t acc[2][2], float out[4][4]) {
  for (int p = 0; p < 2; ++p)
    for (int u = 0; u < 2; ++u) {
      out[2 * p][2 * u] = vgetq_lane_f32(acc[p][u], 0);
      out[2 * p][2 * u + 1] = vgetq_lane_f32(acc[p][u], 1);
      out[2 * p + 1][2 * u] = vgetq_lane_f32(acc[p][u], 2);
      out[2 * p + 1][2 * u + 1] = vgetq_lane_f32(acc[p][u], 3);
    }
}

#endif
