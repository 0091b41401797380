//===- FuseElementwise.cpp - elementwise work into neighbouring kernels ---===//
//
// Three pattern rewrites (docs/design/fusion.md): a SwiGLU over the halves of a merged gate/up
// linear becomes the linear's swiglu epilogue, a residual add of a linear's result becomes the
// linear's residual operand, and the Gated DeltaNet chain conv1d -> split -> reshape -> l2_norm /
// gdn_gates -> gated_delta_rule becomes one delta.gated_delta_net. Patterns rather than a walk,
// because each fusion is a local match on a use-def chain and the greedy driver revisits an op
// whose producer a fusion just replaced (a residual add of a linear that itself just got its swiglu
// epilogue).
//
// Every pattern refuses a chain whose intermediate values have other users: the fused kernel never
// materializes them, so fusing would have to keep the old ops too and compute the work twice.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialect/DeltaOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/Statistic.h"

namespace deltac {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace deltac

using namespace mlir;
using namespace deltac::delta;

namespace {

/// True when `value` is used exactly once, by `user`.
bool onlyUsedBy(Value value, Operation *user) {
  return value.hasOneUse() && *value.getUsers().begin() == user;
}

int64_t lastDim(Value value) { return cast<RankedTensorType>(value.getType()).getShape().back(); }

/// swiglu(split(linear(x, [Wg; Wu]))) -> linear(x, [Wg; Wu]) swiglu.
struct FuseSwiGLU : OpRewritePattern<SwiGLUOp> {
  FuseSwiGLU(MLIRContext *context, llvm::Statistic &fused)
      : OpRewritePattern(context), fused(fused) {}

  LogicalResult matchAndRewrite(SwiGLUOp op, PatternRewriter &rewriter) const override {
    auto gate = dyn_cast<OpResult>(op.getGate());
    auto up = dyn_cast<OpResult>(op.getUp());
    auto split = gate ? dyn_cast<SplitOp>(gate.getOwner()) : SplitOp();
    if (!split || !up || up.getOwner() != split)
      return rewriter.notifyMatchFailure(op, "gate and up are not results of one split");
    // The epilogue reads the gate from the first half of the weight rows and up from the second.
    if (split.getNumResults() != 2 || gate.getResultNumber() != 0 || up.getResultNumber() != 1)
      return rewriter.notifyMatchFailure(op, "not (first half, second half) of a two-way split");
    if (lastDim(gate) != lastDim(up))
      return rewriter.notifyMatchFailure(op, "the split halves are unequal");
    if (!onlyUsedBy(gate, op) || !onlyUsedBy(up, op))
      return rewriter.notifyMatchFailure(op, "a split half has another user");
    auto linear = split.getInput().getDefiningOp<LinearOp>();
    if (!linear || !linear.hasNoEpilogue())
      return rewriter.notifyMatchFailure(op, "the split input is not a plain linear");
    if (!onlyUsedBy(linear.getResult(), split))
      return rewriter.notifyMatchFailure(op, "the linear result has another user");
    // The fused linear takes the swiglu's place; keep the matmul out of any region it was not in.
    if (linear->getBlock() != op->getBlock() || split->getBlock() != op->getBlock())
      return rewriter.notifyMatchFailure(op, "the chain spans blocks");

    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), linear.getInput(), linear.getWeight(),
                                          /*residual=*/Value(), /*swiglu=*/true);
    rewriter.eraseOp(split);
    rewriter.eraseOp(linear);
    ++fused;
    return success();
  }

  llvm::Statistic &fused;
};

/// add(r, linear(x, W)) or add(linear(x, W), r) -> linear(x, W) residual(r).
struct FuseResidual : OpRewritePattern<AddOp> {
  FuseResidual(MLIRContext *context, llvm::Statistic &fused)
      : OpRewritePattern(context), fused(fused) {}

  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    for (unsigned i = 0; i < 2; ++i) {
      Value product = add->getOperand(i), residual = add->getOperand(1 - i);
      auto linear = product.getDefiningOp<LinearOp>();
      if (!linear || linear.getResidual() || !onlyUsedBy(product, add))
        continue;
      // The fused linear replaces the add where the add is, so `residual` dominates it whatever its
      // position relative to the linear; moving the matmul into a nested region is not allowed.
      if (linear->getBlock() != add->getBlock())
        continue;
      rewriter.replaceOpWithNewOp<LinearOp>(add, add.getType(), linear.getInput(),
                                            linear.getWeight(), residual, linear.getSwiglu());
      rewriter.eraseOp(linear);
      ++fused;
      return success();
    }
    return rewriter.notifyMatchFailure(add, "no operand is a single-use linear in this block");
  }

  llvm::Statistic &fused;
};

