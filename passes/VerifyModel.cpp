//===- VerifyModel.cpp - model-level invariants of weights and state ------===//
//
// Why this is a pass and not an op verifier: the invariants are about how a function threads state from
// its delta.state_read to its delta.state_write through state-updating ops, which spans many ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialect/DeltaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

namespace deltac {
#define GEN_PASS_DEF_VERIFYMODEL
#include "passes/Passes.h.inc"
} // namespace deltac

using namespace mlir;
using namespace deltac::delta;

namespace {

/// Follows an updated-state result back through the state-updating ops that produced it to the value the
/// chain started from (normally a delta.state_read result).
Value traceStateOrigin(Value state) {
  while (auto result = dyn_cast<OpResult>(state)) {
    auto updater = dyn_cast<StateUpdateOpInterface>(result.getOwner());
    if (!updater)
      break;
    bool found = false;
    for (auto [operand, updated] :
         llvm::zip(updater.getStateOperands(), updater.getUpdatedStates())) {
      if (updated == result) {
        state = operand;
        found = true;
        break;
      }
    }
    if (!found)
      break;
  }
  return state;
}

/// Checks the state threading of one function.
LogicalResult verifyFunctionState(func::FuncOp func) {
  llvm::MapVector<StringAttr, SmallVector<StateReadOp>> reads;
  llvm::MapVector<StringAttr, SmallVector<StateWriteOp>> writes;
  llvm::DenseMap<Value, Operation *> firstUpdater;
  bool ok = true;
  func.walk([&](Operation *op) {
    if (auto read = dyn_cast<StateReadOp>(op))
      reads[read.getStateAttr().getAttr()].push_back(read);
    else if (auto write = dyn_cast<StateWriteOp>(op))
      writes[write.getStateAttr().getAttr()].push_back(write);
    else if (auto updater = dyn_cast<StateUpdateOpInterface>(op)) {
      // A state value feeding two updates would have to be copied; in a model it is always a bug.
      for (Value state : updater.getStateOperands()) {
        auto [it, inserted] = firstUpdater.try_emplace(state, op);
        if (!inserted) {
          op->emitError() << "this state value is already updated by another op; each state must "
                             "be updated along a single chain";
          ok = false;
        }
      }
    }
  });

  for (auto &[name, stateReads] : reads) {
    if (stateReads.size() > 1) {
      stateReads[1].emitError() << "state @" << name.getValue()
                                << " is read more than once in one function";
      ok = false;
      continue;
    }
    auto written = writes.find(name);
    if (written == writes.end()) {
      stateReads[0].emitError() << "state @" << name.getValue()
                                << " is read but its update is never written back";
      ok = false;
    }
  }
  for (auto &[name, stateWrites] : writes) {
    if (stateWrites.size() > 1) {
      stateWrites[1].emitError() << "state @" << name.getValue()
                                 << " is written more than once in one function";
      ok = false;
      continue;
    }
    StateWriteOp write = stateWrites[0];
    auto read = reads.find(name);
    if (read == reads.end()) {
      write.emitError() << "state @" << name.getValue()
                        << " is written but never read in this function";
      ok = false;
      continue;
    }
    Value origin = traceStateOrigin(write.getValue());
    if (origin != read->second[0].getResult()) {
      write.emitError() << "the value written to state @" << name.getValue()
                        << " is not an update of the value read from it";
      ok = false;
    }
  }
  return success(ok);
}

struct VerifyModelPass : deltac::impl::VerifyModelBase<VerifyModelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringSet<> usedSymbols;
    module.walk([&](Operation *op) {
      if (auto ref = dyn_cast<WeightRefOp>(op))
        usedSymbols.insert(ref.getName());
      else if (auto read = dyn_cast<StateReadOp>(op))
        usedSymbols.insert(read.getState());
      else if (auto write = dyn_cast<StateWriteOp>(op))
        usedSymbols.insert(write.getState());
    });

    bool ok = true;
    for (Operation &op : module.getBody()->getOperations()) {
      if (auto state = dyn_cast<StateOp>(op)) {
        ++numStatesChecked;
        if (!usedSymbols.contains(state.getSymName())) {
          state.emitError() << "state @" << state.getSymName() << " is declared but never used";
          ok = false;
        }
      } else if (auto weight = dyn_cast<WeightOp>(op)) {
        ++numWeightsChecked;
        if (!usedSymbols.contains(weight.getSymName()))
          weight.emitWarning() << "weight @" << weight.getSymName()
                               << " is never used; symbol-dce removes unused private weights";
      } else if (auto func = dyn_cast<func::FuncOp>(op)) {
        ok &= succeeded(verifyFunctionState(func));
      }
    }
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
