//===- ImportTest.cpp - HF and GGUF imports of one model agree ------------===//
//
// deltac synth writes the same random model as a Hugging Face directory and as a GGUF file (with the
// GGUF converter's transforms: norms stored as 1 + w, -exp(A_log), value heads tiled). Importing both
// must give the same weights once those transforms are undone here, tensor by tensor and bit by bit.
// The transforms are re-derived in this file from the spec (§5.4), independently of the synthesizer.
//
//===----------------------------------------------------------------------===//

#include "import/Checkpoint.h"
#include "import/DeltacQuants.h"
#include "import/GGMLQuants.h"
#include "import/GGUF.h"
#include "import/Importer.h"
#include "import/WeightMaterializer.h"
#include "import/QuantPolicy.h"
#include "import/Synth.h"
#include "import/WeightStore.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <unistd.h>

using namespace deltac;
using namespace llvm;

namespace {

class ImportTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(sys::fs::createUniqueDirectory("deltac-import-test", dir));
  }
  void TearDown() override { sys::fs::remove_directories(dir); }

  std::string path(StringRef name) {
    SmallString<256> p(dir);
    sys::path::append(p, name);
    return std::string(p);
  }

  void synth(const ModelConfig &config, bool gguf, StringRef out, StringRef dtype = "bf16",
             uint64_t maxShardBytes = 4ull << 30) {
    SynthOptions options;
    options.output = out.str();
    options.gguf = gguf;
    options.config = config;
    options.seed = 7;
    options.dtype = dtype.str();
    options.maxShardBytes = maxShardBytes;
    Error e = synthesizeCheckpoint(options);
    ASSERT_FALSE(bool(e)) << toString(std::move(e));
  }

  /// Imports `input` (with `policy`) and returns the opened store.
  std::unique_ptr<WeightStore> import(StringRef input, StringRef store, QuantPolicy policy = {}) {
    Expected<Checkpoint> ckpt = openCheckpoint(input);
    if (!ckpt) {
      ADD_FAILURE() << toString(ckpt.takeError());
      return nullptr;
    }
    mlir::MLIRContext context;
    ImportOptions options;
    options.quant = policy;
    mlir::OwningOpRef<mlir::ModuleOp> module = importCheckpoint(context, *ckpt, options);
    StoreOptions storeOptions;
    storeOptions.storePath = store.str();
    storeOptions.storePathInIR = store.str();
    storeOptions.keepUnreferenced = policy;
    Expected<StoreSummary> result = writeWeightStore(*module, *ckpt, storeOptions);
    if (!result) {
      ADD_FAILURE() << toString(result.takeError());
      return nullptr;
    }
    Expected<std::unique_ptr<WeightStore>> opened = WeightStore::open(store);
    if (!opened) {
      ADD_FAILURE() << toString(opened.takeError());
      return nullptr;
    }
    EXPECT_EQ((*opened)->fingerprint(), result->fingerprint);
    return std::move(*opened);
  }

  SmallString<128> dir;
};

std::vector<float> toFloats(const WeightStore::Tensor &t) {
  std::vector<float> out;
  size_t n = t.dtype == DC_WS_F32 ? t.data.size() / 4 : t.data.size() / 2;
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == DC_WS_F32) {
      std::memcpy(&out[i], t.data.data() + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, t.data.data() + 2 * i, 2);
      out[i] = t.dtype == DC_WS_BF16 ? ggml::bf16ToFloat(h) : ggml::fp16ToFloat(h);
    }
  }
  return out;
}

/// Where GGUF keeps value head h' when the converter tiles heads: it holds HF head (h' mod nk) * r +
/// h' / nk (spec §5.4 item 6). Identity when not tiled.
int64_t hfHead(int64_t ggufHead, const ModelConfig &c, bool tiled) {
  if (!tiled)
    return ggufHead;
  int64_t nk = c.numKeyHeads, r = c.numValueHeads / nk;
  return (ggufHead % nk) * r + ggufHead / nk;
}

