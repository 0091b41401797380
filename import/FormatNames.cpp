//===- FormatNames.cpp - checkpoint-format tensor names -------------------===//

#include "import/FormatNames.h"

#include "llvm/ADT/StringSwitch.h"

using namespace llvm;

namespace deltac {

/// Per-layer suffixes: canonical (after "layers.N.") to GGUF (after "blk.N.").
static StringRef ggufLayerSuffix(StringRef suffix) {
  return StringSwitch<StringRef>(suffix)
      .Case("input_layernorm.weight", "attn_norm.weight")
      .Case("post_attention_layernorm.weight", "post_attention_norm.weight")
      .Case("linear_attn.in_proj_qkv.weight", "attn_qkv.weight")
      .Case("linear_attn.in_proj_z.weight", "attn_gate.weight")
      .Case("linear_attn.in_proj_b.weight", "ssm_beta.weight")
      .Case("linear_attn.in_proj_a.weight", "ssm_alpha.weight")
      .Case("linear_attn.conv1d.weight", "ssm_conv1d.weight")
      .Case("linear_attn.ssm_a", "ssm_a")
      .Case("linear_attn.dt_bias", "ssm_dt.bias")
      .Case("linear_attn.norm.weight", "ssm_norm.weight")
      .Case("linear_attn.out_proj.weight", "ssm_out.weight")
      .Case("self_attn.q_proj.weight", "attn_q.weight")
      .Case("self_attn.k_proj.weight", "attn_k.weight")
      .Case("self_attn.v_proj.weight", "attn_v.weight")
      .Case("self_attn.o_proj.weight", "attn_output.weight")
      .Case("self_attn.q_norm.weight", "attn_q_norm.weight")
      .Case("self_attn.k_norm.weight", "attn_k_norm.weight")
      .Case("mlp.gate_proj.weight", "ffn_gate.weight")
      .Case("mlp.up_proj.weight", "ffn_up.weight")
      .Case("mlp.down_proj.weight", "ffn_down.weight")
      .Case("mlp.gate.weight", "ffn_gate_inp.weight")
      .Case("mlp.experts.gate_proj.weight", "ffn_gate_exps.weight")
      .Case("mlp.experts.up_proj.weight", "ffn_up_exps.weight")
      .Case("mlp.experts.down_proj.weight", "ffn_down_exps.weight")
      .Case("mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight")
      .Case("mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight")
      .Case("mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight")
      .Case("mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight")
      .Default("");
}

std::string ggufTensorName(const ModelConfig &config, StringRef name) {
  if (name == "embed_tokens.weight")
    return "token_embd.weight";
  if (name == "norm.weight")
    return "output_norm.weight";
  if (name == "lm_head.weight")
    return "output.weight";
  std::string mtpBlock = "blk." + std::to_string(config.numLayers) + ".";
  if (name == "mtp.fc.weight")
    return mtpBlock + "nextn.eh_proj.weight";
  if (name == "mtp.pre_fc_norm_embedding.weight")
    return mtpBlock + "nextn.enorm.weight";
  if (name == "mtp.pre_fc_norm_hidden.weight")
    return mtpBlock + "nextn.hnorm.weight";
  if (name == "mtp.norm.weight")
    return mtpBlock + "nextn.shared_head_norm.weight";
  if (name.consume_front("mtp.layers.0."))
    return mtpBlock + ggufLayerSuffix(name).str();
  if (name.consume_front("layers.")) {
    auto [index, suffix] = name.split('.');
    return "blk." + index.str() + "." + ggufLayerSuffix(suffix).str();
  }
  return "";
}

StringRef defaultHFPrefix(const ModelConfig &config) {
  return config.arch == ModelArch::Qwen3Next ? "model." : "model.language_model.";
}

std::string hfTensorName(StringRef prefix, StringRef name) {
  if (name.starts_with("lm_head.") || name.starts_with("mtp."))
    return name.str();
  return (prefix + name).str();
}

} // namespace deltac
