//===- ProgramEmitter.cpp - delta module to an LLVM-dialect program -------===//

#include "codegen/ProgramEmitter.h"

#include "codegen/BufferPlan.h"
#include "dialect/DeltaOps.h"

#include "deltac/kernel_abi.h"
#include "deltac/program.h"
#include "deltac/weight_store.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace deltac::delta;

namespace deltac {
namespace {

// The versions the emitted program table records, taken from the headers the runtime and the
// kernels are built with, so a signature change cannot leave the compiler behind.
constexpr int kKernelAbiVersion = DC_KERNEL_ABI_VERSION;
constexpr int kProgramAbiVersion = DC_PROGRAM_ABI_VERSION;
// The epilogue flags of dc_op_linear_epilogue (DC_K_EPILOGUE_* of kernel_abi.h).
constexpr int32_t kEpilogueNone = 0, kEpilogueSwiglu = 1;

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

class Emitter {
public:
  Emitter(ModuleOp model, ModuleOp out, const ProgramOptions &options)
      : model(model), out(out), options(options), ctx(out.getContext()), b(ctx),
        loc(UnknownLoc::get(ctx)) {
    ptrTy = LLVM::LLVMPointerType::get(ctx);
    i64Ty = b.getI64Type();
    i32Ty = b.getI32Type();
  }

  llvm::Error run(ProgramSummary &summary);

private:
  // Scalars.
  Value i64(int64_t v) { return LLVM::ConstantOp::create(b, loc, i64Ty, b.getI64IntegerAttr(v)); }
  Value i32(int32_t v) { return LLVM::ConstantOp::create(b, loc, i32Ty, b.getI32IntegerAttr(v)); }
  Value f32(double v) {
    return LLVM::ConstantOp::create(b, loc, b.getF32Type(), b.getF32FloatAttr(float(v)));
  }
  Value f64(double v) {
    return LLVM::ConstantOp::create(b, loc, b.getF64Type(), b.getF64FloatAttr(v));
  }

  /// Size of dimension `d` of a tensor value: a constant, or the token count.
  Value dim(Value v, int64_t d) {
    int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(d);
    return ShapedType::isDynamic(size) ? tokens : i64(size);
  }
  /// Product of all dimensions but the last (the rows of a row-wise op).
  Value rows(Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    Value n = i64(1);
    for (int64_t d = 0; d + 1 < type.getRank(); ++d)
      n = LLVM::MulOp::create(b, loc, n, dim(v, d));
    return n;
  }
  Value numel(Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    return LLVM::MulOp::create(b, loc, rows(v), i64(type.getShape().back()));
  }
  int64_t last(Value v) { return cast<RankedTensorType>(v.getType()).getShape().back(); }
  /// Floats from one token's row of `v` to the next: a view's stride into the value it reads in
  /// place (BufferPlan.h), or the row of a dense [tokens, ...] value.
  Value tokenStride(Value v) {
    if (int64_t stride = plan.locations.lookup(v).tokenStride)
      return i64(stride);
    auto type = cast<RankedTensorType>(v.getType());
    int64_t n = 1;
    for (int64_t d = 1; d < type.getRank(); ++d)
      n *= type.getDimSize(d);
    return i64(n);
  }

