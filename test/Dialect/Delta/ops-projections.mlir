// RUN: delta-opt %s | FileCheck %s
// RUN: delta-opt %s | delta-opt | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt | FileCheck %s

// embedding gathers rows of a bf16 table for a dynamic number of token ids.
// CHECK-LABEL: func.func @embedding_float
func.func @embedding_float(%table: tensor<512x64xbf16>, %ids: tensor<?xi32>) -> tensor<?x64xf32> {
  // CHECK-SAME: ([[TABLE:%.+]]: tensor<512x64xbf16>, [[IDS:%.+]]: tensor<?xi32>)
  // CHECK: [[E:%.+]] = delta.embedding [[TABLE]][[[IDS]]] : tensor<512x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: return [[E]]
  %e = delta.embedding %table[%ids] : tensor<512x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
  return %e : tensor<?x64xf32>
}

// embedding from a quantized (Q8_0-like, row_major) table for one decode token.
// CHECK-LABEL: func.func @embedding_quantized
func.func @embedding_quantized(%table: !delta.qweight<512x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>, %ids: tensor<1xi32>) -> tensor<1x64xf32> {
  // CHECK: delta.embedding %{{.+}}[%{{.+}}] : !delta.qweight<512x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>, tensor<1xi32> -> tensor<1x64xf32>
  %e = delta.embedding %table[%ids] : !delta.qweight<512x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>, tensor<1xi32> -> tensor<1x64xf32>
  return %e : tensor<1x64xf32>
}

