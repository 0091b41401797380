//===- OpSuiteTest.cpp - every kernel of the kernel ABI against the reference ----------------===//
//
// The per-op suite (in the manner of llama.cpp's tests/test-backend-ops.cpp): every function of
// codegen/include/deltac/kernel_abi.h runs over a matrix of shapes and is compared with the
// double-precision reference (reference/ReferenceOps.h) fed exactly the same float32 inputs. A
// target passes when every case stays under its op family's bound below. Each case also checks
// the threading contract: calls on [0, m) and [m, n) give the same bits as one call on [0, n).
//
// The metric is max |kernel - reference| / max |reference| over one output tensor (states and
// caches are outputs too). Half-precision and quantized weights are compared with the reference
// run on the decoded weights (import/GGMLQuants.h decodes them independently of the kernels), so
// those bounds measure the kernel's arithmetic, not the format's precision.
//
// Bounds (eps = 2^-23 ~ 1.19e-7; K = the reduction length):
//
// | family              | bound          | why                                                 |
// |---------------------|----------------|-----------------------------------------------------|
// | add                 | 1 eps          | one rounding of an exactly representable sum        |
// | swiglu              | 4 eps          | expf (<= 2 ulp), one division, one product          |
// | rms_norm, l2_norm   | 8 eps          | fixed-order sum of squares, sqrt, scale             |
// | gated_rms_norm      | 8 eps          | rms_norm plus a silu gate                           |
// | embedding           | 0              | a row copy; decoding f16/bf16/GGML blocks is exact  |
// | linear_*, lm_head   | 1 eps sqrt(K)  | f32 sums in 32 lanes: the error grows like sqrt(K)  |
// | causal_conv1d       | 8 eps          | K <= 4 products summed, then silu                   |
// | gdn_gates           | 8 eps          | expf, log1pf, one product; sigmoid                  |
// | rope                | 8 eps          | angles in double, reduced, then f32 sin/cos         |
// | attention           | 16 eps         | dot products, running-max softmax, V sums           |
// | moe                 | 2 eps sqrt(K)  | three chained linears (K = max(H, I)), a softmax    |
// | delta_rule          | 32 eps         | <= 133 steps of a contracting f32 recurrence        |
// | delta_rule_chunked  | 64 eps         | WY/UT: 64x64 triangular solve, per-chunk state      |
// | delta_rule_kernels  | 64 eps         | chunked kernel vs recurrent kernel, both f32        |
// | linear_swiglu       | 2 eps sqrt(K)  | two linears' errors through silu(g) * u (+ r)       |
// | linear_residual     | 1.5 eps sqrt(K)| a linear's error plus one rounded add               |
// | gated_delta_net     | 64 eps         | conv, L2 norms, gates, then the delta rule (chunked) |
// | gated_delta_net_unfused | 64 eps     | fused kernel vs the unfused kernels, both f32       |
// | linear_q8act        | 2 eps sqrt(K)  | int8 activations: exact int32 block sums, then one  |
// |                     |                | rounded dw*dx scale per block and an f32 sum; vs    |
// |                     |                | the reference on the quantized activations          |
// | linear_epilogue_q8act | 4 eps sqrt(K)| two q8act linears through silu(g) * u (+ r)         |
// | q8act_packed_vs_unpacked | 1 eps sqrt(K) | packed-row kernels vs the q8act kernels on the   |
// |                     |                | same blocks: equal int32 block sums, only the order |
// |                     |                | of the f32 sums differs                             |
//
// The q8act kernels are also checked against the reference on the unquantized activations, element
// by element, under the error the activation quantization can cause (see addQ8ActCases).
//
// The delta-rule bounds leave room for another summation order, but not for a bug: a wrong decay,
// an exp(gamma_i) * exp(-gamma_j) factorization or a wrong head mapping gives errors of 1e-3 to
// NaN. They do reject the textbook exp(gamma_i - gamma_j) with f32 prefix sums under extreme decays
// (g down to -80, gamma ~ -2500: cancellation costs ~2e-5); the portable kernel forms segment sums.
// Measured errors are printed with a `[ measured ]` prefix, one line per family, at exit.
//
//===----------------------------------------------------------------------------------------===//

#include "deltac/kernel_abi.h"
#include "import/DeltacQuants.h"
#include "import/GGMLQuants.h"
#include "reference/ReferenceOps.h"

#include <gtest/gtest.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace ref = deltac::ref;
namespace ggml = deltac::ggml;
namespace quants = deltac::quants;
using ref::Tensor;

//===----------------------------------------------------------------------===//
// Thresholds and the measured-error table
//===----------------------------------------------------------------------===//

constexpr double kEps = 0x1p-23;

struct Threshold {
  const char *family;
  double bound;  ///< on max|kernel - reference| / max|reference|
  bool perSqrtK; ///< the bound is multiplied by sqrt(K), K the reduction length
};

// The table of the file comment, in code.
constexpr Threshold kThresholds[] = {
    {"add", 1 * kEps, false},
    {"swiglu", 4 * kEps, false},
    {"rms_norm", 8 * kEps, false},
    {"l2_norm", 8 * kEps, false},
    {"gated_rms_norm", 8 * kEps, false},
    {"embedding", 0.0, false},
    {"linear_f32", 1 * kEps, true},
    {"linear_f16", 1 * kEps, true},
    {"linear_bf16", 1 * kEps, true},
    {"linear_q8_0", 1 * kEps, true},
    {"linear_q4_0", 1 * kEps, true},
    {"linear_q4_1", 1 * kEps, true},
    {"linear_q4_0_g64", 1 * kEps, true},
    {"linear_q4_1_g64", 1 * kEps, true},
    {"linear_q4_0_g128", 1 * kEps, true},
    {"linear_q4_1_g128", 1 * kEps, true},
    {"lm_head", 1 * kEps, true},
    {"causal_conv1d", 8 * kEps, false},
    {"gdn_gates", 8 * kEps, false},
    {"rope", 8 * kEps, false},
    {"attention", 16 * kEps, false},
    {"moe", 2 * kEps, true},
    {"delta_rule", 32 * kEps, false},
    {"delta_rule_chunked", 64 * kEps, false},
    {"delta_rule_kernels", 64 * kEps, false},
    {"linear_swiglu", 2 * kEps, true},
    {"linear_residual", 1.5 * kEps, true},
    {"gated_delta_net", 64 * kEps, false},
    {"gated_delta_net_unfused", 64 * kEps, false},
    {"linear_q8act", 2 * kEps, true},
    {"linear_epilogue_q8act", 4 * kEps, true},
    {"q8act_packed_vs_unpacked", 1 * kEps, true},
};

const Threshold &thresholdOf(const std::string &family) {
  for (const Threshold &t : kThresholds)
    if (family == t.family)
      return t;
  ADD_FAILURE() << "no threshold for op family " << family;
  static const Threshold none{"?", 0.0, false};
  return none;
}

struct Measured {
  double worstError = 0; ///< largest normalized error seen
  double worstRatio = 0; ///< largest error / bound seen
  int checks = 0;
};

std::map<std::string, Measured> &measuredTable() {
  static std::map<std::string, Measured> table;
  return table;
}

/// Prints the measured table once, when the test program ends.
class MeasuredPrinter : public ::testing::Environment {
public:
  void TearDown() override {
    for (const auto &[family, m] : measuredTable()) {
      const Threshold &t = thresholdOf(family);
      std::printf("[ measured ] %-20s max error %.3e  (bound %.3e%s; worst error/bound %.3f; %d "
                  "checks)\n",
                  family.c_str(), m.worstError, t.bound, t.perSqrtK ? " * sqrt(K)" : "",
                  m.worstRatio, m.checks);
    }
  }
};
[[maybe_unused]] const auto *const kPrinter =
    ::testing::AddGlobalTestEnvironment(new MeasuredPrinter);

/// max |actual - expected| / max |expected|; infinity when actual holds a NaN or an infinity the
/// expected value does not.
double normalizedError(const float *actual, const double *expected, size_t n) {
  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < n; ++i) {
    double diff = std::abs(double(actual[i]) - expected[i]);
    if (!std::isfinite(diff))
      return INFINITY;
    maxDiff = std::max(maxDiff, diff);
    maxRef = std::max(maxRef, std::abs(expected[i]));
  }
  if (maxDiff == 0)
    return 0;
  return maxDiff / std::max(maxRef, 1e-300);
}

/// Compares a kernel output with the reference under the family's bound and records the error.
/// `k` is the reduction length for the families whose bound scales with sqrt(K).
void expectClose(const std::string &family, const std::string &what,
                 const std::vector<float> &actual, const Tensor &expected, double k = 1) {
  ASSERT_EQ(actual.size(), expected.data.size()) << family << ": " << what;
  const Threshold &t = thresholdOf(family);
  const double bound = t.perSqrtK ? t.bound * std::sqrt(k) : t.bound;
  const double err = normalizedError(actual.data(), expected.data.data(), actual.size());
  Measured &m = measuredTable()[family];
  m.worstError = std::max(m.worstError, err);
  m.worstRatio = std::max(m.worstRatio, bound > 0 ? err / bound : (err > 0 ? INFINITY : 0));
  ++m.checks;
  EXPECT_LE(err, bound) << family << ": " << what << " (normalized max error)";
}

/// Compares two float results (kernel against kernel) under the family's bound.
void expectCloseFloats(const std::string &family, const std::string &what,
                       const std::vector<float> &actual, const std::vector<float> &expected) {
  Tensor e({int64_t(expected.size())});
  for (size_t i = 0; i < expected.size(); ++i)
    e.data[i] = expected[i];
  expectClose(family, what, actual, e);
}

/// The threading contract and in-place variants: the same bits.
void expectSameBits(const std::string &what, const std::vector<float> &actual,
                    const std::vector<float> &expected) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  size_t firstDiff = actual.size();
  for (size_t i = 0; i < actual.size() && firstDiff == actual.size(); ++i)
    if (std::memcmp(&actual[i], &expected[i], sizeof(float)) != 0)
      firstDiff = i;
  EXPECT_EQ(firstDiff, actual.size()) << what << ": first differing element " << firstDiff << " ("
                                      << actual[firstDiff] << " vs " << expected[firstDiff] << ")";
}

/// After a call on [0, m) of [0, n): some of the NaN-filled output must still be NaN, i.e. the
/// kernel did not also compute what the rest of the range owns.
void expectPartOnly(const std::vector<float> &v, int64_t m, int64_t n, const std::string &what) {
  if (m >= n)
    return;
  bool untouched = std::any_of(v.begin(), v.end(), [](float x) { return std::isnan(x); });
  EXPECT_TRUE(untouched) << what << ": a call on [0, " << m << ") of " << n
                         << " wrote the whole output";
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

/// splitmix64 with Box-Muller normals: the same numbers on every platform and standard library.
class Rng {
public:
  explicit Rng(const std::string &seedText) {
    state = 0xcbf29ce484222325ull; // FNV-1a of the case name
    for (char c : seedText)
      state = (state ^ uint8_t(c)) * 0x100000001b3ull;
  }
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1).
  double uniform() { return (double(next() >> 11) + 0.5) * 0x1p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  }

  std::vector<float> normals(int64_t n, double sd = 1.0) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v)
      x = float(sd * normal());
    return v;
  }
  std::vector<float> uniforms(int64_t n, double lo, double hi) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v)
      x = float(uniform(lo, hi));
    return v;
  }

private:
  uint64_t state;
};

Tensor toTensor(const std::vector<float> &v, std::vector<int64_t> shape) {
  Tensor t(std::move(shape));
  EXPECT_EQ(size_t(t.numel()), v.size());
  for (size_t i = 0; i < v.size(); ++i)
    t.data[i] = v[i];
  return t;
}

std::vector<float> nanFilled(int64_t n) {
  return std::vector<float>(size_t(n), std::numeric_limits<float>::quiet_NaN());
}

/// Normalizes each row of `width` values to unit L2 norm (delta-rule keys and queries).
void normalizeRows(std::vector<float> &v, int64_t width) {
  for (size_t r = 0; r < v.size() / size_t(width); ++r) {
    double sum = 0;
    for (int64_t i = 0; i < width; ++i)
      sum += double(v[r * width + i]) * v[r * width + i];
    double inv = 1.0 / std::sqrt(sum);
    for (int64_t i = 0; i < width; ++i)
      v[r * width + i] = float(v[r * width + i] * inv);
  }
}

//===----------------------------------------------------------------------===//
// Weight types
//===----------------------------------------------------------------------===//

enum class WType { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_0_G64, Q4_1_G64, Q4_0_G128, Q4_1_G128 };

const char *wtypeName(WType t) {
  switch (t) {
  case WType::F32:
    return "f32";
  case WType::F16:
    return "f16";
  case WType::BF16:
    return "bf16";
  case WType::Q8_0:
    return "q8_0";
  case WType::Q4_0:
    return "q4_0";
  case WType::Q4_1:
    return "q4_1";
  case WType::Q4_0_G64:
    return "q4_0_g64";
  case WType::Q4_1_G64:
    return "q4_1_g64";
  case WType::Q4_0_G128:
    return "q4_0_g128";
  case WType::Q4_1_G128:
    return "q4_1_g128";
  }
  return "?";
}

/// Values per block: 1 for the float types, 32 for GGML's blocks, 64 or 128 for deltac's groups.
int64_t groupOf(WType t) {
  switch (t) {
  case WType::F32:
  case WType::F16:
  case WType::BF16:
    return 1;
  case WType::Q8_0:
  case WType::Q4_0:
  case WType::Q4_1:
    return 32;
  case WType::Q4_0_G64:
  case WType::Q4_1_G64:
    return 64;
  case WType::Q4_0_G128:
  case WType::Q4_1_G128:
    return 128;
  }
  return 1;
}

bool isBlockType(WType t) { return groupOf(t) > 1; }

/// deltac's int4 groups (import/DeltacQuants.h).
bool isInt4Group(WType t) { return groupOf(t) > 32; }

constexpr WType kAllWTypes[] = {WType::F32,       WType::F16,      WType::BF16,     WType::Q8_0,
                                WType::Q4_0,      WType::Q4_1,     WType::Q4_0_G64, WType::Q4_1_G64,
                                WType::Q4_0_G128, WType::Q4_1_G128};

/// A weight matrix [rows, K] in its stored bytes, and the values those bytes decode to (what the
/// reference computes with).
struct Encoded {
  std::vector<uint8_t> bytes;
  std::vector<float> decoded;
};

Encoded encode(WType type, const std::vector<float> &w, int64_t K) {
  Encoded e;
  const int64_t rows = int64_t(w.size()) / K;
  auto pushU16 = [&](uint16_t h) {
    e.bytes.push_back(uint8_t(h & 0xFF));
    e.bytes.push_back(uint8_t(h >> 8));
  };
  switch (type) {
  case WType::F32:
    e.bytes.resize(w.size() * 4);
    std::memcpy(e.bytes.data(), w.data(), e.bytes.size());
    e.decoded = w;
    return e;
  case WType::F16:
    for (float x : w) {
      pushU16(ggml::floatToFp16(x));
      e.decoded.push_back(ggml::fp16ToFloat(ggml::floatToFp16(x)));
    }
    return e;
  case WType::BF16:
    for (float x : w) {
      pushU16(ggml::floatToBf16(x));
      e.decoded.push_back(ggml::bf16ToFloat(ggml::floatToBf16(x)));
    }
    return e;
  case WType::Q8_0:
  case WType::Q4_0:
  case WType::Q4_1: {
    const ggml::GGMLType g = type == WType::Q8_0   ? ggml::GGMLType::Q8_0
                             : type == WType::Q4_0 ? ggml::GGMLType::Q4_0
                                                   : ggml::GGMLType::Q4_1;
    const uint64_t rowBytes = *ggml::rowBytes(uint32_t(g), K);
    e.bytes.resize(size_t(rowBytes * rows));
    e.decoded.resize(w.size());
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_TRUE(ggml::quantizeRow(g, &w[r * K], &e.bytes[r * rowBytes], K));
      EXPECT_TRUE(ggml::dequantizeRow(g, &e.bytes[r * rowBytes], &e.decoded[r * K], K));
    }
    return e;
  }
  case WType::Q4_0_G64:
  case WType::Q4_1_G64:
  case WType::Q4_0_G128:
  case WType::Q4_1_G128: {
    const quants::Int4Format format{groupOf(type),
                                    type == WType::Q4_1_G64 || type == WType::Q4_1_G128};
    const uint64_t rowBytes = *quants::int4RowBytes(format, K);
    e.bytes.resize(size_t(rowBytes * rows));
    e.decoded.resize(w.size());
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_TRUE(quants::quantizeRowInt4(format, &w[r * K], &e.bytes[r * rowBytes], K));
      EXPECT_TRUE(quants::dequantizeRowInt4(format, &e.bytes[r * rowBytes], &e.decoded[r * K], K));
    }
    return e;
  }
  }
  return e;
}

// Type-erased entry points, one table row per weight type.
using LinearFn = void (*)(const float *, int64_t, int64_t, const void *, int64_t, int64_t, int64_t,
                          float *);
using EmbeddingFn = void (*)(const void *, int64_t, int64_t, const int32_t *, int64_t, int64_t,
                             float *);
using MoEFn = void (*)(const float *, int64_t, const float *, int64_t, const void *, const void *,
                       const void *, int64_t, int64_t, int32_t, const void *, const void *,
                       const void *, const float *, int64_t, int64_t, int64_t, void *, float *);

