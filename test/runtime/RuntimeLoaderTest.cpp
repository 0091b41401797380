//===- RuntimeLoaderTest.cpp - the C loader against deltac's own stores ---===//
//
// A tiny synthesized checkpoint is imported with deltac's importer; dc_model_open must find every
// weight a hand-built program lists at the same bytes as the C++ reader (import/WeightStore.cpp),
// convert bf16 to f32 exactly where asked, and refuse, with one clear message and no crash, a store
// of another model, a truncated or corrupted store, a missing file or a missing weight. For every
// corruption the two readers must agree.
//
//===----------------------------------------------------------------------===//

#include "TestStore.h"
#include "runtime_internal.h"

#include "deltac/kernel_abi.h"
#include "import/Checkpoint.h"
#include "import/GGMLQuants.h"
#include "import/Importer.h"
#include "import/WeightMaterializer.h"
#include "import/Synth.h"
#include "import/WeightStore.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace deltac;
using namespace llvm;
using namespace deltac::test;

namespace {

int32_t noEntry(dc_exec *, void *const *, void *const *, uint8_t *, const int32_t *,
                const int32_t *, int64_t, int64_t, float *) {
  return 0;
}

/// A program table listing `names` with `dtypes`; owns its strings.
struct TestProgram {
  std::vector<std::string> names;
  std::vector<const char *> namePtrs;
  std::vector<uint32_t> dtypes;
  dc_program program{};

  TestProgram(uint64_t fingerprint, std::vector<std::string> weightNames,
              std::vector<uint32_t> weightDTypes)
      : names(std::move(weightNames)), dtypes(std::move(weightDTypes)) {
    for (const std::string &n : names)
      namePtrs.push_back(n.c_str());
    program.abi_version = DC_PROGRAM_ABI_VERSION;
    program.kernel_abi_version = DC_KERNEL_ABI_VERSION;
    program.weight_fingerprint = fingerprint;
    program.architecture = "qwen3_5";
    program.target = "portable";
    program.vocab_size = 100;
    program.max_context = 64;
    program.max_tokens = 8;
    program.weight_count = int64_t(names.size());
    program.weight_names = namePtrs.data();
    program.weight_dtypes = dtypes.data();
    program.prefill = noEntry;
    program.decode = noEntry;
  }
};

class RuntimeLoader : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    shared = new TempDir();
    storePath = new std::string(shared->file("tiny.dcw"));
    Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
    ASSERT_TRUE(bool(config)) << toString(config.takeError());
    SynthOptions synth;
    synth.output = shared->file("hf");
    synth.config = *config;
    synth.seed = 3;
    synth.dtype = "bf16";
    Error e = synthesizeCheckpoint(synth);
    ASSERT_FALSE(bool(e)) << toString(std::move(e));
    Expected<Checkpoint> ckpt = openCheckpoint(synth.output);
    ASSERT_TRUE(bool(ckpt)) << toString(ckpt.takeError());
    mlir::MLIRContext context;
    mlir::OwningOpRef<mlir::ModuleOp> module = importCheckpoint(context, *ckpt, ImportOptions());
    StoreOptions options;
    options.storePath = *storePath;
    options.storePathInIR = *storePath;
    options.keepUnreferenced = QuantPolicy();
    Expected<StoreSummary> result = writeWeightStore(*module, *ckpt, options);
    ASSERT_TRUE(bool(result)) << toString(result.takeError());
    fingerprint = result->fingerprint;
  }
  static void TearDownTestSuite() {
    delete storePath;
    delete shared;
  }

  void SetUp() override {
    ASSERT_NE(fingerprint, 0u);
    Expected<std::unique_ptr<WeightStore>> opened = WeightStore::open(*storePath);
    ASSERT_TRUE(bool(opened)) << toString(opened.takeError());
    reference = std::move(*opened);
  }

  /// Opens `path` with `program`; returns the model or records the status.
  dc_model *open(const TestProgram &p, const std::string &path, dc_status **status,
                 dc_weight_load load = DC_WEIGHTS_READ) {
    dc_model *model = nullptr;
    *status = dc_model_open_with(&p.program, path.c_str(), load, &model);
    if (*status)
      EXPECT_EQ(model, nullptr);
    return model;
  }

  static void expectError(dc_status *s, dc_status_code code,
                          const std::vector<std::string> &texts) {
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(dc_status_get_code(s), code) << dc_status_message(s);
    std::string message = dc_status_message(s);
    EXPECT_EQ(message.find('\n'), std::string::npos);
    for (const std::string &t : texts)
      EXPECT_NE(message.find(t), std::string::npos) << "'" << t << "' not in: " << message;
    dc_status_free(s);
  }

  /// Opens the store with `p` (every tensor of the store, `tensors`) as `load` says and checks
  /// that each weight points at its bytes.
  void expectWeightsOnTheirBytes(const TestProgram &p, dc_weight_load load,
                                 const std::vector<const WeightStore::Tensor *> &tensors);

  static TempDir *shared;
  static std::string *storePath;
  static uint64_t fingerprint;
  std::unique_ptr<WeightStore> reference;
  TempDir dir;
};

