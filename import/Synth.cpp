//===- Synth.cpp - synthesize random checkpoints at real shapes -----------===//

#include "import/Synth.h"

#include "import/FormatNames.h"
#include "import/GGMLQuants.h"
#include "import/GGUF.h"
#include "import/Safetensors.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstring>

using namespace llvm;

namespace deltac {

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t nameKey(uint64_t seed, StringRef name) {
  uint64_t h = splitmix64(seed);
  for (char ch : name)
    h = splitmix64(h ^ uint8_t(ch));
  return h;
}

/// Uniform in [0, 1) from a 64-bit counter hash.
static double uniform01(uint64_t key, uint64_t index) {
  return double(splitmix64(key ^ splitmix64(index)) >> 11) * 0x1.0p-53;
}

/// The value of element `index` of the tensor whose name hashed to `key`.
static float synthValueFromKey(uint64_t key, uint64_t index, TensorRole role) {
  double u = uniform01(key, index);
  double s = 2 * u - 1; // [-1, 1)
  switch (role) {
  case TensorRole::Embedding:
  case TensorRole::LMHead:
  case TensorRole::Linear:
  case TensorRole::Experts:
    // Uniform with standard deviation 0.02, Hugging Face's initializer_range.
    return float(s * 0.02 * std::sqrt(3.0));
  case TensorRole::CenteredNorm: return float(0.1 * s);
  case TensorRole::PlainNorm: return float(1.0 + 0.1 * s);
  case TensorRole::Conv: return float(0.5 * s);
  case TensorRole::DecayLog:
  case TensorRole::DecayNegExp: return float(std::log(1.0 + 15.0 * u)); // A in [1, 16)
  case TensorRole::DtBias: return float(1.0 + 0.5 * s);
  }
  return 0;
}

float synthValue(uint64_t seed, StringRef name, uint64_t index, TensorRole role) {
  return synthValueFromKey(nameKey(seed, name), index, role);
}

namespace {

/// One output row's source: canonical tensor row, and how output columns map to canonical columns.
struct HeadPermutation {
  int64_t offset = 0;    ///< first permuted index
  int64_t heads = 0;     ///< number of value heads (0: identity)
  int64_t headSize = 0;  ///< indices per head
  int64_t keyHeads = 0;
  /// Canonical index of output index x (GGUF tiled head h' = j * nk + kh holds HF head kh * r + j).
  int64_t map(int64_t x) const {
    if (heads == 0 || x < offset || x >= offset + heads * headSize)
      return x;
    int64_t local = x - offset, tiled = local / headSize, within = local % headSize;
    int64_t r = heads / keyHeads;
    int64_t grouped = (tiled % keyHeads) * r + tiled / keyHeads;
    return offset + grouped * headSize + within;
  }
};

struct RowSource {
  int64_t catalogIndex;
  int64_t firstRow;
  int64_t rows;
};

/// A tensor of the output file.
struct OutputTensor {
  std::string name;
  SmallVector<int64_t, 4> shape; ///< as the format records it
  std::vector<RowSource> rows;   ///< canonical rows, in output order
  HeadPermutation rowPerm, colPerm;
  bool addOne = false;           ///< GGUF zero-centred norms store 1 + w
  bool negExp = false;           ///< GGUF ssm_a stores -exp(A_log)
  /// For GGUF's ssm_a: the canonical A_log whose values it transforms (otherwise each row's values
  /// are those of the catalog tensor it comes from).
  std::string negExpOf;
  TensorRole role;
  std::string dtype;             ///< "f32", "f16", "bf16", "q8_0", "q4_0"
};

class Synthesizer {
public:
  Synthesizer(const SynthOptions &options)
      : o(options), c(options.config),
        catalog(catalogTensors(c, options.gguf ? DecayStorage::NegExp : DecayStorage::ALog,
                               options.withMTP)) {}

  Error run() { return o.gguf ? writeGGUF() : writeHF(); }

private:
  bool isMatrix(TensorRole role) const {
    return role == TensorRole::Embedding || role == TensorRole::LMHead ||
           role == TensorRole::Linear || role == TensorRole::Experts;
  }

  int64_t rowLength(const CatalogTensor &t) const { return t.shape.back(); }
  int64_t rowCount(const CatalogTensor &t) const {
    int64_t n = 1;
    for (size_t i = 0; i + 1 < t.shape.size(); ++i)
      n *= t.shape[i];
    return n;
  }

  OutputTensor whole(size_t index, std::string name, SmallVector<int64_t, 4> shape) {
    const CatalogTensor &t = catalog[index];
    OutputTensor out;
    out.name = std::move(name);
    out.shape = std::move(shape);
    out.rows.push_back({int64_t(index), 0, rowCount(t)});
    out.role = t.role;
    out.dtype = isMatrix(t.role) ? o.dtype : (o.gguf ? "f32" : o.dtype);
    return out;
  }

