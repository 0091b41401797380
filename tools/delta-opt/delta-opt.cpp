//===- delta-opt.cpp - run delta dialect passes over MLIR files -----------===//
//
// The test driver of the lit suite: parses and verifies MLIR that uses the delta dialect and runs any
// sequence of deltac's passes and of the upstream passes deltac relies on.
//
//===----------------------------------------------------------------------===//

#include "dialect/DeltaDialect.h"
#include "codegen/Passes.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<deltac::delta::DeltaDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::LLVM::LLVMDialect>();

  deltac::registerDeltacPasses();
  deltac::registerDeltacCodegenPasses();
  // Upstream passes used by deltac's pipelines.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerInlinerPass();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "deltac optimizer driver\n", registry));
}
