/*===- kernel_internal.h - helpers shared by the portable C kernels -------===*
 *
 * Private to targets/portable/kernels/: math builtins, f16/bf16 and GGML block decoding, the
 * fixed-order reductions every kernel uses, and the linear driver that linear.c and moe.c share.
 * Everything here is `static inline` so each kernel file is self-contained after inlining.
 *
 * Reductions accumulate into a fixed number of lanes (a small array indexed by the position modulo
 * the lane count) and combine the lanes in a fixed tree. The inner loops then vectorize without
 * -ffast-math, and a result never depends on how a caller split the work.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TARGETS_PORTABLE_KERNEL_INTERNAL_H
#define DELTAC_TARGETS_PORTABLE_KERNEL_INTERNAL_H

#include "deltac/kernel_abi.h"

#if defined(__AVX__)
#include <immintrin.h>
#endif

#define DC_INLINE static inline __attribute__((always_inline))

/* vpdpbusd on 256-bit registers (u8 x s8 products, four to an int32 lane): with AVX-512 VNNI and
 * VL in its EVEX form, or with AVX-VNNI (Alder Lake and later Intel cores, Zen 5) in its VEX form.
 * The AVX2 int8 kernels take it where the build has it (linear_packed.c, linear_q8act.c). */
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define DC_HAS_DPBUSD256 1
#define dc_dpbusd256 _mm256_dpbusd_epi32
#elif defined(__AVXVNNI__)
#define DC_HAS_DPBUSD256 1
#define dc_dpbusd256 _mm256_dpbusd_avx_epi32
#else
#define DC_HAS_DPBUSD256 0
#endif

/* For local arrays that vector code stores to and reloads (accumulator lanes, a widened f16 chunk,
 * a block of scores): 64-byte aligned, so that the compiler realigns the function's frame and a
 * zmm store to one never splits a cache line or a page. The ABI promises a 16-byte aligned stack
 * only, so without this the arrays sit wherever a thread's call chain leaves its stack. On the Zen
 * 4 VM the pool's worker took 62-67 µs for its half of the 0.8B's f16 decode attention against the
 * caller's 34-36 µs for the other half; moving the worker's stack by 16 to 4080 bytes removed the
 * difference, moving it by 4096 did not, and realigned frames removed it (attention.c's f16 key
 * loop stored each widened chunk and reloaded part of it; on AVX-512 it now runs in registers). No
 * counters on that VM told which hazard it was (docs/perf-log.md, "The worker's stack"). */
#define DC_VEC_ALIGNED __attribute__((aligned(64)))

/* The only library functions the kernels reach (see kernel_abi.h): expf (dc_expf below) and
 * these. With -fno-math-errno sqrtf is an instruction; the others are calls a freestanding target
 * must provide. */
#define dc_log1pf(x) __builtin_log1pf(x)
#define dc_sqrtf(x) __builtin_sqrtf(x)
#define dc_sinf(x) __builtin_sinf(x)
#define dc_cosf(x) __builtin_cosf(x)
#define dc_pow(x, y) __builtin_pow(x, y)

/* e^x, bit for bit libm's expf, with the arguments whose result underflows to +0 (x below
 * -0x1.9fe368p6, about -150 ln 2: e^x is less than half the smallest subnormal) answered without
 * the call. glibc's expf (and musl's, the same code) returns +0 for exactly those, through its
 * error path, which sets errno per value: the chunked delta rule's decays of long, fast-decaying
 * segments took it thousands of times per chunk (docs/perf-log.md, "Split results as views").
 * NaN and -inf behave as in expf. */
DC_INLINE float dc_expf(float x) { return x < -0x1.9fe368p6f ? 0.0f : __builtin_expf(x); }

/* Subnormal flushing for a kernel's work (FTZ and DAZ in MXCSR on x86): an operation with a
 * subnormal operand or result takes a microcode assist on Intel cores, about a hundred cycles. The
 * chunked delta rule makes them by the thousand where a head decays fast (decays exp(segment) below
 * 2^-126, the keys and queries scaled by them, a state scaled by exp(gamma_n)): on the Emerald
 * Rapids VM its products took 59% of a 512-token prefill of the 0.8B, against 9-17% on AMD cores
 * (docs/perf-log.md, "AMX tiles"). A value below 2^-126 is then 0: the outputs move only where they
 * are themselves below about 2^-100. dc_flush_subnormals returns the caller's MXCSR for
 * dc_restore_floating_point, which the kernel calls before it returns, so the caller's own
 * floating-point mode is untouched. The work between them goes in a function that is not inlined:
 * the compiler then cannot move its arithmetic across the mode changes. No-ops elsewhere (arm64
 * handles subnormals at full speed in its vector unit). */
