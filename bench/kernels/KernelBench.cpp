//===- KernelBench.cpp - microbenchmarks of the hot kernels ---------------===//
//
// Google Benchmark over the kernel ABI (codegen/include/deltac/kernel_abi.h) at the shapes of
// Qwen3.5-0.8B (and 2B where it is cheap): linear GEMV (T = 1) and GEMM (T = 64, 512) in every
// weight type, with f32 activations and with int8 activations (the q8act kernels, named
// q8act_<weight type>, including the packed rows of the delta-pack-weights pass: q8act_q8_0_packed,
// q8act_q4_0_packed), the fused SwiGLU linear, the LM head, the delta rule (recurrent and
// chunked), the fused Gated DeltaNet, attention (decode against a cache of 512 / 4096 positions,
// prefill of 512; f32 and f16 caches), RMSNorm and the causal conv. The decode steps of attention
// and of the fused Gated DeltaNet also run with the stack 16, 32 and 48 bytes lower
// (`/stack_pad:N`), since the ABI only promises a 16-byte aligned stack and a thread of the pool
// may enter a kernel at any of the four 16-byte offsets within a cache line: the four times should
// agree.
//
// Every benchmark reports
//   bw          bytes moved per second: the compulsory traffic of one call (every weight, input,
//               output and state read or written once), not what the caches see
//   flops       floating-point operations per second (multiply-add = 2), where the op has a count
//   of_peak_bw  bw / the machine's read bandwidth at the same thread count, measured at start
//   of_peak_fma flops / the machine's f32 FMA peak at the same thread count, measured at start
//   int8_ops, of_peak_vnni   for the q8act kernels instead of flops: int8 multiply-adds (x 2) per
//               second, and their fraction of the vpdpbusd peak
// The peaks are measured once before the benchmarks (the approach of bench/bandwidth.c for the
// bandwidth: a 1 GiB buffer read with wide loads, best of 5 passes; a register-only FMA loop for
// the compute peak) and printed in the context header (JSON: "context").
//
// Weights, KV caches and delta-rule states rotate through copies that together exceed
// --deltac_rotate_mib (default 128 MiB, four times the L3 of the development machine), so each call
// reads them from memory as a decode step does, where the whole model streams by between two uses
// of one matrix. Small activations stay cache resident, as they do in the runtime.
//
// Extra flags (before the --benchmark_* flags are parsed):
//   --deltac_peak_mib=N    size of the bandwidth probe's buffer (default 1024; 0 skips the peaks)
//   --deltac_rotate_mib=N  total size of the rotated copies (default 128)
//   --deltac_stack_pad=N   bytes (a multiple of 16, below 65536) the decode cases of attention and
//                          the fused Gated DeltaNet move the stack by, on top of their own
//                          `/stack_pad:N` (default 0): a sweep over 0..4080 in steps of 16 puts
//                          their stack temporaries at every offset within a page
//
// Timing is wall-clock (UseRealTime): the _2t variants split the range across this thread and one
// helper thread the way the runtime's pool does (runtime/pool.c: the same spin-then-sleep
// handshake, ranges cut on multiples of 16 rows).
//===----------------------------------------------------------------------===//

#include "deltac/kernel_abi.h"

#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__GNUC__)
#include <alloca.h>
#endif

#ifndef DELTAC_BENCH_KERNELS
#define DELTAC_BENCH_KERNELS "unknown kernel library"
#endif

namespace {

//===----------------------------------------------------------------------===//
// Buffers and random contents
//===----------------------------------------------------------------------===//

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};

/// A page-aligned allocation of at least `bytes` bytes (rounded up to whole pages). From 2 MiB on
/// it is 2 MiB aligned and asks for transparent huge pages, as the runtime holds the weights
/// (docs/runtime.md, "Model") and as the bandwidth probe reads (bench/bandwidth.c).
class Buffer {
public:
  Buffer() = default;
  explicit Buffer(size_t bytes) : bytes_(bytes) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t page = bytes >= kHuge ? kHuge : 4096;
    const size_t rounded = (std::max<size_t>(bytes, 1) + page - 1) / page * page;
    ptr_.reset(std::aligned_alloc(page, rounded));
    if (!ptr_) {
      std::fprintf(stderr, "deltac-kernel-bench: cannot allocate %zu bytes\n", rounded);
      std::exit(1);
    }
#ifdef MADV_HUGEPAGE
    if (page == kHuge)
      (void)madvise(ptr_.get(), rounded, MADV_HUGEPAGE); // advice only
#endif
  }
  template <class T> T *as() const { return static_cast<T *>(ptr_.get()); }
  uint8_t *bytes() const { return as<uint8_t>(); }
  size_t size() const { return bytes_; }

private:
  std::unique_ptr<void, FreeDeleter> ptr_;
  size_t bytes_ = 0;
};

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Uniform floats in [lo, hi).
void fillUniform(float *p, size_t n, float lo, float hi, uint64_t seed) {
  for (size_t i = 0; i < n; ++i)
    p[i] = lo + (hi - lo) * (float)(splitmix64(seed) >> 40) * 0x1p-24f;
}

/// Rows of `n` values scaled to unit L2 norm (delta-rule queries and keys are L2-normalized).
void fillUnitRows(float *p, size_t rows, size_t n, uint64_t seed) {
  fillUniform(p, rows * n, -1.0f, 1.0f, seed);
  for (size_t r = 0; r < rows; ++r) {
    double s = 0;
    for (size_t i = 0; i < n; ++i)
      s += (double)p[r * n + i] * p[r * n + i];
    const float inv = (float)(1.0 / std::sqrt(s));
    for (size_t i = 0; i < n; ++i)
      p[r * n + i] *= inv;
  }
}

//===----------------------------------------------------------------------===//
// Weight formats
//===----------------------------------------------------------------------===//

using LinearFn = void (*)(const float *, int64_t, int64_t, const void *, int64_t, int64_t, int64_t,
                          float *);
using EpilogueFn = void (*)(const float *, int64_t, int64_t, const void *, int64_t, int32_t,
                            const float *, int64_t, int64_t, float *);

enum class Kind { F32, F16, BF16, Block, Packed };

struct Format {
  const char *name;
  Kind kind;
  int64_t group;      // values per block (1 for the float types)
  int64_t blockBytes; // bytes per block (per value for the float types)
  int scales;         // f16 fields at the start of each block: 1 (d) or 2 (d, m)
  LinearFn linear;    // the f32-activation kernels (null for the packed rows: int8 only)
  LinearFn lmHead;
  EpilogueFn epilogue;

  int64_t rowBytes(int64_t K) const { return K / group * blockBytes; }
};