TempDir *RuntimeLoader::shared;
std::string *RuntimeLoader::storePath;
uint64_t RuntimeLoader::fingerprint;

TEST_F(RuntimeLoader, WeightsLandOnTheirBytes) {
  // Every tensor of the store, in reverse order, each in its stored dtype; the store read into
  // memory (the default) and mapped.
  std::vector<std::string> names;
  std::vector<uint32_t> dtypes;
  std::vector<const WeightStore::Tensor *> tensors;
  for (auto it = reference->tensors().rbegin(); it != reference->tensors().rend(); ++it) {
    names.push_back(it->name.str());
    dtypes.push_back(it->dtype);
    tensors.push_back(&*it);
  }
  ASSERT_GT(names.size(), 10u);
  TestProgram p(fingerprint, names, dtypes);
  for (dc_weight_load load : {DC_WEIGHTS_READ, DC_WEIGHTS_MAP}) {
    SCOPED_TRACE(load == DC_WEIGHTS_READ ? "read" : "mapped");
    expectWeightsOnTheirBytes(p, load, tensors);
  }
}

/// Where the kernel gives transparent huge pages, the weights of a store read into memory start at
/// a 2 MiB boundary (the huge pages dc_ws_read asks for); elsewhere the read falls back to the
/// mapping. Either way they hold the file's bytes, and a mapped store is the file's mapping.
TEST_F(RuntimeLoader, AReadStoreStartsOnAHugePage) {
  const std::vector<uint8_t> bytes = readFile(*storePath);
  std::string thp; // empty where the kernel has no transparent huge pages
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), thp);
  const bool hugePages =
      thp.find("[always]") != std::string::npos || thp.find("[madvise]") != std::string::npos;
  for (dc_weight_load load : {DC_WEIGHTS_READ, DC_WEIGHTS_MAP}) {
    dc_ws_file file;
    dc_status *status = dc_ws_open(storePath->c_str(), load, &file);
    ASSERT_EQ(status, nullptr) << dc_status_message(status);
    ASSERT_EQ(file.size, bytes.size());
    EXPECT_EQ(std::memcmp(file.base, bytes.data(), bytes.size()), 0);
    ASSERT_NE(file.mapping, nullptr);
    if (load == DC_WEIGHTS_READ && hugePages) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(file.base) % (uintptr_t(2) << 20), 0u);
      EXPECT_GE(file.mapping_bytes, file.size + (size_t(2) << 20));
    } else {
      EXPECT_EQ(static_cast<const void *>(file.base), file.mapping);
      EXPECT_EQ(file.mapping_bytes, file.size);
    }
    dc_ws_close(&file);
  }
}

TEST_F(RuntimeLoader, AnUnknownLoadModeIsAnError) {
  TestProgram p(fingerprint, {}, {});
  dc_model *model = nullptr;
  expectError(
      dc_model_open_with(&p.program, storePath->c_str(), static_cast<dc_weight_load>(7), &model),
      DC_STATUS_INVALID_ARGUMENT, {"unknown weight load mode 7"});
  EXPECT_EQ(model, nullptr);
}