struct WeightKernels {
  LinearFn linear, lmHead;
  EmbeddingFn embedding;
  MoEFn moe;
};

#define DC_WEIGHT_KERNELS(wname, ctype)                                                            \
  WeightKernels {                                                                                  \
    [](const float *x, int64_t t, int64_t k, const void *w, int64_t n, int64_t b, int64_t e,       \
       float *y) { dc_k_linear_f32_##wname(x, t, k, static_cast<const ctype *>(w), n, b, e, y); }, \
        [](const float *x, int64_t t, int64_t k, const void *w, int64_t n, int64_t b, int64_t e,   \
           float *y) {                                                                             \
          dc_k_lm_head_f32_##wname(x, t, k, static_cast<const ctype *>(w), n, b, e, y);            \
        },                                                                                         \
        [](const void *table, int64_t v, int64_t h, const int32_t *ids, int64_t b, int64_t e,      \
           float *y) {                                                                             \
          dc_k_embedding_f32_##wname(static_cast<const ctype *>(table), v, h, ids, b, e, y);       \
        },                                                                                         \
        [](const float *x, int64_t h, const float *router, int64_t ne, const void *g,              \
           const void *u, const void *d, int64_t i, int64_t k, int32_t norm, const void *sg,       \
           const void *su, const void *sd, const float *sgate, int64_t is, int64_t b, int64_t e,   \
           void *scratch, float *out) {                                                            \
          dc_k_moe_f32_##wname(x, h, router, ne, static_cast<const ctype *>(g),                    \
                               static_cast<const ctype *>(u), static_cast<const ctype *>(d), i, k, \
                               norm, static_cast<const ctype *>(sg),                               \
                               static_cast<const ctype *>(su), static_cast<const ctype *>(sd),     \
                               sgate, is, b, e, scratch, out);                                     \
        }                                                                                          \
  }

WeightKernels kernelsFor(WType t) {
  switch (t) {
  case WType::F32:
    return DC_WEIGHT_KERNELS(f32, float);
  case WType::F16:
    return DC_WEIGHT_KERNELS(f16, uint16_t);
  case WType::BF16:
    return DC_WEIGHT_KERNELS(bf16, uint16_t);
  case WType::Q8_0:
    return DC_WEIGHT_KERNELS(q8_0, uint8_t);
  case WType::Q4_0:
    return DC_WEIGHT_KERNELS(q4_0, uint8_t);
  case WType::Q4_1:
    return DC_WEIGHT_KERNELS(q4_1, uint8_t);
  case WType::Q4_0_G64:
    return DC_WEIGHT_KERNELS(q4_0_g64, uint8_t);
  case WType::Q4_1_G64:
    return DC_WEIGHT_KERNELS(q4_1_g64, uint8_t);
  case WType::Q4_0_G128:
    return DC_WEIGHT_KERNELS(q4_0_g128, uint8_t);
  case WType::Q4_1_G128:
    return DC_WEIGHT_KERNELS(q4_1_g128, uint8_t);
  }
  return DC_WEIGHT_KERNELS(f32, float);
}
#undef DC_WEIGHT_KERNELS

/// Scratch of `bytes` bytes at DC_K_SCRATCH_ALIGNMENT, poisoned so a kernel that reads scratch
/// before writing it produces NaNs.
/// A kernel's scratch: exactly the bytes its *_scratch_bytes function asks for (filled with NaN,
/// so a read before a write shows), aligned, followed by a guard that must come back untouched:
/// a kernel that writes past what it asked for fails the case instead of corrupting the heap.
struct Scratch {
  static constexpr size_t kGuardFloats = 1024;
  explicit Scratch(int64_t bytes)
      : bytes(size_t(bytes)),
        storage(size_t(bytes) / 4 + DC_K_SCRATCH_ALIGNMENT / 4 + 1 + kGuardFloats,
                std::numeric_limits<float>::quiet_NaN()) {
    std::memset(guard(), kGuardByte, kGuardFloats * 4);
  }
  ~Scratch() {
    const unsigned char *g = guard();
    for (size_t i = 0; i < kGuardFloats * 4; ++i)
      if (g[i] != kGuardByte) {
        ADD_FAILURE() << "the kernel wrote " << i << " bytes past the " << bytes
                      << " bytes of scratch it asked for";
        break;
      }
  }
  Scratch(const Scratch &) = delete;
  Scratch &operator=(const Scratch &) = delete;
  void *get() {
    uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    p = (p + DC_K_SCRATCH_ALIGNMENT - 1) / DC_K_SCRATCH_ALIGNMENT * DC_K_SCRATCH_ALIGNMENT;
    return reinterpret_cast<void *>(p);
  }

private:
  static constexpr unsigned char kGuardByte = 0xA5;
  unsigned char *guard() { return static_cast<unsigned char *>(get()) + bytes; }
  size_t bytes;
  std::vector<float> storage;
};

//===----------------------------------------------------------------------===//
// The case registry
//===----------------------------------------------------------------------===//

struct OpCase {
  std::string name; ///< unique; also the test name and the RNG seed
  std::function<void(const std::string &name)> run;
};

void PrintTo(const OpCase &c, std::ostream *os) { *os << c.name; }

std::string str(int64_t v) { return std::to_string(v); }

/// The split point of a threading check over [0, n): not a multiple of any tile size.
int64_t splitPoint(int64_t n) { return n <= 1 ? n : std::max<int64_t>(1, n * 3 / 7); }

//===----------------------------------------------------------------------===//
// Elementwise and norms
//===----------------------------------------------------------------------===//

void addElementwiseCases(std::vector<OpCase> &cases) {
  for (int64_t n : {1, 7, 33, 1000, 4099}) {
    cases.push_back({"add_n" + str(n), [n](const std::string &name) {
                       Rng rng(name);
                       auto a = rng.normals(n), b = rng.normals(n);
                       std::vector<float> y(static_cast<size_t>(n));
                       dc_k_add_f32(a.data(), b.data(), 0, n, y.data());
                       expectClose("add", "y", y, ref::add(toTensor(a, {n}), toTensor(b, {n})));
                       auto split = nanFilled(n);
                       int64_t m = splitPoint(n);
                       dc_k_add_f32(a.data(), b.data(), 0, m, split.data());
                       expectPartOnly(split, m, n, "split after the first range");
                       dc_k_add_f32(a.data(), b.data(), m, n, split.data());
                       expectSameBits("add split", split, y);
                       auto inPlace = a;
                       dc_k_add_f32(inPlace.data(), b.data(), 0, n, inPlace.data());
                       expectSameBits("add in place", inPlace, y);
                     }});
    cases.push_back({"swiglu_n" + str(n), [n](const std::string &name) {
                       Rng rng(name);
                       auto gate = rng.normals(n, 2.0), up = rng.normals(n);
                       std::vector<float> y(static_cast<size_t>(n));
                       dc_k_swiglu_f32(gate.data(), up.data(), 0, n, y.data());
                       expectClose("swiglu", "y", y,
                                   ref::swiglu(toTensor(gate, {n}), toTensor(up, {n})));
                       auto split = nanFilled(n);
                       int64_t m = splitPoint(n);
                       dc_k_swiglu_f32(gate.data(), up.data(), 0, m, split.data());
                       expectPartOnly(split, m, n, "split after the first range");
                       dc_k_swiglu_f32(gate.data(), up.data(), m, n, split.data());
                       expectSameBits("swiglu split", split, y);
                       auto inPlace = up;
                       dc_k_swiglu_f32(gate.data(), inPlace.data(), 0, n, inPlace.data());
                       expectSameBits("swiglu in place", inPlace, y);
                     }});
  }
}

/// Rows of unit-variance activations, each row at its own scale (1e-2 .. 1e2).
std::vector<float> scaledRows(Rng &rng, int64_t rows, int64_t d) {
  std::vector<float> x = rng.normals(rows * d);
  for (int64_t r = 0; r < rows; ++r) {
    double scale = std::pow(10.0, double(r % 5) - 2.0);
    for (int64_t i = 0; i < d; ++i)
      x[r * d + i] = float(x[r * d + i] * scale);
  }
  return x;
}

void addNormCases(std::vector<OpCase> &cases) {
  const float eps = 1e-6f;
  struct Shape {
    int64_t rows, d;
  };
  for (Shape s :
       {Shape{1, 1}, Shape{3, 7}, Shape{5, 33}, Shape{4, 128}, Shape{7, 256}, Shape{2, 1024}})
    for (int32_t mode : {DC_K_NORM_PLAIN, DC_K_NORM_ONE_PLUS}) {
      std::string name = std::string("rms_norm_") +
                         (mode == DC_K_NORM_PLAIN ? "plain" : "one_plus") + "_rows" + str(s.rows) +
                         "_d" + str(s.d);
      cases.push_back(
          {name, [s, mode, eps](const std::string &name) {
             Rng rng(name);
             auto x = scaledRows(rng, s.rows, s.d);
             auto w = rng.normals(s.d, 0.1);
             if (mode == DC_K_NORM_PLAIN)
               for (float &v : w)
                 v += 1.0f;
             const int64_t n = s.rows * s.d;
             std::vector<float> y(static_cast<size_t>(n));
             dc_k_rms_norm_f32(x.data(), w.data(), s.d, mode, eps, 0, s.rows, y.data());
             expectClose("rms_norm", "y", y,
                         ref::rmsNorm(toTensor(x, {s.rows, s.d}), toTensor(w, {s.d}),
                                      mode == DC_K_NORM_ONE_PLUS, double(eps)));
             auto split = nanFilled(n);
             int64_t m = splitPoint(s.rows);
             dc_k_rms_norm_f32(x.data(), w.data(), s.d, mode, eps, 0, m, split.data());
             expectPartOnly(split, m, s.rows, "split after the first range");
             dc_k_rms_norm_f32(x.data(), w.data(), s.d, mode, eps, m, s.rows, split.data());
             expectSameBits("rms_norm split", split, y);
             auto inPlace = x;
             dc_k_rms_norm_f32(inPlace.data(), w.data(), s.d, mode, eps, 0, s.rows, inPlace.data());
             expectSameBits("rms_norm in place", inPlace, y);
           }});
    }

  for (Shape s : {Shape{1, 1}, Shape{3, 7}, Shape{16, 128}, Shape{5, 100}})
    cases.push_back(
        {"l2_norm_rows" + str(s.rows) + "_d" + str(s.d), [s, eps](const std::string &name) {
           Rng rng(name);
           auto x = scaledRows(rng, s.rows, s.d);
           if (s.rows > 2) // a zero row: the eps keeps it finite
             std::fill(x.begin() + s.d, x.begin() + 2 * s.d, 0.0f);
           const int64_t n = s.rows * s.d;
           std::vector<float> y(static_cast<size_t>(n));
           dc_k_l2_norm_f32(x.data(), s.d, eps, 0, s.rows, y.data());
           expectClose("l2_norm", "y", y, ref::l2Norm(toTensor(x, {s.rows, s.d}), double(eps)));
           auto split = nanFilled(n);
           int64_t m = splitPoint(s.rows);
           dc_k_l2_norm_f32(x.data(), s.d, eps, 0, m, split.data());
           expectPartOnly(split, m, s.rows, "split after the first range");
           dc_k_l2_norm_f32(x.data(), s.d, eps, m, s.rows, split.data());
           expectSameBits("l2_norm split", split, y);
         }});

  for (Shape s : {Shape{1, 1}, Shape{3, 7}, Shape{6, 33}, Shape{8, 128}})
    cases.push_back(
        {"gated_rms_norm_rows" + str(s.rows) + "_d" + str(s.d), [s, eps](const std::string &name) {
           Rng rng(name);
           auto x = scaledRows(rng, s.rows, s.d);
           auto z = rng.normals(s.rows * s.d, 2.0);
           auto w = rng.normals(s.d, 0.1);
           for (float &v : w)
             v += 1.0f;
           const int64_t n = s.rows * s.d;
           std::vector<float> y(static_cast<size_t>(n));
           dc_k_gated_rms_norm_f32(x.data(), z.data(), 1, s.d, w.data(), s.d, eps, 0, s.rows,
                                   y.data());
           expectClose("gated_rms_norm", "y", y,
                       ref::gatedRmsNorm(toTensor(x, {s.rows, s.d}), toTensor(z, {s.rows, s.d}),
                                         toTensor(w, {s.d}), double(eps)));
           auto split = nanFilled(n);
           int64_t m = splitPoint(s.rows);
           dc_k_gated_rms_norm_f32(x.data(), z.data(), 1, s.d, w.data(), s.d, eps, 0, m,
                                   split.data());
           expectPartOnly(split, m, s.rows, "split after the first range");
           dc_k_gated_rms_norm_f32(x.data(), z.data(), 1, s.d, w.data(), s.d, eps, m, s.rows,
                                   split.data());
           expectSameBits("gated_rms_norm split", split, y);
         }});
}

//===----------------------------------------------------------------------===//
// Projections
//===----------------------------------------------------------------------===//

void addLinearCases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, k, n;
  };
  const std::vector<Shape> floatShapes = {{1, 1, 1},    {1, 7, 5},     {3, 33, 17},  {7, 100, 37},
                                          {9, 256, 64}, {2, 1024, 48}, {130, 48, 20}};
  const std::vector<Shape> blockShapes = {
      {1, 32, 1}, {3, 96, 33}, {7, 256, 17}, {2, 1024, 40}, {65, 64, 9}};
  // deltac's int4 groups: rows of 1 to 8 groups of 128 (or 3 groups of 64), 1 to 65 tokens.
  const std::vector<Shape> groupShapes = {
      {1, 128, 8}, {3, 384, 33}, {7, 256, 17}, {2, 1024, 40}, {65, 128, 9}};
  for (WType type : kAllWTypes) {
    std::vector<Shape> shapes = isInt4Group(type)   ? groupShapes
                                : isBlockType(type) ? blockShapes
                                                    : floatShapes;
    if (groupOf(type) == 64)
      shapes.push_back({4, 192, 21});
    for (Shape s : shapes) {
      std::string name = std::string("linear_") + wtypeName(type) + "_T" + str(s.t) + "_K" +
                         str(s.k) + "_N" + str(s.n);
      cases.push_back(
          {name, [type, s](const std::string &name) {
             Rng rng(name);
             auto x = rng.normals(s.t * s.k);
             Encoded w = encode(type, rng.normals(s.n * s.k, 1.0 / std::sqrt(s.k)), s.k);
             const WeightKernels kernels = kernelsFor(type);
             std::vector<float> y(static_cast<size_t>(s.t * s.n));
             kernels.linear(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, s.n, y.data());
             expectClose(std::string("linear_") + wtypeName(type), "y", y,
                         ref::linear(toTensor(x, {s.t, s.k}), toTensor(w.decoded, {s.n, s.k})),
                         double(s.k));
             auto split = nanFilled(s.t * s.n);
             int64_t m = splitPoint(s.n);
             kernels.linear(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, m, split.data());
             expectPartOnly(split, m, s.n, "split after the first range");
             kernels.linear(x.data(), s.t, s.k, w.bytes.data(), s.n, m, s.n, split.data());
             expectSameBits("linear split", split, y);
           }});
    }
  }

  for (WType type : kAllWTypes) {
    std::vector<Shape> shapes = {{1, 64, 1000}, {3, 96, 997}};
    if (isInt4Group(type))
      shapes = {{1, 128, 1000}, {3, 256, 997}};
    if (!isBlockType(type))
      shapes.push_back({2, 40, 999});
    for (Shape s : shapes) {
      std::string name = std::string("lm_head_") + wtypeName(type) + "_T" + str(s.t) + "_H" +
                         str(s.k) + "_V" + str(s.n);
      cases.push_back(
          {name, [type, s](const std::string &name) {
             Rng rng(name);
             auto x = rng.normals(s.t * s.k);
             Encoded w = encode(type, rng.normals(s.n * s.k, 1.0 / std::sqrt(s.k)), s.k);
             const WeightKernels kernels = kernelsFor(type);
             std::vector<float> logits(static_cast<size_t>(s.t * s.n));
             kernels.lmHead(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, s.n, logits.data());
             expectClose("lm_head", "logits", logits,
                         ref::lmHead(toTensor(x, {s.t, s.k}), toTensor(w.decoded, {s.n, s.k})),
                         double(s.k));
             auto split = nanFilled(s.t * s.n);
             int64_t m = splitPoint(s.n);
             kernels.lmHead(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, m, split.data());
             expectPartOnly(split, m, s.n, "split after the first range");
             kernels.lmHead(x.data(), s.t, s.k, w.bytes.data(), s.n, m, s.n, split.data());
             expectSameBits("lm_head split", split, logits);
           }});
    }
  }
}