// clang-format off
#define DC_BENCH_FORMAT(w, ctype, kind, group, block, scales)                                      \
  Format{#w,                                                                                       \
         kind,                                                                                     \
         group,                                                                                    \
         block,                                                                                    \
         scales,                                                                                   \
         [](const float *x, int64_t T, int64_t K, const void *wt, int64_t N, int64_t b, int64_t e, \
            float *y) {                                                                            \
           dc_k_linear_f32_##w(x, T, K, static_cast<const ctype *>(wt), N, b, e, y);               \
         },                                                                                        \
         [](const float *x, int64_t T, int64_t K, const void *wt, int64_t N, int64_t b, int64_t e, \
            float *y) {                                                                            \
           dc_k_lm_head_f32_##w(x, T, K, static_cast<const ctype *>(wt), N, b, e, y);              \
         },                                                                                        \
         [](const float *x, int64_t T, int64_t K, const void *wt, int64_t N, int32_t ep,           \
            const float *r, int64_t b, int64_t e, float *y) {                                      \
           dc_k_linear_epilogue_f32_##w(x, T, K, static_cast<const ctype *>(wt), N, ep, r, b, e,   \
                                        y);                                                        \
         }}
// clang-format on

// Every weight type kernel_abi.h declares for linear / lm_head / linear_epilogue.
const std::vector<Format> &formats() {
  static const std::vector<Format> all = {
      DC_BENCH_FORMAT(f32, float, Kind::F32, 1, 4, 0),
      DC_BENCH_FORMAT(f16, uint16_t, Kind::F16, 1, 2, 0),
      DC_BENCH_FORMAT(bf16, uint16_t, Kind::BF16, 1, 2, 0),
      DC_BENCH_FORMAT(q8_0, uint8_t, Kind::Block, DC_K_GGML_BLOCK, DC_K_Q8_0_BLOCK_BYTES, 1),
      DC_BENCH_FORMAT(q4_0, uint8_t, Kind::Block, DC_K_GGML_BLOCK, DC_K_Q4_0_BLOCK_BYTES, 1),
      DC_BENCH_FORMAT(q4_1, uint8_t, Kind::Block, DC_K_GGML_BLOCK, DC_K_Q4_1_BLOCK_BYTES, 2),
      DC_BENCH_FORMAT(q4_0_g64, uint8_t, Kind::Block, DC_K_Q4_G64_GROUP, DC_K_Q4_0_G64_BLOCK_BYTES,
                      1),
      DC_BENCH_FORMAT(q4_1_g64, uint8_t, Kind::Block, DC_K_Q4_G64_GROUP, DC_K_Q4_1_G64_BLOCK_BYTES,
                      2),
      DC_BENCH_FORMAT(q4_0_g128, uint8_t, Kind::Block, DC_K_Q4_G128_GROUP,
                      DC_K_Q4_0_G128_BLOCK_BYTES, 1),
      DC_BENCH_FORMAT(q4_1_g128, uint8_t, Kind::Block, DC_K_Q4_G128_GROUP,
                      DC_K_Q4_1_G128_BLOCK_BYTES, 2),
  };
  return all;
}

// The packed rows of the delta-pack-weights pass (kernel_abi.h, "Packed rows"): the bytes of Q8_0 /
// Q4_0 rearranged as codes then f16 scales. Only the int8-activation kernels read them.
const std::vector<Format> &packedFormats() {
  static const std::vector<Format> all = {
      Format{"q8_0_packed", Kind::Packed, DC_K_GGML_BLOCK, DC_K_Q8_0_BLOCK_BYTES, 1, nullptr,
             nullptr, nullptr},
      Format{"q4_0_packed", Kind::Packed, DC_K_GGML_BLOCK, DC_K_Q4_0_BLOCK_BYTES, 1, nullptr,
             nullptr, nullptr},
      Format{"q4_0_x8", Kind::Packed, DC_K_GGML_BLOCK, DC_K_Q4_0_BLOCK_BYTES, 1, nullptr, nullptr,
             nullptr},
  };
  return all;
}

const Format &format(const char *name) {
  for (const std::vector<Format> *list : {&formats(), &packedFormats()})
    for (const Format &f : *list)
      if (std::strcmp(f.name, name) == 0)
        return f;
  std::fprintf(stderr, "deltac-kernel-bench: no format %s\n", name);
  std::exit(1);
}

// The int8-activation kernels (kernel_abi.h, "int8 activations"): one per block weight type, each
// quantizing x into its own scratch.
using Q8LinearFn = void (*)(const float *, int64_t, int64_t, const uint8_t *, int64_t, int64_t,
                            int64_t, void *, float *);
using Q8EpilogueFn = void (*)(const float *, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                              const float *, int64_t, int64_t, void *, float *);

struct Q8Act {
  const char *weight; // the weight format's name
  Q8LinearFn linear, lmHead;
  Q8EpilogueFn epilogue;
};

#define DC_BENCH_Q8ACT(w)                                                                          \
  Q8Act { #w, dc_k_linear_q8act_##w, dc_k_lm_head_q8act_##w, dc_k_linear_epilogue_q8act_##w }

const std::vector<Q8Act> &q8acts() {
  static const std::vector<Q8Act> all = {
      DC_BENCH_Q8ACT(q8_0),      DC_BENCH_Q8ACT(q4_0),        DC_BENCH_Q8ACT(q4_1),
      DC_BENCH_Q8ACT(q4_0_g64),  DC_BENCH_Q8ACT(q4_1_g64),    DC_BENCH_Q8ACT(q4_0_g128),
      DC_BENCH_Q8ACT(q4_1_g128), DC_BENCH_Q8ACT(q8_0_packed), DC_BENCH_Q8ACT(q4_0_packed),
      DC_BENCH_Q8ACT(q4_0_x8),
  };
  return all;
}

const Q8Act &q8act(const char *weight) {
  for (const Q8Act &q : q8acts())
    if (std::strcmp(q.weight, weight) == 0)
      return q;
  std::fprintf(stderr, "deltac-kernel-bench: no q8act kernel for %s\n", weight);
  std::exit(1);
}

/// Fills `bytes` of weights in format `f` (rows of K values from p) with finite, normal values of
/// weight-like magnitude: random codes in the blocks and f16 scales around 2^-8 (no NaN, infinity
/// or subnormal, which could change a kernel's speed).
void fillWeights(const Format &f, uint8_t *p, size_t bytes, int64_t K, uint64_t seed) {
  switch (f.kind) {
  case Kind::F32:
    fillUniform(reinterpret_cast<float *>(p), bytes / 4, -0.05f, 0.05f, seed);
    return;
  case Kind::F16:
    for (size_t i = 0; i + 2 <= bytes; i += 2) {
      const uint64_t r = splitmix64(seed);
      // sign | exponent 7..10 (2^-8 .. 2^-5) | mantissa
      const uint16_t h =
          (uint16_t)(((r >> 20) & 1) << 15 | (7 + (r >> 16 & 3)) << 10 | (r & 0x3FF));
      std::memcpy(p + i, &h, 2);
    }
    return;
  case Kind::BF16:
    for (size_t i = 0; i + 2 <= bytes; i += 2) {
      const uint64_t r = splitmix64(seed);
      // sign | exponent 119..122 (2^-8 .. 2^-5) | mantissa
      const uint16_t h =
          (uint16_t)(((r >> 20) & 1) << 15 | (119 + (r >> 16 & 3)) << 7 | (r & 0x7F));
      std::memcpy(p + i, &h, 2);
    }
    return;
  case Kind::Block: {
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
      const uint64_t r = splitmix64(seed);
      std::memcpy(p + i, &r, 8);
    }
    for (; i < bytes; ++i)
      p[i] = (uint8_t)splitmix64(seed);
    const uint16_t d = 0x1C00 | 0x155; // about 2^-8 * 1.33
    const uint16_t m = 0x9C00 | 0x0AA; // about -2^-8 * 1.17
    for (size_t b = 0; b + f.blockBytes <= bytes; b += f.blockBytes) {
      std::memcpy(p + b, &d, 2);
      if (f.scales == 2)
        std::memcpy(p + b + 2, &m, 2);
    }
    return;
  }
  case Kind::Packed: { // random codes, then the row's K / 32 scales
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
      const uint64_t r = splitmix64(seed);
      std::memcpy(p + i, &r, 8);
    }
    const uint16_t d = 0x1C00 | 0x155;
    const size_t rowBytes = (size_t)f.rowBytes(K), scaleBytes = (size_t)(K / f.group * 2);
    for (size_t row = 0; row + rowBytes <= bytes; row += rowBytes)
      for (size_t b = rowBytes - scaleBytes; b < rowBytes; b += 2)
        std::memcpy(p + row + b, &d, 2);
    return;
  }
  }
}

