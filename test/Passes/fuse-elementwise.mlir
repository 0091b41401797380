// RUN: delta-opt --split-input-file --delta-fuse-elementwise %s | FileCheck %s
// RUN: delta-opt --split-input-file --delta-fuse-elementwise='swiglu=false residual=false gdn-prologue=false' %s | FileCheck %s --check-prefix=OFF
// RUN: delta-opt --split-input-file --delta-fuse-elementwise='residual=false' %s | FileCheck %s --check-prefix=NORES

// The merged MLP gate/up projection (what delta-merge-linears produces): split into equal halves and
// fed to swiglu, it becomes one linear with the swiglu epilogue.
// CHECK-LABEL: func.func @swiglu_merged
// CHECK-SAME: ([[X:%[^:]+]]: tensor<?x16xf32>, [[W:%[^:]+]]: tensor<64x16xf32>)
// CHECK-NEXT: [[A:%.+]] = delta.linear [[X]], [[W]] swiglu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x32xf32>
// CHECK-NEXT: return [[A]]
// OFF-LABEL: func.func @swiglu_merged
// OFF: delta.split
// OFF: delta.swiglu
func.func @swiglu_merged(%x: tensor<?x16xf32>, %wgu: tensor<64x16xf32>) -> tensor<?x32xf32> {
  %gu = delta.linear %x, %wgu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
  %g, %u = delta.split %gu : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

// A quantized merged weight and one decode token: the epilogue keeps the weight type.
// CHECK-LABEL: func.func @swiglu_merged_quantized_decode
// CHECK-NEXT: delta.linear %{{.+}}, %{{.+}} swiglu : tensor<1x32xf32>, !delta.qweight<64x32, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x32xf32>
// CHECK-NOT: delta.swiglu
func.func @swiglu_merged_quantized_decode(%x: tensor<1x32xf32>, %wgu: !delta.qweight<64x32, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>) -> tensor<1x32xf32> {
  %gu = delta.linear %x, %wgu : tensor<1x32xf32>, !delta.qweight<64x32, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x64xf32>
  %g, %u = delta.split %gu : tensor<1x64xf32> -> tensor<1x32xf32>, tensor<1x32xf32>
  %a = delta.swiglu %g, %u : tensor<1x32xf32>
  return %a : tensor<1x32xf32>
}

// -----

// Not fused: the merged linear's result has another user, which would still need the whole product.
// CHECK-LABEL: func.func @swiglu_linear_other_use
// CHECK: [[GU:%.+]] = delta.linear %{{[^ ]+}}, %{{[^ ]+}} : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
// CHECK: delta.split [[GU]]
// CHECK: delta.swiglu
// CHECK: return %{{.+}}, [[GU]]
func.func @swiglu_linear_other_use(%x: tensor<?x16xf32>, %wgu: tensor<64x16xf32>) -> (tensor<?x32xf32>, tensor<?x64xf32>) {
  %gu = delta.linear %x, %wgu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
  %g, %u = delta.split %gu : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  return %a, %gu : tensor<?x32xf32>, tensor<?x64xf32>
}

// -----

// Not fused: a split half has another user.
// CHECK-LABEL: func.func @swiglu_half_other_use
// CHECK-NOT: swiglu :
// CHECK: delta.split
// CHECK: delta.swiglu
func.func @swiglu_half_other_use(%x: tensor<?x16xf32>, %wgu: tensor<64x16xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %gu = delta.linear %x, %wgu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
  %g, %u = delta.split %gu : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  return %a, %u : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// Not fused: the split is not into two equal halves (the epilogue reads rows n and N + n), here a
// three-way split whose first two parts feed swiglu.
// CHECK-LABEL: func.func @swiglu_unequal_split
// CHECK-NOT: swiglu :
// CHECK: delta.split
// CHECK: delta.swiglu
func.func @swiglu_unequal_split(%x: tensor<?x16xf32>, %w: tensor<72x16xf32>) -> (tensor<?x32xf32>, tensor<?x8xf32>) {
  %p = delta.linear %x, %w : tensor<?x16xf32>, tensor<72x16xf32> -> tensor<?x72xf32>
  %g, %u, %rest = delta.split %p : tensor<?x72xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x8xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  return %a, %rest : tensor<?x32xf32>, tensor<?x8xf32>
}

// -----

// Not fused: the gate is the second half ([up; gate] rows), the opposite of the epilogue's layout.
// CHECK-LABEL: func.func @swiglu_swapped_halves
// CHECK-NOT: swiglu :
// CHECK: [[U:%.+]]:2 = delta.split
// CHECK: delta.swiglu [[U]]#1, [[U]]#0
func.func @swiglu_swapped_halves(%x: tensor<?x16xf32>, %wug: tensor<64x16xf32>) -> tensor<?x32xf32> {
  %ug = delta.linear %x, %wug : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
  %u, %g = delta.split %ug : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

// Not fused: separate gate and up linears (the unmerged form); delta-merge-linears must run first.
// CHECK-LABEL: func.func @swiglu_unmerged
// CHECK-NOT: swiglu :
// CHECK: delta.swiglu
func.func @swiglu_unmerged(%x: tensor<?x16xf32>, %wg: tensor<32x16xf32>, %wu: tensor<32x16xf32>) -> tensor<?x32xf32> {
  %g = delta.linear %x, %wg : tensor<?x16xf32>, tensor<32x16xf32> -> tensor<?x32xf32>
  %u = delta.linear %x, %wu : tensor<?x16xf32>, tensor<32x16xf32> -> tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

// A residual add of a linear's result (the linear on the right, as the importer writes x + mixer(x))
// becomes the linear's residual operand.
// CHECK-LABEL: func.func @residual_rhs
// CHECK-SAME: ([[X:%[^:]+]]: tensor<?x32xf32>, [[W:%[^:]+]]: tensor<16x32xf32>, [[R:%[^:]+]]: tensor<?x16xf32>)
// CHECK-NEXT: [[H:%.+]] = delta.linear [[X]], [[W]] residual([[R]]) : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
// CHECK-NEXT: return [[H]]
// OFF-LABEL: func.func @residual_rhs
// OFF: delta.add
func.func @residual_rhs(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>, %r: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = delta.linear %x, %w : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %h = delta.add %r, %y : tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// The linear on the left of the add fuses the same way.
// CHECK-LABEL: func.func @residual_lhs
// CHECK-SAME: ([[X:%[^:]+]]: tensor<?x32xf32>, [[W:%[^:]+]]: tensor<16x32xf32>, [[R:%[^:]+]]: tensor<?x16xf32>)
// CHECK-NEXT: delta.linear [[X]], [[W]] residual([[R]])
// CHECK-NOT: delta.add
func.func @residual_lhs(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>, %r: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = delta.linear %x, %w : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %h = delta.add %y, %r : tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// The other operand of the add is defined after the linear, so it does not dominate the linear: the
// fused linear is placed at the add (where both are available), so this still fuses.
// CHECK-LABEL: func.func @residual_defined_after_linear
// CHECK-SAME: ([[X:%[^:]+]]: tensor<?x32xf32>, [[W:%[^:]+]]: tensor<16x32xf32>, [[W2:%[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT: [[R:%.+]] = delta.linear [[X]], [[W2]] : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
// CHECK-NEXT: [[H:%.+]] = delta.linear [[X]], [[W]] residual([[R]])
// CHECK-NEXT: return [[H]]
func.func @residual_defined_after_linear(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>, %w2: tensor<16x32xf32>) -> tensor<?x16xf32> {
  %y = delta.linear %x, %w : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %r = delta.linear %x, %w2 : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %h = delta.add %y, %r : tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// A decoder layer's MLP after delta-merge-linears: the merged gate/up gets the swiglu epilogue, the
// down projection the residual; with residual=false only the first happens.
// CHECK-LABEL: func.func @mlp_block
// CHECK-SAME: ([[H:%[^:]+]]: tensor<?x16xf32>, [[N:%[^:]+]]: tensor<?x16xf32>, [[WGU:%[^:]+]]: tensor<64x16xf32>, [[WD:%[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT: [[A:%.+]] = delta.linear [[N]], [[WGU]] swiglu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x32xf32>
// CHECK-NEXT: [[Y:%.+]] = delta.linear [[A]], [[WD]] residual([[H]]) : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
// CHECK-NEXT: return [[Y]]
// NORES-LABEL: func.func @mlp_block
// NORES: delta.linear %{{.+}}, %{{.+}} swiglu
// NORES: delta.add
func.func @mlp_block(%h: tensor<?x16xf32>, %n: tensor<?x16xf32>, %wgu: tensor<64x16xf32>, %wd: tensor<16x32xf32>) -> tensor<?x16xf32> {
  %gu = delta.linear %n, %wgu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
  %g, %u = delta.split %gu : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  %d = delta.linear %a, %wd : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %y = delta.add %h, %d : tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// swiglu and residual on one linear: r + silu(x Wg) * (x Wu).
// CHECK-LABEL: func.func @swiglu_then_residual
// CHECK-SAME: ([[X:%[^:]+]]: tensor<?x16xf32>, [[W:%[^:]+]]: tensor<64x16xf32>, [[R:%[^:]+]]: tensor<?x32xf32>)
// CHECK-NEXT: [[Y:%.+]] = delta.linear [[X]], [[W]] swiglu residual([[R]]) : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x32xf32>
// CHECK-NEXT: return [[Y]]
func.func @swiglu_then_residual(%x: tensor<?x16xf32>, %wgu: tensor<64x16xf32>, %r: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %gu = delta.linear %x, %wgu : tensor<?x16xf32>, tensor<64x16xf32> -> tensor<?x64xf32>
  %g, %u = delta.split %gu : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %a = delta.swiglu %g, %u : tensor<?x32xf32>
  %y = delta.add %r, %a : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Two residual layers in a row: the second add's left operand is the first fused linear, which
// already has a residual (and another user), so the second fuses with its right operand.
// CHECK-LABEL: func.func @residual_chain
// CHECK-SAME: ([[X:%[^:]+]]: tensor<?x16xf32>, [[W1:%[^:]+]]: tensor<16x16xf32>, [[W2:%[^:]+]]: tensor<16x16xf32>)
// CHECK-NEXT: [[H1:%.+]] = delta.linear [[X]], [[W1]] residual([[X]])
// CHECK-NEXT: [[H2:%.+]] = delta.linear [[H1]], [[W2]] residual([[H1]])
// CHECK-NEXT: return [[H2]]
func.func @residual_chain(%x: tensor<?x16xf32>, %w1: tensor<16x16xf32>, %w2: tensor<16x16xf32>) -> tensor<?x16xf32> {
  %y1 = delta.linear %x, %w1 : tensor<?x16xf32>, tensor<16x16xf32> -> tensor<?x16xf32>
  %h1 = delta.add %x, %y1 : tensor<?x16xf32>
  %y2 = delta.linear %h1, %w2 : tensor<?x16xf32>, tensor<16x16xf32> -> tensor<?x16xf32>
  %h2 = delta.add %h1, %y2 : tensor<?x16xf32>
  return %h2 : tensor<?x16xf32>
}

// -----

// Not fused: the linear's result is also returned, so its value without the residual is needed.
// CHECK-LABEL: func.func @residual_linear_other_use
// CHECK-NOT: residual(
// CHECK: delta.add
func.func @residual_linear_other_use(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>, %r: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %y = delta.linear %x, %w : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %h = delta.add %r, %y : tensor<?x16xf32>
  return %h, %y : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// Not fused: the linear already has a residual; a second one has no place in the epilogue.
// CHECK-LABEL: func.func @residual_already_fused
// CHECK: delta.linear %{{.+}}, %{{.+}} residual(%{{.+}})
// CHECK-NEXT: delta.add
func.func @residual_already_fused(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>, %r1: tensor<?x16xf32>, %r2: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = delta.linear %x, %w residual(%r1) : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %h = delta.add %r2, %y : tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// Not fused: the add sits inside a region (computed per element of the tensor.generate), the linear
// outside; fusing would move the matmul into the region.
// CHECK-LABEL: func.func @residual_across_regions
// CHECK: delta.linear %{{[^ ]+}}, %{{[^ ]+}} : tensor<2x32xf32>
// CHECK: tensor.generate
// CHECK: delta.add
func.func @residual_across_regions(%x: tensor<2x32xf32>, %w: tensor<16x32xf32>, %r: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %y = delta.linear %x, %w : tensor<2x32xf32>, tensor<16x32xf32> -> tensor<2x16xf32>
  %t = tensor.generate {
  ^bb0(%i: index, %j: index):
    %h = delta.add %r, %y : tensor<2x16xf32>
    %e = tensor.extract %h[%i, %j] : tensor<2x16xf32>
    tensor.yield %e : f32
  } : tensor<2x16xf32>
  return %t : tensor<2x16xf32>
}

// -----

// The Gated DeltaNet chain exactly as the importer emits it (nk = 2, nv = 4, dk = dv = 8, grouped,
// A_log), with the states read and written back: one delta.gated_delta_net, whose new conv state is
// what the conv's was. With gdn-prologue off the chain stays.
delta.state @conv : tensor<3x64xf32>
delta.state @delta : tensor<4x8x8xf32>
// CHECK-LABEL: func.func @gdn_chain
// CHECK-SAME: ([[QKV:%[^:]+]]: tensor<?x64xf32>, [[A:%[^:]+]]: tensor<?x4xf32>, [[B:%[^:]+]]: tensor<?x4xf32>, [[W:%[^:]+]]: tensor<64x4xf32>, [[AL:%[^:]+]]: tensor<4xf32>, [[DT:%[^:]+]]: tensor<4xf32>)
// CHECK-NEXT: [[CS:%.+]] = delta.state_read @conv
// CHECK-NEXT: [[S:%.+]] = delta.state_read @delta
// CHECK-NEXT: [[O:%[^,]+]], [[CS1:%[^,]+]], [[S1:%[^ ]+]] = delta.gated_delta_net [[QKV]], [[A]], [[B]] conv([[W]], [[CS]]) gates([[AL]], [[DT]]) a_log state([[S]]) grouped scale(0.353553385) l2_eps(9.99999997E-7) : tensor<?x64xf32>, tensor<?x4xf32>, tensor<64x4xf32>, tensor<3x64xf32>, tensor<4xf32>, tensor<4x8x8xf32> -> tensor<?x4x8xf32>
// CHECK-NEXT: delta.state_write [[CS1]], @conv
// CHECK-NEXT: delta.state_write [[S1]], @delta
// CHECK-NEXT: return [[O]]
// OFF-LABEL: func.func @gdn_chain
// OFF: delta.causal_conv1d
// OFF: delta.gated_delta_rule
func.func @gdn_chain(%qkv: tensor<?x64xf32>, %a: tensor<?x4xf32>, %b: tensor<?x4xf32>, %w: tensor<64x4xf32>, %alog: tensor<4xf32>, %dt: tensor<4xf32>) -> tensor<?x4x8xf32> {
  %cs = delta.state_read @conv : tensor<3x64xf32>
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %a, %b, %alog, %dt a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %s = delta.state_read @delta : tensor<4x8x8xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  delta.state_write %cs1, @conv : tensor<3x64xf32>
  delta.state_write %s1, @delta : tensor<4x8x8xf32>
  return %o : tensor<?x4x8xf32>
}

// -----

// After delta-merge-linears the mixed projection, z, b and a are parts of one split; the fused op
// takes its inputs from there (GGUF form: neg_exp decay, tiled heads, one decode token).
// CHECK-LABEL: func.func @gdn_inputs_from_merged_projection
// CHECK: [[P:%.+]]:4 = delta.split
// CHECK-NEXT: delta.gated_delta_net [[P]]#0, [[P]]#3, [[P]]#2 conv(%{{.+}}, %{{.+}}) gates(%{{.+}}, %{{.+}}) neg_exp state(%{{.+}}) tiled scale(0.353553385) l2_eps(9.99999997E-7)
// CHECK-NOT: delta.causal_conv1d
// CHECK-NOT: delta.gated_delta_rule
func.func @gdn_inputs_from_merged_projection(%x: tensor<1x16xf32>, %wm: tensor<104x16xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>,
                                             %ssm_a: tensor<4xf32>, %dt: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<1x4x8xf32>, tensor<1x32xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %p = delta.linear %x, %wm : tensor<1x16xf32>, tensor<104x16xf32> -> tensor<1x104xf32>
  %qkv, %z, %b, %a = delta.split %p : tensor<1x104xf32> -> tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x4xf32>, tensor<1x4xf32>
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<1x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<1x64xf32> -> tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x32xf32>
  %qh = delta.reshape %q : tensor<1x16xf32> -> tensor<1x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<1x2x8xf32>
  %kh = delta.reshape %k : tensor<1x16xf32> -> tensor<1x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<1x2x8xf32>
  %vh = delta.reshape %v : tensor<1x32xf32> -> tensor<1x4x8xf32>
  %g, %beta = delta.gdn_gates %a, %b, %ssm_a, %dt neg_exp : tensor<1x4xf32>, tensor<4xf32> -> tensor<1x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s tiled scale(0.353553385) : tensor<1x2x8xf32>, tensor<1x4x8xf32>, tensor<1x4xf32>, tensor<4x8x8xf32>
  return %o, %z, %cs1, %s1 : tensor<1x4x8xf32>, tensor<1x32xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: the conv output is used elsewhere too, so it must still be materialized.
// CHECK-LABEL: func.func @gdn_conv_output_other_use
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.causal_conv1d
// CHECK: delta.gated_delta_rule
func.func @gdn_conv_output_other_use(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<?x64xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %m, %cs1, %s1 : tensor<?x4x8xf32>, tensor<?x64xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: a conv without SiLU is not the Gated DeltaNet prologue.
// CHECK-LABEL: func.func @gdn_conv_without_silu
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.causal_conv1d {{.*}} activation(none)
func.func @gdn_conv_without_silu(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(none) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %cs1, %s1 : tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: the L2 norms act on the flat [T, nk * dk] projection (one norm over all heads), not per
// head over dk as the fused op defines.
// CHECK-LABEL: func.func @gdn_l2_norm_over_all_heads
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.l2_norm {{.*}} : tensor<?x16xf32>
func.func @gdn_l2_norm_over_all_heads(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qn = delta.l2_norm %q eps(1.0e-6) : tensor<?x16xf32>
  %qh = delta.reshape %qn : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %k eps(1.0e-6) : tensor<?x16xf32>
  %kh = delta.reshape %kn : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qh, %kh, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %cs1, %s1 : tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: q and k are normalized with different epsilons; the fused op has one.
// CHECK-LABEL: func.func @gdn_different_l2_eps
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.gated_delta_rule
func.func @gdn_different_l2_eps(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-5) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %cs1, %s1 : tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: q and k come from swapped split parts (k first), so the channels are not q | k | v.
// CHECK-LABEL: func.func @gdn_swapped_q_k
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.gated_delta_rule
func.func @gdn_swapped_q_k(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %k, %q, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %cs1, %s1 : tensor<?x4x8xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: the new conv state is written back before the delta rule; the fused op, placed at the
// delta rule, would not dominate that write.
delta.state @conv : tensor<3x64xf32>
// CHECK-LABEL: func.func @gdn_conv_state_used_before_rule
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.state_write
// CHECK: delta.gated_delta_rule
func.func @gdn_conv_state_used_before_rule(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<4x8x8xf32>) {
  %cs = delta.state_read @conv : tensor<3x64xf32>
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  delta.state_write %cs1, @conv : tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %s1 : tensor<?x4x8xf32>, tensor<4x8x8xf32>
}

// -----

// Not fused: g is also used elsewhere, and the fused op computes the gates internally.
// CHECK-LABEL: func.func @gdn_gates_other_use
// CHECK-NOT: delta.gated_delta_net
// CHECK: delta.gdn_gates
// CHECK: delta.gated_delta_rule
func.func @gdn_gates_other_use(%qkv: tensor<?x64xf32>, %ab: tensor<?x4xf32>, %w: tensor<64x4xf32>, %cs: tensor<3x64xf32>, %d: tensor<4xf32>, %s: tensor<4x8x8xf32>)
    -> (tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>) {
  %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  %q, %k, %v = delta.split %m : tensor<?x64xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
  %qh = delta.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qn = delta.l2_norm %qh eps(1.0e-6) : tensor<?x2x8xf32>
  %kh = delta.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kn = delta.l2_norm %kh eps(1.0e-6) : tensor<?x2x8xf32>
  %vh = delta.reshape %v : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %g, %beta = delta.gdn_gates %ab, %ab, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s grouped scale(0.353553385) : tensor<?x2x8xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x8xf32>
  return %o, %g, %cs1, %s1 : tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<3x64xf32>, tensor<4x8x8xf32>
}
