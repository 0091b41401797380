//===- RuntimeOpsTest.cpp - every dc_op_* against its kernel on one range -===//
//
// Each dc_op_* splits its kernel's range across the session's threads. Run on 1, 2 and 3 threads
// (with the small-work shortcut off, so even these small shapes are split), every output, state and
// cache must equal bit for bit what the kernel writes when called once on the whole range.
//
//===----------------------------------------------------------------------===//

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace {

struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() >> 40) * 0x1p-24f; }
};

std::vector<float> floats(Rng &rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (float &x : v)
    x = rng.uniform(lo, hi);
  return v;
}

uint16_t randomF16(Rng &rng) {
  uint64_t r = rng.next();
  uint16_t sign = uint16_t((r & 1) << 15);
  uint16_t exponent = uint16_t(9 + (r >> 1) % 7); // 2^-6 .. 2^0
  uint16_t mantissa = uint16_t((r >> 8) & 0x3FF);
  return uint16_t(sign | exponent << 10 | mantissa);
}

/// `rows` x `K` weights in `dtype`, as bytes.
std::vector<uint8_t> weights(Rng &rng, uint32_t dtype, int64_t rows, int64_t K) {
  std::vector<uint8_t> out;
  auto put16 = [&](uint16_t h) {
    out.push_back(uint8_t(h));
    out.push_back(uint8_t(h >> 8));
  };
  for (int64_t r = 0; r < rows; ++r) {
    switch (dtype) {
    case DC_WS_F32:
      for (int64_t k = 0; k < K; ++k) {
        float f = rng.uniform(-0.5f, 0.5f);
        uint8_t b[4];
        std::memcpy(b, &f, 4);
        out.insert(out.end(), b, b + 4);
      }
      break;
    case DC_WS_F16:
      for (int64_t k = 0; k < K; ++k)
        put16(randomF16(rng));
      break;
    case DC_WS_BF16:
      for (int64_t k = 0; k < K; ++k) {
        float f = rng.uniform(-0.5f, 0.5f);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        put16(uint16_t(u >> 16));
      }
      break;
    default: {
      const int64_t group = dc_ws_dtype_group(dtype);
      const bool asym = dtype == DC_WS_Q4_1 || dtype == DC_WS_Q4_1_G64 || dtype == DC_WS_Q4_1_G128;
      for (int64_t b = 0; b < K / group; ++b) {
        put16(randomF16(rng)); // scale
        if (asym)
          put16(randomF16(rng)); // min
        int64_t codes = dtype == DC_WS_Q8_0 ? group : group / 2;
        for (int64_t i = 0; i < codes; ++i)
          out.push_back(uint8_t(rng.next()));
      }
    }
    }
  }
  return out;
}

const uint32_t kAllDTypes[] = {DC_WS_F32,  DC_WS_F16,  DC_WS_BF16,
                               DC_WS_Q8_0, DC_WS_Q4_0, DC_WS_Q4_1};
/// deltac's int4 groups of 64 and 128 (rows must be multiples of 128 to hold both).
const uint32_t kGroupDTypes[] = {DC_WS_Q4_0_G64, DC_WS_Q4_1_G64, DC_WS_Q4_0_G128, DC_WS_Q4_1_G128};

/// Every dtype the projection kernels take.
std::vector<uint32_t> everyDType() {
  std::vector<uint32_t> all(std::begin(kAllDTypes), std::end(kAllDTypes));
  all.insert(all.end(), std::begin(kGroupDTypes), std::end(kGroupDTypes));
  return all;
}

/// Runs `kernel` once, then `op` on 1, 2 and 3 threads, each time from the initial contents of
/// `buffers` (outputs and in-place states), and compares every buffer bit for bit.
void checkOp(const std::string &what, std::vector<std::vector<float> *> buffers,
             const std::function<void()> &kernel, const std::function<void(dc_exec *)> &op) {
  std::vector<std::vector<float>> initial;
  for (auto *b : buffers)
    initial.push_back(*b);
  kernel();
  std::vector<std::vector<float>> expected;
  for (auto *b : buffers)
    expected.push_back(*b);
  for (int32_t threads = 1; threads <= 3; ++threads) {
    for (size_t i = 0; i < buffers.size(); ++i)
      *buffers[i] = initial[i];
    dc_exec *exec = nullptr;
    ASSERT_EQ(dc_exec_create(threads, &exec), nullptr);
    dc_exec_set_min_work(exec, 0);
    op(exec);
    dc_status *error = dc_exec_take_error(exec);
    EXPECT_EQ(error, nullptr) << what << ": " << dc_status_message(error);
    dc_status_free(error);
    dc_exec_destroy(exec);
    for (size_t i = 0; i < buffers.size(); ++i) {
      ASSERT_EQ(buffers[i]->size(), expected[i].size());
      EXPECT_EQ(std::memcmp(buffers[i]->data(), expected[i].data(), expected[i].size() * 4), 0)
          << what << ": buffer " << i << " differs with " << threads << " threads";
    }
  }
}

TEST(RuntimeOps, Elementwise) {
  Rng rng(1);
  const int64_t n = 1000;
  auto a = floats(rng, n), b = floats(rng, n);
  std::vector<float> y(n, NAN);
  checkOp(
      "add", {&y}, [&] { dc_k_add_f32(a.data(), b.data(), 0, n, y.data()); },
      [&](dc_exec *e) { dc_op_add(e, a.data(), b.data(), n, y.data()); });
  checkOp(
      "swiglu", {&y}, [&] { dc_k_swiglu_f32(a.data(), b.data(), 0, n, y.data()); },
      [&](dc_exec *e) { dc_op_swiglu(e, a.data(), b.data(), n, y.data()); });
}

TEST(RuntimeOps, Norms) {
  Rng rng(2);
  const int64_t rows = 7, d = 100;
  auto x = floats(rng, rows * d), z = floats(rng, rows * d), w = floats(rng, d);
  std::vector<float> y(rows * d, NAN);
  for (int32_t mode : {DC_K_NORM_PLAIN, DC_K_NORM_ONE_PLUS})
    checkOp(
        "rms_norm", {&y},
        [&] { dc_k_rms_norm_f32(x.data(), w.data(), d, mode, 1e-6f, 0, rows, y.data()); },
        [&](dc_exec *e) { dc_op_rms_norm(e, x.data(), w.data(), rows, d, mode, 1e-6f, y.data()); });
  checkOp(
      "l2_norm", {&y}, [&] { dc_k_l2_norm_f32(x.data(), d, 1e-6f, 0, rows, y.data()); },
      [&](dc_exec *e) { dc_op_l2_norm(e, x.data(), rows, d, 1e-6f, y.data()); });
  checkOp(
      "gated_rms_norm", {&y},
      [&] {
        dc_k_gated_rms_norm_f32(x.data(), z.data(), 1, d, w.data(), d, 1e-6f, 0, rows, y.data());
      },
      [&](dc_exec *e) {
        dc_op_gated_rms_norm(e, x.data(), z.data(), 1, d, w.data(), rows, d, 1e-6f, y.data());
      });
}