// linear with a float weight, dynamic token count.
// CHECK-LABEL: func.func @linear_float
func.func @linear_float(%x: tensor<?x64xf32>, %w: tensor<128x64xbf16>) -> tensor<?x128xf32> {
  // CHECK-SAME: ([[X:%.+]]: tensor<?x64xf32>, [[W:%.+]]: tensor<128x64xbf16>)
  // CHECK: [[Y:%.+]] = delta.linear [[X]], [[W]] : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
  // CHECK: return [[Y]]
  %y = delta.linear %x, %w : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// linear on per-head (rank-3) bf16 activations with an f16 weight.
// CHECK-LABEL: func.func @linear_rank3_bf16
func.func @linear_rank3_bf16(%x: tensor<?x4x16xbf16>, %w: tensor<32x16xf16>) -> tensor<?x4x32xbf16> {
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x4x16xbf16>, tensor<32x16xf16> -> tensor<?x4x32xbf16>
  %y = delta.linear %x, %w : tensor<?x4x16xbf16>, tensor<32x16xf16> -> tensor<?x4x32xbf16>
  return %y : tensor<?x4x32xbf16>
}

// linear with a symmetric i4 row_major weight (group 32, f16 scales).
// CHECK-LABEL: func.func @linear_qweight_i4
func.func @linear_qweight_i4(%x: tensor<?x64xf32>, %w: !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>) -> tensor<?x128xf32> {
  // CHECK-SAME: ([[X:%.+]]: tensor<?x64xf32>, [[W:%.+]]: !delta.qweight
  // CHECK: delta.linear [[X]], [[W]] : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major> -> tensor<?x128xf32>
  %y = delta.linear %x, %w : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major> -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// linear with an asymmetric i8 weight (bf16 scales, f32 offsets).
// CHECK-LABEL: func.func @linear_qweight_asymmetric
func.func @linear_qweight_asymmetric(%x: tensor<1x64xf32>, %w: !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 16, scale_type = bf16, offset_type = f32>, row_major>) -> tensor<1x128xf32> {
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<1x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 16, scale_type = bf16, offset_type = f32>, row_major> -> tensor<1x128xf32>
  %y = delta.linear %x, %w : tensor<1x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 16, scale_type = bf16, offset_type = f32>, row_major> -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}

// linear with a per-output-channel quantized weight (group_size = 0, f32 scales).
// CHECK-LABEL: func.func @linear_qweight_per_channel
func.func @linear_qweight_per_channel(%x: tensor<?x64xf32>, %w: !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 0, scale_type = f32>, row_major>) -> tensor<?x128xf32> {
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 0, scale_type = f32>, row_major> -> tensor<?x128xf32>
  %y = delta.linear %x, %w : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 0, scale_type = f32>, row_major> -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// linear with GGUF block weights: Q8_0, Q4_0 and Q4_1 in the ggml_blocks layout.
// CHECK-LABEL: func.func @linear_qweight_ggml_blocks
func.func @linear_qweight_ggml_blocks(%x: tensor<?x64xf32>,
    %q8: !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>,
    %q40: !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>,
    %q41: !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks>)
    -> (tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) {
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x128xf32>
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x128xf32>
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks> -> tensor<?x128xf32>
  %0 = delta.linear %x, %q8 : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x128xf32>
  %1 = delta.linear %x, %q40 : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x128xf32>
  %2 = delta.linear %x, %q41 : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks> -> tensor<?x128xf32>
  return %0, %1, %2 : tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>
}

// linear with deltac's int4 blocks: groups of 64 and 128, symmetric and with an f16 offset.
// CHECK-LABEL: func.func @linear_qweight_blocks
func.func @linear_qweight_blocks(%x: tensor<?x256xf32>,
    %g64: !delta.qweight<128x256, #delta.quant<storage = i4, group_size = 64, scale_type = f16>, blocks>,
    %g128: !delta.qweight<128x256, #delta.quant<storage = i4, group_size = 128, scale_type = f16, offset_type = f16>, blocks>)
    -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x256xf32>, !delta.qweight<128x256, #delta.quant<storage = i4, group_size = 64, scale_type = f16>, blocks> -> tensor<?x128xf32>
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<?x256xf32>, !delta.qweight<128x256, #delta.quant<storage = i4, group_size = 128, scale_type = f16, offset_type = f16>, blocks> -> tensor<?x128xf32>
  %0 = delta.linear %x, %g64 : tensor<?x256xf32>, !delta.qweight<128x256, #delta.quant<storage = i4, group_size = 64, scale_type = f16>, blocks> -> tensor<?x128xf32>
  %1 = delta.linear %x, %g128 : tensor<?x256xf32>, !delta.qweight<128x256, #delta.quant<storage = i4, group_size = 128, scale_type = f16, offset_type = f16>, blocks> -> tensor<?x128xf32>
  return %0, %1 : tensor<?x128xf32>, tensor<?x128xf32>
}

// A rank-3 stack of quantized expert matrices [E, N, K] declared as a weight and referenced.
// CHECK: delta.weight private @experts.gate_up : !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 64, scale_type = bf16>, row_major>
delta.weight private @experts.gate_up : !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 64, scale_type = bf16>, row_major>
// CHECK-LABEL: func.func @expert_qweight_rank3
func.func @expert_qweight_rank3() -> !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 64, scale_type = bf16>, row_major> {
  // CHECK: delta.weight_ref @experts.gate_up : !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 64, scale_type = bf16>, row_major>
  %w = delta.weight_ref @experts.gate_up : !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 64, scale_type = bf16>, row_major>
  return %w : !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 64, scale_type = bf16>, row_major>
}

// lm_head projects bf16 hidden states to f32 logits with a float weight.
// CHECK-LABEL: func.func @lm_head_float
func.func @lm_head_float(%x: tensor<?x64xbf16>, %w: tensor<512x64xbf16>) -> tensor<?x512xf32> {
  // CHECK-SAME: ([[X:%.+]]: tensor<?x64xbf16>, [[W:%.+]]: tensor<512x64xbf16>)
  // CHECK: [[L:%.+]] = delta.lm_head [[X]], [[W]] : tensor<?x64xbf16>, tensor<512x64xbf16> -> tensor<?x512xf32>
  // CHECK: return [[L]]
  %l = delta.lm_head %x, %w : tensor<?x64xbf16>, tensor<512x64xbf16> -> tensor<?x512xf32>
  return %l : tensor<?x512xf32>
}

// lm_head with a quantized (Q4_0 ggml_blocks) weight for one decode token.
// CHECK-LABEL: func.func @lm_head_quantized
func.func @lm_head_quantized(%x: tensor<1x64xf32>, %w: !delta.qweight<512x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>) -> tensor<1x512xf32> {
  // CHECK: delta.lm_head %{{.+}}, %{{.+}} : tensor<1x64xf32>, !delta.qweight<512x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x512xf32>
  %l = delta.lm_head %x, %w : tensor<1x64xf32>, !delta.qweight<512x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x512xf32>
  return %l : tensor<1x512xf32>
}

// add of a residual and a mixer output.
// CHECK-LABEL: func.func @add
func.func @add(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK-SAME: ([[X:%[^:]+]]: tensor<?x64xf32>, [[Y:%[^:]+]]: tensor<?x64xf32>)
  // CHECK: [[S:%.+]] = delta.add [[X]], [[Y]] : tensor<?x64xf32>
  // CHECK: return [[S]]
  %s = delta.add %x, %y : tensor<?x64xf32>
  return %s : tensor<?x64xf32>
}

// swiglu of the gate and up projections, in bf16 for one token.
// CHECK-LABEL: func.func @swiglu
func.func @swiglu(%g: tensor<1x128xbf16>, %u: tensor<1x128xbf16>) -> tensor<1x128xbf16> {
  // CHECK-SAME: ([[G:%[^:]+]]: tensor<1x128xbf16>, [[U:%[^:]+]]: tensor<1x128xbf16>)
  // CHECK: [[A:%.+]] = delta.swiglu [[G]], [[U]] : tensor<1x128xbf16>
  // CHECK: return [[A]]
  %a = delta.swiglu %g, %u : tensor<1x128xbf16>
  return %a : tensor<1x128xbf16>
}

// Real Qwen3.5-0.8B shapes: the tied embedding / LM head over vocab 248320, the GDN in_proj_qkv, the dense
// MLP (intermediate 3584) with swiglu, and the residual add.
// CHECK-LABEL: func.func @projections_qwen35_0_8b
func.func @projections_qwen35_0_8b(%ids: tensor<?xi32>, %table: tensor<248320x1024xbf16>, %wqkv: tensor<6144x1024xbf16>,
    %wg: tensor<3584x1024xbf16>, %wu: tensor<3584x1024xbf16>, %wd: tensor<1024x3584xbf16>) -> (tensor<?x6144xf32>, tensor<?x248320xf32>) {
  // CHECK: [[E:%.+]] = delta.embedding %{{.+}}[%{{.+}}] : tensor<248320x1024xbf16>, tensor<?xi32> -> tensor<?x1024xf32>
  // CHECK: delta.linear [[E]], %{{.+}} : tensor<?x1024xf32>, tensor<6144x1024xbf16> -> tensor<?x6144xf32>
  // CHECK: [[G:%.+]] = delta.linear [[E]], %{{.+}} : tensor<?x1024xf32>, tensor<3584x1024xbf16> -> tensor<?x3584xf32>
  // CHECK: [[U:%.+]] = delta.linear [[E]], %{{.+}} : tensor<?x1024xf32>, tensor<3584x1024xbf16> -> tensor<?x3584xf32>
  // CHECK: [[A:%.+]] = delta.swiglu [[G]], [[U]] : tensor<?x3584xf32>
  // CHECK: [[D:%.+]] = delta.linear [[A]], %{{.+}} : tensor<?x3584xf32>, tensor<1024x3584xbf16> -> tensor<?x1024xf32>
  // CHECK: [[H:%.+]] = delta.add [[E]], [[D]] : tensor<?x1024xf32>
  // CHECK: delta.lm_head [[H]], %{{.+}} : tensor<?x1024xf32>, tensor<248320x1024xbf16> -> tensor<?x248320xf32>
  %e = delta.embedding %table[%ids] : tensor<248320x1024xbf16>, tensor<?xi32> -> tensor<?x1024xf32>
  %m = delta.linear %e, %wqkv : tensor<?x1024xf32>, tensor<6144x1024xbf16> -> tensor<?x6144xf32>
  %g = delta.linear %e, %wg : tensor<?x1024xf32>, tensor<3584x1024xbf16> -> tensor<?x3584xf32>
  %u = delta.linear %e, %wu : tensor<?x1024xf32>, tensor<3584x1024xbf16> -> tensor<?x3584xf32>
  %a = delta.swiglu %g, %u : tensor<?x3584xf32>
  %d = delta.linear %a, %wd : tensor<?x3584xf32>, tensor<1024x3584xbf16> -> tensor<?x1024xf32>
  %h = delta.add %e, %d : tensor<?x1024xf32>
  %l = delta.lm_head %h, %table : tensor<?x1024xf32>, tensor<248320x1024xbf16> -> tensor<?x248320xf32>
  return %m, %l : tensor<?x6144xf32>, tensor<?x248320xf32>
}

// Real Qwen3.5-0.8B in_proj_qkv quantized to Q4_0 blocks, as llama.cpp ships it.
// CHECK-LABEL: func.func @linear_qweight_qwen35_0_8b
func.func @linear_qweight_qwen35_0_8b(%x: tensor<1x1024xf32>, %w: !delta.qweight<6144x1024, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>) -> tensor<1x6144xf32> {
  // CHECK: delta.linear %{{.+}}, %{{.+}} : tensor<1x1024xf32>, !delta.qweight<6144x1024, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x6144xf32>
  %y = delta.linear %x, %w : tensor<1x1024xf32>, !delta.qweight<6144x1024, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x6144xf32>
  return %y : tensor<1x6144xf32>
}

// linear with the swiglu epilogue: a merged [gate; up] weight of 2 * 128 rows gives 128 outputs.
// CHECK-LABEL: func.func @linear_swiglu
func.func @linear_swiglu(%x: tensor<?x64xf32>, %wgu: tensor<256x64xbf16>) -> tensor<?x128xf32> {
  // CHECK-SAME: ([[X:%.+]]: tensor<?x64xf32>, [[W:%.+]]: tensor<256x64xbf16>)
  // CHECK: [[A:%.+]] = delta.linear [[X]], [[W]] swiglu : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x128xf32>
  // CHECK: return [[A]]
  %a = delta.linear %x, %wgu swiglu : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x128xf32>
  return %a : tensor<?x128xf32>
}

// linear with a residual operand (its type is the result's, so it is not spelled out).
// CHECK-LABEL: func.func @linear_residual
func.func @linear_residual(%x: tensor<?x128xf32>, %wd: tensor<64x128xf32>, %r: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK-SAME: ([[X:%[^:]+]]: tensor<?x128xf32>, [[W:%[^:]+]]: tensor<64x128xf32>, [[R:%[^:]+]]: tensor<?x64xf32>)
  // CHECK: [[H:%.+]] = delta.linear [[X]], [[W]] residual([[R]]) : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  // CHECK: return [[H]]
  %h = delta.linear %x, %wd residual(%r) : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  return %h : tensor<?x64xf32>
}

// Both epilogues on one quantized linear, for one decode token: r + silu(x Wg) * (x Wu).
// CHECK-LABEL: func.func @linear_swiglu_residual_quantized
func.func @linear_swiglu_residual_quantized(%x: tensor<1x64xf32>, %w: !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>, %r: tensor<1x64xf32>) -> tensor<1x64xf32> {
  // CHECK: delta.linear %{{.+}}, %{{.+}} swiglu residual(%{{.+}}) : tensor<1x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x64xf32>
  %y = delta.linear %x, %w swiglu residual(%r) : tensor<1x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}

// Real Qwen3.5-0.8B MLP after fusion: merged gate/up [7168, 1024] with swiglu, then down with the residual.
// CHECK-LABEL: func.func @mlp_fused_qwen35_0_8b
func.func @mlp_fused_qwen35_0_8b(%n: tensor<?x1024xf32>, %h: tensor<?x1024xf32>, %wgu: tensor<7168x1024xbf16>, %wd: tensor<1024x3584xbf16>) -> tensor<?x1024xf32> {
  // CHECK: [[A:%.+]] = delta.linear %{{.+}}, %{{.+}} swiglu : tensor<?x1024xf32>, tensor<7168x1024xbf16> -> tensor<?x3584xf32>
  // CHECK: delta.linear [[A]], %{{.+}} residual(%{{.+}}) : tensor<?x3584xf32>, tensor<1024x3584xbf16> -> tensor<?x1024xf32>
  %a = delta.linear %n, %wgu swiglu : tensor<?x1024xf32>, tensor<7168x1024xbf16> -> tensor<?x3584xf32>
  %y = delta.linear %a, %wd residual(%h) : tensor<?x3584xf32>, tensor<1024x3584xbf16> -> tensor<?x1024xf32>
  return %y : tensor<?x1024xf32>
}
