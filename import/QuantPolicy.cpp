//===- QuantPolicy.cpp - which encoding each weight is stored in ----------===//

#include "import/QuantPolicy.h"

#include "llvm/ADT/StringSwitch.h"

using namespace llvm;

namespace deltac {

Expected<WeightScheme> parseWeightScheme(StringRef text, StringRef option) {
  std::optional<WeightScheme> scheme = StringSwitch<std::optional<WeightScheme>>(text)
                                           .Case("f32", WeightScheme::F32)
                                           .Case("bf16", WeightScheme::BF16)
                                           .Case("int8", WeightScheme::Int8)
                                           .Case("int4-g32", WeightScheme::Int4)
                                           .Case("int4-g64", WeightScheme::Int4G64)
                                           .Case("int4-g128", WeightScheme::Int4G128)
                                           .Default(std::nullopt);
  if (scheme)
    return *scheme;
  return createStringError(inconvertibleErrorCode(),
                           "unknown " + option.str() + " '" + text.str() +
                               "' (f32, bf16, int8, int4-g32, int4-g64, int4-g128)");
}

StringRef weightSchemeName(WeightScheme scheme) {
  switch (scheme) {
  case WeightScheme::F32: return "f32";
  case WeightScheme::BF16: return "bf16";
  case WeightScheme::Int8: return "int8";
  case WeightScheme::Int4: return "int4-g32";
  case WeightScheme::Int4G64: return "int4-g64";
  case WeightScheme::Int4G128: return "int4-g128";
  }
  return "?";
}

std::optional<WeightClass> classifyWeight(const CatalogTensor &t) {
  StringRef name = t.name;
  switch (t.role) {
  case TensorRole::Embedding: return WeightClass::Embedding;
  case TensorRole::LMHead: return WeightClass::LMHead;
  case TensorRole::Experts: return WeightClass::MLP;
  case TensorRole::Linear:
    // The router and the shared-expert gate are read as f32 vectors by the MoE kernel.
    if (name.ends_with("mlp.gate.weight") || name.ends_with("shared_expert_gate.weight"))
      return std::nullopt;
    if (name.contains("linear_attn."))
      return WeightClass::DeltaNet;
    if (name.contains("self_attn.") || name == "mtp.fc.weight")
      return WeightClass::Attention;
    if (name.contains("mlp."))
      return WeightClass::MLP;
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

dc_ws_dtype QuantPolicy::storeDType(const CatalogTensor &t, dc_ws_dtype source,
                                    bool tiedHead) const {
  bool isFloat = source == DC_WS_F32 || source == DC_WS_F16 || source == DC_WS_BF16;
  auto asFloat = [](WeightScheme s) { return s == WeightScheme::BF16 ? DC_WS_BF16 : DC_WS_F32; };
  // Float weights under no scheme: the --dtype choice, or as they came.
  auto floatDType = [&](std::optional<WeightScheme> s) {
    if (s)
      return asFloat(*s);
    return isFloat ? source : DC_WS_F32;
  };
  std::optional<WeightClass> cls = classifyWeight(t);
  if (!cls)
    return isFloat ? floatDType(floats) : source;
  // A tied embedding also serves as the LM head: an LM-head override wins.
  if (tiedHead && overrides[size_t(WeightClass::LMHead)])
    cls = WeightClass::LMHead;
  std::optional<WeightScheme> scheme = overrides[size_t(*cls)];
  if (!scheme)
    scheme = projections;
  if (!scheme)
    return isFloat ? floatDType(floats) : source;
  int64_t row = t.shape.back();
  // int4: the scheme's group, or the largest smaller one that divides the row
  // (docs/quantization.md).
  auto int4 = [&](int64_t group) {
    if (group >= 128 && row % 128 == 0)
      return asymmetric ? DC_WS_Q4_1_G128 : DC_WS_Q4_0_G128;
    if (group >= 64 && row % 64 == 0)
      return asymmetric ? DC_WS_Q4_1_G64 : DC_WS_Q4_0_G64;
    if (row % 32 == 0)
      return asymmetric ? DC_WS_Q4_1 : DC_WS_Q4_0;
    return floatDType(floats);
  };
  switch (*scheme) {
  case WeightScheme::F32:
  case WeightScheme::BF16: return asFloat(*scheme);
  case WeightScheme::Int8: return row % 32 == 0 ? DC_WS_Q8_0 : floatDType(floats);
  case WeightScheme::Int4: return int4(32);
  case WeightScheme::Int4G64: return int4(64);
  case WeightScheme::Int4G128: return int4(128);
  }
  return source;
}

} // namespace deltac