void addEmbeddingCases(std::vector<OpCase> &cases) {
  for (WType type : kAllWTypes) {
    std::vector<int64_t> widths = {64, 96};
    if (isInt4Group(type))
      widths = {128, 256};
    if (groupOf(type) == 64)
      widths.push_back(192);
    if (!isBlockType(type))
      widths.push_back(37);
    for (int64_t h : widths) {
      std::string name = std::string("embedding_") + wtypeName(type) + "_V1000_H" + str(h) + "_T9";
      cases.push_back(
          {name, [type, h](const std::string &name) {
             const int64_t v = 1000, t = 9;
             Rng rng(name);
             Encoded table = encode(type, rng.normals(v * h), h);
             std::vector<int32_t> ids(static_cast<size_t>(t));
             for (int32_t &id : ids)
               id = int32_t(rng.next() % uint64_t(v));
             ids[0] = 0;
             ids[1] = int32_t(v - 1);
             const WeightKernels kernels = kernelsFor(type);
             std::vector<float> y(static_cast<size_t>(t * h));
             kernels.embedding(table.bytes.data(), v, h, ids.data(), 0, t, y.data());
             expectClose("embedding", "rows", y,
                         ref::embedding(toTensor(table.decoded, {v, h}), ids));
             auto split = nanFilled(t * h);
             int64_t m = splitPoint(t);
             kernels.embedding(table.bytes.data(), v, h, ids.data(), 0, m, split.data());
             expectPartOnly(split, m, t, "split after the first range");
             kernels.embedding(table.bytes.data(), v, h, ids.data(), m, t, split.data());
             expectSameBits("embedding split", split, y);
             // Ids outside [0, V) give zero rows (the kernel stays memory safe).
             std::vector<int32_t> bad = {-1, int32_t(v), ids[2]};
             std::vector<float> badRows = nanFilled(3 * h);
             kernels.embedding(table.bytes.data(), v, h, bad.data(), 0, 3, badRows.data());
             for (int64_t i = 0; i < 2 * h; ++i)
               ASSERT_EQ(badRows[i], 0.0f) << "out-of-range id, element " << i;
             expectSameBits("embedding after bad ids", {badRows.begin() + 2 * h, badRows.end()},
                            {y.begin() + 2 * h, y.begin() + 3 * h});
           }});
    }
  }

  // Every f16 and every bf16 bit pattern through the embedding gather: the kernels' decoders must
  // agree with GGMLQuants' bit for bit (NaN only needs to stay NaN).
  for (WType type : {WType::F16, WType::BF16}) {
    cases.push_back({std::string("embedding_") + wtypeName(type) + "_all_bit_patterns",
                     [type](const std::string &) {
                       const int64_t h = 64, v = 65536 / h;
                       std::vector<uint16_t> table(65536);
                       for (size_t i = 0; i < table.size(); ++i)
                         table[i] = uint16_t(i);
                       std::vector<int32_t> ids(static_cast<size_t>(v));
                       for (int64_t i = 0; i < v; ++i)
                         ids[size_t(i)] = int32_t(i);
                       std::vector<float> y(65536);
                       kernelsFor(type).embedding(table.data(), v, h, ids.data(), 0, v, y.data());
                       int mismatches = 0;
                       for (size_t i = 0; i < table.size(); ++i) {
                         float want = type == WType::F16 ? ggml::fp16ToFloat(table[i])
                                                         : ggml::bf16ToFloat(table[i]);
                         bool same = std::isnan(want)
                                         ? std::isnan(y[i])
                                         : std::memcmp(&want, &y[i], sizeof(float)) == 0;
                         if (!same && ++mismatches <= 5)
                           ADD_FAILURE() << "pattern 0x" << std::hex << i << ": " << y[i]
                                         << " instead of " << want;
                       }
                       EXPECT_EQ(mismatches, 0);
                       Measured &m = measuredTable()["embedding"];
                       ++m.checks;
                     }});
  }
}

//===----------------------------------------------------------------------===//
// Gated DeltaNet: conv, gates, the delta rule
//===----------------------------------------------------------------------===//

void addConvAndGateCases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, c, k;
    int32_t act;
  };
  for (Shape s : {Shape{1, 7, 4, DC_K_ACT_SILU}, Shape{2, 33, 4, DC_K_ACT_SILU},
                  Shape{7, 130, 4, DC_K_ACT_NONE}, Shape{64, 96, 4, DC_K_ACT_SILU},
                  Shape{5, 9, 1, DC_K_ACT_NONE}, Shape{3, 70, 3, DC_K_ACT_SILU}}) {
    std::string name = "causal_conv1d_T" + str(s.t) + "_C" + str(s.c) + "_K" + str(s.k) +
                       (s.act == DC_K_ACT_SILU ? "_silu" : "_none");
    cases.push_back({name, [s](const std::string &name) {
                       Rng rng(name);
                       const int64_t hist = s.k - 1;
                       auto x = rng.normals(s.t * s.c);
                       auto w = rng.normals(s.c * s.k, 0.5);
                       auto state = rng.normals(hist * s.c);
                       std::vector<float> y(static_cast<size_t>(s.t * s.c)),
                           newState(static_cast<size_t>(hist * s.c));
                       const auto stateBefore = state;
                       dc_k_causal_conv1d_f32(x.data(), s.t, s.c, w.data(), s.k, state.data(),
                                              s.act, 0, s.c, y.data(), newState.data());
                       expectSameBits("conv state_in is not written", state, stateBefore);
                       ref::ConvResult expected =
                           ref::causalConv1d(toTensor(x, {s.t, s.c}), toTensor(w, {s.c, s.k}),
                                             toTensor(state, {hist, s.c}), s.act == DC_K_ACT_SILU);
                       expectClose("causal_conv1d", "y", y, expected.output);
                       expectClose("causal_conv1d", "new state", newState, expected.newState);
                       // Two channel ranges, state updated in place.
                       auto split = nanFilled(s.t * s.c);
                       auto inPlace = state;
                       int64_t m = splitPoint(s.c);
                       dc_k_causal_conv1d_f32(x.data(), s.t, s.c, w.data(), s.k, inPlace.data(),
                                              s.act, 0, m, split.data(), inPlace.data());
                       expectPartOnly(split, m, s.c, "split after the first range");
                       dc_k_causal_conv1d_f32(x.data(), s.t, s.c, w.data(), s.k, inPlace.data(),
                                              s.act, m, s.c, split.data(), inPlace.data());
                       expectSameBits("conv split y", split, y);
                       expectSameBits("conv split, in-place state", inPlace, newState);
                     }});
  }

  struct GateShape {
    int64_t t, nv;
    int32_t form;
  };
  for (GateShape s : {GateShape{1, 4, DC_K_DECAY_A_LOG}, GateShape{7, 33, DC_K_DECAY_NEG_EXP},
                      GateShape{130, 16, DC_K_DECAY_A_LOG}}) {
    std::string name = "gdn_gates_T" + str(s.t) + "_nv" + str(s.nv) +
                       (s.form == DC_K_DECAY_A_LOG ? "_a_log" : "_neg_exp");
    cases.push_back({name, [s](const std::string &name) {
                       Rng rng(name);
                       // a spans softplus' switch at 20; A_log in [-1, 2.5] as trained models have.
                       auto a = rng.normals(s.t * s.nv, 8.0), b = rng.normals(s.t * s.nv, 3.0);
                       auto aLog = rng.uniforms(s.nv, -1.0, 2.5), dtBias = rng.normals(s.nv);
                       std::vector<float> decay = aLog;
                       if (s.form == DC_K_DECAY_NEG_EXP)
                         for (float &d : decay)
                           d = -std::exp(d);
                       const int64_t n = s.t * s.nv;
                       std::vector<float> g(static_cast<size_t>(n)), beta(static_cast<size_t>(n));
                       dc_k_gdn_gates_f32(a.data(), b.data(), decay.data(), dtBias.data(), s.nv,
                                          s.form, 0, s.t, g.data(), beta.data());
                       ref::Gates expected =
                           ref::gdnGates(toTensor(a, {s.t, s.nv}), toTensor(b, {s.t, s.nv}),
                                         toTensor(decay, {s.nv}), toTensor(dtBias, {s.nv}),
                                         s.form == DC_K_DECAY_A_LOG);
                       expectClose("gdn_gates", "g", g, expected.g);
                       expectClose("gdn_gates", "beta", beta, expected.beta);
                       auto gSplit = nanFilled(n), betaSplit = nanFilled(n);
                       int64_t m = splitPoint(s.t);
                       dc_k_gdn_gates_f32(a.data(), b.data(), decay.data(), dtBias.data(), s.nv,
                                          s.form, 0, m, gSplit.data(), betaSplit.data());
                       expectPartOnly(gSplit, m, s.t, "gSplit after the first range");
                       dc_k_gdn_gates_f32(a.data(), b.data(), decay.data(), dtBias.data(), s.nv,
                                          s.form, m, s.t, gSplit.data(), betaSplit.data());
                       expectSameBits("gates split g", gSplit, g);
                       expectSameBits("gates split beta", betaSplit, beta);
                     }});
  }

  // A = -exp(A_log) for every float A_log in [-120, -95], where expf's result becomes subnormal and
  // then +0 (below -0x1.9fe368p6; dc_expf answers those without the call): bit for bit
  // -expf(A_log) * softplus, softplus(30) = 30.
  cases.push_back({"gdn_gates_a_log_underflow", [](const std::string &) {
                     std::vector<float> aLog;
                     for (float x = -120.0f; x < -95.0f; x = std::nextafter(x, 0.0f))
                       aLog.push_back(x);
                     const int64_t nv = int64_t(aLog.size());
                     std::vector<float> a(aLog.size(), 30.0f), b(aLog.size(), 0.0f);
                     std::vector<float> dtBias(aLog.size(), 0.0f), g(aLog.size()), beta(g.size());
                     dc_k_gdn_gates_f32(a.data(), b.data(), aLog.data(), dtBias.data(), nv,
                                        DC_K_DECAY_A_LOG, 0, 1, g.data(), beta.data());
                     std::vector<float> expected(aLog.size());
                     for (size_t i = 0; i < aLog.size(); ++i)
                       expected[i] = -std::exp(aLog[i]) * 30.0f;
                     expectSameBits("g = -exp(A_log) * 30", g, expected);
                   }});
}

/// Inputs of one delta-rule call.
struct DeltaInputs {
  int64_t t, nk, nv, dk, dv;
  int32_t mapping;
  float scale;
  std::vector<float> q, k, v, g, beta, state;

  Tensor refQ() const { return toTensor(q, {t, nk, dk}); }
  Tensor refK() const { return toTensor(k, {t, nk, dk}); }
  Tensor refV() const { return toTensor(v, {t, nv, dv}); }
  Tensor refG() const { return toTensor(g, {t, nv}); }
  Tensor refBeta() const { return toTensor(beta, {t, nv}); }
  Tensor refState() const { return toTensor(state, {nv, dk, dv}); }
};

/// How fast the state forgets: g is uniform in [-range, 0].
enum class Decay {
  Slow,    ///< [-0.1, 0]: alpha >= 0.9, errors accumulate across chunks
  Fast,    ///< [-5, 0]: the realistic span of trained models
  Extreme, ///< [-80, 0]: gamma reaches -thousands in a chunk; exp(-gamma) would overflow
};

struct DeltaShape {
  int64_t nk, nv, dk, dv;
  int32_t mapping;
  Decay decay;
};

std::string deltaShapeName(const DeltaShape &s) {
  return "nk" + str(s.nk) + "_nv" + str(s.nv) + "_dk" + str(s.dk) + "_dv" + str(s.dv) +
         (s.mapping == DC_K_HEADS_TILED ? "_tiled" : "_grouped") +
         (s.decay == Decay::Slow   ? "_slow"
          : s.decay == Decay::Fast ? "_fast"
                                   : "_extreme");
}

DeltaInputs makeDeltaInputs(Rng &rng, const DeltaShape &s, int64_t t) {
  DeltaInputs in{t,  s.nk, s.nv, s.dk, s.dv, s.mapping, float(1.0 / std::sqrt(double(s.dk))),
                 {}, {},   {},   {},   {},   {}};
  in.q = rng.normals(t * s.nk * s.dk);
  in.k = rng.normals(t * s.nk * s.dk);
  normalizeRows(in.q, s.dk);
  normalizeRows(in.k, s.dk);
  in.v = rng.normals(t * s.nv * s.dv);
  const double range = s.decay == Decay::Slow ? 0.1 : s.decay == Decay::Fast ? 5.0 : 80.0;
  in.g = rng.uniforms(t * s.nv, -range, 0.0);
  in.beta = rng.normals(t * s.nv);
  for (float &b : in.beta)
    b = float(1.0 / (1.0 + std::exp(-double(b))));
  in.state = rng.normals(s.nv * s.dk * s.dv, 1.0 / std::sqrt(double(s.dk)));
  return in;
}

enum class DeltaKernel { Recurrent, Chunked };

/// Runs one delta-rule kernel over value heads [h0, h1) into out/stateOut (state in place when
/// stateOut holds the input state already and `inPlace` is set).
void runDelta(DeltaKernel kernel, const DeltaInputs &in, int64_t h0, int64_t h1,
              std::vector<float> &out, std::vector<float> &stateOut, bool inPlace) {
  const float *stateIn = inPlace ? stateOut.data() : in.state.data();
  if (kernel == DeltaKernel::Recurrent) {
    dc_k_gated_delta_rule_recurrent_f32(
        in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(), in.t, in.nk, in.nv,
        in.dk, in.dv, in.mapping, in.scale, stateIn, h0, h1, out.data(), stateOut.data());
    return;
  }
  Scratch scratch(dc_k_gated_delta_rule_chunked_f32_scratch_bytes(in.dk, in.dv));
  dc_k_gated_delta_rule_chunked_f32(
      in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(), in.t, in.nk, in.nv, in.dk,
      in.dv, in.mapping, in.scale, stateIn, h0, h1, scratch.get(), out.data(), stateOut.data());
}

/// The token range [t0, t1) of a delta-rule input, with the given starting state.
DeltaInputs sliceTokens(const DeltaInputs &in, int64_t t0, int64_t t1,
                        const std::vector<float> &state) {
  DeltaInputs s = in;
  s.t = t1 - t0;
  auto cut = [&](const std::vector<float> &v, int64_t perToken) {
    return std::vector<float>(v.begin() + t0 * perToken, v.begin() + t1 * perToken);
  };
  s.q = cut(in.q, in.nk * in.dk);
  s.k = cut(in.k, in.nk * in.dk);
  s.v = cut(in.v, in.nv * in.dv);
  s.g = cut(in.g, in.nv);
  s.beta = cut(in.beta, in.nv);
  s.state = state;
  return s;
}

