//===- ModelConfig.cpp - hyperparameters of an imported model -------------===//

#include "import/ModelConfig.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace llvm;

namespace deltac {

StringRef archName(ModelArch arch) {
  switch (arch) {
  case ModelArch::Qwen35: return "qwen3_5";
  case ModelArch::Qwen35MoE: return "qwen3_5_moe";
  case ModelArch::Qwen3Next: return "qwen3_next";
  }
  return "?";
}

StringRef ggufArchName(ModelArch arch) {
  switch (arch) {
  case ModelArch::Qwen35: return "qwen35";
  case ModelArch::Qwen35MoE: return "qwen35moe";
  case ModelArch::Qwen3Next: return "qwen3next";
  }
  return "?";
}

/// Larger layer counts are absurd; the per-layer type list is only built up to this many layers.
constexpr int64_t kMaxLayers = 1024;
/// Any other size above this is absurd; the bound keeps products of three sizes inside int64.
constexpr int64_t kMaxDimension = 1 << 20;

Error ModelConfig::validate(StringRef source) const {
  auto bad = [&](const Twine &why) { return fileError(source, "invalid model config: " + why); };
  struct Size {
    const char *name;
    int64_t value;
  };
  for (Size p : {Size{"hidden size", hiddenSize}, {"layer count", numLayers},
                 {"vocabulary size", vocabSize}, {"attention head count", numHeads},
                 {"KV head count", numKVHeads}, {"head dimension", headDim},
                 {"delta-rule key head count", numKeyHeads},
                 {"delta-rule value head count", numValueHeads},
                 {"delta-rule key head dimension", keyHeadDim},
                 {"delta-rule value head dimension", valueHeadDim},
                 {"conv kernel size", convKernel}})
    if (p.value <= 0)
      return bad(Twine(p.name) + " must be positive, got " + Twine(p.value));
  if (hiddenSize > (1 << 20) || vocabSize > (1 << 24) || numLayers > kMaxLayers)
    return bad("absurd sizes (hidden " + Twine(hiddenSize) + ", vocabulary " + Twine(vocabSize) +
               ", layers " + Twine(numLayers) + ")");
  for (Size p : {Size{"attention head count", numHeads}, {"KV head count", numKVHeads},
                 {"head dimension", headDim}, {"delta-rule key head count", numKeyHeads},
                 {"delta-rule value head count", numValueHeads},
                 {"delta-rule key head dimension", keyHeadDim},
                 {"delta-rule value head dimension", valueHeadDim},
                 {"conv kernel size", convKernel}, {"intermediate size", intermediateSize},
                 {"expert count", numExperts},
                 {"expert intermediate size", expertIntermediateSize},
                 {"shared expert intermediate size", sharedExpertIntermediateSize}})
    if (p.value > kMaxDimension)
      return bad("absurd " + Twine(p.name) + " " + Twine(p.value));
  if (numHeads % numKVHeads != 0)
    return bad(Twine(numHeads) + " attention heads are not a multiple of " + Twine(numKVHeads) +
               " KV heads");
  if (numValueHeads % numKeyHeads != 0)
    return bad(Twine(numValueHeads) + " delta-rule value heads are not a multiple of " +
               Twine(numKeyHeads) + " key heads");
  if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > headDim)
    return bad("rotary dimension " + Twine(rotaryDim) + " must be even, positive and at most the "
               "head dimension " + Twine(headDim));
  if (!mropeSections.empty()) {
    int64_t sum = 0;
    bool inRange = true;
    for (int64_t s : mropeSections)
      inRange &= s >= 0 && s <= rotaryDim && !__builtin_add_overflow(sum, s, &sum);
    if (mropeSections.size() != 3 || !inRange || sum != rotaryDim / 2)
      return bad("M-RoPE sections must be three non-negative numbers adding up to "
                 "rotary_dim / 2 = " + Twine(rotaryDim / 2));
  }
  if (!(ropeTheta > 1.0) || std::isinf(ropeTheta))
    return bad("rope theta must be finite and greater than 1");
  if (!(rmsNormEps > 0.0) || rmsNormEps > 1.0)
    return bad("rms_norm_eps must be in (0, 1]");
  if (convKernel < 2)
    return bad("conv kernel size must be at least 2");
  if (static_cast<int64_t>(fullAttention.size()) != numLayers)
    return bad("layer types list has " + Twine(fullAttention.size()) + " entries for " +
               Twine(numLayers) + " layers");
  if (isMoE()) {
    if (numExpertsPerToken <= 0 || numExpertsPerToken > numExperts)
      return bad("experts per token must be between 1 and the expert count " + Twine(numExperts));
    if (expertIntermediateSize <= 0 || sharedExpertIntermediateSize <= 0)
      return bad("expert and shared expert sizes must be positive");
  } else if (intermediateSize <= 0) {
    return bad("intermediate size must be positive");
  }
  if (mtpLayers < 0 || mtpLayers > 1)
    return bad("deltac supports 0 or 1 MTP layers, got " + Twine(mtpLayers));
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Hugging Face config.json
//===----------------------------------------------------------------------===//

namespace {

/// Reads typed keys from a config object, naming the file and key in every error.
class ConfigReader {
public:
  ConfigReader(const json::Object &object, StringRef fileName) : object(object), fileName(fileName) {}