/// The importer's Gated DeltaNet chain, matched from its end:
///   %m, %cs1 = causal_conv1d %qkv, %w, %cs0 activation(silu)
///   %q, %k, %v = split %m
///   %qn = l2_norm (reshape %q)   %kn = l2_norm (reshape %k)   %vh = reshape %v
///   %g, %beta = gdn_gates %a, %b, %decay, %dt_bias
///   %o, %s1 = gated_delta_rule %qn, %kn, %vh, %g, %beta, %s0
/// becomes
///   %o, %cs1, %s1 = gated_delta_net %qkv, %a, %b conv(%w, %cs0) gates(%decay, %dt_bias) state(%s0)
struct FuseGDNPrologue : OpRewritePattern<GatedDeltaRuleOp> {
  FuseGDNPrologue(MLIRContext *context, llvm::Statistic &fused)
      : OpRewritePattern(context), fused(fused) {}

  LogicalResult matchAndRewrite(GatedDeltaRuleOp rule, PatternRewriter &rewriter) const override {
    Block *block = rule->getBlock();
    // Every op of the chain is in the rule's block and its result feeds only the next op.
    auto local = [&](Operation *op) { return op && op->getBlock() == block; };

    auto qNorm = rule.getQuery().getDefiningOp<L2NormOp>();
    auto kNorm = rule.getKey().getDefiningOp<L2NormOp>();
    if (!local(qNorm) || !local(kNorm) || !onlyUsedBy(qNorm.getResult(), rule) ||
        !onlyUsedBy(kNorm.getResult(), rule))
      return rewriter.notifyMatchFailure(rule, "query and key are not single-use L2 norms");
    if (qNorm.getEps() != kNorm.getEps())
      return rewriter.notifyMatchFailure(rule, "query and key use different L2 epsilons");
    // The norms must act on the per-head views, i.e. over dk, not on the flat projection.
    auto qView = qNorm.getInput().getDefiningOp<ReshapeOp>();
    auto kView = kNorm.getInput().getDefiningOp<ReshapeOp>();
    auto vView = rule.getValue().getDefiningOp<ReshapeOp>();
    if (!local(qView) || !local(kView) || !local(vView) || !onlyUsedBy(qView.getResult(), qNorm) ||
        !onlyUsedBy(kView.getResult(), kNorm) || !onlyUsedBy(vView.getResult(), rule))
      return rewriter.notifyMatchFailure(rule, "q, k and v are not single-use per-head views");

    auto split = qView.getInput().getDefiningOp<SplitOp>();
    if (!local(split) || split.getNumResults() != 3 || qView.getInput() != split.getResult(0) ||
        kView.getInput() != split.getResult(1) || vView.getInput() != split.getResult(2))
      return rewriter.notifyMatchFailure(rule, "q, k and v are not the three parts of one split");
    if (!llvm::all_of(split.getResults(), [&](Value part) { return part.hasOneUse(); }))
      return rewriter.notifyMatchFailure(rule, "a split part has another user");

    auto conv = split.getInput().getDefiningOp<CausalConv1DOp>();
    if (!local(conv) || conv.getActivation() != Activation::silu ||
        !onlyUsedBy(conv.getResult(), split))
      return rewriter.notifyMatchFailure(rule, "the split input is not a single-use SiLU conv");
    // The fused op takes the rule's place, so it must come before every user of the new conv state.
    for (Operation *user : conv.getNewState().getUsers())
      if (user->getBlock() != block || !rule->isBeforeInBlock(user))
        return rewriter.notifyMatchFailure(rule, "the new conv state is used before the rule");

    auto gates = rule.getG().getDefiningOp<GDNGatesOp>();
    if (!local(gates) || rule.getBeta() != gates.getBeta() || !onlyUsedBy(gates.getG(), rule) ||
        !onlyUsedBy(gates.getBeta(), rule))
      return rewriter.notifyMatchFailure(rule, "g and beta are not the single-use gates of one op");

    auto fusedOp = GatedDeltaNetOp::create(
        rewriter, rule.getLoc(),
        TypeRange{rule.getOutput().getType(), conv.getNewState().getType(),
                  rule.getNewState().getType()},
        conv.getInput(), gates.getA(), gates.getB(), conv.getWeight(), gates.getDecay(),
        gates.getDtBias(), conv.getState(), rule.getState(), gates.getDecayFormAttr(),
        rule.getHeadMappingAttr(), rule.getScaleAttr(), qNorm.getEpsAttr());
    rewriter.replaceAllUsesWith(conv.getNewState(), fusedOp.getNewConvState());
    rewriter.replaceOp(rule, {fusedOp.getOutput(), fusedOp.getNewState()});
    for (Operation *dead :
         {qNorm.getOperation(), kNorm.getOperation(), qView.getOperation(), kView.getOperation(),
          vView.getOperation(), split.getOperation(), conv.getOperation(), gates.getOperation()})
      rewriter.eraseOp(dead);
    ++fused;
    return success();
  }

  llvm::Statistic &fused;
};

struct FuseElementwisePass : deltac::impl::FuseElementwiseBase<FuseElementwisePass> {
  using FuseElementwiseBase::FuseElementwiseBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    if (fuseSwiGLU)
      patterns.add<FuseSwiGLU>(context, numSwiGLU);
    if (fuseResidual)
      patterns.add<FuseResidual>(context, numResidual);
    if (fuseGDNPrologue)
      patterns.add<FuseGDNPrologue>(context, numGDN);
    // No folding or region simplification: besides the fusions, the driver only erases ops that
    // are already dead.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
