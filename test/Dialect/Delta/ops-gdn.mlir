// RUN: delta-opt %s | FileCheck %s
// RUN: delta-opt %s | delta-opt | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt | FileCheck %s

// causal_conv1d with SiLU over a dynamic number of tokens, f32 state and bf16 weight.
// CHECK-LABEL: func.func @causal_conv1d_silu
func.func @causal_conv1d_silu(%m: tensor<?x128xf32>, %w: tensor<128x4xbf16>, %s: tensor<3x128xf32>) -> (tensor<?x128xf32>, tensor<3x128xf32>) {
  // CHECK-SAME: ([[M:%.+]]: tensor<?x128xf32>, [[W:%.+]]: tensor<128x4xbf16>, [[S:%.+]]: tensor<3x128xf32>)
  // CHECK: [[Y:%.+]], [[S1:%.+]] = delta.causal_conv1d [[M]], [[W]], [[S]] activation(silu) : tensor<?x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
  // CHECK: return [[Y]], [[S1]]
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
  return %y, %s1 : tensor<?x128xf32>, tensor<3x128xf32>
}

// causal_conv1d without activation for one decode token, kernel size 2, bf16 activations and state.
// CHECK-LABEL: func.func @causal_conv1d_none_decode
func.func @causal_conv1d_none_decode(%m: tensor<1x128xbf16>, %w: tensor<128x2xf32>, %s: tensor<1x128xbf16>) -> (tensor<1x128xbf16>, tensor<1x128xbf16>) {
  // CHECK: delta.causal_conv1d %{{.+}}, %{{.+}}, %{{.+}} activation(none) : tensor<1x128xbf16>, tensor<128x2xf32>, tensor<1x128xbf16>
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(none) : tensor<1x128xbf16>, tensor<128x2xf32>, tensor<1x128xbf16>
  return %y, %s1 : tensor<1x128xbf16>, tensor<1x128xbf16>
}

// gdn_gates with the Hugging Face A_log decay form.
// CHECK-LABEL: func.func @gdn_gates_a_log
func.func @gdn_gates_a_log(%a: tensor<?x4xf32>, %b: tensor<?x4xf32>, %alog: tensor<4xf32>, %dt: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  // CHECK-SAME: ([[A:%[^:]+]]: tensor<?x4xf32>, [[B:%[^:]+]]: tensor<?x4xf32>, [[D:%[^:]+]]: tensor<4xf32>, [[DT:%[^:]+]]: tensor<4xf32>)
  // CHECK: [[G:%.+]], [[BETA:%.+]] = delta.gdn_gates [[A]], [[B]], [[D]], [[DT]] a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  // CHECK: return [[G]], [[BETA]]
  %g, %beta = delta.gdn_gates %a, %b, %alog, %dt a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  return %g, %beta : tensor<?x4xf32>, tensor<?x4xf32>
}

// gdn_gates with the GGUF neg_exp decay form, bf16 inputs and decay, one decode token.
// CHECK-LABEL: func.func @gdn_gates_neg_exp
func.func @gdn_gates_neg_exp(%a: tensor<1x4xbf16>, %b: tensor<1x4xbf16>, %d: tensor<4xbf16>, %dt: tensor<4xbf16>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  // CHECK: delta.gdn_gates %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} neg_exp : tensor<1x4xbf16>, tensor<4xbf16> -> tensor<1x4xf32>
  %g, %beta = delta.gdn_gates %a, %b, %d, %dt neg_exp : tensor<1x4xbf16>, tensor<4xbf16> -> tensor<1x4xf32>
  return %g, %beta : tensor<1x4xf32>, tensor<1x4xf32>
}

