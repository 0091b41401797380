//===- ModelBuilder.cpp - emit a model's delta-dialect module -------------===//
//
// Transcribes spec §2 into delta ops, one layer at a time. Format differences are attributes, not
// rewrites: `one_plus` or `plain` norms, `a_log` or `neg_exp` decay, `grouped` or `tiled` heads.
//
//===----------------------------------------------------------------------===//

#include "import/ModelBuilder.h"

#include "dialect/DeltaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace mlir;
using namespace deltac::delta;

namespace deltac {
namespace {

class ModelEmitter {
public:
  ModelEmitter(MLIRContext &context, const ModelDescription &model, ModuleOp module)
      : ctx(&context), model(model), c(model.config), module(module), b(&context),
        loc(UnknownLoc::get(&context)) {
    for (const ModelDescription::Weight &w : model.weights)
      weights[w.name] = &w;
    f32 = b.getF32Type();
    // Declarations are collected in the order they are first needed, before every function.
    declarations = OpBuilder::atBlockEnd(module.getBody());
  }

  void emitEntry(StringRef name, int64_t tokens);

private:
  RankedTensorType act(ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, f32); }

  Type weightType(const ModelDescription::Weight &w) {
    // Groups of 32 are GGUF's blocks; 64 and 128 deltac's own (import/DeltacQuants.h).
    auto quant = [&](unsigned bits, bool offset, int64_t group = 32) {
      auto scheme = QuantSchemeAttr::get(ctx, b.getIntegerType(bits), group, b.getF16Type(),
                                         offset ? b.getF16Type() : FloatType());
      WeightLayout layout = group == 32 ? WeightLayout::ggml_blocks : WeightLayout::blocks;
      return QuantizedWeightType::get(ctx, w.shape, scheme, layout);
    };
    switch (w.dtype) {
    case DC_WS_F32: return RankedTensorType::get(w.shape, f32);
    case DC_WS_F16: return RankedTensorType::get(w.shape, b.getF16Type());
    case DC_WS_BF16: return RankedTensorType::get(w.shape, b.getBF16Type());
    case DC_WS_Q8_0: return quant(8, false);
    case DC_WS_Q4_0: return quant(4, false);
    case DC_WS_Q4_1: return quant(4, true);
    case DC_WS_Q4_0_G64: return quant(4, false, 64);
    case DC_WS_Q4_1_G64: return quant(4, true, 64);
    case DC_WS_Q4_0_G128: return quant(4, false, 128);
    case DC_WS_Q4_1_G128: return quant(4, true, 128);
    }
    llvm_unreachable("unknown weight dtype");
  }

  /// A reference to weight `name`, declaring it on first use.
  Value weight(StringRef name) {
    auto it = weights.find(name);
    assert(it != weights.end() && "the catalog and the store disagree");
    Type type = weightType(*it->second);
    if (declared.insert(name).second) {
      WeightOp::create(declarations, loc, b.getStringAttr(name), b.getStringAttr("private"),
                       TypeAttr::get(type), WeightDerivationAttr(), ArrayAttr(),
                       it->second->verbatim ? b.getUnitAttr() : UnitAttr());
    }
    return WeightRefOp::create(b, loc, type, name);
  }

  /// Reads state `name` (declaring it once); the caller writes the update back.
  Value readState(StringRef name, RankedTensorType type) {
    if (declaredStates.insert(name).second)
      StateOp::create(declarations, loc, name, type);
    return StateReadOp::create(b, loc, type, name);
  }

  NormScaleAttr centeredScale() {
    // GGUF stores 1 + w already; Hugging Face stores w.
    return NormScaleAttr::get(ctx, model.normsStoreOnePlus ? NormScale::plain : NormScale::one_plus);
  }

  FloatAttr eps() { return b.getF32FloatAttr(float(c.rmsNormEps)); }

  Value centeredNorm(Value x, StringRef weightName) {
    return RMSNormOp::create(b, loc, x, weight(weightName), centeredScale(), eps());
  }

  Value linear(Value x, StringRef weightName, int64_t outFeatures) {
    auto xt = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(xt.getShape());
    shape.back() = outFeatures;
    return LinearOp::create(b, loc, act(shape), x, weight(weightName));
  }

  Value reshape(Value x, ArrayRef<int64_t> shape) { return ReshapeOp::create(b, loc, act(shape), x); }

  Value deltaNet(const std::string &p, int64_t layer, Value x, Value normed);
  Value attention(const std::string &p, const std::string &stateName, Value x, Value normed);
  Value mlp(const std::string &p, Value h);