#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__))
DC_INLINE unsigned dc_flush_subnormals(void) {
  const unsigned csr = __builtin_ia32_stmxcsr();
  __builtin_ia32_ldmxcsr(csr | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
  return csr;
}
DC_INLINE void dc_restore_floating_point(unsigned csr) { __builtin_ia32_ldmxcsr(csr); }
#else
DC_INLINE unsigned dc_flush_subnormals(void) { return 0; }
DC_INLINE void dc_restore_floating_point(unsigned csr) { (void)csr; }
#endif

/*---- Compile-time shape specialization -------------------------------------------------------*
 * `deltac compile` rebuilds these kernels for each model with `-include` of a generated header
 * (codegen/KernelSpecializer.cpp) that defines one list of sizes per kernel family, each as
 * LIST(X, s) expanding to X(s, d0) X(s, d1) ...:
 *   DC_MODEL_ROW_DIMS    row lengths of the float-activation linear driver (linear, LM head);
 *   DC_MODEL_EXPERT_DIMS row lengths of the MoE router and experts (the same driver in moe.c);
 *   DC_MODEL_NORM_DIMS   row lengths of the rms, l2 and gated rms norms;
 *   DC_MODEL_KEY_DIMS    delta-rule key head dimensions (dk);
 *   DC_MODEL_VALUE_DIMS  delta-rule value head dimensions (dv).
 * DC_SPECIALIZE(LIST, dim, stmt) runs `stmt` with DC_DIM bound to a compile-time constant when
 * `dim` equals one of LIST's sizes, so the inlined loops get constant trip counts; any other value
 * (and every call in the prebuilt libraries, whose lists are empty) runs `stmt` with DC_DIM = dim.
 * DC_SPECIALIZE_2 does the same with DC_DIM2 for a second dimension inside the first. Every size
 * in a list is one more copy of the family's loops, so a list holds only the sizes the model's
 * calls of that family use. */
#ifndef DC_MODEL_ROW_DIMS
#define DC_MODEL_ROW_DIMS(X, s)
#endif
#ifndef DC_MODEL_EXPERT_DIMS
#define DC_MODEL_EXPERT_DIMS(X, s)
#endif
#ifndef DC_MODEL_NORM_DIMS
#define DC_MODEL_NORM_DIMS(X, s)
#endif
#ifndef DC_MODEL_KEY_DIMS
#define DC_MODEL_KEY_DIMS(X, s)
#endif
#ifndef DC_MODEL_VALUE_DIMS
#define DC_MODEL_VALUE_DIMS(X, s)
#endif
#define DC_SPECIALIZE_IF(s, value)                                                                 \
  if (dc_spec_dim == (value)) {                                                                    \
    const int64_t DC_DIM = (value);                                                                \
    s;                                                                                             \
  } else
#define DC_SPECIALIZE(list, dim, s)                                                                \
  do {                                                                                             \
    const int64_t dc_spec_dim = (dim);                                                             \
    list(DC_SPECIALIZE_IF, s) {                                                                    \
      const int64_t DC_DIM = dc_spec_dim;                                                          \
      s;                                                                                           \
    }                                                                                              \
  } while (0)
#define DC_SPECIALIZE_IF_2(s, value)                                                               \
  if (dc_spec_dim2 == (value)) {                                                                   \
    const int64_t DC_DIM2 = (value);                                                               \
    s;                                                                                             \
  } else
#define DC_SPECIALIZE_2(list, dim, s)                                                              \
  do {                                                                                             \
    const int64_t dc_spec_dim2 = (dim);                                                            \
    list(DC_SPECIALIZE_IF_2, s) {                                                                  \
      const int64_t DC_DIM2 = dc_spec_dim2;                                                        \
      s;                                                                                           \
    }                                                                                              \
  } while (0)

DC_INLINE int64_t dc_min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* A bump allocator over a kernel's scratch. Each carve takes n floats rounded up to 16, so every
 * array starts 64-byte aligned (the scratch itself is DC_K_SCRATCH_ALIGNMENT-aligned). With a NULL
 * base it only counts: a kernel's _scratch_bytes runs the same carving as the kernel, so the size
 * it reports and the layout the kernel uses cannot disagree. */
struct dc_carver {
  float *base;
  int64_t floats;
};

DC_INLINE float *dc_carve(struct dc_carver *c, int64_t n) {
  float *p = c->base ? c->base + c->floats : NULL;
  c->floats += (n + 15) / 16 * 16;
  return p;
}

/* e^x without a call or a branch, so elementwise loops over it (SiLU, sigmoid) vectorize; libm's
 * expf stays where exponentials come one at a time (softmax, decays), since it is faster there.
 * x = n ln2 + r with |r| <= ln2 / 2
 * (ln2 in two parts, Cody-Waite), e^r by Cephes' degree-7 minimax polynomial (about 1 ulp), times
 * 2^n formed in the exponent bits as 2^(n/2) 2^(n - n/2) so both factors stay normal. Results
 * below FLT_MIN flush to 0 (x < -87.34), above FLT_MAX give inf, NaN gives NaN. */
DC_INLINE float dc_expf_vec(float x) {
  const float hi = 88.72283905f, lo = -87.33654475f;
  const float xc = x > hi ? hi : x < lo ? lo : x;
  const float n = __builtin_rintf(xc * 1.44269504088896341f);
  const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t n1 = (int32_t)n / 2, n2 = (int32_t)n - n1;
  union {
    int32_t i;
    float f;
  } s1 = {(n1 + 127) << 23}, s2 = {(n2 + 127) << 23};
  const float y = p * s1.f * s2.f;
  return x != x ? x : x > hi ? __builtin_inff() : x < lo ? 0.0f : y;
}

DC_INLINE float dc_sigmoidf(float x) { return 1.0f / (1.0f + dc_expf_vec(-x)); }
DC_INLINE float dc_siluf(float x) { return x / (1.0f + dc_expf_vec(-x)); }

/*---- Bit patterns and half-precision decoding -----------------------------------------------*/

DC_INLINE float dc_bits_to_f32(uint32_t u) {
  union {
    uint32_t u;
    float f;
  } v = {u};
  return v.f;
}

DC_INLINE uint32_t dc_f32_to_bits(float f) {
  union {
    float f;
    uint32_t u;
  } v = {f};
  return v.u;
}

DC_INLINE float dc_bf16_to_f32(uint16_t b) { return dc_bits_to_f32((uint32_t)b << 16); }

/* IEEE binary16 -> binary32, exact for every input (subnormals, infinities, NaN payloads). Written
 * with selects instead of branches so loops over it vectorize. */
DC_INLINE float dc_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  const uint32_t normal = ((exponent + (127u - 15u)) << 23) | (mantissa << 13);
  const uint32_t special = 0x7F800000u | (mantissa << 13);
  /* A subnormal half is mantissa * 2^-24, exactly representable as a float. */
  const uint32_t subnormal = dc_f32_to_bits((float)mantissa * 0x1p-24f);
  const uint32_t magnitude = exponent == 0 ? subnormal : exponent == 31 ? special : normal;
  return dc_bits_to_f32(sign | magnitude);
}

