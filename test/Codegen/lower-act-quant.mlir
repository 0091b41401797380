// RUN: delta-opt %s --split-input-file --verify-diagnostics --delta-lower-to-kernels="max-tokens=8" | FileCheck %s

// Under delta.act_quant = "int8" (deltac compile --act-quant=int8) a linear, a linear with an
// epilogue and an LM head whose weights are block-quantized lower to the int8-activation operations,
// with the same arguments as their f32 forms; a float weight keeps the f32 operation.

// CHECK-LABEL: llvm.func @dc_entry_prefill(
// The Q4_0_G128 projection (dc_ws_dtype 8) with int8 activations.
// CHECK: %[[G128:.+]] = llvm.mlir.constant(8 : i32)
// CHECK: llvm.call @dc_op_linear_q8act(%{{[^,]+}}, %[[G128]],
// The Q4_1_G64 gate/up projection (dtype 7) with its swiglu epilogue (1).
// CHECK: %[[G64A:.+]] = llvm.mlir.constant(7 : i32)
// CHECK: %[[SWIGLU:.+]] = llvm.mlir.constant(1 : i32)
// CHECK: llvm.call @dc_op_linear_epilogue_q8act(%{{[^,]+}}, %[[G64A]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[SWIGLU]],
// The f32 projection is not quantized: the f32 kernel.
// CHECK: llvm.call @dc_op_linear(
// The Q8_0 LM head (dtype 3).
// CHECK: %[[Q8:.+]] = llvm.mlir.constant(3 : i32)
// CHECK: llvm.call @dc_op_lm_head_q8act(%{{[^,]+}}, %[[Q8]],
// CHECK: llvm.return

module attributes {delta.act_quant = "int8", delta.architecture = "qwen3_5", delta.max_context = 64 : i64, delta.weight_store = {fingerprint = "0x00000000000000ab", path = "m.dcw"}} {
  delta.weight private @embed : tensor<48x128xf32>
  delta.weight private @proj : !delta.qweight<128x128, #delta.quant<storage = i4, group_size = 128, scale_type = f16>, blocks>
  delta.weight private @gate_up : !delta.qweight<256x128, #delta.quant<storage = i4, group_size = 64, scale_type = f16, offset_type = f16>, blocks>
  delta.weight private @float_proj : tensor<128x128xf32>
  delta.weight private @head : !delta.qweight<48x128, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x128xf32>
    %x = delta.embedding %e[%tokens] : tensor<48x128xf32>, tensor<?xi32> -> tensor<?x128xf32>
    %p = delta.weight_ref @proj : !delta.qweight<128x128, #delta.quant<storage = i4, group_size = 128, scale_type = f16>, blocks>
    %y = delta.linear %x, %p : tensor<?x128xf32>, !delta.qweight<128x128, #delta.quant<storage = i4, group_size = 128, scale_type = f16>, blocks> -> tensor<?x128xf32>
    %gu = delta.weight_ref @gate_up : !delta.qweight<256x128, #delta.quant<storage = i4, group_size = 64, scale_type = f16, offset_type = f16>, blocks>
    %h = delta.linear %y, %gu swiglu : tensor<?x128xf32>, !delta.qweight<256x128, #delta.quant<storage = i4, group_size = 64, scale_type = f16, offset_type = f16>, blocks> -> tensor<?x128xf32>
    %f = delta.weight_ref @float_proj : tensor<128x128xf32>
    %z = delta.linear %h, %f : tensor<?x128xf32>, tensor<128x128xf32> -> tensor<?x128xf32>
    %w = delta.weight_ref @head : !delta.qweight<48x128, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %l = delta.lm_head %z, %w : tensor<?x128xf32>, !delta.qweight<48x128, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x48xf32>
    return %l : tensor<?x48xf32>
  }
  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x128xf32>
    %x = delta.embedding %e[%tokens] : tensor<48x128xf32>, tensor<1xi32> -> tensor<1x128xf32>
    %w = delta.weight_ref @head : !delta.qweight<48x128, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %l = delta.lm_head %x, %w : tensor<1x128xf32>, !delta.qweight<48x128, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x48xf32>
    return %l : tensor<1x48xf32>
  }
}

// -----

// Any other value of delta.act_quant is an error.

// expected-error @+1 {{delta.act_quant must be "int8" or "none"}}
module attributes {delta.act_quant = "int4", delta.architecture = "qwen3_5", delta.max_context = 64 : i64, delta.weight_store = {fingerprint = "0x00000000000000ab", path = "m.dcw"}} {
  delta.weight private @embed : tensor<48x32xf32>
  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x32xf32>
    %x = delta.embedding %e[%tokens] : tensor<48x32xf32>, tensor<?xi32> -> tensor<?x32xf32>
    %l = delta.lm_head %x, %e : tensor<?x32xf32>, tensor<48x32xf32> -> tensor<?x48xf32>
    return %l : tensor<?x48xf32>
  }
  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x32xf32>
    %x = delta.embedding %e[%tokens] : tensor<48x32xf32>, tensor<1xi32> -> tensor<1x32xf32>
    %l = delta.lm_head %x, %e : tensor<1x32xf32>, tensor<48x32xf32> -> tensor<1x48xf32>
    return %l : tensor<1x48xf32>
  }
}