/// Index into the HF tensor of element `index` of the GGUF tensor `name` (row-major, same shape).
int64_t hfIndex(StringRef name, ArrayRef<int64_t> shape, int64_t index, const ModelConfig &c,
                bool tiled) {
  int64_t cols = shape.back(), row = index / cols, col = index % cols;
  int64_t dv = c.valueHeadDim, vStart = 2 * c.keyDim();
  auto mapHead = [&](int64_t x, int64_t offset, int64_t size) {
    if (x < offset || x >= offset + c.numValueHeads * size)
      return x;
    int64_t head = (x - offset) / size;
    return offset + hfHead(head, c, tiled) * size + (x - offset) % size;
  };
  if (name.ends_with("in_proj_qkv.weight") || name.ends_with("conv1d.weight"))
    row = mapHead(row, vStart, dv);
  else if (name.ends_with("in_proj_z.weight"))
    row = mapHead(row, 0, dv);
  else if (name.ends_with("in_proj_a.weight") || name.ends_with("in_proj_b.weight"))
    row = mapHead(row, 0, 1);
  else if (name.ends_with("ssm_a") || name.ends_with("dt_bias"))
    col = mapHead(col, 0, 1);
  else if (name.ends_with("out_proj.weight"))
    col = mapHead(col, 0, dv);
  return row * cols + col;
}

/// The converter adds 1 to every norm weight but the gated one (spec §5.4 item 4).
bool isCenteredNorm(StringRef name) {
  return name.contains("norm") && !name.ends_with("linear_attn.norm.weight");
}

void expectSameModel(const WeightStore &hf, const WeightStore &gguf, const ModelConfig &c,
                     bool tiled) {
  ASSERT_EQ(hf.tensors().size(), gguf.tensors().size());
  for (const WeightStore::Tensor &g : gguf.tensors()) {
    std::string hfName = g.name.str();
    bool negExp = StringRef(hfName).ends_with("linear_attn.ssm_a");
    if (negExp)
      hfName = hfName.substr(0, hfName.size() - strlen("ssm_a")) + "A_log";
    const WeightStore::Tensor *h = hf.find(hfName);
    ASSERT_TRUE(h) << "no HF counterpart for " << g.name.str();
    ASSERT_EQ(h->shape, g.shape) << g.name.str();
    std::vector<float> hv = toFloats(*h), gv = toFloats(g);
    ASSERT_EQ(hv.size(), gv.size());
    for (size_t i = 0; i < gv.size(); ++i) {
      float v = hv[hfIndex(g.name, g.shape, int64_t(i), c, tiled)];
      if (isCenteredNorm(g.name))
        v = v + 1.0f;
      if (negExp)
        v = -std::exp(v);
      ASSERT_EQ(gv[i], v) << g.name.str() << " element " << i;
    }
  }
}

struct ArchCase {
  ModelArch arch;
  bool tiled; // GGUF tiles value heads for qwen35 / qwen35moe when nv != nk
};

class ImportArchTest : public ImportTest, public ::testing::WithParamInterface<ArchCase> {};

TEST_P(ImportArchTest, HuggingFaceAndGGUFGiveTheSameWeights) {
  Expected<ModelConfig> config = syntheticConfig("tiny", GetParam().arch, 0, 0);
  ASSERT_TRUE(bool(config));
  ASSERT_EQ(config->numValueHeads / config->numKeyHeads, 2) << "the tiny model must have r = 2";
  synth(*config, false, path("hf"));
  synth(*config, true, path("m.gguf"));
  std::unique_ptr<WeightStore> hf = import(path("hf"), path("hf.dcw"));
  std::unique_ptr<WeightStore> gguf = import(path("m.gguf"), path("gguf.dcw"));
  ASSERT_TRUE(hf && gguf);
  expectSameModel(*hf, *gguf, *config, GetParam().tiled);
}

INSTANTIATE_TEST_SUITE_P(Archs, ImportArchTest,
                         ::testing::Values(ArchCase{ModelArch::Qwen35, true},
                                           ArchCase{ModelArch::Qwen35MoE, true},
                                           ArchCase{ModelArch::Qwen3Next, false}));