  /// A pointer to a value's data.
  Value ptr(Value v) {
    BufferLocation l = plan.locations.lookup(v);
    switch (l.kind) {
    case BufferLocation::Arena:
      return LLVM::GEPOp::create(b, loc, ptrTy, b.getI8Type(), arena,
                                 ArrayRef<LLVM::GEPArg>{l.index});
    case BufferLocation::Weight:
    case BufferLocation::State: {
      Value table = l.kind == BufferLocation::Weight ? weights : states;
      Value slot = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, table,
                                       ArrayRef<LLVM::GEPArg>{l.index});
      return LLVM::LoadOp::create(b, loc, ptrTy, slot);
    }
    case BufferLocation::Logits:
      return logits;
    case BufferLocation::Input:
      return l.index == 0 ? tokenIds : positions;
    }
    llvm_unreachable("unknown buffer location");
  }
  Value null() { return LLVM::ZeroOp::create(b, loc, ptrTy); }
  Value dtype(Value weight) { return i32(int32_t(wantedDType[weightName(weight)])); }
  /// The storage code of a delta-rule state or a KV cache (f32 or f16; the dialect admits no
  /// other).
  Value stateDType(Value state) {
    Type element = cast<RankedTensorType>(state.getType()).getElementType();
    return i32(int32_t(element.isF16() ? DC_WS_F16 : DC_WS_F32));
  }
  /// `name`, or its int8-activation form (`name`_q8act) when the module asks for int8 activations
  /// (delta.act_quant = "int8") and the weight is block-quantized; float weights ignore it.
  std::string withActQuant(StringRef name, Value weight) {
    uint32_t stored = wantedDType[weightName(weight)];
    bool blocks = stored != DC_WS_F32 && stored != DC_WS_F16 && stored != DC_WS_BF16;
    return (name + (actQuantInt8 && blocks ? "_q8act" : "")).str();
  }
  StringRef weightName(Value weight) { return weight.getDefiningOp<WeightRefOp>().getName(); }

  void call(StringRef name, ArrayRef<Value> args) {
    auto fn = out.lookupSymbol<LLVM::LLVMFuncOp>(name);
    if (!fn) {
      SmallVector<Type> types{ptrTy}; // dc_exec *
      for (Value a : args)
        types.push_back(a.getType());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(out.getBody());
      fn = LLVM::LLVMFuncOp::create(b, loc, name,
                                    LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), types));
    }
    SmallVector<Value> all{exec};
    all.append(args.begin(), args.end());
    LLVM::CallOp::create(b, loc, fn, all);
    ++kernelCalls;
  }

  llvm::Error collectSymbols();
  llvm::Error lowerOp(Operation &op);
  llvm::Error emitEntry(func::FuncOp entry);
  void emitTable(StringRef prefill, StringRef decode);
  Value globalString(StringRef value);
  void globalArray(StringRef name, Type element, ArrayRef<Attribute> values, bool strings);

  ModuleOp model, out;
  const ProgramOptions &options;
  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  Type ptrTy, i64Ty, i32Ty;
  // Program-order symbol tables.
  std::vector<std::string> weightNames, stateNames;
  std::vector<int64_t> stateBytes;
  llvm::StringMap<int64_t> weightIndex, stateIndex;
  llvm::StringMap<uint32_t> wantedDType;
  // Per entry.
  BufferPlan plan;
  Value exec, weights, states, arena, tokenIds, positions, tokens, start, logits;
  int64_t kernelCalls = 0, arenaBytes = 0;
  bool actQuantInt8 = false; ///< the module's delta.act_quant is "int8"
  unsigned stringCount = 0;
};