/* binary32 -> binary16, rounded to nearest with ties to even (what F16C's vcvtps2ph does with
 * _MM_FROUND_TO_NEAREST_INT): finite values past the largest half round to infinity, values below
 * the smallest normal half round to a subnormal or zero, NaN stays NaN (quiet, sign and top payload
 * kept). Integer arithmetic only, so it needs no rounding mode and no -ffast-math care. */
DC_INLINE uint16_t dc_f32_to_f16(float f) {
  const uint32_t u = dc_f32_to_bits(f);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) /* NaN */
    return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  if (a >= 0x477FF000u) /* 65520 and up (halfway past 65504, odd mantissa) and infinity */
    return (uint16_t)(sign | 0x7C00u);
  if (a >= 0x38800000u) { /* a normal half: rebias the exponent, round the 13 dropped bits */
    const uint32_t r = a - 0x38000000u;
    return (uint16_t)(sign | ((r + 0x0FFFu + ((r >> 13) & 1u)) >> 13));
  }
  const uint32_t e = a >> 23;
  if (e < 102) /* below 2^-25, half the smallest subnormal: rounds to zero */
    return sign;
  /* A subnormal half counts units of 2^-24: the 24-bit significand shifted right by 126 - e. A
   * carry out of the top gives 0x400, the smallest normal, as it should. */
  const uint32_t mantissa = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - e, half = 1u << (shift - 1u);
  const uint32_t q = mantissa >> shift, rest = mantissa & ((1u << shift) - 1u);
  return (uint16_t)(sign | (q + (rest > half || (rest == half && (q & 1u)))));
}

/* A little-endian f16 at any byte address. */
DC_INLINE float dc_load_f16(const uint8_t *p) {
  return dc_f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}

/*---- Weight formats --------------------------------------------------------------------------*/

enum dc_weight_format {
  DC_W_F32,
  DC_W_F16,
  DC_W_BF16,
  DC_W_Q8_0,
  DC_W_Q4_0,
  DC_W_Q4_1,
  DC_W_Q4_0_G64,
  DC_W_Q4_1_G64,
  DC_W_Q4_0_G128,
  DC_W_Q4_1_G128
};

/* Values decoded per step of a weight row: one GGML block, or a span of a float row. */
#define DC_SPAN 32

/* Bytes of one row of K values. */
DC_INLINE int64_t dc_row_bytes(enum dc_weight_format fmt, int64_t K) {
  switch (fmt) {
  case DC_W_F32:
    return 4 * K;
  case DC_W_F16:
  case DC_W_BF16:
    return 2 * K;
  case DC_W_Q8_0:
    return K / DC_K_GGML_BLOCK * DC_K_Q8_0_BLOCK_BYTES;
  case DC_W_Q4_0:
    return K / DC_K_GGML_BLOCK * DC_K_Q4_0_BLOCK_BYTES;
  case DC_W_Q4_1:
    return K / DC_K_GGML_BLOCK * DC_K_Q4_1_BLOCK_BYTES;
  case DC_W_Q4_0_G64:
    return K / DC_K_Q4_G64_GROUP * DC_K_Q4_0_G64_BLOCK_BYTES;
  case DC_W_Q4_1_G64:
    return K / DC_K_Q4_G64_GROUP * DC_K_Q4_1_G64_BLOCK_BYTES;
  case DC_W_Q4_0_G128:
    return K / DC_K_Q4_G128_GROUP * DC_K_Q4_0_G128_BLOCK_BYTES;
  case DC_W_Q4_1_G128:
    return K / DC_K_Q4_G128_GROUP * DC_K_Q4_1_G128_BLOCK_BYTES;
  }
  return 0;
}

