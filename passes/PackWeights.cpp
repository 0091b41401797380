//===- PackWeights.cpp - weights in the layout of the int8-activation kernels -===//
//
// A Q8_0 or Q4_0 weight (`ggml_blocks`) that only linears, LM heads and embeddings read becomes
// `pack(@w)`, the same values in the `packed` layout: each row's codes, then its scales
// (kernel_abi.h, "Packed rows"). The int8-activation kernels then load codes and scales with whole
// vector loads instead of decoding every 34- or 18-byte block. Packing moves bytes and never
// rounds, so verbatim GGUF blocks are packed as they are. With interleave-q4 (the AVX2 targets) Q4_0
// takes the `packed_x8` layout, its code bytes interleaved by spans of 8 blocks.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/DerivedWeights.h"

#include "dialect/DeltaOps.h"
#include "dialect/DeltaTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

namespace deltac {
#define GEN_PASS_DEF_PACKWEIGHTS
#include "passes/Passes.h.inc"
} // namespace deltac

using namespace mlir;
using namespace deltac::delta;

namespace {

/// The packed form of `type` if it is a Q8_0 or Q4_0 weight matrix in GGUF blocks: `packed`, or
/// `packed_x8` for Q4_0 with `interleaveQ4`.
QuantizedWeightType packedTypeOf(Type type, bool interleaveQ4) {
  auto q = dyn_cast<QuantizedWeightType>(type);
  if (!q || q.getLayout() != WeightLayout::ggml_blocks || q.getShape().size() != 2 ||
      q.getScheme().isAsymmetric())
    return {};
  bool q4 = q.getScheme().getStorage().getWidth() == 4;
  return QuantizedWeightType::get(type.getContext(), q.getShape(), q.getScheme(),
                                  q4 && interleaveQ4 ? WeightLayout::packed_x8
                                                     : WeightLayout::packed);
}

/// True if every use of `ref` reads it as a weight matrix the packed kernels exist for; sets
/// `multiplies` when one of them is a linear or LM head (an embedding alone gains nothing).
bool packedKernelsRead(WeightRefOp ref, bool &multiplies) {
  for (OpOperand &use : ref->getUses()) {
    Operation *user = use.getOwner();
    if (auto linear = dyn_cast<LinearOp>(user); linear && use.get() == linear.getWeight())
      multiplies = true;
    else if (auto head = dyn_cast<LMHeadOp>(user); head && use.get() == head.getWeight())
      multiplies = true;
    else if (auto embedding = dyn_cast<EmbeddingOp>(user);
             !embedding || use.get() != embedding.getTable())
      return false;
  }
  return true;
}

struct PackWeights : deltac::impl::PackWeightsBase<PackWeights> {
  using PackWeightsBase::PackWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Only the int8-activation kernels read packed rows (deltac compile --act-quant=int8).
    auto actQuant = module->getAttrOfType<StringAttr>("delta.act_quant");
    if (!actQuant || actQuant.getValue() != "int8")
      return;
    SymbolTable symbols(module);
    llvm::MapVector<StringRef, SmallVector<WeightRefOp>> refs;
    module.walk([&](WeightRefOp ref) { refs[ref.getName()].push_back(ref); });
    for (auto &[name, users] : refs) {
      auto weight = symbols.lookup<WeightOp>(name);
      QuantizedWeightType packed = weight ? packedTypeOf(weight.getType(), interleaveQ4) : QuantizedWeightType();
      if (!packed)
        continue;
      bool multiplies = false;
      if (!llvm::all_of(users,
                        [&](WeightRefOp ref) { return packedKernelsRead(ref, multiplies); }) ||
          !multiplies)
        continue;
      FailureOr<WeightOp> declared = deltac::declareDerivedWeight(
          symbols, (name + ".packed").str(), packed, WeightDerivation::pack, {name}, weight);
      if (failed(declared))
        return signalPassFailure();
      for (WeightRefOp ref : users) {
        ref.setNameAttr(FlatSymbolRefAttr::get(declared->getSymNameAttr()));
        ref.getResult().setType(packed);
      }
      ++numPacked;
    }
  }
};

} // namespace