// A checkpoint split into shards imports to exactly the same store as the single-file form.
TEST_F(ImportTest, ShardedCheckpointImportsIdentically) {
  Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
  ASSERT_TRUE(bool(config));
  synth(*config, false, path("single"));
  synth(*config, false, path("sharded"), "bf16", /*maxShardBytes=*/100000);
  EXPECT_TRUE(sys::fs::exists(path("sharded/model.safetensors.index.json")));
  EXPECT_TRUE(sys::fs::exists(path("sharded/model-00002-of-00006.safetensors")));
  std::unique_ptr<WeightStore> a = import(path("single"), path("a.dcw"));
  std::unique_ptr<WeightStore> b = import(path("sharded"), path("b.dcw"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->fingerprint(), b->fingerprint());
}

// GGUF Q8_0 and Q4_0 tensors are carried byte for byte: no second rounding, also when the
// quantization policy asks for the scheme they already have (int8 -> Q8_0, int4-g32 -> Q4_0).
TEST_F(ImportTest, GGMLBlockTensorsKeepTheirBytes) {
  Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
  ASSERT_TRUE(bool(config));
  for (StringRef dtype : {"q8_0", "q4_0"}) {
    std::string file = path(dtype.str() + ".gguf");
    synth(*config, true, file, dtype);
    QuantPolicy policy;
    policy.projections = dtype == "q8_0" ? WeightScheme::Int8 : WeightScheme::Int4;
    std::unique_ptr<WeightStore> store = import(file, path(dtype.str() + ".dcw"), policy);
    ASSERT_TRUE(store);
    Expected<std::unique_ptr<InputFile>> in = InputFile::open(file);
    ASSERT_TRUE(bool(in));
    Expected<GGUFFile> gguf = readGGUF(**in);
    ASSERT_TRUE(bool(gguf));
    const GGUFTensorInfo *qkv = nullptr;
    for (const GGUFTensorInfo &t : gguf->tensors)
      if (t.name == "blk.0.attn_qkv.weight")
        qkv = &t;
    ASSERT_TRUE(qkv);
    const WeightStore::Tensor *stored = store->find("layers.0.linear_attn.in_proj_qkv.weight");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->dtype, dtype == "q8_0" ? DC_WS_Q8_0 : DC_WS_Q4_0);
    std::vector<uint8_t> original(qkv->bytes);
    ASSERT_FALSE(bool((*in)->read(qkv->offset, original)));
    EXPECT_TRUE(std::equal(original.begin(), original.end(), stored->data.begin(),
                           stored->data.end()));
  }
}

