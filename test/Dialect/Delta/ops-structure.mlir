// RUN: delta-opt %s | FileCheck %s
// RUN: delta-opt %s | delta-opt | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt | FileCheck %s

// Module-level weight declarations keep their visibility, name and float or quantized type.
// CHECK: delta.weight private @model.layers.0.mlp.up_proj.weight : tensor<3584x1024xbf16>
// CHECK: delta.weight private @small.f32 : tensor<64x64xf32>
// CHECK: delta.weight public @small.f16 : tensor<64xf16>
// CHECK: delta.weight @small.bf16 : tensor<64xbf16>
// CHECK: delta.weight private @small.q4 : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>
delta.weight private @"model.layers.0.mlp.up_proj.weight" : tensor<3584x1024xbf16>
delta.weight private @small.f32 : tensor<64x64xf32>
delta.weight public @small.f16 : tensor<64xf16>
delta.weight @small.bf16 : tensor<64xbf16>
delta.weight private @small.q4 : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>

// verbatim weights and derived weights (concat_rows, scale_columns[_one_plus], pack) keep their
// recipe; pack may read a verbatim weight, since it only moves bytes.
// CHECK: delta.weight private @gate : tensor<8x64xbf16> verbatim
// CHECK: delta.weight private @up : tensor<8x64xbf16> verbatim
// CHECK: delta.weight private @gate_up : tensor<16x64xbf16> = concat_rows(@gate, @up)
// CHECK: delta.weight private @norm : tensor<64xf32>
// CHECK: delta.weight private @proj : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
// CHECK: delta.weight private @proj.scaled : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> = scale_columns_one_plus(@proj, @norm)
// CHECK: delta.weight private @proj.plain : tensor<8x64xf32> = scale_columns(@proj, @norm)
// CHECK: delta.weight private @q4 : !delta.qweight<8x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> verbatim
// CHECK: delta.weight private @q4.packed : !delta.qweight<8x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, packed> = pack(@q4)
delta.weight private @gate : tensor<8x64xbf16> verbatim
delta.weight private @up : tensor<8x64xbf16> verbatim
delta.weight private @gate_up : tensor<16x64xbf16> = concat_rows(@gate, @up)
delta.weight private @norm : tensor<64xf32>
delta.weight private @proj : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
delta.weight private @proj.scaled : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> = scale_columns_one_plus(@proj, @norm)
delta.weight private @proj.plain : tensor<8x64xf32> = scale_columns(@proj, @norm)
delta.weight private @q4 : !delta.qweight<8x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> verbatim
delta.weight private @q4.packed : !delta.qweight<8x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, packed> = pack(@q4)

// Module-level state declarations: a conv state, a delta-rule state and a KV cache (0.8B shapes).
// CHECK: delta.state @layers.0.conv_state : tensor<3x6144xf32>
// CHECK: delta.state @layers.0.delta_state : tensor<16x128x128xf32>
// CHECK: delta.state @layers.3.key_cache : tensor<2x4096x256xbf16>
// CHECK: delta.state @small.state : tensor<4x16x16xf32>
delta.state @"layers.0.conv_state" : tensor<3x6144xf32>
delta.state @"layers.0.delta_state" : tensor<16x128x128xf32>
delta.state @"layers.3.key_cache" : tensor<2x4096x256xbf16>
delta.state @small.state : tensor<4x16x16xf32>

// weight_ref brings float and quantized weights into a function with their declared types.
// CHECK-LABEL: func.func @weight_refs
func.func @weight_refs() -> (tensor<64x64xf32>, tensor<64xf16>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>) {
  // CHECK: [[F32:%.+]] = delta.weight_ref @small.f32 : tensor<64x64xf32>
  // CHECK: [[F16:%.+]] = delta.weight_ref @small.f16 : tensor<64xf16>
  // CHECK: [[Q:%.+]] = delta.weight_ref @small.q4 : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>
  // CHECK: return [[F32]], [[F16]], [[Q]]
  %0 = delta.weight_ref @small.f32 : tensor<64x64xf32>
  %1 = delta.weight_ref @small.f16 : tensor<64xf16>
  %2 = delta.weight_ref @small.q4 : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>
  return %0, %1, %2 : tensor<64x64xf32>, tensor<64xf16>, !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>
}