llvm::Error Emitter::collectSymbols() {
  for (StateOp state : model.getOps<StateOp>()) {
    stateIndex[state.getSymName()] = int64_t(stateNames.size());
    stateNames.push_back(state.getSymName().str());
    stateBytes.push_back(tensorBytes(state.getType(), 0));
  }
  // Weights the kernels take as f32 vectors (norms, conv taps, gates, routers) are asked for in f32;
  // matrices keep their stored type.
  llvm::StringMap<bool> asMatrix;
  model.walk([&](Operation *op) {
    auto mark = [&](Value w) {
      if (auto ref = w.getDefiningOp<WeightRefOp>())
        asMatrix[ref.getName()] = true;
    };
    if (auto l = dyn_cast<LinearOp>(op))
      mark(l.getWeight());
    else if (auto h = dyn_cast<LMHeadOp>(op))
      mark(h.getWeight());
    else if (auto e = dyn_cast<EmbeddingOp>(op))
      mark(e.getTable());
    else if (auto m = dyn_cast<MoEOp>(op)) {
      mark(m.getGateWeights());
      mark(m.getUpWeights());
      mark(m.getDownWeights());
      if (m.getSharedGateWeight()) {
        mark(m.getSharedGateWeight());
        mark(m.getSharedUpWeight());
        mark(m.getSharedDownWeight());
      }
    }
  });
  llvm::StringSet<> referenced;
  model.walk([&](WeightRefOp ref) { referenced.insert(ref.getName()); });
  for (WeightOp weight : model.getOps<WeightOp>()) {
    StringRef name = weight.getSymName();
    // A weight only a derived weight names is not in the store (import/WeightMaterializer.h).
    if (!referenced.contains(name))
      continue;
    std::optional<dc_ws_dtype> storeDType = getStoreDType(weight.getType());
    if (!storeDType)
      return error("weight " + name + " has a type no weight-store encoding holds");
    uint32_t stored = *storeDType;
    bool packed =
        stored == DC_WS_Q8_0_PACKED || stored == DC_WS_Q4_0_PACKED || stored == DC_WS_Q4_0_X8;
    if (packed && !actQuantInt8)
      return error("weight " + name +
                   " is packed for the int8-activation kernels, but the module does not use them "
                   "(delta.act_quant is not \"int8\")");
    bool matrix = asMatrix.lookup(name);
    if (!matrix && stored != DC_WS_F32 && stored != DC_WS_F16 && stored != DC_WS_BF16)
      return error("weight " + name + " is block-quantized but used where the kernels need f32");
    weightIndex[name] = int64_t(weightNames.size());
    weightNames.push_back(name.str());
    wantedDType[name] = matrix ? stored : DC_WS_F32;
  }
  return llvm::Error::success();
}

