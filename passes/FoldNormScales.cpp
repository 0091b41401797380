//===- FoldNormScales.cpp - move RMSNorm scales into consumer weights -----===//
//
// The rewrite is global, not a local pattern: a norm weight is folded only if it can be folded in
// every function that uses it, and a consumer weight only if all its uses see the same scale. So the
// pass first groups the norms by (scale weight, scale mode), checks each group as a whole, and then
// rewrites the accepted groups.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/DerivedWeights.h"

#include "dialect/DeltaOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace deltac {
#define GEN_PASS_DEF_FOLDNORMSCALES
#include "passes/Passes.h.inc"
} // namespace deltac

using namespace mlir;
using namespace deltac::delta;

namespace {

/// The weight a linear or LM head multiplies by, if `op` is one whose input is `input`.
WeightRefOp consumerWeight(Operation *op, Value input) {
  Value weight;
  if (auto l = dyn_cast<LinearOp>(op); l && l.getInput() == input)
    weight = l.getWeight();
  else if (auto h = dyn_cast<LMHeadOp>(op); h && h.getInput() == input)
    weight = h.getWeight();
  return weight ? weight.getDefiningOp<WeightRefOp>() : WeightRefOp();
}

struct FoldNormScales : deltac::impl::FoldNormScalesBase<FoldNormScales> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);

    // Every weight_ref of every weight, and the norms grouped by the scale they apply.
    llvm::StringMap<SmallVector<WeightRefOp>> refs;
    module.walk([&](WeightRefOp r) { refs[r.getName()].push_back(r); });
    using GroupKey = std::pair<StringRef, NormScale>;
    llvm::MapVector<GroupKey, SmallVector<RMSNormOp>> groups;
    module.walk([&](RMSNormOp n) {
      if (n.getScale() == NormScale::none)
        return;
      if (auto scale = n.getWeight().getDefiningOp<WeightRefOp>())
        groups[{scale.getName(), n.getScale()}].push_back(n);
    });

    for (auto &[key, norms] : groups) {
      SetVector<StringRef> consumers = foldableConsumers(norms, refs, symbols);
      if (consumers.empty())
        continue;
      auto [scaleName, mode] = key;
      WeightDerivation derivation = mode == NormScale::one_plus
                                        ? WeightDerivation::scale_columns_one_plus
                                        : WeightDerivation::scale_columns;
      for (StringRef name : consumers)
        if (failed(rescale(symbols, symbols.lookup<WeightOp>(name), scaleName, derivation,
                           refs[name])))
          return signalPassFailure();
      for (RMSNormOp norm : norms) {
        OpBuilder b(norm);
        auto unscaled = RMSNormOp::create(b, norm.getLoc(), norm.getType(), norm.getInput(),
                                          /*weight=*/Value(),
                                          NormScaleAttr::get(b.getContext(), NormScale::none),
                                          norm.getEpsAttr());
        norm.replaceAllUsesWith(unscaled.getResult());
        Value scale = norm.getWeight();
        norm.erase();
        if (scale.use_empty())
          scale.getDefiningOp()->erase();
      }
      numNormsFolded += norms.size();
      numWeightsScaled += consumers.size();
    }
  }

  /// The consumer weights of a group of norms sharing one scale, or an empty set when the group
  /// cannot be folded as a whole.
  static SetVector<StringRef> foldableConsumers(ArrayRef<RMSNormOp> norms,
                                                llvm::StringMap<SmallVector<WeightRefOp>> &refs,
                                                SymbolTable &symbols) {
    SetVector<StringRef> consumers;
    SmallPtrSet<Value, 8> normResults;
    for (RMSNormOp norm : norms)
      normResults.insert(norm.getResult());
    for (RMSNormOp norm : norms) {
      if (norm.getResult().use_empty())
        return {};
      for (Operation *user : norm.getResult().getUsers()) {
        WeightRefOp weight = consumerWeight(user, norm.getResult());
        if (!weight)
          return {};
        consumers.insert(weight.getName());
      }
    }
    for (StringRef name : consumers) {
      auto decl = symbols.lookup<WeightOp>(name);
      if (!decl || decl.getVerbatim() || decl.isDerived())
        return {};
      // Every use of the weight must be a consumer of one of these norms: a weight also used
      // elsewhere (the tied embedding) would otherwise be stored twice.
      for (WeightRefOp ref : refs[name])
        for (Operation *user : ref.getResult().getUsers()) {
          Value input = isa<LinearOp>(user)   ? cast<LinearOp>(user).getInput()
                        : isa<LMHeadOp>(user) ? cast<LMHeadOp>(user).getInput()
                                              : Value();
          if (!input || !normResults.contains(input) || consumerWeight(user, input) != ref)
            return {};
        }
    }
    return consumers;
  }

  /// Declares `<name>.norm_folded` = derivation(@name, @scale) and points every ref of `weight` at it.
  static LogicalResult rescale(SymbolTable &symbols, WeightOp weight, StringRef scaleName,
                               WeightDerivation derivation, SmallVector<WeightRefOp> &weightRefs) {
    FailureOr<WeightOp> folded = deltac::declareDerivedWeight(
        symbols, (weight.getSymName() + ".norm_folded").str(), weight.getType(), derivation,
        {weight.getSymName(), scaleName}, weight);
    if (failed(folded))
      return failure();
    for (WeightRefOp ref : weightRefs) {
      OpBuilder rb(ref);
      auto replacement = WeightRefOp::create(rb, ref.getLoc(), ref.getType(), folded->getSymName());
      ref.replaceAllUsesWith(replacement.getResult());
      ref.erase();
    }
    weightRefs.clear();
    return success();
  }
};

} // namespace