  size_t find(StringRef name) const {
    for (size_t i = 0; i < catalog.size(); ++i)
      if (catalog[i].name == name)
        return i;
    llvm_unreachable("catalog tensor not found");
  }

  std::vector<OutputTensor> hfTensors();
  std::vector<OutputTensor> ggufTensors();
  Error writeHF();
  Error writeGGUF();
  /// Encodes output row `row` of `t` into `bytes`.
  void encodeRow(const OutputTensor &t, int64_t row, std::vector<uint8_t> &bytes);
  uint64_t encodedBytes(const OutputTensor &t) const;

  template <typename Writer>
  Error stream(Writer &writer, size_t index, const OutputTensor &t, uint64_t total);

  const SynthOptions &o;
  const ModelConfig &c;
  std::vector<CatalogTensor> catalog;
  uint64_t done = 0;
};

std::vector<OutputTensor> Synthesizer::hfTensors() {
  std::vector<OutputTensor> out;
  int64_t nk = c.numKeyHeads, dk = c.keyHeadDim, dv = c.valueHeadDim;
  int64_t r = c.numValueHeads / nk;
  for (size_t i = 0; i < catalog.size(); ++i) {
    const CatalogTensor &t = catalog[i];
    StringRef name = t.name;
    std::string hf = hfTensorName(defaultHFPrefix(c), name);
    if (name.ends_with("linear_attn.conv1d.weight")) {
      out.push_back(whole(i, hf, {t.shape[0], 1, t.shape[1]}));
    } else if (c.arch == ModelArch::Qwen3Next && name.ends_with("linear_attn.in_proj_qkv.weight")) {
      // Fused, grouped by key head: [q | k | v of r heads | z of r heads] (spec §2.4).
      size_t z = find(name.drop_back(strlen("in_proj_qkv.weight")).str() + "in_proj_z.weight");
      OutputTensor fused = whole(i, StringRef(hf).drop_back(strlen("qkv.weight")).str() +
                                        "qkvz.weight",
                                 {c.convDim() + c.valueDim(), c.hiddenSize});
      fused.rows.clear();
      for (int64_t kh = 0; kh < nk; ++kh) {
        fused.rows.push_back({int64_t(i), kh * dk, dk});
        fused.rows.push_back({int64_t(i), c.keyDim() + kh * dk, dk});
        fused.rows.push_back({int64_t(i), 2 * c.keyDim() + kh * r * dv, r * dv});
        fused.rows.push_back({int64_t(z), kh * r * dv, r * dv});
      }
      out.push_back(std::move(fused));
    } else if (c.arch == ModelArch::Qwen3Next && name.ends_with("linear_attn.in_proj_b.weight")) {
      size_t a = find(name.drop_back(strlen("b.weight")).str() + "a.weight");
      OutputTensor fused = whole(i, StringRef(hf).drop_back(strlen("b.weight")).str() + "ba.weight",
                                 {2 * c.numValueHeads, c.hiddenSize});
      fused.rows.clear();
      for (int64_t kh = 0; kh < nk; ++kh) {
        fused.rows.push_back({int64_t(i), kh * r, r});
        fused.rows.push_back({int64_t(a), kh * r, r});
      }
      out.push_back(std::move(fused));
    } else if (c.arch == ModelArch::Qwen3Next &&
               (name.ends_with("linear_attn.in_proj_z.weight") ||
                name.ends_with("linear_attn.in_proj_a.weight"))) {
      continue; // written as part of the fused tensors
    } else if (t.role == TensorRole::Experts) {
      // Per-expert tensors, as published checkpoints store them.
      StringRef base = StringRef(hf).drop_back(strlen(".weight"));
      auto [prefix, proj] = base.rsplit('.');
      for (int64_t e = 0; e < t.shape[0]; ++e) {
        OutputTensor expert = whole(i, (prefix + "." + Twine(e) + "." + proj + ".weight").str(),
                                    {t.shape[1], t.shape[2]});
        expert.rows = {{int64_t(i), e * t.shape[1], t.shape[1]}};
        out.push_back(std::move(expert));
      }
    } else {
      out.push_back(whole(i, hf, t.shape));
    }
  }
  return out;
}

std::vector<OutputTensor> Synthesizer::ggufTensors() {
  std::vector<OutputTensor> out;
  bool tiled = c.arch != ModelArch::Qwen3Next && c.numValueHeads != c.numKeyHeads;
  HeadPermutation heads;
  if (tiled)
    heads = {0, c.numValueHeads, 1, c.numKeyHeads};
  for (size_t i = 0; i < catalog.size(); ++i) {
    const CatalogTensor &t = catalog[i];
    StringRef name = t.name;
    SmallVector<int64_t, 4> shape = t.shape;
    if (name.ends_with("shared_expert_gate.weight"))
      shape = {c.hiddenSize};
    OutputTensor g = whole(i, ggufTensorName(c, name), shape);
    g.addOne = t.role == TensorRole::CenteredNorm;
    if (t.role == TensorRole::DecayNegExp) {
      g.negExp = true;
      g.negExpOf = name.drop_back(strlen("ssm_a")).str() + "A_log";
    }
    if (tiled) {
      // Every per-value-head tensor is permuted consistently (spec §5.4 item 6).
      HeadPermutation p = heads;
      if (name.ends_with("in_proj_qkv.weight") || name.ends_with("conv1d.weight")) {
        p.offset = 2 * c.keyDim();
        p.headSize = c.valueHeadDim;
        g.rowPerm = p;
      } else if (name.ends_with("in_proj_z.weight")) {
        p.headSize = c.valueHeadDim;
        g.rowPerm = p;
      } else if (name.ends_with("in_proj_a.weight") || name.ends_with("in_proj_b.weight")) {
        g.rowPerm = p;
      } else if (name.ends_with("ssm_a") || name.ends_with("dt_bias")) {
        g.colPerm = p;
      } else if (name.ends_with("out_proj.weight")) {
        p.headSize = c.valueHeadDim;
        g.colPerm = p;
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

uint64_t Synthesizer::encodedBytes(const OutputTensor &t) const {
  uint64_t rows = 0;
  for (const RowSource &r : t.rows)
    rows += uint64_t(r.rows);
  uint64_t len = uint64_t(t.shape.back());
  if (t.dtype == "f32")
    return rows * len * 4;
  if (t.dtype == "f16" || t.dtype == "bf16")
    return rows * len * 2;
  return rows * (len / 32) * (t.dtype == "q8_0" ? 34 : 18);
}

void Synthesizer::encodeRow(const OutputTensor &t, int64_t row, std::vector<uint8_t> &bytes) {
  // Find the canonical row behind output row `row` (after the fused-row list and the permutation).
  int64_t canonicalRow = t.rowPerm.map(row), index = -1;
  int64_t seen = 0;
  for (const RowSource &r : t.rows) {
    if (canonicalRow < seen + r.rows) {
      index = r.catalogIndex;
      canonicalRow = r.firstRow + (canonicalRow - seen);
      break;
    }
    seen += r.rows;
  }
  const CatalogTensor &source = catalog[index];
  StringRef valueName = t.negExp ? StringRef(t.negExpOf) : StringRef(source.name);
  int64_t len = rowLength(source);
  std::vector<float> values(len);
  uint64_t key = nameKey(o.seed, valueName);
  for (int64_t col = 0; col < len; ++col) {
    uint64_t flat = uint64_t(canonicalRow) * len + uint64_t(t.colPerm.map(col));
    // The synthesized model is a bf16 model: round once, then apply format transforms in f32.
    float v = ggml::bf16ToFloat(
        ggml::floatToBf16(synthValueFromKey(key, flat, source.role)));
    if (t.addOne)
      v = v + 1.0f;
    if (t.negExp)
      v = -std::exp(v);
    values[col] = v;
  }
  size_t at = bytes.size();
  if (t.dtype == "f32") {
    bytes.resize(at + len * 4);
    std::memcpy(bytes.data() + at, values.data(), len * 4);
  } else if (t.dtype == "f16" || t.dtype == "bf16") {
    bytes.resize(at + len * 2);
    for (int64_t i = 0; i < len; ++i) {
      uint16_t h = t.dtype == "f16" ? ggml::floatToFp16(values[i]) : ggml::floatToBf16(values[i]);
      std::memcpy(bytes.data() + at + 2 * i, &h, 2);
    }
  } else {
    auto type = t.dtype == "q8_0" ? ggml::GGMLType::Q8_0 : ggml::GGMLType::Q4_0;
    bytes.resize(at + *ggml::rowBytes(uint32_t(type), len));
    ggml::quantizeRow(type, values.data(), bytes.data() + at, len);
  }
}

template <typename Writer>
Error Synthesizer::stream(Writer &writer, size_t index, const OutputTensor &t, uint64_t total) {
  int64_t rows = 0;
  for (const RowSource &r : t.rows)
    rows += r.rows;
  std::vector<uint8_t> bytes;
  for (int64_t row = 0; row < rows; ++row) {
    encodeRow(t, row, bytes);
    if (bytes.size() >= (8u << 20) || row + 1 == rows) {
      Error e = Error::success();
      if constexpr (std::is_same_v<Writer, GGUFWriter>)
        e = writer.write(index, bytes);
      else
        e = writer.write(bytes);
      if (e)
        return e;
      done += bytes.size();
      if (o.progress)
        o.progress(done, total, t.name);
      bytes.clear();
    }
  }
  return Error::success();
}

Error Synthesizer::writeHF() {
  if (std::error_code ec = sys::fs::create_directories(o.output))
    return fileError(o.output, "cannot create directory: " + ec.message());
  if (Error e = writeFileAtomically((o.output + "/config.json"), toHFConfigJSON(c)))
    return e;
  std::vector<OutputTensor> tensors = hfTensors();
  uint64_t total = 0;
  for (const OutputTensor &t : tensors)
    total += encodedBytes(t);

  // Greedy sharding in catalog order, as save_pretrained does.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t shardBytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    uint64_t bytes = encodedBytes(tensors[i]);
    if (!shards.back().empty() && shardBytes + bytes > o.maxShardBytes) {
      shards.emplace_back();
      shardBytes = 0;
    }
    shards.back().push_back(i);
    shardBytes += bytes;
  }
  json::Object weightMap;
  for (size_t s = 0; s < shards.size(); ++s) {
    std::string file = shards.size() == 1
                           ? std::string("model.safetensors")
                           : formatv("model-{0:d5}-of-{1:d5}.safetensors", s + 1, shards.size()).str();
    std::vector<SafetensorsWriter::Spec> specs;
    for (size_t i : shards[s]) {
      const OutputTensor &t = tensors[i];
      SafetensorsDType dtype = t.dtype == "f32"   ? SafetensorsDType::F32
                               : t.dtype == "f16" ? SafetensorsDType::F16
                                                  : SafetensorsDType::BF16;
      specs.push_back({t.name, dtype, t.shape});
      weightMap[t.name] = file;
    }
    Expected<std::unique_ptr<SafetensorsWriter>> writer =
        SafetensorsWriter::create(o.output + "/" + file, std::move(specs));
    if (!writer)
      return writer.takeError();
    for (size_t i : shards[s])
      if (Error e = stream(**writer, 0, tensors[i], total))
        return e;
    if (Error e = (*writer)->finish())
      return e;
  }
  if (shards.size() > 1) {
    json::Object index{{"metadata", json::Object{{"total_size", int64_t(total)}}},
                       {"weight_map", std::move(weightMap)}};
    if (Error e = writeFileAtomically(o.output + "/model.safetensors.index.json",
                                      formatv("{0:2}", json::Value(std::move(index))).str()))
      return e;
  }
  return Error::success();
}

Error Synthesizer::writeGGUF() {
  std::vector<OutputTensor> tensors = ggufTensors();
  std::vector<GGUFWriter::TensorSpec> specs;
  uint64_t total = 0;
  for (const OutputTensor &t : tensors) {
    uint32_t type = t.dtype == "f32"    ? uint32_t(ggml::GGMLType::F32)
                    : t.dtype == "f16"  ? uint32_t(ggml::GGMLType::F16)
                    : t.dtype == "bf16" ? uint32_t(ggml::GGMLType::BF16)
                    : t.dtype == "q8_0" ? uint32_t(ggml::GGMLType::Q8_0)
                                        : uint32_t(ggml::GGMLType::Q4_0);
    specs.push_back({t.name, t.shape, type});
    total += encodedBytes(t);
  }
  Expected<std::unique_ptr<GGUFWriter>> writer =
      GGUFWriter::create(o.output, toGGUFMetadata(c), std::move(specs));
  if (!writer)
    return writer.takeError();
  for (auto [i, t] : llvm::enumerate(tensors))
    if (Error e = stream(**writer, i, t, total))
      return e;
  return (*writer)->finish();
}

} // namespace

Error synthesizeCheckpoint(const SynthOptions &options) {
  StringRef dtype = options.dtype;
  bool quantized = dtype == "q8_0" || dtype == "q4_0";
  if (!(dtype == "f32" || dtype == "f16" || dtype == "bf16" || quantized))
    return createStringError(inconvertibleErrorCode(),
                             "synth: unknown --dtype '" + dtype.str() +
                                 "' (f32, f16, bf16; GGUF also q8_0, q4_0)");
  if (quantized && !options.gguf)
    return createStringError(inconvertibleErrorCode(),
                             "synth: --dtype " + dtype.str() + " is only available with --format gguf");
  return Synthesizer(options).run();
}

} // namespace deltac