  MLIRContext *ctx;
  const ModelDescription &model;
  const ModelConfig &c;
  ModuleOp module;
  OpBuilder b;
  OpBuilder declarations{(MLIRContext *)nullptr};
  Location loc;
  Type f32;
  llvm::StringMap<const ModelDescription::Weight *> weights;
  llvm::StringSet<> declared, declaredStates;
  // Entry arguments of the function being emitted.
  int64_t tokens = 0;
  Value positions, start;
};

Value ModelEmitter::deltaNet(const std::string &p, int64_t layer, Value x, Value normed) {
  int64_t t = tokens, nk = c.numKeyHeads, nv = c.numValueHeads, dk = c.keyHeadDim;
  int64_t dv = c.valueHeadDim, kd = c.keyDim(), vd = c.valueDim(), cd = c.convDim();
  std::string la = p + "linear_attn.";
  Value mixed = linear(normed, la + "in_proj_qkv.weight", cd);
  Value z = linear(normed, la + "in_proj_z.weight", vd);
  Value bLogits = linear(normed, la + "in_proj_b.weight", nv);
  Value aInput = linear(normed, la + "in_proj_a.weight", nv);

  // Conv state holds the last K-1 pre-conv inputs; the conv applies SiLU.
  auto convStateType = act({c.convKernel - 1, cd});
  std::string stateBase = "layers." + std::to_string(layer) + ".";
  Value convState = readState(stateBase + "conv_state", convStateType);
  auto conv = CausalConv1DOp::create(b, loc, mixed, weight(la + "conv1d.weight"), convState,
                                     ActivationAttr::get(ctx, Activation::silu));
  auto split = SplitOp::create(b, loc, TypeRange{act({t, kd}), act({t, kd}), act({t, vd})},
                               conv.getResult());
  Value q = L2NormOp::create(b, loc, reshape(split.getResult(0), {t, nk, dk}), b.getF32FloatAttr(1e-6f));
  Value k = L2NormOp::create(b, loc, reshape(split.getResult(1), {t, nk, dk}), b.getF32FloatAttr(1e-6f));
  Value v = reshape(split.getResult(2), {t, nv, dv});

  DecayForm form = model.decay == DecayStorage::ALog ? DecayForm::a_log : DecayForm::neg_exp;
  auto gates = GDNGatesOp::create(b, loc, act({t, nv}), act({t, nv}), aInput, bLogits,
                                  weight(decayTensorName(layer, model.decay)),
                                  weight(la + "dt_bias"), DecayFormAttr::get(ctx, form));

  auto stateType =
      RankedTensorType::get({nv, dk, dv}, model.f16RecurrentState ? b.getF16Type() : f32);
  Value state = readState(stateBase + "delta_state", stateType);
  HeadMapping mapping = model.tiledValueHeads ? HeadMapping::tiled : HeadMapping::grouped;
  auto rule = GatedDeltaRuleOp::create(b, loc, q, k, v, gates.getG(), gates.getBeta(), state,
                                       HeadMappingAttr::get(ctx, mapping),
                                       b.getF32FloatAttr(float(1.0 / std::sqrt(double(dk)))));
  Value gated = GatedRMSNormOp::create(b, loc, rule.getOutput(), reshape(z, {t, nv, dv}),
                                       weight(la + "norm.weight"), eps());
  Value out = linear(reshape(gated, {t, vd}), la + "out_proj.weight", c.hiddenSize);
  StateWriteOp::create(b, loc, conv.getNewState(), stateBase + "conv_state");
  StateWriteOp::create(b, loc, rule.getNewState(), stateBase + "delta_state");
  return AddOp::create(b, loc, x, out);
}

Value ModelEmitter::attention(const std::string &p, const std::string &stateBase, Value x,
                              Value normed) {
  int64_t t = tokens, nh = c.numHeads, nkv = c.numKVHeads, hd = c.headDim;
  std::string sa = p + "self_attn.";
  // q_proj interleaves per head [query (hd) | gate (hd)] (spec §2.5).
  Value qg = reshape(linear(normed, sa + "q_proj.weight", 2 * nh * hd), {t, nh, 2 * hd});
  auto split = SplitOp::create(b, loc, TypeRange{act({t, nh, hd}), act({t, nh, hd})}, qg);
  Value k = reshape(linear(normed, sa + "k_proj.weight", nkv * hd), {t, nkv, hd});
  Value v = reshape(linear(normed, sa + "v_proj.weight", nkv * hd), {t, nkv, hd});
  Value q = centeredNorm(split.getResult(0), sa + "q_norm.weight");
  k = centeredNorm(k, sa + "k_norm.weight");
  // Text-only positions: M-RoPE with one position row is plain partial RoPE (spec §2.6); the sections
  // stay on the op so image positions can use it later.
  DenseI64ArrayAttr sections =
      c.mropeSections.empty() ? DenseI64ArrayAttr() : b.getDenseI64ArrayAttr(c.mropeSections);
  auto rope = [&](Value in) {
    return RoPEOp::create(b, loc, in, positions, b.getI64IntegerAttr(c.rotaryDim),
                          b.getF64FloatAttr(c.ropeTheta), sections);
  };
  q = rope(q);
  k = rope(k);
  auto cacheType =
      RankedTensorType::get({nkv, model.maxContext, hd}, model.f16KVCache ? b.getF16Type() : f32);
  Value keyCache = readState(stateBase + "key_cache", cacheType);
  Value valueCache = readState(stateBase + "value_cache", cacheType);
  auto attn = AttentionOp::create(b, loc, TypeRange{act({t, nh, hd}), cacheType, cacheType}, q, k,
                                  v, split.getResult(1), keyCache, valueCache, start,
                                  b.getF32FloatAttr(float(1.0 / std::sqrt(double(hd)))));
  Value out = linear(reshape(attn.getOutput(), {t, nh * hd}), sa + "o_proj.weight", c.hiddenSize);
  StateWriteOp::create(b, loc, attn.getNewKeyCache(), stateBase + "key_cache");
  StateWriteOp::create(b, loc, attn.getNewValueCache(), stateBase + "value_cache");
  return AddOp::create(b, loc, x, out);
}

Value ModelEmitter::mlp(const std::string &p, Value h) {
  Value normed = centeredNorm(h, p + "post_attention_layernorm.weight");
  Value y;
  if (!c.isMoE()) {
    Value gate = linear(normed, p + "mlp.gate_proj.weight", c.intermediateSize);
    Value up = linear(normed, p + "mlp.up_proj.weight", c.intermediateSize);
    y = linear(SwiGLUOp::create(b, loc, gate, up), p + "mlp.down_proj.weight", c.hiddenSize);
  } else {
    std::string m = p + "mlp.";
    auto moe = MoEOp::create(
        b, loc, h.getType(), normed, weight(m + "gate.weight"),
        weight(m + "experts.gate_proj.weight"), weight(m + "experts.up_proj.weight"),
        weight(m + "experts.down_proj.weight"), weight(m + "shared_expert.gate_proj.weight"),
        weight(m + "shared_expert.up_proj.weight"), weight(m + "shared_expert.down_proj.weight"),
        weight(m + "shared_expert_gate.weight"), b.getI64IntegerAttr(c.numExpertsPerToken),
        c.normTopKProb ? b.getUnitAttr() : UnitAttr());
    y = moe.getResult();
  }
  return AddOp::create(b, loc, h, y);
}

void ModelEmitter::emitEntry(StringRef name, int64_t tokenCount) {
  tokens = tokenCount;
  auto ids = RankedTensorType::get({tokens}, b.getI32Type());
  auto logits = act({tokens, c.vocabSize});
  auto type = b.getFunctionType({ids, ids, b.getIndexType()}, {logits});
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, loc, name, type);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value tokenIds = entry->getArgument(0);
  positions = entry->getArgument(1);
  start = entry->getArgument(2);

