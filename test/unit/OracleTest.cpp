//===- OracleTest.cpp - the reference interpreter against transformers ----===//
//
// For every fixture in test/fixtures/ (written by test/reference/make_fixtures.py with transformers'
// own model classes): import the checkpoint with deltac, run the imported module with the
// double-precision reference interpreter over the same tokens (a chunked 130-token prefill, then
// one-token decode steps), and compare the logits at every position and the final conv, delta-rule and
// KV states with transformers' float32 results.
//
//===----------------------------------------------------------------------===//

#include "import/Checkpoint.h"
#include "import/Importer.h"
#include "import/WeightMaterializer.h"
#include "import/Safetensors.h"
#include "passes/Passes.h"
#include "reference/Interpreter.h"

#include "dialect/DeltaOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>

using namespace deltac;
using namespace llvm;

namespace {

/// The largest absolute difference divided by the largest absolute expected value.
double relativeError(ArrayRef<double> actual, ArrayRef<double> expected) {
  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    maxDiff = std::max(maxDiff, std::abs(actual[i] - expected[i]));
    maxRef = std::max(maxRef, std::abs(expected[i]));
  }
  return maxDiff / std::max(maxRef, 1e-30);
}

struct Expected {
  std::vector<int32_t> tokens;
  int64_t promptLength = 0;
  StringMap<ref::Tensor> tensors; ///< logits and states, as doubles
};

Expected readExpected(StringRef path) {
  Expected out;
  auto file = InputFile::open(path);
  EXPECT_TRUE(bool(file)) << (file ? "" : toString(file.takeError()));
  auto header = readSafetensorsHeader(**file);
  EXPECT_TRUE(bool(header)) << (header ? "" : toString(header.takeError()));
  for (const SafetensorsTensor &t : *header) {
    std::vector<uint8_t> bytes(t.bytes);
    EXPECT_FALSE(bool((*file)->read(t.offset, bytes)));
    if (t.dtype == SafetensorsDType::I32) {
      std::vector<int32_t> ints(t.bytes / 4);
      std::memcpy(ints.data(), bytes.data(), t.bytes);
      if (t.name == "tokens")
        out.tokens = ints;
      else if (t.name == "prompt_length")
        out.promptLength = ints[0];
      continue;
    }
    ref::Tensor tensor(std::vector<int64_t>(t.shape.begin(), t.shape.end()));
    for (size_t i = 0; i < tensor.data.size(); ++i) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      tensor.data[i] = f;
    }
    out.tensors[t.name] = std::move(tensor);
  }
  return out;
}

class OracleTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override { load(std::nullopt); }

  /// Imports the fixture, storing float weights as `floats` (unset: as the checkpoint has them).
  void load(std::optional<WeightScheme> floats) {
    fixture = std::string(DELTAC_FIXTURES) + "/" + GetParam();
    ASSERT_FALSE(sys::fs::createUniqueDirectory("deltac-oracle", dir));
    expected = readExpected(fixture + "/expected.safetensors");
    ASSERT_EQ(expected.promptLength, 130);
    ASSERT_EQ(expected.tokens.size(), 138u);

    auto ckpt = openCheckpoint(fixture);
    ASSERT_TRUE(bool(ckpt)) << toString(ckpt.takeError());
    ImportOptions options;
    options.maxContext = 256;
    options.quant.floats = floats;
    options.f16RecurrentState = f16RecurrentState;
    options.f16KVCache = f16KVCache;
    module = importCheckpoint(context, *ckpt, options);
    if (transform)
      transform(*module);
    StoreOptions storeOptions;
    storeOptions.storePath = (dir + "/model.dcw").str();
    storeOptions.storePathInIR = "model.dcw";
    auto stored = writeWeightStore(*module, *ckpt, storeOptions);
    ASSERT_TRUE(bool(stored)) << toString(stored.takeError());
    auto opened = WeightStore::open(storeOptions.storePath);
    ASSERT_TRUE(bool(opened)) << toString(opened.takeError());
    store = std::move(*opened);
  }
  void TearDown() override { sys::fs::remove_directories(dir); }

  /// Runs the fixture's token sequence: a prefill of the prompt (or, with `tokenByToken`, one decode
  /// step per prompt token), then one decode step per generated token. Returns the logits of every
  /// position, row-major [138, V].
  std::vector<double> runSequence(ref::Interpreter &interp, bool tokenByToken) {
    std::vector<double> logits;
    auto append = [&](llvm::Expected<ref::Tensor> out) {
      EXPECT_TRUE(bool(out)) << (out ? "" : toString(out.takeError()));
      if (out)
        logits.insert(logits.end(), out->data.begin(), out->data.end());
    };
    int64_t p = expected.promptLength;
    if (tokenByToken) {
      for (int64_t i = 0; i < p; ++i)
        append(interp.run("decode", {expected.tokens[i]}, i));
    } else {
      append(interp.run("prefill", std::vector<int32_t>(expected.tokens.begin(),
                                                        expected.tokens.begin() + p),
                        0));
    }
    for (size_t i = size_t(p); i < expected.tokens.size(); ++i)
      append(interp.run("decode", {expected.tokens[i]}, int64_t(i)));
    return logits;
  }

  /// State `name` of the interpreter, cut to the expected tensor's extent (KV caches hold max_context
  /// rows; the fixture holds the 138 used ones).
  std::vector<double> stateLike(const ref::Interpreter &interp, StringRef name,
                                const ref::Tensor &like) {
    const ref::Tensor *s = interp.state(name);
    EXPECT_TRUE(s) << name.str();
    if (!s)
      return {};
    if (s->shape == like.shape)
      return s->data;
    // [nkv, S, hd] -> [nkv, T, hd]
    std::vector<double> out;
    int64_t heads = like.shape[0], rows = like.shape[1], width = like.shape[2];
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t d = 0; d < width; ++d)
          out.push_back(s->data[(h * s->shape[1] + r) * width + d]);
    return out;
  }

  /// Import with the delta-rule state stored in f16 (--recurrent-state-type=f16).
  bool f16RecurrentState = false;
  /// Import with the KV caches stored in f16 (--kv-cache-type=f16).
  bool f16KVCache = false;

  /// Re-imports the model with the f16 options set, runs the reference over the fixture's
  /// sequence, checks that each f16 state ends holding f16 values only, and returns the logits'
  /// relative error against transformers.
  double f16StorageError(const char *what) {
    module = nullptr;
    store = nullptr;
    sys::fs::remove_directories(dir);
    load(std::nullopt);
    int f16States = 0;
    module->walk([&](delta::StateOp state) {
      f16States += cast<mlir::RankedTensorType>(state.getType()).getElementType().isF16();
    });
    EXPECT_GT(f16States, 0);
    ref::Interpreter interp(*module, *store);
    interp.setDeltaRuleChunk(64);
    std::vector<double> logits = runSequence(interp, /*tokenByToken=*/false);
    double error = relativeError(logits, expected.tensors["logits"].data);
    std::printf("[ measured ] %s: %s, logits relative error %.2e\n", GetParam().c_str(), what,
                error);
    module->walk([&](delta::StateOp state) {
      if (!cast<mlir::RankedTensorType>(state.getType()).getElementType().isF16())
        return;
      const ref::Tensor *s = interp.state(state.getSymName());
      ASSERT_TRUE(s);
      for (double v : s->data)
        ASSERT_EQ(v, ref::roundToHalf(v)) << state.getSymName().str() << " holds a non-f16 value";
    });
    return error;
  }
  /// Graph passes run on the imported module before its weight store is written (none if unset).
  std::function<void(mlir::ModuleOp)> transform;
  std::string fixture;
  SmallString<128> dir;
  Expected expected;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<WeightStore> store;
};

// The reference, run end to end, matches transformers within 1e-5 relative: logits at all 138
// positions (130 prefill rows from the chunked algorithm, 8 decode rows from the recurrence) and the
// final states of every layer.
TEST_P(OracleTest, ReferenceMatchesTransformers) {
  ref::Interpreter interp(*module, *store);
  interp.setDeltaRuleChunk(64);
  std::vector<double> logits = runSequence(interp, /*tokenByToken=*/false);
  const ref::Tensor &want = expected.tensors["logits"];
  ASSERT_EQ(logits.size(), want.data.size());
  double error = relativeError(logits, want.data);
  EXPECT_LT(error, 1e-5) << "logits";
  std::printf("[ measured ] %s: logits relative error %.2e\n", GetParam().c_str(), error);
  for (auto &entry : expected.tensors) {
    if (entry.getKey() == "logits")
      continue;
    std::vector<double> got = stateLike(interp, entry.getKey(), entry.getValue());
    ASSERT_EQ(got.size(), entry.getValue().data.size()) << entry.getKey().str();
    EXPECT_LT(relativeError(got, entry.getValue().data), 1e-5) << entry.getKey().str();
  }
}

// Chunked prefill followed by recurrent steps gives the same logits and states as the recurrence over
// every token (spec §4.2), to double-precision rounding.
TEST_P(OracleTest, ChunkedPrefillEqualsRecurrence) {
  ref::Interpreter chunked(*module, *store), recurrent(*module, *store);
  chunked.setDeltaRuleChunk(64);
  std::vector<double> a = runSequence(chunked, /*tokenByToken=*/false);
  std::vector<double> b = runSequence(recurrent, /*tokenByToken=*/true);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LT(relativeError(a, b), 1e-10) << "logits";
  for (auto &entry : expected.tensors) {
    if (entry.getKey() == "logits")
      continue;
    EXPECT_LT(relativeError(stateLike(chunked, entry.getKey(), entry.getValue()),
                            stateLike(recurrent, entry.getKey(), entry.getValue())),
              1e-10)
        << entry.getKey().str();
  }
}