// GGUF K-quant tensors (Q4_K, Q5_K, Q6_K) arrive in the store decoded to f32, row by row: the bytes
// of a synthesized GGUF are rewritten with random K-quant blocks in three matrices, and the store must
// hold exactly what the block decoder gives for those blocks (the decoder itself is checked bit for bit
// against gguf-py in GGMLQuantsTest).
TEST_F(ImportTest, KQuantTensorsAreDecodedToF32) {
  Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
  ASSERT_TRUE(bool(config));
  config->hiddenSize = 256; // K-quant rows hold multiples of 256 values
  synth(*config, true, path("bf16.gguf"));
  Expected<std::unique_ptr<InputFile>> in = InputFile::open(path("bf16.gguf"));
  ASSERT_TRUE(bool(in));
  Expected<GGUFFile> gguf = readGGUF(**in);
  ASSERT_TRUE(bool(gguf));

  const std::map<std::string, ggml::GGMLType> replaced = {
      {"blk.0.ffn_gate.weight", ggml::GGMLType::Q4_K},
      {"blk.0.ffn_up.weight", ggml::GGMLType::Q5_K},
      {"blk.1.attn_qkv.weight", ggml::GGMLType::Q6_K}};
  std::vector<GGUFWriter::TensorSpec> specs;
  for (const GGUFTensorInfo &t : gguf->tensors) {
    auto it = replaced.find(t.name);
    specs.push_back({t.name, t.shape(), it == replaced.end() ? t.type : uint32_t(it->second)});
  }
  Expected<std::unique_ptr<GGUFWriter>> writer =
      GGUFWriter::create(path("k.gguf"), gguf->metadata, specs);
  ASSERT_TRUE(bool(writer));
  std::map<std::string, std::vector<uint8_t>> blocks;
  uint64_t state = 12345;
  for (auto [i, t] : llvm::enumerate(gguf->tensors)) {
    std::vector<uint8_t> bytes((*writer)->tensorBytes(i));
    if (replaced.count(t.name)) {
      for (uint8_t &b : bytes)
        b = uint8_t((state = state * 6364136223846793005ull + 1442695040888963407ull) >> 56);
      // Sane f16 super-block scales (d, dmin first for Q4_K/Q5_K; d last for Q6_K).
      ggml::GGMLType type = replaced.at(t.name);
      int64_t blockBytes = ggml::getTypeTraits(uint32_t(type))->bytesPerBlock;
      for (size_t at = 0; at < bytes.size(); at += size_t(blockBytes)) {
        uint16_t d = ggml::floatToFp16(0.01f), dmin = ggml::floatToFp16(0.002f);
        size_t dAt = type == ggml::GGMLType::Q6_K ? size_t(blockBytes) - 2 : 0;
        std::memcpy(&bytes[at + dAt], &d, 2);
        if (type != ggml::GGMLType::Q6_K)
          std::memcpy(&bytes[at + 2], &dmin, 2);
      }
      blocks[t.name] = bytes;
    } else {
      ASSERT_FALSE(bool((*in)->read(t.offset, bytes)));
    }
    ASSERT_FALSE(bool((*writer)->write(i, bytes)));
  }
  ASSERT_FALSE(bool((*writer)->finish()));

  std::unique_ptr<WeightStore> store = import(path("k.gguf"), path("k.dcw"));
  ASSERT_TRUE(store);
  const std::map<std::string, std::string> canonical = {
      {"blk.0.ffn_gate.weight", "layers.0.mlp.gate_proj.weight"},
      {"blk.0.ffn_up.weight", "layers.0.mlp.up_proj.weight"},
      {"blk.1.attn_qkv.weight", "layers.1.linear_attn.in_proj_qkv.weight"}};
  for (const auto &[name, bytes] : blocks) {
    const WeightStore::Tensor *t = store->find(canonical.at(name));
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(t->dtype, DC_WS_F32) << name;
    int64_t rowLength = t->shape.back(), rows = int64_t(t->data.size() / 4) / rowLength;
    uint64_t rowBytes = *ggml::rowBytes(uint32_t(replaced.at(name)), rowLength);
    std::vector<float> want(rowLength), got(rowLength);
    for (int64_t r = 0; r < rows; ++r) {
      ASSERT_TRUE(ggml::dequantizeRow(replaced.at(name), bytes.data() + r * rowBytes, want.data(),
                                      rowLength));
      std::memcpy(got.data(), t->data.data() + r * rowLength * 4, rowLength * 4);
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), rowLength * 4)) << name << " row " << r;
    }
  }
}

// A bf16 checkpoint quantized on import: projections become Q8_0 blocks equal to quantizing the
// bf16 values (the import's own quantizer is the GGML reference one, checked against gguf-py), norms
// and the MoE-free vectors stay float, and class overrides win over --quant.
TEST_F(ImportTest, QuantPolicyQuantizesProjectionsOnly) {
  Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
  ASSERT_TRUE(bool(config));
  synth(*config, false, path("hf"));
  std::unique_ptr<WeightStore> plain = import(path("hf"), path("plain.dcw"));
  QuantPolicy policy;
  policy.projections = WeightScheme::Int8;
  policy.overrides[size_t(WeightClass::Attention)] = WeightScheme::Int4;
  std::unique_ptr<WeightStore> quant = import(path("hf"), path("quant.dcw"), policy);
  ASSERT_TRUE(plain && quant);
  const WeightStore::Tensor *qkv = quant->find("layers.0.linear_attn.in_proj_qkv.weight");
  const WeightStore::Tensor *q = quant->find("layers.3.self_attn.q_proj.weight");
  const WeightStore::Tensor *norm = quant->find("layers.0.input_layernorm.weight");
  const WeightStore::Tensor *embed = quant->find("embed_tokens.weight");
  ASSERT_TRUE(qkv && q && norm && embed);
  EXPECT_EQ(qkv->dtype, DC_WS_Q8_0);
  EXPECT_EQ(q->dtype, DC_WS_Q4_0);
  EXPECT_EQ(embed->dtype, DC_WS_Q8_0);
  EXPECT_EQ(norm->dtype, DC_WS_BF16);
  // The blocks are exactly the reference quantizer's output for the bf16 values.
  const WeightStore::Tensor *source = plain->find(qkv->name);
  std::vector<float> row = toFloats(*source);
  int64_t k = qkv->shape.back();
  std::vector<uint8_t> want(*ggml::rowBytes(uint32_t(ggml::GGMLType::Q8_0), k));
  for (int64_t r = 0; r < qkv->shape[0]; ++r) {
    ASSERT_TRUE(ggml::quantizeRow(ggml::GGMLType::Q8_0, row.data() + r * k, want.data(), k));
    ASSERT_EQ(0, std::memcmp(want.data(), qkv->data.data() + r * want.size(), want.size()))
        << "row " << r;
  }
}