llvm::Error Emitter::lowerOp(Operation &op) {
  llvm::Error failure = llvm::Error::success();
  llvm::TypeSwitch<Operation *>(&op)
      .Case<WeightRefOp, StateReadOp, ReshapeOp, func::ReturnOp>([](auto) {})
      .Case([&](StateWriteOp w) {
        // The update already happened in place; a write of anything else would be a copy the
        // planner did not foresee.
        BufferLocation l = plan.locations.lookup(w.getValue());
        if (l.kind != BufferLocation::State || l.index != stateIndex.lookup(w.getState()))
          failure = error("state @" + w.getState() + " is written with a value not updated in place");
      })
      .Case([&](EmbeddingOp e) {
        call("dc_op_embedding", {dtype(e.getTable()), ptr(e.getTable()), i64(getWeightShape(e.getTable().getType())[0]),
                                 i64(last(e.getResult())), ptr(e.getIds()), dim(e.getResult(), 0),
                                 ptr(e.getResult())});
      })
      .Case([&](LinearOp l) {
        if (l.hasNoEpilogue()) {
          call(withActQuant("dc_op_linear", l.getWeight()),
               {dtype(l.getWeight()), ptr(l.getInput()), rows(l.getInput()),
                                i64(last(l.getInput())), ptr(l.getWeight()),
                                i64(last(l.getResult())), ptr(l.getResult())});
          return;
        }
        // N is the result's width; a swiglu weight has 2N rows.
        call(withActQuant("dc_op_linear_epilogue", l.getWeight()),
             {dtype(l.getWeight()), ptr(l.getInput()), rows(l.getInput()), i64(last(l.getInput())),
              ptr(l.getWeight()), i64(last(l.getResult())), i32(l.getSwiglu() ? kEpilogueSwiglu : kEpilogueNone),
              l.getResidual() ? ptr(l.getResidual()) : null(), ptr(l.getResult())});
      })
      .Case([&](LMHeadOp h) {
        call(withActQuant("dc_op_lm_head", h.getWeight()),
             {dtype(h.getWeight()), ptr(h.getInput()), dim(h.getInput(), 0),
                               i64(last(h.getInput())), ptr(h.getWeight()), i64(last(h.getResult())),
                               ptr(h.getResult())});
      })
      .Case([&](AddOp a) {
        call("dc_op_add", {ptr(a.getLhs()), ptr(a.getRhs()), numel(a.getResult()), ptr(a.getResult())});
      })
      .Case([&](SwiGLUOp s) {
        call("dc_op_swiglu", {ptr(s.getGate()), ptr(s.getUp()), numel(s.getResult()), ptr(s.getResult())});
      })
      .Case([&](RMSNormOp n) {
        call("dc_op_rms_norm", {ptr(n.getInput()), n.getWeight() ? ptr(n.getWeight()) : null(),
                                rows(n.getInput()),
                                i64(last(n.getInput())), i32(int32_t(n.getScale())),
                                f32(n.getEps().convertToDouble()), ptr(n.getResult())});
      })
      .Case([&](L2NormOp n) {
        call("dc_op_l2_norm", {ptr(n.getInput()), rows(n.getInput()), i64(last(n.getInput())),
                               f32(n.getEps().convertToDouble()), ptr(n.getResult())});
      })
      .Case([&](GatedRMSNormOp n) {
        // The gate's rows per token: the dimensions between its token and its last.
        auto gate = cast<RankedTensorType>(n.getGate().getType());
        int64_t heads = 1;
        for (int64_t d = 1; d + 1 < gate.getRank(); ++d)
          heads *= gate.getDimSize(d);
        call("dc_op_gated_rms_norm",
             {ptr(n.getInput()), ptr(n.getGate()), i64(heads), tokenStride(n.getGate()),
              ptr(n.getWeight()), rows(n.getInput()), i64(last(n.getInput())),
              f32(n.getEps().convertToDouble()), ptr(n.getResult())});
      })
      .Case([&](SplitOp s) {
        // A result the planner made a view into the input needs no copy.
        int64_t offset = 0;
        for (Value result : s.getResults()) {
          if (!plan.views.contains(result))
            call("dc_op_slice_columns",
                 {ptr(s.getInput()), rows(s.getInput()), i64(last(s.getInput())), i64(offset),
                  i64(last(result)), ptr(result)});
          offset += last(result);
        }
      })
      .Case([&](LastRowOp l) {
        call("dc_op_last_row", {ptr(l.getInput()), dim(l.getInput(), 0), numel(l.getResult()),
                                ptr(l.getResult())});
      })
      .Case([&](ConcatOp c) {
        int64_t offset = 0;
        for (Value input : c.getInputs()) {
          call("dc_op_place_columns", {ptr(input), rows(input), i64(last(input)), i64(offset),
                                       i64(last(c.getResult())), ptr(c.getResult())});
          offset += last(input);
        }
      })
      .Case([&](CausalConv1DOp c) {
        call("dc_op_causal_conv1d", {ptr(c.getInput()), dim(c.getInput(), 0), i64(last(c.getInput())),
                                     ptr(c.getWeight()), i64(last(c.getWeight())),
                                     i32(int32_t(c.getActivation())), ptr(c.getState()),
                                     ptr(c.getResult())});
      })
      .Case([&](GDNGatesOp g) {
        call("dc_op_gdn_gates", {ptr(g.getA()), ptr(g.getB()), ptr(g.getDecay()), ptr(g.getDtBias()),
                                 dim(g.getA(), 0), i64(last(g.getA())),
                                 i32(int32_t(g.getDecayForm())), ptr(g.getG()), ptr(g.getBeta())});
      })
      .Case([&](GatedDeltaRuleOp d) {
        auto q = cast<RankedTensorType>(d.getQuery().getType());
        auto v = cast<RankedTensorType>(d.getValue().getType());
        call("dc_op_gated_delta_rule",
             {ptr(d.getQuery()), ptr(d.getKey()), ptr(d.getValue()), ptr(d.getG()), ptr(d.getBeta()),
              dim(d.getQuery(), 0), i64(q.getDimSize(1)), i64(v.getDimSize(1)), i64(q.getDimSize(2)),
              i64(v.getDimSize(2)), i32(int32_t(d.getHeadMapping())),
              f32(d.getScale().convertToDouble()), stateDType(d.getState()), ptr(d.getState()),
              ptr(d.getOutput())});
      })
      .Case([&](GatedDeltaNetOp d) {
        auto state = cast<RankedTensorType>(d.getState().getType());
        // Each operand with its token stride (a view's, BufferPlan.h), in the order of the call.
        Value qkv = ptr(d.getQkv()), qkvStride = tokenStride(d.getQkv());
        Value a = ptr(d.getA()), aStride = tokenStride(d.getA());
        Value bPtr = ptr(d.getB()), bStride = tokenStride(d.getB());
        call("dc_op_gated_delta_net",
             {qkv, qkvStride, a, aStride, bPtr, bStride, dim(d.getQkv(), 0),
              i64(d.getNumKeyHeads()), i64(state.getDimSize(0)), i64(state.getDimSize(1)),
              i64(state.getDimSize(2)), ptr(d.getConvWeight()), i64(last(d.getConvWeight())),
              ptr(d.getDecay()), ptr(d.getDtBias()), i32(int32_t(d.getDecayForm())),
              i32(int32_t(d.getHeadMapping())), f32(d.getScale().convertToDouble()),
              f32(d.getL2Eps().convertToDouble()), ptr(d.getConvState()),
              stateDType(d.getState()), ptr(d.getState()), ptr(d.getOutput())});
      })
      .Case([&](RoPEOp r) {
        if (cast<RankedTensorType>(r.getPositions().getType()).getRank() != 1) {
          failure = error("M-RoPE with [3, T] positions is not supported by kernel ABI version 1");
          return;
        }
        auto x = cast<RankedTensorType>(r.getInput().getType());
        call("dc_op_rope", {ptr(r.getInput()), dim(r.getInput(), 0), i64(x.getDimSize(1)),
                            i64(x.getDimSize(2)), ptr(r.getPositions()), i64(r.getRotaryDim()),
                            f64(r.getTheta().convertToDouble()), ptr(r.getResult())});
      })
      .Case([&](AttentionOp a) {
        auto q = cast<RankedTensorType>(a.getQuery().getType());
        auto k = cast<RankedTensorType>(a.getKey().getType());
        auto cache = cast<RankedTensorType>(a.getKeyCache().getType());
        call("dc_op_attention",
             {ptr(a.getQuery()), ptr(a.getKey()), ptr(a.getValue()),
              a.getGate() ? ptr(a.getGate()) : null(), dim(a.getQuery(), 0), i64(q.getDimSize(1)),
              i64(k.getDimSize(1)), i64(q.getDimSize(2)), i64(last(a.getValue())),
              f32(a.getScale().convertToDouble()), stateDType(a.getKeyCache()),
              ptr(a.getKeyCache()), ptr(a.getValueCache()), i64(cache.getDimSize(1)), start,
              ptr(a.getOutput())});
      })
      .Case([&](MoEOp m) {
        ArrayRef<int64_t> experts = getWeightShape(m.getGateWeights().getType());
        bool shared = bool(m.getSharedGateWeight());
        call("dc_op_moe",
             {dtype(m.getGateWeights()), ptr(m.getInput()), dim(m.getInput(), 0),
              i64(last(m.getInput())), ptr(m.getRouter()), i64(experts[0]), ptr(m.getGateWeights()),
              ptr(m.getUpWeights()), ptr(m.getDownWeights()), i64(experts[1]), i64(m.getTopK()),
              i32(m.getNormalized() ? 1 : 0), shared ? ptr(m.getSharedGateWeight()) : null(),
              shared ? ptr(m.getSharedUpWeight()) : null(),
              shared ? ptr(m.getSharedDownWeight()) : null(),
              shared ? ptr(m.getSharedExpertGate()) : null(),
              i64(shared ? getWeightShape(m.getSharedGateWeight().getType())[0] : 0),
              ptr(m.getResult())});
      })
      .Default([&](Operation *other) {
        failure = error("no kernel lowering for " + other->getName().getStringRef());
      });
  return failure;
}