// gated_delta_rule with grouped head mapping (nk = 2, nv = 4) over a dynamic number of tokens.
// CHECK-LABEL: func.func @gated_delta_rule_grouped
func.func @gated_delta_rule_grouped(%q: tensor<?x2x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>,
                                    %g: tensor<?x4xf32>, %beta: tensor<?x4xf32>, %s: tensor<4x16x16xf32>)
    -> (tensor<?x4x16xf32>, tensor<4x16x16xf32>) {
  // CHECK-SAME: ([[Q:%[^:]+]]: tensor<?x2x16xf32>, [[K:%[^:]+]]: tensor<?x2x16xf32>, [[V:%[^:]+]]: tensor<?x4x16xf32>,
  // CHECK-SAME: [[G:%[^:]+]]: tensor<?x4xf32>, [[BETA:%[^:]+]]: tensor<?x4xf32>, [[S:%[^:]+]]: tensor<4x16x16xf32>)
  // CHECK: [[O:%.+]], [[S1:%.+]] = delta.gated_delta_rule [[Q]], [[K]], [[V]], [[G]], [[BETA]], [[S]] grouped scale(2.500000e-01) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  // CHECK: return [[O]], [[S1]]
  %o, %s1 = delta.gated_delta_rule %q, %k, %v, %g, %beta, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return %o, %s1 : tensor<?x4x16xf32>, tensor<4x16x16xf32>
}

// gated_delta_rule with tiled head mapping (GGUF order) for one decode token, bf16 activations.
// CHECK-LABEL: func.func @gated_delta_rule_tiled_decode
func.func @gated_delta_rule_tiled_decode(%q: tensor<1x2x16xbf16>, %v: tensor<1x4x16xbf16>, %g: tensor<1x4xf32>, %s: tensor<4x16x16xf32>)
    -> (tensor<1x4x16xbf16>, tensor<4x16x16xf32>) {
  // CHECK: delta.gated_delta_rule %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} tiled scale(2.500000e-01) : tensor<1x2x16xbf16>, tensor<1x4x16xbf16>, tensor<1x4xf32>, tensor<4x16x16xf32>
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s tiled scale(0.25) : tensor<1x2x16xbf16>, tensor<1x4x16xbf16>, tensor<1x4xf32>, tensor<4x16x16xf32>
  return %o, %s1 : tensor<1x4x16xbf16>, tensor<4x16x16xf32>
}

// Real Qwen3.5-0.8B GDN mixer: conv over conv_dim 6144 with kernel 4, gates for nv = 16, and the delta rule
// with nk = nv = 16, dk = dv = 128 and scale 1/sqrt(128).
// CHECK-LABEL: func.func @gdn_qwen35_0_8b
func.func @gdn_qwen35_0_8b(%m: tensor<?x6144xf32>, %w: tensor<6144x4xbf16>, %cs: tensor<3x6144xf32>,
                           %a: tensor<?x16xf32>, %b: tensor<?x16xf32>, %alog: tensor<16xf32>, %dt: tensor<16xf32>,
                           %q: tensor<?x16x128xf32>, %k: tensor<?x16x128xf32>, %v: tensor<?x16x128xf32>, %s: tensor<16x128x128xf32>)
    -> (tensor<?x6144xf32>, tensor<3x6144xf32>, tensor<?x16x128xf32>, tensor<16x128x128xf32>) {
  // CHECK: delta.causal_conv1d %{{.+}}, %{{.+}}, %{{.+}} activation(silu) : tensor<?x6144xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>
  // CHECK: [[G:%.+]], [[BETA:%.+]] = delta.gdn_gates %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} a_log : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  // CHECK: delta.gated_delta_rule %{{.+}}, %{{.+}}, %{{.+}}, [[G]], [[BETA]], %{{.+}} grouped scale(0.0883883461) : tensor<?x16x128xf32>, tensor<?x16x128xf32>, tensor<?x16xf32>, tensor<16x128x128xf32>
  %y, %cs1 = delta.causal_conv1d %m, %w, %cs activation(silu) : tensor<?x6144xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>
  %g, %beta = delta.gdn_gates %a, %b, %alog, %dt a_log : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  %o, %s1 = delta.gated_delta_rule %q, %k, %v, %g, %beta, %s grouped scale(0.0883883461) : tensor<?x16x128xf32>, tensor<?x16x128xf32>, tensor<?x16xf32>, tensor<16x128x128xf32>
  return %y, %cs1, %o, %s1 : tensor<?x6144xf32>, tensor<3x6144xf32>, tensor<?x16x128xf32>, tensor<16x128x128xf32>
}

