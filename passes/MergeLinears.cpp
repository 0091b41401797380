//===- MergeLinears.cpp - one linear per shared input and weight encoding -===//
//
// Linears are grouped by (input value, weight encoding). A group of two or more becomes one linear over
// a `concat_rows` weight and a `delta.split`. The merged weight's name lists the merged projections
// ("layers.0.mlp.gate_proj+up_proj.weight"), so prefill and decode, which merge the same weights,
// share one declaration.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/DerivedWeights.h"

#include "dialect/DeltaOps.h"
#include "dialect/DeltaTypes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

namespace deltac {
#define GEN_PASS_DEF_MERGELINEARS
#include "passes/Passes.h.inc"
} // namespace deltac

using namespace mlir;
using namespace deltac::delta;

namespace {

/// What must agree for two weights' rows to be concatenated: the encoding and the row length.
struct Encoding {
  Type element;          // float element type, or null for quantized weights
  Attribute scheme;      // QuantSchemeAttr, or null
  int64_t layout = -1;   // WeightLayout of a quantized weight
  int64_t columns = 0;
  bool operator==(const Encoding &o) const {
    return element == o.element && scheme == o.scheme && layout == o.layout && columns == o.columns;
  }
};

std::optional<Encoding> encodingOf(Type type) {
  ArrayRef<int64_t> shape = getWeightShape(type);
  if (shape.size() != 2)
    return std::nullopt;
  if (auto q = dyn_cast<QuantizedWeightType>(type))
    return Encoding{Type(), q.getScheme(), int64_t(q.getLayout()), shape[1]};
  return Encoding{cast<RankedTensorType>(type).getElementType(), Attribute(), -1, shape[1]};
}

struct MergeLinears : deltac::impl::MergeLinearsBase<MergeLinears> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto func : module.getOps<func::FuncOp>()) {
      // Groups in program order of their first linear.
      llvm::MapVector<std::pair<Value, unsigned>, SmallVector<LinearOp>> groups;
      SmallVector<Encoding> encodings;
      func.walk([&](LinearOp l) {
        if (l.getSwiglu() || l.getResidual() || !l.getWeight().getDefiningOp<WeightRefOp>())
          return;
        std::optional<Encoding> e = encodingOf(l.getWeight().getType());
        if (!e)
          return;
        auto it = llvm::find(encodings, *e);
        unsigned index = it - encodings.begin();
        if (it == encodings.end())
          encodings.push_back(*e);
        groups[{l.getInput(), index}].push_back(l);
      });
      for (auto &entry : groups)
        if (entry.second.size() > 1 && failed(merge(symbols, entry.second)))
          return signalPassFailure();
    }
  }

  LogicalResult merge(SymbolTable &symbols, MutableArrayRef<LinearOp> linears) {
    SmallVector<StringRef> names;
    int64_t rows = 0;
    for (LinearOp l : linears) {
      auto ref = l.getWeight().getDefiningOp<WeightRefOp>();
      names.push_back(ref.getName());
      rows += getWeightShape(ref.getType())[0];
    }
    LinearOp first = linears.front();
    Type type = deltac::matrixWithRows(first.getWeight().getType(), rows);
    FailureOr<WeightOp> merged =
        deltac::declareDerivedWeight(symbols, deltac::concatenatedWeightName(names), type,
                                     WeightDerivation::concat_rows, names,
                                     symbols.lookup<WeightOp>(names.back()));
    if (failed(merged))
      return failure();

    // The merged linear replaces the first one; the others are later, so their users are too.
    OpBuilder b(first);
    auto resultType = cast<RankedTensorType>(first.getType());
    SmallVector<int64_t> shape(resultType.getShape());
    shape.back() = rows;
    Value weight = WeightRefOp::create(b, first.getLoc(), type, merged->getSymName());
    auto linear = LinearOp::create(b, first.getLoc(), RankedTensorType::get(shape, resultType.getElementType()),
                                   first.getInput(), weight);
    SmallVector<Type> pieces;
    for (LinearOp l : linears)
      pieces.push_back(l.getType());
    auto split = SplitOp::create(b, first.getLoc(), pieces, linear.getResult());
    for (auto [l, piece] : llvm::zip(linears, split.getResults())) {
      Operation *ref = l.getWeight().getDefiningOp();
      l.replaceAllUsesWith(piece);
      l.erase();
      if (ref->use_empty())
        ref->erase();
    }
    ++numGroups;
    numLinears += linears.size();
    return success();
  }
};

} // namespace