// weight_ref resolves a quoted Hugging Face name, printed bare since it is a valid identifier (real 0.8B MLP shape).
// CHECK-LABEL: func.func @weight_ref_quoted_name
func.func @weight_ref_quoted_name() -> tensor<3584x1024xbf16> {
  // CHECK: delta.weight_ref @model.layers.0.mlp.up_proj.weight : tensor<3584x1024xbf16>
  %0 = delta.weight_ref @"model.layers.0.mlp.up_proj.weight" : tensor<3584x1024xbf16>
  return %0 : tensor<3584x1024xbf16>
}

// state_read and state_write on the same state, written back with the declared type.
// CHECK-LABEL: func.func @state_read_write
func.func @state_read_write(%new: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  // CHECK-SAME: ([[NEW:%.+]]: tensor<4x16x16xf32>)
  // CHECK: [[OLD:%.+]] = delta.state_read @small.state : tensor<4x16x16xf32>
  // CHECK: delta.state_write [[NEW]], @small.state : tensor<4x16x16xf32>
  // CHECK: return [[OLD]]
  %old = delta.state_read @small.state : tensor<4x16x16xf32>
  delta.state_write %new, @small.state : tensor<4x16x16xf32>
  return %old : tensor<4x16x16xf32>
}

// state_read and state_write of the 0.8B conv state, delta-rule state and bf16 KV cache.
// CHECK-LABEL: func.func @state_read_write_qwen35_0_8b
func.func @state_read_write_qwen35_0_8b() {
  // CHECK: [[CONV:%.+]] = delta.state_read @layers.0.conv_state : tensor<3x6144xf32>
  // CHECK: [[DELTA:%.+]] = delta.state_read @layers.0.delta_state : tensor<16x128x128xf32>
  // CHECK: [[KC:%.+]] = delta.state_read @layers.3.key_cache : tensor<2x4096x256xbf16>
  // CHECK: delta.state_write [[CONV]], @layers.0.conv_state : tensor<3x6144xf32>
  // CHECK: delta.state_write [[DELTA]], @layers.0.delta_state : tensor<16x128x128xf32>
  // CHECK: delta.state_write [[KC]], @layers.3.key_cache : tensor<2x4096x256xbf16>
  %c = delta.state_read @"layers.0.conv_state" : tensor<3x6144xf32>
  %d = delta.state_read @"layers.0.delta_state" : tensor<16x128x128xf32>
  %k = delta.state_read @"layers.3.key_cache" : tensor<2x4096x256xbf16>
  delta.state_write %c, @"layers.0.conv_state" : tensor<3x6144xf32>
  delta.state_write %d, @"layers.0.delta_state" : tensor<16x128x128xf32>
  delta.state_write %k, @"layers.3.key_cache" : tensor<2x4096x256xbf16>
  return
}

// reshape splits a projection into heads and merges the heads back, with a dynamic token count.
// CHECK-LABEL: func.func @reshape_heads
func.func @reshape_heads(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK-SAME: ([[X:%.+]]: tensor<?x64xf32>)
  // CHECK: [[H:%.+]] = delta.reshape [[X]] : tensor<?x64xf32> -> tensor<?x4x16xf32>
  // CHECK: [[M:%.+]] = delta.reshape [[H]] : tensor<?x4x16xf32> -> tensor<?x64xf32>
  // CHECK: return [[M]]
  %h = delta.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %m = delta.reshape %h : tensor<?x4x16xf32> -> tensor<?x64xf32>
  return %m : tensor<?x64xf32>
}