/* The 32 values k0 .. k0 + 31 (k0 a multiple of 32) of a row of deltac's int4 blocks of `group`
 * values (64 or 128, a constant after inlining): half or a quarter of one block, whose codes all
 * sit in the low nibbles (the first half of the block) or all in the high nibbles (the second), so
 * one shift serves the whole span. */
DC_INLINE const float *dc_decode_q4_group_span(const uint8_t *row, int64_t k0, int64_t group,
                                               int64_t block_bytes, int asymmetric, float *buf) {
  const uint8_t *block = row + k0 / group * block_bytes;
  const int64_t j = k0 % group, half = group / 2;
  const uint8_t *qs = block + (asymmetric ? 4 : 2) + j % half;
  const int shift = j >= half ? 4 : 0;
  const float d = dc_load_f16(block);
  if (asymmetric) {
    const float m = dc_load_f16(block + 2);
    for (int i = 0; i < DC_SPAN; ++i)
      buf[i] = (float)((qs[i] >> shift) & 0x0F) * d + m;
  } else {
    for (int i = 0; i < DC_SPAN; ++i)
      buf[i] = (float)(((qs[i] >> shift) & 0x0F) - 8) * d;
  }
  return buf;
}

/* Values k0 .. k0 + n - 1 of a weight row as floats (n <= DC_SPAN; for the block formats k0 is a
 * multiple of 32 and n = 32, and the row a whole number of blocks). Returns a pointer into the row
 * for f32, else decodes into buf. */
DC_INLINE const float *dc_decode_span(enum dc_weight_format fmt, const uint8_t *row, int64_t k0,
                                      int64_t n, float *buf) {
  switch (fmt) {
  case DC_W_F32:
    return (const float *)(const void *)row + k0;
  case DC_W_F16: {
    const uint16_t *w = (const uint16_t *)(const void *)row + k0;
    for (int64_t i = 0; i < n; ++i)
      buf[i] = dc_f16_to_f32(w[i]);
    return buf;
  }
  case DC_W_BF16: {
    const uint16_t *w = (const uint16_t *)(const void *)row + k0;
    for (int64_t i = 0; i < n; ++i)
      buf[i] = dc_bf16_to_f32(w[i]);
    return buf;
  }
  case DC_W_Q8_0: {
    const uint8_t *block = row + k0 / DC_K_GGML_BLOCK * DC_K_Q8_0_BLOCK_BYTES;
    const float d = dc_load_f16(block);
    const int8_t *qs = (const int8_t *)(block + 2);
    for (int i = 0; i < DC_K_GGML_BLOCK; ++i)
      buf[i] = (float)qs[i] * d;
    return buf;
  }
  case DC_W_Q4_0: {
    const uint8_t *block = row + k0 / DC_K_GGML_BLOCK * DC_K_Q4_0_BLOCK_BYTES;
    const float d = dc_load_f16(block);
    const uint8_t *qs = block + 2;
    for (int i = 0; i < DC_K_GGML_BLOCK / 2; ++i) {
      buf[i] = (float)((qs[i] & 0x0F) - 8) * d;
      buf[i + DC_K_GGML_BLOCK / 2] = (float)((qs[i] >> 4) - 8) * d;
    }
    return buf;
  }
  case DC_W_Q4_1: {
    const uint8_t *block = row + k0 / DC_K_GGML_BLOCK * DC_K_Q4_1_BLOCK_BYTES;
    const float d = dc_load_f16(block);
    const float m = dc_load_f16(block + 2);
    const uint8_t *qs = block + 4;
    for (int i = 0; i < DC_K_GGML_BLOCK / 2; ++i) {
      buf[i] = (float)(qs[i] & 0x0F) * d + m;
      buf[i + DC_K_GGML_BLOCK / 2] = (float)(qs[i] >> 4) * d + m;
    }
    return buf;
  }
  case DC_W_Q4_0_G64:
    return dc_decode_q4_group_span(row, k0, DC_K_Q4_G64_GROUP, DC_K_Q4_0_G64_BLOCK_BYTES, 0, buf);
  case DC_W_Q4_1_G64:
    return dc_decode_q4_group_span(row, k0, DC_K_Q4_G64_GROUP, DC_K_Q4_1_G64_BLOCK_BYTES, 1, buf);
  case DC_W_Q4_0_G128:
    return dc_decode_q4_group_span(row, k0, DC_K_Q4_G128_GROUP, DC_K_Q4_0_G128_BLOCK_BYTES, 0, buf);
  case DC_W_Q4_1_G128:
    return dc_decode_q4_group_span(row, k0, DC_K_Q4_G128_GROUP, DC_K_Q4_1_G128_BLOCK_BYTES, 1, buf);
  }
  return buf;
}

