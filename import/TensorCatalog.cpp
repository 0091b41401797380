//===- TensorCatalog.cpp - the tensors a model needs ----------------------===//

#include "import/TensorCatalog.h"

namespace deltac {

std::string decayTensorName(int64_t layer, DecayStorage decay) {
  return "layers." + std::to_string(layer) + ".linear_attn." +
         (decay == DecayStorage::ALog ? "A_log" : "ssm_a");
}

namespace {

class CatalogBuilder {
public:
  CatalogBuilder(const ModelConfig &c, std::vector<CatalogTensor> &out) : c(c), out(out) {}

  void add(std::string name, llvm::SmallVector<int64_t, 4> shape, TensorRole role) {
    out.push_back({std::move(name), std::move(shape), role, inMTP});
  }

  void attention(const std::string &p) {
    int64_t h = c.hiddenSize;
    add(p + "self_attn.q_proj.weight", {2 * c.numHeads * c.headDim, h}, TensorRole::Linear);
    add(p + "self_attn.k_proj.weight", {c.numKVHeads * c.headDim, h}, TensorRole::Linear);
    add(p + "self_attn.v_proj.weight", {c.numKVHeads * c.headDim, h}, TensorRole::Linear);
    add(p + "self_attn.o_proj.weight", {h, c.numHeads * c.headDim}, TensorRole::Linear);
    add(p + "self_attn.q_norm.weight", {c.headDim}, TensorRole::CenteredNorm);
    add(p + "self_attn.k_norm.weight", {c.headDim}, TensorRole::CenteredNorm);
  }

  void deltaNet(int64_t layer, const std::string &p, DecayStorage decay) {
    int64_t h = c.hiddenSize, nv = c.numValueHeads;
    add(p + "linear_attn.in_proj_qkv.weight", {c.convDim(), h}, TensorRole::Linear);
    add(p + "linear_attn.in_proj_z.weight", {c.valueDim(), h}, TensorRole::Linear);
    add(p + "linear_attn.in_proj_b.weight", {nv, h}, TensorRole::Linear);
    add(p + "linear_attn.in_proj_a.weight", {nv, h}, TensorRole::Linear);
    add(p + "linear_attn.conv1d.weight", {c.convDim(), c.convKernel}, TensorRole::Conv);
    add(decayTensorName(layer, decay), {nv},
        decay == DecayStorage::ALog ? TensorRole::DecayLog : TensorRole::DecayNegExp);
    add(p + "linear_attn.dt_bias", {nv}, TensorRole::DtBias);
    add(p + "linear_attn.norm.weight", {c.valueHeadDim}, TensorRole::PlainNorm);
    add(p + "linear_attn.out_proj.weight", {h, c.valueDim()}, TensorRole::Linear);
  }

  void mlp(const std::string &p) {
    int64_t h = c.hiddenSize;
    if (!c.isMoE()) {
      add(p + "mlp.gate_proj.weight", {c.intermediateSize, h}, TensorRole::Linear);
      add(p + "mlp.up_proj.weight", {c.intermediateSize, h}, TensorRole::Linear);
      add(p + "mlp.down_proj.weight", {h, c.intermediateSize}, TensorRole::Linear);
      return;
    }
    int64_t e = c.numExperts, ie = c.expertIntermediateSize, is = c.sharedExpertIntermediateSize;
    add(p + "mlp.gate.weight", {e, h}, TensorRole::Linear);
    add(p + "mlp.experts.gate_proj.weight", {e, ie, h}, TensorRole::Experts);
    add(p + "mlp.experts.up_proj.weight", {e, ie, h}, TensorRole::Experts);
    add(p + "mlp.experts.down_proj.weight", {e, h, ie}, TensorRole::Experts);
    add(p + "mlp.shared_expert.gate_proj.weight", {is, h}, TensorRole::Linear);
    add(p + "mlp.shared_expert.up_proj.weight", {is, h}, TensorRole::Linear);
    add(p + "mlp.shared_expert.down_proj.weight", {h, is}, TensorRole::Linear);
    add(p + "mlp.shared_expert_gate.weight", {1, h}, TensorRole::Linear);
  }

  void norms(const std::string &p) {
    add(p + "input_layernorm.weight", {c.hiddenSize}, TensorRole::CenteredNorm);
    add(p + "post_attention_layernorm.weight", {c.hiddenSize}, TensorRole::CenteredNorm);
  }

  const ModelConfig &c;
  std::vector<CatalogTensor> &out;
  bool inMTP = false;
};

} // namespace

std::vector<CatalogTensor> catalogTensors(const ModelConfig &c, DecayStorage decay, bool withMTP) {
  std::vector<CatalogTensor> tensors;
  CatalogBuilder b(c, tensors);
  b.add("embed_tokens.weight", {c.vocabSize, c.hiddenSize}, TensorRole::Embedding);
  for (int64_t i = 0; i < c.numLayers; ++i) {
    std::string p = "layers." + std::to_string(i) + ".";
    b.norms(p);
    if (c.fullAttention[i])
      b.attention(p);
    else
      b.deltaNet(i, p, decay);
    b.mlp(p);
  }
  b.add("norm.weight", {c.hiddenSize}, TensorRole::CenteredNorm);
  if (!c.tieWordEmbeddings)
    b.add("lm_head.weight", {c.vocabSize, c.hiddenSize}, TensorRole::LMHead);
  if (withMTP && c.mtpLayers > 0) {
    b.inMTP = true;
    b.add("mtp.fc.weight", {c.hiddenSize, 2 * c.hiddenSize}, TensorRole::Linear);
    b.add("mtp.pre_fc_norm_embedding.weight", {c.hiddenSize}, TensorRole::CenteredNorm);
    b.add("mtp.pre_fc_norm_hidden.weight", {c.hiddenSize}, TensorRole::CenteredNorm);
    b.add("mtp.norm.weight", {c.hiddenSize}, TensorRole::CenteredNorm);
    b.norms("mtp.layers.0.");
    b.attention("mtp.layers.0.");
    b.mlp("mtp.layers.0.");
  }
  return tensors;
}

} // namespace deltac
