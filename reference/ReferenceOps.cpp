//===- ReferenceOps.cpp - the executable specification of the delta ops ---===//

#include "reference/ReferenceOps.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace deltac::ref {

Tensor::Tensor(std::vector<int64_t> s) : shape(std::move(s)), data(size_t(numel()), 0.0) {}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
static double silu(double x) { return x * sigmoid(x); }
/// PyTorch's softplus: log(1 + e^x), and x itself above 20.
static double softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

double roundToHalf(double x) {
  if (std::isnan(x) || std::isinf(x) || x == 0.0)
    return x;
  // The spacing of halves around |x|: 2^(e - 11) for |x| in [2^(e-1), 2^e) with e - 1 >= -14 (the
  // normal binades), 2^-24 below (the subnormals). nearbyint rounds ties to even.
  int e = 0;
  std::frexp(x, &e);
  double quantum = std::ldexp(1.0, std::max(e - 1, -14) - 10);
  double r = std::nearbyint(x / quantum) * quantum;
  return std::fabs(r) > 65504.0 ? std::copysign(INFINITY, x) : r;
}

void roundToHalf(Tensor &t) {
  for (double &v : t.data)
    v = roundToHalf(v);
}

Tensor add(const Tensor &a, const Tensor &b) {
  Tensor out(a.shape);
  for (int64_t i = 0; i < a.numel(); ++i)
    out.data[i] = a.data[i] + b.data[i];
  return out;
}

Tensor swiglu(const Tensor &gate, const Tensor &up) {
  Tensor out(gate.shape);
  for (int64_t i = 0; i < gate.numel(); ++i)
    out.data[i] = silu(gate.data[i]) * up.data[i];
  return out;
}

static double sumOfSquares(const double *row, int64_t d) {
  double sum = 0;
  for (int64_t i = 0; i < d; ++i)
    sum += row[i] * row[i];
  return sum;
}

Tensor rmsNorm(const Tensor &x, const Tensor &weight, bool onePlus, double eps) {
  Tensor out(x.shape);
  int64_t d = x.rowLength();
  for (int64_t r = 0; r < x.rows(); ++r) {
    double inv = 1.0 / std::sqrt(sumOfSquares(x.row(r), d) / double(d) + eps);
    for (int64_t i = 0; i < d; ++i) {
      double w = weight.data.empty() ? 1.0 : onePlus ? 1.0 + weight.data[i] : weight.data[i];
      out.row(r)[i] = x.row(r)[i] * inv * w;
    }
  }
  return out;
}

Tensor l2Norm(const Tensor &x, double eps) {
  Tensor out(x.shape);
  int64_t d = x.rowLength();
  for (int64_t r = 0; r < x.rows(); ++r) {
    double inv = 1.0 / std::sqrt(sumOfSquares(x.row(r), d) + eps);
    for (int64_t i = 0; i < d; ++i)
      out.row(r)[i] = x.row(r)[i] * inv;
  }
  return out;
}

Tensor gatedRmsNorm(const Tensor &x, const Tensor &gate, const Tensor &weight, double eps) {
  Tensor normed = rmsNorm(x, weight, /*onePlus=*/false, eps);
  for (int64_t i = 0; i < normed.numel(); ++i)
    normed.data[i] *= silu(gate.data[i]);
  return normed;
}

Tensor reshape(const Tensor &x, std::vector<int64_t> shape) {
  Tensor out;
  out.shape = std::move(shape);
  out.data = x.data;
  assert(out.numel() == x.numel() && "reshape must keep the element count");
  return out;
}

std::vector<Tensor> split(const Tensor &x, const std::vector<int64_t> &widths) {
  std::vector<Tensor> outs;
  int64_t offset = 0;
  for (int64_t w : widths) {
    std::vector<int64_t> shape = x.shape;
    shape.back() = w;
    Tensor out(shape);
    for (int64_t r = 0; r < x.rows(); ++r)
      std::copy_n(x.row(r) + offset, w, out.row(r));
    offset += w;
    outs.push_back(std::move(out));
  }
  return outs;
}

Tensor concat(const std::vector<Tensor> &inputs) {
  std::vector<int64_t> shape = inputs[0].shape;
  shape.back() = 0;
  for (const Tensor &t : inputs)
    shape.back() += t.rowLength();
  Tensor out(shape);
  for (int64_t r = 0; r < out.rows(); ++r) {
    int64_t offset = 0;
    for (const Tensor &t : inputs) {
      std::copy_n(t.row(r), t.rowLength(), out.row(r) + offset);
      offset += t.rowLength();
    }
  }
  return out;
}