void addDeltaRuleCases(std::vector<OpCase> &cases) {
  // Recurrent (decode) kernel: r = 1 and 2, grouped and tiled, odd head sizes, a few tokens.
  const std::vector<DeltaShape> recurrentShapes = {
      {1, 1, 4, 4, DC_K_HEADS_GROUPED, Decay::Fast},
      {2, 4, 128, 128, DC_K_HEADS_GROUPED, Decay::Slow},
      {2, 4, 128, 128, DC_K_HEADS_TILED, Decay::Fast},
      {1, 2, 33, 17, DC_K_HEADS_TILED, Decay::Slow},
      {3, 3, 7, 65, DC_K_HEADS_GROUPED, Decay::Fast},
      {2, 6, 16, 80, DC_K_HEADS_GROUPED, Decay::Extreme}};
  for (const DeltaShape &s : recurrentShapes)
    for (int64_t t : {1, 3, 20}) {
      cases.push_back({"delta_rule_recurrent_T" + str(t) + "_" + deltaShapeName(s),
                       [s, t](const std::string &name) {
                         Rng rng(name);
                         DeltaInputs in = makeDeltaInputs(rng, s, t);
                         std::vector<float> out(static_cast<size_t>(t * s.nv * s.dv)),
                             state(in.state.size());
                         runDelta(DeltaKernel::Recurrent, in, 0, s.nv, out, state, false);
                         ref::DeltaRuleResult expected = ref::gatedDeltaRule(
                             in.refQ(), in.refK(), in.refV(), in.refG(), in.refBeta(),
                             in.refState(), s.mapping == DC_K_HEADS_TILED, double(in.scale));
                         expectClose("delta_rule", "output", out, expected.output);
                         expectClose("delta_rule", "state", state, expected.newState);
                         auto split = nanFilled(int64_t(out.size()));
                         auto inPlace = in.state;
                         int64_t m = splitPoint(s.nv);
                         runDelta(DeltaKernel::Recurrent, in, 0, m, split, inPlace, true);
                         expectPartOnly(split, m, s.nv, "split after the first range");
                         runDelta(DeltaKernel::Recurrent, in, m, s.nv, split, inPlace, true);
                         expectSameBits("recurrent split output", split, out);
                         expectSameBits("recurrent split, in-place state", inPlace, state);
                       }});
    }

  // Chunked (prefill) kernel: T crossing chunk boundaries and ending in partial chunks.
  const std::vector<DeltaShape> chunkedShapes = {{1, 1, 128, 128, DC_K_HEADS_GROUPED, Decay::Slow},
                                                 {2, 4, 128, 128, DC_K_HEADS_GROUPED, Decay::Fast},
                                                 {2, 4, 128, 128, DC_K_HEADS_TILED, Decay::Slow},
                                                 {1, 2, 33, 17, DC_K_HEADS_TILED, Decay::Fast},
                                                 {3, 3, 7, 65, DC_K_HEADS_GROUPED, Decay::Slow},
                                                 {2, 4, 32, 32, DC_K_HEADS_TILED, Decay::Extreme}};
  for (const DeltaShape &s : chunkedShapes)
    for (int64_t t : {1, 7, 64, 65, 130}) {
      cases.push_back(
          {"delta_rule_chunked_T" + str(t) + "_" + deltaShapeName(s),
           [s, t](const std::string &name) {
             Rng rng(name);
             DeltaInputs in = makeDeltaInputs(rng, s, t);
             const size_t outSize = size_t(t * s.nv * s.dv);
             std::vector<float> out(outSize), state(in.state.size());
             runDelta(DeltaKernel::Chunked, in, 0, s.nv, out, state, false);
             ref::DeltaRuleResult expected = ref::gatedDeltaRule(
                 in.refQ(), in.refK(), in.refV(), in.refG(), in.refBeta(), in.refState(),
                 s.mapping == DC_K_HEADS_TILED, double(in.scale));
             expectClose("delta_rule_chunked", "output", out, expected.output);
             expectClose("delta_rule_chunked", "state", state, expected.newState);

             // The prefill kernel against the decode kernel.
             std::vector<float> recOut(outSize), recState(in.state.size());
             runDelta(DeltaKernel::Recurrent, in, 0, s.nv, recOut, recState, false);
             expectCloseFloats("delta_rule_kernels", "chunked vs recurrent output", out, recOut);
             expectCloseFloats("delta_rule_kernels", "chunked vs recurrent state", state, recState);

             auto split = nanFilled(int64_t(outSize));
             auto inPlace = in.state;
             int64_t m = splitPoint(s.nv);
             runDelta(DeltaKernel::Chunked, in, 0, m, split, inPlace, true);
             expectPartOnly(split, m, s.nv, "split after the first range");
             runDelta(DeltaKernel::Chunked, in, m, s.nv, split, inPlace, true);
             expectSameBits("chunked split output", split, out);
             expectSameBits("chunked split, in-place state", inPlace, state);
           }});
    }

  // Prefill of T tokens then decode steps == decode over all tokens (spec §4.2's unit test).
  for (const DeltaShape &s : {chunkedShapes[1], chunkedShapes[3]})
    for (int64_t t : {64, 65, 130}) {
      cases.push_back(
          {"delta_rule_chunked_then_recurrent_T" + str(t) + "_" + deltaShapeName(s),
           [s, t](const std::string &name) {
             Rng rng(name);
             const int64_t steps = 3, total = t + steps;
             DeltaInputs all = makeDeltaInputs(rng, s, total);
             const int64_t perToken = s.nv * s.dv;
             // One recurrent call over every token.
             std::vector<float> recOut(static_cast<size_t>(total * perToken)),
                 recState(all.state.size());
             runDelta(DeltaKernel::Recurrent, all, 0, s.nv, recOut, recState, false);
             // Chunked prefill of t tokens, then one recurrent call per decode step.
             DeltaInputs prefill = sliceTokens(all, 0, t, all.state);
             std::vector<float> out(static_cast<size_t>(t * perToken)), state(all.state.size());
             runDelta(DeltaKernel::Chunked, prefill, 0, s.nv, out, state, false);
             for (int64_t step = t; step < total; ++step) {
               DeltaInputs one = sliceTokens(all, step, step + 1, state);
               std::vector<float> o(static_cast<size_t>(perToken));
               runDelta(DeltaKernel::Recurrent, one, 0, s.nv, o, state, true);
               out.insert(out.end(), o.begin(), o.end());
             }
             expectCloseFloats("delta_rule_kernels", "prefill+decode vs decode output", out,
                               recOut);
             expectCloseFloats("delta_rule_kernels", "prefill+decode vs decode state", state,
                               recState);
             ref::DeltaRuleResult expected = ref::gatedDeltaRule(
                 all.refQ(), all.refK(), all.refV(), all.refG(), all.refBeta(), all.refState(),
                 s.mapping == DC_K_HEADS_TILED, double(all.scale));
             expectClose("delta_rule_chunked", "prefill+decode output", out, expected.output);
             expectClose("delta_rule_chunked", "prefill+decode state", state, expected.newState);
           }});
    }

  // Subnormals (kernel_abi.h: on x86 the chunked kernel flushes them, restoring the caller's
  // MXCSR). With v = 0, a unit state and g = -95 per token (a decay of about 5.5e-42), the exact
  // state and outputs are subnormal: the x86 kernel gives zeros, the others values within the
  // smallest normal float of the reference's; either way the caller's floating-point mode is as it
  // was.
  cases.push_back(
      {"delta_rule_chunked_subnormals", [](const std::string &name) {
         Rng rng(name);
         DeltaInputs in = makeDeltaInputs(rng, {1, 2, 16, 8, DC_K_HEADS_GROUPED, Decay::Fast}, 5);
         std::fill(in.v.begin(), in.v.end(), 0.0f);
         std::fill(in.g.begin(), in.g.end(), -95.0f);
         std::fill(in.state.begin(), in.state.end(), 1.0f);
         std::vector<float> out(size_t(in.t * in.nv * in.dv)), state(in.state.size());
#if defined(__SSE2__)
         const unsigned before = _mm_getcsr();
#endif
         runDelta(DeltaKernel::Chunked, in, 0, in.nv, out, state, false);
#if defined(__SSE2__)
         // the control bits (rounding, FTZ, DAZ, masks); not the sticky flags
         EXPECT_EQ(_mm_getcsr() & ~0x3Fu, before & ~0x3Fu)
             << "the chunked kernel left the caller's MXCSR changed";
         for (float x : state)
           ASSERT_EQ(x, 0.0f) << "a subnormal state value was not flushed";
         for (float x : out)
           ASSERT_EQ(x, 0.0f) << "a subnormal output was not flushed";
#endif
         ref::DeltaRuleResult expected =
             ref::gatedDeltaRule(in.refQ(), in.refK(), in.refV(), in.refG(), in.refBeta(),
                                 in.refState(), false, double(in.scale));
         // the exact values are below the smallest normal float: an absolute bound
         const double smallest = double(std::numeric_limits<float>::min());
         for (size_t i = 0; i < out.size(); ++i)
           ASSERT_LE(std::fabs(double(out[i]) - double(expected.output.data[i])), smallest);
         for (size_t i = 0; i < state.size(); ++i)
           ASSERT_LE(std::fabs(double(state[i]) - double(expected.newState.data[i])), smallest);
       }});
}

//===----------------------------------------------------------------------===//
// Gated attention: RoPE and attention
//===----------------------------------------------------------------------===//

void addRopeCases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, n, hd, rotary;
    double theta;
    int32_t maxPosition;
  };
  for (Shape s : {Shape{1, 1, 4, 4, 1e4, 0}, Shape{7, 3, 256, 64, 1e7, 4096},
                  Shape{5, 2, 10, 6, 1e4, 100}, Shape{3, 4, 128, 128, 1e6, 262143},
                  Shape{9, 2, 64, 0, 1e7, 50}, Shape{65, 2, 256, 64, 1e7, 1000000}}) {
    std::string name = "rope_T" + str(s.t) + "_n" + str(s.n) + "_hd" + str(s.hd) + "_rot" +
                       str(s.rotary) + "_maxpos" + str(s.maxPosition);
    cases.push_back({name, [s](const std::string &name) {
                       Rng rng(name);
                       auto x = rng.normals(s.t * s.n * s.hd);
                       std::vector<int32_t> positions(static_cast<size_t>(s.t));
                       for (int32_t &p : positions)
                         p = int32_t(rng.next() % uint64_t(s.maxPosition + 1));
                       positions[0] = s.maxPosition;
                       const int64_t size = s.t * s.n * s.hd;
                       std::vector<float> y(static_cast<size_t>(size));
                       dc_k_rope_f32(x.data(), s.n, s.hd, positions.data(), s.rotary, s.theta, 0,
                                     s.t, y.data());
                       expectClose("rope", "y", y,
                                   ref::rope(toTensor(x, {s.t, s.n, s.hd}), {positions}, s.rotary,
                                             s.theta, {}));
                       auto split = nanFilled(size);
                       int64_t m = splitPoint(s.t);
                       dc_k_rope_f32(x.data(), s.n, s.hd, positions.data(), s.rotary, s.theta, 0, m,
                                     split.data());
                       expectPartOnly(split, m, s.t, "split after the first range");
                       dc_k_rope_f32(x.data(), s.n, s.hd, positions.data(), s.rotary, s.theta, m,
                                     s.t, split.data());
                       expectSameBits("rope split", split, y);
                       auto inPlace = x;
                       dc_k_rope_f32(inPlace.data(), s.n, s.hd, positions.data(), s.rotary, s.theta,
                                     0, s.t, inPlace.data());
                       expectSameBits("rope in place", inPlace, y);
                     }});
  }
}

struct AttentionShape {
  int64_t t, nh, nkv, hd, hdv, s, position;
  bool gate;
  double logitScale; ///< query magnitude: 1 for unit-variance scores, larger for peaked ones
};

const std::vector<AttentionShape> &attentionShapes() {
  static const std::vector<AttentionShape> shapes = {
      {1, 2, 1, 8, 8, 16, 0, false, 1},       // first token
      {1, 8, 2, 64, 64, 300, 200, true, 1},   // decode, GQA group 4
      {2, 8, 1, 40, 48, 100, 70, true, 1},    // decode, group 8, value tail
      {1, 6, 2, 16, 16, 80, 66, true, 1},     // decode, group 3 (no constant)
      {1, 16, 1, 16, 16, 80, 70, false, 1},   // decode, group 16: two groups
      {7, 4, 4, 16, 16, 64, 0, true, 1},      // MHA prefill from empty
      {65, 4, 2, 32, 32, 200, 70, false, 1},  // prefill crossing key blocks
      {3, 6, 3, 33, 17, 40, 5, true, 1},      // odd head sizes, hd != hdv
      {5, 4, 1, 16, 16, 150, 130, true, 8},   // peaked softmax (scores ~ 8)
      {4, 2, 1, 16, 16, 300, 250, false, 8},  // fewest tokens of the tiled path
      {100, 4, 2, 64, 48, 120, 0, true, 4},   // query blocks x diagonal blocks
      {50, 2, 1, 24, 40, 260, 200, true, 1}}; // key blocks straddle the cache
  return shapes;
}

std::string attentionShapeName(const AttentionShape &s) {
  return "T" + str(s.t) + "_nh" + str(s.nh) + "_nkv" + str(s.nkv) + "_hd" + str(s.hd) + "_hdv" +
         str(s.hdv) + "_pos" + str(s.position) + (s.gate ? "_gate" : "_nogate") +
         (s.logitScale != 1 ? "_peaked" : "");
}

/// One attention call's inputs. The caches' rows below `position` hold earlier tokens; every other
/// row is NaN, so a kernel that reads past the visible rows fails.
struct AttentionInputs {
  AttentionShape s;
  std::vector<float> q, k, v, gate, keyCache, valueCache;
  float scale;

  AttentionInputs(Rng &rng, const AttentionShape &shape) : s(shape) {
    q = rng.normals(s.t * s.nh * s.hd, s.logitScale);
    k = rng.normals(s.t * s.nkv * s.hd);
    v = rng.normals(s.t * s.nkv * s.hdv);
    gate = rng.normals(s.t * s.nh * s.hdv, 2.0);
    keyCache = nanFilled(s.nkv * s.s * s.hd);
    valueCache = nanFilled(s.nkv * s.s * s.hdv);
    for (int64_t h = 0; h < s.nkv; ++h)
      for (int64_t r = 0; r < s.position; ++r) {
        for (int64_t d = 0; d < s.hd; ++d)
          keyCache[(h * s.s + r) * s.hd + d] = float(rng.normal());
        for (int64_t d = 0; d < s.hdv; ++d)
          valueCache[(h * s.s + r) * s.hdv + d] = float(rng.normal());
      }
    scale = float(1.0 / std::sqrt(double(s.hd)));
  }
  const float *gatePtr() const { return s.gate ? gate.data() : nullptr; }
  int64_t outSize() const { return s.t * s.nh * s.hdv; }
  int64_t scratchBytes() const { return dc_k_attention_f32_scratch_bytes(s.hd, s.hdv); }

  /// The caches as the step leaves them: the new rows `keys` and `values` ([T, nkv, hd] and
  /// [T, nkv, hdv]) at position .. position + T - 1 of `kc` and `vc`.
  void appendRows(const std::vector<float> &keys, const std::vector<float> &values,
                  std::vector<float> &kc, std::vector<float> &vc) const {
    for (int64_t h = 0; h < s.nkv; ++h)
      for (int64_t t = 0; t < s.t; ++t) {
        std::copy_n(&keys[(t * s.nkv + h) * s.hd], s.hd, &kc[(h * s.s + s.position + t) * s.hd]);
        std::copy_n(&values[(t * s.nkv + h) * s.hdv], s.hdv,
                    &vc[(h * s.s + s.position + t) * s.hdv]);
      }
  }
};

/// Checks that `run(h0, h1, scratch, out)` (one attention kernel on query heads [h0, h1) over
/// caches the caller holds, reset by `reset`) gives `want` split mid-group and on two threads at
/// once; `checkCaches(what)` compares the caches after each.
template <typename Run, typename Reset, typename CheckCaches>
void expectSplitsAgree(const std::string &what, const AttentionInputs &in,
                       const std::vector<float> &want, Run run, Reset reset,
                       CheckCaches checkCaches) {
  const int64_t nh = in.s.nh, m = splitPoint(nh);
  reset();
  auto split = nanFilled(in.outSize());
  Scratch scratch(in.scratchBytes());
  run(0, m, scratch.get(), split);
  expectPartOnly(split, m, nh, "split after the first range");
  run(m, nh, scratch.get(), split);
  expectSameBits(what + " split output", split, want);
  checkCaches(what + " split");

  reset();
  auto concurrent = nanFilled(in.outSize());
  Scratch firstScratch(in.scratchBytes()), secondScratch(in.scratchBytes());
  auto range = [&](int64_t h0, int64_t h1, Scratch *own) { run(h0, h1, own->get(), concurrent); };
  std::thread first(range, 0, m, &firstScratch), second(range, m, nh, &secondScratch);
  first.join();
  second.join();
  expectSameBits(what + " concurrent output", concurrent, want);
  checkCaches(what + " concurrent");
}

void addAttentionCases(std::vector<OpCase> &cases) {
  for (const AttentionShape &shape : attentionShapes()) {
    cases.push_back(
        {"attention_" + attentionShapeName(shape), [shape](const std::string &name) {
           Rng rng(name);
           const AttentionInputs in(rng, shape);
           const AttentionShape &s = in.s;
           auto kc = in.keyCache, vc = in.valueCache;
           std::vector<float> out(static_cast<size_t>(in.outSize()));
           auto run = [&](int64_t h0, int64_t h1, void *scratch, std::vector<float> &o) {
             dc_k_attention_f32(in.q.data(), in.k.data(), in.v.data(), in.gatePtr(), s.t, s.nh,
                                s.nkv, s.hd, s.hdv, in.scale, kc.data(), vc.data(), s.s, s.position,
                                h0, h1, scratch, o.data());
           };
           Scratch scratch(in.scratchBytes());
           run(0, s.nh, scratch.get(), out);
           Tensor refGate = toTensor(in.gate, {s.t, s.nh, s.hdv});
           ref::AttentionResult expected = ref::attention(
               toTensor(in.q, {s.t, s.nh, s.hd}), toTensor(in.k, {s.t, s.nkv, s.hd}),
               toTensor(in.v, {s.t, s.nkv, s.hdv}), s.gate ? &refGate : nullptr,
               toTensor(in.keyCache, {s.nkv, s.s, s.hd}),
               toTensor(in.valueCache, {s.nkv, s.s, s.hdv}), s.position, double(in.scale));
           expectClose("attention", "output", out, expected.output);

           // The caches: new rows appended bit for bit, nothing else touched.
           auto wantK = in.keyCache, wantV = in.valueCache;
           in.appendRows(in.k, in.v, wantK, wantV);
           expectSameBits("key cache", kc, wantK);
           expectSameBits("value cache", vc, wantV);

           // Query heads split mid-group, and the two ranges on two threads at once sharing the
           // caches: the caches must still come out whole.
           expectSplitsAgree(
               "attention", in, out, run,
               [&] {
                 kc = in.keyCache;
                 vc = in.valueCache;
               },
               [&](const std::string &what) {
                 expectSameBits(what + " key cache", kc, wantK);
                 expectSameBits(what + " value cache", vc, wantV);
               });
         }});
  }
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

void addMoECases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, h, e, i, topK;
    bool normalize;
    int64_t shared; ///< shared expert width, 0 = none
  };
  struct TypedShape {
    WType type;
    Shape s;
    bool tiedRouter = false; ///< every router row equal: all experts tie, the lowest k must win
  };
  const std::vector<TypedShape> shapes = {{WType::F32, {1, 32, 4, 16, 2, true, 0}},
                                          {WType::F32, {3, 64, 8, 32, 2, true, 32}},
                                          {WType::F32, {2, 33, 5, 7, 3, false, 9}},
                                          {WType::F32, {4, 40, 6, 24, 1, true, 0}},
                                          {WType::F32, {2, 24, 4, 8, 4, true, 16}},
                                          {WType::F16, {3, 64, 8, 32, 3, true, 32}},
                                          {WType::BF16, {2, 48, 6, 20, 2, false, 12}},
                                          {WType::Q8_0, {3, 64, 8, 32, 2, true, 64}},
                                          {WType::Q4_0, {2, 96, 6, 64, 2, true, 0}},
                                          {WType::Q4_1, {5, 64, 10, 32, 4, true, 32}},
                                          {WType::F32, {3, 32, 6, 16, 3, false, 0}, true},
                                          {WType::Q4_0_G64, {2, 128, 6, 64, 2, true, 64}},
                                          {WType::Q4_1_G64, {3, 64, 4, 192, 2, true, 0}},
                                          {WType::Q4_0_G128, {3, 128, 4, 128, 2, true, 128}},
                                          {WType::Q4_1_G128, {2, 256, 6, 128, 3, false, 128}}};
  for (const TypedShape &ts : shapes) {
    const Shape s = ts.s;
    const WType type = ts.type;
    const bool tied = ts.tiedRouter;
    std::string name =
        std::string("moe_") + wtypeName(type) + "_T" + str(s.t) + "_H" + str(s.h) + "_E" +
        str(s.e) + "_I" + str(s.i) + "_top" + str(s.topK) + (s.normalize ? "_norm" : "_raw") +
        (s.shared ? "_shared" + str(s.shared) : "_noshared") + (tied ? "_tied_router" : "");
    cases.push_back({name, [type, s, tied](const std::string &name) {
                       Rng rng(name);
                       const double wH = 1.0 / std::sqrt(double(s.h));
                       const double wI = 1.0 / std::sqrt(double(s.i));
                       auto x = rng.normals(s.t * s.h);
                       auto router = rng.normals(s.e * s.h, 2.0 * wH); // logits of std ~2
                       if (tied)
                         for (int64_t e = 1; e < s.e; ++e)
                           std::copy_n(router.begin(), s.h, router.begin() + e * s.h);
                       Encoded gate = encode(type, rng.normals(s.e * s.i * s.h, wH), s.h);
                       Encoded up = encode(type, rng.normals(s.e * s.i * s.h, wH), s.h);
                       Encoded down = encode(type, rng.normals(s.e * s.h * s.i, wI), s.i);
                       ref::MoEWeights w;
                       w.router = toTensor(router, {s.e, s.h});
                       w.gate = toTensor(gate.decoded, {s.e, s.i, s.h});
                       w.up = toTensor(up.decoded, {s.e, s.i, s.h});
                       w.down = toTensor(down.decoded, {s.e, s.h, s.i});
                       Encoded sGate, sUp, sDown;
                       std::vector<float> sharedExpertGate;
                       if (s.shared) {
                         const double wS = 1.0 / std::sqrt(double(s.shared));
                         sGate = encode(type, rng.normals(s.shared * s.h, wH), s.h);
                         sUp = encode(type, rng.normals(s.shared * s.h, wH), s.h);
                         sDown = encode(type, rng.normals(s.h * s.shared, wS), s.shared);
                         sharedExpertGate = rng.normals(s.h, wH);
                         w.sharedGate = toTensor(sGate.decoded, {s.shared, s.h});
                         w.sharedUp = toTensor(sUp.decoded, {s.shared, s.h});
                         w.sharedDown = toTensor(sDown.decoded, {s.h, s.shared});
                         w.sharedExpertGate = toTensor(sharedExpertGate, {1, s.h});
                       }
                       auto ptr = [&](const Encoded &e) -> const void * {
                         return s.shared ? e.bytes.data() : nullptr;
                       };
                       const MoEFn moe = kernelsFor(type).moe;
                       auto call = [&](int64_t t0, int64_t t1, std::vector<float> &out) {
                         Scratch scratch(dc_k_moe_f32_scratch_bytes(s.h, s.e, s.i, s.shared));
                         moe(x.data(), s.h, router.data(), s.e, gate.bytes.data(), up.bytes.data(),
                             down.bytes.data(), s.i, s.topK, s.normalize, ptr(sGate), ptr(sUp),
                             ptr(sDown), s.shared ? sharedExpertGate.data() : nullptr, s.shared, t0,
                             t1, scratch.get(), out.data());
                       };
                       std::vector<float> out(static_cast<size_t>(s.t * s.h));
                       call(0, s.t, out);
                       expectClose("moe", "y", out,
                                   ref::moe(toTensor(x, {s.t, s.h}), w, s.topK, s.normalize),
                                   double(std::max(s.h, s.i)));
                       auto split = nanFilled(s.t * s.h);
                       int64_t m = splitPoint(s.t);
                       call(0, m, split);
                       expectPartOnly(split, m, s.t, "split after the first range");
                       call(m, s.t, split);
                       expectSameBits("moe split", split, out);
                     }});
  }
}

