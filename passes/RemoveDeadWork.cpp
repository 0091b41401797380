//===- RemoveDeadWork.cpp - erase what no result or state needs -----------===//
//
// Three steps, repeated until nothing changes: erase trivially dead ops; narrow merged linears whose
// split has unused pieces; then erase private weight and state declarations nothing reaches.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/DerivedWeights.h"

#include "dialect/DeltaOps.h"
#include "dialect/DeltaTypes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringSet.h"

namespace deltac {
#define GEN_PASS_DEF_REMOVEDEADWORK
#include "passes/Passes.h.inc"
} // namespace deltac

using namespace mlir;
using namespace deltac::delta;

namespace {

struct RemoveDeadWork : deltac::impl::RemoveDeadWorkBase<RemoveDeadWork> {
  using RemoveDeadWorkBase::RemoveDeadWorkBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    if (prefillLogits != "all" && prefillLogits != "last") {
      module.emitError() << "prefill-logits must be 'all' or 'last', got '" << prefillLogits << "'";
      return signalPassFailure();
    }
    if (prefillLogits == "last")
      if (auto prefill = symbols.lookup<func::FuncOp>("prefill"); prefill && failed(lastLogitsOnly(prefill)))
        return signalPassFailure();
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto func : module.getOps<func::FuncOp>())
        changed |= eraseDeadOps(func);
      SmallVector<SplitOp> splits;
      module.walk([&](SplitOp s) { splits.push_back(s); });
      for (SplitOp split : splits) {
        FailureOr<bool> narrowed = narrowMergedLinear(symbols, split);
        if (failed(narrowed))
          return signalPassFailure();
        changed |= *narrowed;
      }
    }
    eraseUnreachableDeclarations(module);
  }

  /// Makes `prefill` return the last token's logits only: the LM head (and the final norm, when it
  /// feeds only the head) move after a delta.last_row.
  LogicalResult lastLogitsOnly(func::FuncOp prefill) {
    auto ret = cast<func::ReturnOp>(prefill.getBody().back().getTerminator());
    auto head = ret.getNumOperands() == 1 ? ret.getOperand(0).getDefiningOp<LMHeadOp>() : LMHeadOp();
    if (!head)
      return prefill.emitError("prefill-logits=last needs @prefill to return one delta.lm_head result");
    auto logits = cast<RankedTensorType>(head.getType());
    if (logits.getDimSize(0) == 1)
      return success(); // already one row
    auto norm = head.getInput().getDefiningOp<RMSNormOp>();
    bool moveNorm = norm && norm->hasOneUse();
    Value rows = moveNorm ? norm.getInput() : head.getInput();
    auto oneRow = [](Type t) {
      auto type = cast<RankedTensorType>(t);
      SmallVector<int64_t> shape(type.getShape());
      shape[0] = 1;
      return RankedTensorType::get(shape, type.getElementType());
    };
    OpBuilder b(head);
    Location loc = head.getLoc();
    Value x = LastRowOp::create(b, loc, oneRow(rows.getType()), rows);
    if (moveNorm)
      x = RMSNormOp::create(b, loc, x.getType(), x, norm.getWeight(), norm.getScaleAttr(),
                            norm.getEpsAttr());
    Value last = LMHeadOp::create(b, loc, oneRow(logits), x, head.getWeight());
    ret->setOperand(0, last);
    head.erase();
    if (moveNorm)
      norm.erase();
    prefill.setFunctionType(
        FunctionType::get(prefill.getContext(), prefill.getArgumentTypes(), {last.getType()}));
    return success();
  }

  bool eraseDeadOps(func::FuncOp func) {
    bool changed = false, erased = true;
    while (erased) {
      erased = false;
      SmallVector<Operation *> dead;
      func.walk<WalkOrder::PostOrder>([&](Operation *op) {
        if (op != func && isOpTriviallyDead(op))
          dead.push_back(op);
      });
      for (Operation *op : llvm::reverse(dead))
        if (op->use_empty()) {
          op->erase();
          ++numOpsErased;
          erased = changed = true;
        }
    }
    return changed;
  }

  /// `%m = linear %x, @concat_rows(a, b, c)` + `%a, %b, %c = split %m` with some piece unused: the
  /// merged weight loses the unused sources. Returns whether it changed anything.
  FailureOr<bool> narrowMergedLinear(SymbolTable &symbols, SplitOp split) {
    if (llvm::all_of(split.getResults(), [](Value v) { return !v.use_empty(); }))
      return false;
    auto linear = split.getInput().getDefiningOp<LinearOp>();
    if (!linear || linear.getSwiglu() || linear.getResidual() || !linear->hasOneUse())
      return false;
    auto ref = linear.getWeight().getDefiningOp<WeightRefOp>();
    auto merged = ref ? symbols.lookup<WeightOp>(ref.getName()) : WeightOp();
    if (!merged || merged.getDerivation() != WeightDerivation::concat_rows ||
        merged.getSourcesAttr().size() != split.getNumResults())
      return false;
    // The pieces must be the sources, one to one.
    SmallVector<WeightOp> sources;
    for (auto [attr, piece] : llvm::zip(merged.getSourcesAttr(), split.getResults())) {
      auto source = symbols.lookup<WeightOp>(cast<FlatSymbolRefAttr>(attr).getValue());
      if (!source || getWeightShape(source.getType())[0] != cast<RankedTensorType>(piece.getType()).getShape().back())
        return false;
      sources.push_back(source);
    }
    SmallVector<StringRef> kept;
    SmallVector<Value> keptPieces;
    int64_t rows = 0;
    for (auto [source, piece] : llvm::zip(sources, split.getResults()))
      if (!piece.use_empty()) {
        kept.push_back(source.getSymName());
        keptPieces.push_back(piece);
        rows += getWeightShape(source.getType())[0];
      }

    OpBuilder b(linear);
    Location loc = linear.getLoc();
    if (kept.empty()) {
      split.erase();
    } else {
      // One piece left: its own weight; several: a smaller concatenation.
      StringRef weightName = kept.front();
      Type weightType = symbols.lookup<WeightOp>(weightName).getType();
      if (kept.size() > 1) {
        weightType = deltac::matrixWithRows(merged.getType(), rows);
        FailureOr<WeightOp> narrower = deltac::declareDerivedWeight(
            symbols, deltac::concatenatedWeightName(kept), weightType, WeightDerivation::concat_rows,
            kept, merged);
        if (failed(narrower))
          return failure();
        weightName = narrower->getSymName();
      }
      auto resultType = cast<RankedTensorType>(linear.getType());
      SmallVector<int64_t> shape(resultType.getShape());
      shape.back() = getWeightShape(weightType)[0];
      Value weight = WeightRefOp::create(b, loc, weightType, weightName);
      Value narrowed = LinearOp::create(b, loc, RankedTensorType::get(shape, resultType.getElementType()),
                                        linear.getInput(), weight);
      if (keptPieces.size() == 1) {
        keptPieces.front().replaceAllUsesWith(narrowed);
      } else {
        SmallVector<Type> types;
        for (Value piece : keptPieces)
          types.push_back(piece.getType());
        auto newSplit = SplitOp::create(b, loc, types, narrowed);
        for (auto [piece, replacement] : llvm::zip(keptPieces, newSplit.getResults()))
          piece.replaceAllUsesWith(replacement);
      }
      split.erase();
    }
    linear.erase();
    if (ref.use_empty())
      ref.erase();
    numRowsDropped += sources.size() - kept.size();
    return true;
  }

  /// Erases private weights and states that no function op reaches, directly or through derivations.
  void eraseUnreachableDeclarations(ModuleOp module) {
    llvm::StringSet<> live;
    SmallVector<StringRef> worklist;
    auto reach = [&](StringRef name) {
      if (live.insert(name).second)
        worklist.push_back(name);
    };
    for (auto func : module.getOps<func::FuncOp>())
      func.walk([&](Operation *op) {
        if (auto r = dyn_cast<WeightRefOp>(op))
          reach(r.getName());
        else if (auto r = dyn_cast<StateReadOp>(op))
          reach(r.getState());
        else if (auto w = dyn_cast<StateWriteOp>(op))
          reach(w.getState());
      });
    SymbolTable symbols(module);
    while (!worklist.empty()) {
      auto weight = symbols.lookup<WeightOp>(worklist.pop_back_val());
      if (weight && weight.isDerived())
        for (Attribute a : weight.getSourcesAttr())
          reach(cast<FlatSymbolRefAttr>(a).getValue());
    }
    for (Operation &op : llvm::make_early_inc_range(module.getBody()->getOperations())) {
      if (!isa<WeightOp, StateOp>(op))
        continue;
      auto symbol = cast<SymbolOpInterface>(op);
      if (symbol.isPrivate() && !live.contains(symbol.getName())) {
        op.erase();
        ++numSymbolsErased;
      }
    }
  }
};

} // namespace