// int4-g64 / int4-g128 on import: each matrix takes the largest group of 128, 64, 32 that divides
// its rows (the tiny model's rows hold 64 or 128 values), the bytes are deltac's quantizer applied to
// the checkpoint's values, and norms stay float.
TEST_F(ImportTest, Int4GroupsTakeTheLargestGroupThatFits) {
  Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
  ASSERT_TRUE(bool(config));
  synth(*config, false, path("hf"));
  std::unique_ptr<WeightStore> plain = import(path("hf"), path("plain.dcw"));
  for (bool asym : {false, true}) {
    QuantPolicy policy;
    policy.projections = WeightScheme::Int4G128;
    policy.asymmetric = asym;
    std::unique_ptr<WeightStore> quant =
        import(path("hf"), path(asym ? "g128a.dcw" : "g128.dcw"), policy);
    ASSERT_TRUE(plain && quant);
    const WeightStore::Tensor *down = quant->find("layers.0.mlp.down_proj.weight");
    const WeightStore::Tensor *qkv = quant->find("layers.0.linear_attn.in_proj_qkv.weight");
    const WeightStore::Tensor *norm = quant->find("layers.0.input_layernorm.weight");
    ASSERT_TRUE(down && qkv && norm);
    ASSERT_EQ(down->shape.back(), 128);
    ASSERT_EQ(qkv->shape.back(), 64);
    EXPECT_EQ(down->dtype, asym ? DC_WS_Q4_1_G128 : DC_WS_Q4_0_G128);
    EXPECT_EQ(qkv->dtype, asym ? DC_WS_Q4_1_G64 : DC_WS_Q4_0_G64);
    EXPECT_EQ(norm->dtype, DC_WS_BF16);
    for (const WeightStore::Tensor *t : {down, qkv}) {
      std::vector<float> values = toFloats(*plain->find(t->name));
      const quants::Int4Format format{weightDTypeGroup(t->dtype), asym};
      const int64_t k = t->shape.back();
      std::vector<uint8_t> want(*quants::int4RowBytes(format, k));
      for (int64_t r = 0; r < t->shape[0]; ++r) {
        ASSERT_TRUE(quants::quantizeRowInt4(format, values.data() + r * k, want.data(), k));
        ASSERT_EQ(0, std::memcmp(want.data(), t->data.data() + r * want.size(), want.size()))
            << t->name.str() << " row " << r;
      }
    }
  }
}