// What bf16 weights alone cost on these models: the reference (double arithmetic) run on the weights
// rounded to bf16. The bf16 build's error (test/Compile/compile-fixtures.test) should be of this size;
// the bound only catches a broken bf16 import.
TEST_P(OracleTest, Bf16WeightsErrorOfTheReference) {
  module = nullptr;
  store = nullptr;
  sys::fs::remove_directories(dir);
  load(WeightScheme::BF16);
  ref::Interpreter interp(*module, *store);
  interp.setDeltaRuleChunk(64);
  std::vector<double> logits = runSequence(interp, /*tokenByToken=*/false);
  double error = relativeError(logits, expected.tensors["logits"].data);
  std::printf("[ measured ] %s: bf16 weights, logits relative error %.2e\n", GetParam().c_str(),
              error);
  EXPECT_LT(error, 2.0);
}

// What an f16 delta-rule state alone costs: the reference with every gated_delta_rule's new state
// rounded to f16 (once per prefill, once per decode step), against transformers. The states it
// leaves are f16 values, and its logits stay near the f32 ones; the compiled f16-state builds are
// checked against the f32 builds in test/Compile/recurrent-state-f16.test.
TEST_P(OracleTest, F16RecurrentStateErrorOfTheReference) {
  f16RecurrentState = true;
  double error = f16StorageError("f16 recurrent state");
  EXPECT_LT(error, 1e-3); // measured 5e-5 to 1.1e-4 on the four fixtures
  EXPECT_GT(error, 0.0) << "the state was not rounded";
}

// What an f16 KV cache alone costs: the reference with every attention layer's new keys and values
// rounded to f16 as they are stored (and read as stored), against transformers. The compiled
// f16-cache builds are checked against the f32 builds in test/Compile/kv-cache-f16.test.
TEST_P(OracleTest, F16KVCacheErrorOfTheReference) {
  f16KVCache = true;
  double error = f16StorageError("f16 KV cache");
  EXPECT_LT(error, 1e-3); // measured 4.5e-5 to 5.8e-5 on the four fixtures
  EXPECT_GT(error, 0.0) << "the caches were not rounded";
}

// The module after delta-merge-linears and delta-fuse-elementwise, whose fused forms (the swiglu and
// residual epilogues, delta.gated_delta_net) the reference evaluates by their definitions, matches
// transformers as the imported module does, and the unfused reference to double rounding.
TEST_P(OracleTest, FusedModuleMatchesTransformers) {
  ref::Interpreter unfused(*module, *store);
  unfused.setDeltaRuleChunk(64);
  std::vector<double> unfusedLogits = runSequence(unfused, /*tokenByToken=*/false);

  module = nullptr;
  store = nullptr;
  sys::fs::remove_directories(dir);
  transform = [](mlir::ModuleOp m) {
    mlir::PassManager pm(m.getContext());
    pm.addPass(createMergeLinears());
    pm.addPass(createFuseElementwise());
    ASSERT_TRUE(mlir::succeeded(pm.run(m)));
  };
  load(std::nullopt);
  int fusedOps = 0, epilogues = 0;
  module->walk([&](mlir::Operation *op) {
    if (isa<delta::GatedDeltaNetOp>(op))
      ++fusedOps;
    if (auto linear = dyn_cast<delta::LinearOp>(op))
      epilogues += !linear.hasNoEpilogue();
  });
  EXPECT_GT(fusedOps, 0);
  EXPECT_GT(epilogues, 0);

  ref::Interpreter interp(*module, *store);
  interp.setDeltaRuleChunk(64);
  std::vector<double> logits = runSequence(interp, /*tokenByToken=*/false);
  const ref::Tensor &want = expected.tensors["logits"];
  ASSERT_EQ(logits.size(), want.data.size());
  EXPECT_LT(relativeError(logits, want.data), 1e-5) << "logits";
  EXPECT_LT(relativeError(logits, unfusedLogits), 1e-10) << "fused vs unfused logits";
  for (auto &entry : expected.tensors) {
    if (entry.getKey() == "logits")
      continue;
    std::vector<double> got = stateLike(interp, entry.getKey(), entry.getValue());
    ASSERT_EQ(got.size(), entry.getValue().data.size()) << entry.getKey().str();
    EXPECT_LT(relativeError(got, entry.getValue().data), 1e-5) << entry.getKey().str();
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OracleTest,
                         ::testing::Values("qwen35_r1_tied", "qwen35_r2", "qwen3next",
                                           "qwen35moe"));

} // namespace
