//===- MixerOps.cpp - verifiers of the Gated DeltaNet and attention ops ---===//

#include "dialect/DeltaOps.h"
#include "dialect/DeltaShapes.h"
#include "dialect/VerifyHelpers.h"

using namespace mlir;
using namespace deltac::delta;

//===----------------------------------------------------------------------===//
// causal_conv1d
//===----------------------------------------------------------------------===//

OperandRange CausalConv1DOp::getStateOperands() {
  return getOperation()->getOperands().slice(getStateMutable().getOperandNumber(), 1);
}
ResultRange CausalConv1DOp::getUpdatedStates() {
  return getOperation()->getResults().slice(1, 1);
}

LogicalResult CausalConv1DOp::verify() {
  auto input = getInput().getType();
  Type weight = getWeight().getType(), state = getState().getType();
  if (failed(verify::rank(*this, "input", input, 2)) ||
      failed(verify::rank(*this, "weight", weight, 2)) ||
      failed(verify::rank(*this, "state", state, 2)))
    return failure();
  int64_t channels = input.getDimSize(1);
  if (failed(verify::dim(*this, "weight", weight, 0, channels, "the input's channel count")))
    return failure();
  int64_t kernel = verify::shapeOf(weight)[1];
  if (kernel < 2)
    return emitOpError() << "kernel size must be at least 2, got " << kernel;
  if (failed(verify::dim(*this, "state", state, 0, kernel - 1, "the kernel size minus one")) ||
      failed(verify::dim(*this, "state", state, 1, channels, "the input's channel count")))
    return failure();
  return verify::sameElementType(*this, "input", input, "state", state);
}

//===----------------------------------------------------------------------===//
// gdn_gates
//===----------------------------------------------------------------------===//

