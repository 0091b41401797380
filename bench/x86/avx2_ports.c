/*===- avx2_ports.c - throughput of the instructions in the AVX2 int8 kernels ---===*
 *
 * The AVX2 packed kernels (targets/portable/kernels/linear_packed.c) are bound by how many of
 * their instructions the core can issue per cycle, not by memory. This probe measures, on the
 * machine it runs on:
 *   - the core clock, from a chain of dependent 64-bit adds (one per cycle on every x86 core);
 *   - the reciprocal throughput, in cycles, of each 256-bit instruction the kernels use, from
 *     6 independent chains (few enough to stay in registers; a latency of L cycles floors a
 *     figure at L / 6, e.g. 0.67 for a 4-cycle FMA);
 *   - the same for pairs of instructions: a pair that takes as long as its two parts together
 *     shares their execution ports, a pair that takes as long as one of them does not;
 *   - the multiply-accumulate steps as the kernels issue them: 8 accumulators, each step
 *     acc += multiply(w, x) with the multiplies independent of each other and only the adds
 *     chained (a 4 x 2 span tile). The pair figures above chain the multiply on itself, so a
 *     multiply's latency floors them (vpmaddubsw + vpaddd reads 0.73 on Zen 3 where the
 *     accumulate step below takes the multiply's own 0.5 to 0.6). The last step is Winograd's
 *     form of the int16 product, per 32 values instead of 16 (docs/perf-log.md, "Prefetch bursts on
 *     the Zen 3 VM": the same instructions per value, so no faster).
 * docs/kernels.md ("What bounds the AVX2 tiles") reads the figures for Zen 4.
 *
 * Built as build/bin/deltac-avx2-ports (bench/CMakeLists.txt), or by hand with clang, the
 * kernels' compiler (gcc 12 builds a slower loop of this file, whose figures are not the
 * instructions'):
 *   clang-22 -O2 -mavx2 -mfma bench/x86/avx2_ports.c -o avx2_ports && ./avx2_ports
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CHAINS 6
#define ITERATIONS 40000000L

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Nanoseconds per cycle: ITERATIONS x 8 dependent adds. */
static double cycle_ns(void) {
  uint64_t x = 1;
  const double t0 = now();
  for (long i = 0; i < ITERATIONS; ++i)
    __asm__ volatile("add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
                     "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0"
                     : "+r"(x));
  return (now() - t0) / (ITERATIONS * 8.0) * 1e9;
}

/* The instructions, as updates of one chain v (an __m256i; the float ones reinterpret it). b and
 * fb are the probe's opaque second operands. */
#define AS_PS(v) _mm256_castsi256_ps(v)
#define AS_SI(v) _mm256_castps_si256(v)
#define MADDUBS(v) v = _mm256_maddubs_epi16(v, b)
#define MADDWD(v) v = _mm256_madd_epi16(v, b)
#define SIGN(v) v = _mm256_sign_epi8(v, b)
#define HADD(v) v = _mm256_hadd_epi32(v, b)
#define ADD(v) v = _mm256_add_epi32(v, b)
#define FMA(v) v = AS_SI(_mm256_fmadd_ps(AS_PS(v), fb, AS_PS(v)))
#define MUL(v) v = AS_SI(_mm256_mul_ps(AS_PS(v), fb))
#define CVT(v) v = AS_SI(_mm256_cvtepi32_ps(v))
#define NONE(v) (void)(v)

/* X(label, instruction) for each instruction the AVX2 tiles use. */
#define INSTRUCTIONS(X)                                                                            \
  X("vpmaddubsw", MADDUBS)                                                                         \
  X("vpmaddwd", MADDWD)                                                                            \
  X("vpsignb", SIGN) X("vphaddd", HADD) X("vpaddd", ADD) X("vfmadd231ps", FMA) X("vmulps", MUL)    \
      X("vcvtdq2ps", CVT)

/* A loop of CHAINS x (FIRST on chain a[k]; SECOND on chain f[k]); the asm barrier keeps b and fb
 * opaque, so nothing is hoisted or folded. The chains start as normal floats (FMA and multiply
 * keep them normal, then infinite), so no instruction meets a denormal. Prints cycles per group. */
#define PROBE(label, FIRST, SECOND)                                                                \
  do {                                                                                             \
    __m256i a[CHAINS], f[CHAINS], b = _mm256_set1_epi8(3);                                         \
    __m256 fb = _mm256_set1_ps(1.0f);                                                              \
    for (int k = 0; k < CHAINS; ++k)                                                               \
      a[k] = f[k] = AS_SI(_mm256_set1_ps((float)(k + 1)));                                         \
    const double t0 = now();                                                                       \
    for (long i = 0; i < ITERATIONS / 8; ++i) {                                                    \
      for (int k = 0; k < CHAINS; ++k) {                                                           \
        FIRST(a[k]);                                                                               \
        SECOND(f[k]);                                                                              \
      }                                                                                            \
      __asm__ volatile("" : "+x"(b), "+x"(fb));                                                    \
    }                                                                                              \
    const double ns = (now() - t0) / (ITERATIONS / 8.0 * CHAINS) * 1e9;                            \
    int32_t sink = 0;                                                                              \
    for (int k = 0; k < CHAINS; ++k)                                                               \
      sink += _mm256_extract_epi32(a[k], 0) + _mm256_extract_epi32(f[k], 0);                       \
    printf("  %-28s %5.2f cycles%s\n", label, ns / cycle, sink == 12345 ? " " : "");               \
  } while (0)