// reshape of a single decode token in bf16 (T = 1).
// CHECK-LABEL: func.func @reshape_decode_bf16
func.func @reshape_decode_bf16(%x: tensor<1x4x16xbf16>) -> tensor<1x64xbf16> {
  // CHECK: delta.reshape %{{.+}} : tensor<1x4x16xbf16> -> tensor<1x64xbf16>
  %0 = delta.reshape %x : tensor<1x4x16xbf16> -> tensor<1x64xbf16>
  return %0 : tensor<1x64xbf16>
}

// split of the small conv output into q | k | v of unequal widths.
// CHECK-LABEL: func.func @split_qkv
func.func @split_qkv(%m: tensor<?x128xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>) {
  // CHECK-SAME: ([[M:%.+]]: tensor<?x128xf32>)
  // CHECK: [[S:%.+]]:3 = delta.split [[M]] : tensor<?x128xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
  // CHECK: return [[S]]#0, [[S]]#1, [[S]]#2
  %q, %k, %v = delta.split %m : tensor<?x128xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
  return %q, %k, %v : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
}

// split with a single result and on a per-head (rank-3) tensor: the query | gate split of attention.
// CHECK-LABEL: func.func @split_single_and_per_head
func.func @split_single_and_per_head(%x: tensor<1x64xf32>, %qg: tensor<1x4x32xf32>) -> (tensor<1x64xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK: delta.split %{{.+}} : tensor<1x64xf32> -> tensor<1x64xf32>
  // CHECK: [[QG:%.+]]:2 = delta.split %{{.+}} : tensor<1x4x32xf32> -> tensor<1x4x16xf32>, tensor<1x4x16xf32>
  %0 = delta.split %x : tensor<1x64xf32> -> tensor<1x64xf32>
  %q, %g = delta.split %qg : tensor<1x4x32xf32> -> tensor<1x4x16xf32>, tensor<1x4x16xf32>
  return %0, %q, %g : tensor<1x64xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// concat of the MTP inputs, embedding first and hidden state second.
// CHECK-LABEL: func.func @concat_mtp
func.func @concat_mtp(%e: tensor<?x64xf32>, %h: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // CHECK-SAME: ([[E:%[^:]+]]: tensor<?x64xf32>, [[H:%[^:]+]]: tensor<?x64xf32>)
  // CHECK: [[C:%.+]] = delta.concat [[E]], [[H]] : tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x128xf32>
  // CHECK: return [[C]]
  %c = delta.concat %e, %h : tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x128xf32>
  return %c : tensor<?x128xf32>
}

// Real Qwen3.5-0.8B shapes: the 6144-wide conv output split into q | k | v, the heads reshaped, and the
// MTP concat of two 1024-wide states.
// CHECK-LABEL: func.func @plumbing_qwen35_0_8b
func.func @plumbing_qwen35_0_8b(%m: tensor<?x6144xf32>, %e: tensor<?x1024xf32>, %h: tensor<?x1024xf32>) -> (tensor<?x16x128xf32>, tensor<?x2048xf32>) {
  // CHECK: [[S:%.+]]:3 = delta.split %{{.+}} : tensor<?x6144xf32> -> tensor<?x2048xf32>, tensor<?x2048xf32>, tensor<?x2048xf32>
  // CHECK: delta.reshape [[S]]#0 : tensor<?x2048xf32> -> tensor<?x16x128xf32>
  // CHECK: delta.concat %{{.+}}, %{{.+}} : tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x2048xf32>
  %q, %k, %v = delta.split %m : tensor<?x6144xf32> -> tensor<?x2048xf32>, tensor<?x2048xf32>, tensor<?x2048xf32>
  %qh = delta.reshape %q : tensor<?x2048xf32> -> tensor<?x16x128xf32>
  %c = delta.concat %e, %h : tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x2048xf32>
  return %qh, %c : tensor<?x16x128xf32>, tensor<?x2048xf32>
}
