// A complete tiny Qwen3-Next-style model: a Gated DeltaNet layer and a gated-attention layer, each with a
// mixture-of-experts MLP (4 experts, top 2, normalized, sigmoid-gated shared expert), an untied LM head,
// plain partial RoPE, the decay stored as -exp(A_log) and value heads in the tiled (GGUF) order.
// Config: hidden 64, vocab 256; GDN nk = 2, nv = 4, dk = dv = 16; attention nh = 4, nkv = 2, hd = 32,
// rotary 8; expert size 32; KV cache of 64 tokens.
//
// RUN: delta-opt %s --delta-verify-model | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt --delta-verify-model | FileCheck %s

// CHECK-LABEL: func.func @prefill
// CHECK: delta.gdn_gates {{.*}} neg_exp
// CHECK: delta.gated_delta_rule {{.*}} tiled
// CHECK: delta.moe {{.*}} shared({{.*}}) gate({{.*}}) top_k(2) normalized
// CHECK: delta.rope {{.*}} rotary_dim(8) theta(1.000000e+07) :
// CHECK: delta.attention
// CHECK: delta.moe
// CHECK: delta.lm_head
// CHECK-LABEL: func.func @decode

module attributes {delta.architecture = "qwen3_next"} {
  // Weights: keys of the external weight store.
  delta.weight private @"model.embed_tokens.weight" : tensor<256x64xbf16>
  delta.weight private @"model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.layers.0.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
  delta.weight private @"model.layers.0.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
  delta.weight private @"model.layers.0.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
  delta.weight private @"model.layers.0.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
  delta.weight private @"model.layers.0.linear_attn.conv1d.weight" : tensor<128x4xbf16>
  delta.weight private @"model.layers.0.linear_attn.ssm_a" : tensor<4xf32>
  delta.weight private @"model.layers.0.linear_attn.dt_bias" : tensor<4xf32>
  delta.weight private @"model.layers.0.linear_attn.norm.weight" : tensor<16xf32>
  delta.weight private @"model.layers.0.linear_attn.out_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.layers.0.mlp.gate.weight" : tensor<4x64xbf16>
  delta.weight private @"model.layers.0.mlp.experts.gate_proj.weight" : tensor<4x32x64xbf16>
  delta.weight private @"model.layers.0.mlp.experts.up_proj.weight" : tensor<4x32x64xbf16>
  delta.weight private @"model.layers.0.mlp.experts.down_proj.weight" : tensor<4x64x32xbf16>
  delta.weight private @"model.layers.0.mlp.shared_expert.gate_proj.weight" : tensor<32x64xbf16>
  delta.weight private @"model.layers.0.mlp.shared_expert.up_proj.weight" : tensor<32x64xbf16>
  delta.weight private @"model.layers.0.mlp.shared_expert.down_proj.weight" : tensor<64x32xbf16>
  delta.weight private @"model.layers.0.mlp.shared_expert_gate.weight" : tensor<1x64xbf16>
  delta.weight private @"model.layers.1.input_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.layers.1.self_attn.q_proj.weight" : tensor<256x64xbf16>
  delta.weight private @"model.layers.1.self_attn.k_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.layers.1.self_attn.v_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.layers.1.self_attn.q_norm.weight" : tensor<32xbf16>
  delta.weight private @"model.layers.1.self_attn.k_norm.weight" : tensor<32xbf16>
  delta.weight private @"model.layers.1.self_attn.o_proj.weight" : tensor<64x128xbf16>
  delta.weight private @"model.layers.1.post_attention_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.layers.1.mlp.gate.weight" : tensor<4x64xbf16>
  delta.weight private @"model.layers.1.mlp.experts.gate_proj.weight" : tensor<4x32x64xbf16>
  delta.weight private @"model.layers.1.mlp.experts.up_proj.weight" : tensor<4x32x64xbf16>
  delta.weight private @"model.layers.1.mlp.experts.down_proj.weight" : tensor<4x64x32xbf16>
  delta.weight private @"model.layers.1.mlp.shared_expert.gate_proj.weight" : tensor<32x64xbf16>
  delta.weight private @"model.layers.1.mlp.shared_expert.up_proj.weight" : tensor<32x64xbf16>
  delta.weight private @"model.layers.1.mlp.shared_expert.down_proj.weight" : tensor<64x32xbf16>
  delta.weight private @"model.layers.1.mlp.shared_expert_gate.weight" : tensor<1x64xbf16>
  delta.weight private @"model.norm.weight" : tensor<64xbf16>
  delta.weight private @"lm_head.weight" : tensor<256x64xbf16>