//===----------------------------------------------------------------------===//
// Options, peaks, counters
//===----------------------------------------------------------------------===//

struct Options {
  int64_t peakMiB = 1024;
  int64_t rotateMiB = 128;
  int64_t stackPad = 0;
};
Options options;

struct Peaks {
  bool measured = false;
  double readGBs[2] = {0, 0};   // 1 and 2 threads
  double fmaGflops[2] = {0, 0}; // 1 and 2 threads
  double vnniGops[2] = {0, 0};  // 1 and 2 threads (0 without AVX-512 VNNI or AVX-VNNI)
};
Peaks peaks;

/// How many copies of an object of `bytes` rotate so that together they exceed the rotation size.
int64_t copiesFor(size_t bytes) {
  const double total = (double)options.rotateMiB * 1048576.0;
  return std::max<int64_t>(1, (int64_t)std::ceil(total / (double)std::max<size_t>(bytes, 1)));
}

size_t roundPage(size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

/// Sets the rate counters. `bytes` and `ops` are per iteration; `threads` selects the peaks. `ops`
/// are f32 flops (against the FMA peak), or with `int8` the multiply-adds of int8 dot products
/// counted as 2 (against the vpdpbusd peak). of_peak_* use the loop's own wall-clock time, which is
/// the benchmark's real time.
void report(benchmark::State &state, double seconds, double bytes, double ops, int threads,
            bool int8 = false) {
  using benchmark::Counter;
  state.counters["bw"] = Counter(bytes, Counter::kIsIterationInvariantRate, Counter::kIs1000);
  if (ops > 0)
    state.counters[int8 ? "int8_ops" : "flops"] =
        Counter(ops, Counter::kIsIterationInvariantRate, Counter::kIs1000);
  if (!peaks.measured || seconds <= 0)
    return;
  const double iterations = (double)state.iterations();
  const int t = threads > 1 ? 1 : 0;
  state.counters["of_peak_bw"] = bytes * iterations / seconds / (peaks.readGBs[t] * 1e9);
  const double peak = int8 ? peaks.vnniGops[t] : peaks.fmaGflops[t];
  if (ops > 0 && peak > 0)
    state.counters[int8 ? "of_peak_vnni" : "of_peak_fma"] =
        ops * iterations / seconds / (peak * 1e9);
}

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

//----- Read bandwidth (the approach of bench/bandwidth.c) --------------------------------------//

uint64_t readSlice(const uint64_t *p, size_t words) {
  // Eight independent accumulators so the loads, not the xors, set the pace; -march=native makes
  // this wide vector loads.
  uint64_t acc[8] = {0};
  for (size_t i = 0; i + 8 <= words; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] ^= p[i + j];
  uint64_t sum = 0;
  for (int j = 0; j < 8; ++j)
    sum ^= acc[j];
  return sum;
}

double measureReadBandwidth(int threads, const Buffer &buffer) {
  const size_t words = buffer.size() / 8 / (size_t)threads;
  double best = 0;
  std::vector<uint64_t> sums((size_t)threads);
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
      pool.emplace_back(
          [&, i] { sums[(size_t)i] = readSlice(buffer.as<uint64_t>() + i * words, words); });
    sums[0] = readSlice(buffer.as<uint64_t>(), words);
    for (std::thread &t : pool)
      t.join();
    const double seconds = secondsSince(start);
    benchmark::DoNotOptimize(sums.data());
    best = std::max(best, (double)(words * 8 * (size_t)threads) / seconds / 1e9);
  }
  return best;
}

//----- Compute peaks -------------------------------------------------------------------------//

/// Runs `body(iterations)` on `threads` threads at once, best of 5 passes; returns ops / second.
template <class Body>
double measureCompute(int threads, int64_t iterations, double opsPerIteration, Body body) {
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
      pool.emplace_back([&] { body(iterations); });
    body(iterations);
    for (std::thread &t : pool)
      t.join();
    best = std::max(best, opsPerIteration * (double)iterations * threads / secondsSince(start));
  }
  return best;
}

// Where the compute loops leave their result, so the compiler keeps them.
volatile float gSink;

// Independent FMA chains: enough to cover the FMA latency on every pipe (4 cycles x 2 pipes on
// Zen 3 and most cores: 8), and few enough that the chains and the two constants stay in registers.
// 16 chains fit AVX-512's 32 zmm; on AVX2 they would not (16 + 2 of 16 ymm): the spills held the
// Zen 3 VM's figure at 58 GFLOP/s a thread against 110 with 12 chains (docs/perf-log.md).
#if defined(__AVX512F__)
constexpr int kFmaChains = 16;
constexpr double kFmaFlopsPerIteration = kFmaChains * 16 * 2;
void fmaLoop(int64_t iterations) {
  __m512 acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i)
    acc[i] = _mm512_set1_ps((float)i);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kFmaChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < kFmaChains; ++i)
    s = _mm512_add_ps(s, acc[i]);
  gSink = _mm512_reduce_add_ps(s);
}
const char *kFmaIsa = "AVX-512 FMA (zmm)";
#elif defined(__FMA__)
constexpr int kFmaChains = 12;
constexpr double kFmaFlopsPerIteration = kFmaChains * 8 * 2;
void fmaLoop(int64_t iterations) {
  __m256 acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i)
    acc[i] = _mm256_set1_ps((float)i);
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kFmaChains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < kFmaChains; ++i)
    s = _mm256_add_ps(s, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  gSink = lanes[0];
}
const char *kFmaIsa = "AVX2 FMA (ymm)";
#else
constexpr double kFmaFlopsPerIteration = 16 * 2;
void fmaLoop(int64_t iterations) {
  float acc[16];
  for (int i = 0; i < 16; ++i)
    acc[i] = (float)i;
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = std::fma(acc[i], 0.9999999f, 1e-7f);
  gSink = acc[0] + acc[15];
}
const char *kFmaIsa = "scalar fma";
#endif