/*---- Fixed-order reductions ------------------------------------------------------------------*/

#define DC_LANES 16

/* Sums n lanes (a power of two) pairwise; destroys acc. With AVX the 16 lanes go the same pairwise
 * way in registers: clang kept the attention's per-key sums on the stack and added them one by one.
 */
DC_INLINE float dc_reduce_lanes(float *acc, int n) {
#if defined(__AVX__)
  if (n == 16) {
    const __m256 half = _mm256_add_ps(_mm256_loadu_ps(acc), _mm256_loadu_ps(acc + 8));
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
  }
#endif
  for (int width = n / 2; width > 0; width /= 2)
    for (int i = 0; i < width; ++i)
      acc[i] += acc[i + width];
  return acc[0];
}

DC_INLINE float dc_dot(const float *a, const float *b, int64_t n) {
  DC_VEC_ALIGNED float acc[DC_LANES] = {0};
  int64_t i = 0;
  for (; i + DC_LANES <= n; i += DC_LANES)
    for (int l = 0; l < DC_LANES; ++l)
      acc[l] += a[i + l] * b[i + l];
  for (int l = 0; i + l < n; ++l)
    acc[l] += a[i + l] * b[i + l];
  return dc_reduce_lanes(acc, DC_LANES);
}

DC_INLINE float dc_sum_squares(const float *a, int64_t n) { return dc_dot(a, a, n); }

/*---- int8 activations (linear_q8act.c, linear_packed.c) --------------------------------------*/

DC_INLINE int64_t dc_align64(int64_t n) { return (n + 63) / 64 * 64; }

/* One block of 32 activations quantized as kernel_abi.h states ("int8 activations"): d = max|x| /
 * 127 and q = x * (127 / max|x|) rounded to nearest even (the rounding of an f32 add of 1.5 * 2^23,
 * exact for |v| <= 127), in [-127, 127]. Returns the sum of the codes. import/DeltacQuants.h
 * (quantizeActivationsQ8) computes the same codes independently. */
DC_INLINE int32_t dc_q8_quantize_block(const float *restrict xb, int8_t *restrict q,
                                       float *restrict d) {
  DC_VEC_ALIGNED float m[32];
  for (int i = 0; i < 32; ++i)
    m[i] = __builtin_fabsf(xb[i]);
  for (int width = 16; width > 0; width /= 2)
    for (int i = 0; i < width; ++i)
      m[i] = m[i] > m[i + width] ? m[i] : m[i + width];
  const float amax = m[0];
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  int32_t sum = 0;
  for (int i = 0; i < 32; ++i) {
    float v = xb[i] * id;
    v = v != v ? 0.0f : v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
    const float rounded = (v + 0x1.8p23f) - 0x1.8p23f;
    const int32_t code = (int32_t)rounded;
    q[i] = (int8_t)code;
    sum += code;
  }
  *d = amax / 127.0f;
  return sum;
}

/* The packed-weight kernels (linear_packed.c) quantize the tokens in chunks whose activation data
 * (codes, per-lane offsets and scales: about 3 bytes per value for Q8_0_PACKED, 2 for
 * Q4_0_PACKED) stays within DC_PK_CHUNK_BYTES, so it is L2 resident while every weight row of the
 * call passes by. */
#define DC_PK_CHUNK_BYTES (256 * 1024)

/* The packed kernels lay the records out by tiles of DC_PK_TOKENS tokens (3 with AVX2, 4
 * elsewhere): chunks and scratch come in multiples of this, which every tile width divides. */
#define DC_PK_TOKEN_ROUND 12

/* Tokens per chunk for K values of `bytes_per_value` bytes: a multiple of DC_PK_TOKEN_ROUND, at
 * least one. */
DC_INLINE int64_t dc_pk_chunk_tokens(int64_t K, int64_t bytes_per_value) {
  const int64_t tokens = DC_PK_CHUNK_BYTES / (bytes_per_value * (K > 0 ? K : 1)) /
                         DC_PK_TOKEN_ROUND * DC_PK_TOKEN_ROUND;
  return tokens < DC_PK_TOKEN_ROUND ? DC_PK_TOKEN_ROUND : tokens;
}

/* The span records of the AVX2 prefill path (linear_packed.c, "AVX2 prefill: int16 spans"): per 8
 * blocks (256 values) Q8 takes 512 bytes of int16 codes and 8 f32 scales (DC_PK_WIDE_REC, a little
 * over 2 bytes per value), Q4 256 bytes of byte codes, 8 scales and 8 int32 corrections
 * (DC_PK_BYTE_REC). A chunk holds the tokens whose records fit DC_PK_WIDE_CHUNK_BYTES: twice the
 * bytes of the int8 records', as a row tile's panel is built once per chunk (512 KiB: the 0.8B's
 * down projection, K = 3584, on Zen 3 ran at 56 GOP/s with 256 KiB, 78 with 512 KiB, 75 with 1 MiB
 * in int16 spans). */