//===----------------------------------------------------------------------===//
// Fused forms (delta-fuse-elementwise): linear epilogues and the Gated DeltaNet core
//===----------------------------------------------------------------------===//

using LinearEpilogueFn = void (*)(const float *, int64_t, int64_t, const void *, int64_t, int32_t,
                                  const float *, int64_t, int64_t, float *);

#define DC_LINEAR_EPILOGUE(wname, ctype)                                                           \
  [](const float *x, int64_t t, int64_t k, const void *w, int64_t n, int32_t epilogue,             \
     const float *residual, int64_t b, int64_t e, float *y) {                                      \
    dc_k_linear_epilogue_f32_##wname(x, t, k, static_cast<const ctype *>(w), n, epilogue,          \
                                     residual, b, e, y);                                           \
  }

LinearEpilogueFn linearEpilogueFor(WType t) {
  switch (t) {
  case WType::F32:
    return DC_LINEAR_EPILOGUE(f32, float);
  case WType::F16:
    return DC_LINEAR_EPILOGUE(f16, uint16_t);
  case WType::BF16:
    return DC_LINEAR_EPILOGUE(bf16, uint16_t);
  case WType::Q8_0:
    return DC_LINEAR_EPILOGUE(q8_0, uint8_t);
  case WType::Q4_0:
    return DC_LINEAR_EPILOGUE(q4_0, uint8_t);
  case WType::Q4_1:
    return DC_LINEAR_EPILOGUE(q4_1, uint8_t);
  case WType::Q4_0_G64:
    return DC_LINEAR_EPILOGUE(q4_0_g64, uint8_t);
  case WType::Q4_1_G64:
    return DC_LINEAR_EPILOGUE(q4_1_g64, uint8_t);
  case WType::Q4_0_G128:
    return DC_LINEAR_EPILOGUE(q4_0_g128, uint8_t);
  case WType::Q4_1_G128:
    return DC_LINEAR_EPILOGUE(q4_1_g128, uint8_t);
  }
  return DC_LINEAR_EPILOGUE(f32, float);
}
#undef DC_LINEAR_EPILOGUE

void addLinearEpilogueCases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, k, n;
  };
  struct Mode {
    const char *name;
    bool swiglu, residual;
  };
  const Mode modes[] = {{"none", false, false},
                        {"swiglu", true, false},
                        {"residual", false, true},
                        {"swiglu_residual", true, true}};
  for (WType type : kAllWTypes) {
    const int64_t group = groupOf(type);
    // At least five outputs: the metric divides by the largest output, and a lone output that
    // r + silu(g) * u happens to cancel would measure the conditioning of the data, not the kernel.
    std::vector<Shape> shapes;
    if (group == 1)
      shapes = {{1, 7, 5}, {3, 33, 17}, {9, 256, 64}, {130, 48, 20}};
    else if (group == 32)
      shapes = {{1, 32, 5}, {3, 96, 33}, {65, 64, 9}};
    else
      shapes = {{1, 128, 5}, {3, 256, 33}, {65, 128, 9}};
    for (const Mode &mode : modes)
      for (Shape s : shapes) {
        std::string name = std::string("linear_epilogue_") + wtypeName(type) + "_" + mode.name +
                           "_T" + str(s.t) + "_K" + str(s.k) + "_N" + str(s.n);
        cases.push_back(
            {name, [type, mode, s](const std::string &name) {
               Rng rng(name);
               const int64_t rows = mode.swiglu ? 2 * s.n : s.n;
               const int32_t epilogue = mode.swiglu ? DC_K_EPILOGUE_SWIGLU : DC_K_EPILOGUE_NONE;
               auto x = rng.normals(s.t * s.k);
               Encoded w = encode(type, rng.normals(rows * s.k, 1.0 / std::sqrt(double(s.k))), s.k);
               auto residual = rng.normals(s.t * s.n);
               const float *r = mode.residual ? residual.data() : nullptr;
               const LinearEpilogueFn kernel = linearEpilogueFor(type);
               std::vector<float> y(static_cast<size_t>(s.t * s.n));
               kernel(x.data(), s.t, s.k, w.bytes.data(), s.n, epilogue, r, 0, s.n, y.data());

               // The fused kernel computes exactly what the unfused kernels compute: the linear
               // over all rows, then swiglu of its halves, then the add.
               std::vector<float> product(static_cast<size_t>(s.t * rows));
               kernelsFor(type).linear(x.data(), s.t, s.k, w.bytes.data(), rows, 0, rows,
                                       product.data());
               std::vector<float> unfused(static_cast<size_t>(s.t * s.n));
               for (int64_t t = 0; t < s.t; ++t)
                 for (int64_t n = 0; n < s.n; ++n) {
                   float v = product[t * rows + n];
                   if (mode.swiglu)
                     dc_k_swiglu_f32(&product[t * rows + n], &product[t * rows + s.n + n], 0, 1,
                                     &v);
                   if (mode.residual)
                     dc_k_add_f32(&residual[t * s.n + n], &v, 0, 1, &v);
                   unfused[t * s.n + n] = v;
                 }
               expectSameBits("fused vs unfused kernels", y, unfused);

               if (mode.swiglu || mode.residual) {
                 Tensor refResidual = toTensor(residual, {s.t, s.n});
                 expectClose(mode.swiglu ? "linear_swiglu" : "linear_residual", "y", y,
                             ref::linearEpilogue(toTensor(x, {s.t, s.k}),
                                                 toTensor(w.decoded, {rows, s.k}), mode.swiglu,
                                                 mode.residual ? &refResidual : nullptr),
                             double(s.k));
               }
               auto split = nanFilled(s.t * s.n);
               int64_t m = splitPoint(s.n);
               kernel(x.data(), s.t, s.k, w.bytes.data(), s.n, epilogue, r, 0, m, split.data());
               expectPartOnly(split, m, s.n, "split after the first range");
               kernel(x.data(), s.t, s.k, w.bytes.data(), s.n, epilogue, r, m, s.n, split.data());
               expectSameBits("linear epilogue split", split, y);
             }});
      }
  }
}

/// Inputs of one delta.gated_delta_net call.
struct GDNInputs {
  int64_t t, nk, nv, dk, dv, k;
  int32_t mapping, decayForm;
  float scale, l2Eps;
  std::vector<float> qkv, a, b, convWeight, convState, decay, dtBias, state;

  int64_t channels() const { return 2 * nk * dk + nv * dv; }
  /// The fused kernel over key heads [kh0, kh1), states updated in convStateOut / stateOut (which
  /// hold this call's input states when `inPlace`).
  void run(int64_t kh0, int64_t kh1, std::vector<float> &out, std::vector<float> &convStateOut,
           std::vector<float> &stateOut, bool inPlace) const {
    runOn(qkv.data(), channels(), a.data(), nv, b.data(), nv, kh0, kh1, out, convStateOut, stateOut,
          inPlace);
  }
  /// The same with qkv, b and a read as views into the columns of one merged projection
  /// [t, qkv | 5 other columns | b | a], as the buffer planner leaves them
  /// (docs/design/compile.md, "Split results as views").
  void runAsViews(std::vector<float> &out, std::vector<float> &convStateOut,
                  std::vector<float> &stateOut) const {
    const int64_t c = channels(), width = c + 5 + 2 * nv;
    std::vector<float> merged(static_cast<size_t>(t * width), NAN);
    for (int64_t i = 0; i < t; ++i) {
      std::copy_n(&qkv[i * c], c, &merged[i * width]);
      std::copy_n(&b[i * nv], nv, &merged[i * width + c + 5]);
      std::copy_n(&a[i * nv], nv, &merged[i * width + c + 5 + nv]);
    }
    runOn(merged.data(), width, merged.data() + c + 5 + nv, width, merged.data() + c + 5, width, 0,
          nk, out, convStateOut, stateOut, false);
  }
  void runOn(const float *q, int64_t qStride, const float *av, int64_t aStride, const float *bv,
             int64_t bStride, int64_t kh0, int64_t kh1, std::vector<float> &out,
             std::vector<float> &convStateOut, std::vector<float> &stateOut, bool inPlace) const {
    Scratch scratch(dc_k_gated_delta_net_f32_scratch_bytes(t, dk, dv));
    dc_k_gated_delta_net_f32(q, qStride, av, aStride, bv, bStride, t, nk, nv, dk, dv,
                             convWeight.data(), k, inPlace ? convStateOut.data() : convState.data(),
                             decay.data(), dtBias.data(), decayForm, mapping, scale, l2Eps,
                             inPlace ? stateOut.data() : state.data(), kh0, kh1, scratch.get(),
                             out.data(), convStateOut.data(), stateOut.data());
  }
  ref::GatedDeltaNetResult reference() const {
    return ref::gatedDeltaNet(
        toTensor(qkv, {t, channels()}), toTensor(a, {t, nv}), toTensor(b, {t, nv}),
        toTensor(convWeight, {channels(), k}), toTensor(convState, {k - 1, channels()}),
        toTensor(decay, {nv}), toTensor(dtBias, {nv}), toTensor(state, {nv, dk, dv}),
        decayForm == DC_K_DECAY_A_LOG, mapping == DC_K_HEADS_TILED, double(scale), double(l2Eps));
  }
};

struct GDNShape {
  int64_t nk, nv, dk, dv, k;
  int32_t mapping, decayForm;
};

GDNInputs makeGDNInputs(Rng &rng, const GDNShape &s, int64_t t) {
  GDNInputs in{t,         s.nk,        s.nv,
               s.dk,      s.dv,        s.k,
               s.mapping, s.decayForm, float(1.0 / std::sqrt(double(s.dk))),
               1e-6f,     {},          {},
               {},        {},          {},
               {},        {},          {}};
  const int64_t c = in.channels();
  in.qkv = rng.normals(t * c);
  in.a = rng.normals(t * s.nv, 3.0);
  in.b = rng.normals(t * s.nv, 3.0);
  in.convWeight = rng.normals(c * s.k, 0.5);
  in.convState = rng.normals((s.k - 1) * c);
  in.decay = rng.uniforms(s.nv, -1.0, 2.5);
  if (s.decayForm == DC_K_DECAY_NEG_EXP)
    for (float &d : in.decay)
      d = -std::exp(d);
  in.dtBias = rng.normals(s.nv);
  in.state = rng.normals(s.nv * s.dk * s.dv, 1.0 / std::sqrt(double(s.dk)));
  return in;
}

/// The same step through the unfused kernels: conv (SiLU), L2 norms, gates, delta rule.
void runUnfusedGDN(const GDNInputs &in, std::vector<float> &out, std::vector<float> &convState,
                   std::vector<float> &state) {
  const int64_t c = in.channels(), t = in.t, keyWidth = in.nk * in.dk;
  std::vector<float> m(static_cast<size_t>(t * c));
  convState = in.convState;
  dc_k_causal_conv1d_f32(in.qkv.data(), t, c, in.convWeight.data(), in.k, convState.data(),
                         DC_K_ACT_SILU, 0, c, m.data(), convState.data());
  std::vector<float> q(static_cast<size_t>(t * keyWidth)), k(q.size());
  std::vector<float> v(static_cast<size_t>(t * in.nv * in.dv));
  for (int64_t i = 0; i < t; ++i) {
    std::copy_n(&m[i * c], keyWidth, &q[i * keyWidth]);
    std::copy_n(&m[i * c + keyWidth], keyWidth, &k[i * keyWidth]);
    std::copy_n(&m[i * c + 2 * keyWidth], in.nv * in.dv, &v[i * in.nv * in.dv]);
  }
  dc_k_l2_norm_f32(q.data(), in.dk, in.l2Eps, 0, t * in.nk, q.data());
  dc_k_l2_norm_f32(k.data(), in.dk, in.l2Eps, 0, t * in.nk, k.data());
  std::vector<float> g(static_cast<size_t>(t * in.nv)), beta(g.size());
  dc_k_gdn_gates_f32(in.a.data(), in.b.data(), in.decay.data(), in.dtBias.data(), in.nv,
                     in.decayForm, 0, t, g.data(), beta.data());
  state = in.state;
  if (t == 1) {
    dc_k_gated_delta_rule_recurrent_f32(q.data(), k.data(), v.data(), g.data(), beta.data(), t,
                                        in.nk, in.nv, in.dk, in.dv, in.mapping, in.scale,
                                        state.data(), 0, in.nv, out.data(), state.data());
  } else {
    Scratch scratch(dc_k_gated_delta_rule_chunked_f32_scratch_bytes(in.dk, in.dv));
    dc_k_gated_delta_rule_chunked_f32(q.data(), k.data(), v.data(), g.data(), beta.data(), t, in.nk,
                                      in.nv, in.dk, in.dv, in.mapping, in.scale, state.data(), 0,
                                      in.nv, scratch.get(), out.data(), state.data());
  }
}

/// A Gated DeltaNet shape and the token counts its cases run.
struct GDNTimedShape {
  GDNShape s;
  std::vector<int64_t> tokens;
};

std::string gdnShapeName(const GDNShape &s) {
  return "nk" + str(s.nk) + "_nv" + str(s.nv) + "_dk" + str(s.dk) + "_dv" + str(s.dv) + "_K" +
         str(s.k) + (s.mapping == DC_K_HEADS_TILED ? "_tiled" : "_grouped") +
         (s.decayForm == DC_K_DECAY_A_LOG ? "_a_log" : "_neg_exp");
}