void RuntimeLoader::expectWeightsOnTheirBytes(
    const TestProgram &p, dc_weight_load load,
    const std::vector<const WeightStore::Tensor *> &tensors) {
  const std::vector<std::string> &names = p.names;
  dc_status *status;
  dc_model *model = open(p, *storePath, &status, load);
  ASSERT_EQ(status, nullptr) << dc_status_message(status);
  EXPECT_EQ(dc_model_fingerprint(model), fingerprint);
  EXPECT_STREQ(dc_model_weights_path(model), storePath->c_str());
  const uint8_t *first = static_cast<const uint8_t *>(dc_model_weight(model, 0));
  for (size_t i = 0; i < names.size(); ++i) {
    const uint8_t *data = static_cast<const uint8_t *>(dc_model_weight(model, int64_t(i)));
    ASSERT_NE(data, nullptr) << names[i];
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 64, 0u) << names[i];
    // The same offset in the file as the C++ reader's, and the same bytes.
    EXPECT_EQ(data - first, tensors[i]->data.data() - tensors[0]->data.data()) << names[i];
    EXPECT_EQ(std::memcmp(data, tensors[i]->data.data(), tensors[i]->data.size()), 0) << names[i];
  }
  dc_model_close(model);
}

TEST_F(RuntimeLoader, HalfPrecisionBecomesF32WhereAsked) {
  std::vector<std::string> names;
  std::vector<const WeightStore::Tensor *> halves;
  for (const WeightStore::Tensor &t : reference->tensors())
    if ((t.dtype == DC_WS_BF16 || t.dtype == DC_WS_F16) && halves.size() < 4) {
      names.push_back(t.name.str());
      halves.push_back(&t);
    }
  ASSERT_FALSE(halves.empty());
  std::vector<uint32_t> dtypes(names.size(), DC_WS_F32);
  dtypes[0] = halves[0]->dtype; // the first stays as stored
  TestProgram p(fingerprint, names, dtypes);
  dc_status *status;
  dc_model *model = open(p, *storePath, &status);
  ASSERT_EQ(status, nullptr) << dc_status_message(status);
  for (size_t i = 1; i < halves.size(); ++i) {
    const float *f = static_cast<const float *>(dc_model_weight(model, int64_t(i)));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(f) % 64, 0u);
    const size_t n = halves[i]->data.size() / 2;
    for (size_t j = 0; j < n; ++j) {
      uint16_t h;
      std::memcpy(&h, halves[i]->data.data() + 2 * j, 2);
      float want = halves[i]->dtype == DC_WS_BF16 ? ggml::bf16ToFloat(h) : ggml::fp16ToFloat(h);
      ASSERT_EQ(f[j], want) << names[i] << "[" << j << "]";
    }
  }
  dc_model_close(model);
}

TEST_F(RuntimeLoader, F16ConversionIsExactForEveryBitPattern) {
  std::vector<uint8_t> data(65536 * 2);
  for (uint32_t i = 0; i < 65536; ++i) {
    data[2 * i] = uint8_t(i);
    data[2 * i + 1] = uint8_t(i >> 8);
  }
  std::string path = dir.file("halves.dcw");
  uint64_t fp = writeStore(
      path, {{"all.f16", DC_WS_F16, {65536}, data}, {"all.bf16", DC_WS_BF16, {256, 256}, data}});
  TestProgram p(fp, {"all.f16", "all.bf16"}, {DC_WS_F32, DC_WS_F32});
  dc_status *status;
  dc_model *model = open(p, path, &status);
  ASSERT_EQ(status, nullptr) << dc_status_message(status);
  const float *f16 = static_cast<const float *>(dc_model_weight(model, 0));
  const float *bf16 = static_cast<const float *>(dc_model_weight(model, 1));
  for (uint32_t i = 0; i < 65536; ++i) {
    float a = ggml::fp16ToFloat(uint16_t(i)), b = ggml::bf16ToFloat(uint16_t(i));
    ASSERT_EQ(std::memcmp(&f16[i], &a, 4) == 0 || (std::isnan(a) && std::isnan(f16[i])), true) << i;
    ASSERT_EQ(std::memcmp(&bf16[i], &b, 4), 0) << i;
  }
  dc_model_close(model);
}

