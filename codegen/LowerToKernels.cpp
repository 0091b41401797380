//===- LowerToKernels.cpp - the lowering as a pass ------------------------===//
//
// The same lowering `deltac compile` runs (ProgramEmitter), exposed as a pass so delta-opt and the lit
// tests can drive it on any module.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "codegen/ProgramEmitter.h"

namespace deltac {
#define GEN_PASS_DEF_LOWERTOKERNELS
#include "codegen/Passes.h.inc"
} // namespace deltac

using namespace mlir;

namespace {

struct LowerToKernelsPass : deltac::impl::LowerToKernelsBase<LowerToKernelsPass> {
  using LowerToKernelsBase::LowerToKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    deltac::ProgramOptions options;
    options.target = target;
    options.maxTokens = maxTokens;
    deltac::ProgramSummary summary;
    auto program = deltac::emitProgram(module, options, &summary);
    if (!program) {
      module.emitError() << llvm::toString(program.takeError());
      return signalPassFailure();
    }
    // The model's declarations and functions are replaced by the program; its delta.* attributes
    // now live in the program table.
    module.getBody()->clear();
    module.getBody()->getOperations().splice(module.getBody()->end(),
                                             (*program)->getBody()->getOperations());
    for (NamedAttribute attr : llvm::to_vector(module->getDiscardableAttrs()))
      if (attr.getName().getValue().starts_with("delta."))
        module->removeDiscardableAttr(attr.getName());
    numKernelCalls = summary.kernelCalls;
    arenaBytes = summary.arenaBytes;
  }
};

} // namespace