// The vpdpbusd peak: 16 independent chains of u8 x s8 products into int32 lanes, each instruction
// 4 products and 4 adds per lane. Only the instruction differs between the ISAs; the registers are
// set and read through memory, outside the timed chains.
#if defined(__AVX512VNNI__)
const char *kVnniIsa = "vpdpbusd zmm";
using VnniVec = __m512i;
VnniVec vnniDot(VnniVec acc, VnniVec a, VnniVec b) { return _mm512_dpbusd_epi32(acc, a, b); }
#elif defined(__AVXVNNI__)
// AVX-VNNI without AVX-512 (Alder Lake and later Intel Core): ymm.
const char *kVnniIsa = "vpdpbusd ymm, AVX-VNNI";
using VnniVec = __m256i;
VnniVec vnniDot(VnniVec acc, VnniVec a, VnniVec b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
#else
const char *kVnniIsa = "none"; // no vpdpbusd: the peak stays 0 and is not reported
#endif
#if defined(__AVX512VNNI__) || defined(__AVXVNNI__)
constexpr int kVnniLanes = int(sizeof(VnniVec) / sizeof(int32_t));
constexpr double kVnniOpsPerIteration = 16.0 * kVnniLanes * 4 * 2;
void vnniLoop(int64_t iterations) {
  VnniVec acc[16], a, b;
  int32_t lanes[kVnniLanes];
  for (int i = 0; i < 16; ++i) {
    std::fill(lanes, lanes + kVnniLanes, i);
    std::memcpy(&acc[i], lanes, sizeof lanes);
  }
  std::memset(&a, 3, sizeof a);
  std::memset(&b, 0xFE, sizeof b); // -2 as signed bytes
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i)
      acc[i] = vnniDot(acc[i], a, b);
  int64_t sum = 0;
  for (int i = 0; i < 16; ++i) {
    std::memcpy(lanes, &acc[i], sizeof lanes);
    for (int32_t lane : lanes)
      sum += lane;
  }
  gSink = float(sum);
}
#endif

void measurePeaks() {
  Buffer buffer((size_t)options.peakMiB << 20);
  std::memset(buffer.bytes(), 1, buffer.size()); // commit every page before timing
  for (int t = 1; t <= 2; ++t) {
    peaks.readGBs[t - 1] = measureReadBandwidth(t, buffer);
    peaks.fmaGflops[t - 1] = measureCompute(t, 1 << 22, kFmaFlopsPerIteration, fmaLoop) / 1e9;
#if defined(__AVX512VNNI__) || defined(__AVXVNNI__)
    peaks.vnniGops[t - 1] = measureCompute(t, 1 << 22, kVnniOpsPerIteration, vnniLoop) / 1e9;
#endif
  }
  peaks.measured = true;
}

std::string fixed(double v, int digits = 1) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string readFirstLine(const char *path, const char *prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!prefix || line.rfind(prefix, 0) == 0) {
      if (prefix) {
        const size_t colon = line.find(':');
        return colon == std::string::npos ? line : line.substr(colon + 2);
      }
      return line;
    }
  return "?";
}

//===----------------------------------------------------------------------===//
// A helper thread for the _2t variants
//===----------------------------------------------------------------------===//

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