TEST(RuntimeOps, Columns) {
  Rng rng(3);
  const int64_t rows = 5, wide = 20, offset = 3, width = 7;
  auto x = floats(rng, rows * wide);
  std::vector<float> slice(rows * width, NAN);
  checkOp(
      "slice_columns", {&slice},
      [&] {
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < width; ++c)
            slice[r * width + c] = x[r * wide + offset + c];
      },
      [&](dc_exec *e) {
        dc_op_slice_columns(e, x.data(), rows, wide, offset, width, slice.data());
      });
  auto narrow = floats(rng, rows * width);
  auto placed = floats(rng, rows * wide); // columns outside the window keep their values
  checkOp(
      "place_columns", {&placed},
      [&] {
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < width; ++c)
            placed[r * wide + offset + c] = narrow[r * width + c];
      },
      [&](dc_exec *e) {
        dc_op_place_columns(e, narrow.data(), rows, width, offset, wide, placed.data());
      });
}

TEST(RuntimeOps, EmbeddingEveryDType) {
  Rng rng(4);
  const int64_t V = 50, H = 128, T = 9;
  std::vector<int32_t> ids = {0, 49, 7, 7, -1, 50, 13, 1, 30}; // out-of-range ids: zero rows
  for (uint32_t dtype : everyDType()) {
    auto table = weights(rng, dtype, V, H);
    std::vector<float> y(T * H, NAN);
    auto kernel = [&] {
      const void *t = table.data();
      switch (dtype) {
      case DC_WS_F32:
        dc_k_embedding_f32_f32((const float *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_F16:
        dc_k_embedding_f32_f16((const uint16_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_BF16:
        dc_k_embedding_f32_bf16((const uint16_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q8_0:
        dc_k_embedding_f32_q8_0((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q4_0:
        dc_k_embedding_f32_q4_0((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q4_1:
        dc_k_embedding_f32_q4_1((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q4_0_G64:
        dc_k_embedding_f32_q4_0_g64((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q4_1_G64:
        dc_k_embedding_f32_q4_1_g64((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q4_0_G128:
        dc_k_embedding_f32_q4_0_g128((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      case DC_WS_Q4_1_G128:
        dc_k_embedding_f32_q4_1_g128((const uint8_t *)t, V, H, ids.data(), 0, T, y.data());
        break;
      }
    };
    checkOp("embedding " + std::string(dc_ws_dtype_name(dtype)), {&y}, kernel, [&](dc_exec *e) {
      dc_op_embedding(e, dtype, table.data(), V, H, ids.data(), T, y.data());
    });
  }
}

TEST(RuntimeOps, LinearAndLmHeadEveryDType) {
  Rng rng(5);
  const int64_t T = 5, K = 128, N = 50;
  auto x = floats(rng, T * K);
  for (uint32_t dtype : everyDType()) {
    auto w = weights(rng, dtype, N, K);
    std::vector<float> y(T * N, NAN);
    auto linear = [&] {
      const void *p = w.data();
      switch (dtype) {
      case DC_WS_F32:
        dc_k_linear_f32_f32(x.data(), T, K, (const float *)p, N, 0, N, y.data());
        break;
      case DC_WS_F16:
        dc_k_linear_f32_f16(x.data(), T, K, (const uint16_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_BF16:
        dc_k_linear_f32_bf16(x.data(), T, K, (const uint16_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q8_0:
        dc_k_linear_f32_q8_0(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_0:
        dc_k_linear_f32_q4_0(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_1:
        dc_k_linear_f32_q4_1(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_0_G64:
        dc_k_linear_f32_q4_0_g64(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_1_G64:
        dc_k_linear_f32_q4_1_g64(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_0_G128:
        dc_k_linear_f32_q4_0_g128(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_1_G128:
        dc_k_linear_f32_q4_1_g128(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      }
    };
    checkOp("linear " + std::string(dc_ws_dtype_name(dtype)), {&y}, linear,
            [&](dc_exec *e) { dc_op_linear(e, dtype, x.data(), T, K, w.data(), N, y.data()); });
    auto lmHead = [&] {
      const void *p = w.data();
      switch (dtype) {
      case DC_WS_F32:
        dc_k_lm_head_f32_f32(x.data(), T, K, (const float *)p, N, 0, N, y.data());
        break;
      case DC_WS_F16:
        dc_k_lm_head_f32_f16(x.data(), T, K, (const uint16_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_BF16:
        dc_k_lm_head_f32_bf16(x.data(), T, K, (const uint16_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q8_0:
        dc_k_lm_head_f32_q8_0(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_0:
        dc_k_lm_head_f32_q4_0(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_1:
        dc_k_lm_head_f32_q4_1(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_0_G64:
        dc_k_lm_head_f32_q4_0_g64(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_1_G64:
        dc_k_lm_head_f32_q4_1_g64(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_0_G128:
        dc_k_lm_head_f32_q4_0_g128(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      case DC_WS_Q4_1_G128:
        dc_k_lm_head_f32_q4_1_g128(x.data(), T, K, (const uint8_t *)p, N, 0, N, y.data());
        break;
      }
    };
    checkOp("lm_head " + std::string(dc_ws_dtype_name(dtype)), {&y}, lmHead,
            [&](dc_exec *e) { dc_op_lm_head(e, dtype, x.data(), T, K, w.data(), N, y.data()); });
  }
}

TEST(RuntimeOps, CausalConv1dUpdatesTheStateInPlace) {
  Rng rng(6);
  const int64_t T = 6, C = 40, K = 4;
  auto x = floats(rng, T * C), w = floats(rng, C * K);
  for (int32_t act : {DC_K_ACT_NONE, DC_K_ACT_SILU}) {
    auto state = floats(rng, (K - 1) * C);
    std::vector<float> y(T * C, NAN);
    checkOp(
        "causal_conv1d", {&y, &state},
        [&] {
          dc_k_causal_conv1d_f32(x.data(), T, C, w.data(), K, state.data(), act, 0, C, y.data(),
                                 state.data());
        },
        [&](dc_exec *e) {
          dc_op_causal_conv1d(e, x.data(), T, C, w.data(), K, act, state.data(), y.data());
        });
  }
}

TEST(RuntimeOps, GdnGates) {
  Rng rng(7);
  const int64_t T = 7, nv = 6;
  auto a = floats(rng, T * nv, -3, 3), b = floats(rng, T * nv, -3, 3);
  auto decay = floats(rng, nv, -1, 1), bias = floats(rng, nv);
  for (int32_t form : {DC_K_DECAY_A_LOG, DC_K_DECAY_NEG_EXP}) {
    std::vector<float> g(T * nv, NAN), beta(T * nv, NAN);
    checkOp(
        "gdn_gates", {&g, &beta},
        [&] {
          dc_k_gdn_gates_f32(a.data(), b.data(), decay.data(), bias.data(), nv, form, 0, T,
                             g.data(), beta.data());
        },
        [&](dc_exec *e) {
          dc_op_gdn_gates(e, a.data(), b.data(), decay.data(), bias.data(), T, nv, form, g.data(),
                          beta.data());
        });
  }
}

TEST(RuntimeOps, GatedDeltaRuleRecurrentForOneTokenChunkedForMore) {
  Rng rng(8);
  const int64_t nk = 2, nv = 4, dk = 16, dv = 8;
  for (int64_t T : {1, 70}) {
    for (int32_t mapping : {DC_K_HEADS_GROUPED, DC_K_HEADS_TILED}) {
      auto q = floats(rng, T * nk * dk, -0.25f, 0.25f), k = floats(rng, T * nk * dk, -0.25f, 0.25f);
      auto v = floats(rng, T * nv * dv), g = floats(rng, T * nv, -1.0f, 0.0f);
      auto beta = floats(rng, T * nv, 0.0f, 1.0f);
      auto state = floats(rng, nv * dk * dv, -0.1f, 0.1f);
      std::vector<float> out(T * nv * dv, NAN);
      std::vector<uint8_t> scratchBytes;
      auto kernel = [&] {
        if (T == 1) {
          dc_k_gated_delta_rule_recurrent_f32(q.data(), k.data(), v.data(), g.data(), beta.data(),
                                              T, nk, nv, dk, dv, mapping, 0.25f, state.data(), 0,
                                              nv, out.data(), state.data());
          return;
        }
        void *scratch =
            dc_alloc_aligned(size_t(dc_k_gated_delta_rule_chunked_f32_scratch_bytes(dk, dv)));
        dc_k_gated_delta_rule_chunked_f32(q.data(), k.data(), v.data(), g.data(), beta.data(), T,
                                          nk, nv, dk, dv, mapping, 0.25f, state.data(), 0, nv,
                                          scratch, out.data(), state.data());
        free(scratch);
      };
      checkOp("gated_delta_rule T=" + std::to_string(T), {&out, &state}, kernel, [&](dc_exec *e) {
        dc_op_gated_delta_rule(e, q.data(), k.data(), v.data(), g.data(), beta.data(), T, nk, nv,
                               dk, dv, mapping, 0.25f, DC_WS_F32, state.data(), out.data());
        if (T > 1) {
          EXPECT_GE(e->scratch_bytes, dc_k_gated_delta_rule_chunked_f32_scratch_bytes(dk, dv));
        }
      });
    }
  }
}

/// The linear epilogue kernel of `dtype` on output columns [begin, end).
void linearEpilogueKernel(uint32_t dtype, const float *x, int64_t T, int64_t K, const void *w,
                          int64_t N, int32_t epilogue, const float *residual, int64_t begin,
                          int64_t end, float *y) {
  switch (dtype) {
  case DC_WS_F32:
    dc_k_linear_epilogue_f32_f32(x, T, K, (const float *)w, N, epilogue, residual, begin, end, y);
    break;
  case DC_WS_F16:
    dc_k_linear_epilogue_f32_f16(x, T, K, (const uint16_t *)w, N, epilogue, residual, begin, end,
                                 y);
    break;
  case DC_WS_BF16:
    dc_k_linear_epilogue_f32_bf16(x, T, K, (const uint16_t *)w, N, epilogue, residual, begin, end,
                                  y);
    break;
  case DC_WS_Q8_0:
    dc_k_linear_epilogue_f32_q8_0(x, T, K, (const uint8_t *)w, N, epilogue, residual, begin, end,
                                  y);
    break;
  case DC_WS_Q4_0:
    dc_k_linear_epilogue_f32_q4_0(x, T, K, (const uint8_t *)w, N, epilogue, residual, begin, end,
                                  y);
    break;
  case DC_WS_Q4_1:
    dc_k_linear_epilogue_f32_q4_1(x, T, K, (const uint8_t *)w, N, epilogue, residual, begin, end,
                                  y);
    break;
  }
}

TEST(RuntimeOps, LinearEpilogueEveryDType) {
  Rng rng(11);
  const int64_t T = 5, K = 64, N = 50;
  auto x = floats(rng, T * K), residual = floats(rng, T * N);
  for (uint32_t dtype : kAllDTypes)
    for (int32_t epilogue : {DC_K_EPILOGUE_NONE, DC_K_EPILOGUE_SWIGLU})
      for (bool withResidual : {false, true}) {
        if (epilogue == DC_K_EPILOGUE_NONE && !withResidual)
          continue; // the plain linear, tested above
        const int64_t rows = epilogue == DC_K_EPILOGUE_SWIGLU ? 2 * N : N;
        auto w = weights(rng, dtype, rows, K);
        const float *r = withResidual ? residual.data() : nullptr;
        std::vector<float> y(T * N, NAN);
        checkOp(
            "linear_epilogue " + std::string(dc_ws_dtype_name(dtype)) + " epilogue " +
                std::to_string(epilogue) + (withResidual ? " residual" : ""),
            {&y},
            [&] {
              linearEpilogueKernel(dtype, x.data(), T, K, w.data(), N, epilogue, r, 0, N, y.data());
            },
            [&](dc_exec *e) {
              dc_op_linear_epilogue(e, dtype, x.data(), T, K, w.data(), N, epilogue, r, y.data());
            });
      }
}

TEST(RuntimeOps, GatedDeltaNetSplitsKeyHeadsAndUpdatesBothStates) {
  Rng rng(12);
  const int64_t nk = 4, nv = 8, dk = 16, dv = 8, K = 4, C = 2 * nk * dk + nv * dv;
  for (int64_t T : {1, 70}) {
    for (int32_t mapping : {DC_K_HEADS_GROUPED, DC_K_HEADS_TILED}) {
      auto qkv = floats(rng, T * C), a = floats(rng, T * nv, -3, 3), b = floats(rng, T * nv, -3, 3);
      auto w = floats(rng, C * K), decay = floats(rng, nv, -1, 1), bias = floats(rng, nv);
      auto convState = floats(rng, (K - 1) * C), state = floats(rng, nv * dk * dv, -0.1f, 0.1f);
      std::vector<float> out(T * nv * dv, NAN);
      auto kernel = [&] {
        void *scratch = dc_alloc_aligned(size_t(dc_k_gated_delta_net_f32_scratch_bytes(T, dk, dv)));
        dc_k_gated_delta_net_f32(qkv.data(), C, a.data(), nv, b.data(), nv, T, nk, nv, dk, dv,
                                 w.data(), K, convState.data(), decay.data(), bias.data(),
                                 DC_K_DECAY_A_LOG, mapping, 0.25f, 1e-6f, state.data(), 0, nk,
                                 scratch, out.data(), convState.data(), state.data());
        free(scratch);
      };
      checkOp("gated_delta_net T=" + std::to_string(T), {&out, &convState, &state}, kernel,
              [&](dc_exec *e) {
                dc_op_gated_delta_net(e, qkv.data(), C, a.data(), nv, b.data(), nv, T, nk, nv, dk,
                                      dv, w.data(), K, decay.data(), bias.data(), DC_K_DECAY_A_LOG,
                                      mapping, 0.25f, 1e-6f, convState.data(), DC_WS_F32,
                                      state.data(), out.data());
                EXPECT_GE(e->scratch_bytes, dc_k_gated_delta_net_f32_scratch_bytes(T, dk, dv));
              });
    }
  }
}

TEST(RuntimeOps, FusedOpsRefuseBadArguments) {
  dc_exec *exec = nullptr;
  ASSERT_EQ(dc_exec_create(2, &exec), nullptr);
  std::vector<float> x(64, 1.0f), y(4, 7.0f);
  std::vector<uint8_t> w(4096, 0);
  dc_op_linear_epilogue(exec, DC_WS_F32, x.data(), 1, 32, w.data(), 2, 7, nullptr, y.data());
  dc_status *error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("unknown epilogue"), std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  dc_op_linear_epilogue(exec, DC_WS_Q4_0, x.data(), 1, 33, w.data(), 2, DC_K_EPILOGUE_SWIGLU,
                        nullptr, y.data());
  error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("multiple of 32"), std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  dc_op_gated_delta_net(exec, x.data(), 40, x.data(), 4, x.data(), 4, 1, 3, 4, 4, 4, x.data(), 4,
                        x.data(), x.data(), DC_K_DECAY_A_LOG, DC_K_HEADS_GROUPED, 0.5f, 1e-6f,
                        y.data(), DC_WS_F32, y.data(), y.data());
  error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("do not fit"), std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  EXPECT_EQ(y[0], 7.0f);
  dc_exec_destroy(exec);
}

/// x rounded to f16 storage, and f16 storage widened back.
std::vector<uint16_t> halves(const std::vector<float> &x) {
  std::vector<uint16_t> h(x.size());
  dc_k_convert_f32_f16(x.data(), 0, int64_t(x.size()), h.data());
  return h;
}

std::vector<float> widened(const std::vector<uint16_t> &h) {
  std::vector<float> x(h.size());
  dc_k_convert_f16_f32(h.data(), 0, int64_t(h.size()), x.data());
  return x;
}

/// Runs `op` on a one-thread context and checks that it records an error saying `what`.
void expectOpFails(const std::string &what, const std::function<void(dc_exec *)> &op) {
  dc_exec *exec = nullptr;
  ASSERT_EQ(dc_exec_create(1, &exec), nullptr);
  op(exec);
  dc_status *error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr) << "no error for " << what;
  EXPECT_NE(std::string(dc_status_message(error)).find(what), std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  dc_exec_destroy(exec);
}

/// The fused Gated DeltaNet reading qkv, b and a as views into the columns of one merged projection
/// [T, C | z | b | a] (the buffer planner's split views, docs/design/compile.md, "Split results as
/// views"), on 1 and 2 threads and both state storages: bit for bit what it computes from dense
/// copies of the same columns.
TEST(RuntimeOps, GatedDeltaNetReadsViewsIntoAMergedProjection) {
  Rng rng(21);
  const int64_t nk = 2, nv = 4, dk = 16, dv = 8, K = 4, C = 2 * nk * dk + nv * dv;
  const int64_t zWidth = nv * dv, N = C + zWidth + 2 * nv;
  for (int64_t T : {1, 70}) {
    const std::vector<float> merged = floats(rng, T * N);
    // Dense copies of the columns the views cover.
    std::vector<float> qkv(T * C), b(T * nv), a(T * nv);
    for (int64_t t = 0; t < T; ++t) {
      std::copy_n(&merged[t * N], C, &qkv[t * C]);
      std::copy_n(&merged[t * N + C + zWidth], nv, &b[t * nv]);
      std::copy_n(&merged[t * N + C + zWidth + nv], nv, &a[t * nv]);
    }
    auto w = floats(rng, C * K), decay = floats(rng, nv, -1, 1), bias = floats(rng, nv);
    const std::vector<float> conv0 = floats(rng, (K - 1) * C);
    const std::vector<float> state0 = floats(rng, nv * dk * dv, -0.1f, 0.1f);
    for (uint32_t dtype : {uint32_t(DC_WS_F32), uint32_t(DC_WS_F16)})
      for (int32_t threads : {1, 2}) {
        // out, conv state and state bytes after one call on the given operands.
        auto run = [&](const float *q, int64_t qStride, const float *av, const float *bv,
                       int64_t abStride) {
          std::vector<float> out(T * nv * dv, NAN), conv = conv0;
          std::vector<uint16_t> state16 = halves(state0);
          std::vector<float> state32 = state0;
          void *state = dtype == DC_WS_F16 ? (void *)state16.data() : (void *)state32.data();
          dc_exec *exec = nullptr;
          EXPECT_EQ(dc_exec_create(threads, &exec), nullptr);
          dc_exec_set_min_work(exec, 0);
          dc_op_gated_delta_net(exec, q, qStride, av, abStride, bv, abStride, T, nk, nv, dk, dv,
                                w.data(), K, decay.data(), bias.data(), DC_K_DECAY_NEG_EXP,
                                DC_K_HEADS_TILED, 0.25f, 1e-6f, conv.data(), dtype, state,
                                out.data());
          dc_status *error = dc_exec_take_error(exec);
          EXPECT_EQ(error, nullptr) << dc_status_message(error);
          dc_status_free(error);
          dc_exec_destroy(exec);
          std::vector<float> stateOut = dtype == DC_WS_F16 ? widened(state16) : state32;
          return std::make_tuple(out, conv, stateOut);
        };
        auto dense = run(qkv.data(), C, a.data(), b.data(), nv);
        auto views =
            run(merged.data(), N, merged.data() + C + zWidth + nv, merged.data() + C + zWidth, N);
        const std::string what = "T=" + std::to_string(T) + " " + dc_ws_dtype_name(dtype) + ", " +
                                 std::to_string(threads) + " threads";
        EXPECT_TRUE(std::isfinite(std::get<0>(dense)[0])) << what;
        EXPECT_EQ(std::memcmp(std::get<0>(views).data(), std::get<0>(dense).data(),
                              std::get<0>(dense).size() * 4),
                  0)
            << what;
        EXPECT_EQ(std::get<1>(views), std::get<1>(dense)) << what;
        EXPECT_EQ(std::get<2>(views), std::get<2>(dense)) << what;
      }
  }
}

/// The gated norm's gate read as a view: z_heads rows of d per token, tokens z_stride apart.
TEST(RuntimeOps, GatedRmsNormReadsAStridedGate) {
  Rng rng(22);
  const int64_t T = 9, heads = 3, d = 16, stride = heads * d + 21, rows = T * heads;
  auto x = floats(rng, rows * d), w = floats(rng, d), wide = floats(rng, T * stride);
  std::vector<float> z(rows * d);
  for (int64_t t = 0; t < T; ++t)
    std::copy_n(&wide[t * stride + 5], heads * d, &z[t * heads * d]);
  std::vector<float> want(rows * d, NAN), got(rows * d, NAN);
  dc_k_gated_rms_norm_f32(x.data(), z.data(), 1, d, w.data(), d, 1e-6f, 0, rows, want.data());
  checkOp(
      "gated_rms_norm, strided gate", {&got},
      [&] {
        dc_k_gated_rms_norm_f32(x.data(), wide.data() + 5, heads, stride, w.data(), d, 1e-6f, 0,
                                rows, got.data());
      },
      [&](dc_exec *e) {
        dc_op_gated_rms_norm(e, x.data(), wide.data() + 5, heads, stride, w.data(), rows, d, 1e-6f,
                             got.data());
      });
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * 4), 0);
  expectOpFails("cannot be", [&](dc_exec *e) {
    dc_op_gated_rms_norm(e, x.data(), z.data(), heads, heads * d - 1, w.data(), rows, d, 1e-6f,
                         got.data());
  });
}

/// Both Gated DeltaNet ops on an f16 state (--recurrent-state-type=f16), on 1 to 3 threads: the
/// outputs of the f32 op on the widened state, bit for bit, and its new state rounded once.
TEST(RuntimeOps, F16StateIsTheF32StateRoundedOnce) {
  Rng rng(13);
  const int64_t nk = 2, nv = 4, dk = 16, dv = 8, K = 4, C = 2 * nk * dk + nv * dv;
  const int64_t S = nv * dk * dv;
  for (int64_t T : {1, 70}) {
    auto qkv = floats(rng, T * C), a = floats(rng, T * nv, -3, 3), b = floats(rng, T * nv, -3, 3);
    auto w = floats(rng, C * K), decay = floats(rng, nv, -1, 1), bias = floats(rng, nv);
    auto q = floats(rng, T * nk * dk, -0.25f, 0.25f), k = floats(rng, T * nk * dk, -0.25f, 0.25f);
    auto v = floats(rng, T * nv * dv), g = floats(rng, T * nv, -1.0f, 0.0f);
    auto beta = floats(rng, T * nv, 0.0f, 1.0f);
    const std::vector<float> conv0 = floats(rng, (K - 1) * C);
    const std::vector<uint16_t> state0 = halves(floats(rng, S, -0.1f, 0.1f));
    for (bool fused : {true, false}) {
      // out, conv state (fused only) and state after one call of the op on `state`.
      auto run = [&](int32_t threads, uint32_t dtype, void *state, std::vector<float> &out,
                     std::vector<float> &conv) {
        dc_exec *exec = nullptr;
        ASSERT_EQ(dc_exec_create(threads, &exec), nullptr);
        dc_exec_set_min_work(exec, 0);
        if (fused)
          dc_op_gated_delta_net(exec, qkv.data(), C, a.data(), nv, b.data(), nv, T, nk, nv, dk, dv,
                                w.data(), K, decay.data(), bias.data(), DC_K_DECAY_A_LOG,
                                DC_K_HEADS_GROUPED, 0.25f, 1e-6f, conv.data(), dtype, state,
                                out.data());
        else
          dc_op_gated_delta_rule(exec, q.data(), k.data(), v.data(), g.data(), beta.data(), T, nk,
                                 nv, dk, dv, DC_K_HEADS_TILED, 0.25f, dtype, state, out.data());
        dc_status *error = dc_exec_take_error(exec);
        EXPECT_EQ(error, nullptr) << dc_status_message(error);
        dc_status_free(error);
        dc_exec_destroy(exec);
      };
      std::vector<float> wantOut(T * nv * dv, NAN), wantConv = conv0, state32 = widened(state0);
      run(1, DC_WS_F32, state32.data(), wantOut, wantConv);
      const std::vector<uint16_t> wantState = halves(state32);
      for (int32_t threads = 1; threads <= 3; ++threads) {
        std::vector<float> out(T * nv * dv, NAN), conv = conv0;
        std::vector<uint16_t> state = state0;
        run(threads, DC_WS_F16, state.data(), out, conv);
        const std::string what = std::string(fused ? "gated_delta_net" : "gated_delta_rule") +
                                 " T=" + std::to_string(T) + ", " + std::to_string(threads) +
                                 " threads";
        EXPECT_EQ(std::memcmp(out.data(), wantOut.data(), out.size() * 4), 0) << what;
        EXPECT_EQ(std::memcmp(conv.data(), wantConv.data(), conv.size() * 4), 0) << what;
        EXPECT_EQ(state, wantState) << what;
      }
    }
  }

  std::vector<float> x(4096, 0.5f);
  expectOpFails("unsupported state dtype", [&](dc_exec *exec) {
    dc_op_gated_delta_rule(exec, x.data(), x.data(), x.data(), x.data(), x.data(), 1, 1, 1, 4, 4,
                           DC_K_HEADS_GROUPED, 0.5f, DC_WS_BF16, x.data(), x.data());
  });
}

TEST(RuntimeOps, Rope) {
  Rng rng(9);
  const int64_t T = 5, n = 3, hd = 16, rotary = 8;
  auto x = floats(rng, T * n * hd);
  std::vector<int32_t> positions = {0, 1, 17, 4096, 262143};
  std::vector<float> y(T * n * hd, NAN);
  checkOp(
      "rope", {&y},
      [&] { dc_k_rope_f32(x.data(), n, hd, positions.data(), rotary, 1e7, 0, T, y.data()); },
      [&](dc_exec *e) {
        dc_op_rope(e, x.data(), T, n, hd, positions.data(), rotary, 1e7, y.data());
      });
}

TEST(RuntimeOps, AttentionAppendsToTheCaches) {
  Rng rng(10);
  const int64_t nh = 6, nkv = 2, hd = 16, hdv = 8, S = 20, position = 5;
  // T = 3 streams the keys per query; T = 9 takes the tiled prefill path and its scratch.
  for (int64_t T : {3, 9})
    for (bool gated : {false, true}) {
      auto q = floats(rng, T * nh * hd), k = floats(rng, T * nkv * hd);
      auto v = floats(rng, T * nkv * hdv), gate = floats(rng, T * nh * hdv);
      std::vector<float> keys(nkv * S * hd, NAN), values(nkv * S * hdv, NAN);
      for (int64_t h = 0; h < nkv; ++h)
        for (int64_t j = 0; j < position; ++j) {
          for (int64_t i = 0; i < hd; ++i)
            keys[(h * S + j) * hd + i] = rng.uniform(-1, 1);
          for (int64_t i = 0; i < hdv; ++i)
            values[(h * S + j) * hdv + i] = rng.uniform(-1, 1);
        }
      std::vector<float> out(T * nh * hdv, NAN);
      const float *g = gated ? gate.data() : nullptr;
      checkOp(
          "attention", {&out, &keys, &values},
          [&] {
            void *scratch = dc_alloc_aligned(size_t(dc_k_attention_f32_scratch_bytes(hd, hdv)));
            ASSERT_NE(scratch, nullptr);
            dc_k_attention_f32(q.data(), k.data(), v.data(), g, T, nh, nkv, hd, hdv, 0.25f,
                               keys.data(), values.data(), S, position, 0, nh, scratch, out.data());
            free(scratch);
          },
          [&](dc_exec *e) {
            dc_op_attention(e, q.data(), k.data(), v.data(), g, T, nh, nkv, hd, hdv, 0.25f,
                            DC_WS_F32, keys.data(), values.data(), S, position, out.data());
          });
    }
}

/// dc_op_attention on f16 caches (--kv-cache-type=f16), decode and prefill, on 1 to 3 threads: the
/// f16 kernel's output and caches over all heads in one call, bit for bit; a dtype it does not
/// have is refused.
TEST(RuntimeOps, AttentionOnAnF16CacheIsTheF16Kernel) {
  Rng rng(14);
  const int64_t nh = 6, nkv = 2, hd = 16, hdv = 8, S = 20, position = 5;
  for (int64_t T : {1, 9}) {
    auto q = floats(rng, T * nh * hd), k = floats(rng, T * nkv * hd);
    auto v = floats(rng, T * nkv * hdv), gate = floats(rng, T * nh * hdv);
    const std::vector<uint16_t> keys0 = halves(floats(rng, nkv * S * hd));
    const std::vector<uint16_t> values0 = halves(floats(rng, nkv * S * hdv));
    std::vector<float> want(T * nh * hdv, NAN);
    std::vector<uint16_t> wantKeys = keys0, wantValues = values0;
    void *scratch = dc_alloc_aligned(size_t(dc_k_attention_f32_scratch_bytes(hd, hdv)));
    ASSERT_NE(scratch, nullptr);
    dc_k_attention_f32_cache_f16(q.data(), k.data(), v.data(), gate.data(), T, nh, nkv, hd, hdv,
                                 0.25f, wantKeys.data(), wantValues.data(), S, position, 0, nh,
                                 scratch, want.data());
    free(scratch);
    for (int32_t threads = 1; threads <= 3; ++threads) {
      dc_exec *exec = nullptr;
      ASSERT_EQ(dc_exec_create(threads, &exec), nullptr);
      dc_exec_set_min_work(exec, 0);
      std::vector<float> out(T * nh * hdv, NAN);
      std::vector<uint16_t> keys = keys0, values = values0;
      dc_op_attention(exec, q.data(), k.data(), v.data(), gate.data(), T, nh, nkv, hd, hdv, 0.25f,
                      DC_WS_F16, keys.data(), values.data(), S, position, out.data());
      dc_status *error = dc_exec_take_error(exec);
      EXPECT_EQ(error, nullptr) << dc_status_message(error);
      dc_status_free(error);
      dc_exec_destroy(exec);
      const std::string what =
          "T=" + std::to_string(T) + ", " + std::to_string(threads) + " threads";
      EXPECT_EQ(std::memcmp(out.data(), want.data(), out.size() * 4), 0) << what;
      EXPECT_EQ(keys, wantKeys) << what;
      EXPECT_EQ(values, wantValues) << what;
    }
  }

  std::vector<float> x(4096, 0.5f);
  expectOpFails("unsupported KV cache dtype", [&](dc_exec *exec) {
    dc_op_attention(exec, x.data(), x.data(), x.data(), nullptr, 1, 1, 1, 4, 4, 0.5f, DC_WS_BF16,
                    x.data(), x.data(), 8, 0, x.data());
  });
}

TEST(RuntimeOps, MoeEveryDType) {
  Rng rng(11);
  const int64_t T = 5, H = 128, E = 4, I = 128, topK = 2;
  auto x = floats(rng, T * H), router = floats(rng, E * H), sharedGate = floats(rng, H);
  for (uint32_t dtype : everyDType()) {
    auto gate = weights(rng, dtype, E * I, H), up = weights(rng, dtype, E * I, H);
    auto down = weights(rng, dtype, E * H, I);
    auto sGate = weights(rng, dtype, I, H), sUp = weights(rng, dtype, I, H);
    auto sDown = weights(rng, dtype, H, I);
    for (bool shared : {false, true}) {
      const int64_t Is = shared ? I : 0;
      const void *sg = shared ? sGate.data() : nullptr, *su = shared ? sUp.data() : nullptr,
                 *sd = shared ? sDown.data() : nullptr;
      const float *seg = shared ? sharedGate.data() : nullptr;
      std::vector<float> out(T * H, NAN);
      auto kernel = [&] {
        void *scratch = dc_alloc_aligned(size_t(dc_k_moe_f32_scratch_bytes(H, E, I, Is)));
#define MOE(fn, type)                                                                              \
  fn(x.data(), H, router.data(), E, (const type *)gate.data(), (const type *)up.data(),            \
     (const type *)down.data(), I, topK, 1, (const type *)sg, (const type *)su, (const type *)sd,  \
     seg, Is, 0, T, scratch, out.data())
        switch (dtype) {
        case DC_WS_F32:
          MOE(dc_k_moe_f32_f32, float);
          break;
        case DC_WS_F16:
          MOE(dc_k_moe_f32_f16, uint16_t);
          break;
        case DC_WS_BF16:
          MOE(dc_k_moe_f32_bf16, uint16_t);
          break;
        case DC_WS_Q8_0:
          MOE(dc_k_moe_f32_q8_0, uint8_t);
          break;
        case DC_WS_Q4_0:
          MOE(dc_k_moe_f32_q4_0, uint8_t);
          break;
        case DC_WS_Q4_1:
          MOE(dc_k_moe_f32_q4_1, uint8_t);
          break;
        case DC_WS_Q4_0_G64:
          MOE(dc_k_moe_f32_q4_0_g64, uint8_t);
          break;
        case DC_WS_Q4_1_G64:
          MOE(dc_k_moe_f32_q4_1_g64, uint8_t);
          break;
        case DC_WS_Q4_0_G128:
          MOE(dc_k_moe_f32_q4_0_g128, uint8_t);
          break;
        case DC_WS_Q4_1_G128:
          MOE(dc_k_moe_f32_q4_1_g128, uint8_t);
          break;
        }
#undef MOE
        free(scratch);
      };
      checkOp("moe " + std::string(dc_ws_dtype_name(dtype)) + (shared ? " shared" : ""), {&out},
              kernel, [&](dc_exec *e) {
                dc_op_moe(e, dtype, x.data(), T, H, router.data(), E, gate.data(), up.data(),
                          down.data(), I, topK, 1, sg, su, sd, seg, Is, out.data());
              });
    }
  }
}

/// The q8act kernel of `dtype` (a block-quantized dtype): plain linear, lm_head, or the epilogue
/// form when `epilogue` >= 0.
void q8actKernel(uint32_t dtype, int lmHead, int32_t epilogue, const float *x, int64_t T, int64_t K,
                 const void *w, int64_t N, const float *residual, void *scratch, float *y) {
  const uint8_t *b = static_cast<const uint8_t *>(w);
#define DC_Q8ACT(name)                                                                             \
  do {                                                                                             \
    if (epilogue >= 0)                                                                             \
      dc_k_linear_epilogue_q8act_##name(x, T, K, b, N, epilogue, residual, 0, N, scratch, y);      \
    else if (lmHead)                                                                               \
      dc_k_lm_head_q8act_##name(x, T, K, b, N, 0, N, scratch, y);                                  \
    else                                                                                           \
      dc_k_linear_q8act_##name(x, T, K, b, N, 0, N, scratch, y);                                   \
  } while (0)
  switch (dtype) {
  case DC_WS_Q8_0:
    DC_Q8ACT(q8_0);
    break;
  case DC_WS_Q4_0:
    DC_Q8ACT(q4_0);
    break;
  case DC_WS_Q4_1:
    DC_Q8ACT(q4_1);
    break;
  case DC_WS_Q4_0_G64:
    DC_Q8ACT(q4_0_g64);
    break;
  case DC_WS_Q4_1_G64:
    DC_Q8ACT(q4_1_g64);
    break;
  case DC_WS_Q4_0_G128:
    DC_Q8ACT(q4_0_g128);
    break;
  case DC_WS_Q4_1_G128:
    DC_Q8ACT(q4_1_g128);
    break;
  case DC_WS_Q8_0_PACKED:
    DC_Q8ACT(q8_0_packed);
    break;
  case DC_WS_Q4_0_PACKED:
    DC_Q8ACT(q4_0_packed);
    break;
  case DC_WS_Q4_0_X8:
    DC_Q8ACT(q4_0_x8);
    break;
  }
#undef DC_Q8ACT
}

/// `rows` packed rows of K values (kernel_abi.h, "Packed rows"): random code bytes (any byte is a
/// valid code or nibble pair, in either Q4 order), then K / 32 f16 scales.
std::vector<uint8_t> packedWeights(Rng &rng, uint32_t dtype, int64_t rows, int64_t K) {
  const int64_t codes = dtype == DC_WS_Q8_0_PACKED ? K : K / 2;
  std::vector<uint8_t> out;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < codes; ++i)
      out.push_back(uint8_t(rng.next()));
    for (int64_t b = 0; b < K / 32; ++b) {
      const uint16_t h = randomF16(rng);
      out.push_back(uint8_t(h));
      out.push_back(uint8_t(h >> 8));
    }
  }
  return out;
}

/// Checks one q8act op (epilogue -1: linear, -2: lm_head, else linear_epilogue) on x [T, K] and
/// the weight w (N rows, 2N for SwiGLU) against one kernel call over the whole range; the outputs
/// must all be written (finite: the weights' scales are).
void checkQ8Act(const std::string &what, uint32_t dtype, int32_t epilogue, int64_t T, int64_t K,
                int64_t N, const std::vector<float> &x, const std::vector<uint8_t> &w,
                const std::vector<float> &residual) {
  const float *r = epilogue >= 0 ? residual.data() : nullptr;
  std::vector<float> y(T * N, NAN);
  auto kernel = [&] {
    void *scratch = dc_alloc_aligned(size_t(dc_k_q8act_scratch_bytes(T, K)));
    q8actKernel(dtype, epilogue == -2, epilogue, x.data(), T, K, w.data(), N, r, scratch, y.data());
    free(scratch);
  };
  checkOp(what + " " + dc_ws_dtype_name(dtype) + " T=" + std::to_string(T) + " " +
              std::to_string(epilogue),
          {&y}, kernel, [&](dc_exec *e) {
            if (epilogue == -1)
              dc_op_linear_q8act(e, dtype, x.data(), T, K, w.data(), N, y.data());
            else if (epilogue == -2)
              dc_op_lm_head_q8act(e, dtype, x.data(), T, K, w.data(), N, y.data());
            else
              dc_op_linear_epilogue_q8act(e, dtype, x.data(), T, K, w.data(), N, epilogue, r,
                                          y.data());
            EXPECT_GE(e->scratch_bytes, dc_k_q8act_scratch_bytes(T, K));
          });
  for (float v : y)
    ASSERT_TRUE(std::isfinite(v)) << what << " " << dc_ws_dtype_name(dtype);
}

TEST(RuntimeOps, Q8ActEveryBlockDType) {
  Rng rng(13);
  const int64_t T = 6, K = 256, N = 50;
  auto x = floats(rng, T * K), residual = floats(rng, T * N);
  for (uint32_t dtype : everyDType()) {
    if (dtype == DC_WS_F32 || dtype == DC_WS_F16 || dtype == DC_WS_BF16)
      continue;
    for (int32_t epilogue : {-1, -2, DC_K_EPILOGUE_NONE, DC_K_EPILOGUE_SWIGLU}) {
      const int64_t rows = epilogue == DC_K_EPILOGUE_SWIGLU ? 2 * N : N;
      checkQ8Act("q8act", dtype, epilogue, T, K, N, x, weights(rng, dtype, rows, K), residual);
    }
  }
}

// A prefill on packed weights with at least 64 tokens per thread is split over tokens rather than
// output columns (ops_q8act.c): 200 tokens take that path on 2 and 3 threads, 6 tokens the column
// split. Either way every output must have the bits of one kernel call over everything.
TEST(RuntimeOps, Q8ActPackedSplitsTokensOrColumns) {
  Rng rng(17);
  const int64_t K = 288, N = 40; // 9 blocks: a span of 8 and a last one of 1
  for (int64_t T : {int64_t(6), int64_t(200)}) {
    auto x = floats(rng, T * K), residual = floats(rng, T * N);
    for (uint32_t dtype :
         {uint32_t(DC_WS_Q8_0_PACKED), uint32_t(DC_WS_Q4_0_PACKED), uint32_t(DC_WS_Q4_0_X8)}) {
      for (int32_t epilogue : {-1, -2, DC_K_EPILOGUE_NONE, DC_K_EPILOGUE_SWIGLU}) {
        const int64_t rows = epilogue == DC_K_EPILOGUE_SWIGLU ? 2 * N : N;
        checkQ8Act("packed q8act", dtype, epilogue, T, K, N, x, packedWeights(rng, dtype, rows, K),
                   residual);
      }
    }
  }
}

TEST(RuntimeOps, Q8ActRefusesFloatWeightsAndBadRows) {
  dc_exec *exec = nullptr;
  ASSERT_EQ(dc_exec_create(2, &exec), nullptr);
  std::vector<float> x(256, 1.0f), y(4, 7.0f);
  std::vector<uint8_t> w(4096, 0);
  dc_op_linear_q8act(exec, DC_WS_BF16, x.data(), 1, 64, w.data(), 1, y.data());
  dc_status *error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error))
                .find("linear_q8act: int8 activations need a block-quantized weight, got dtype 2 "
                      "(bf16)"),
            std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  dc_op_lm_head_q8act(exec, DC_WS_Q4_0_G128, x.data(), 1, 192, w.data(), 1, y.data());
  error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("multiple of 128 values, got 192"),
            std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  dc_op_linear_epilogue_q8act(exec, DC_WS_Q8_0, x.data(), 1, 64, w.data(), 1, 5, nullptr, y.data());
  error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("unknown epilogue 5"), std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  EXPECT_EQ(y[0], 7.0f);
  dc_exec_destroy(exec);
}

TEST(RuntimeOps, RefusedOpsRecordAnErrorAndWriteNothing) {
  dc_exec *exec = nullptr;
  ASSERT_EQ(dc_exec_create(2, &exec), nullptr);
  std::vector<float> x(33, 1.0f), y(4, 7.0f);
  std::vector<uint8_t> w(1024, 0);
  dc_op_linear(exec, DC_WS_Q8_0, x.data(), 1, 33, w.data(), 1, y.data());
  dc_status *error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("multiple of 32"), std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  // A row of 96 values is three blocks of 32 but not a whole number of groups of 64 or 128.
  std::vector<float> x96(96, 1.0f);
  for (uint32_t dtype : {DC_WS_Q4_0_G64, DC_WS_Q4_1_G128}) {
    dc_op_linear(exec, dtype, x96.data(), 1, 96, w.data(), 1, y.data());
    error = dc_exec_take_error(exec);
    ASSERT_NE(error, nullptr);
    const std::string want = dtype == DC_WS_Q4_0_G64
                                 ? "a q4_0_g64 weight needs rows of a multiple of 64 values, got 96"
                                 : "a q4_1_g128 weight needs rows of a multiple of 128 values";
    EXPECT_NE(std::string(dc_status_message(error)).find(want), std::string::npos)
        << dc_status_message(error);
    dc_status_free(error);
  }
  dc_op_embedding(exec, DC_WS_Q4_0_G128, w.data(), 4, 64, nullptr, 1, y.data());
  error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("embedding: a q4_0_g128 weight"),
            std::string::npos)
      << dc_status_message(error);
  dc_status_free(error);
  dc_op_linear(exec, 99, x.data(), 1, 32, w.data(), 1, y.data());
  error = dc_exec_take_error(exec);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(dc_status_message(error)).find("dtype 99"), std::string::npos);
  dc_status_free(error);
  EXPECT_EQ(y[0], 7.0f);
  // The first failure is kept until taken.
  dc_op_rope(exec, x.data(), 1, 1, 4, nullptr, 3, 1e4, y.data());
  dc_op_linear(exec, 99, x.data(), 1, 32, w.data(), 1, y.data());
  error = dc_exec_take_error(exec);
  EXPECT_NE(std::string(dc_status_message(error)).find("rope"), std::string::npos);
  dc_status_free(error);
  EXPECT_EQ(dc_exec_take_error(exec), nullptr);
  dc_exec_destroy(exec);
}

} // namespace