LogicalResult GDNGatesOp::verify() {
  auto a = getA().getType();
  auto g = getG().getType();
  Type decay = getDecay().getType();
  if (failed(verify::rank(*this, "a", a, 2)) || failed(verify::rank(*this, "decay", decay, 1)))
    return failure();
  int64_t heads = a.getDimSize(1);
  if (failed(verify::dim(*this, "decay", decay, 0, heads, "the value head count of a")) ||
      failed(verify::rank(*this, "g", g, 2)) ||
      failed(verify::dim(*this, "g", g, 0, a.getDimSize(0), "the token count")) ||
      failed(verify::dim(*this, "g", g, 1, heads, "the value head count")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// gated_delta_rule
//===----------------------------------------------------------------------===//

OperandRange GatedDeltaRuleOp::getStateOperands() {
  return getOperation()->getOperands().slice(getStateMutable().getOperandNumber(), 1);
}
ResultRange GatedDeltaRuleOp::getUpdatedStates() {
  return getOperation()->getResults().slice(1, 1);
}

LogicalResult GatedDeltaRuleOp::verify() {
  auto q = getQuery().getType(), v = getValue().getType(), g = getG().getType();
  Type state = getState().getType();
  if (failed(verify::rank(*this, "query", q, 3)) || failed(verify::rank(*this, "value", v, 3)) ||
      failed(verify::rank(*this, "g", g, 2)) || failed(verify::rank(*this, "state", state, 3)))
    return failure();
  if (failed(verify::sameElementType(*this, "query", q, "value", v)))
    return failure();
  int64_t tokens = q.getDimSize(0);
  int64_t keyHeads = q.getDimSize(1), keyDim = q.getDimSize(2);
  int64_t valueHeads = v.getDimSize(1), valueDim = v.getDimSize(2);
  if (failed(verify::dim(*this, "value", v, 0, tokens, "the query's token count")) ||
      failed(verify::dim(*this, "g", g, 0, tokens, "the query's token count")) ||
      failed(verify::dim(*this, "g", g, 1, valueHeads, "the value head count")) ||
      failed(verify::divides(*this, keyHeads, valueHeads,
                             "value heads must be a multiple of key heads")) ||
      failed(verify::dim(*this, "state", state, 0, valueHeads, "the value head count")) ||
      failed(verify::dim(*this, "state", state, 1, keyDim, "the key head dimension")) ||
      failed(verify::dim(*this, "state", state, 2, valueDim, "the value head dimension")))
    return failure();
  APFloat scale = getScale();
  if (!scale.isFiniteNonZero() || scale.isNegative())
    return emitOpError() << "scale must be positive and finite, got " << scale.convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// gated_delta_net
//===----------------------------------------------------------------------===//

OperandRange GatedDeltaNetOp::getStateOperands() {
  // conv_state and state are adjacent operands, in the order of the updated states.
  return getOperation()->getOperands().slice(getConvStateMutable().getOperandNumber(), 2);
}
ResultRange GatedDeltaNetOp::getUpdatedStates() {
  return getOperation()->getResults().slice(1, 2);
}

int64_t GatedDeltaNetOp::getNumKeyHeads() {
  ArrayRef<int64_t> state = cast<RankedTensorType>(getState().getType()).getShape();
  int64_t channels = cast<RankedTensorType>(getConvWeight().getType()).getDimSize(0);
  return (channels - state[0] * state[2]) / (2 * state[1]);
}

LogicalResult GatedDeltaNetOp::verify() {
  auto qkv = getQkv().getType(), a = getA().getType(), out = getOutput().getType();
  Type weight = getConvWeight().getType(), convState = getConvState().getType();
  Type decay = getDecay().getType(), state = getState().getType();
  if (failed(verify::rank(*this, "qkv", qkv, 2)) || failed(verify::rank(*this, "a", a, 2)) ||
      failed(verify::rank(*this, "conv weight", weight, 2)) ||
      failed(verify::rank(*this, "conv state", convState, 2)) ||
      failed(verify::rank(*this, "decay", decay, 1)) ||
      failed(verify::rank(*this, "state", state, 3)) ||
      failed(verify::rank(*this, "output", out, 3)))
    return failure();
  if (failed(verify::sameElementType(*this, "qkv", qkv, "output", out)) ||
      failed(verify::sameElementType(*this, "qkv", qkv, "conv state", convState)))
    return failure();

  // The state fixes the value heads and both head dimensions; the conv channels then fix nk.
  ArrayRef<int64_t> s = verify::shapeOf(state);
  int64_t valueHeads = s[0], keyDim = s[1], valueDim = s[2];
  int64_t channels = verify::shapeOf(weight)[0], kernel = verify::shapeOf(weight)[1];
  if (failed(verify::dim(*this, "qkv", qkv, 1, channels, "the conv weight's channel count")))
    return failure();
  if (kernel < 2)
    return emitOpError() << "kernel size must be at least 2, got " << kernel;
  if (failed(verify::dim(*this, "conv state", convState, 0, kernel - 1,
                         "the kernel size minus one")) ||
      failed(verify::dim(*this, "conv state", convState, 1, channels,
                         "the conv weight's channel count")))
    return failure();
  int64_t keyChannels = channels - valueHeads * valueDim;
  if (keyChannels <= 0 || keyChannels % (2 * keyDim) != 0)
    return emitOpError() << "the " << channels << " conv channels must be 2 * nk * dk + nv * dv "
                         << "with nv = " << valueHeads << ", dk = " << keyDim
                         << ", dv = " << valueDim << " (from the state) and nk >= 1";
  int64_t keyHeads = keyChannels / (2 * keyDim);
  if (failed(verify::divides(*this, keyHeads, valueHeads,
                             "value heads must be a multiple of key heads")))
    return failure();

  int64_t tokens = qkv.getDimSize(0);
  if (failed(verify::dim(*this, "a", a, 0, tokens, "the qkv token count")) ||
      failed(verify::dim(*this, "a", a, 1, valueHeads, "the value head count")) ||
      failed(verify::dim(*this, "decay", decay, 0, valueHeads, "the value head count")) ||
      failed(verify::dim(*this, "output", out, 0, tokens, "the qkv token count")) ||
      failed(verify::dim(*this, "output", out, 1, valueHeads, "the value head count")) ||
      failed(verify::dim(*this, "output", out, 2, valueDim, "the value head dimension")))
    return failure();
  APFloat scale = getScale();
  if (!scale.isFiniteNonZero() || scale.isNegative())
    return emitOpError() << "scale must be positive and finite, got " << scale.convertToDouble();
  return verify::epsilon(*this, getL2Eps());
}

//===----------------------------------------------------------------------===//
// rope
//===----------------------------------------------------------------------===//

LogicalResult RoPEOp::verify() {
  auto input = getInput().getType();
  auto positions = getPositions().getType();
  if (failed(verify::rank(*this, "input", input, 3)))
    return failure();
  int64_t headDim = input.getDimSize(2);
  int64_t rotaryDim = getRotaryDim();
  if (rotaryDim <= 0 || rotaryDim % 2 != 0)
    return emitOpError() << "rotary_dim must be positive and even, got " << rotaryDim;
  if (!ShapedType::isDynamic(headDim) && rotaryDim > headDim)
    return emitOpError() << "rotary_dim " << rotaryDim << " exceeds the head dimension "
                         << headDim;
  double theta = getTheta().convertToDouble();
  if (!(theta > 1.0) || std::isinf(theta))
    return emitOpError() << "theta must be finite and greater than 1, got " << theta;

  std::optional<ArrayRef<int64_t>> sections = getMropeSections();
  if (positions.getRank() == 2) {
    if (!sections)
      return emitOpError() << "[3, T] positions need mrope sections";
    if (failed(verify::dim(*this, "positions", positions, 0, 3,
                           "the three M-RoPE position rows")))
      return failure();
  }
  if (sections && (sections->size() != 3 || !mropeSectionsFit(*sections, rotaryDim)))
    return emitOpError() << "mrope needs three non-negative sections that add up to rotary_dim "
                            "/ 2 ("
                         << rotaryDim / 2 << ")";
  return verify::dim(*this, "positions", positions, positions.getRank() - 1, input.getDimSize(0),
                     "the input's token count");
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

OperandRange AttentionOp::getStateOperands() {
  return getOperation()->getOperands().slice(getKeyCacheMutable().getOperandNumber(), 2);
}
ResultRange AttentionOp::getUpdatedStates() {
  return getOperation()->getResults().slice(1, 2);
}

LogicalResult AttentionOp::verify() {
  auto q = getQuery().getType(), k = getKey().getType(), v = getValue().getType();
  auto out = getOutput().getType();
  auto kc = cast<RankedTensorType>(getKeyCache().getType());
  auto vc = cast<RankedTensorType>(getValueCache().getType());
  for (auto [name, type] : {std::pair<StringRef, Type>{"query", q}, {"key", k}, {"value", v},
                            {"output", out}, {"key cache", kc}, {"value cache", vc}})
    if (failed(verify::rank(*this, name, type, 3)))
      return failure();
  if (failed(verify::sameElementType(*this, "query", q, "key", k)) ||
      failed(verify::sameElementType(*this, "query", q, "value", v)) ||
      failed(verify::sameElementType(*this, "query", q, "output", out)) ||
      failed(verify::sameElementType(*this, "key cache", kc, "value cache", vc)))
    return failure();

  int64_t tokens = q.getDimSize(0), heads = q.getDimSize(1), headDim = q.getDimSize(2);
  int64_t kvHeads = k.getDimSize(1), valueDim = v.getDimSize(2);
  int64_t context = kc.getDimSize(1);
  if (failed(verify::dim(*this, "key", k, 0, tokens, "the query's token count")) ||
      failed(verify::dim(*this, "key", k, 2, headDim, "the query's head dimension")) ||
      failed(verify::dim(*this, "value", v, 0, tokens, "the query's token count")) ||
      failed(verify::dim(*this, "value", v, 1, kvHeads, "the key's head count")) ||
      failed(verify::divides(*this, kvHeads, heads,
                             "query heads must be a multiple of key/value heads")) ||
      failed(verify::dim(*this, "key cache", kc, 0, kvHeads, "the key's head count")) ||
      failed(verify::dim(*this, "key cache", kc, 2, headDim, "the key's head dimension")) ||
      failed(verify::dim(*this, "value cache", vc, 0, kvHeads, "the key's head count")) ||
      failed(verify::dim(*this, "value cache", vc, 1, context, "the key cache's length")) ||
      failed(verify::dim(*this, "value cache", vc, 2, valueDim, "the value's head dimension")) ||
      failed(verify::dim(*this, "output", out, 0, tokens, "the query's token count")) ||
      failed(verify::dim(*this, "output", out, 1, heads, "the query's head count")) ||
      failed(verify::dim(*this, "output", out, 2, valueDim, "the value's head dimension")))
    return failure();
  if (!ShapedType::isDynamic(tokens) && tokens > context)
    return emitOpError() << "a step of " << tokens << " tokens does not fit a KV cache of "
                         << context;
  if (Value gate = getGate()) {
    if (gate.getType() != Type(out))
      return emitOpError() << "gate must have the output's type " << out << ", got "
                           << gate.getType();
  }
  APFloat scale = getScale();
  if (!scale.isFiniteNonZero() || scale.isNegative())
    return emitOpError() << "scale must be positive and finite, got " << scale.convertToDouble();
  return success();
}