  // Recurrent state carried between steps.
  delta.state @"layers.0.conv_state" : tensor<3x128xf32>
  delta.state @"layers.0.delta_state" : tensor<4x16x16xf32>
  delta.state @"layers.1.key_cache" : tensor<2x64x32xf32>
  delta.state @"layers.1.value_cache" : tensor<2x64x32xf32>

  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x256xf32> {
    %w1 = delta.weight_ref @"model.embed_tokens.weight" : tensor<256x64xbf16>
    %x2 = delta.embedding %w1[%tokens] : tensor<256x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
    // layer 0: Gated DeltaNet
    %w3 = delta.weight_ref @"model.layers.0.input_layernorm.weight" : tensor<64xbf16>
    %n4 = delta.rms_norm %x2, %w3 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w5 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p6 = delta.linear %n4, %w5 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w7 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p8 = delta.linear %n4, %w7 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %w9 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p10 = delta.linear %n4, %w9 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w11 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p12 = delta.linear %n4, %w11 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w13 = delta.weight_ref @"model.layers.0.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s14 = delta.state_read @"layers.0.conv_state" : tensor<3x128xf32>
    %conv15, %convstate16 = delta.causal_conv1d %p6, %w13, %s14 activation(silu) : tensor<?x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q17, %k18, %v19 = delta.split %conv15 : tensor<?x128xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
    %r20 = delta.reshape %q17 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r21 = delta.reshape %k18 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r22 = delta.reshape %v19 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %qn23 = delta.l2_norm %r20 eps(1.0e-06) : tensor<?x2x16xf32>
    %kn24 = delta.l2_norm %r21 eps(1.0e-06) : tensor<?x2x16xf32>
    %w25 = delta.weight_ref @"model.layers.0.linear_attn.ssm_a" : tensor<4xf32>
    %w26 = delta.weight_ref @"model.layers.0.linear_attn.dt_bias" : tensor<4xf32>
    %g27, %beta28 = delta.gdn_gates %p12, %p10, %w25, %w26 neg_exp : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %s29 = delta.state_read @"layers.0.delta_state" : tensor<4x16x16xf32>
    %o30, %state31 = delta.gated_delta_rule %qn23, %kn24, %r22, %g27, %beta28, %s29 tiled scale(2.500000e-01) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
    %r32 = delta.reshape %p8 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %w33 = delta.weight_ref @"model.layers.0.linear_attn.norm.weight" : tensor<16xf32>
    %y34 = delta.gated_rms_norm %o30, %r32, %w33 eps(1.0e-06) : tensor<?x4x16xf32>, tensor<16xf32>
    %r35 = delta.reshape %y34 : tensor<?x4x16xf32> -> tensor<?x64xf32>
    %w36 = delta.weight_ref @"model.layers.0.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p37 = delta.linear %r35, %w36 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    delta.state_write %convstate16, @"layers.0.conv_state" : tensor<3x128xf32>
    delta.state_write %state31, @"layers.0.delta_state" : tensor<4x16x16xf32>
    %h38 = delta.add %x2, %p37 : tensor<?x64xf32>
    %w39 = delta.weight_ref @"model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
    %n40 = delta.rms_norm %h38, %w39 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w41 = delta.weight_ref @"model.layers.0.mlp.gate.weight" : tensor<4x64xbf16>
    %w42 = delta.weight_ref @"model.layers.0.mlp.experts.gate_proj.weight" : tensor<4x32x64xbf16>
    %w43 = delta.weight_ref @"model.layers.0.mlp.experts.up_proj.weight" : tensor<4x32x64xbf16>
    %w44 = delta.weight_ref @"model.layers.0.mlp.experts.down_proj.weight" : tensor<4x64x32xbf16>
    %w45 = delta.weight_ref @"model.layers.0.mlp.shared_expert.gate_proj.weight" : tensor<32x64xbf16>
    %w46 = delta.weight_ref @"model.layers.0.mlp.shared_expert.up_proj.weight" : tensor<32x64xbf16>
    %w47 = delta.weight_ref @"model.layers.0.mlp.shared_expert.down_proj.weight" : tensor<64x32xbf16>
    %w48 = delta.weight_ref @"model.layers.0.mlp.shared_expert_gate.weight" : tensor<1x64xbf16>
    %moe49 = delta.moe %n40 router(%w41) experts(%w42, %w43, %w44) shared(%w45, %w46, %w47) gate(%w48) top_k(2) normalized : (tensor<?x64xf32>, tensor<4x64xbf16>, tensor<4x32x64xbf16>, tensor<4x32x64xbf16>, tensor<4x64x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<1x64xbf16>) -> tensor<?x64xf32>
    %x50 = delta.add %h38, %moe49 : tensor<?x64xf32>
    // layer 1: gated attention
    %w51 = delta.weight_ref @"model.layers.1.input_layernorm.weight" : tensor<64xbf16>
    %n52 = delta.rms_norm %x50, %w51 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w53 = delta.weight_ref @"model.layers.1.self_attn.q_proj.weight" : tensor<256x64xbf16>
    %p54 = delta.linear %n52, %w53 : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
    %r55 = delta.reshape %p54 : tensor<?x256xf32> -> tensor<?x4x64xf32>
    %q56, %gate57 = delta.split %r55 : tensor<?x4x64xf32> -> tensor<?x4x32xf32>, tensor<?x4x32xf32>
    %w58 = delta.weight_ref @"model.layers.1.self_attn.k_proj.weight" : tensor<64x64xbf16>
    %p59 = delta.linear %n52, %w58 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %r60 = delta.reshape %p59 : tensor<?x64xf32> -> tensor<?x2x32xf32>
    %w61 = delta.weight_ref @"model.layers.1.self_attn.v_proj.weight" : tensor<64x64xbf16>
    %p62 = delta.linear %n52, %w61 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %r63 = delta.reshape %p62 : tensor<?x64xf32> -> tensor<?x2x32xf32>
    %w64 = delta.weight_ref @"model.layers.1.self_attn.q_norm.weight" : tensor<32xbf16>
    %w65 = delta.weight_ref @"model.layers.1.self_attn.k_norm.weight" : tensor<32xbf16>
    %qn66 = delta.rms_norm %q56, %w64 one_plus eps(1.0e-06) : tensor<?x4x32xf32>, tensor<32xbf16>
    %kn67 = delta.rms_norm %r60, %w65 one_plus eps(1.0e-06) : tensor<?x2x32xf32>, tensor<32xbf16>
    %qr68 = delta.rope %qn66, %positions rotary_dim(8) theta(1.000000e+07) : tensor<?x4x32xf32>, tensor<?xi32>
    %kr69 = delta.rope %kn67, %positions rotary_dim(8) theta(1.000000e+07) : tensor<?x2x32xf32>, tensor<?xi32>
    %s70 = delta.state_read @"layers.1.key_cache" : tensor<2x64x32xf32>
    %s71 = delta.state_read @"layers.1.value_cache" : tensor<2x64x32xf32>
    %attn72, %kc73, %vc74 = delta.attention %qr68, %kr69, %r63 gate %gate57 : tensor<?x4x32xf32> cache(%s70, %s71) at %start scale(1.76776692E-1) : tensor<?x4x32xf32>, tensor<?x2x32xf32>, tensor<?x2x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<?x4x32xf32>
    %r75 = delta.reshape %attn72 : tensor<?x4x32xf32> -> tensor<?x128xf32>
    %w76 = delta.weight_ref @"model.layers.1.self_attn.o_proj.weight" : tensor<64x128xbf16>
    %p77 = delta.linear %r75, %w76 : tensor<?x128xf32>, tensor<64x128xbf16> -> tensor<?x64xf32>
    delta.state_write %kc73, @"layers.1.key_cache" : tensor<2x64x32xf32>
    delta.state_write %vc74, @"layers.1.value_cache" : tensor<2x64x32xf32>
    %h78 = delta.add %x50, %p77 : tensor<?x64xf32>
    %w79 = delta.weight_ref @"model.layers.1.post_attention_layernorm.weight" : tensor<64xbf16>
    %n80 = delta.rms_norm %h78, %w79 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w81 = delta.weight_ref @"model.layers.1.mlp.gate.weight" : tensor<4x64xbf16>
    %w82 = delta.weight_ref @"model.layers.1.mlp.experts.gate_proj.weight" : tensor<4x32x64xbf16>
    %w83 = delta.weight_ref @"model.layers.1.mlp.experts.up_proj.weight" : tensor<4x32x64xbf16>
    %w84 = delta.weight_ref @"model.layers.1.mlp.experts.down_proj.weight" : tensor<4x64x32xbf16>
    %w85 = delta.weight_ref @"model.layers.1.mlp.shared_expert.gate_proj.weight" : tensor<32x64xbf16>
    %w86 = delta.weight_ref @"model.layers.1.mlp.shared_expert.up_proj.weight" : tensor<32x64xbf16>
    %w87 = delta.weight_ref @"model.layers.1.mlp.shared_expert.down_proj.weight" : tensor<64x32xbf16>
    %w88 = delta.weight_ref @"model.layers.1.mlp.shared_expert_gate.weight" : tensor<1x64xbf16>
    %moe89 = delta.moe %n80 router(%w81) experts(%w82, %w83, %w84) shared(%w85, %w86, %w87) gate(%w88) top_k(2) normalized : (tensor<?x64xf32>, tensor<4x64xbf16>, tensor<4x32x64xbf16>, tensor<4x32x64xbf16>, tensor<4x64x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<1x64xbf16>) -> tensor<?x64xf32>
    %x90 = delta.add %h78, %moe89 : tensor<?x64xf32>
    %w91 = delta.weight_ref @"model.norm.weight" : tensor<64xbf16>
    %final92 = delta.rms_norm %x90, %w91 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w93 = delta.weight_ref @"lm_head.weight" : tensor<256x64xbf16>
    %logits94 = delta.lm_head %final92, %w93 : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
    return %logits94 : tensor<?x256xf32>
  }

  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x256xf32> {
    %w95 = delta.weight_ref @"model.embed_tokens.weight" : tensor<256x64xbf16>
    %x96 = delta.embedding %w95[%tokens] : tensor<256x64xbf16>, tensor<1xi32> -> tensor<1x64xf32>
    // layer 0: Gated DeltaNet
    %w97 = delta.weight_ref @"model.layers.0.input_layernorm.weight" : tensor<64xbf16>
    %n98 = delta.rms_norm %x96, %w97 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w99 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p100 = delta.linear %n98, %w99 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w101 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p102 = delta.linear %n98, %w101 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %w103 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p104 = delta.linear %n98, %w103 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w105 = delta.weight_ref @"model.layers.0.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p106 = delta.linear %n98, %w105 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w107 = delta.weight_ref @"model.layers.0.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s108 = delta.state_read @"layers.0.conv_state" : tensor<3x128xf32>
    %conv109, %convstate110 = delta.causal_conv1d %p100, %w107, %s108 activation(silu) : tensor<1x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q111, %k112, %v113 = delta.split %conv109 : tensor<1x128xf32> -> tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x64xf32>
    %r114 = delta.reshape %q111 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r115 = delta.reshape %k112 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r116 = delta.reshape %v113 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %qn117 = delta.l2_norm %r114 eps(1.0e-06) : tensor<1x2x16xf32>
    %kn118 = delta.l2_norm %r115 eps(1.0e-06) : tensor<1x2x16xf32>
    %w119 = delta.weight_ref @"model.layers.0.linear_attn.ssm_a" : tensor<4xf32>
    %w120 = delta.weight_ref @"model.layers.0.linear_attn.dt_bias" : tensor<4xf32>
    %g121, %beta122 = delta.gdn_gates %p106, %p104, %w119, %w120 neg_exp : tensor<1x4xf32>, tensor<4xf32> -> tensor<1x4xf32>
    %s123 = delta.state_read @"layers.0.delta_state" : tensor<4x16x16xf32>
    %o124, %state125 = delta.gated_delta_rule %qn117, %kn118, %r116, %g121, %beta122, %s123 tiled scale(2.500000e-01) : tensor<1x2x16xf32>, tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<4x16x16xf32>
    %r126 = delta.reshape %p102 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %w127 = delta.weight_ref @"model.layers.0.linear_attn.norm.weight" : tensor<16xf32>
    %y128 = delta.gated_rms_norm %o124, %r126, %w127 eps(1.0e-06) : tensor<1x4x16xf32>, tensor<16xf32>
    %r129 = delta.reshape %y128 : tensor<1x4x16xf32> -> tensor<1x64xf32>
    %w130 = delta.weight_ref @"model.layers.0.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p131 = delta.linear %r129, %w130 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    delta.state_write %convstate110, @"layers.0.conv_state" : tensor<3x128xf32>
    delta.state_write %state125, @"layers.0.delta_state" : tensor<4x16x16xf32>
    %h132 = delta.add %x96, %p131 : tensor<1x64xf32>
    %w133 = delta.weight_ref @"model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
    %n134 = delta.rms_norm %h132, %w133 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w135 = delta.weight_ref @"model.layers.0.mlp.gate.weight" : tensor<4x64xbf16>
    %w136 = delta.weight_ref @"model.layers.0.mlp.experts.gate_proj.weight" : tensor<4x32x64xbf16>
    %w137 = delta.weight_ref @"model.layers.0.mlp.experts.up_proj.weight" : tensor<4x32x64xbf16>
    %w138 = delta.weight_ref @"model.layers.0.mlp.experts.down_proj.weight" : tensor<4x64x32xbf16>
    %w139 = delta.weight_ref @"model.layers.0.mlp.shared_expert.gate_proj.weight" : tensor<32x64xbf16>
    %w140 = delta.weight_ref @"model.layers.0.mlp.shared_expert.up_proj.weight" : tensor<32x64xbf16>
    %w141 = delta.weight_ref @"model.layers.0.mlp.shared_expert.down_proj.weight" : tensor<64x32xbf16>
    %w142 = delta.weight_ref @"model.layers.0.mlp.shared_expert_gate.weight" : tensor<1x64xbf16>
    %moe143 = delta.moe %n134 router(%w135) experts(%w136, %w137, %w138) shared(%w139, %w140, %w141) gate(%w142) top_k(2) normalized : (tensor<1x64xf32>, tensor<4x64xbf16>, tensor<4x32x64xbf16>, tensor<4x32x64xbf16>, tensor<4x64x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<1x64xbf16>) -> tensor<1x64xf32>
    %x144 = delta.add %h132, %moe143 : tensor<1x64xf32>
    // layer 1: gated attention
    %w145 = delta.weight_ref @"model.layers.1.input_layernorm.weight" : tensor<64xbf16>
    %n146 = delta.rms_norm %x144, %w145 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w147 = delta.weight_ref @"model.layers.1.self_attn.q_proj.weight" : tensor<256x64xbf16>
    %p148 = delta.linear %n146, %w147 : tensor<1x64xf32>, tensor<256x64xbf16> -> tensor<1x256xf32>
    %r149 = delta.reshape %p148 : tensor<1x256xf32> -> tensor<1x4x64xf32>
    %q150, %gate151 = delta.split %r149 : tensor<1x4x64xf32> -> tensor<1x4x32xf32>, tensor<1x4x32xf32>
    %w152 = delta.weight_ref @"model.layers.1.self_attn.k_proj.weight" : tensor<64x64xbf16>
    %p153 = delta.linear %n146, %w152 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %r154 = delta.reshape %p153 : tensor<1x64xf32> -> tensor<1x2x32xf32>
    %w155 = delta.weight_ref @"model.layers.1.self_attn.v_proj.weight" : tensor<64x64xbf16>
    %p156 = delta.linear %n146, %w155 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %r157 = delta.reshape %p156 : tensor<1x64xf32> -> tensor<1x2x32xf32>
    %w158 = delta.weight_ref @"model.layers.1.self_attn.q_norm.weight" : tensor<32xbf16>
    %w159 = delta.weight_ref @"model.layers.1.self_attn.k_norm.weight" : tensor<32xbf16>
    %qn160 = delta.rms_norm %q150, %w158 one_plus eps(1.0e-06) : tensor<1x4x32xf32>, tensor<32xbf16>
    %kn161 = delta.rms_norm %r154, %w159 one_plus eps(1.0e-06) : tensor<1x2x32xf32>, tensor<32xbf16>
    %qr162 = delta.rope %qn160, %positions rotary_dim(8) theta(1.000000e+07) : tensor<1x4x32xf32>, tensor<1xi32>
    %kr163 = delta.rope %kn161, %positions rotary_dim(8) theta(1.000000e+07) : tensor<1x2x32xf32>, tensor<1xi32>
    %s164 = delta.state_read @"layers.1.key_cache" : tensor<2x64x32xf32>
    %s165 = delta.state_read @"layers.1.value_cache" : tensor<2x64x32xf32>
    %attn166, %kc167, %vc168 = delta.attention %qr162, %kr163, %r157 gate %gate151 : tensor<1x4x32xf32> cache(%s164, %s165) at %start scale(1.76776692E-1) : tensor<1x4x32xf32>, tensor<1x2x32xf32>, tensor<1x2x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<1x4x32xf32>
    %r169 = delta.reshape %attn166 : tensor<1x4x32xf32> -> tensor<1x128xf32>
    %w170 = delta.weight_ref @"model.layers.1.self_attn.o_proj.weight" : tensor<64x128xbf16>
    %p171 = delta.linear %r169, %w170 : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
    delta.state_write %kc167, @"layers.1.key_cache" : tensor<2x64x32xf32>
    delta.state_write %vc168, @"layers.1.value_cache" : tensor<2x64x32xf32>
    %h172 = delta.add %x144, %p171 : tensor<1x64xf32>
    %w173 = delta.weight_ref @"model.layers.1.post_attention_layernorm.weight" : tensor<64xbf16>
    %n174 = delta.rms_norm %h172, %w173 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w175 = delta.weight_ref @"model.layers.1.mlp.gate.weight" : tensor<4x64xbf16>
    %w176 = delta.weight_ref @"model.layers.1.mlp.experts.gate_proj.weight" : tensor<4x32x64xbf16>
    %w177 = delta.weight_ref @"model.layers.1.mlp.experts.up_proj.weight" : tensor<4x32x64xbf16>
    %w178 = delta.weight_ref @"model.layers.1.mlp.experts.down_proj.weight" : tensor<4x64x32xbf16>
    %w179 = delta.weight_ref @"model.layers.1.mlp.shared_expert.gate_proj.weight" : tensor<32x64xbf16>
    %w180 = delta.weight_ref @"model.layers.1.mlp.shared_expert.up_proj.weight" : tensor<32x64xbf16>
    %w181 = delta.weight_ref @"model.layers.1.mlp.shared_expert.down_proj.weight" : tensor<64x32xbf16>
    %w182 = delta.weight_ref @"model.layers.1.mlp.shared_expert_gate.weight" : tensor<1x64xbf16>
    %moe183 = delta.moe %n174 router(%w175) experts(%w176, %w177, %w178) shared(%w179, %w180, %w181) gate(%w182) top_k(2) normalized : (tensor<1x64xf32>, tensor<4x64xbf16>, tensor<4x32x64xbf16>, tensor<4x32x64xbf16>, tensor<4x64x32xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<64x32xbf16>, tensor<1x64xbf16>) -> tensor<1x64xf32>
    %x184 = delta.add %h172, %moe183 : tensor<1x64xf32>
    %w185 = delta.weight_ref @"model.norm.weight" : tensor<64xbf16>
    %final186 = delta.rms_norm %x184, %w185 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w187 = delta.weight_ref @"lm_head.weight" : tensor<256x64xbf16>
    %logits188 = delta.lm_head %final186, %w187 : tensor<1x64xf32>, tensor<256x64xbf16> -> tensor<1x256xf32>
    return %logits188 : tensor<1x256xf32>
  }
}