Tensor embedding(const Tensor &table, const std::vector<int32_t> &ids) {
  int64_t h = table.rowLength();
  Tensor out({int64_t(ids.size()), h});
  for (size_t t = 0; t < ids.size(); ++t)
    std::copy_n(table.row(ids[t]), h, out.row(int64_t(t)));
  return out;
}

Tensor linear(const Tensor &x, const Tensor &weight) {
  int64_t k = x.rowLength(), n = weight.shape[0];
  std::vector<int64_t> shape = x.shape;
  shape.back() = n;
  Tensor out(shape);
  for (int64_t r = 0; r < x.rows(); ++r)
    for (int64_t o = 0; o < n; ++o) {
      double sum = 0;
      for (int64_t i = 0; i < k; ++i)
        sum += x.row(r)[i] * weight.data[o * k + i];
      out.row(r)[o] = sum;
    }
  return out;
}

Tensor linearEpilogue(const Tensor &x, const Tensor &weight, bool applySwiglu,
                      const Tensor *residual) {
  Tensor out = linear(x, weight);
  if (applySwiglu) {
    int64_t half = out.rowLength() / 2;
    std::vector<Tensor> gateUp = split(out, {half, half});
    out = swiglu(gateUp[0], gateUp[1]);
  }
  return residual ? add(*residual, out) : out;
}

Tensor lmHead(const Tensor &x, const Tensor &weight) { return linear(x, weight); }

ConvResult causalConv1d(const Tensor &x, const Tensor &weight, const Tensor &state, bool applySilu) {
  int64_t t = x.shape[0], c = x.shape[1], kernel = weight.shape[1];
  // m = concat(state, x) along time: rows 0 .. K-2 from the state, then the new inputs.
  auto m = [&](int64_t row, int64_t ch) {
    return row < kernel - 1 ? state.data[row * c + ch] : x.data[(row - (kernel - 1)) * c + ch];
  };
  ConvResult result{Tensor({t, c}), Tensor({kernel - 1, c})};
  for (int64_t step = 0; step < t; ++step)
    for (int64_t ch = 0; ch < c; ++ch) {
      double sum = 0;
      for (int64_t j = 0; j < kernel; ++j)
        sum += weight.data[ch * kernel + j] * m(step + j, ch);
      result.output.data[step * c + ch] = applySilu ? silu(sum) : sum;
    }
  for (int64_t row = 0; row < kernel - 1; ++row)
    for (int64_t ch = 0; ch < c; ++ch)
      result.newState.data[row * c + ch] = m(t + row, ch);
  return result;
}

Gates gdnGates(const Tensor &a, const Tensor &b, const Tensor &decay, const Tensor &dtBias,
               bool decayIsLog) {
  int64_t t = a.shape[0], nv = a.shape[1];
  Gates gates{Tensor({t, nv}), Tensor({t, nv})};
  for (int64_t step = 0; step < t; ++step)
    for (int64_t h = 0; h < nv; ++h) {
      double bigA = decayIsLog ? -std::exp(decay.data[h]) : decay.data[h];
      gates.g.data[step * nv + h] = bigA * softplus(a.data[step * nv + h] + dtBias.data[h]);
      gates.beta.data[step * nv + h] = sigmoid(b.data[step * nv + h]);
    }
  return gates;
}

/// Key head read by value head h (spec §2.4 item 6 and §5.4 item 6).
static int64_t keyHead(int64_t h, int64_t nk, int64_t nv, bool tiled) {
  return tiled ? h % nk : h / (nv / nk);
}