/// One helper thread: run(fn) calls fn(1) on the helper and fn(0) here, and returns when both are
/// done. The handshake is runtime/pool.c's with two threads: each side spins (a pause per check)
/// for kSpin checks before it sleeps on a condition variable, and the sleep/wake flags are
/// sequentially consistent on both sides so no wake-up is lost.
class Helper {
public:
  Helper() : worker_([this] { loop(); }) {}
  ~Helper() {
    stop_.store(true);
    publish();
    worker_.join();
  }
  void run(const std::function<void(int)> &fn) {
    fn_ = &fn;
    const uint64_t job = publish();
    fn(0);
    if (!spinUntil([&] { return done_.load(std::memory_order_acquire) == job; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      callerWaiting_.store(true);
      doneCv_.wait(lock, [&] { return done_.load() == job; });
      callerWaiting_.store(false);
    }
  }

private:
  static constexpr int kSpin = 20000; // DC_POOL_SPIN

  template <class Pred> static bool spinUntil(Pred pred) {
    for (int i = 0; i < kSpin; ++i) {
      if (pred())
        return true;
      cpuRelax();
    }
    return pred();
  }

  uint64_t publish() {
    const uint64_t job = job_.fetch_add(1) + 1;
    if (sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      wakeCv_.notify_one();
    }
    return job;
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      if (!spinUntil([&] { return job_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_.store(true);
        wakeCv_.wait(lock, [&] { return job_.load() != seen; });
        sleeping_.store(false);
      }
      seen = job_.load(std::memory_order_acquire);
      if (stop_.load())
        return;
      (*fn_)(1);
      done_.store(seen);
      if (callerWaiting_.load()) {
        std::lock_guard<std::mutex> lock(mutex_);
        doneCv_.notify_one();
      }
    }
  }

  const std::function<void(int)> *fn_ = nullptr;
  std::atomic<uint64_t> job_{0}, done_{0};
  std::atomic<bool> stop_{false}, sleeping_{false}, callerWaiting_{false};
  std::mutex mutex_;
  std::condition_variable wakeCv_, doneCv_;
  std::thread worker_;
};

/// [begin, end) of part `part` of `parts` over n, cut on multiples of `granule` (runtime/pool.c).
void splitRange(int64_t n, int64_t granule, int parts, int part, int64_t &begin, int64_t &end) {
  const int64_t units = (n + granule - 1) / granule;
  begin = std::min(n, units * part / parts * granule);
  end = part + 1 == parts ? n : std::min(n, units * (part + 1) / parts * granule);
}

//===----------------------------------------------------------------------===//
// Rotated weights
//===----------------------------------------------------------------------===//

/// `copies` copies of a [rows, K] weight in one format, page aligned, generated once and kept for
/// the next benchmark with the same weight (the _2t and larger-T variants reuse it).
struct WeightSet {
  std::string key;
  size_t stride = 0, bytesPerCopy = 0;
  int64_t copies = 0;
  Buffer buffer;
  const uint8_t *copy(int64_t i) const { return buffer.bytes() + (size_t)i * stride; }
};

const WeightSet &weights(const Format &f, int64_t rows, int64_t K) {
  static std::unique_ptr<WeightSet> cached;
  const std::string key = std::string(f.name) + "/" + std::to_string(rows) + "x" +
                          std::to_string(K) + "/" + std::to_string(options.rotateMiB);
  if (cached && cached->key == key)
    return *cached;
  cached.reset(); // free the previous set first
  auto set = std::make_unique<WeightSet>();
  set->key = key;
  set->bytesPerCopy = (size_t)f.rowBytes(K) * (size_t)rows;
  set->stride = roundPage(set->bytesPerCopy);
  set->copies = copiesFor(set->bytesPerCopy);
  set->buffer = Buffer(set->stride * (size_t)set->copies);
  for (int64_t c = 0; c < set->copies; ++c)
    fillWeights(f, set->buffer.bytes() + (size_t)c * set->stride, set->stride, K,
                0x5eed ^ rows ^ (K << 20) ^ ((uint64_t)c << 40));
  cached = std::move(set);
  return *cached;
}

//===----------------------------------------------------------------------===//
// Benchmarks
//===----------------------------------------------------------------------===//

enum class Projection { Linear, LMHead, SwiGLU };

/// linear / lm_head / linear with the SwiGLU epilogue: y [T, N] from x [T, K] and a weight of N
/// rows (2N for SwiGLU), over all N output columns split across `threads`; with `q8` the
/// int8-activation kernel of the weight type (each thread's call with its own scratch).
void benchProjection(benchmark::State &state, const Format &f, const Q8Act *q8, Projection kind,
                     int64_t N, int64_t K, int64_t T, int threads) {
  const int64_t rows = kind == Projection::SwiGLU ? 2 * N : N;
  const WeightSet &w = weights(f, rows, K);
  Buffer x((size_t)(T * K) * 4), y((size_t)(T * N) * 4);
  fillUniform(x.as<float>(), (size_t)(T * K), -1.0f, 1.0f, 7);
  std::vector<Buffer> scratch;
  for (int i = 0; q8 && i < threads; ++i)
    scratch.emplace_back((size_t)dc_k_q8act_scratch_bytes(T, K));
  int64_t copy = 0;
  const float *xp = x.as<float>();
  float *yp = y.as<float>();
  auto call = [&](int64_t begin, int64_t end, int p) {
    const void *wp = w.copy(copy);
    const uint8_t *wb = static_cast<const uint8_t *>(wp);
    switch (kind) {
    case Projection::Linear:
      q8 ? q8->linear(xp, T, K, wb, N, begin, end, scratch[p].bytes(), yp)
         : f.linear(xp, T, K, wp, N, begin, end, yp);
      break;
    case Projection::LMHead:
      q8 ? q8->lmHead(xp, T, K, wb, N, begin, end, scratch[p].bytes(), yp)
         : f.lmHead(xp, T, K, wp, N, begin, end, yp);
      break;
    case Projection::SwiGLU:
      q8 ? q8->epilogue(xp, T, K, wb, N, DC_K_EPILOGUE_SWIGLU, nullptr, begin, end,
                        scratch[p].bytes(), yp)
         : f.epilogue(xp, T, K, wp, N, DC_K_EPILOGUE_SWIGLU, nullptr, begin, end, yp);
      break;
    }
  };
  std::unique_ptr<Helper> helper;
  std::function<void(int)> part = [&](int p) {
    int64_t begin, end;
    splitRange(N, 16, threads, p, begin, end);
    if (begin < end)
      call(begin, end, p);
  };
  if (threads > 1)
    helper = std::make_unique<Helper>();
  const auto start = Clock::now();
  for (auto _ : state) {
    if (helper)
      helper->run(part);
    else
      call(0, N, 0);
    benchmark::ClobberMemory();
    copy = copy + 1 == w.copies ? 0 : copy + 1;
  }
  const double seconds = secondsSince(start);
  const double bytes = (double)w.bytesPerCopy + 4.0 * (double)(T * K + T * N);
  report(state, seconds, bytes, 2.0 * (double)T * (double)rows * (double)K, threads, q8 != nullptr);
}

// Qwen3.5 shapes (import/ModelConfig.cpp presets; the GDN and attention shapes are the same in
// both).
constexpr int64_t kNk = 16, kNv = 16, kDk = 128, kDv = 128, kConvK = 4;
constexpr int64_t kQkv = 2 * kNk * kDk + kNv * kDv; // 6144
constexpr int64_t kNh = 8, kNkv = 2, kHd = 256;

/// Floating-point operations of the recurrent kernel per token and value head: the two dot
/// products S^T k and S^T q (2 dk dv each) and the decayed rank-1 update (mul + fma: 3 dk dv).
double recurrentFlops(int64_t T) { return 7.0 * (double)(T * kNv * kDk * kDv); }

/// Floating-point operations of the chunked kernel (targets/portable/kernels/delta_rule.c), per
/// value head and chunk of n tokens: QK^T (j <= i) and KK^T (j < i), the forward substitution for W
/// and U, Vnew = U - W S, O = Q S + (QK^T) Vnew, and the state update.
double chunkedFlops(int64_t T) {
  double total = 0;
  for (int64_t start = 0; start < T; start += DC_K_DELTA_RULE_CHUNK) {
    const double n = (double)std::min<int64_t>(DC_K_DELTA_RULE_CHUNK, T - start);
    const double dk = kDk, dv = kDv;
    total += n * (n + 1) * dk + n * (n - 1) * dk + n * (n - 1) * (dk + dv) + 6 * n * dk * dv +
             n * (n + 1) * dv + dk * dv;
  }
  return total * kNv;
}

/// The delta rule alone: q, k [T, 16, 128] (unit rows), v [T, 16, 128], g, beta [T, 16], state
/// [16, 128, 128] updated in place, rotated.
void benchDeltaRule(benchmark::State &state, int64_t T, bool chunked) {
  const size_t stateFloats = (size_t)(kNv * kDk * kDv);
  const int64_t copies = copiesFor(stateFloats * 4);
  Buffer states(stateFloats * 4 * (size_t)copies);
  fillUniform(states.as<float>(), stateFloats * (size_t)copies, -0.1f, 0.1f, 11);
  Buffer q((size_t)(T * kNk * kDk) * 4), k((size_t)(T * kNk * kDk) * 4);
  Buffer v((size_t)(T * kNv * kDv) * 4), g((size_t)(T * kNv) * 4), beta((size_t)(T * kNv) * 4);
  Buffer out((size_t)(T * kNv * kDv) * 4);
  fillUnitRows(q.as<float>(), (size_t)(T * kNk), kDk, 1);
  fillUnitRows(k.as<float>(), (size_t)(T * kNk), kDk, 2);
  fillUniform(v.as<float>(), (size_t)(T * kNv * kDv), -1.0f, 1.0f, 3);
  fillUniform(g.as<float>(), (size_t)(T * kNv), -1.0f, -0.01f, 4);
  fillUniform(beta.as<float>(), (size_t)(T * kNv), 0.1f, 0.9f, 5);
  Buffer scratch(chunked ? (size_t)dc_k_gated_delta_rule_chunked_f32_scratch_bytes(kDk, kDv) : 0);
  const float scale = 1.0f / std::sqrt((float)kDk);
  int64_t copy = 0;
  const auto start = Clock::now();
  for (auto _ : state) {
    float *S = states.as<float>() + (size_t)copy * stateFloats;
    if (chunked)
      dc_k_gated_delta_rule_chunked_f32(q.as<float>(), k.as<float>(), v.as<float>(), g.as<float>(),
                                        beta.as<float>(), T, kNk, kNv, kDk, kDv, DC_K_HEADS_GROUPED,
                                        scale, S, 0, kNv, scratch.bytes(), out.as<float>(), S);
    else
      dc_k_gated_delta_rule_recurrent_f32(q.as<float>(), k.as<float>(), v.as<float>(),
                                          g.as<float>(), beta.as<float>(), T, kNk, kNv, kDk, kDv,
                                          DC_K_HEADS_GROUPED, scale, S, 0, kNv, out.as<float>(), S);
    benchmark::ClobberMemory();
    copy = copy + 1 == copies ? 0 : copy + 1;
  }
  const double seconds = secondsSince(start);
  const double bytes = 4.0 * (2.0 * (double)stateFloats + (double)(2 * T * kNk * kDk) +
                              2.0 * (double)(T * kNv * kDv) + 2.0 * (double)(T * kNv));
  report(state, seconds, bytes, chunked ? chunkedFlops(T) : recurrentFlops(T), 1);
}

/// Runs fn() with the stack pointer `pad` bytes (a multiple of 16) lower than it would otherwise
/// be, so that the kernel fn calls starts its frame at another 16-byte offset within a cache line.
template <class Fn> __attribute__((noinline)) void withStackPad(int64_t pad, Fn &&fn) {
  volatile char *bytes = static_cast<volatile char *>(alloca((size_t)(pad + options.stackPad) + 1));
  bytes[0] = 0; // kept: the allocation is what moves the stack
  fn();
  benchmark::DoNotOptimize(bytes);
}

/// The fused Gated DeltaNet core: qkv [T, 6144], a, b [T, 16], conv weight [6144, 4], conv state
/// [3, 6144] and delta state [16, 128, 128] updated in place (both rotated); the delta state in f32,
/// or in f16 (`f16State`, --recurrent-state-type=f16).
void benchGatedDeltaNet(benchmark::State &state, int64_t T, bool f16State, int64_t stackPad = 0) {
  const size_t stateFloats = (size_t)(kNv * kDk * kDv), convFloats = (size_t)((kConvK - 1) * kQkv);
  const size_t stateElementBytes = f16State ? 2 : 4;
  const int64_t copies = copiesFor(stateFloats * stateElementBytes + convFloats * 4);
  Buffer states(stateFloats * 4 * (size_t)copies), convStates(convFloats * 4 * (size_t)copies);
  fillUniform(states.as<float>(), stateFloats * (size_t)copies, -0.1f, 0.1f, 11);
  Buffer halfStates(f16State ? stateFloats * 2 * (size_t)copies : 0);
  if (f16State)
    dc_k_convert_f32_f16(states.as<float>(), 0, (int64_t)(stateFloats * (size_t)copies),
                         halfStates.as<uint16_t>());
  fillUniform(convStates.as<float>(), convFloats * (size_t)copies, -1.0f, 1.0f, 12);
  Buffer qkv((size_t)(T * kQkv) * 4), a((size_t)(T * kNv) * 4), b((size_t)(T * kNv) * 4);
  Buffer convWeight((size_t)(kQkv * kConvK) * 4), decay((size_t)kNv * 4), dtBias((size_t)kNv * 4);
  Buffer out((size_t)(T * kNv * kDv) * 4);
  fillUniform(qkv.as<float>(), (size_t)(T * kQkv), -1.0f, 1.0f, 1);
  fillUniform(a.as<float>(), (size_t)(T * kNv), -1.0f, 1.0f, 2);
  fillUniform(b.as<float>(), (size_t)(T * kNv), -1.0f, 1.0f, 3);
  fillUniform(convWeight.as<float>(), (size_t)(kQkv * kConvK), -0.5f, 0.5f, 4);
  fillUniform(decay.as<float>(), (size_t)kNv, -1.0f, 0.5f, 5);
  fillUniform(dtBias.as<float>(), (size_t)kNv, -0.5f, 0.5f, 6);
  Buffer scratch((size_t)dc_k_gated_delta_net_f32_scratch_bytes(T, kDk, kDv));
  const float scale = 1.0f / std::sqrt((float)kDk);
  int64_t copy = 0;
  const auto start = Clock::now();
  for (auto _ : state) {
    float *conv = convStates.as<float>() + (size_t)copy * convFloats;
    withStackPad(stackPad, [&] {
      if (f16State) {
        uint16_t *S = halfStates.as<uint16_t>() + (size_t)copy * stateFloats;
        dc_k_gated_delta_net_f32_state_f16(qkv.as<float>(), kQkv, a.as<float>(), kNv, b.as<float>(),
                                           kNv, T, kNk, kNv, kDk, kDv, convWeight.as<float>(),
                                           kConvK, conv, decay.as<float>(), dtBias.as<float>(),
                                           DC_K_DECAY_A_LOG, DC_K_HEADS_GROUPED, scale, 1e-6f, S, 0,
                                           kNk, scratch.bytes(), out.as<float>(), conv, S);
      } else {
        float *S = states.as<float>() + (size_t)copy * stateFloats;
        dc_k_gated_delta_net_f32(qkv.as<float>(), kQkv, a.as<float>(), kNv, b.as<float>(), kNv, T,
                                 kNk, kNv, kDk, kDv, convWeight.as<float>(), kConvK, conv,
                                 decay.as<float>(), dtBias.as<float>(), DC_K_DECAY_A_LOG,
                                 DC_K_HEADS_GROUPED, scale, 1e-6f, S, 0, kNk, scratch.bytes(),
                                 out.as<float>(), conv, S);
      }
    });
    benchmark::ClobberMemory();
    copy = copy + 1 == copies ? 0 : copy + 1;
  }
  const double seconds = secondsSince(start);
  const double bytes =
      2.0 * (double)(stateFloats * stateElementBytes) +
      4.0 * (2.0 * (double)convFloats + (double)(T * kQkv) + 2.0 * (double)(T * kNv) +
             (double)(kQkv * kConvK) + (double)(T * kNv * kDv));
  // The conv (2 K flops per channel and token) and the delta rule of the path the kernel takes;
  // L2 norms, gates and SiLU are a few flops per element and left out.
  const double flops =
      2.0 * (double)(kConvK * kQkv * T) + (T == 1 ? recurrentFlops(T) : chunkedFlops(T));
  report(state, seconds, bytes, flops, 1);
}

/// Gated attention: T new tokens at `position` against a KV cache [2, S, 256] (rotated), with the
/// output gate; 8 query heads, 2 KV heads. The cache is f32, or f16 (dc_k_attention_f32_cache_f16).
void benchAttention(benchmark::State &state, int64_t T, int64_t position, bool f16,
                    int64_t stackPad = 0) {
  const int64_t S = position + T;
  const size_t cacheElements = (size_t)(kNkv * S * kHd), element = f16 ? 2 : 4;
  const int64_t copies = copiesFor(2 * cacheElements * element);
  const size_t allElements = cacheElements * (size_t)copies;
  Buffer keys(allElements * element), values(allElements * element);
  if (f16) {
    std::vector<float> uniform(allElements);
    fillUniform(uniform.data(), allElements, -1.0f, 1.0f, 1);
    dc_k_convert_f32_f16(uniform.data(), 0, (int64_t)allElements, keys.as<uint16_t>());
    fillUniform(uniform.data(), allElements, -1.0f, 1.0f, 2);
    dc_k_convert_f32_f16(uniform.data(), 0, (int64_t)allElements, values.as<uint16_t>());
  } else {
    fillUniform(keys.as<float>(), allElements, -1.0f, 1.0f, 1);
    fillUniform(values.as<float>(), allElements, -1.0f, 1.0f, 2);
  }
  Buffer q((size_t)(T * kNh * kHd) * 4), k((size_t)(T * kNkv * kHd) * 4);
  Buffer v((size_t)(T * kNkv * kHd) * 4), gate((size_t)(T * kNh * kHd) * 4);
  Buffer out((size_t)(T * kNh * kHd) * 4);
  fillUniform(q.as<float>(), (size_t)(T * kNh * kHd), -1.0f, 1.0f, 3);
  fillUniform(k.as<float>(), (size_t)(T * kNkv * kHd), -1.0f, 1.0f, 4);
  fillUniform(v.as<float>(), (size_t)(T * kNkv * kHd), -1.0f, 1.0f, 5);
  fillUniform(gate.as<float>(), (size_t)(T * kNh * kHd), -2.0f, 2.0f, 6);
  const float scale = 1.0f / std::sqrt((float)kHd);
  Buffer scratch((size_t)dc_k_attention_f32_scratch_bytes(kHd, kHd));
  int64_t copy = 0;
  const auto start = Clock::now();
  for (auto _ : state) {
    const size_t at = (size_t)copy * cacheElements;
    withStackPad(stackPad, [&] {
      if (f16)
        dc_k_attention_f32_cache_f16(q.as<float>(), k.as<float>(), v.as<float>(), gate.as<float>(),
                                     T, kNh, kNkv, kHd, kHd, scale, keys.as<uint16_t>() + at,
                                     values.as<uint16_t>() + at, S, position, 0, kNh,
                                     scratch.as<void>(), out.as<float>());
      else
        dc_k_attention_f32(q.as<float>(), k.as<float>(), v.as<float>(), gate.as<float>(), T, kNh,
                           kNkv, kHd, kHd, scale, keys.as<float>() + at, values.as<float>() + at, S,
                           position, 0, kNh, scratch.as<void>(), out.as<float>());
    });
    benchmark::ClobberMemory();
    copy = copy + 1 == copies ? 0 : copy + 1;
  }
  const double seconds = secondsSince(start);
  // Cached rows read once and new rows written (in the cache's type), q / k / v / gate read, out
  // written.
  const double bytes =
      (double)element * (2.0 * (double)(kNkv * position * kHd) + 2.0 * (double)(T * kNkv * kHd)) +
      4.0 * ((double)(T * kNh * kHd) * 3.0 + 2.0 * (double)(T * kNkv * kHd));
  // Per query head and token t: position + t + 1 keys, each a q.k dot (2 hd) and a p v (2 hdv).
  double keysSeen = 0;
  for (int64_t t = 0; t < T; ++t)
    keysSeen += (double)(position + t + 1);
  report(state, seconds, bytes, (double)kNh * keysSeen * 4.0 * (double)kHd, 1);
}

/// RMSNorm over [T, 1024] rows (1 + w form), cache resident.
void benchRmsNorm(benchmark::State &state, int64_t T, int64_t d) {
  Buffer x((size_t)(T * d) * 4), w((size_t)d * 4), y((size_t)(T * d) * 4);
  fillUniform(x.as<float>(), (size_t)(T * d), -1.0f, 1.0f, 1);
  fillUniform(w.as<float>(), (size_t)d, -0.1f, 0.1f, 2);
  const auto start = Clock::now();
  for (auto _ : state) {
    dc_k_rms_norm_f32(x.as<float>(), w.as<float>(), d, DC_K_NORM_ONE_PLUS, 1e-6f, 0, T,
                      y.as<float>());
    benchmark::ClobberMemory();
  }
  const double seconds = secondsSince(start);
  // Sum of squares (2), then (1 + w) * n * inv (3) per element.
  report(state, seconds, 4.0 * (double)(2 * T * d + d), 5.0 * (double)(T * d), 1);
}

/// The causal conv with SiLU over the GDN's qkv channels, conv state in place; cache resident.
void benchConv(benchmark::State &state, int64_t T) {
  Buffer x((size_t)(T * kQkv) * 4), w((size_t)(kQkv * kConvK) * 4), y((size_t)(T * kQkv) * 4);
  Buffer conv((size_t)((kConvK - 1) * kQkv) * 4);
  fillUniform(x.as<float>(), (size_t)(T * kQkv), -1.0f, 1.0f, 1);
  fillUniform(w.as<float>(), (size_t)(kQkv * kConvK), -0.5f, 0.5f, 2);
  fillUniform(conv.as<float>(), (size_t)((kConvK - 1) * kQkv), -1.0f, 1.0f, 3);
  const auto start = Clock::now();
  for (auto _ : state) {
    dc_k_causal_conv1d_f32(x.as<float>(), T, kQkv, w.as<float>(), kConvK, conv.as<float>(),
                           DC_K_ACT_SILU, 0, kQkv, y.as<float>(), conv.as<float>());
    benchmark::ClobberMemory();
  }
  const double seconds = secondsSince(start);
  report(state, seconds, 4.0 * (double)(2 * T * kQkv + kQkv * kConvK + 2 * (kConvK - 1) * kQkv),
         2.0 * (double)(kConvK * kQkv * T), 1);
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

/// Registers a benchmark. With --benchmark_repetitions=N it also reports the best repetition:
/// `_min` (read its time) and `_max` (read its rates), the figures least disturbed by other load.
template <class Fn> benchmark::internal::Benchmark *add(const std::string &name, Fn fn) {
  auto least = [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); };
  auto most = [](const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); };
  return benchmark::RegisterBenchmark(name.c_str(), fn)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond)
      ->ComputeStatistics("min", least)
      ->ComputeStatistics("max", most);
}

struct Shape {
  const char *name; // model.role
  int64_t N, K;
};

void registerAll() {
  // Linear weights [N, K] of one layer: Qwen3.5-0.8B (hidden 1024, intermediate 3584, GDN qkv 6144,
  // value width 2048) and 2B (hidden 2048, intermediate 6144).
  const Shape gemv[] = {{"0.8b.qkv", kQkv, 1024},  {"0.8b.up", 3584, 1024},
                        {"0.8b.down", 1024, 3584}, {"0.8b.out", 1024, 2048},
                        {"2b.up", 6144, 2048},     {"2b.down", 2048, 6144}};
  const Shape gemm[] = {{"0.8b.up", 3584, 1024}, {"0.8b.down", 1024, 3584}};
  const Shape twoThreads[] = {
      {"0.8b.up", 3584, 1024}, {"0.8b.down", 1024, 3584}, {"2b.down", 2048, 6144}};
  auto shapeName = [](const Shape &s) {
    return std::string(s.name) + ":" + std::to_string(s.N) + "x" + std::to_string(s.K);
  };

  // One weight type with f32 activations (q8 == nullptr, named by the weight type) or its
  // int8-activation kernel (named q8act_<weight type>).
  auto projections = [&](const Format *fp, const Q8Act *q8) {
    const std::string type = q8 ? std::string("q8act_") + fp->name : std::string(fp->name);
    for (const Shape &s : gemv) {
      const std::string base = "/" + type + "/" + shapeName(s);
      add("linear" + base + "/T1", [fp, q8, s](benchmark::State &st) {
        benchProjection(st, *fp, q8, Projection::Linear, s.N, s.K, 1, 1);
      });
      for (const Shape &t2 : twoThreads)
        if (std::strcmp(t2.name, s.name) == 0)
          add("linear_2t" + base + "/T1", [fp, q8, s](benchmark::State &st) {
            benchProjection(st, *fp, q8, Projection::Linear, s.N, s.K, 1, 2);
          });
      for (const Shape &g : gemm)
        if (std::strcmp(g.name, s.name) == 0)
          for (int64_t T : {64, 512})
            add("linear" + base + "/T" + std::to_string(T), [fp, q8, s, T](benchmark::State &st) {
              benchProjection(st, *fp, q8, Projection::Linear, s.N, s.K, T, 1);
            });
    }
    // The MLP's gate and up projections fused with SwiGLU (weight [2 x intermediate, hidden]):
    // decode for both sizes, and the 0.8B's prefill of 512 tokens.
    for (const Shape &s : {Shape{"0.8b.mlp", 3584, 1024}, Shape{"2b.mlp", 6144, 2048}})
      for (int64_t T : {1, 512})
        if (T == 1 || std::strcmp(s.name, "0.8b.mlp") == 0)
          add("linear_swiglu/" + type + "/" + shapeName(s) + "/T" + std::to_string(T),
              [fp, q8, s, T](benchmark::State &st) {
                benchProjection(st, *fp, q8, Projection::SwiGLU, s.N, s.K, T, 1);
              });
  };
  for (const Format &f : formats())
    projections(&f, nullptr);
  for (const Q8Act &q : q8acts())
    projections(&format(q.weight), &q);

  // The LM head (tied embedding [vocab, hidden]): the real vocabulary and a small one.
  struct Head {
    const char *weight;
    bool int8;
  };
  for (const Head &h : {Head{"bf16", false}, Head{"q8_0", false}, Head{"q4_0", false},
                        Head{"q8_0", true}, Head{"q4_0", true}, Head{"q8_0_packed", true},
                        Head{"q4_0_packed", true}, Head{"q4_0_x8", true}}) {
    const Format *fp = &format(h.weight);
    const Q8Act *q8 = h.int8 ? &q8act(h.weight) : nullptr;
    const std::string type = (h.int8 ? "q8act_" : "") + std::string(h.weight);
    for (int64_t V : {248320, 32768})
      for (int threads : {1, 2})
        add(std::string(threads == 1 ? "lm_head/" : "lm_head_2t/") + type + "/V" +
                std::to_string(V) + "xH1024/T1",
            [fp, q8, V, threads](benchmark::State &st) {
              benchProjection(st, *fp, q8, Projection::LMHead, V, 1024, 1, threads);
            });
  }

  for (int64_t T : {1, 64})
    add("delta_rule_recurrent/T" + std::to_string(T),
        [T](benchmark::State &st) { benchDeltaRule(st, T, false); });
  for (int64_t T : {64, 512})
    add("delta_rule_chunked/T" + std::to_string(T),
        [T](benchmark::State &st) { benchDeltaRule(st, T, true); });
  for (int64_t T : {1, 64, 512})
    add("gated_delta_net/T" + std::to_string(T),
        [T](benchmark::State &st) { benchGatedDeltaNet(st, T, false); });
  for (int64_t T : {1, 512})
    add("gated_delta_net_f16_state/T" + std::to_string(T),
        [T](benchmark::State &st) { benchGatedDeltaNet(st, T, true); });
  for (int64_t pad : {16, 32, 48})
    for (bool f16 : {false, true})
      add(std::string(f16 ? "gated_delta_net_f16_state" : "gated_delta_net") +
              "/T1/stack_pad:" + std::to_string(pad),
          [f16, pad](benchmark::State &st) { benchGatedDeltaNet(st, 1, f16, pad); });
  for (bool f16 : {false, true}) {
    const std::string cache = f16 ? "_f16_cache" : "";
    for (int64_t position : {512, 4096})
      add("attention" + cache + "_decode/pos" + std::to_string(position),
          [position, f16](benchmark::State &st) { benchAttention(st, 1, position, f16); });
    add("attention" + cache + "_prefill/T512",
        [f16](benchmark::State &st) { benchAttention(st, 512, 0, f16); });
    for (int64_t pad : {16, 32, 48})
      add("attention" + cache + "_decode/pos512/stack_pad:" + std::to_string(pad),
          [f16, pad](benchmark::State &st) { benchAttention(st, 1, 512, f16, pad); });
  }
  for (int64_t T : {1, 512})
    add("rms_norm/1024/T" + std::to_string(T),
        [T](benchmark::State &st) { benchRmsNorm(st, T, 1024); });
  for (int64_t T : {1, 512})
    add("causal_conv1d/6144/T" + std::to_string(T),
        [T](benchmark::State &st) { benchConv(st, T); });
}

/// Removes --deltac_* flags from argv (Google Benchmark rejects flags it does not know).
void parseOptions(int &argc, char **argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    auto value = [&](const char *flag, int64_t &into) {
      const size_t n = std::strlen(flag);
      if (std::strncmp(arg, flag, n) != 0 || arg[n] != '=')
        return false;
      char *end = nullptr;
      const long long v = std::strtoll(arg + n + 1, &end, 10);
      if (!*(arg + n + 1) || *end || v < 0) {
        std::fprintf(stderr, "deltac-kernel-bench: bad value in %s\n", arg);
        std::exit(2);
      }
      into = v;
      return true;
    };
    if (value("--deltac_peak_mib", options.peakMiB) ||
        value("--deltac_rotate_mib", options.rotateMiB))
      continue;
    if (value("--deltac_stack_pad", options.stackPad)) {
      if (options.stackPad % 16 != 0 || options.stackPad >= 65536) {
        std::fprintf(stderr, "deltac-kernel-bench: %s is not a multiple of 16 below 65536\n", arg);
        std::exit(2);
      }
      continue;
    }
    argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;
}

} // namespace