  Error error(StringRef key, const Twine &why) const {
    return fileError(fileName, "config key '" + key + "' " + why);
  }

  Expected<int64_t> integer(StringRef key, std::optional<int64_t> fallback = std::nullopt) const {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null) {
      if (fallback)
        return *fallback;
      return error(key, "is missing");
    }
    std::optional<int64_t> i = value->getAsInteger();
    if (!i)
      return error(key, "must be an integer");
    return *i;
  }

  Expected<double> number(StringRef key, std::optional<double> fallback = std::nullopt) const {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null) {
      if (fallback)
        return *fallback;
      return error(key, "is missing");
    }
    std::optional<double> d = value->getAsNumber();
    if (!d)
      return error(key, "must be a number");
    return *d;
  }

  Expected<bool> boolean(StringRef key, bool fallback) const {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return fallback;
    std::optional<bool> b = value->getAsBoolean();
    if (!b)
      return error(key, "must be true or false");
    return *b;
  }

  const json::Object &object;
  StringRef fileName;
};

#define DELTAC_ASSIGN_OR_RETURN(lhs, expr)                                                         \
  do {                                                                                             \
    auto _value = (expr);                                                                          \
    if (!_value)                                                                                   \
      return _value.takeError();                                                                   \
    lhs = *_value;                                                                                 \
  } while (false)

Error readRope(const json::Object &text, StringRef fileName, ModelConfig &config) {
  // transformers 5 nests the RoPE settings in rope_parameters; older configs keep them at the top
  // level (rope_theta, partial_rotary_factor) with mrope_section under rope_scaling.
  ConfigReader top(text, fileName);
  const json::Object *rope = text.getObject("rope_parameters");
  if (!rope)
    rope = text.getObject("rope_scaling");
  double theta = 0, partial = 0.25;
  if (rope && rope->get("rope_theta")) {
    DELTAC_ASSIGN_OR_RETURN(theta, ConfigReader(*rope, fileName).number("rope_theta"));
  } else {
    DELTAC_ASSIGN_OR_RETURN(theta, top.number("rope_theta"));
  }
  if (rope && rope->get("partial_rotary_factor")) {
    DELTAC_ASSIGN_OR_RETURN(partial, ConfigReader(*rope, fileName).number("partial_rotary_factor"));
  } else {
    DELTAC_ASSIGN_OR_RETURN(partial, top.number("partial_rotary_factor", 0.25));
  }
  if (!(partial > 0.0) || partial > 1.0)
    return top.error("partial_rotary_factor", "must be in (0, 1]");
  config.ropeTheta = theta;
  config.rotaryDim = static_cast<int64_t>(std::lround(config.headDim * partial));
  if (rope) {
    if (const json::Array *sections = rope->getArray("mrope_section")) {
      for (const json::Value &s : *sections) {
        std::optional<int64_t> i = s.getAsInteger();
        if (!i)
          return top.error("mrope_section", "must be a list of integers");
        config.mropeSections.push_back(*i);
      }
    }
  }
  return Error::success();
}