DeltaRuleResult gatedDeltaRule(const Tensor &q, const Tensor &k, const Tensor &v, const Tensor &g,
                               const Tensor &beta, const Tensor &state, bool tiled, double scale) {
  int64_t t = q.shape[0], nk = q.shape[1], dk = q.shape[2], nv = v.shape[1], dv = v.shape[2];
  DeltaRuleResult result{Tensor({t, nv, dv}), state};
  std::vector<double> pred(dv), delta(dv);
  for (int64_t step = 0; step < t; ++step)
    for (int64_t h = 0; h < nv; ++h) {
      int64_t kh = keyHead(h, nk, nv, tiled);
      const double *kk = &k.data[(step * nk + kh) * dk];
      const double *qq = &q.data[(step * nk + kh) * dk];
      const double *vv = &v.data[(step * nv + h) * dv];
      double *s = &result.newState.data[h * dk * dv]; // S[i][j], i over dk, j over dv
      double decay = std::exp(g.data[step * nv + h]), b = beta.data[step * nv + h];
      for (int64_t i = 0; i < dk * dv; ++i)
        s[i] *= decay;
      for (int64_t j = 0; j < dv; ++j) {
        pred[j] = 0;
        for (int64_t i = 0; i < dk; ++i)
          pred[j] += s[i * dv + j] * kk[i];
        delta[j] = b * (vv[j] - pred[j]);
      }
      for (int64_t i = 0; i < dk; ++i)
        for (int64_t j = 0; j < dv; ++j)
          s[i * dv + j] += kk[i] * delta[j];
      double *o = &result.output.data[(step * nv + h) * dv];
      for (int64_t j = 0; j < dv; ++j) {
        o[j] = 0;
        for (int64_t i = 0; i < dk; ++i)
          o[j] += s[i * dv + j] * qq[i] * scale;
      }
    }
  return result;
}

DeltaRuleResult gatedDeltaRuleChunked(const Tensor &q, const Tensor &k, const Tensor &v,
                                      const Tensor &g, const Tensor &beta, const Tensor &state,
                                      bool tiled, double scale, int64_t chunk) {
  int64_t t = q.shape[0], nk = q.shape[1], dk = q.shape[2], nv = v.shape[1], dv = v.shape[2];
  DeltaRuleResult result{Tensor({t, nv, dv}), state};
  int64_t c = chunk;
  // Per chunk, row-major C x dk / C x dv / C x C work arrays.
  std::vector<double> kc(c * dk), qc(c * dk), vc(c * dv), gamma(c), bc(c), a(c * c);
  std::vector<double> w(c * dk), u(c * dv), vnew(c * dv);
  for (int64_t h = 0; h < nv; ++h) {
    int64_t kh = keyHead(h, nk, nv, tiled);
    double *s = &result.newState.data[h * dk * dv];
    for (int64_t start = 0; start < t; start += c) {
      // Gather the chunk; rows past the end are padding: q = k = v = 0, beta = 0, g = 0 (no-ops).
      double cumulative = 0;
      for (int64_t i = 0; i < c; ++i) {
        int64_t step = start + i;
        bool real = step < t;
        for (int64_t d = 0; d < dk; ++d) {
          kc[i * dk + d] = real ? k.data[(step * nk + kh) * dk + d] : 0.0;
          qc[i * dk + d] = real ? q.data[(step * nk + kh) * dk + d] * scale : 0.0;
        }
        for (int64_t d = 0; d < dv; ++d)
          vc[i * dv + d] = real ? v.data[(step * nv + h) * dv + d] : 0.0;
        cumulative += real ? g.data[step * nv + h] : 0.0;
        gamma[i] = cumulative;
        bc[i] = real ? beta.data[step * nv + h] : 0.0;
      }
      auto dot = [&](const double *x, const double *y) {
        double sum = 0;
        for (int64_t d = 0; d < dk; ++d)
          sum += x[d] * y[d];
        return sum;
      };
      // A_ij = beta_i (k_i . k_j) exp(gamma_i - gamma_j), j < i. Only non-positive exponents.
      for (int64_t i = 0; i < c; ++i)
        for (int64_t j = 0; j < c; ++j)
          a[i * c + j] = j < i ? bc[i] * dot(&kc[i * dk], &kc[j * dk]) *
                                     std::exp(gamma[i] - gamma[j])
                               : 0.0;
      // W = (I + A)^-1 (beta exp(gamma) K) and U = (I + A)^-1 (beta V), by forward substitution.
      for (int64_t i = 0; i < c; ++i) {
        for (int64_t d = 0; d < dk; ++d) {
          double x = bc[i] * std::exp(gamma[i]) * kc[i * dk + d];
          for (int64_t j = 0; j < i; ++j)
            x -= a[i * c + j] * w[j * dk + d];
          w[i * dk + d] = x;
        }
        for (int64_t d = 0; d < dv; ++d) {
          double x = bc[i] * vc[i * dv + d];
          for (int64_t j = 0; j < i; ++j)
            x -= a[i * c + j] * u[j * dv + d];
          u[i * dv + d] = x;
        }
      }
      // Vnew = U - W S.
      for (int64_t i = 0; i < c; ++i)
        for (int64_t jv = 0; jv < dv; ++jv) {
          double ws = 0;
          for (int64_t d = 0; d < dk; ++d)
            ws += w[i * dk + d] * s[d * dv + jv];
          vnew[i * dv + jv] = u[i * dv + jv] - ws;
        }
      // O = (exp(gamma) Q) S + (tril(Q K^T) * D) Vnew.
      for (int64_t i = 0; i < c && start + i < t; ++i) {
        double *o = &result.output.data[((start + i) * nv + h) * dv];
        for (int64_t jv = 0; jv < dv; ++jv) {
          double sum = 0;
          for (int64_t d = 0; d < dk; ++d)
            sum += std::exp(gamma[i]) * qc[i * dk + d] * s[d * dv + jv];
          for (int64_t j = 0; j <= i; ++j)
            sum += dot(&qc[i * dk], &kc[j * dk]) * std::exp(gamma[i] - gamma[j]) *
                   vnew[j * dv + jv];
          o[jv] = sum;
        }
      }
      // S <- exp(gamma_C) S + (exp(gamma_C - gamma) K)^T Vnew.
      double last = gamma[c - 1];
      for (int64_t d = 0; d < dk; ++d)
        for (int64_t jv = 0; jv < dv; ++jv) {
          double sum = std::exp(last) * s[d * dv + jv];
          for (int64_t i = 0; i < c; ++i)
            sum += std::exp(last - gamma[i]) * kc[i * dk + d] * vnew[i * dv + jv];
          s[d * dv + jv] = sum;
        }
    }
  }
  return result;
}

