// RUN: delta-opt %s --split-input-file --delta-merge-linears | FileCheck %s

// Gated DeltaNet's four projections of one normed input become one linear and a split, in program
// order; decode reuses the weight prefill declared.
delta.weight private @l.in_proj_qkv.weight : tensor<96x64xbf16>
delta.weight private @l.in_proj_z.weight : tensor<32x64xbf16>
delta.weight private @l.in_proj_b.weight : tensor<4x64xbf16>
delta.weight private @l.in_proj_a.weight : tensor<4x64xbf16>
// CHECK: delta.weight private @"l.in_proj_qkv+in_proj_z+in_proj_b+in_proj_a.weight" : tensor<136x64xbf16> = concat_rows(@l.in_proj_qkv.weight, @l.in_proj_z.weight, @l.in_proj_b.weight, @l.in_proj_a.weight)
// CHECK-NOT: delta.weight private @"l.in_proj
// CHECK-LABEL: func.func @prefill
// CHECK: %[[W:.+]] = delta.weight_ref @"l.in_proj_qkv+in_proj_z+in_proj_b+in_proj_a.weight" : tensor<136x64xbf16>
// CHECK: %[[M:.+]] = delta.linear %arg0, %[[W]] : tensor<?x64xf32>, tensor<136x64xbf16> -> tensor<?x136xf32>
// CHECK: %[[S:.+]]:4 = delta.split %[[M]] : tensor<?x136xf32> -> tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x4xf32>, tensor<?x4xf32>
// CHECK-NOT: delta.linear
// CHECK: return %[[S]]#0, %[[S]]#1, %[[S]]#2, %[[S]]#3
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %w0 = delta.weight_ref @l.in_proj_qkv.weight : tensor<96x64xbf16>
  %0 = delta.linear %x, %w0 : tensor<?x64xf32>, tensor<96x64xbf16> -> tensor<?x96xf32>
  %w1 = delta.weight_ref @l.in_proj_z.weight : tensor<32x64xbf16>
  %1 = delta.linear %x, %w1 : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  %w2 = delta.weight_ref @l.in_proj_b.weight : tensor<4x64xbf16>
  %2 = delta.linear %x, %w2 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
  %w3 = delta.weight_ref @l.in_proj_a.weight : tensor<4x64xbf16>
  %3 = delta.linear %x, %w3 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
  return %0, %1, %2, %3 : tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}
// CHECK-LABEL: func.func @decode
// CHECK: delta.weight_ref @"l.in_proj_qkv+in_proj_z+in_proj_b+in_proj_a.weight" : tensor<136x64xbf16>
// CHECK: delta.linear {{.*}} -> tensor<1x136xf32>
func.func @decode(%x: tensor<1x64xf32>) -> (tensor<1x96xf32>, tensor<1x32xf32>, tensor<1x4xf32>, tensor<1x4xf32>) {
  %w0 = delta.weight_ref @l.in_proj_qkv.weight : tensor<96x64xbf16>
  %0 = delta.linear %x, %w0 : tensor<1x64xf32>, tensor<96x64xbf16> -> tensor<1x96xf32>
  %w1 = delta.weight_ref @l.in_proj_z.weight : tensor<32x64xbf16>
  %1 = delta.linear %x, %w1 : tensor<1x64xf32>, tensor<32x64xbf16> -> tensor<1x32xf32>
  %w2 = delta.weight_ref @l.in_proj_b.weight : tensor<4x64xbf16>
  %2 = delta.linear %x, %w2 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
  %w3 = delta.weight_ref @l.in_proj_a.weight : tensor<4x64xbf16>
  %3 = delta.linear %x, %w3 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
  return %0, %1, %2, %3 : tensor<1x96xf32>, tensor<1x32xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// Weights of different encodings are merged only with their own kind: the two int8 projections
// merge, the f32 one stays alone.
delta.weight private @m.gate_proj.weight : !delta.qweight<32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
delta.weight private @m.up_proj.weight : !delta.qweight<32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
delta.weight private @m.router.weight : tensor<4x64xf32>
// CHECK: delta.weight private @"m.gate_proj+up_proj.weight" : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> = concat_rows(@m.gate_proj.weight, @m.up_proj.weight)
// CHECK: delta.linear %arg0, %{{.+}} : tensor<?x64xf32>, !delta.qweight<64x64
// CHECK: delta.split
// CHECK: delta.linear %arg0, %{{.+}} : tensor<?x64xf32>, tensor<4x64xf32>
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x4xf32>) {
  %wg = delta.weight_ref @m.gate_proj.weight : !delta.qweight<32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  %g = delta.linear %x, %wg : tensor<?x64xf32>, !delta.qweight<32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x32xf32>
  %wr = delta.weight_ref @m.router.weight : tensor<4x64xf32>
  %r = delta.linear %x, %wr : tensor<?x64xf32>, tensor<4x64xf32> -> tensor<?x4xf32>
  %wu = delta.weight_ref @m.up_proj.weight : !delta.qweight<32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  %u = delta.linear %x, %wu : tensor<?x64xf32>, !delta.qweight<32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x32xf32>
  %s = delta.swiglu %g, %u : tensor<?x32xf32>
  return %s, %r : tensor<?x32xf32>, tensor<?x4xf32>
}

// -----

// Linears of different inputs, and a linear with a residual, are not merged.
delta.weight private @a : tensor<32x64xf32>
delta.weight private @b : tensor<32x64xf32>
delta.weight private @c : tensor<32x64xf32>
// CHECK-NOT: concat_rows
// CHECK-COUNT-3: delta.linear
// CHECK-NOT: delta.split
func.func @prefill(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>, %r: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %wa = delta.weight_ref @a : tensor<32x64xf32>
  %0 = delta.linear %x, %wa : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %wb = delta.weight_ref @b : tensor<32x64xf32>
  %1 = delta.linear %y, %wb : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %wc = delta.weight_ref @c : tensor<32x64xf32>
  %2 = delta.linear %x, %wc residual(%r) : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %0, %1, %2 : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}
