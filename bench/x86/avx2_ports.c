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
 *     shares their execution ports, a pair that takes as long as one of them does not.
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

/* A loop of CHAINS x (FIRST; SECOND) on integer chains a[] and float chains f[]; the asm barrier
 * keeps b and fb opaque, so nothing is hoisted or folded. Prints cycles per group. */
#define PROBE(label, FIRST, SECOND)                                                                \
  do {                                                                                             \
    __m256i a[CHAINS], b = _mm256_set1_epi8(3);                                                    \
    __m256 f[CHAINS], fb = _mm256_set1_ps(1.0f);                                                   \
    for (int k = 0; k < CHAINS; ++k) {                                                             \
      a[k] = _mm256_set1_epi16((short)(k + 1));                                                    \
      f[k] = _mm256_set1_ps((float)k);                                                             \
    }                                                                                              \
    const double t0 = now();                                                                       \
    for (long i = 0; i < ITERATIONS / 8; ++i) {                                                    \
      for (int k = 0; k < CHAINS; ++k) {                                                           \
        FIRST;                                                                                     \
        SECOND;                                                                                    \
      }                                                                                            \
      __asm__ volatile("" : "+x"(b), "+x"(fb));                                                    \
    }                                                                                              \
    const double ns = (now() - t0) / (ITERATIONS / 8.0 * CHAINS) * 1e9;                            \
    int32_t sink = 0;                                                                              \
    for (int k = 0; k < CHAINS; ++k)                                                               \
      sink += _mm256_extract_epi32(a[k], 0) + (int32_t)_mm256_cvtss_f32(f[k]);                     \
    printf("  %-28s %5.2f cycles%s\n", label, ns / cycle, sink == 12345 ? " " : "");               \
  } while (0)

#define NONE (void)0
#define MADDUBS a[k] = _mm256_maddubs_epi16(a[k], b)
#define MADDWD a[k] = _mm256_madd_epi16(a[k], b)
#define SIGN a[k] = _mm256_sign_epi8(a[k], b)
#define HADD a[k] = _mm256_hadd_epi32(a[k], b)
#define ADD a[k] = _mm256_add_epi32(a[k], b)
#define FMA f[k] = _mm256_fmadd_ps(f[k], fb, f[k])
#define MUL f[k] = _mm256_mul_ps(f[k], fb)
#define CVT f[k] = _mm256_cvtepi32_ps(_mm256_castps_si256(f[k]))
#define FADD_ADD f[k] = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(f[k]), b))
#define FSIGN f[k] = _mm256_castsi256_ps(_mm256_sign_epi8(_mm256_castps_si256(f[k]), b))
#define FHADD f[k] = _mm256_castsi256_ps(_mm256_hadd_epi32(_mm256_castps_si256(f[k]), b))

int main(void) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    printf("this CPU has no AVX2 and FMA: nothing to measure\n");
    return 77;
  }
  const double cycle = cycle_ns();
  printf("core clock %.2f GHz (from dependent adds)\n", 1.0 / cycle);
  printf("one instruction, cycles each (reciprocal throughput):\n");
  PROBE("vpmaddubsw", MADDUBS, NONE);
  PROBE("vpmaddwd", MADDWD, NONE);
  PROBE("vpsignb", SIGN, NONE);
  PROBE("vphaddd", HADD, NONE);
  PROBE("vpaddd", ADD, NONE);
  PROBE("vfmadd231ps", FMA, NONE);
  PROBE("vmulps", MUL, NONE);
  PROBE("vcvtdq2ps", CVT, NONE);
  printf("pairs, cycles per pair (about the sum: shared ports; about the larger: not):\n");
  PROBE("vpmaddubsw + vpaddd", MADDUBS, FADD_ADD);
  PROBE("vpmaddubsw + vfmadd231ps", MADDUBS, FMA);
  PROBE("vpmaddubsw + vpsignb", MADDUBS, FSIGN);
  PROBE("vpmaddubsw + vcvtdq2ps", MADDUBS, CVT);
  PROBE("vpmaddubsw + vphaddd", MADDUBS, FHADD);
  PROBE("vfmadd231ps + vpsignb", FMA, SIGN);
  PROBE("vfmadd231ps + vphaddd", FMA, HADD);
  return 0;
}