// Real Qwen3.5-4B/9B delta rule for one decode token: nk = 16 key heads read by nv = 32 value heads (tiled).
// CHECK-LABEL: func.func @gated_delta_rule_qwen35_9b_decode
func.func @gated_delta_rule_qwen35_9b_decode(%q: tensor<1x16x128xf32>, %v: tensor<1x32x128xf32>, %g: tensor<1x32xf32>, %s: tensor<32x128x128xf32>)
    -> (tensor<1x32x128xf32>, tensor<32x128x128xf32>) {
  // CHECK: delta.gated_delta_rule %{{.+}} tiled scale(0.0883883461) : tensor<1x16x128xf32>, tensor<1x32x128xf32>, tensor<1x32xf32>, tensor<32x128x128xf32>
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s tiled scale(0.0883883461) : tensor<1x16x128xf32>, tensor<1x32x128xf32>, tensor<1x32xf32>, tensor<32x128x128xf32>
  return %o, %s1 : tensor<1x32x128xf32>, tensor<32x128x128xf32>
}

// gated_delta_net, the fused GDN core: nk = 2 key heads (C = 2*2*16 + 4*16 = 128), nv = 4 value heads
// (grouped), A_log decay, over a dynamic number of tokens.
// CHECK-LABEL: func.func @gated_delta_net_grouped
func.func @gated_delta_net_grouped(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %b: tensor<?x4xf32>, %w: tensor<128x4xf32>,
                                   %cs: tensor<3x128xf32>, %alog: tensor<4xf32>, %dt: tensor<4xf32>, %s: tensor<4x16x16xf32>)
    -> (tensor<?x4x16xf32>, tensor<3x128xf32>, tensor<4x16x16xf32>) {
  // CHECK-SAME: ([[QKV:%[^:]+]]: tensor<?x128xf32>, [[A:%[^:]+]]: tensor<?x4xf32>, [[B:%[^:]+]]: tensor<?x4xf32>, [[W:%[^:]+]]: tensor<128x4xf32>,
  // CHECK-SAME: [[CS:%[^:]+]]: tensor<3x128xf32>, [[AL:%[^:]+]]: tensor<4xf32>, [[DT:%[^:]+]]: tensor<4xf32>, [[S:%[^:]+]]: tensor<4x16x16xf32>)
  // CHECK: [[O:%[^,]+]], [[CS1:%[^,]+]], [[S1:%[^ ]+]] = delta.gated_delta_net [[QKV]], [[A]], [[B]] conv([[W]], [[CS]]) gates([[AL]], [[DT]]) a_log state([[S]]) grouped scale(2.500000e-01) l2_eps(9.99999997E-7) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  // CHECK: return [[O]], [[CS1]], [[S1]]
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%w, %cs) gates(%alog, %dt) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6)
      : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return %o, %cs1, %s1 : tensor<?x4x16xf32>, tensor<3x128xf32>, tensor<4x16x16xf32>
}