llvm::Error Emitter::emitEntry(func::FuncOp entry) {
  plan = planBuffers(entry, options.maxTokens, weightIndex, stateIndex);
  arenaBytes = std::max(arenaBytes, plan.arenaBytes);
  // int32 (exec, weights, states, arena, tokens, positions, n_tokens, start, logits)
  auto type = LLVM::LLVMFunctionType::get(
      i32Ty, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, i64Ty, i64Ty, ptrTy});
  b.setInsertionPointToEnd(out.getBody());
  auto fn = LLVM::LLVMFuncOp::create(b, loc, ("dc_entry_" + entry.getSymName()).str(), type);
  Block *block = fn.addEntryBlock(b);
  b.setInsertionPointToStart(block);
  exec = block->getArgument(0);
  weights = block->getArgument(1);
  states = block->getArgument(2);
  arena = block->getArgument(3);
  tokenIds = block->getArgument(4);
  positions = block->getArgument(5);
  tokens = block->getArgument(6);
  start = block->getArgument(7);
  logits = block->getArgument(8);
  for (Operation &op : entry.getBody().front())
    if (llvm::Error e = lowerOp(op))
      return e;
  LLVM::ReturnOp::create(b, loc, i32(0));
  return llvm::Error::success();
}

Value Emitter::globalString(StringRef value) {
  std::string name = "dc_str_" + std::to_string(stringCount++);
  return LLVM::createGlobalString(loc, b, name, (value + llvm::Twine('\0')).str(),
                                  LLVM::Linkage::Internal);
}