// The group each scheme gives rows of each length: the scheme's own, else the largest smaller one
// that divides the row, else float.
TEST(QuantPolicy, GroupFallback) {
  auto dtypeFor = [](WeightScheme scheme, bool asym, int64_t k) {
    QuantPolicy policy;
    policy.projections = scheme;
    policy.asymmetric = asym;
    CatalogTensor t{"layers.0.mlp.down_proj.weight", {16, k}, TensorRole::Linear};
    return policy.storeDType(t, DC_WS_BF16, false);
  };
  EXPECT_EQ(dtypeFor(WeightScheme::Int4G128, false, 256), DC_WS_Q4_0_G128);
  EXPECT_EQ(dtypeFor(WeightScheme::Int4G128, false, 192), DC_WS_Q4_0_G64);
  EXPECT_EQ(dtypeFor(WeightScheme::Int4G128, true, 96), DC_WS_Q4_1);
  EXPECT_EQ(dtypeFor(WeightScheme::Int4G128, false, 40), DC_WS_BF16);
  EXPECT_EQ(dtypeFor(WeightScheme::Int4G64, true, 256), DC_WS_Q4_1_G64);
  EXPECT_EQ(dtypeFor(WeightScheme::Int4G64, false, 160), DC_WS_Q4_0);
  EXPECT_EQ(dtypeFor(WeightScheme::Int4, false, 256), DC_WS_Q4_0);
  EXPECT_EQ(dtypeFor(WeightScheme::Int8, false, 256), DC_WS_Q8_0);
  for (StringRef text : {"int4-g64", "int4-g128"}) {
    Expected<WeightScheme> scheme = parseWeightScheme(text, "--quant");
    ASSERT_TRUE(bool(scheme));
    EXPECT_EQ(weightSchemeName(*scheme).str(), text.str());
  }
  Expected<WeightScheme> bad = parseWeightScheme("int4-g96", "--quant-mlp");
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(toString(bad.takeError()),
            "unknown --quant-mlp 'int4-g96' (f32, bf16, int8, int4-g32, int4-g64, int4-g128)");
}

// The store sizes deltac's int4 dtypes by their own group, refuses a shape whose rows are not whole
// groups, and its row codec is import/DeltacQuants.h's.
TEST_F(ImportTest, StoreEncodingsOfInt4Groups) {
  EXPECT_EQ(storedBytes(DC_WS_Q4_0_G128, {3, 256}), 3u * 2 * 66);
  EXPECT_EQ(storedBytes(DC_WS_Q4_1_G128, {2, 4, 128}), 8u * 68);
  EXPECT_EQ(storedBytes(DC_WS_Q4_0_G64, {5, 192}), 5u * 3 * 34);
  EXPECT_EQ(storedBytes(DC_WS_Q4_1_G64, {1, 64}), 36u);
  EXPECT_FALSE(storedBytes(DC_WS_Q4_0_G128, {2, 192}));
  EXPECT_FALSE(storedBytes(DC_WS_Q4_1_G64, {2, 96}));
  EXPECT_EQ(weightDTypeName(DC_WS_Q4_1_G128).str(), "q4_1_g128");
  Expected<std::unique_ptr<WeightStoreWriter>> writer =
      WeightStoreWriter::create(path("bad.dcw"), {{"w", DC_WS_Q4_0_G128, {2, 192}}});
  ASSERT_FALSE(bool(writer));
  std::string message = toString(writer.takeError());
  EXPECT_NE(message.find("tensor w has a shape that q4_0_g128 cannot store"), std::string::npos)
      << message;

  std::vector<float> row(256);
  for (size_t i = 0; i < row.size(); ++i)
    row[i] = std::sin(float(i)) * float(i % 7);
  for (dc_ws_dtype dtype : {DC_WS_Q4_0_G64, DC_WS_Q4_1_G64, DC_WS_Q4_0_G128, DC_WS_Q4_1_G128}) {
    const quants::Int4Format format{weightDTypeGroup(dtype),
                                    dtype == DC_WS_Q4_1_G64 || dtype == DC_WS_Q4_1_G128};
    std::vector<uint8_t> got(*storedBytes(dtype, {256})), want(got.size());
    ASSERT_TRUE(encodeRow(dtype, row.data(), got.data(), 256));
    ASSERT_TRUE(quants::quantizeRowInt4(format, row.data(), want.data(), 256));
    EXPECT_EQ(got, want) << weightDTypeName(dtype).str();
    std::vector<float> decoded(256), expected(256);
    ASSERT_TRUE(decodeRow(dtype, got.data(), decoded.data(), 256));
    ASSERT_TRUE(quants::dequantizeRowInt4(format, want.data(), expected.data(), 256));
    EXPECT_EQ(decoded, expected);
    EXPECT_FALSE(encodeRow(dtype, row.data(), got.data(), 96));
  }
}

