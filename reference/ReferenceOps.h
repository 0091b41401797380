//===- ReferenceOps.h - the executable specification of the delta ops -----===//
//
// One function per delta op, in double precision, written as straight loops that follow the op's ODS
// description (docs/reference/DeltaDialect.md) and spec §2 line by line. No vectorization, no blocking,
// no cleverness: every target's kernels are compared against these, and the interpreter built on them
// is compared against Hugging Face transformers.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_REFERENCE_REFERENCEOPS_H
#define DELTAC_REFERENCE_REFERENCEOPS_H

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace deltac::ref {

/// A dense row-major tensor of doubles.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape);
  int64_t numel() const;
  /// Size of the last dimension (the row length every row-wise op works on).
  int64_t rowLength() const { return shape.back(); }
  int64_t rows() const { return numel() / rowLength(); }
  double *row(int64_t r) { return data.data() + r * rowLength(); }
  const double *row(int64_t r) const { return data.data() + r * rowLength(); }
};

/// x rounded to the nearest IEEE binary16 value (ties to even; magnitudes from 65520 up become
/// infinity): the storage of an f16 delta-rule state (delta.gated_delta_rule). Computed from the
/// value's binade in double arithmetic, independently of the kernels' bit manipulation.
double roundToHalf(double x);
void roundToHalf(Tensor &t);

// Elementwise and row-wise ops.
Tensor add(const Tensor &a, const Tensor &b);
Tensor swiglu(const Tensor &gate, const Tensor &up);
/// An empty `weight` means no scale (NormScale::none).
Tensor rmsNorm(const Tensor &x, const Tensor &weight, bool onePlus, double eps);
Tensor l2Norm(const Tensor &x, double eps);
Tensor gatedRmsNorm(const Tensor &x, const Tensor &gate, const Tensor &weight, double eps);

// Shape plumbing.
Tensor reshape(const Tensor &x, std::vector<int64_t> shape);
std::vector<Tensor> split(const Tensor &x, const std::vector<int64_t> &widths);
Tensor concat(const std::vector<Tensor> &inputs);

// Projections. `weight` is [N, K] (PyTorch layout), already dequantized.
Tensor embedding(const Tensor &table, const std::vector<int32_t> &ids);
Tensor linear(const Tensor &x, const Tensor &weight);
/// `delta.linear` with its epilogues: p = linear(x, weight); with `applySwiglu` the weight is [2N, K] and
/// e = swiglu(first N columns of p, last N columns), else e = p; the result is e + *residual when a
/// residual is given, else e.
Tensor linearEpilogue(const Tensor &x, const Tensor &weight, bool applySwiglu,
                      const Tensor *residual);

// Gated DeltaNet.
struct ConvResult {
  Tensor output, newState;
};
/// x [T, C], weight [C, K], state [K-1, C] (oldest first).
ConvResult causalConv1d(const Tensor &x, const Tensor &weight, const Tensor &state, bool silu);

struct Gates {
  Tensor g, beta;
};
/// a, b [T, nv]; decay [nv] holds A_log (decayIsLog) or -exp(A_log); dtBias [nv].
Gates gdnGates(const Tensor &a, const Tensor &b, const Tensor &decay, const Tensor &dtBias,
               bool decayIsLog);

struct DeltaRuleResult {
  Tensor output, newState;
};
/// The recurrence of `delta.gated_delta_rule`, one token at a time. q, k [T, nk, dk]; v [T, nv, dv];
/// g, beta [T, nv]; state [nv, dk, dv].
DeltaRuleResult gatedDeltaRule(const Tensor &q, const Tensor &k, const Tensor &v, const Tensor &g,
                               const Tensor &beta, const Tensor &state, bool tiled, double scale);
/// The same quantity by the chunked WY/UT algorithm of spec §4.1 (chunk size `chunk`): a second,
/// independent formulation that must agree with the recurrence up to rounding.
DeltaRuleResult gatedDeltaRuleChunked(const Tensor &q, const Tensor &k, const Tensor &v,
                                      const Tensor &g, const Tensor &beta, const Tensor &state,
                                      bool tiled, double scale, int64_t chunk);

/// `delta.gated_delta_net`, by its definition: causalConv1d (SiLU) of qkv [T, C], split into q, k
/// [T, nk, dk] and v [T, nv, dv] with nk = (C - nv dv) / (2 dk), L2 norms of q and k, gdnGates of
/// (a, b), then the recurrence (chunk = 0) or the chunked form (chunk > 0, for T > 1). nv, dk, dv come
/// from `state` [nv, dk, dv].
struct GatedDeltaNetResult {
  Tensor output, newConvState, newState;
};
GatedDeltaNetResult gatedDeltaNet(const Tensor &qkv, const Tensor &a, const Tensor &b,
                                  const Tensor &convWeight, const Tensor &convState,
                                  const Tensor &decay, const Tensor &dtBias, const Tensor &state,
                                  bool decayIsLog, bool tiled, double scale, double l2Eps,
                                  int64_t chunk = 0);

// Gated attention.
/// x [T, n, hd]; positions [T] (or [3, T] with M-RoPE sections).
Tensor rope(const Tensor &x, const std::vector<std::vector<int32_t>> &positions, int64_t rotaryDim,
            double theta, const std::vector<int64_t> &mropeSections);

struct AttentionResult {
  Tensor output, newKeyCache, newValueCache;
};
/// q [T, nh, hd], k/v [T, nkv, hd], gate [T, nh, hdv] or null, caches [nkv, S, hd].
AttentionResult attention(const Tensor &q, const Tensor &k, const Tensor &v, const Tensor *gate,
                          const Tensor &keyCache, const Tensor &valueCache, int64_t position,
                          double scale);

// Mixture of experts.
struct MoEWeights {
  Tensor router;                   ///< [E, H]
  Tensor gate, up, down;           ///< [E, I, H], [E, I, H], [E, H, I]
  std::optional<Tensor> sharedGate, sharedUp, sharedDown, sharedExpertGate;
};
Tensor moe(const Tensor &x, const MoEWeights &w, int64_t topK, bool normalize);

/// logits [T, V] = x [T, H] weight^T.
Tensor lmHead(const Tensor &x, const Tensor &weight);

} // namespace deltac::ref

#endif // DELTAC_REFERENCE_REFERENCEOPS_H