GatedDeltaNetResult gatedDeltaNet(const Tensor &qkv, const Tensor &a, const Tensor &b,
                                  const Tensor &convWeight, const Tensor &convState,
                                  const Tensor &decay, const Tensor &dtBias, const Tensor &state,
                                  bool decayIsLog, bool tiled, double scale, double l2Eps,
                                  int64_t chunk) {
  int64_t t = qkv.shape[0], c = qkv.shape[1];
  int64_t nv = state.shape[0], dk = state.shape[1], dv = state.shape[2];
  int64_t nk = (c - nv * dv) / (2 * dk);
  ConvResult conv = causalConv1d(qkv, convWeight, convState, /*silu=*/true);
  std::vector<Tensor> qkvParts = split(conv.output, {nk * dk, nk * dk, nv * dv});
  Tensor q = l2Norm(reshape(qkvParts[0], {t, nk, dk}), l2Eps);
  Tensor k = l2Norm(reshape(qkvParts[1], {t, nk, dk}), l2Eps);
  Tensor v = reshape(qkvParts[2], {t, nv, dv});
  Gates gates = gdnGates(a, b, decay, dtBias, decayIsLog);
  DeltaRuleResult rule =
      chunk > 0 && t > 1
          ? gatedDeltaRuleChunked(q, k, v, gates.g, gates.beta, state, tiled, scale, chunk)
          : gatedDeltaRule(q, k, v, gates.g, gates.beta, state, tiled, scale);
  return {std::move(rule.output), std::move(conv.newState), std::move(rule.newState)};
}

Tensor rope(const Tensor &x, const std::vector<std::vector<int32_t>> &positions,
            int64_t rotaryDim, double theta, const std::vector<int64_t> &sections) {
  int64_t t = x.shape[0], n = x.shape[1], hd = x.shape[2], half = rotaryDim / 2;
  Tensor out = x;
  for (int64_t step = 0; step < t; ++step)
    for (int64_t i = 0; i < half; ++i) {
      // Interleaved M-RoPE: slot i reads the height row for i = 1 mod 3 below 3 * s_h, the width
      // row for i = 2 mod 3 below 3 * s_w, the temporal row otherwise.
      size_t row = 0;
      if (!sections.empty() && positions.size() == 3) {
        if (i % 3 == 1 && i < 3 * sections[1])
          row = 1;
        else if (i % 3 == 2 && i < 3 * sections[2])
          row = 2;
      }
      double p = positions[row][step];
      double angle = p * std::pow(theta, -2.0 * double(i) / double(rotaryDim));
      double cs = std::cos(angle), sn = std::sin(angle);
      for (int64_t head = 0; head < n; ++head) {
        const double *in = &x.data[(step * n + head) * hd];
        double *o = &out.data[(step * n + head) * hd];
        o[i] = in[i] * cs - in[i + half] * sn;
        o[i + half] = in[i + half] * cs + in[i] * sn;
      }
    }
  return out;
}

