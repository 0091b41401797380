//===- Passes.td - deltac lowering passes ----------------------*- tablegen -*-===//

#ifndef DELTAC_CODEGEN_PASSES_TD
#define DELTAC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToKernels : Pass<"delta-lower-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Lowers a model module to kernel calls over planned buffers (LLVM dialect)";
  let description = [{
    Replaces the model's `@prefill` and `@decode` functions (delta ops over tensors) with LLVM-dialect
    functions `@dc_entry_prefill` / `@dc_entry_decode` that call one `dc_op_*` function per op
    (runtime/include/deltac/program.h), on buffers planned statically (codegen/BufferPlan.h): weights
    and states are loaded from the pointer tables the runtime passes, every other tensor is an offset
    in the scratch arena, state updates happen in place, and the logits go to the caller's buffer.
    It also emits the `@dc_model_program` table. The module must pass `delta-verify-model`.

    Before (one op of @decode):

    ```mlir
    %y = delta.linear %x, %w : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    ```

    After:

    ```mlir
    %wp = llvm.load %slot : !llvm.ptr -> !llvm.ptr      // weights[i]
    %yp = llvm.getelementptr %arena[256] : (!llvm.ptr) -> !llvm.ptr, i8
    llvm.call @dc_op_linear(%exec, %bf16, %xp, %rows, %k, %wp, %n, %yp) : (...) -> ()
    ```
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"512",
           "The largest prefill step: sizes every token-dependent buffer of the arena">,
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "The target name recorded in the program table">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let statistics = [
    Statistic<"numKernelCalls", "kernel-calls", "dc_op_* calls emitted">,
    Statistic<"arenaBytes", "arena-bytes", "bytes of the scratch arena">
  ];
}

#endif // DELTAC_CODEGEN_PASSES_TD