/* Q8 int16 spans in Winograd's form (linear_spans.h, "Winograd's inner product") where the vector
 * integer multiplies have a single 128-bit pipe (Zen 1); its records add 8 corrections (int32
 * for weights, float for tokens). */
#ifndef DC_PW_WINOGRAD
#if defined(__znver1__) && defined(__AVX2__) && !defined(__AVX512VNNI__)
#define DC_PW_WINOGRAD 1
#else
#define DC_PW_WINOGRAD 0
#endif
#endif
#define DC_PK_WIDE_REC (DC_PW_WINOGRAD ? 576 : 544)
#define DC_PK_BYTE_REC 320
#ifndef DC_PK_WIDE_CHUNK_BYTES
#define DC_PK_WIDE_CHUNK_BYTES (512 * 1024)
#endif
DC_INLINE int64_t dc_pk_wide_spans(int64_t K) { return (K + 255) / 256; }
/* But at least this many tokens per chunk: the panel (16 rows, DC_PK_WIDE_ROW_TILES below) is
 * rebuilt for every chunk, and since each record meets 16 rows per load from L2 or L3, records past
 * L2 cost less than rebuilding it for a few tokens. Zen 3 VM, 2 threads, T = 512: Q8 down
 * projections of the 0.8B (K = 3584: 60 -> 120 tokens) 190 -> 205 GOP/s and of the 2B (K = 6144:
 * 36 -> 120) 183 -> 209 (docs/perf-log.md). 516 (a 512-token prompt, or a thread's share of it,
 * in one chunk): on the Zen 1 VM the Q8 int16 panel in Winograd's form costs about as much per row
 * as a token's records, and a 256-token share of K = 1024 took 2 chunks (216 + 40), of K = 3584
 * three; 0.8B prefill, alternated pairs, 2 threads: int8 1.029x (6 of 6), int4 1.011x (5 of 6); one
 * thread, T = 512, the Q8 up projection 91.9 -> 84.9 ms, down the same (docs/perf-log.md). Zen 4 VM
 * (VNNI byte spans), 8 pairs against 120: int8 1.010x (7 of 8), int4 1.023x (6 of 8). */
#ifndef DC_PK_WIDE_MIN_TOKENS
#define DC_PK_WIDE_MIN_TOKENS 516
#endif
/* Tokens per chunk of span records of `rec` bytes: a multiple of DC_PK_TOKEN_ROUND, at least
 * DC_PK_WIDE_MIN_TOKENS. */
DC_INLINE int64_t dc_pk_wide_chunk_tokens(int64_t K, int64_t rec) {
  const int64_t per_token = dc_pk_wide_spans(K) * rec;
  const int64_t tokens = DC_PK_WIDE_CHUNK_BYTES / per_token / DC_PK_TOKEN_ROUND * DC_PK_TOKEN_ROUND;
  return tokens < DC_PK_WIDE_MIN_TOKENS ? DC_PK_WIDE_MIN_TOKENS : tokens;
}
_Static_assert(DC_PK_WIDE_MIN_TOKENS % DC_PK_TOKEN_ROUND == 0,
               "chunks hold whole token tiles (DC_PK_TOKEN_ROUND)");

/* Row tiles of 4 rows in one panel of the span path: each token tile's span records, loaded from
 * L2, then meet all of them from L1 (linear_packed.c, "One panel, four row tiles"). */
#define DC_PK_WIDE_ROW_TILES 4
/* The scratch of the span path for records of `rec` bytes: a chunk's span records, the panel of
 * DC_PK_WIDE_ROW_TILES tiles of 4 rows, and their 4 x 8 f32 lane sums per token and tile. */
DC_INLINE int64_t dc_pk_wide_scratch_bytes(int64_t T, int64_t K, int64_t rec) {
  const int64_t round = DC_PK_TOKEN_ROUND, spans = dc_pk_wide_spans(K) * rec;
  const int64_t tokens = (dc_min64(T, dc_pk_wide_chunk_tokens(K, rec)) + round - 1) / round * round;
  const int64_t rows = 4 * DC_PK_WIDE_ROW_TILES;
  return (tokens + rows) * spans + tokens * rows * 8 * 4;
}

/* The AMX path of the packed kernels (linear_amx.h) where the build has AMX-INT8 (Sapphire Rapids
 * and later, -march=native on such a machine): T >= DC_PA_MIN_TOKENS. Its scratch per chunk of
 * tokens (up to DC_PA_CHUNK_BYTES of codes, whole pairs of 16-token tiles): each token's K int8
 * codes and K / 32 f32 scales; the panel of two 16-row tiles (512 bytes of codes and 16 f32 scales
 * per block and tile); a tile's partial and final f32 sums (4 x 256) and two blocks' int32 sums
 * (2 x 256). */
#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX512VNNI__) &&                   \
    defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && defined(__F16C__)