void addGatedDeltaNetCases(std::vector<OpCase> &cases) {
  // Decode (T = 1: the stack path, or the staged path when dk > 256), prefill shorter than the conv
  // history (T = 2 < K - 1 = 3), chunk boundaries, r = 1 and 2 in both head orders.
  const std::vector<GDNTimedShape> shapes = {
      {{1, 1, 4, 4, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_A_LOG}, {1, 2, 7}},
      {{2, 4, 16, 8, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_A_LOG}, {1, 2, 65}},
      {{2, 4, 16, 8, 4, DC_K_HEADS_TILED, DC_K_DECAY_NEG_EXP}, {1, 7, 65}},
      {{2, 2, 128, 128, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_A_LOG}, {1, 64, 130}},
      {{3, 3, 33, 17, 3, DC_K_HEADS_TILED, DC_K_DECAY_A_LOG}, {1, 20}},
      {{1, 2, 260, 8, 2, DC_K_HEADS_GROUPED, DC_K_DECAY_NEG_EXP}, {1, 3}}};
  for (const GDNTimedShape &ts : shapes)
    for (int64_t t : ts.tokens) {
      const GDNShape s = ts.s;
      cases.push_back(
          {"gated_delta_net_T" + str(t) + "_" + gdnShapeName(s), [s, t](const std::string &name) {
             Rng rng(name);
             const GDNInputs in = makeGDNInputs(rng, s, t);
             const size_t outSize = size_t(t * s.nv * s.dv);
             std::vector<float> out(outSize), convState(in.convState.size()),
                 state(in.state.size());
             const auto convBefore = in.convState, stateBefore = in.state;
             in.run(0, s.nk, out, convState, state, false);
             expectSameBits("conv state_in is not written", in.convState, convBefore);
             expectSameBits("state_in is not written", in.state, stateBefore);
             ref::GatedDeltaNetResult expected = in.reference();
             expectClose("gated_delta_net", "output", out, expected.output);
             expectClose("gated_delta_net", "conv state", convState, expected.newConvState);
             expectClose("gated_delta_net", "state", state, expected.newState);

             // Against the unfused kernels: the conv state is a copy either way.
             std::vector<float> unfusedOut(outSize), unfusedConv, unfusedState;
             runUnfusedGDN(in, unfusedOut, unfusedConv, unfusedState);
             expectSameBits("conv state vs the unfused conv kernel", convState, unfusedConv);
             expectCloseFloats("gated_delta_net_unfused", "output vs unfused kernels", out,
                               unfusedOut);
             expectCloseFloats("gated_delta_net_unfused", "state vs unfused kernels", state,
                               unfusedState);

             // Two key-head ranges with both states updated in place.
             auto split = nanFilled(int64_t(outSize));
             auto convInPlace = in.convState, stateInPlace = in.state;
             const int64_t m = splitPoint(s.nk);
             in.run(0, m, split, convInPlace, stateInPlace, true);
             expectPartOnly(split, m, s.nk, "split after the first range");
             in.run(m, s.nk, split, convInPlace, stateInPlace, true);
             expectSameBits("gated_delta_net split output", split, out);
             expectSameBits("gated_delta_net split, in-place conv state", convInPlace, convState);
             expectSameBits("gated_delta_net split, in-place state", stateInPlace, state);

             // qkv, b and a as views into one merged projection's columns: the same bits.
             std::vector<float> viewOut(outSize, NAN), viewConv(convState.size()),
                 viewState(state.size());
             in.runAsViews(viewOut, viewConv, viewState);
             expectSameBits("gated_delta_net on views, output", viewOut, out);
             expectSameBits("gated_delta_net on views, conv state", viewConv, convState);
             expectSameBits("gated_delta_net on views, state", viewState, state);
           }});
    }

  // A prefill of T tokens, then decode steps, each fed the states the previous call left: the conv
  // history and the delta state carry over exactly as one pass over all tokens.
  for (const GDNShape &s : {shapes[2].s, shapes[3].s})
    for (int64_t t : {3, 65}) {
      cases.push_back(
          {"gated_delta_net_prefill_then_decode_T" + str(t) + "_" + gdnShapeName(s),
           [s, t](const std::string &name) {
             Rng rng(name);
             const int64_t steps = 3, total = t + steps, c = 2 * s.nk * s.dk + s.nv * s.dv;
             const GDNInputs all = makeGDNInputs(rng, s, total);
             auto cut = [](const std::vector<float> &v, int64_t perToken, int64_t t0, int64_t t1) {
               return std::vector<float>(v.begin() + t0 * perToken, v.begin() + t1 * perToken);
             };
             std::vector<float> out, convState = all.convState, state = all.state;
             for (int64_t t0 = 0; t0 < total; t0 = t0 == 0 ? t : t0 + 1) {
               const int64_t t1 = t0 == 0 ? t : t0 + 1;
               GDNInputs step = all;
               step.t = t1 - t0;
               step.qkv = cut(all.qkv, c, t0, t1);
               step.a = cut(all.a, s.nv, t0, t1);
               step.b = cut(all.b, s.nv, t0, t1);
               std::vector<float> o(static_cast<size_t>(step.t * s.nv * s.dv));
               step.run(0, s.nk, o, convState, state, true);
               out.insert(out.end(), o.begin(), o.end());
             }
             ref::GatedDeltaNetResult expected = all.reference();
             expectClose("gated_delta_net", "prefill+decode output", out, expected.output);
             expectClose("gated_delta_net", "prefill+decode conv state", convState,
                         expected.newConvState);
             expectClose("gated_delta_net", "prefill+decode state", state, expected.newState);
           }});
    }
}

//===----------------------------------------------------------------------===//
// f16 recurrent state (deltac compile --recurrent-state-type=f16)
//===----------------------------------------------------------------------===//
//
// The storage conversions against the reference's rounding (ref::roundToHalf, computed from the
// binade in double), and the fused Gated DeltaNet on an f16 state against the f32 kernel on the
// same (widened) state: outputs and conv state bit for bit, the state rounded once from the f32
// kernel's. Exact comparisons, so no bound: a double rounding, a truncation or a missed tail
// differs in some bit.

float floatOfBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::vector<uint16_t> toHalves(const std::vector<float> &x) {
  std::vector<uint16_t> h(x.size());
  dc_k_convert_f32_f16(x.data(), 0, int64_t(x.size()), h.data());
  return h;
}

std::vector<float> fromHalves(const std::vector<uint16_t> &h) {
  std::vector<float> x(h.size());
  dc_k_convert_f16_f32(h.data(), 0, int64_t(h.size()), x.data());
  return x;
}

/// x rounded to f16 by the reference, as a float.
std::vector<float> refHalves(const std::vector<float> &x) {
  std::vector<float> r(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    r[i] = float(ref::roundToHalf(double(x[i])));
  return r;
}

void addF16StateCases(std::vector<OpCase> &cases) {
  // Every half, widened: the exact value of its fields (NaNs compared as NaN).
  cases.push_back({"convert_f16_f32_all_halves", [](const std::string &) {
                     std::vector<uint16_t> h(65536);
                     for (size_t i = 0; i < h.size(); ++i)
                       h[i] = uint16_t(i);
                     const std::vector<float> x = fromHalves(h);
                     for (size_t i = 0; i < h.size(); ++i) {
                       const int e = int(i >> 10 & 0x1F), m = int(i & 0x3FF);
                       const double sign = i & 0x8000 ? -1.0 : 1.0;
                       if (e == 31) {
                         EXPECT_TRUE(m ? std::isnan(x[i]) : x[i] == float(sign * INFINITY)) << i;
                         continue;
                       }
                       const double want =
                           sign * (e ? std::ldexp(1024.0 + m, e - 25) : std::ldexp(double(m), -24));
                       ASSERT_EQ(double(x[i]), want) << "half 0x" << std::hex << i;
                       EXPECT_EQ(std::signbit(x[i]), bool(i & 0x8000)) << i;
                     }
                   }});
  // Rounding: every binade's ties and near-ties, the subnormal and overflow edges, and a sweep of
  // bit patterns, at odd begin/end so vector bodies and scalar tails both run.
  cases.push_back({"convert_f32_f16_rounding", [](const std::string &name) {
                     std::vector<float> x = {0.0f,
                                             -0.0f,
                                             65504.0f,
                                             65519.99f,
                                             65520.0f,
                                             -65520.0f,
                                             1e30f,
                                             0x1p-24f,
                                             0x1p-25f,
                                             0x1.000002p-25f,
                                             0x1.8p-24f,
                                             0x1.8p-23f,
                                             0x1p-14f,
                                             0x1.ffcp-15f,
                                             0x1.ffep-15f,
                                             0x1.ffdp-15f,
                                             1.0f + 0x1p-11f,
                                             1.0f + 0x1.8p-10f,
                                             1.0f + 0x1.000002p-11f,
                                             0x1p-30f,
                                             INFINITY,
                                             -INFINITY};
                     for (uint32_t bits = 0x33000000u; bits < 0x47800000u; bits += 0x1FFFu)
                       for (uint32_t low : {0x0FFFu, 0x1000u, 0x1001u, 0x0u})
                         x.push_back(floatOfBits(bits | low));
                     const int64_t n = int64_t(x.size());
                     for (int64_t i = 0; i < n; ++i)
                       x.push_back(-x[size_t(i)]);
                     Rng rng(name);
                     for (float v : rng.normals(4099, 1000.0))
                       x.push_back(v);
                     std::vector<uint16_t> h(x.size(), 0xDEADu);
                     const int64_t m = 3, end = int64_t(x.size()) - 5;
                     dc_k_convert_f32_f16(x.data(), m, end, h.data());
                     EXPECT_EQ(h[m - 1], 0xDEADu) << "wrote before begin";
                     EXPECT_EQ(h[size_t(end)], 0xDEADu) << "wrote past end";
                     std::vector<uint16_t> part(h.begin() + m, h.begin() + end);
                     std::vector<float> got = fromHalves(part),
                                        want = refHalves({x.begin() + m, x.begin() + end});
                     expectSameBits("f32 -> f16 rounding vs the reference", got, want);
                     const float nan = std::numeric_limits<float>::quiet_NaN();
                     EXPECT_TRUE(std::isnan(fromHalves(toHalves({nan}))[0]));
                   }});

  const std::vector<GDNTimedShape> shapes = {
      {{2, 4, 16, 8, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_A_LOG}, {1, 2, 65}},
      {{2, 2, 128, 128, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_A_LOG}, {1, 64}},
      {{3, 3, 33, 17, 3, DC_K_HEADS_TILED, DC_K_DECAY_NEG_EXP}, {1, 20}},
      // dv = 40: an AVX2 build steps columns 0 .. 31 as one 4-register tile and 32 .. 39 as a
      // 1-register one; an AVX-512 build 0 .. 15 and 16 .. 31 as 1-register tiles, the rest
      // generically.
      {{2, 2, 24, 40, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_NEG_EXP}, {1, 3}}};
  for (const GDNTimedShape &ts : shapes)
    for (int64_t t : ts.tokens) {
      const GDNShape s = ts.s;
      cases.push_back(
          {"gated_delta_net_f16_state_T" + str(t) + "_" + gdnShapeName(s),
           [s, t](const std::string &name) {
             Rng rng(name);
             GDNInputs in = makeGDNInputs(rng, s, t);
             const std::vector<uint16_t> state16 = toHalves(in.state);
             in.state = fromHalves(state16); // the f32 kernel reads the same values
             const size_t outSize = size_t(t * s.nv * s.dv);
             std::vector<float> out(outSize), convState(in.convState.size()),
                 state(in.state.size());
             in.run(0, s.nk, out, convState, state, false);

             auto runF16 = [&](int64_t kh0, int64_t kh1, std::vector<float> &o,
                               std::vector<float> &conv, std::vector<uint16_t> &st, bool inPlace) {
               Scratch scratch(dc_k_gated_delta_net_f32_scratch_bytes(t, s.dk, s.dv));
               dc_k_gated_delta_net_f32_state_f16(
                   in.qkv.data(), in.channels(), in.a.data(), s.nv, in.b.data(), s.nv, t, s.nk,
                   s.nv, s.dk, s.dv, in.convWeight.data(), s.k,
                   inPlace ? conv.data() : in.convState.data(), in.decay.data(), in.dtBias.data(),
                   s.decayForm, s.mapping, in.scale, in.l2Eps, inPlace ? st.data() : state16.data(),
                   kh0, kh1, scratch.get(), o.data(), conv.data(), st.data());
             };
             std::vector<float> out16(outSize), conv16(in.convState.size());
             std::vector<uint16_t> new16(state16.size(), 0xDEADu);
             const std::vector<uint16_t> before = state16;
             runF16(0, s.nk, out16, conv16, new16, false);
             EXPECT_EQ(state16, before) << "state_in is not written";
             expectSameBits("f16 state: output vs the f32 kernel", out16, out);
             expectSameBits("f16 state: conv state vs the f32 kernel", conv16, convState);
             expectSameBits("f16 state: the f32 kernel's state rounded once", fromHalves(new16),
                            refHalves(state));

             // Two key-head ranges, both states in place.
             auto split = nanFilled(int64_t(outSize));
             auto convInPlace = in.convState;
             auto stateInPlace = state16;
             const int64_t m = splitPoint(s.nk);
             runF16(0, m, split, convInPlace, stateInPlace, true);
             runF16(m, s.nk, split, convInPlace, stateInPlace, true);
             expectSameBits("f16 state split output", split, out16);
             expectSameBits("f16 state split, in-place state", fromHalves(stateInPlace),
                            fromHalves(new16));
           }});
    }

  // Decode steps in a row, each state carried in place: the f16 kernel against the f32 kernel run
  // on the same f16 state, whose result is rounded once. Rounding to f16 hides most one-ulp
  // differences of the f32 update (about one in 2^13 changes a half), so this takes many values:
  // 16 heads of 128 x 128, 8 steps, about 2 million roundings.
  {
    const GDNShape s{2, 16, 128, 128, 4, DC_K_HEADS_GROUPED, DC_K_DECAY_A_LOG};
    cases.push_back(
        {"gated_delta_net_f16_state_decode_steps_" + gdnShapeName(s), [s](const std::string &name) {
           Rng rng(name);
           GDNInputs in = makeGDNInputs(rng, s, 1);
           std::vector<uint16_t> state16 = toHalves(in.state);
           std::vector<float> conv16 = in.convState;
           for (int step = 0; step < 8; ++step) {
             if (step > 0) {
               GDNInputs next = makeGDNInputs(rng, s, 1);
               in.qkv = next.qkv;
               in.a = next.a;
               in.b = next.b;
             }
             in.state = fromHalves(state16);
             in.convState = conv16;
             std::vector<float> out(size_t(s.nv * s.dv)), conv(conv16.size()),
                 state(in.state.size());
             in.run(0, s.nk, out, conv, state, false);
             Scratch scratch(dc_k_gated_delta_net_f32_scratch_bytes(1, s.dk, s.dv));
             std::vector<float> out16(out.size());
             dc_k_gated_delta_net_f32_state_f16(
                 in.qkv.data(), in.channels(), in.a.data(), s.nv, in.b.data(), s.nv, 1, s.nk, s.nv,
                 s.dk, s.dv, in.convWeight.data(), s.k, conv16.data(), in.decay.data(),
                 in.dtBias.data(), s.decayForm, s.mapping, in.scale, in.l2Eps, state16.data(), 0,
                 s.nk, scratch.get(), out16.data(), conv16.data(), state16.data());
             const std::string at = "step " + str(step) + ": ";
             expectSameBits(at + "output vs the f32 kernel", out16, out);
             expectSameBits(at + "conv state vs the f32 kernel", conv16, conv);
             expectSameBits(at + "the f32 kernel's state rounded once", fromHalves(state16),
                            refHalves(state));
           }
         }});
  }
}

//===----------------------------------------------------------------------===//
// f16 KV cache (deltac compile --kv-cache-type=f16)
//===----------------------------------------------------------------------===//
//
// Attention over f16 caches against the f32 kernel on the same values (the caches widened, k and v
// rounded by the reference): the output bit for bit, and the new rows stored as the reference
// rounds them. Exact, so no bound: a row read unrounded (the step's own rows included), a double
// rounding or a missed tail differs in some bit. Every attention shape runs, so both the decode
// (streamed) and the prefill (tiled) paths and their split calls are covered.

void addF16KVCacheCases(std::vector<OpCase> &cases) {
  for (const AttentionShape &shape : attentionShapes()) {
    cases.push_back(
        {"attention_f16_cache_" + attentionShapeName(shape), [shape](const std::string &name) {
           Rng rng(name);
           const AttentionInputs in(rng, shape);
           const AttentionShape &s = in.s;
           const std::vector<uint16_t> keyCache16 = toHalves(in.keyCache),
                                       valueCache16 = toHalves(in.valueCache);

           // The f32 kernel on what the f16 caches hold once the step is written.
           auto kc = fromHalves(keyCache16), vc = fromHalves(valueCache16);
           const std::vector<float> kRounded = refHalves(in.k), vRounded = refHalves(in.v);
           std::vector<float> want(static_cast<size_t>(in.outSize()));
           Scratch scratch(in.scratchBytes());
           dc_k_attention_f32(in.q.data(), kRounded.data(), vRounded.data(), in.gatePtr(), s.t,
                              s.nh, s.nkv, s.hd, s.hdv, in.scale, kc.data(), vc.data(), s.s,
                              s.position, 0, s.nh, scratch.get(), want.data());
           auto wantK = fromHalves(keyCache16), wantV = fromHalves(valueCache16);
           in.appendRows(kRounded, vRounded, wantK, wantV);

           auto kc16 = keyCache16, vc16 = valueCache16;
           auto run = [&](int64_t h0, int64_t h1, void *sc, std::vector<float> &o) {
             dc_k_attention_f32_cache_f16(in.q.data(), in.k.data(), in.v.data(), in.gatePtr(), s.t,
                                          s.nh, s.nkv, s.hd, s.hdv, in.scale, kc16.data(),
                                          vc16.data(), s.s, s.position, h0, h1, sc, o.data());
           };
           auto checkCaches = [&](const std::string &what) {
             expectSameBits(what + " key cache", fromHalves(kc16), wantK);
             expectSameBits(what + " value cache", fromHalves(vc16), wantV);
           };
           std::vector<float> out(static_cast<size_t>(in.outSize()));
           run(0, s.nh, scratch.get(), out);
           expectSameBits("f16 cache: output vs the f32 kernel on rounded rows", out, want);
           checkCaches("f16 cache:");
           expectSplitsAgree(
               "f16 cache", in, out, run,
               [&] {
                 kc16 = keyCache16;
                 vc16 = valueCache16;
               },
               checkCaches);
         }});
  }
}

//===----------------------------------------------------------------------===//
// int8 activations (deltac compile --act-quant=int8)
//===----------------------------------------------------------------------===//
//
// The q8act kernels compute the linear of the activations as they quantize them (per block of 32,
// q * dx; import/DeltacQuants.h computes those values independently) with the decoded weights. Two
// checks per case:
//  - against the reference fed those quantized activations, under the f32 bound of the family (the
//    integer sums are exact, so only the per-block scaling and the f32 sum across blocks round);
//  - against the reference fed the original f32 activations, element by element, under the error
//    the activation quantization can cause: |y - y_f32| <= sum_k |w[n, k]| |x[t, k] - q dx| plus
//    the f32 bound. A wrong block scale, code offset or rounding breaks it by orders of magnitude.

using Q8ActLinearFn = void (*)(const float *, int64_t, int64_t, const void *, int64_t, int64_t,
                               int64_t, void *, float *);
using Q8ActEpilogueFn = void (*)(const float *, int64_t, int64_t, const void *, int64_t, int32_t,
                                 const float *, int64_t, int64_t, void *, float *);

struct Q8ActKernels {
  Q8ActLinearFn linear, lmHead;
  Q8ActEpilogueFn epilogue;
};

#define DC_Q8ACT_KERNELS(wname)                                                                    \
  Q8ActKernels {                                                                                   \
    [](const float *x, int64_t t, int64_t k, const void *w, int64_t n, int64_t b, int64_t e,       \
       void *scratch, float *y) {                                                                  \
      dc_k_linear_q8act_##wname(x, t, k, static_cast<const uint8_t *>(w), n, b, e, scratch, y);    \
    },                                                                                             \
        [](const float *x, int64_t t, int64_t k, const void *w, int64_t n, int64_t b, int64_t e,   \
           void *scratch, float *y) {                                                              \
          dc_k_lm_head_q8act_##wname(x, t, k, static_cast<const uint8_t *>(w), n, b, e, scratch,   \
                                     y);                                                           \
        },                                                                                         \
        [](const float *x, int64_t t, int64_t k, const void *w, int64_t n, int32_t epilogue,       \
           const float *residual, int64_t b, int64_t e, void *scratch, float *y) {                 \
          dc_k_linear_epilogue_q8act_##wname(x, t, k, static_cast<const uint8_t *>(w), n,          \
                                             epilogue, residual, b, e, scratch, y);                \
        }                                                                                          \
  }