#define ALONE(label, OP) PROBE(label, OP, NONE);
#define WITH_MADDUBS(label, OP) PROBE("vpmaddubsw + " label, MADDUBS, OP);
#define WITH_FMA(label, OP) PROBE("vfmadd231ps + " label, FMA, OP);

/* 8 accumulators, each step acc[k] = ACC(acc[k], MUL(w[k / 2], x[k % 2])), as the 4 x 2 span
 * tiles do; the asm barrier makes w and x new values every iteration. Prints cycles per step. */
#define ACCUMULATE(label, MUL, ACC)                                                                \
  do {                                                                                             \
    __m256i acc[8], x0 = _mm256_set1_epi8(1), x1 = _mm256_set1_epi8(2);                            \
    __m256i w0 = _mm256_set1_epi8(3), w1 = _mm256_set1_epi8(4), w2 = _mm256_set1_epi8(5);          \
    __m256i w3 = _mm256_set1_epi8(6);                                                              \
    for (int k = 0; k < 8; ++k)                                                                    \
      acc[k] = _mm256_set1_epi32(k);                                                               \
    const double t0 = now();                                                                       \
    for (long i = 0; i < ITERATIONS / 8; ++i) {                                                    \
      acc[0] = ACC(acc[0], MUL(w0, x0));                                                           \
      acc[1] = ACC(acc[1], MUL(w0, x1));                                                           \
      acc[2] = ACC(acc[2], MUL(w1, x0));                                                           \
      acc[3] = ACC(acc[3], MUL(w1, x1));                                                           \
      acc[4] = ACC(acc[4], MUL(w2, x0));                                                           \
      acc[5] = ACC(acc[5], MUL(w2, x1));                                                           \
      acc[6] = ACC(acc[6], MUL(w3, x0));                                                           \
      acc[7] = ACC(acc[7], MUL(w3, x1));                                                           \
      __asm__ volatile("" : "+x"(x0), "+x"(x1), "+x"(w0), "+x"(w1), "+x"(w2), "+x"(w3));           \
    }                                                                                              \
    const double ns = (now() - t0) / (ITERATIONS / 8.0 * 8) * 1e9;                                 \
    int32_t sink = 0;                                                                              \
    for (int k = 0; k < 8; ++k)                                                                    \
      sink += _mm256_extract_epi32(acc[k], 0);                                                     \
    printf("  %-28s %5.2f cycles%s\n", label, ns / cycle, sink == 12345 ? " " : "");               \
  } while (0)

static inline __m256i madd_then_widen(__m256i w, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
}

/* The instructions of Winograd's inner product per 32 values and pair: sums w0 + x1 and w1 + x0
 * (two vpaddw), their products added in pairs by one vpmaddwd, the per-row and per-token sums of
 * w0 w1 and x0 x1 made once and subtracted later. Half the multiplies of the int16 step, the same
 * instruction count per 32 values (two such steps). Here the sums are w + x and w - x: the same
 * instructions and dependences, not the same values. */
static inline __m256i winograd_sums(__m256i w, __m256i x) {
  return _mm256_madd_epi16(_mm256_add_epi16(w, x), _mm256_sub_epi16(w, x));
}

int main(void) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    printf("this CPU has no AVX2 and FMA: nothing to measure\n");
    return 77;
  }
  const double cycle = cycle_ns();
  printf("core clock %.2f GHz (from dependent adds)\n", 1.0 / cycle);
  printf("one instruction, cycles each (reciprocal throughput):\n");
  INSTRUCTIONS(ALONE)
  printf("pairs, cycles per pair (about the sum: shared ports; about the larger: not):\n");
  INSTRUCTIONS(WITH_MADDUBS)
  INSTRUCTIONS(WITH_FMA)
  printf("accumulate steps, cycles per step (8 accumulators, independent multiplies):\n");
  ACCUMULATE("vpmaddwd -> vpaddd", _mm256_madd_epi16, _mm256_add_epi32);
  ACCUMULATE("vpmaddubsw -> vpaddw", _mm256_maddubs_epi16, _mm256_add_epi16);
  ACCUMULATE("vpmaddubsw, vpmaddwd -> vpaddd", madd_then_widen, _mm256_add_epi32);
  ACCUMULATE("vpaddw x2, vpmaddwd -> vpaddd", winograd_sums, _mm256_add_epi32);
  return 0;
}