// Packed rows (kernel_abi.h, "Packed rows"): each GGUF block's codes in turn (Q8_0 codes + 128),
// then the scales; the same values in the same bytes, and back again exactly.
TEST_F(ImportTest, PackedRowsRearrangeGGUFBlocks) {
  EXPECT_EQ(storedBytes(DC_WS_Q8_0_PACKED, {3, 64}), 3u * 2 * 34);
  EXPECT_EQ(storedBytes(DC_WS_Q4_0_PACKED, {3, 64}), 3u * 2 * 18);
  EXPECT_FALSE(storedBytes(DC_WS_Q4_0_PACKED, {2, 48}));
  EXPECT_EQ(weightDTypeName(DC_WS_Q4_0_PACKED).str(), "q4_0_packed");
  EXPECT_EQ(unpackedDType(DC_WS_Q8_0_PACKED), DC_WS_Q8_0);
  EXPECT_EQ(packedDType(DC_WS_Q4_0), DC_WS_Q4_0_PACKED);
  EXPECT_FALSE(packedDType(DC_WS_Q4_1));

  std::vector<float> row(96);
  for (size_t i = 0; i < row.size(); ++i)
    row[i] = std::sin(float(i) * 0.37f) * float(1 + i % 5);
  for (dc_ws_dtype packed : {DC_WS_Q8_0_PACKED, DC_WS_Q4_0_PACKED}) {
    const dc_ws_dtype blocks = *unpackedDType(packed);
    const bool q8 = blocks == DC_WS_Q8_0;
    const size_t blockBytes = q8 ? 34 : 18, codeBytes = blockBytes - 2;
    std::vector<uint8_t> gguf(*storedBytes(blocks, {96})), got(gguf.size());
    ASSERT_TRUE(encodeRow(blocks, row.data(), gguf.data(), 96));
    ASSERT_TRUE(encodeRow(packed, row.data(), got.data(), 96));
    // The layout, byte by byte, from the definition.
    for (size_t b = 0; b < 3; ++b) {
      EXPECT_EQ(got[3 * codeBytes + 2 * b], gguf[b * blockBytes]);
      EXPECT_EQ(got[3 * codeBytes + 2 * b + 1], gguf[b * blockBytes + 1]);
      for (size_t i = 0; i < codeBytes; ++i)
        EXPECT_EQ(got[b * codeBytes + i], uint8_t(gguf[b * blockBytes + 2 + i] + (q8 ? 128 : 0)))
            << weightDTypeName(packed).str() << " block " << b << " byte " << i;
    }
    std::vector<uint8_t> viaPackRows(gguf.size());
    ASSERT_TRUE(packRows(packed, gguf.data(), viaPackRows.data(), 1, 96));
    EXPECT_EQ(viaPackRows, got);
    std::vector<uint8_t> back(gguf.size());
    quants::unpackRow(q8 ? quants::PackedKind::Q8_0 : quants::PackedKind::Q4_0, got.data(),
                      back.data(), 96);
    EXPECT_EQ(back, gguf);
    std::vector<float> decoded(96), expected(96);
    ASSERT_TRUE(decodeRow(packed, got.data(), decoded.data(), 96));
    ASSERT_TRUE(decodeRow(blocks, gguf.data(), expected.data(), 96));
    EXPECT_EQ(decoded, expected);
    EXPECT_FALSE(packRows(packed, gguf.data(), got.data(), 1, 48));
  }
  EXPECT_FALSE(packRows(DC_WS_Q8_0, nullptr, nullptr, 1, 32));
}