int main(int argc, char **argv) {
  parseOptions(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  registerAll();

  benchmark::AddCustomContext("cpu", readFirstLine("/proc/cpuinfo", "model name"));
  benchmark::AddCustomContext("kernels", DELTAC_BENCH_KERNELS);
  benchmark::AddCustomContext("kernel_abi_version", std::to_string(dc_k_abi_version()));
  benchmark::AddCustomContext("loadavg_at_start", readFirstLine("/proc/loadavg", nullptr));
  benchmark::AddCustomContext("rotate_mib", std::to_string(options.rotateMiB));
  if (options.stackPad > 0)
    benchmark::AddCustomContext("stack_pad", std::to_string(options.stackPad));
  if (options.peakMiB > 0) {
    measurePeaks();
    for (int t = 1; t <= 2; ++t) {
      const std::string suffix = "_" + std::to_string(t) + "t";
      benchmark::AddCustomContext("peak_read_bw" + suffix,
                                  fixed(peaks.readGBs[t - 1], 2) + " GB/s (" +
                                      std::to_string(options.peakMiB) + " MiB buffer)");
      benchmark::AddCustomContext("peak_fma" + suffix,
                                  fixed(peaks.fmaGflops[t - 1]) + " GFLOP/s f32 (" + kFmaIsa + ")");
      if (peaks.vnniGops[t - 1] > 0)
        benchmark::AddCustomContext("peak_vnni_int8" + suffix,
                                    fixed(peaks.vnniGops[t - 1]) + " GOP/s (" + kVnniIsa + ")");
    }
  }
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::fprintf(stderr, "loadavg at end: %s\n", readFirstLine("/proc/loadavg", nullptr).c_str());
  return ran > 0 ? 0 : 1; // a filter that matches nothing is an error (the smoke tests rely on it)
}
