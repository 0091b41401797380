//===- Interpreter.cpp - run a delta module with the reference ops --------===//

#include "reference/Interpreter.h"

#include "dialect/DeltaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

using namespace mlir;
using namespace deltac::delta;

namespace deltac::ref {

Tensor decodeStoredTensor(const WeightStore::Tensor &t) {
  Tensor out(std::vector<int64_t>(t.shape.begin(), t.shape.end()));
  int64_t rowLength = t.shape.back(), rows = out.numel() / rowLength;
  std::vector<float> row(rowLength);
  uint64_t rowBytes = *storedBytes(t.dtype, {rowLength});
  for (int64_t r = 0; r < rows; ++r) {
    decodeRow(t.dtype, t.data.data() + r * rowBytes, row.data(), rowLength);
    for (int64_t i = 0; i < rowLength; ++i)
      out.data[r * rowLength + i] = row[i];
  }
  return out;
}

Interpreter::Interpreter(ModuleOp module, const WeightStore &store) : module(module), store(store) {
  for (StateOp state : module.getOps<StateOp>()) {
    auto type = cast<RankedTensorType>(state.getType());
    states[state.getSymName()] = Tensor(std::vector<int64_t>(type.getShape()));
  }
}

const Tensor *Interpreter::state(llvm::StringRef name) const {
  auto it = states.find(name);
  return it == states.end() ? nullptr : &it->second;
}

llvm::Expected<const Tensor *> Interpreter::weight(llvm::StringRef name) {
  auto it = weights.find(name);
  if (it != weights.end())
    return &it->second;
  const WeightStore::Tensor *stored = store.find(name);
  if (!stored)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "weight " + name + " is not in the weight store");
  return &(weights[name] = decodeStoredTensor(*stored));
}

namespace {

/// The shape of `type` with its dynamic (token) dimension taken from `tokens`.
std::vector<int64_t> concreteShape(Type type, int64_t tokens) {
  std::vector<int64_t> shape(cast<RankedTensorType>(type).getShape());
  for (int64_t &d : shape)
    if (ShapedType::isDynamic(d))
      d = tokens;
  return shape;
}

/// Whether `v` is stored in f16 (an f16 delta-rule state, rounded as the op ends, or an f16 KV
/// cache, whose new rows are rounded as they are stored).
bool isF16(Value v) { return cast<RankedTensorType>(v.getType()).getElementType().isF16(); }

} // namespace