Q8ActKernels q8actKernelsFor(WType t) {
  switch (t) {
  case WType::Q8_0:
    return DC_Q8ACT_KERNELS(q8_0);
  case WType::Q4_0:
    return DC_Q8ACT_KERNELS(q4_0);
  case WType::Q4_1:
    return DC_Q8ACT_KERNELS(q4_1);
  case WType::Q4_0_G64:
    return DC_Q8ACT_KERNELS(q4_0_g64);
  case WType::Q4_1_G64:
    return DC_Q8ACT_KERNELS(q4_1_g64);
  case WType::Q4_0_G128:
    return DC_Q8ACT_KERNELS(q4_0_g128);
  default:
    return DC_Q8ACT_KERNELS(q4_1_g128);
  }
}

/// The activations as the q8act kernels see them (rows of K values, quantized per block of 32).
std::vector<float> quantizedActivations(const std::vector<float> &x, int64_t K) {
  std::vector<float> values(x.size());
  std::vector<int8_t> codes(static_cast<size_t>(K));
  std::vector<float> scales(static_cast<size_t>(K / 32));
  for (size_t row = 0; row * size_t(K) < x.size(); ++row)
    quants::quantizeActivationsQ8(&x[row * K], K, codes.data(), scales.data(), &values[row * K]);
  return values;
}

/// The worst ratio of a q8act error to its activation-error bound, printed at exit.
double &worstActivationErrorRatio() {
  static double worst = 0;
  return worst;
}

class ActivationErrorPrinter : public ::testing::Environment {
public:
  void TearDown() override {
    std::printf("[ measured ] q8act vs f32 inputs: worst |y - y_f32| / (sum |w| |x - q dx| + f32 "
                "bound) = %.3f\n",
                worstActivationErrorRatio());
  }
};
[[maybe_unused]] const auto *const kActivationErrorPrinter =
    ::testing::AddGlobalTestEnvironment(new ActivationErrorPrinter);

/// y [T, N] = x W^T from q8act kernels against the exact f32 product `exact` (the reference on the
/// unquantized x), element by element: |y - exact| <= sum_k |w| |x - xq| + eps sqrt(K) max|exact|.
/// For a swiglu / residual epilogue the caller passes p = x W^T itself (before the epilogue).
void expectWithinActivationError(const std::string &what, const std::vector<float> &y,
                                 const Tensor &exact, const std::vector<float> &x,
                                 const std::vector<float> &xq, const std::vector<float> &w,
                                 int64_t T, int64_t K, int64_t N) {
  double maxRef = 0;
  for (double v : exact.data)
    maxRef = std::max(maxRef, std::abs(v));
  const double f32Bound = 4 * kEps * std::sqrt(double(K)) * maxRef;
  int failures = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n) {
      double bound = f32Bound;
      for (int64_t k = 0; k < K; ++k)
        bound += std::abs(double(w[n * K + k])) * std::abs(double(x[t * K + k]) - xq[t * K + k]);
      const double err = std::abs(double(y[t * N + n]) - exact.data[t * N + n]);
      worstActivationErrorRatio() = std::max(worstActivationErrorRatio(), err / bound);
      if (!(err <= bound) && ++failures <= 3)
        ADD_FAILURE() << what << ": y[" << t << ", " << n << "] = " << y[t * N + n] << ", f32 "
                      << exact.data[t * N + n] << ": error " << err << " over the bound " << bound;
    }
  EXPECT_EQ(failures, 0) << what;
}

void addQ8ActCases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, k, n;
  };
  const WType types[] = {WType::Q8_0,     WType::Q4_0,      WType::Q4_1,     WType::Q4_0_G64,
                         WType::Q4_1_G64, WType::Q4_0_G128, WType::Q4_1_G128};
  for (WType type : types) {
    const int64_t group = groupOf(type);
    // One to 32 blocks of 32, odd and even counts (AVX-512 takes blocks in pairs), 1 to 130 tokens
    // (tiles of 4 and a remainder), 1 to 40 outputs (tiles of 4 rows and a remainder).
    std::vector<Shape> shapes;
    if (group == 32)
      shapes = {{1, 32, 7}, {3, 96, 33}, {7, 256, 17}, {66, 160, 9}, {2, 1024, 40}, {130, 64, 6}};
    else
      shapes = {{1, 128, 7},  {3, 384, 33},  {7, 256, 17},
                {66, 640, 9}, {2, 1024, 40}, {130, 128, 6}};
    if (group == 64)
      shapes.push_back({5, 192, 13});
    for (Shape s : shapes) {
      std::string name = std::string("linear_q8act_") + wtypeName(type) + "_T" + str(s.t) + "_K" +
                         str(s.k) + "_N" + str(s.n);
      cases.push_back(
          {name, [type, s](const std::string &name) {
             Rng rng(name);
             auto x = rng.normals(s.t * s.k);
             Encoded w = encode(type, rng.normals(s.n * s.k, 1.0 / std::sqrt(s.k)), s.k);
             const Q8ActKernels kernels = q8actKernelsFor(type);
             Scratch scratch(dc_k_q8act_scratch_bytes(s.t, s.k));
             std::vector<float> y(static_cast<size_t>(s.t * s.n));
             kernels.linear(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, s.n, scratch.get(),
                            y.data());
             const std::vector<float> xq = quantizedActivations(x, s.k);
             expectClose("linear_q8act", "y", y,
                         ref::linear(toTensor(xq, {s.t, s.k}), toTensor(w.decoded, {s.n, s.k})),
                         double(s.k));
             expectWithinActivationError(
                 "linear_q8act", y,
                 ref::linear(toTensor(x, {s.t, s.k}), toTensor(w.decoded, {s.n, s.k})), x, xq,
                 w.decoded, s.t, s.k, s.n);
             // The LM head entry point computes the same.
             std::vector<float> logits(y.size());
             Scratch scratch2(dc_k_q8act_scratch_bytes(s.t, s.k));
             kernels.lmHead(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, s.n, scratch2.get(),
                            logits.data());
             expectSameBits("lm_head_q8act vs linear_q8act", logits, y);
             auto split = nanFilled(s.t * s.n);
             int64_t m = splitPoint(s.n);
             kernels.linear(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, m, scratch.get(),
                            split.data());
             expectPartOnly(split, m, s.n, "split after the first range");
             kernels.linear(x.data(), s.t, s.k, w.bytes.data(), s.n, m, s.n, scratch.get(),
                            split.data());
             expectSameBits("linear_q8act split", split, y);
           }});
    }

    // The epilogues: swiglu (gate rows [0, N), up rows [N, 2N)) and/or a residual.
    struct Mode {
      const char *name;
      bool swiglu, residual;
    };
    const Mode modes[] = {
        {"swiglu", true, false}, {"residual", false, true}, {"swiglu_residual", true, true}};
    const std::vector<Shape> epilogueShapes = group == 32
                                                  ? std::vector<Shape>{{1, 96, 5}, {9, 256, 19}}
                                                  : std::vector<Shape>{{1, 128, 5}, {9, 256, 19}};
    for (const Mode &mode : modes)
      for (Shape s : epilogueShapes) {
        std::string name = std::string("linear_epilogue_q8act_") + wtypeName(type) + "_" +
                           mode.name + "_T" + str(s.t) + "_K" + str(s.k) + "_N" + str(s.n);
        cases.push_back(
            {name, [type, mode, s](const std::string &name) {
               Rng rng(name);
               const int64_t rows = mode.swiglu ? 2 * s.n : s.n;
               const int32_t epilogue = mode.swiglu ? DC_K_EPILOGUE_SWIGLU : DC_K_EPILOGUE_NONE;
               auto x = rng.normals(s.t * s.k);
               Encoded w = encode(type, rng.normals(rows * s.k, 1.0 / std::sqrt(double(s.k))), s.k);
               auto residual = rng.normals(s.t * s.n);
               const float *r = mode.residual ? residual.data() : nullptr;
               const Q8ActKernels kernels = q8actKernelsFor(type);
               Scratch scratch(dc_k_q8act_scratch_bytes(s.t, s.k));
               std::vector<float> y(static_cast<size_t>(s.t * s.n));
               kernels.epilogue(x.data(), s.t, s.k, w.bytes.data(), s.n, epilogue, r, 0, s.n,
                                scratch.get(), y.data());
               // Exactly the plain q8act linear over all rows, then the epilogue's f32 kernels.
               std::vector<float> product(static_cast<size_t>(s.t * rows));
               kernels.linear(x.data(), s.t, s.k, w.bytes.data(), rows, 0, rows, scratch.get(),
                              product.data());
               std::vector<float> unfused(static_cast<size_t>(s.t * s.n));
               for (int64_t t = 0; t < s.t; ++t)
                 for (int64_t n = 0; n < s.n; ++n) {
                   float v = product[t * rows + n];
                   if (mode.swiglu)
                     dc_k_swiglu_f32(&product[t * rows + n], &product[t * rows + s.n + n], 0, 1,
                                     &v);
                   if (mode.residual)
                     dc_k_add_f32(&residual[t * s.n + n], &v, 0, 1, &v);
                   unfused[t * s.n + n] = v;
                 }
               expectSameBits("fused vs unfused q8act kernels", y, unfused);
               Tensor refResidual = toTensor(residual, {s.t, s.n});
               expectClose("linear_epilogue_q8act", "y", y,
                           ref::linearEpilogue(toTensor(quantizedActivations(x, s.k), {s.t, s.k}),
                                               toTensor(w.decoded, {rows, s.k}), mode.swiglu,
                                               mode.residual ? &refResidual : nullptr),
                           double(s.k));
               auto split = nanFilled(s.t * s.n);
               int64_t m = splitPoint(s.n);
               kernels.epilogue(x.data(), s.t, s.k, w.bytes.data(), s.n, epilogue, r, 0, m,
                                scratch.get(), split.data());
               expectPartOnly(split, m, s.n, "split after the first range");
               kernels.epilogue(x.data(), s.t, s.k, w.bytes.data(), s.n, epilogue, r, m, s.n,
                                scratch.get(), split.data());
               expectSameBits("linear_epilogue_q8act split", split, y);
             }});
      }
  }

  // Activations of every magnitude, exact zeros and all-zero blocks: the codes follow the rounding
  // the ABI states (nearest, ties to even) for each block's own scale.
  cases.push_back(
      {"linear_q8act_scales_and_zero_blocks", [](const std::string &name) {
         Rng rng(name);
         const int64_t T = 3, K = 256, N = 12;
         auto x = rng.normals(T * K);
         for (int64_t i = 0; i < T * K; ++i)
           x[i] *= float(std::pow(10.0, double((i / 32) % 9) - 4.0));
         std::fill(x.begin() + 64, x.begin() + 96, 0.0f); // an all-zero block
         x[5] = 0.0f;
         for (WType type : {WType::Q8_0, WType::Q4_1_G128}) {
           Encoded w = encode(type, rng.normals(N * K, 1.0 / 16.0), K);
           Scratch scratch(dc_k_q8act_scratch_bytes(T, K));
           std::vector<float> y(size_t(T * N));
           q8actKernelsFor(type).linear(x.data(), T, K, w.bytes.data(), N, 0, N, scratch.get(),
                                        y.data());
           const std::vector<float> xq = quantizedActivations(x, K);
           expectClose("linear_q8act", std::string("y ") + wtypeName(type), y,
                       ref::linear(toTensor(xq, {T, K}), toTensor(w.decoded, {N, K})), double(K));
           expectWithinActivationError(
               "scales", y, ref::linear(toTensor(x, {T, K}), toTensor(w.decoded, {N, K})), x, xq,
               w.decoded, T, K, N);
         }
       }});
}

//===----------------------------------------------------------------------===//
// Packed rows (kernel_abi.h, "Packed rows"; the delta-pack-weights pass)
//===----------------------------------------------------------------------===//
//
// The packed kernels run on rows packed here from random GGML Q8_0 / Q4_0 blocks by a packer
// written from the ABI text alone. Their results are checked against the reference (as the q8act
// kernels are), against the q8act kernels on the unpacked blocks (equal int32 block sums: only the
// order of the f32 sums may differ), and the embedding against the reference bit for bit.

/// GGML Q8_0 / Q4_0 rows [rows, K] repacked: Q8_0_PACKED holds the K codes + 128 as bytes, then the
/// K / 32 f16 scales; Q4_0_PACKED the 16 qs bytes of each block in turn, then the scales; Q4_0_X8
/// (`x8`) the same qs bytes, a span of 8 blocks (g in a row's last span) at a time, with byte i of
/// the span's block j at 4 g (i / 4) + 4 j + i % 4 of the span.
std::vector<uint8_t> packRows(WType type, const std::vector<uint8_t> &ggmlRows, int64_t K,
                              bool x8 = false) {
  const bool q8 = type == WType::Q8_0;
  const int64_t blocks = K / 32, blockBytes = q8 ? 34 : 18, codeBytes = q8 ? K : K / 2;
  const int64_t rowBytes = blocks * blockBytes, rows = int64_t(ggmlRows.size()) / rowBytes;
  std::vector<uint8_t> packed(ggmlRows.size());
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t *in = &ggmlRows[size_t(r * rowBytes)];
    uint8_t *out = &packed[size_t(r * rowBytes)];
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t *block = in + b * blockBytes;
      out[codeBytes + 2 * b] = block[0];
      out[codeBytes + 2 * b + 1] = block[1];
      if (q8) {
        for (int i = 0; i < 32; ++i)
          out[32 * b + i] = uint8_t(int(int8_t(block[2 + i])) + 128);
      } else if (x8) {
        const int64_t span = b / 8, g = std::min<int64_t>(8, blocks - 8 * span), j = b % 8;
        for (int i = 0; i < 16; ++i)
          out[128 * span + 4 * g * (i / 4) + 4 * j + i % 4] = block[2 + i];
      } else {
        std::memcpy(out + 16 * b, block + 2, 16);
      }
    }
  }
  return packed;
}

Q8ActKernels packedKernelsFor(WType t, bool x8) {
  if (x8)
    return DC_Q8ACT_KERNELS(q4_0_x8);
  return t == WType::Q8_0 ? DC_Q8ACT_KERNELS(q8_0_packed) : DC_Q8ACT_KERNELS(q4_0_packed);
}
#undef DC_Q8ACT_KERNELS