void Emitter::globalArray(StringRef name, Type element, ArrayRef<Attribute> values, bool strings) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(out.getBody());
  auto arrayTy = LLVM::LLVMArrayType::get(element, std::max<size_t>(values.size(), 1));
  auto global = LLVM::GlobalOp::create(b, loc, arrayTy, /*isConstant=*/true, LLVM::Linkage::Internal,
                                       name, Attribute());
  Block *init = b.createBlock(&global.getInitializerRegion());
  b.setInsertionPointToStart(init);
  Value array = LLVM::UndefOp::create(b, loc, arrayTy);
  for (auto [i, v] : llvm::enumerate(values)) {
    Value element;
    if (strings)
      element = globalString(cast<StringAttr>(v).getValue());
    else
      element = LLVM::ConstantOp::create(b, loc, cast<TypedAttr>(v).getType(), cast<TypedAttr>(v));
    array = LLVM::InsertValueOp::create(b, loc, array, element, ArrayRef<int64_t>{int64_t(i)});
  }
  LLVM::ReturnOp::create(b, loc, array);
}

void Emitter::emitTable(StringRef prefill, StringRef decode) {
  SmallVector<Attribute> names, dtypes, snames, sbytes;
  for (const std::string &n : weightNames) {
    names.push_back(b.getStringAttr(n));
    dtypes.push_back(b.getI32IntegerAttr(int32_t(wantedDType[n])));
  }
  for (auto [n, bytes] : llvm::zip(stateNames, stateBytes)) {
    snames.push_back(b.getStringAttr(n));
    sbytes.push_back(b.getI64IntegerAttr(bytes));
  }
  globalArray("dc_weight_names", ptrTy, names, true);
  globalArray("dc_weight_dtypes", i32Ty, dtypes, false);
  globalArray("dc_state_names", ptrTy, snames, true);
  globalArray("dc_state_bytes", i64Ty, sbytes, false);

  // run() checked that the attribute is there.
  auto fingerprintText = model->getAttrOfType<DictionaryAttr>("delta.weight_store")
                             .getAs<StringAttr>("fingerprint").getValue();
  uint64_t fingerprint = 0;
  fingerprintText.drop_front(2).getAsInteger(16, fingerprint);
  int64_t vocab = 0;
  model.walk([&](LMHeadOp h) { vocab = last(h.getResult()); });
  // delta-remove-dead-work{prefill-logits=last} leaves @prefill returning one row.
  auto prefillType = model.lookupSymbol<func::FuncOp>("prefill").getFunctionType();
  bool prefillLastOnly = prefillType.getNumResults() == 1 &&
                         cast<RankedTensorType>(prefillType.getResult(0)).getDimSize(0) == 1;
  auto maxContext = model->getAttrOfType<IntegerAttr>("delta.max_context").getInt();

  // Field order and types of struct dc_program.
  SmallVector<Type> fields = {i32Ty, i32Ty, i64Ty, ptrTy, ptrTy, i64Ty, i64Ty, i64Ty, i64Ty, ptrTy,
                              ptrTy, i64Ty, ptrTy, ptrTy, i64Ty, ptrTy, ptrTy, i64Ty, ptrTy};
  auto structTy = LLVM::LLVMStructType::getLiteral(ctx, fields);
  b.setInsertionPointToEnd(out.getBody());
  auto table = LLVM::GlobalOp::create(b, loc, structTy, /*isConstant=*/true,
                                      LLVM::Linkage::External, "dc_model_program", Attribute());
  Block *init = b.createBlock(&table.getInitializerRegion());
  b.setInsertionPointToStart(init);
  Value value = LLVM::UndefOp::create(b, loc, structTy);
  auto addr = [&](StringRef symbol) -> Value {
    return LLVM::AddressOfOp::create(b, loc, ptrTy, symbol);
  };
  auto archAttr = model->getAttrOfType<StringAttr>("delta.architecture");
  SmallVector<Value> values = {
      i32(kProgramAbiVersion),
      i32(kKernelAbiVersion),
      LLVM::ConstantOp::create(b, loc, i64Ty, b.getI64IntegerAttr(int64_t(fingerprint))),
      globalString(archAttr ? archAttr.getValue() : "unknown"),
      globalString(options.target),
      i64(vocab),
      i64(maxContext),
      i64(options.maxTokens),
      i64(int64_t(weightNames.size())),
      addr("dc_weight_names"),
      addr("dc_weight_dtypes"),
      i64(int64_t(stateNames.size())),
      addr("dc_state_names"),
      addr("dc_state_bytes"),
      i64(arenaBytes),
      addr(prefill),
      addr(decode),
      i64(prefillLastOnly ? 1 : 0),
      globalString(options.cpuFeatures)};
  for (auto [i, v] : llvm::enumerate(values))
    value = LLVM::InsertValueOp::create(b, loc, value, v, ArrayRef<int64_t>{int64_t(i)});
  LLVM::ReturnOp::create(b, loc, value);
}

