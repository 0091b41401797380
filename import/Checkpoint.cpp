//===- Checkpoint.cpp - open a checkpoint and resolve its tensors ---------===//

#include "import/Checkpoint.h"

#include "import/FormatNames.h"
#include "import/GGMLQuants.h"
#include "import/GGUF.h"
#include "import/Safetensors.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace deltac {

uint64_t Checkpoint::sourceBytes() const {
  uint64_t total = 0;
  for (const ImportTensor &t : tensors)
    for (const TensorPiece &p : t.pieces)
      total += p.bytes;
  return total;
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Shapes that differ only by size-1 dimensions hold the same values (HF conv1d [C, 1, K] is [C, K];
/// GGUF's shared-expert gate [H] is [1, H]).
static bool sameSqueezedShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  SmallVector<int64_t, 4> sa, sb;
  for (int64_t d : a)
    if (d != 1)
      sa.push_back(d);
  for (int64_t d : b)
    if (d != 1)
      sb.push_back(d);
  return sa == sb;
}

/// Appends rows [first, first + count) of a row-major source to `pieces`, merging adjacent ranges.
static void appendRows(std::vector<TensorPiece> &pieces, const InputFile *file, uint64_t base,
                       uint64_t rowBytes, int64_t first, int64_t count) {
  uint64_t offset = base + uint64_t(first) * rowBytes, bytes = uint64_t(count) * rowBytes;
  if (!pieces.empty() && pieces.back().file == file &&
      pieces.back().offset + pieces.back().bytes == offset) {
    pieces.back().bytes += bytes;
    return;
  }
  pieces.push_back({file, offset, bytes});
}

//===----------------------------------------------------------------------===//
// Hugging Face directories
//===----------------------------------------------------------------------===//

namespace {

struct HFSource {
  const InputFile *file;
  SafetensorsTensor tensor;
  bool used = false;
};

class HFResolver {
public:
  HFResolver(Checkpoint &ckpt, StringMap<HFSource> &sources) : ckpt(ckpt), sources(sources) {
    // Published Qwen3.5 checkpoints wrap the text model ("model.language_model."); text-only
    // *ForCausalLM checkpoints (and Qwen3-Next) use "model.".
    prefix = sources.count("model.language_model.embed_tokens.weight") ? "model.language_model."
                                                                        : "model.";
  }

  Error error(const Twine &message) { return fileError(ckpt.path, message); }

  Expected<HFSource *> find(StringRef name) {
    auto it = sources.find(name);
    if (it == sources.end())
      return error("missing tensor '" + name + "'");
    return &it->second;
  }

  Expected<dc_ws_dtype> storeDType(const HFSource &s) {
    switch (s.tensor.dtype) {
    case SafetensorsDType::F32: return DC_WS_F32;
    case SafetensorsDType::F16: return DC_WS_F16;
    case SafetensorsDType::BF16: return DC_WS_BF16;
    default:
      return fileError(s.file->path(), "tensor '" + s.tensor.name + "' has dtype " +
                                           safetensorsDTypeName(s.tensor.dtype) +
                                           "; deltac imports F32, F16 and BF16");
    }
  }

  /// The canonical tensor is one whole source tensor of the same (squeezed) shape.
  Error whole(ImportTensor &t, StringRef hfName) {
    Expected<HFSource *> s = find(hfName);
    if (!s)
      return s.takeError();
    if (!sameSqueezedShape((*s)->tensor.shape, t.spec.shape))
      return fileError((*s)->file->path(), "tensor '" + hfName + "' has shape " +
                                               shapeString((*s)->tensor.shape) + ", expected " +
                                               shapeString(t.spec.shape) + " for this config");
    Expected<dc_ws_dtype> dtype = storeDType(**s);
    if (!dtype)
      return dtype.takeError();
    t.dtype = *dtype;
    t.pieces.push_back({(*s)->file, (*s)->tensor.offset, (*s)->tensor.bytes});
    (*s)->used = true;
    return Error::success();
  }

  /// Rows of a fused source: `ranges` lists (first row, count) in canonical order.
  Error rows(ImportTensor &t, StringRef hfName, ArrayRef<int64_t> expectedShape,
             ArrayRef<std::pair<int64_t, int64_t>> ranges) {
    Expected<HFSource *> s = find(hfName);
    if (!s)
      return s.takeError();
    if (!sameSqueezedShape((*s)->tensor.shape, expectedShape))
      return fileError((*s)->file->path(), "tensor '" + hfName + "' has shape " +
                                               shapeString((*s)->tensor.shape) + ", expected " +
                                               shapeString(expectedShape) + " for this config");
    Expected<dc_ws_dtype> dtype = storeDType(**s);
    if (!dtype)
      return dtype.takeError();
    if (!t.pieces.empty() && t.dtype != *dtype)
      return fileError((*s)->file->path(), "tensor '" + hfName + "' has dtype " +
                                               safetensorsDTypeName((*s)->tensor.dtype) +
                                               ", unlike the other parts of " + t.spec.name);
    t.dtype = *dtype;
    uint64_t rowBytes = uint64_t(expectedShape.back()) * safetensorsDTypeBytes((*s)->tensor.dtype);
    for (auto [first, count] : ranges)
      appendRows(t.pieces, (*s)->file, (*s)->tensor.offset, rowBytes, first, count);
    (*s)->used = true;
    return Error::success();
  }

  Error resolve(ImportTensor &t);

private:
  Error qwen3NextProjection(ImportTensor &t, StringRef layerPrefix, StringRef which);
  Error experts(ImportTensor &t, StringRef layerPrefix, StringRef which);

  Checkpoint &ckpt;
  StringMap<HFSource> &sources;
  std::string prefix;
};

/// Qwen3-Next fuses q, k, v, z into in_proj_qkvz and b, a into in_proj_ba, grouped by key head
/// (spec §2.4): per key head [q | k | v of its r value heads | z of them] and [b of r | a of r].
Error HFResolver::qwen3NextProjection(ImportTensor &t, StringRef layerPrefix, StringRef which) {
  const ModelConfig &c = ckpt.config;
  int64_t nk = c.numKeyHeads, dk = c.keyHeadDim, dv = c.valueHeadDim;
  int64_t r = c.numValueHeads / nk, h = c.hiddenSize;
  std::string hfPrefix = hfTensorName(this->prefix, layerPrefix) + "linear_attn.";
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  if (which == "qkv" || which == "z") {
    int64_t block = 2 * dk + 2 * r * dv;
    if (which == "qkv") {
      for (int64_t kh = 0; kh < nk; ++kh)
        ranges.push_back({kh * block, dk});
      for (int64_t kh = 0; kh < nk; ++kh)
        ranges.push_back({kh * block + dk, dk});
      for (int64_t kh = 0; kh < nk; ++kh)
        ranges.push_back({kh * block + 2 * dk, r * dv});
    } else {
      for (int64_t kh = 0; kh < nk; ++kh)
        ranges.push_back({kh * block + 2 * dk + r * dv, r * dv});
    }
    return rows(t, hfPrefix + "in_proj_qkvz.weight", {nk * block, h}, ranges);
  }
  for (int64_t kh = 0; kh < nk; ++kh)
    ranges.push_back({kh * 2 * r + (which == "b" ? 0 : r), r});
  return rows(t, hfPrefix + "in_proj_ba.weight", {2 * c.numValueHeads, h}, ranges);
}

/// Expert weights come per expert (mlp.experts.{e}.gate_proj.weight) or fused as transformers 5 keeps
/// them (mlp.experts.gate_up_proj [E, 2I, H] with gate first, mlp.experts.down_proj [E, H, I]).
Error HFResolver::experts(ImportTensor &t, StringRef layerPrefix, StringRef which) {
  const ModelConfig &c = ckpt.config;
  std::string base = hfTensorName(this->prefix, layerPrefix) + "mlp.experts.";
  int64_t e = c.numExperts, ie = c.expertIntermediateSize, h = c.hiddenSize;
  if (sources.count(base + "0." + which.str() + ".weight")) {
    SmallVector<int64_t, 2> shape = {t.spec.shape[1], t.spec.shape[2]};
    for (int64_t i = 0; i < e; ++i)
      if (Error err = rows(t, base + std::to_string(i) + "." + which.str() + ".weight", shape,
                           {{0, shape[0]}}))
        return err;
    return Error::success();
  }
  if (which == "down_proj")
    return rows(t, base + "down_proj", {e, h, ie}, {{0, e * h}});
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  for (int64_t i = 0; i < e; ++i)
    ranges.push_back({i * 2 * ie + (which == "gate_proj" ? 0 : ie), ie});
  return rows(t, base + "gate_up_proj", {e, 2 * ie, h}, ranges);
}

Error HFResolver::resolve(ImportTensor &t) {
  StringRef name = t.spec.name;
  // Split "layers.N.rest" / "mtp.layers.0.rest" into the layer prefix and the rest.
  StringRef layerPrefix, rest = name;
  size_t layerAt = name.find("layers.");
  if (layerAt != StringRef::npos) {
    size_t dot = name.find('.', layerAt + 7);
    layerPrefix = name.take_front(dot + 1);
    rest = name.drop_front(dot + 1);
  }
  if (ckpt.config.arch == ModelArch::Qwen3Next && rest.consume_front("linear_attn.in_proj_") &&
      rest.consume_back(".weight"))
    return qwen3NextProjection(t, layerPrefix, rest);
  rest = name.drop_front(layerPrefix.size());
  if (rest.consume_front("mlp.experts.") && rest.consume_back(".weight"))
    return experts(t, layerPrefix, rest);
  return whole(t, hfTensorName(this->prefix, name));
}

/// Opens one safetensors file and reads its validated header.
Expected<std::pair<std::unique_ptr<InputFile>, std::vector<SafetensorsTensor>>>
openSafetensors(StringRef path) {
  Expected<std::unique_ptr<InputFile>> file = InputFile::open(path);
  if (!file)
    return file.takeError();
  Expected<std::vector<SafetensorsTensor>> tensors = readSafetensorsHeader(**file);
  if (!tensors)
    return tensors.takeError();
  return std::make_pair(std::move(*file), std::move(*tensors));
}

Error readShards(Checkpoint &ckpt, StringMap<HFSource> &sources) {
  SmallString<256> single(ckpt.path), index(ckpt.path);
  sys::path::append(single, "model.safetensors");
  sys::path::append(index, "model.safetensors.index.json");
  std::vector<std::string> shardNames;
  if (sys::fs::exists(index)) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> text = MemoryBuffer::getFile(index);
    if (!text)
      return fileError(index, "cannot read: " + text.getError().message());
    Expected<json::Value> parsed = json::parse((*text)->getBuffer());
    if (!parsed)
      return fileError(index, "invalid JSON: " + toString(parsed.takeError()));
    const json::Object *root = parsed->getAsObject();
    const json::Object *map = root ? root->getObject("weight_map") : nullptr;
    if (!map)
      return fileError(index, "missing 'weight_map' object");
    StringMap<std::string> expectedShard;
    for (const auto &[name, shard] : *map) {
      std::optional<StringRef> file = shard.getAsString();
      if (!file || file->contains('/') || file->empty())
        return fileError(index, "weight_map entry '" + StringRef(name) +
                                    "' must name a shard file in the directory");
      expectedShard[name] = file->str();
      if (!llvm::is_contained(shardNames, *file))
        shardNames.push_back(file->str());
    }
    if (Error e = [&]() -> Error {
          for (const std::string &shard : shardNames) {
            SmallString<256> shardPath(ckpt.path);
            sys::path::append(shardPath, shard);
            auto opened = openSafetensors(shardPath);
            if (!opened)
              return opened.takeError();
            auto &[file, tensors] = *opened;
            for (SafetensorsTensor &t : tensors) {
              // A tensor in two shards is listed for at most one of them: report the duplicate
              // first, which is the actual problem.
              auto [seen, inserted] = sources.try_emplace(t.name, HFSource{file.get(), t});
              if (!inserted)
                return fileError(shardPath, "duplicate tensor '" + t.name + "' (also in " +
                                                sys::path::filename(seen->second.file->path()) +
                                                ")");
              auto it = expectedShard.find(t.name);
              if (it == expectedShard.end() || it->second != shard)
                return fileError(shardPath, "tensor '" + t.name +
                                                "' is not listed for this shard in "
                                                "model.safetensors.index.json");
            }
            ckpt.files.push_back(std::move(file));
          }
          for (const auto &entry : expectedShard)
            if (!sources.count(entry.getKey()))
              return fileError(index, "tensor '" + entry.getKey() + "' is listed in shard '" +
                                          entry.getValue() + "' but that shard does not hold it");
          return Error::success();
        }())
      return e;
    return Error::success();
  }
  if (!sys::fs::exists(single))
    return fileError(ckpt.path, "no model.safetensors or model.safetensors.index.json");
  auto opened = openSafetensors(single);
  if (!opened)
    return opened.takeError();
  for (SafetensorsTensor &t : opened->second)
    sources.try_emplace(t.name, HFSource{opened->first.get(), t});
  ckpt.files.push_back(std::move(opened->first));
  return Error::success();
}

Expected<Checkpoint> openHuggingFace(StringRef dir) {
  Checkpoint ckpt;
  ckpt.format = CheckpointFormat::HuggingFace;
  ckpt.path = dir.str();
  ckpt.decay = DecayStorage::ALog;
  ckpt.normsStoreOnePlus = false;
  ckpt.tiledValueHeads = false;

  SmallString<256> configPath(dir);
  sys::path::append(configPath, "config.json");
  ErrorOr<std::unique_ptr<MemoryBuffer>> configText = MemoryBuffer::getFile(configPath);
  if (!configText)
    return fileError(configPath, "cannot read: " + configText.getError().message());
  Expected<ModelConfig> config = parseHFConfig((*configText)->getBuffer(), configPath);
  if (!config)
    return config.takeError();
  ckpt.config = std::move(*config);

  StringMap<HFSource> sources;
  if (Error e = readShards(ckpt, sources))
    return std::move(e);

  int64_t vision = 0;
  for (auto &entry : sources) {
    if (entry.getKey().starts_with("model.visual.")) {
      entry.getValue().used = true;
      ++vision;
    }
    ckpt.hasMTP |= entry.getKey().starts_with("mtp.");
  }
  if (vision)
    ckpt.notices.push_back("skipped " + std::to_string(vision) +
                           " vision tower tensors (model.visual.*); deltac compiles the text model");

  HFResolver resolver(ckpt, sources);
  for (CatalogTensor &spec : catalogTensors(ckpt.config, ckpt.decay, ckpt.hasMTP)) {
    ImportTensor t{std::move(spec), DC_WS_F32, {}, -1};
    if (Error e = resolver.resolve(t))
      return std::move(e);
    ckpt.tensors.push_back(std::move(t));
  }
  for (auto &entry : sources)
    if (!entry.getValue().used)
      return fileError(entry.getValue().file->path(),
                       "unexpected tensor '" + entry.getKey() + "' for a " +
                           archName(ckpt.config.arch) + " model with this config");
  return ckpt;
}

//===----------------------------------------------------------------------===//
// GGUF files
//===----------------------------------------------------------------------===//

Expected<dc_ws_dtype> ggufStoreDType(uint32_t type, int64_t &decodeFrom) {
  decodeFrom = -1;
  switch (ggml::GGMLType(type)) {
  case ggml::GGMLType::F32: return DC_WS_F32;
  case ggml::GGMLType::F16: return DC_WS_F16;
  case ggml::GGMLType::BF16: return DC_WS_BF16;
  case ggml::GGMLType::Q8_0: return DC_WS_Q8_0;
  case ggml::GGMLType::Q4_0: return DC_WS_Q4_0;
  case ggml::GGMLType::Q4_1: return DC_WS_Q4_1;
  case ggml::GGMLType::Q4_K:
  case ggml::GGMLType::Q5_K:
  case ggml::GGMLType::Q6_K:
    // No deltac scheme holds K-quant super-blocks exactly; their decoded f32 values are exact.
    decodeFrom = type;
    return DC_WS_F32;
  default:
    return createStringError(inconvertibleErrorCode(), "unsupported");
  }
}

Expected<Checkpoint> openGGUF(StringRef path) {
  Checkpoint ckpt;
  ckpt.format = CheckpointFormat::GGUF;
  ckpt.path = path.str();
  ckpt.decay = DecayStorage::NegExp;
  ckpt.normsStoreOnePlus = true;

  Expected<std::unique_ptr<InputFile>> file = InputFile::open(path);
  if (!file)
    return file.takeError();
  Expected<GGUFFile> gguf = readGGUF(**file);
  if (!gguf)
    return gguf.takeError();
  Expected<ModelConfig> config = configFromGGUF(*gguf, path);
  if (!config)
    return config.takeError();
  ckpt.config = std::move(*config);
  const ModelConfig &c = ckpt.config;
  ckpt.tiledValueHeads = c.arch != ModelArch::Qwen3Next && c.numValueHeads != c.numKeyHeads;

  StringMap<const GGUFTensorInfo *> byName;
  for (const GGUFTensorInfo &info : gguf->tensors)
    byName[info.name] = &info;
  std::string mtpPrefix = "blk." + std::to_string(c.numLayers) + ".";
  for (const GGUFTensorInfo &info : gguf->tensors)
    ckpt.hasMTP |= StringRef(info.name).starts_with(mtpPrefix);

  StringMap<bool> used;
  int64_t decoded = 0;
  for (CatalogTensor &spec : catalogTensors(c, ckpt.decay, ckpt.hasMTP)) {
    std::string name = ggufTensorName(c, spec.name);
    auto it = byName.find(name);
    if (it == byName.end())
      return fileError(path, "missing tensor '" + name + "' (" + spec.name + ")");
    const GGUFTensorInfo &info = *it->second;
    if (!sameSqueezedShape(info.shape(), spec.shape))
      return fileError(path, "tensor '" + name + "' has shape " + shapeString(info.shape()) +
                                 " (row-major), expected " + shapeString(spec.shape) +
                                 " for this config");
    ImportTensor t{std::move(spec), DC_WS_F32, {}, -1};
    Expected<dc_ws_dtype> dtype = ggufStoreDType(info.type, t.decodeFrom);
    if (!dtype) {
      consumeError(dtype.takeError());
      return fileError(path, "tensor '" + name + "' has ggml type " +
                                 ggml::getTypeTraits(info.type)->name +
                                 ", which deltac cannot import (F32, F16, BF16, Q8_0, Q4_0, Q4_1, "
                                 "Q4_K, Q5_K, Q6_K)");
    }
    decoded += t.decodeFrom >= 0;
    t.dtype = *dtype;
    t.pieces.push_back({file->get(), info.offset, info.bytes});
    used[name] = true;
    ckpt.tensors.push_back(std::move(t));
  }
  for (const GGUFTensorInfo &info : gguf->tensors)
    if (!used.count(info.name))
      return fileError(path, "unexpected tensor '" + info.name + "' for a " +
                                 ggufArchName(c.arch) + " model with this config");
  if (decoded)
    ckpt.notices.push_back("decoded " + std::to_string(decoded) +
                           " K-quant tensors to f32 (exact; no deltac scheme stores them as is)");
  ckpt.files.push_back(std::move(*file));
  return ckpt;
}

} // namespace

Expected<Checkpoint> openCheckpoint(StringRef path) {
  if (!sys::fs::exists(path))
    return fileError(path, "no such file or directory");
  if (sys::fs::is_directory(path))
    return openHuggingFace(path);
  return openGGUF(path);
}

} // namespace deltac