using ClaimedFn = void (*)(const float *, int64_t, int64_t, const uint8_t *, int64_t, int32_t,
                           const float *, dc_k_claim_fn, void *, void *, float *);

ClaimedFn packedClaimedFor(WType t, bool x8) {
  if (x8)
    return dc_k_linear_claimed_q8act_q4_0_x8;
  return t == WType::Q8_0 ? dc_k_linear_claimed_q8act_q8_0_packed
                          : dc_k_linear_claimed_q8act_q4_0_packed;
}

/// A claimer that hands out [0, n) in pieces of 1, 2, 3, 4, 5, 1, ... columns, alternately from the
/// back and from the front (as a pool's owner and thief would): the claimed kernels must give the
/// range-at-a-time bits whatever the pieces and their order.
struct ScrambledClaims {
  std::vector<std::pair<int64_t, int64_t>> pieces;
  size_t next = 0;

  explicit ScrambledClaims(int64_t n) {
    std::vector<std::pair<int64_t, int64_t>> inOrder;
    for (int64_t b = 0, size = 1; b < n; b += size, size = size % 5 + 1)
      inOrder.push_back({b, std::min(n, b + size)});
    for (size_t lo = 0, hi = inOrder.size(); lo < hi;) {
      pieces.push_back(inOrder[--hi]);
      if (lo < hi)
        pieces.push_back(inOrder[lo++]);
    }
  }

  static int32_t claim(void *self, int64_t *begin, int64_t *end) {
    auto *c = static_cast<ScrambledClaims *>(self);
    if (c->next == c->pieces.size())
      return 0;
    *begin = c->pieces[c->next].first;
    *end = c->pieces[c->next].second;
    ++c->next;
    return 1;
  }
};

/// Runs a claimed kernel over scrambled pieces of [0, n) into a NaN-filled output, with a fresh
/// (NaN-filled) scratch so that it cannot reuse activations an earlier call quantized, and checks
/// that it took every piece and left the bits of `expected`.
void expectClaimedSameBits(ClaimedFn fn, const std::vector<float> &x, int64_t t, int64_t k,
                           const std::vector<uint8_t> &packed, int64_t n, int32_t epilogue,
                           const float *residual, const std::vector<float> &expected) {
  auto claimed = nanFilled(t * n);
  ScrambledClaims claims(n);
  Scratch scratch(dc_k_q8act_scratch_bytes(t, k));
  fn(x.data(), t, k, packed.data(), n, epilogue, residual, ScrambledClaims::claim, &claims,
     scratch.get(), claimed.data());
  EXPECT_EQ(claims.next, claims.pieces.size()) << "the kernel stopped claiming early";
  expectSameBits("claimed ranges vs one range", claimed, expected);
}

/// Runs the packed kernel on tokens [0, t) in calls of 2 tokens (the last of 3 where t is odd) and
/// checks the bits of `expected`, the whole call's: a token's outputs are the same for every T > 1
/// (kernel_abi.h, "Packed rows"). The short calls take the span path where a whole call of
/// DC_PA_MIN_TOKENS or more takes the AMX tiles (linear_amx.h), so on an AMX machine this checks
/// those against the spans bit for bit.
void expectTokenPiecesSameBits(const Q8ActKernels &kernels, const std::vector<float> &x, int64_t t,
                               int64_t k, const std::vector<uint8_t> &packed, int64_t n,
                               int32_t epilogue, const float *residual,
                               const std::vector<float> &expected) {
  if (t < 2)
    return;
  auto pieces = nanFilled(t * n);
  for (int64_t t0 = 0; t0 < t;) {
    const int64_t size = t - t0 == 3 ? 3 : 2;
    Scratch scratch(dc_k_q8act_scratch_bytes(size, k));
    kernels.epilogue(x.data() + t0 * k, size, k, packed.data(), n, epilogue,
                     residual ? residual + t0 * n : nullptr, 0, n, scratch.get(),
                     pieces.data() + t0 * n);
    t0 += size;
  }
  expectSameBits("calls of 2 or 3 tokens vs one call", pieces, expected);
}

void addPackedCases(std::vector<OpCase> &cases) {
  struct Shape {
    int64_t t, k, n;
  };
  // Q8_0_PACKED, Q4_0_PACKED and Q4_0_X8.
  const std::pair<WType, bool> layouts[] = {
      {WType::Q8_0, false}, {WType::Q4_0, false}, {WType::Q4_0, true}};
  for (const auto &layout : layouts) {
    // Plain copies: the case lambdas capture them (captured structured bindings need C++20).
    const WType type = layout.first;
    const bool x8 = layout.second;
    const std::string packedName = std::string(wtypeName(type)) + (x8 ? "_x8" : "_packed");
    // K: 1 to 112 blocks, every remainder of a 128-value group (K = 32, 64, 96, 160, 224, ...) and
    // of a 256-value span of the AVX2 int16 path (1056: 4 spans and 1 block); T: decode, token
    // tiles and remainders, 130 x 1024 for several token chunks of the int8 records and 530 x 3584
    // for two of the AVX2 span records (at least 516 tokens each) and two panels of 16 rows, 1 x
    // 4448 for a decode row of two prefetch bursts and a last span of 3 blocks (Q4_0_X8,
    // linear_spans.h); N: row tiles and remainders (48 x 1056 x 70: three groups of 32 AMX rows,
    // the last of 6, and a last span of 1 block, linear_amx.h).
    const Shape shapes[] = {{1, 32, 7},      {3, 96, 33},    {7, 256, 17},  {66, 160, 9},
                            {2, 1024, 40},   {130, 64, 6},   {17, 224, 13}, {64, 384, 21},
                            {1, 1024, 64},   {130, 1024, 9}, {5, 2048, 11}, {13, 1056, 10},
                            {530, 3584, 21}, {1, 4448, 9},   {48, 1056, 70}};
    for (Shape s : shapes) {
      std::string name =
          "linear_q8act_" + packedName + "_T" + str(s.t) + "_K" + str(s.k) + "_N" + str(s.n);
      cases.push_back(
          {name, [type, x8, s](const std::string &name) {
             Rng rng(name);
             auto x = rng.normals(s.t * s.k);
             Encoded w = encode(type, rng.normals(s.n * s.k, 1.0 / std::sqrt(s.k)), s.k);
             const std::vector<uint8_t> packed = packRows(type, w.bytes, s.k, x8);
             const Q8ActKernels kernels = packedKernelsFor(type, x8);
             Scratch scratch(dc_k_q8act_scratch_bytes(s.t, s.k));
             std::vector<float> y(static_cast<size_t>(s.t * s.n));
             kernels.linear(x.data(), s.t, s.k, packed.data(), s.n, 0, s.n, scratch.get(),
                            y.data());
             const std::vector<float> xq = quantizedActivations(x, s.k);
             expectClose("linear_q8act", "y", y,
                         ref::linear(toTensor(xq, {s.t, s.k}), toTensor(w.decoded, {s.n, s.k})),
                         double(s.k));
             expectWithinActivationError(
                 "linear_q8act packed", y,
                 ref::linear(toTensor(x, {s.t, s.k}), toTensor(w.decoded, {s.n, s.k})), x, xq,
                 w.decoded, s.t, s.k, s.n);
             // The q8act kernel of the unpacked blocks.
             std::vector<float> unpacked(y.size());
             q8actKernelsFor(type).linear(x.data(), s.t, s.k, w.bytes.data(), s.n, 0, s.n,
                                          scratch.get(), unpacked.data());
             Tensor u({int64_t(unpacked.size())});
             for (size_t i = 0; i < unpacked.size(); ++i)
               u.data[i] = unpacked[i];
             expectClose("q8act_packed_vs_unpacked", "y", y, u, double(s.k));
             std::vector<float> logits(y.size());
             kernels.lmHead(x.data(), s.t, s.k, packed.data(), s.n, 0, s.n, scratch.get(),
                            logits.data());
             expectSameBits("lm_head packed vs linear packed", logits, y);
             auto split = nanFilled(s.t * s.n);
             int64_t m = splitPoint(s.n);
             kernels.linear(x.data(), s.t, s.k, packed.data(), s.n, 0, m, scratch.get(),
                            split.data());
             expectPartOnly(split, m, s.n, "split after the first range");
             kernels.linear(x.data(), s.t, s.k, packed.data(), s.n, m, s.n, scratch.get(),
                            split.data());
             expectSameBits("linear_q8act packed split", split, y);
             expectClaimedSameBits(packedClaimedFor(type, x8), x, s.t, s.k, packed, s.n,
                                   DC_K_EPILOGUE_NONE, nullptr, y);
             expectTokenPiecesSameBits(kernels, x, s.t, s.k, packed, s.n, DC_K_EPILOGUE_NONE,
                                       nullptr, y);
           }});
    }

    // The epilogues, as for the q8act kernels: the fused kernel is the packed linear over all rows
    // followed by the f32 epilogue kernels, bit for bit.
    struct Mode {
      const char *name;
      bool swiglu, residual;
    };
    const Mode modes[] = {
        {"swiglu", true, false}, {"residual", false, true}, {"swiglu_residual", true, true}};
    for (const Mode &mode : modes)
      for (Shape s : {Shape{1, 96, 5}, Shape{9, 256, 19}, Shape{17, 160, 6}, Shape{1, 1024, 37},
                      Shape{40, 1056, 21}}) {
        std::string name = "linear_epilogue_q8act_" + packedName + "_" + mode.name + "_T" +
                           str(s.t) + "_K" + str(s.k) + "_N" + str(s.n);
        cases.push_back(
            {name, [type, x8, mode, s](const std::string &name) {
               Rng rng(name);
               const int64_t rows = mode.swiglu ? 2 * s.n : s.n;
               const int32_t epilogue = mode.swiglu ? DC_K_EPILOGUE_SWIGLU : DC_K_EPILOGUE_NONE;
               auto x = rng.normals(s.t * s.k);
               Encoded w = encode(type, rng.normals(rows * s.k, 1.0 / std::sqrt(double(s.k))), s.k);
               const std::vector<uint8_t> packed = packRows(type, w.bytes, s.k, x8);
               auto residual = rng.normals(s.t * s.n);
               const float *r = mode.residual ? residual.data() : nullptr;
               const Q8ActKernels kernels = packedKernelsFor(type, x8);
               Scratch scratch(dc_k_q8act_scratch_bytes(s.t, s.k));
               std::vector<float> y(static_cast<size_t>(s.t * s.n));
               kernels.epilogue(x.data(), s.t, s.k, packed.data(), s.n, epilogue, r, 0, s.n,
                                scratch.get(), y.data());
               std::vector<float> product(static_cast<size_t>(s.t * rows));
               kernels.linear(x.data(), s.t, s.k, packed.data(), rows, 0, rows, scratch.get(),
                              product.data());
               std::vector<float> unfused(static_cast<size_t>(s.t * s.n));
               for (int64_t t = 0; t < s.t; ++t)
                 for (int64_t n = 0; n < s.n; ++n) {
                   float v = product[t * rows + n];
                   if (mode.swiglu)
                     dc_k_swiglu_f32(&product[t * rows + n], &product[t * rows + s.n + n], 0, 1,
                                     &v);
                   if (mode.residual)
                     dc_k_add_f32(&residual[t * s.n + n], &v, 0, 1, &v);
                   unfused[t * s.n + n] = v;
                 }
               expectSameBits("fused vs unfused packed kernels", y, unfused);
               Tensor refResidual = toTensor(residual, {s.t, s.n});
               expectClose("linear_epilogue_q8act", "y", y,
                           ref::linearEpilogue(toTensor(quantizedActivations(x, s.k), {s.t, s.k}),
                                               toTensor(w.decoded, {rows, s.k}), mode.swiglu,
                                               mode.residual ? &refResidual : nullptr),
                           double(s.k));
               auto split = nanFilled(s.t * s.n);
               int64_t m = splitPoint(s.n);
               kernels.epilogue(x.data(), s.t, s.k, packed.data(), s.n, epilogue, r, 0, m,
                                scratch.get(), split.data());
               expectPartOnly(split, m, s.n, "split after the first range");
               kernels.epilogue(x.data(), s.t, s.k, packed.data(), s.n, epilogue, r, m, s.n,
                                scratch.get(), split.data());
               expectSameBits("linear_epilogue_q8act packed split", split, y);
               expectClaimedSameBits(packedClaimedFor(type, x8), x, s.t, s.k, packed, s.n, epilogue,
                                     r, y);
               expectTokenPiecesSameBits(kernels, x, s.t, s.k, packed, s.n, epilogue, r, y);
             }});
      }

    // The embedding gather: the exact values of the rows, as from the unpacked blocks.
    for (int64_t h : {32, 64, 96, 160, 288}) {
      std::string name = "embedding_" + packedName + "_V1000_H" + str(h) + "_T9";
      cases.push_back({name, [type, x8, h](const std::string &name) {
                         const int64_t v = 1000, t = 9;
                         Rng rng(name);
                         Encoded table = encode(type, rng.normals(v * h), h);
                         const std::vector<uint8_t> packed = packRows(type, table.bytes, h, x8);
                         std::vector<int32_t> ids(static_cast<size_t>(t));
                         for (int32_t &id : ids)
                           id = int32_t(rng.next() % uint64_t(v));
                         ids[0] = 0;
                         ids[1] = int32_t(v - 1);
                         auto gather = [&](const int32_t *idp, int64_t b, int64_t e, float *y) {
                           if (x8)
                             dc_k_embedding_f32_q4_0_x8(packed.data(), v, h, idp, b, e, y);
                           else if (type == WType::Q8_0)
                             dc_k_embedding_f32_q8_0_packed(packed.data(), v, h, idp, b, e, y);
                           else
                             dc_k_embedding_f32_q4_0_packed(packed.data(), v, h, idp, b, e, y);
                         };
                         std::vector<float> y(static_cast<size_t>(t * h));
                         gather(ids.data(), 0, t, y.data());
                         expectClose("embedding", "rows", y,
                                     ref::embedding(toTensor(table.decoded, {v, h}), ids));
                         std::vector<float> unpacked(y.size());
                         kernelsFor(type).embedding(table.bytes.data(), v, h, ids.data(), 0, t,
                                                    unpacked.data());
                         expectSameBits("embedding packed vs unpacked", y, unpacked);
                         auto split = nanFilled(t * h);
                         int64_t m = splitPoint(t);
                         gather(ids.data(), 0, m, split.data());
                         expectPartOnly(split, m, t, "split after the first range");
                         gather(ids.data(), m, t, split.data());
                         expectSameBits("embedding packed split", split, y);
                         std::vector<int32_t> bad = {-1, int32_t(v), ids[2]};
                         std::vector<float> badRows = nanFilled(3 * h);
                         gather(bad.data(), 0, 3, badRows.data());
                         for (int64_t i = 0; i < 2 * h; ++i)
                           ASSERT_EQ(badRows[i], 0.0f) << "out-of-range id, element " << i;
                         expectSameBits("embedding packed after bad ids",
                                        {badRows.begin() + 2 * h, badRows.end()},
                                        {y.begin() + 2 * h, y.begin() + 3 * h});
                       }});
    }
  }
}

//===----------------------------------------------------------------------===//
// The suite
//===----------------------------------------------------------------------===//

std::vector<OpCase> allCases() {
  std::vector<OpCase> cases;
  addElementwiseCases(cases);
  addNormCases(cases);
  addLinearCases(cases);
  addEmbeddingCases(cases);
  addConvAndGateCases(cases);
  addDeltaRuleCases(cases);
  addRopeCases(cases);
  addAttentionCases(cases);
  addMoECases(cases);
  addLinearEpilogueCases(cases);
  addGatedDeltaNetCases(cases);
  addF16StateCases(cases);
  addF16KVCacheCases(cases);
  addQ8ActCases(cases);
  addPackedCases(cases);
  return cases;
}

class OpSuite : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpSuite, MatchesReference) {
  const OpCase &c = GetParam();
  c.run(c.name);
}

INSTANTIATE_TEST_SUITE_P(Kernels, OpSuite, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<OpCase> &info) {
                           return info.param.name;
                         });

// The harness itself must be able to fail: NaNs, infinities and errors over a bound are caught, and
// the ABI version the library reports is the header's.
TEST(OpSuiteHarness, ComparisonCatchesErrors) {
  Tensor expected({4});
  expected.data = {1.0, -2.0, 0.5, 0.0};
  std::vector<float> exact = {1.0f, -2.0f, 0.5f, 0.0f};
  EXPECT_EQ(normalizedError(exact.data(), expected.data.data(), 4), 0.0);
  std::vector<float> off = {1.0f, -2.0f, 0.5f, 2e-5f};
  EXPECT_NEAR(normalizedError(off.data(), expected.data.data(), 4), 1e-5, 1e-9);
  std::vector<float> nan = {1.0f, std::numeric_limits<float>::quiet_NaN(), 0.5f, 0.0f};
  EXPECT_EQ(normalizedError(nan.data(), expected.data.data(), 4), INFINITY);
  std::vector<float> inf = {1.0f, -INFINITY, 0.5f, 0.0f};
  EXPECT_EQ(normalizedError(inf.data(), expected.data.data(), 4), INFINITY);
  // Every family in the table is reachable and no bound is vacuous.
  for (const Threshold &t : kThresholds)
    EXPECT_LT(t.perSqrtK ? t.bound * 32 : t.bound, 1e-4) << t.family;
}

TEST(OpSuiteHarness, AbiVersion) { EXPECT_EQ(dc_k_abi_version(), DC_KERNEL_ABI_VERSION); }

} // namespace