llvm::Error Emitter::run(ProgramSummary &summary) {
  // delta.act_quant (deltac compile --act-quant): "int8" selects the integer dot-product kernels
  // for block-quantized linear and lm_head weights.
  if (Attribute actQuant = model->getAttr("delta.act_quant")) {
    auto text = dyn_cast<StringAttr>(actQuant);
    if (!text || (text.getValue() != "int8" && text.getValue() != "none"))
      return error("delta.act_quant must be \"int8\" or \"none\"");
    actQuantInt8 = text.getValue() == "int8";
  }
  auto store = model->getAttrOfType<DictionaryAttr>("delta.weight_store");
  if (!store || !store.getAs<StringAttr>("fingerprint"))
    return error("the module names no weight store (delta.weight_store with a fingerprint)");
  if (llvm::Error e = collectSymbols())
    return e;
  auto prefill = model.lookupSymbol<func::FuncOp>("prefill");
  auto decode = model.lookupSymbol<func::FuncOp>("decode");
  if (!prefill || !decode)
    return error("the model module needs @prefill and @decode entry points");
  if (llvm::Error e = emitEntry(prefill))
    return e;
  if (llvm::Error e = emitEntry(decode))
    return e;
  emitTable("dc_entry_prefill", "dc_entry_decode");
  summary.weights = int64_t(weightNames.size());
  summary.states = int64_t(stateNames.size());
  summary.kernelCalls = kernelCalls;
  summary.arenaBytes = arenaBytes;
  for (int64_t bytes : stateBytes)
    summary.stateBytes += bytes;
  return llvm::Error::success();
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>> emitProgram(ModuleOp model, const ProgramOptions &options,
                                                  ProgramSummary *summary) {
  MLIRContext *ctx = model.getContext();
  ctx->loadDialect<LLVM::LLVMDialect>();
  OwningOpRef<ModuleOp> out = ModuleOp::create(UnknownLoc::get(ctx));
  Emitter emitter(model, *out, options);
  ProgramSummary local;
  if (llvm::Error e = emitter.run(summary ? *summary : local))
    return std::move(e);
  return out;
}

} // namespace deltac