#define DC_PK_AMX 1
#else
#define DC_PK_AMX 0
#endif
#ifndef DC_PA_MIN_TOKENS
#define DC_PA_MIN_TOKENS 16
#endif
#define DC_PA_CHUNK_BYTES (512 * 1024)
DC_INLINE int64_t dc_pa_chunk_tokens(int64_t K) {
  const int64_t tokens = DC_PA_CHUNK_BYTES / (K + K / 8) / 32 * 32;
  return tokens < 32 ? 32 : tokens;
}
DC_INLINE int64_t dc_pa_scratch_bytes(int64_t T, int64_t K) {
  const int64_t tokens = (dc_min64(T, dc_pa_chunk_tokens(K)) + 31) / 32 * 32, blocks = K / 32;
  return tokens * (K + 4 * blocks) + 2 * blocks * (512 + 64) + 6 * 1024 + 64;
}

/* What the packed kernels need of dc_k_q8act_scratch_bytes(T, K): the largest of their layouts
 * (linear_packed.c, "Activation records"), a chunk of tokens rounded up to whole token tiles, each
 * token 256 bytes per group of 128 values or 192 bytes per pair of blocks; and for T > 1 the span
 * path's (every build reserves it) for either record; and, first, a panel of 4 Q4 rows (Q4_0_X8
 * rows rearranged where the AVX2 kernels are not built). */
DC_INLINE int64_t dc_pk_scratch_bytes(int64_t T, int64_t K) {
  const int64_t groups = (K + 127) / 128 * 256, pairs = (K + 63) / 64 * 192;
  const int64_t round = DC_PK_TOKEN_ROUND;
  const int64_t q4 = (dc_min64(T, dc_pk_chunk_tokens(K, 2)) + round - 1) / round * round * groups;
  const int64_t q8 = (dc_min64(T, dc_pk_chunk_tokens(K, 3)) + round - 1) / round * round * pairs;
  int64_t most = q4 > q8 ? q4 : q8;
  if (T > 1) {
    const int64_t wide = dc_pk_wide_scratch_bytes(T, K, DC_PK_WIDE_REC);
    const int64_t bytes = dc_pk_wide_scratch_bytes(T, K, DC_PK_BYTE_REC);
    most = most > wide ? most : wide;
    most = most > bytes ? most : bytes;
    if (DC_PK_AMX && T >= DC_PA_MIN_TOKENS) {
      const int64_t amx = dc_pa_scratch_bytes(T, K);
      most = most > amx ? most : amx;
    }
  }
  return 4 * (K / 2 + K / 16) + most;
}

/*---- The linear driver ----------------------------------------------------------------------*/

/* Tokens that share one decoded span of a weight row. */
#define DC_TOKEN_TILE 4

/* Outputs per block of a swiglu linear: the block's gate rows, then its up rows, are read in order,
 * so the weight is still streamed in runs of consecutive rows. */
#define DC_SWIGLU_BLOCK 16

/* For the DC_TOKEN_TILE tokens from t0 and weight row `row`, accumulates x[t] . row and hands each
 * reduced sum to `STORE(tt, sum)`. Each weight span is decoded once for the tile; every sum
 * accumulates in DC_SPAN lanes combined by a fixed tree, so its bits depend only on its x row and
 * the weight row. A macro rather than a function returning the sums: storing the reduced sums to a
 * local array before using them makes clang keep the accumulators in memory (measured: 2x slower).
 */
#define DC_LINEAR_TILE(fmt, x, K, row, t0, tokens, STORE)                                          \
  do {                                                                                             \
    DC_VEC_ALIGNED float acc[DC_TOKEN_TILE][DC_SPAN] = {{0}};                                      \
    for (int64_t k0 = 0; k0 < (K); k0 += DC_SPAN) {                                                \
      const int64_t len = dc_min64(DC_SPAN, (K)-k0);                                               \
      DC_VEC_ALIGNED float buf[DC_SPAN];                                                           \
      const float *w = dc_decode_span((fmt), (row), k0, len, buf);                                 \
      for (int64_t tt = 0; tt < (tokens); ++tt) {                                                  \
        const float *xs = (x) + ((t0) + tt) * (K) + k0;                                            \
        for (int64_t i = 0; i < len; ++i)                                                          \
          acc[tt][i] += xs[i] * w[i];                                                              \
      }                                                                                            \
    }                                                                                              \
    for (int64_t tt = 0; tt < (tokens); ++tt) {                                                    \
      const float sum = dc_reduce_lanes(acc[tt], DC_SPAN);                                         \
      STORE;                                                                                       \
    }                                                                                              \
  } while (0)

/* y[t, n] = x[t, :] . weight[n, :] for t < T and n in [n_begin, n_end); weight [N, K] in `fmt`,
 * then the epilogue (kernel_abi.h, dc_k_linear_epilogue_*): with DC_K_EPILOGUE_SWIGLU the weight is
 * [2N, K] and y[t, n] = silu(x . weight[n]) * (x . weight[N + n]); a non-NULL residual [T, N] is
 * added last. Every dot product is one DC_LINEAR_TILE, so each has the plain linear's bits; a
 * swiglu output parks its gate sum in y until its up sum is reduced. Callers pass `epilogue` as a
 * constant, so the plain driver carries no epilogue code after inlining. */