// gated_delta_net for one decode token in GGUF form: neg_exp decay, tiled heads, bf16 conv weight.
// CHECK-LABEL: func.func @gated_delta_net_tiled_decode
func.func @gated_delta_net_tiled_decode(%qkv: tensor<1x128xf32>, %ab: tensor<1x4xf32>, %w: tensor<128x4xbf16>,
                                        %cs: tensor<3x128xf32>, %a: tensor<4xf32>, %s: tensor<4x16x16xf32>)
    -> (tensor<1x4x16xf32>, tensor<3x128xf32>, tensor<4x16x16xf32>) {
  // CHECK: delta.gated_delta_net %{{.+}}, %{{.+}}, %{{.+}} conv(%{{.+}}, %{{.+}}) gates(%{{.+}}, %{{.+}}) neg_exp state(%{{.+}}) tiled scale(2.500000e-01) l2_eps(9.99999997E-7) : tensor<1x128xf32>, tensor<1x4xf32>, tensor<128x4xbf16>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<1x4x16xf32>
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %ab, %ab conv(%w, %cs) gates(%a, %a) neg_exp state(%s) tiled scale(0.25) l2_eps(1.0e-6)
      : tensor<1x128xf32>, tensor<1x4xf32>, tensor<128x4xbf16>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<1x4x16xf32>
  return %o, %cs1, %s1 : tensor<1x4x16xf32>, tensor<3x128xf32>, tensor<4x16x16xf32>
}

// Real Qwen3.5-0.8B GDN core fused: conv_dim 6144 = 2*16*128 + 16*128, kernel 4, nk = nv = 16.
// CHECK-LABEL: func.func @gated_delta_net_qwen35_0_8b
func.func @gated_delta_net_qwen35_0_8b(%qkv: tensor<?x6144xf32>, %a: tensor<?x16xf32>, %b: tensor<?x16xf32>, %w: tensor<6144x4xbf16>,
                                       %cs: tensor<3x6144xf32>, %alog: tensor<16xf32>, %dt: tensor<16xf32>, %s: tensor<16x128x128xf32>)
    -> (tensor<?x16x128xf32>, tensor<3x6144xf32>, tensor<16x128x128xf32>) {
  // CHECK: delta.gated_delta_net {{.*}} grouped scale(0.0883883461) l2_eps(9.99999997E-7) : tensor<?x6144xf32>, tensor<?x16xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>, tensor<16xf32>, tensor<16x128x128xf32> -> tensor<?x16x128xf32>
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%w, %cs) gates(%alog, %dt) a_log state(%s) grouped scale(0.0883883461) l2_eps(1.0e-6)
      : tensor<?x6144xf32>, tensor<?x16xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>, tensor<16xf32>, tensor<16x128x128xf32> -> tensor<?x16x128xf32>
  return %o, %cs1, %s1 : tensor<?x16x128xf32>, tensor<3x6144xf32>, tensor<16x128x128xf32>
}

// An f16 delta-rule state (deltac compile --recurrent-state-type=f16) on both ops: storage only, the
// ops compute in f32 and round the new state once.
// CHECK-LABEL: func.func @f16_state
func.func @f16_state(%qkv: tensor<1x6144xf32>, %a: tensor<1x16xf32>, %w: tensor<6144x4xbf16>, %cs: tensor<3x6144xf32>,
                     %alog: tensor<16xf32>, %q: tensor<1x16x128xf32>, %s: tensor<16x128x128xf16>)
    -> (tensor<16x128x128xf16>, tensor<16x128x128xf16>) {
  // CHECK: delta.gated_delta_net {{.*}} : tensor<1x6144xf32>, tensor<1x16xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>, tensor<16xf32>, tensor<16x128x128xf16> -> tensor<1x16x128xf32>
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%alog, %alog) a_log state(%s) grouped scale(0.0883883461) l2_eps(1.0e-6)
      : tensor<1x6144xf32>, tensor<1x16xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>, tensor<16xf32>, tensor<16x128x128xf16> -> tensor<1x16x128xf32>
  // CHECK: delta.gated_delta_rule {{.*}} : tensor<1x16x128xf32>, tensor<1x16x128xf32>, tensor<1x16xf32>, tensor<16x128x128xf16>
  %o2, %s2 = delta.gated_delta_rule %q, %q, %q, %a, %a, %s1 grouped scale(0.0883883461) : tensor<1x16x128xf32>, tensor<1x16x128xf32>, tensor<1x16xf32>, tensor<16x128x128xf16>
  return %s1, %s2 : tensor<16x128x128xf16>, tensor<16x128x128xf16>
}