// Q4_0_X8 (the AVX2 kernels' layout): the Q4_0 code bytes of each span of 8 blocks interleaved 4
// bytes at a time, the scales as in Q4_0_PACKED. 11 blocks: one full span and a last span of 3.
TEST_F(ImportTest, InterleavedQ4RowsRearrangeSpansOfEightBlocks) {
  EXPECT_EQ(storedBytes(DC_WS_Q4_0_X8, {3, 352}), 3u * 11 * 18);
  EXPECT_FALSE(storedBytes(DC_WS_Q4_0_X8, {2, 48}));
  EXPECT_EQ(weightDTypeName(DC_WS_Q4_0_X8).str(), "q4_0_x8");
  EXPECT_EQ(unpackedDType(DC_WS_Q4_0_X8), DC_WS_Q4_0);
  const int64_t n = 352, blocks = n / 32;
  std::vector<float> row(n);
  for (size_t i = 0; i < row.size(); ++i)
    row[i] = std::cos(float(i) * 0.29f) * float(1 + i % 7);
  std::vector<uint8_t> gguf(*storedBytes(DC_WS_Q4_0, {n})), got(gguf.size());
  ASSERT_TRUE(encodeRow(DC_WS_Q4_0, row.data(), gguf.data(), n));
  ASSERT_TRUE(encodeRow(DC_WS_Q4_0_X8, row.data(), got.data(), n));
  // Span 0: chunk m (32 bytes) holds bytes 4m .. 4m + 3 of blocks 0 .. 7 in turn. Span 1 (blocks
  // 8 .. 10, at byte 128): chunks of 12 bytes.
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t span = b / 8, g = span == 0 ? 8 : 3, j = b % 8;
    EXPECT_EQ(got[n / 2 + 2 * b], gguf[b * 18]);
    EXPECT_EQ(got[n / 2 + 2 * b + 1], gguf[b * 18 + 1]);
    for (int64_t i = 0; i < 16; ++i)
      EXPECT_EQ(got[128 * span + 4 * g * (i / 4) + 4 * j + i % 4], gguf[b * 18 + 2 + i])
          << "block " << b << " byte " << i;
  }
  std::vector<uint8_t> viaPackRows(gguf.size()), back(gguf.size());
  ASSERT_TRUE(packRows(DC_WS_Q4_0_X8, gguf.data(), viaPackRows.data(), 1, n));
  EXPECT_EQ(viaPackRows, got);
  quants::unpackRow(quants::PackedKind::Q4_0_X8, got.data(), back.data(), n);
  EXPECT_EQ(back, gguf);
  std::vector<float> decoded(n), expected(n);
  ASSERT_TRUE(decodeRow(DC_WS_Q4_0_X8, got.data(), decoded.data(), n));
  ASSERT_TRUE(decodeRow(DC_WS_Q4_0, gguf.data(), expected.data(), n));
  EXPECT_EQ(decoded, expected);
}

// A store cut short is rejected with a message naming it; a failed writer leaves nothing behind.
TEST_F(ImportTest, TruncatedStoreIsRejected) {
  Expected<ModelConfig> config = syntheticConfig("tiny", ModelArch::Qwen35, 0, 0);
  ASSERT_TRUE(bool(config));
  synth(*config, false, path("hf"));
  ASSERT_TRUE(import(path("hf"), path("ok.dcw")));
  uint64_t size;
  ASSERT_FALSE(sys::fs::file_size(path("ok.dcw"), size));
  ASSERT_FALSE(sys::fs::copy_file(path("ok.dcw"), path("cut.dcw")));
  ASSERT_EQ(::truncate(path("cut.dcw").c_str(), off_t(size - 100)), 0);
  Expected<std::unique_ptr<WeightStore>> cut = WeightStore::open(path("cut.dcw"));
  ASSERT_FALSE(bool(cut));
  std::string message = toString(cut.takeError());
  EXPECT_NE(message.find("cut.dcw"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST_F(ImportTest, WriterThatDoesNotFinishLeavesNoFile) {
  {
    Expected<std::unique_ptr<WeightStoreWriter>> writer =
        WeightStoreWriter::create(path("partial.dcw"), {{"a", DC_WS_F32, {4}}});
    ASSERT_TRUE(bool(writer));
    uint8_t bytes[8] = {};
    ASSERT_FALSE(bool((*writer)->write(0, bytes)));
    // Destroyed without finish(): the import was interrupted.
  }
  std::error_code ec;
  int files = 0;
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
    ++files;
  EXPECT_EQ(files, 0);
}

} // namespace