DC_INLINE void dc_linear_rows_impl(enum dc_weight_format fmt, const float *restrict x, int64_t T,
                                   int64_t K, const void *restrict weight, int64_t N,
                                   int32_t epilogue, const float *restrict residual,
                                   int64_t n_begin, int64_t n_end, float *restrict y) {
  const int64_t row_bytes = dc_row_bytes(fmt, K);
  const uint8_t *rows = (const uint8_t *)weight;
  if (epilogue != DC_K_EPILOGUE_SWIGLU) {
    for (int64_t n = n_begin; n < n_end; ++n)
      for (int64_t t0 = 0; t0 < T; t0 += DC_TOKEN_TILE) {
        const int64_t tokens = dc_min64(DC_TOKEN_TILE, T - t0);
        float *out = y + t0 * N + n;
        if (residual) {
          const float *res = residual + t0 * N + n;
          DC_LINEAR_TILE(fmt, x, K, rows + n * row_bytes, t0, tokens,
                         out[tt * N] = sum + res[tt * N]);
        } else {
          DC_LINEAR_TILE(fmt, x, K, rows + n * row_bytes, t0, tokens, out[tt * N] = sum);
        }
      }
    return;
  }
  for (int64_t n0 = n_begin; n0 < n_end; n0 += DC_SWIGLU_BLOCK) {
    const int64_t outputs = dc_min64(DC_SWIGLU_BLOCK, n_end - n0);
    for (int64_t t0 = 0; t0 < T; t0 += DC_TOKEN_TILE) {
      const int64_t tokens = dc_min64(DC_TOKEN_TILE, T - t0);
      for (int64_t j = 0; j < outputs; ++j) {
        float *out = y + t0 * N + n0 + j;
        DC_LINEAR_TILE(fmt, x, K, rows + (n0 + j) * row_bytes, t0, tokens, out[tt * N] = sum);
      }
      for (int64_t j = 0; j < outputs; ++j) {
        float *out = y + t0 * N + n0 + j;
        const uint8_t *up = rows + (N + n0 + j) * row_bytes;
        /* The residual test is hoisted out of the tile (clang does not unswitch it), and the
         * product and the sum are separate statements, so they round apart (no FMA) as the unfused
         * kernels do. */
        if (residual) {
          const float *res = residual + t0 * N + n0 + j;
          DC_LINEAR_TILE(fmt, x, K, up, t0, tokens, {
            const float v = dc_siluf(out[tt * N]) * sum;
            out[tt * N] = v + res[tt * N];
          });
        } else {
          DC_LINEAR_TILE(fmt, x, K, up, t0, tokens, out[tt * N] = dc_siluf(out[tt * N]) * sum);
        }
      }
    }
  }
}

/* The sizes the linear driver below is specialized to: the dense linears' unless the source defines
 * another list before including this header (moe.c). */
#ifndef DC_LINEAR_ROW_DIMS
#define DC_LINEAR_ROW_DIMS DC_MODEL_ROW_DIMS
#endif

/* The linear driver with the row length specialized to the model's (see DC_SPECIALIZE). */
DC_INLINE void dc_linear_rows(enum dc_weight_format fmt, const float *restrict x, int64_t T,
                              int64_t K, const void *restrict weight, int64_t N, int64_t n_begin,
                              int64_t n_end, float *restrict y) {
  DC_SPECIALIZE(
      DC_MODEL_ROW_DIMS, K,
      dc_linear_rows_impl(fmt, x, T, DC_DIM, weight, N, DC_K_EPILOGUE_NONE, 0, n_begin, n_end, y));
}

/* The driver with an epilogue; dispatches once so each epilogue gets its own specialized loop. */
DC_INLINE void dc_linear_rows_epilogue(enum dc_weight_format fmt, const float *restrict x,
                                       int64_t T, int64_t K, const void *restrict weight, int64_t N,
                                       int32_t epilogue, const float *restrict residual,
                                       int64_t n_begin, int64_t n_end, float *restrict y) {
  if (epilogue == DC_K_EPILOGUE_SWIGLU)
    DC_SPECIALIZE(DC_LINEAR_ROW_DIMS, K,
                  dc_linear_rows_impl(fmt, x, T, DC_DIM, weight, N, DC_K_EPILOGUE_SWIGLU, residual,
                                      n_begin, n_end, y));
  else
    DC_SPECIALIZE(DC_LINEAR_ROW_DIMS, K,
                  dc_linear_rows_impl(fmt, x, T, DC_DIM, weight, N, DC_K_EPILOGUE_NONE, residual,
                                      n_begin, n_end, y));
}

#endif /* DELTAC_TARGETS_PORTABLE_KERNEL_INTERNAL_H */