AttentionResult attention(const Tensor &q, const Tensor &k, const Tensor &v, const Tensor *gate,
                          const Tensor &keyCache, const Tensor &valueCache, int64_t position,
                          double scale) {
  int64_t t = q.shape[0], nh = q.shape[1], hd = q.shape[2], nkv = k.shape[1];
  int64_t hdv = v.shape[2], s = keyCache.shape[1];
  AttentionResult result{Tensor({t, nh, hdv}), keyCache, valueCache};
  for (int64_t step = 0; step < t; ++step)
    for (int64_t head = 0; head < nkv; ++head) {
      std::copy_n(&k.data[(step * nkv + head) * hd], hd,
                  &result.newKeyCache.data[(head * s + position + step) * hd]);
      std::copy_n(&v.data[(step * nkv + head) * hdv], hdv,
                  &result.newValueCache.data[(head * s + position + step) * hdv]);
    }
  std::vector<double> scores;
  for (int64_t step = 0; step < t; ++step)
    for (int64_t head = 0; head < nh; ++head) {
      int64_t kvHead = head / (nh / nkv), visible = position + step + 1;
      const double *qq = &q.data[(step * nh + head) * hd];
      scores.assign(size_t(visible), 0.0);
      double maxScore = -INFINITY;
      for (int64_t j = 0; j < visible; ++j) {
        const double *kk = &result.newKeyCache.data[(kvHead * s + j) * hd];
        for (int64_t d = 0; d < hd; ++d)
          scores[j] += qq[d] * kk[d];
        scores[j] *= scale;
        maxScore = std::max(maxScore, scores[j]);
      }
      double total = 0;
      for (double &sc : scores)
        total += (sc = std::exp(sc - maxScore));
      double *o = &result.output.data[(step * nh + head) * hdv];
      for (int64_t d = 0; d < hdv; ++d) {
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j)
          sum += scores[j] / total * result.newValueCache.data[(kvHead * s + j) * hdv + d];
        o[d] = gate ? sum * sigmoid(gate->data[(step * nh + head) * hdv + d]) : sum;
      }
    }
  return result;
}

/// down(silu(gate x) * up x) for one token; gate/up [I, H], down [H, I] given as row pointers.
static void swigluExpert(const double *x, const double *gate, const double *up,
                         const double *down, int64_t h, int64_t inter, double weight,
                         double *out) {
  std::vector<double> act(inter);
  for (int64_t i = 0; i < inter; ++i) {
    double gsum = 0, usum = 0;
    for (int64_t d = 0; d < h; ++d) {
      gsum += gate[i * h + d] * x[d];
      usum += up[i * h + d] * x[d];
    }
    act[i] = silu(gsum) * usum;
  }
  for (int64_t d = 0; d < h; ++d) {
    double sum = 0;
    for (int64_t i = 0; i < inter; ++i)
      sum += down[d * inter + i] * act[i];
    out[d] += weight * sum;
  }
}

Tensor moe(const Tensor &x, const MoEWeights &w, int64_t topK, bool normalize) {
  int64_t t = x.shape[0], h = x.shape[1], e = w.router.shape[0], inter = w.gate.shape[1];
  Tensor out({t, h});
  for (int64_t step = 0; step < t; ++step) {
    const double *xx = x.row(step);
    std::vector<double> p(e);
    double maxLogit = -INFINITY;
    for (int64_t i = 0; i < e; ++i) {
      for (int64_t d = 0; d < h; ++d)
        p[i] += w.router.data[i * h + d] * xx[d];
      maxLogit = std::max(maxLogit, p[i]);
    }
    double total = 0;
    for (double &pi : p)
      total += (pi = std::exp(pi - maxLogit));
    for (double &pi : p)
      pi /= total;
    std::vector<int64_t> order(e);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    double chosen = 0;
    for (int64_t i = 0; i < topK; ++i)
      chosen += p[order[i]];
    for (int64_t i = 0; i < topK; ++i) {
      int64_t ex = order[i];
      double weight = normalize ? p[ex] / chosen : p[ex];
      swigluExpert(xx, &w.gate.data[ex * inter * h], &w.up.data[ex * inter * h],
                   &w.down.data[ex * h * inter], h, inter, weight, out.row(step));
    }
    if (w.sharedGate) {
      int64_t shared = w.sharedGate->shape[0];
      double gateLogit = 0;
      for (int64_t d = 0; d < h; ++d)
        gateLogit += w.sharedExpertGate->data[d] * xx[d];
      swigluExpert(xx, w.sharedGate->data.data(), w.sharedUp->data.data(),
                   w.sharedDown->data.data(), h, shared, sigmoid(gateLogit), out.row(step));
    }
  }
  return out;
}

} // namespace deltac::ref
