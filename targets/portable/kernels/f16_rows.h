/*===- f16_rows.h - rows of f16 storage widened to f32 and rounded back ----===*
 *
 * Private to targets/portable/kernels/: the f16 recurrent state (delta.gated_delta_rule with an f16
 * state) and the f16 KV cache (delta.attention with f16 caches) are read as f32 and written back
 * rounded to nearest, ties to even. With F16C (every AVX2 target) or AVX-512 the conversions are
 * the vcvtph2ps / vcvtps2ph instructions; elsewhere the exact scalar conversions of
 * kernel_internal.h, which give the same bits.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TARGETS_PORTABLE_F16_ROWS_H
#define DELTAC_TARGETS_PORTABLE_F16_ROWS_H

#include "kernel_internal.h"

#if defined(__AVX512F__) || defined(__F16C__)
#include <immintrin.h>
#endif

/* out[i] = in[i] as f32, i < n (exact). */
DC_INLINE void dc_widen_f16_row(const uint16_t *in, int64_t n, float *out) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(in + i))));
#endif
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(in + i))));
#endif
  for (; i < n; ++i)
    out[i] = dc_f16_to_f32(in[i]);
}

/* out[i] = in[i] rounded to the nearest f16 (ties to even), i < n. */
DC_INLINE void dc_narrow_f16_row(const float *in, int64_t n, uint16_t *out) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        (__m256i *)(out + i),
        _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(
        (__m128i *)(out + i),
        _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
  for (; i < n; ++i)
    out[i] = dc_f32_to_f16(in[i]);
}

/* out[i] = in[i] rounded to the nearest f16 and widened back (the value an f16 store of in[i]
 * reads back as), i < n. out may equal in. */
DC_INLINE void dc_round_f16_row(const float *in, int64_t n, float *out) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(
        out + i, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(in + i),
                                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
#endif
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        out + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(in + i),
                                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
#endif
  for (; i < n; ++i)
    out[i] = dc_f16_to_f32(dc_f32_to_f16(in[i]));
}

#endif /* DELTAC_TARGETS_PORTABLE_F16_ROWS_H */