llvm::Expected<Tensor> Interpreter::run(llvm::StringRef entry, const std::vector<int32_t> &tokens,
                                        int64_t start) {
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no entry point @" + entry + " in the module");
  int64_t t = int64_t(tokens.size());
  std::vector<int32_t> positions(tokens.size());
  for (int64_t i = 0; i < t; ++i)
    positions[i] = int32_t(start + i);

  llvm::DenseMap<Value, Tensor> values;
  Block &body = func.getBody().front();
  [[maybe_unused]] Value tokenArg = body.getArgument(0), positionArg = body.getArgument(1);
  Tensor result;
  auto get = [&](Value v) -> const Tensor & { return values.find(v)->second; };

  for (Operation &op : body) {
    llvm::Error error = llvm::Error::success();
    llvm::TypeSwitch<Operation *>(&op)
        .Case([&](WeightRefOp w) {
          llvm::Expected<const Tensor *> tensor = weight(w.getName());
          if (!tensor)
            error = tensor.takeError();
          else
            values[w.getResult()] = **tensor;
        })
        .Case([&](StateReadOp s) { values[s.getResult()] = states[s.getState()]; })
        .Case([&](StateWriteOp s) { states[s.getState()] = get(s.getValue()); })
        .Case([&](EmbeddingOp e) {
          assert(e.getIds() == tokenArg && "embedding reads the token argument");
          values[e.getResult()] = embedding(get(e.getTable()), tokens);
        })
        .Case([&](LinearOp l) {
          const Tensor *residual = l.getResidual() ? &get(l.getResidual()) : nullptr;
          values[l.getResult()] =
              linearEpilogue(get(l.getInput()), get(l.getWeight()), l.getSwiglu(), residual);
        })
        .Case([&](LMHeadOp l) { values[l.getResult()] = lmHead(get(l.getInput()), get(l.getWeight())); })
        .Case([&](AddOp a) { values[a.getResult()] = add(get(a.getLhs()), get(a.getRhs())); })
        .Case([&](SwiGLUOp s) { values[s.getResult()] = swiglu(get(s.getGate()), get(s.getUp())); })
        .Case([&](RMSNormOp n) {
          values[n.getResult()] = rmsNorm(get(n.getInput()), n.getWeight() ? get(n.getWeight()) : Tensor(),
                                          n.getScale() == NormScale::one_plus,
                                          n.getEps().convertToDouble());
        })
        .Case([&](L2NormOp n) {
          values[n.getResult()] = l2Norm(get(n.getInput()), n.getEps().convertToDouble());
        })
        .Case([&](GatedRMSNormOp n) {
          values[n.getResult()] = gatedRmsNorm(get(n.getInput()), get(n.getGate()),
                                               get(n.getWeight()), n.getEps().convertToDouble());
        })
        .Case([&](ReshapeOp r) {
          values[r.getResult()] = reshape(get(r.getInput()), concreteShape(r.getType(), t));
        })
        .Case([&](SplitOp s) {
          std::vector<int64_t> widths;
          for (Value v : s.getResults())
            widths.push_back(cast<RankedTensorType>(v.getType()).getShape().back());
          std::vector<Tensor> parts = split(get(s.getInput()), widths);
          for (auto [v, part] : llvm::zip(s.getResults(), parts))
            values[v] = std::move(part);
        })
        .Case([&](LastRowOp l) {
          const Tensor &x = get(l.getInput());
          std::vector<int64_t> shape = x.shape;
          int64_t rowElements = x.numel() / shape[0];
          shape[0] = 1;
          Tensor row(shape);
          std::copy(x.data.end() - rowElements, x.data.end(), row.data.begin());
          values[l.getResult()] = std::move(row);
        })
        .Case([&](ConcatOp c) {
          std::vector<Tensor> inputs;
          for (Value v : c.getInputs())
            inputs.push_back(get(v));
          values[c.getResult()] = concat(inputs);
        })
        .Case([&](CausalConv1DOp c) {
          ConvResult r = causalConv1d(get(c.getInput()), get(c.getWeight()), get(c.getState()),
                                      c.getActivation() == Activation::silu);
          values[c.getResult()] = std::move(r.output);
          values[c.getNewState()] = std::move(r.newState);
        })
        .Case([&](GDNGatesOp g) {
          Gates r = gdnGates(get(g.getA()), get(g.getB()), get(g.getDecay()), get(g.getDtBias()),
                             g.getDecayForm() == DecayForm::a_log);
          values[g.getG()] = std::move(r.g);
          values[g.getBeta()] = std::move(r.beta);
        })
        .Case([&](GatedDeltaRuleOp d) {
          bool tiled = d.getHeadMapping() == HeadMapping::tiled;
          double scale = d.getScale().convertToDouble();
          DeltaRuleResult r =
              deltaRuleChunk > 0 && t > 1
                  ? gatedDeltaRuleChunked(get(d.getQuery()), get(d.getKey()), get(d.getValue()),
                                          get(d.getG()), get(d.getBeta()), get(d.getState()),
                                          tiled, scale, deltaRuleChunk)
                  : gatedDeltaRule(get(d.getQuery()), get(d.getKey()), get(d.getValue()),
                                   get(d.getG()), get(d.getBeta()), get(d.getState()), tiled,
                                   scale);
          values[d.getOutput()] = std::move(r.output);
          if (isF16(d.getNewState()))
            roundToHalf(r.newState);
          values[d.getNewState()] = std::move(r.newState);
        })
        .Case([&](GatedDeltaNetOp d) {
          GatedDeltaNetResult r = gatedDeltaNet(
              get(d.getQkv()), get(d.getA()), get(d.getB()), get(d.getConvWeight()),
              get(d.getConvState()), get(d.getDecay()), get(d.getDtBias()), get(d.getState()),
              d.getDecayForm() == DecayForm::a_log, d.getHeadMapping() == HeadMapping::tiled,
              d.getScale().convertToDouble(), d.getL2Eps().convertToDouble(), deltaRuleChunk);
          values[d.getOutput()] = std::move(r.output);
          values[d.getNewConvState()] = std::move(r.newConvState);
          if (isF16(d.getNewState()))
            roundToHalf(r.newState);
          values[d.getNewState()] = std::move(r.newState);
        })
        .Case([&](RoPEOp r) {
          assert(r.getPositions() == positionArg && "rope reads the position argument");
          std::vector<int64_t> sections;
          if (auto s = r.getMropeSections())
            sections.assign(s->begin(), s->end());
          // Text positions: one row; M-RoPE slots all read it (spec §2.6).
          values[r.getResult()] = rope(get(r.getInput()), {positions}, r.getRotaryDim(),
                                       r.getTheta().convertToDouble(), sections);
        })
        .Case([&](AttentionOp a) {
          const Tensor *gate = a.getGate() ? &get(a.getGate()) : nullptr;
          // f16 caches store the new rows rounded, and attention reads every row as stored.
          Tensor key = get(a.getKey()), value = get(a.getValue());
          if (isF16(a.getKeyCache())) {
            roundToHalf(key);
            roundToHalf(value);
          }
          AttentionResult r =
              attention(get(a.getQuery()), key, value, gate, get(a.getKeyCache()),
                        get(a.getValueCache()), start, a.getScale().convertToDouble());
          values[a.getOutput()] = std::move(r.output);
          values[a.getNewKeyCache()] = std::move(r.newKeyCache);
          values[a.getNewValueCache()] = std::move(r.newValueCache);
        })
        .Case([&](MoEOp m) {
          MoEWeights w{get(m.getRouter()), get(m.getGateWeights()), get(m.getUpWeights()),
                       get(m.getDownWeights()), std::nullopt, std::nullopt, std::nullopt,
                       std::nullopt};
          if (m.getSharedGateWeight()) {
            w.sharedGate = get(m.getSharedGateWeight());
            w.sharedUp = get(m.getSharedUpWeight());
            w.sharedDown = get(m.getSharedDownWeight());
            w.sharedExpertGate = get(m.getSharedExpertGate());
          }
          values[m.getResult()] = moe(get(m.getInput()), w, m.getTopK(), m.getNormalized());
        })
        .Case([&](func::ReturnOp r) { result = get(r.getOperand(0)); })
        .Default([&](Operation *other) {
          error = llvm::createStringError(llvm::inconvertibleErrorCode(),
                                          "the reference interpreter has no rule for " +
                                              other->getName().getStringRef());
        });
    if (error)
      return std::move(error);
  }
  return result;
}

} // namespace deltac::ref