Error readLayerTypes(const json::Object &text, StringRef fileName, ModelConfig &config) {
  ConfigReader reader(text, fileName);
  if (const json::Array *types = text.getArray("layer_types")) {
    for (const json::Value &t : *types) {
      std::optional<StringRef> s = t.getAsString();
      if (!s || (*s != "full_attention" && *s != "linear_attention"))
        return reader.error("layer_types", "entries must be \"full_attention\" or "
                                           "\"linear_attention\"");
      config.fullAttention.push_back(*s == "full_attention");
    }
    return Error::success();
  }
  int64_t interval;
  DELTAC_ASSIGN_OR_RETURN(interval, reader.integer("full_attention_interval", 4));
  if (interval <= 0)
    return reader.error("full_attention_interval", "must be positive");
  // An absurd layer count is validate()'s to report; building its list first would exhaust memory.
  for (int64_t i = 0; i < std::min(config.numLayers, kMaxLayers); ++i)
    config.fullAttention.push_back((i + 1) % interval == 0);
  return Error::success();
}

} // namespace

Expected<ModelConfig> parseHFConfig(StringRef jsonText, StringRef fileName) {
  Expected<json::Value> parsed = json::parse(jsonText);
  if (!parsed)
    return fileError(fileName, "invalid JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fileError(fileName, "not a JSON object");
  std::optional<StringRef> modelType = root->getString("model_type");
  if (!modelType)
    return fileError(fileName, "config key 'model_type' is missing");

  ModelConfig config;
  const json::Object *text = root;
  if (*modelType == "qwen3_5" || *modelType == "qwen3_5_moe") {
    text = root->getObject("text_config");
    if (!text)
      return fileError(fileName, "config key 'text_config' is missing (model_type " +
                                     *modelType + " keeps the text model's settings there)");
    config.arch = *modelType == "qwen3_5" ? ModelArch::Qwen35 : ModelArch::Qwen35MoE;
  } else if (*modelType == "qwen3_5_text") {
    config.arch = ModelArch::Qwen35;
  } else if (*modelType == "qwen3_5_moe_text") {
    config.arch = ModelArch::Qwen35MoE;
  } else if (*modelType == "qwen3_next") {
    config.arch = ModelArch::Qwen3Next;
  } else {
    return fileError(fileName, "unsupported model_type '" + *modelType +
                                   "' (deltac imports qwen3_5, qwen3_5_text, qwen3_5_moe, "
                                   "qwen3_5_moe_text and qwen3_next)");
  }

  ConfigReader r(*text, fileName);
  DELTAC_ASSIGN_OR_RETURN(config.hiddenSize, r.integer("hidden_size"));
  DELTAC_ASSIGN_OR_RETURN(config.numLayers, r.integer("num_hidden_layers"));
  DELTAC_ASSIGN_OR_RETURN(config.vocabSize, r.integer("vocab_size"));
  DELTAC_ASSIGN_OR_RETURN(config.numHeads, r.integer("num_attention_heads"));
  DELTAC_ASSIGN_OR_RETURN(config.numKVHeads, r.integer("num_key_value_heads"));
  DELTAC_ASSIGN_OR_RETURN(config.headDim, r.integer("head_dim", 256));
  DELTAC_ASSIGN_OR_RETURN(config.numKeyHeads, r.integer("linear_num_key_heads"));
  DELTAC_ASSIGN_OR_RETURN(config.numValueHeads, r.integer("linear_num_value_heads"));
  DELTAC_ASSIGN_OR_RETURN(config.keyHeadDim, r.integer("linear_key_head_dim"));
  DELTAC_ASSIGN_OR_RETURN(config.valueHeadDim, r.integer("linear_value_head_dim"));
  DELTAC_ASSIGN_OR_RETURN(config.convKernel, r.integer("linear_conv_kernel_dim", 4));
  DELTAC_ASSIGN_OR_RETURN(config.rmsNormEps, r.number("rms_norm_eps", 1e-6));
  DELTAC_ASSIGN_OR_RETURN(config.mtpLayers, r.integer("mtp_num_hidden_layers", 0));
  if (std::optional<StringRef> act = text->getString("hidden_act"); act && *act != "silu")
    return r.error("hidden_act", "is '" + *act + "'; these models use silu");

  // The VLM wrapper's tie_word_embeddings governs the language model head.
  ConfigReader top(*root, fileName);
  bool textTie;
  DELTAC_ASSIGN_OR_RETURN(textTie, r.boolean("tie_word_embeddings", false));
  DELTAC_ASSIGN_OR_RETURN(config.tieWordEmbeddings, top.boolean("tie_word_embeddings", textTie));

  if (config.arch == ModelArch::Qwen35) {
    DELTAC_ASSIGN_OR_RETURN(config.intermediateSize, r.integer("intermediate_size"));
  } else {
    DELTAC_ASSIGN_OR_RETURN(config.numExperts, r.integer("num_experts"));
    DELTAC_ASSIGN_OR_RETURN(config.numExpertsPerToken, r.integer("num_experts_per_tok"));
    DELTAC_ASSIGN_OR_RETURN(config.expertIntermediateSize, r.integer("moe_intermediate_size"));
    DELTAC_ASSIGN_OR_RETURN(config.sharedExpertIntermediateSize,
                            r.integer("shared_expert_intermediate_size"));
    // Qwen3.5-MoE always renormalizes the top-k weights; Qwen3-Next makes it a setting.
    if (config.arch == ModelArch::Qwen3Next)
      DELTAC_ASSIGN_OR_RETURN(config.normTopKProb, r.boolean("norm_topk_prob", true));
    if (const json::Array *dense = text->getArray("mlp_only_layers"); dense && !dense->empty())
      return r.error("mlp_only_layers", "lists dense layers; deltac supports MoE in every layer");
    int64_t sparseStep;
    DELTAC_ASSIGN_OR_RETURN(sparseStep, r.integer("decoder_sparse_step", 1));
    if (sparseStep != 1)
      return r.error("decoder_sparse_step", "must be 1; deltac supports MoE in every layer");
  }
  if (Error e = readRope(*text, fileName, config))
    return std::move(e);
  if (Error e = readLayerTypes(*text, fileName, config))
    return std::move(e);
  if (Error e = config.validate(fileName))
    return std::move(e);
  return config;
}

//===----------------------------------------------------------------------===//
// GGUF metadata
//===----------------------------------------------------------------------===//

namespace {

class GGUFReader {
public:
  GGUFReader(const GGUFFile &file, StringRef prefix, StringRef fileName)
      : file(file), prefix(prefix), fileName(fileName) {}

  Error error(StringRef key, const Twine &why) const {
    return fileError(fileName, "GGUF metadata '" + prefix + "." + key + "' " + why);
  }

  /// An integer key; arrays (llama.cpp writes some per-layer) give their largest entry.
  Expected<int64_t> integer(StringRef key, std::optional<int64_t> fallback = std::nullopt) const {
    const GGUFValue *value = file.find((prefix + "." + key).str());
    if (!value) {
      if (fallback)
        return *fallback;
      return error(key, "is missing");
    }
    if (value->type == GGUFType::Array) {
      int64_t best = 0;
      for (const GGUFValue &e : value->elements) {
        std::optional<int64_t> i = e.getInteger();
        if (!i)
          return error(key, "must hold integers");
        best = std::max(best, *i);
      }
      return best;
    }
    std::optional<int64_t> i = value->getInteger();
    if (!i)
      return error(key, "must be an integer");
    return *i;
  }

  Expected<double> number(StringRef key, std::optional<double> fallback = std::nullopt) const {
    const GGUFValue *value = file.find((prefix + "." + key).str());
    if (!value) {
      if (fallback)
        return *fallback;
      return error(key, "is missing");
    }
    std::optional<double> d = value->getNumber();
    if (!d)
      return error(key, "must be a number");
    return *d;
  }

  const GGUFFile &file;
  std::string prefix;
  StringRef fileName;
};

} // namespace

Expected<ModelConfig> configFromGGUF(const GGUFFile &file, StringRef fileName) {
  const GGUFValue *archValue = file.find("general.architecture");
  std::optional<StringRef> arch = archValue ? archValue->getString() : std::nullopt;
  if (!arch)
    return fileError(fileName, "GGUF metadata 'general.architecture' is missing");
  ModelConfig config;
  if (*arch == "qwen35")
    config.arch = ModelArch::Qwen35;
  else if (*arch == "qwen35moe")
    config.arch = ModelArch::Qwen35MoE;
  else if (*arch == "qwen3next")
    config.arch = ModelArch::Qwen3Next;
  else
    return fileError(fileName, "unsupported GGUF architecture '" + *arch +
                                   "' (deltac imports qwen35, qwen35moe and qwen3next)");

  GGUFReader r(file, *arch, fileName);
  int64_t blocks, valueInner;
  DELTAC_ASSIGN_OR_RETURN(blocks, r.integer("block_count"));
  DELTAC_ASSIGN_OR_RETURN(config.mtpLayers, r.integer("nextn_predict_layers", 0));
  if (__builtin_sub_overflow(blocks, config.mtpLayers, &config.numLayers))
    return r.error("block_count", "minus nextn_predict_layers overflows");
  DELTAC_ASSIGN_OR_RETURN(config.hiddenSize, r.integer("embedding_length"));
  DELTAC_ASSIGN_OR_RETURN(config.numHeads, r.integer("attention.head_count"));
  DELTAC_ASSIGN_OR_RETURN(config.numKVHeads, r.integer("attention.head_count_kv"));
  DELTAC_ASSIGN_OR_RETURN(config.headDim, r.integer("attention.key_length"));
  DELTAC_ASSIGN_OR_RETURN(config.rmsNormEps, r.number("attention.layer_norm_rms_epsilon"));
  DELTAC_ASSIGN_OR_RETURN(config.ropeTheta, r.number("rope.freq_base"));
  DELTAC_ASSIGN_OR_RETURN(config.rotaryDim, r.integer("rope.dimension_count"));
  DELTAC_ASSIGN_OR_RETURN(config.convKernel, r.integer("ssm.conv_kernel"));
  DELTAC_ASSIGN_OR_RETURN(config.keyHeadDim, r.integer("ssm.state_size"));
  DELTAC_ASSIGN_OR_RETURN(config.numKeyHeads, r.integer("ssm.group_count"));
  DELTAC_ASSIGN_OR_RETURN(config.numValueHeads, r.integer("ssm.time_step_rank"));
  DELTAC_ASSIGN_OR_RETURN(valueInner, r.integer("ssm.inner_size"));
  if (config.numValueHeads <= 0 || valueInner % config.numValueHeads != 0)
    return r.error("ssm.inner_size", "is not a multiple of ssm.time_step_rank");
  config.valueHeadDim = valueInner / config.numValueHeads;
  if (config.arch == ModelArch::Qwen35) {
    DELTAC_ASSIGN_OR_RETURN(config.intermediateSize, r.integer("feed_forward_length"));
  } else {
    DELTAC_ASSIGN_OR_RETURN(config.numExperts, r.integer("expert_count"));
    DELTAC_ASSIGN_OR_RETURN(config.numExpertsPerToken, r.integer("expert_used_count"));
    DELTAC_ASSIGN_OR_RETURN(config.expertIntermediateSize,
                            r.integer("expert_feed_forward_length"));
    DELTAC_ASSIGN_OR_RETURN(config.sharedExpertIntermediateSize,
                            r.integer("expert_shared_feed_forward_length"));
  }
  if (config.arch != ModelArch::Qwen3Next) {
    // qwen35 / qwen35moe use interleaved M-RoPE; sections default as in llama.cpp's converter.
    config.mropeSections = {11, 11, 10};
    if (const GGUFValue *sections = file.find(r.prefix + ".rope.dimension_sections")) {
      config.mropeSections.clear();
      for (const GGUFValue &e : sections->elements) {
        std::optional<int64_t> i = e.getInteger();
        if (!i)
          return r.error("rope.dimension_sections", "must hold integers");
        config.mropeSections.push_back(*i);
      }
      // GGUF carries a fourth (unused) section, always 0 for these models.
      if (config.mropeSections.size() == 4 && config.mropeSections[3] == 0)
        config.mropeSections.pop_back();
    }
  }
  int64_t interval;
  DELTAC_ASSIGN_OR_RETURN(interval, r.integer("full_attention_interval", 4));
  if (interval <= 0)
    return r.error("full_attention_interval", "must be positive");
  // An absurd layer count is validate()'s to report; building its list first would exhaust memory.
  for (int64_t i = 0; i < std::min(config.numLayers, kMaxLayers); ++i)
    config.fullAttention.push_back((i + 1) % interval == 0);

  const GGUFTensorInfo *embedding = nullptr;
  bool hasOutput = false;
  for (const GGUFTensorInfo &t : file.tensors) {
    if (t.name == "token_embd.weight")
      embedding = &t;
    hasOutput |= t.name == "output.weight";
  }
  if (!embedding || embedding->ne.size() != 2)
    return fileError(fileName, "tensor 'token_embd.weight' is missing or not a matrix");
  config.vocabSize = embedding->ne[1];
  config.tieWordEmbeddings = !hasOutput;
  if (Error e = config.validate(fileName))
    return std::move(e);
  return config;
}

//===----------------------------------------------------------------------===//
// Writers for synthesized checkpoints
//===----------------------------------------------------------------------===//

std::string toHFConfigJSON(const ModelConfig &c) {
  json::Array layerTypes;
  for (bool full : c.fullAttention)
    layerTypes.push_back(full ? "full_attention" : "linear_attention");
  json::Object rope{{"rope_type", "default"},
                    {"rope_theta", c.ropeTheta},
                    {"partial_rotary_factor", double(c.rotaryDim) / double(c.headDim)}};
  if (!c.mropeSections.empty()) {
    json::Array sections;
    for (int64_t s : c.mropeSections)
      sections.push_back(s);
    rope["mrope_section"] = std::move(sections);
    rope["mrope_interleaved"] = true;
  }
  json::Object text{{"hidden_size", c.hiddenSize},
                    {"num_hidden_layers", c.numLayers},
                    {"vocab_size", c.vocabSize},
                    {"num_attention_heads", c.numHeads},
                    {"num_key_value_heads", c.numKVHeads},
                    {"head_dim", c.headDim},
                    {"linear_num_key_heads", c.numKeyHeads},
                    {"linear_num_value_heads", c.numValueHeads},
                    {"linear_key_head_dim", c.keyHeadDim},
                    {"linear_value_head_dim", c.valueHeadDim},
                    {"linear_conv_kernel_dim", c.convKernel},
                    {"rms_norm_eps", c.rmsNormEps},
                    {"hidden_act", "silu"},
                    {"tie_word_embeddings", c.tieWordEmbeddings},
                    {"mtp_num_hidden_layers", c.mtpLayers},
                    {"layer_types", std::move(layerTypes)},
                    {"rope_parameters", std::move(rope)},
                    {"torch_dtype", "bfloat16"}};
  if (c.isMoE()) {
    text["num_experts"] = c.numExperts;
    text["num_experts_per_tok"] = c.numExpertsPerToken;
    text["moe_intermediate_size"] = c.expertIntermediateSize;
    text["shared_expert_intermediate_size"] = c.sharedExpertIntermediateSize;
    if (c.arch == ModelArch::Qwen3Next)
      text["norm_topk_prob"] = c.normTopKProb;
  } else {
    text["intermediate_size"] = c.intermediateSize;
  }
  json::Value root = json::Object{};
  if (c.arch == ModelArch::Qwen3Next) {
    text["model_type"] = "qwen3_next";
    text["architectures"] = json::Array{"Qwen3NextForCausalLM"};
    root = std::move(text);
  } else {
    bool moe = c.arch == ModelArch::Qwen35MoE;
    text["model_type"] = moe ? "qwen3_5_moe_text" : "qwen3_5_text";
    root = json::Object{
        {"model_type", moe ? "qwen3_5_moe" : "qwen3_5"},
        {"architectures",
         json::Array{moe ? "Qwen3_5MoeForConditionalGeneration" : "Qwen3_5ForConditionalGeneration"}},
        {"tie_word_embeddings", c.tieWordEmbeddings},
        {"text_config", std::move(text)}};
  }
  return formatv("{0:2}", root).str() + "\n";
}

std::vector<std::pair<std::string, GGUFValue>> toGGUFMetadata(const ModelConfig &c) {
  std::string p = ggufArchName(c.arch).str() + ".";
  std::vector<std::pair<std::string, GGUFValue>> m;
  auto u32 = [&](StringRef key, int64_t v) { m.emplace_back(p + key.str(), ggufU32(uint32_t(v))); };
  m.emplace_back("general.architecture", ggufString(ggufArchName(c.arch)));
  m.emplace_back("general.name", ggufString("deltac synthetic " + archName(c.arch).str()));
  m.emplace_back("general.alignment", ggufU32(32));
  u32("block_count", c.numLayers + c.mtpLayers);
  u32("context_length", 262144);
  u32("embedding_length", c.hiddenSize);
  u32("attention.head_count", c.numHeads);
  u32("attention.head_count_kv", c.numKVHeads);
  u32("attention.key_length", c.headDim);
  u32("attention.value_length", c.headDim);
  m.emplace_back(p + "attention.layer_norm_rms_epsilon", ggufF32(float(c.rmsNormEps)));
  m.emplace_back(p + "rope.freq_base", ggufF32(float(c.ropeTheta)));
  u32("rope.dimension_count", c.rotaryDim);
  if (!c.mropeSections.empty()) {
    std::vector<GGUFValue> sections;
    for (int64_t s : c.mropeSections)
      sections.push_back(ggufU32(uint32_t(s)));
    sections.push_back(ggufU32(0));
    // llama.cpp stores the sections as i32.
    for (GGUFValue &s : sections) {
      s.type = GGUFType::I32;
      s.scalar = int64_t(std::get<uint64_t>(s.scalar));
    }
    m.emplace_back(p + "rope.dimension_sections", ggufArray(GGUFType::I32, std::move(sections)));
  }
  u32("ssm.conv_kernel", c.convKernel);
  u32("ssm.state_size", c.keyHeadDim);
  u32("ssm.group_count", c.numKeyHeads);
  u32("ssm.time_step_rank", c.numValueHeads);
  u32("ssm.inner_size", c.valueDim());
  u32("full_attention_interval", 4);
  if (c.mtpLayers > 0)
    u32("nextn_predict_layers", c.mtpLayers);
  if (c.isMoE()) {
    u32("expert_count", c.numExperts);
    u32("expert_used_count", c.numExpertsPerToken);
    u32("expert_feed_forward_length", c.expertIntermediateSize);
    u32("expert_shared_feed_forward_length", c.sharedExpertIntermediateSize);
  } else {
    u32("feed_forward_length", c.intermediateSize);
  }
  // No tokenizer is synthesized: llama.cpp's "no_vocab" model, sized by vocab_size, so llama.cpp
  // loads the file too (the benchmark runs both engines on it).
  m.emplace_back("tokenizer.ggml.model", ggufString("no_vocab"));
  u32("vocab_size", c.vocabSize);
  return m;
}

Expected<ModelConfig> syntheticConfig(StringRef size, ModelArch arch, int64_t layers,
                                      int64_t vocab) {
  ModelConfig c;
  c.arch = arch;
  c.rmsNormEps = 1e-6;
  c.ropeTheta = 1e7;
  c.convKernel = 4;
  c.mtpLayers = 1;
  if (size == "tiny") {
    // Small enough for unit tests, with r = nv / nk = 2 so the head mappings differ.
    c.hiddenSize = 64;
    c.numLayers = 4;
    c.intermediateSize = 128;
    c.vocabSize = 256;
    c.numHeads = 4;
    c.numKVHeads = 2;
    c.headDim = 32;
    c.numKeyHeads = 2;
    c.numValueHeads = 4;
    c.keyHeadDim = 16;
    c.valueHeadDim = 16;
    c.tieWordEmbeddings = arch == ModelArch::Qwen35;
  } else if (arch != ModelArch::Qwen35) {
    return createStringError(inconvertibleErrorCode(),
                             "synth: only --size tiny is available for " + archName(arch).str());
  } else {
    struct Preset {
      StringRef name;
      int64_t hidden, layers, intermediate, heads, kvHeads, valueHeads;
      bool tied;
    };
    static const Preset presets[] = {{"0.8b", 1024, 24, 3584, 8, 2, 16, true},
                                     {"2b", 2048, 24, 6144, 8, 2, 16, true},
                                     {"4b", 2560, 32, 9216, 16, 4, 32, true},
                                     {"9b", 4096, 32, 12288, 16, 4, 32, false}};
    const Preset *p = llvm::find_if(presets, [&](const Preset &p) { return p.name == size; });
    if (p == std::end(presets))
      return createStringError(inconvertibleErrorCode(),
                               "synth: unknown --size '" + size.str() +
                                   "' (tiny, 0.8b, 2b, 4b or 9b)");
    c.hiddenSize = p->hidden;
    c.numLayers = p->layers;
    c.intermediateSize = p->intermediate;
    c.vocabSize = 248320;
    c.numHeads = p->heads;
    c.numKVHeads = p->kvHeads;
    c.headDim = 256;
    c.numKeyHeads = 16;
    c.numValueHeads = p->valueHeads;
    c.keyHeadDim = 128;
    c.valueHeadDim = 128;
    c.tieWordEmbeddings = p->tied;
  }
  c.rotaryDim = c.headDim / 4;
  if (arch != ModelArch::Qwen3Next) {
    // Interleaved M-RoPE sections in the proportions of Qwen3.5's [11, 11, 10] (sum = rotary / 2).
    int64_t half = c.rotaryDim / 2;
    int64_t t = (half * 11 + 31) / 32, h = (half * 11) / 32;
    c.mropeSections = {t, h, half - t - h};
  }
  if (arch != ModelArch::Qwen35) {
    c.intermediateSize = 0;
    c.numExperts = 4;
    c.numExpertsPerToken = 2;
    c.expertIntermediateSize = 32;
    c.sharedExpertIntermediateSize = 32;
  }
  if (layers > 0)
    c.numLayers = layers;
  if (vocab > 0)
    c.vocabSize = vocab;
  for (int64_t i = 0; i < c.numLayers; ++i)
    c.fullAttention.push_back((i + 1) % 4 == 0);
  if (Error e = c.validate("synth"))
    return std::move(e);
  return c;
}

} // namespace deltac