TEST_F(RuntimeLoader, OtherDTypeMismatchesAreErrors) {
  const WeightStore::Tensor *half = nullptr, *f32 = nullptr;
  for (const WeightStore::Tensor &t : reference->tensors()) {
    if (t.dtype == DC_WS_BF16 && !half)
      half = &t;
    if (t.dtype == DC_WS_F32 && !f32)
      f32 = &t;
  }
  ASSERT_TRUE(half);
  dc_status *status;
  TestProgram asF16(fingerprint, {half->name.str()}, {DC_WS_F16});
  EXPECT_EQ(open(asF16, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_MISMATCH,
              {half->name.str(), "stored as bf16", "wants f16", *storePath});
  TestProgram asQ8(fingerprint, {half->name.str()}, {DC_WS_Q8_0});
  EXPECT_EQ(open(asQ8, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_MISMATCH, {"wants q8_0"});
  if (f32) {
    TestProgram asBf16(fingerprint, {f32->name.str()}, {DC_WS_BF16});
    EXPECT_EQ(open(asBf16, *storePath, &status), nullptr);
    expectError(status, DC_STATUS_MISMATCH, {"stored as f32", "wants bf16"});
  }
}

TEST_F(RuntimeLoader, AMissingWeightIsNamed) {
  TestProgram p(fingerprint, {reference->tensors()[0].name.str(), "layers.99.mlp.gate_proj.weight"},
                {reference->tensors()[0].dtype, DC_WS_BF16});
  dc_status *status;
  EXPECT_EQ(open(p, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_NOT_FOUND, {"layers.99.mlp.gate_proj.weight", *storePath});
  // A prefix of a real name is not that name.
  std::string real = reference->tensors()[0].name.str();
  TestProgram prefix(fingerprint, {real.substr(0, real.size() - 1)}, {DC_WS_F32});
  EXPECT_EQ(open(prefix, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_NOT_FOUND, {real.substr(0, real.size() - 1)});
}

TEST_F(RuntimeLoader, AnotherModelsStoreIsRefused) {
  TestProgram p(fingerprint ^ 0x5555, {}, {});
  dc_status *status;
  EXPECT_EQ(open(p, *storePath, &status), nullptr);
  char ours[32], theirs[32];
  snprintf(ours, sizeof(ours), "0x%016" PRIx64, fingerprint);
  snprintf(theirs, sizeof(theirs), "0x%016" PRIx64, fingerprint ^ 0x5555);
  expectError(status, DC_STATUS_MISMATCH, {ours, theirs, *storePath, "fingerprint"});
}

TEST_F(RuntimeLoader, MissingFilesAndBadProgramsAreErrors) {
  TestProgram p(fingerprint, {}, {});
  dc_status *status;
  EXPECT_EQ(open(p, dir.file("nothing.dcw"), &status), nullptr);
  expectError(status, DC_STATUS_NOT_FOUND, {dir.file("nothing.dcw"), "cannot open"});
  EXPECT_EQ(open(p, dir.path(), &status), nullptr);
  expectError(status, DC_STATUS_IO_ERROR, {"not a regular file"});
  EXPECT_EQ(open(p, "", &status), nullptr);
  expectError(status, DC_STATUS_INVALID_ARGUMENT, {"path"});

  TestProgram abi(fingerprint, {}, {});
  abi.program.abi_version = DC_PROGRAM_ABI_VERSION + 1;
  EXPECT_EQ(open(abi, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_MISMATCH,
              {"program ABI version " + std::to_string(DC_PROGRAM_ABI_VERSION + 1)});
  TestProgram kabi(fingerprint, {}, {});
  kabi.program.kernel_abi_version = 7;
  EXPECT_EQ(open(kabi, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_MISMATCH, {"kernel ABI version 7"});
  TestProgram vocab(fingerprint, {}, {});
  vocab.program.vocab_size = 0;
  EXPECT_EQ(open(vocab, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_INVALID_ARGUMENT, {"program table"});
  TestProgram entry(fingerprint, {}, {});
  entry.program.decode = nullptr;
  EXPECT_EQ(open(entry, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_INVALID_ARGUMENT, {"entry point"});
}

// A program whose target needs CPU features this CPU lacks is refused before any of its code runs,
// with the target and every missing feature named; the features it has are not named. A name the
// runtime cannot test counts as missing.
TEST_F(RuntimeLoader, ProgramsForCpuFeaturesThisCpuLacksAreRefused) {
  dc_status *status;
  TestProgram none(fingerprint, {}, {});
  none.program.cpu_features = "";
  dc_model *model = open(none, *storePath, &status);
  EXPECT_NE(model, nullptr) << dc_status_message(status);
  dc_model_close(model);

  TestProgram unknown(fingerprint, {}, {});
  unknown.program.target = "x86-64-future";
  unknown.program.cpu_features = "no-such-feature,nor-this";
  EXPECT_EQ(open(unknown, *storePath, &status), nullptr);
  expectError(status, DC_STATUS_MISMATCH,
              {"--target x86-64-future", "lacks no-such-feature, nor-this", "--target host"});

#if defined(__x86_64__)
  // The runtime's CPUID against the compiler's: each feature is accepted exactly where
  // __builtin_cpu_supports has it.
  struct Probe {
    const char *name;
    bool has;
  };
  const Probe probes[] = {{"avx2", __builtin_cpu_supports("avx2") != 0},
                          {"fma", __builtin_cpu_supports("fma") != 0},
                          {"avx512f", __builtin_cpu_supports("avx512f") != 0},
                          {"avx512bw", __builtin_cpu_supports("avx512bw") != 0},
                          {"avx512vnni", __builtin_cpu_supports("avx512vnni") != 0},
                          {"avxvnni", __builtin_cpu_supports("avxvnni") != 0}};
  for (const Probe &probe : probes) {
    TestProgram one(fingerprint, {}, {});
    one.program.cpu_features = probe.name;
    model = open(one, *storePath, &status);
    EXPECT_EQ(model != nullptr, probe.has)
        << probe.name << ": " << (status ? dc_status_message(status) : "accepted");
    if (status)
      expectError(status, DC_STATUS_MISMATCH, {std::string("lacks ") + probe.name});
    dc_model_close(model);
  }
  if (__builtin_cpu_supports("avx2")) {
    TestProgram some(fingerprint, {}, {});
    some.program.cpu_features = "avx2,no-such-feature";
    EXPECT_EQ(open(some, *storePath, &status), nullptr);
    expectError(status, DC_STATUS_MISMATCH, {"lacks no-such-feature; compile"});
  }
#endif
}

/// Writes `bytes` as a store, then expects both readers to refuse it, the C one with an
/// invalid-format error naming the file and containing `text`.
void expectBothRefuse(const TempDir &dir, const std::vector<uint8_t> &bytes,
                      const std::string &text, uint64_t fingerprint) {
  static int counter = 0;
  std::string path = dir.file("corrupt" + std::to_string(counter++) + ".dcw");
  writeFile(path, bytes);
  Expected<std::unique_ptr<WeightStore>> cxx = WeightStore::open(path);
  EXPECT_FALSE(bool(cxx)) << "the C++ reader accepts the corruption '" << text << "'";
  if (!cxx)
    consumeError(cxx.takeError());
  TestProgram p(fingerprint, {}, {});
  dc_model *model = nullptr;
  dc_status *status = dc_model_open(&p.program, path.c_str(), &model);
  ASSERT_NE(status, nullptr) << text;
  EXPECT_EQ(dc_status_get_code(status), DC_STATUS_INVALID_FORMAT) << dc_status_message(status);
  std::string message = dc_status_message(status);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(text), std::string::npos) << "'" << text << "' not in: " << message;
  dc_status_free(status);
}

TEST_F(RuntimeLoader, TruncatedAndCorruptStoresAreRefused) {
  const std::vector<uint8_t> good = readFile(*storePath);
  dc_ws_header h;
  std::memcpy(&h, good.data(), sizeof(h));
  auto entryAt = [&](uint64_t i) { return h.table_offset + i * sizeof(dc_ws_tensor); };
  auto mutate = [&](uint64_t offset, auto value) {
    std::vector<uint8_t> bytes = good;
    std::memcpy(bytes.data() + offset, &value, sizeof(value));
    return bytes;
  };
  ASSERT_GE(h.tensor_count, 3u);

  std::vector<uint8_t> shortFile(good.begin(), good.end() - 1);
  expectBothRefuse(dir, shortFile, "truncated", fingerprint);
  expectBothRefuse(dir, std::vector<uint8_t>(good.begin(), good.begin() + 50),
                   "shorter than its header", fingerprint);
  expectBothRefuse(dir, {}, "shorter than its header", fingerprint);
  expectBothRefuse(dir, mutate(0, 'X'), "wrong magic", fingerprint);
  expectBothRefuse(dir, mutate(offsetof(dc_ws_header, version), uint32_t(2)), "version 2",
                   fingerprint);
  expectBothRefuse(dir, mutate(offsetof(dc_ws_header, header_bytes), uint32_t(95)), "header size",
                   fingerprint);
  expectBothRefuse(dir, mutate(offsetof(dc_ws_header, fingerprint), uint64_t(0)), "no fingerprint",
                   fingerprint);
  expectBothRefuse(dir, mutate(offsetof(dc_ws_header, tensor_count), uint64_t(1) << 60),
                   "tensor table past the end", fingerprint);
  expectBothRefuse(dir, mutate(offsetof(dc_ws_header, strings_bytes), uint64_t(good.size())),
                   "name table past the end", fingerprint);
  expectBothRefuse(dir, mutate(offsetof(dc_ws_header, data_offset), h.data_offset + 8),
                   "data offset", fingerprint);
  expectBothRefuse(dir, mutate(entryAt(1) + offsetof(dc_ws_tensor, name_offset), h.strings_bytes),
                   "name outside the name table", fingerprint);
  static_assert(DC_WS_DTYPE_MAX == 12, "refuse the first dtype past the enum");
  expectBothRefuse(dir, mutate(entryAt(1) + offsetof(dc_ws_tensor, dtype), uint32_t(13)),
                   "unknown dtype 13", fingerprint);
  expectBothRefuse(dir, mutate(entryAt(1) + offsetof(dc_ws_tensor, rank), uint32_t(0)), "rank 0",
                   fingerprint);
  expectBothRefuse(dir, mutate(entryAt(1) + offsetof(dc_ws_tensor, dims), uint64_t(0)),
                   "invalid dimension", fingerprint);
  expectBothRefuse(dir, mutate(entryAt(1) + offsetof(dc_ws_tensor, bytes), uint64_t(6)),
                   "does not match its shape", fingerprint);
  expectBothRefuse(dir, mutate(entryAt(2) + offsetof(dc_ws_tensor, offset), uint64_t(32)),
                   "out of range, misaligned or overlapping", fingerprint);
  expectBothRefuse(dir, mutate(entryAt(2) + offsetof(dc_ws_tensor, offset), uint64_t(0)),
                   "out of range, misaligned or overlapping", fingerprint);
  // Two entries swapped: names out of order.
  {
    std::vector<uint8_t> bytes = good;
    std::swap_ranges(bytes.begin() + long(entryAt(0)), bytes.begin() + long(entryAt(1)),
                     bytes.begin() + long(entryAt(1)));
    expectBothRefuse(dir, bytes, "", fingerprint);
  }
}

// deltac's int4 groups of 64 and 128: both readers size them by their own group, the runtime hands
// the kernels the stored bytes, and a row that is not a whole number of groups is refused by both.
TEST_F(RuntimeLoader, Int4GroupsOf64And128) {
  std::vector<TestTensor> tensors = {{"g128", DC_WS_Q4_0_G128, {3, 256}, {}},
                                     {"g128a", DC_WS_Q4_1_G128, {2, 128}, {}},
                                     {"g64", DC_WS_Q4_0_G64, {5, 192}, {}},
                                     {"g64a", DC_WS_Q4_1_G64, {4, 64}, {}}};
  const uint64_t blockBytes[] = {66, 68, 34, 36}, group[] = {128, 128, 64, 64};
  for (size_t i = 0; i < tensors.size(); ++i) {
    TestTensor &t = tensors[i];
    t.data.resize(size_t(t.shape[0] * t.shape[1]) / group[i] * blockBytes[i]);
    for (size_t b = 0; b < t.data.size(); ++b)
      t.data[b] = uint8_t(b * 7 + i);
  }
  std::string path = dir.file("groups.dcw");
  uint64_t fp = writeStore(path, tensors);
  TestProgram p(fp, {"g128", "g128a", "g64", "g64a"},
                {DC_WS_Q4_0_G128, DC_WS_Q4_1_G128, DC_WS_Q4_0_G64, DC_WS_Q4_1_G64});
  dc_status *status;
  dc_model *model = open(p, path, &status);
  ASSERT_EQ(status, nullptr) << dc_status_message(status);
  for (size_t i = 0; i < tensors.size(); ++i)
    EXPECT_EQ(std::memcmp(dc_model_weight(model, int64_t(i)), tensors[i].data.data(),
                          tensors[i].data.size()),
              0)
        << tensors[i].name;
  dc_model_close(model);

  // A [2, 192] tensor declared as groups of 128 (its bytes sized as if 192 were 1.5 groups).
  std::vector<uint8_t> bytes = readFile(path);
  dc_ws_header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  dc_ws_tensor entry;
  const uint64_t at = h.table_offset + 2 * sizeof(dc_ws_tensor); // "g64", [5, 192]
  std::memcpy(&entry, bytes.data() + at, sizeof(entry));
  ASSERT_EQ(entry.dtype, uint32_t(DC_WS_Q4_0_G64));
  entry.dtype = DC_WS_Q4_0_G128;
  std::memcpy(bytes.data() + at, &entry, sizeof(entry));
  expectBothRefuse(dir, bytes, "does not match its shape and dtype", fp);
}

TEST_F(RuntimeLoader, RandomCorruptionsNeverCrashAndAgreeWithTheCxxReader) {
  const std::vector<uint8_t> good = readFile(*storePath);
  dc_ws_header h;
  std::memcpy(&h, good.data(), sizeof(h));
  const uint64_t metadata = h.data_offset; // header, table and names
  uint64_t x = 12345;
  int refused = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> bytes = good;
    int flips = 1 + trial % 3;
    for (int f = 0; f < flips; ++f) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t at = (x >> 20) % metadata;
      bytes[at] ^= uint8_t(1u << ((x >> 8) % 8));
    }
    if (trial % 50 == 0)
      bytes.resize(bytes.size() - 1 - trial);
    std::string path = dir.file("flip.dcw");
    writeFile(path, bytes);
    Expected<std::unique_ptr<WeightStore>> cxx = WeightStore::open(path);
    bool cxxOk = bool(cxx);
    if (!cxx)
      consumeError(cxx.takeError());
    // Read into memory on odd trials, mapped on even ones.
    dc_ws_file file;
    dc_status *status =
        dc_ws_open(path.c_str(), trial % 2 ? DC_WEIGHTS_READ : DC_WEIGHTS_MAP, &file);
    EXPECT_EQ(status == nullptr, cxxOk) << "trial " << trial << ": " << dc_status_message(status);
    if (status) {
      ++refused;
      dc_status_free(status);
    } else {
      dc_ws_close(&file);
    }
  }
  EXPECT_GT(refused, 50);
}

} // namespace