  Value x = EmbeddingOp::create(b, loc, act({tokens, c.hiddenSize}),
                                weight("embed_tokens.weight"), tokenIds);
  for (int64_t i = 0; i < c.numLayers; ++i) {
    std::string p = "layers." + std::to_string(i) + ".";
    Value normed = centeredNorm(x, p + "input_layernorm.weight");
    Value h = c.fullAttention[i] ? attention(p, p, x, normed) : deltaNet(p, i, x, normed);
    x = mlp(p, h);
  }
  Value final = centeredNorm(x, "norm.weight");
  StringRef head = c.tieWordEmbeddings ? "embed_tokens.weight" : "lm_head.weight";
  Value out = LMHeadOp::create(b, loc, logits, final, weight(head));
  func::ReturnOp::create(b, loc, out);
}

} // namespace

OwningOpRef<ModuleOp> buildModelModule(MLIRContext &context, const ModelDescription &model) {
  context.loadDialect<DeltaDialect, func::FuncDialect>();
  OpBuilder b(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  (*module)->setAttr("delta.architecture", b.getStringAttr(archName(model.config.arch)));
  (*module)->setAttr("delta.max_context", b.getI64IntegerAttr(model.maxContext));
  ModelEmitter emitter(context, model, *module);
  emitter.emitEntry("prefill", ShapedType::kDynamic);
  emitter.emitEntry("decode", 1);
  // Declarations were appended as functions needed them; list them first, as a reader expects.
  Operation *firstFunc = (*module->getOps<func::FuncOp>().begin()).getOperation();
  for (Operation &op : llvm::make_early_inc_range(module->getBody()->getOperations()))
    if (isa<WeightOp, StateOp>(op))
      op.moveBefore(firstFunc);
  return module;
}

} // namespace deltac
