// A complete tiny Qwen3.5 text model (all layer kinds: three Gated DeltaNet layers, one gated-attention
// layer, dense SwiGLU MLPs, tied LM head) with both entry points, prefill (dynamic token count) and decode
// (one token). Config: hidden 64, vocab 256, MLP 128; GDN nk = 2, nv = 4 (r = 2, grouped as in Hugging
// Face), dk = dv = 16, conv kernel 4; attention nh = 4, nkv = 2, hd = 32, rotary 8 with M-RoPE sections
// [2, 1, 1]; KV cache of 64 tokens. Weight symbols use the Hugging Face tensor names.
//
// It must parse, verify, survive the generic-form round trip, and thread every state correctly.
// RUN: delta-opt %s --delta-verify-model | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt --delta-verify-model | FileCheck %s

// CHECK: delta.state @layers.0.conv_state : tensor<3x128xf32>
// CHECK: delta.state @layers.0.delta_state : tensor<4x16x16xf32>
// CHECK: delta.state @layers.3.key_cache : tensor<2x64x32xf32>

// CHECK-LABEL: func.func @prefill
// CHECK-SAME: (%{{.*}}: tensor<?xi32>, %{{.*}}: tensor<?xi32>, %{{.*}}: index) -> tensor<?x256xf32>
// CHECK: delta.embedding
// CHECK-COUNT-3: delta.gated_delta_rule {{.*}} grouped
// CHECK: delta.attention {{.*}} gate
// CHECK: delta.lm_head
// CHECK-LABEL: func.func @decode
// CHECK-SAME: -> tensor<1x256xf32>
// CHECK-COUNT-3: delta.gated_delta_rule
// CHECK: delta.attention

module attributes {delta.architecture = "qwen3_5_text"} {
  // Weights: keys of the external weight store.
  delta.weight private @"model.language_model.embed_tokens.weight" : tensor<256x64xbf16>
  delta.weight private @"model.language_model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.0.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.0.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.0.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
  delta.weight private @"model.language_model.layers.0.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
  delta.weight private @"model.language_model.layers.0.linear_attn.conv1d.weight" : tensor<128x4xbf16>
  delta.weight private @"model.language_model.layers.0.linear_attn.A_log" : tensor<4xf32>
  delta.weight private @"model.language_model.layers.0.linear_attn.dt_bias" : tensor<4xf32>
  delta.weight private @"model.language_model.layers.0.linear_attn.norm.weight" : tensor<16xf32>
  delta.weight private @"model.language_model.layers.0.linear_attn.out_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.0.mlp.gate_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.0.mlp.down_proj.weight" : tensor<64x128xbf16>
  delta.weight private @"model.language_model.layers.1.input_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.1.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.1.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.1.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
  delta.weight private @"model.language_model.layers.1.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
  delta.weight private @"model.language_model.layers.1.linear_attn.conv1d.weight" : tensor<128x4xbf16>
  delta.weight private @"model.language_model.layers.1.linear_attn.A_log" : tensor<4xf32>
  delta.weight private @"model.language_model.layers.1.linear_attn.dt_bias" : tensor<4xf32>
  delta.weight private @"model.language_model.layers.1.linear_attn.norm.weight" : tensor<16xf32>
  delta.weight private @"model.language_model.layers.1.linear_attn.out_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.1.post_attention_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.1.mlp.gate_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.1.mlp.up_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.1.mlp.down_proj.weight" : tensor<64x128xbf16>
  delta.weight private @"model.language_model.layers.2.input_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.2.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.2.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.2.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
  delta.weight private @"model.language_model.layers.2.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
  delta.weight private @"model.language_model.layers.2.linear_attn.conv1d.weight" : tensor<128x4xbf16>
  delta.weight private @"model.language_model.layers.2.linear_attn.A_log" : tensor<4xf32>
  delta.weight private @"model.language_model.layers.2.linear_attn.dt_bias" : tensor<4xf32>
  delta.weight private @"model.language_model.layers.2.linear_attn.norm.weight" : tensor<16xf32>
  delta.weight private @"model.language_model.layers.2.linear_attn.out_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.2.post_attention_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.2.mlp.gate_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.2.mlp.up_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.2.mlp.down_proj.weight" : tensor<64x128xbf16>
  delta.weight private @"model.language_model.layers.3.input_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.3.self_attn.q_proj.weight" : tensor<256x64xbf16>
  delta.weight private @"model.language_model.layers.3.self_attn.k_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.3.self_attn.v_proj.weight" : tensor<64x64xbf16>
  delta.weight private @"model.language_model.layers.3.self_attn.q_norm.weight" : tensor<32xbf16>
  delta.weight private @"model.language_model.layers.3.self_attn.k_norm.weight" : tensor<32xbf16>
  delta.weight private @"model.language_model.layers.3.self_attn.o_proj.weight" : tensor<64x128xbf16>
  delta.weight private @"model.language_model.layers.3.post_attention_layernorm.weight" : tensor<64xbf16>
  delta.weight private @"model.language_model.layers.3.mlp.gate_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.3.mlp.up_proj.weight" : tensor<128x64xbf16>
  delta.weight private @"model.language_model.layers.3.mlp.down_proj.weight" : tensor<64x128xbf16>
  delta.weight private @"model.language_model.norm.weight" : tensor<64xbf16>

  // Recurrent state carried between steps.
  delta.state @"layers.0.conv_state" : tensor<3x128xf32>
  delta.state @"layers.0.delta_state" : tensor<4x16x16xf32>
  delta.state @"layers.1.conv_state" : tensor<3x128xf32>
  delta.state @"layers.1.delta_state" : tensor<4x16x16xf32>
  delta.state @"layers.2.conv_state" : tensor<3x128xf32>
  delta.state @"layers.2.delta_state" : tensor<4x16x16xf32>
  delta.state @"layers.3.key_cache" : tensor<2x64x32xf32>
  delta.state @"layers.3.value_cache" : tensor<2x64x32xf32>

  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x256xf32> {
    %w1 = delta.weight_ref @"model.language_model.embed_tokens.weight" : tensor<256x64xbf16>
    %x2 = delta.embedding %w1[%tokens] : tensor<256x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
    // layer 0: Gated DeltaNet
    %w3 = delta.weight_ref @"model.language_model.layers.0.input_layernorm.weight" : tensor<64xbf16>
    %n4 = delta.rms_norm %x2, %w3 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w5 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p6 = delta.linear %n4, %w5 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w7 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p8 = delta.linear %n4, %w7 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %w9 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p10 = delta.linear %n4, %w9 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w11 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p12 = delta.linear %n4, %w11 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w13 = delta.weight_ref @"model.language_model.layers.0.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s14 = delta.state_read @"layers.0.conv_state" : tensor<3x128xf32>
    %conv15, %convstate16 = delta.causal_conv1d %p6, %w13, %s14 activation(silu) : tensor<?x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q17, %k18, %v19 = delta.split %conv15 : tensor<?x128xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
    %r20 = delta.reshape %q17 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r21 = delta.reshape %k18 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r22 = delta.reshape %v19 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %qn23 = delta.l2_norm %r20 eps(1.0e-06) : tensor<?x2x16xf32>
    %kn24 = delta.l2_norm %r21 eps(1.0e-06) : tensor<?x2x16xf32>
    %w25 = delta.weight_ref @"model.language_model.layers.0.linear_attn.A_log" : tensor<4xf32>
    %w26 = delta.weight_ref @"model.language_model.layers.0.linear_attn.dt_bias" : tensor<4xf32>
    %g27, %beta28 = delta.gdn_gates %p12, %p10, %w25, %w26 a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %s29 = delta.state_read @"layers.0.delta_state" : tensor<4x16x16xf32>
    %o30, %state31 = delta.gated_delta_rule %qn23, %kn24, %r22, %g27, %beta28, %s29 grouped scale(2.500000e-01) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
    %r32 = delta.reshape %p8 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %w33 = delta.weight_ref @"model.language_model.layers.0.linear_attn.norm.weight" : tensor<16xf32>
    %y34 = delta.gated_rms_norm %o30, %r32, %w33 eps(1.0e-06) : tensor<?x4x16xf32>, tensor<16xf32>
    %r35 = delta.reshape %y34 : tensor<?x4x16xf32> -> tensor<?x64xf32>
    %w36 = delta.weight_ref @"model.language_model.layers.0.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p37 = delta.linear %r35, %w36 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    delta.state_write %convstate16, @"layers.0.conv_state" : tensor<3x128xf32>
    delta.state_write %state31, @"layers.0.delta_state" : tensor<4x16x16xf32>
    %h38 = delta.add %x2, %p37 : tensor<?x64xf32>
    %w39 = delta.weight_ref @"model.language_model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
    %n40 = delta.rms_norm %h38, %w39 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w41 = delta.weight_ref @"model.language_model.layers.0.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p42 = delta.linear %n40, %w41 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w43 = delta.weight_ref @"model.language_model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p44 = delta.linear %n40, %w43 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %act45 = delta.swiglu %p42, %p44 : tensor<?x128xf32>
    %w46 = delta.weight_ref @"model.language_model.layers.0.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p47 = delta.linear %act45, %w46 : tensor<?x128xf32>, tensor<64x128xbf16> -> tensor<?x64xf32>
    %x48 = delta.add %h38, %p47 : tensor<?x64xf32>
    // layer 1: Gated DeltaNet
    %w49 = delta.weight_ref @"model.language_model.layers.1.input_layernorm.weight" : tensor<64xbf16>
    %n50 = delta.rms_norm %x48, %w49 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w51 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p52 = delta.linear %n50, %w51 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w53 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p54 = delta.linear %n50, %w53 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %w55 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p56 = delta.linear %n50, %w55 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w57 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p58 = delta.linear %n50, %w57 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w59 = delta.weight_ref @"model.language_model.layers.1.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s60 = delta.state_read @"layers.1.conv_state" : tensor<3x128xf32>
    %conv61, %convstate62 = delta.causal_conv1d %p52, %w59, %s60 activation(silu) : tensor<?x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q63, %k64, %v65 = delta.split %conv61 : tensor<?x128xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
    %r66 = delta.reshape %q63 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r67 = delta.reshape %k64 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r68 = delta.reshape %v65 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %qn69 = delta.l2_norm %r66 eps(1.0e-06) : tensor<?x2x16xf32>
    %kn70 = delta.l2_norm %r67 eps(1.0e-06) : tensor<?x2x16xf32>
    %w71 = delta.weight_ref @"model.language_model.layers.1.linear_attn.A_log" : tensor<4xf32>
    %w72 = delta.weight_ref @"model.language_model.layers.1.linear_attn.dt_bias" : tensor<4xf32>
    %g73, %beta74 = delta.gdn_gates %p58, %p56, %w71, %w72 a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %s75 = delta.state_read @"layers.1.delta_state" : tensor<4x16x16xf32>
    %o76, %state77 = delta.gated_delta_rule %qn69, %kn70, %r68, %g73, %beta74, %s75 grouped scale(2.500000e-01) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
    %r78 = delta.reshape %p54 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %w79 = delta.weight_ref @"model.language_model.layers.1.linear_attn.norm.weight" : tensor<16xf32>
    %y80 = delta.gated_rms_norm %o76, %r78, %w79 eps(1.0e-06) : tensor<?x4x16xf32>, tensor<16xf32>
    %r81 = delta.reshape %y80 : tensor<?x4x16xf32> -> tensor<?x64xf32>
    %w82 = delta.weight_ref @"model.language_model.layers.1.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p83 = delta.linear %r81, %w82 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    delta.state_write %convstate62, @"layers.1.conv_state" : tensor<3x128xf32>
    delta.state_write %state77, @"layers.1.delta_state" : tensor<4x16x16xf32>
    %h84 = delta.add %x48, %p83 : tensor<?x64xf32>
    %w85 = delta.weight_ref @"model.language_model.layers.1.post_attention_layernorm.weight" : tensor<64xbf16>
    %n86 = delta.rms_norm %h84, %w85 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w87 = delta.weight_ref @"model.language_model.layers.1.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p88 = delta.linear %n86, %w87 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w89 = delta.weight_ref @"model.language_model.layers.1.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p90 = delta.linear %n86, %w89 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %act91 = delta.swiglu %p88, %p90 : tensor<?x128xf32>
    %w92 = delta.weight_ref @"model.language_model.layers.1.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p93 = delta.linear %act91, %w92 : tensor<?x128xf32>, tensor<64x128xbf16> -> tensor<?x64xf32>
    %x94 = delta.add %h84, %p93 : tensor<?x64xf32>
    // layer 2: Gated DeltaNet
    %w95 = delta.weight_ref @"model.language_model.layers.2.input_layernorm.weight" : tensor<64xbf16>
    %n96 = delta.rms_norm %x94, %w95 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w97 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p98 = delta.linear %n96, %w97 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w99 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p100 = delta.linear %n96, %w99 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %w101 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p102 = delta.linear %n96, %w101 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w103 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p104 = delta.linear %n96, %w103 : tensor<?x64xf32>, tensor<4x64xbf16> -> tensor<?x4xf32>
    %w105 = delta.weight_ref @"model.language_model.layers.2.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s106 = delta.state_read @"layers.2.conv_state" : tensor<3x128xf32>
    %conv107, %convstate108 = delta.causal_conv1d %p98, %w105, %s106 activation(silu) : tensor<?x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q109, %k110, %v111 = delta.split %conv107 : tensor<?x128xf32> -> tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>
    %r112 = delta.reshape %q109 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r113 = delta.reshape %k110 : tensor<?x32xf32> -> tensor<?x2x16xf32>
    %r114 = delta.reshape %v111 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %qn115 = delta.l2_norm %r112 eps(1.0e-06) : tensor<?x2x16xf32>
    %kn116 = delta.l2_norm %r113 eps(1.0e-06) : tensor<?x2x16xf32>
    %w117 = delta.weight_ref @"model.language_model.layers.2.linear_attn.A_log" : tensor<4xf32>
    %w118 = delta.weight_ref @"model.language_model.layers.2.linear_attn.dt_bias" : tensor<4xf32>
    %g119, %beta120 = delta.gdn_gates %p104, %p102, %w117, %w118 a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %s121 = delta.state_read @"layers.2.delta_state" : tensor<4x16x16xf32>
    %o122, %state123 = delta.gated_delta_rule %qn115, %kn116, %r114, %g119, %beta120, %s121 grouped scale(2.500000e-01) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
    %r124 = delta.reshape %p100 : tensor<?x64xf32> -> tensor<?x4x16xf32>
    %w125 = delta.weight_ref @"model.language_model.layers.2.linear_attn.norm.weight" : tensor<16xf32>
    %y126 = delta.gated_rms_norm %o122, %r124, %w125 eps(1.0e-06) : tensor<?x4x16xf32>, tensor<16xf32>
    %r127 = delta.reshape %y126 : tensor<?x4x16xf32> -> tensor<?x64xf32>
    %w128 = delta.weight_ref @"model.language_model.layers.2.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p129 = delta.linear %r127, %w128 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    delta.state_write %convstate108, @"layers.2.conv_state" : tensor<3x128xf32>
    delta.state_write %state123, @"layers.2.delta_state" : tensor<4x16x16xf32>
    %h130 = delta.add %x94, %p129 : tensor<?x64xf32>
    %w131 = delta.weight_ref @"model.language_model.layers.2.post_attention_layernorm.weight" : tensor<64xbf16>
    %n132 = delta.rms_norm %h130, %w131 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w133 = delta.weight_ref @"model.language_model.layers.2.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p134 = delta.linear %n132, %w133 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w135 = delta.weight_ref @"model.language_model.layers.2.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p136 = delta.linear %n132, %w135 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %act137 = delta.swiglu %p134, %p136 : tensor<?x128xf32>
    %w138 = delta.weight_ref @"model.language_model.layers.2.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p139 = delta.linear %act137, %w138 : tensor<?x128xf32>, tensor<64x128xbf16> -> tensor<?x64xf32>
    %x140 = delta.add %h130, %p139 : tensor<?x64xf32>
    // layer 3: gated attention
    %w141 = delta.weight_ref @"model.language_model.layers.3.input_layernorm.weight" : tensor<64xbf16>
    %n142 = delta.rms_norm %x140, %w141 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w143 = delta.weight_ref @"model.language_model.layers.3.self_attn.q_proj.weight" : tensor<256x64xbf16>
    %p144 = delta.linear %n142, %w143 : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
    %r145 = delta.reshape %p144 : tensor<?x256xf32> -> tensor<?x4x64xf32>
    %q146, %gate147 = delta.split %r145 : tensor<?x4x64xf32> -> tensor<?x4x32xf32>, tensor<?x4x32xf32>
    %w148 = delta.weight_ref @"model.language_model.layers.3.self_attn.k_proj.weight" : tensor<64x64xbf16>
    %p149 = delta.linear %n142, %w148 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %r150 = delta.reshape %p149 : tensor<?x64xf32> -> tensor<?x2x32xf32>
    %w151 = delta.weight_ref @"model.language_model.layers.3.self_attn.v_proj.weight" : tensor<64x64xbf16>
    %p152 = delta.linear %n142, %w151 : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    %r153 = delta.reshape %p152 : tensor<?x64xf32> -> tensor<?x2x32xf32>
    %w154 = delta.weight_ref @"model.language_model.layers.3.self_attn.q_norm.weight" : tensor<32xbf16>
    %w155 = delta.weight_ref @"model.language_model.layers.3.self_attn.k_norm.weight" : tensor<32xbf16>
    %qn156 = delta.rms_norm %q146, %w154 one_plus eps(1.0e-06) : tensor<?x4x32xf32>, tensor<32xbf16>
    %kn157 = delta.rms_norm %r150, %w155 one_plus eps(1.0e-06) : tensor<?x2x32xf32>, tensor<32xbf16>
    %qr158 = delta.rope %qn156, %positions rotary_dim(8) theta(1.000000e+07) mrope [2, 1, 1] : tensor<?x4x32xf32>, tensor<?xi32>
    %kr159 = delta.rope %kn157, %positions rotary_dim(8) theta(1.000000e+07) mrope [2, 1, 1] : tensor<?x2x32xf32>, tensor<?xi32>
    %s160 = delta.state_read @"layers.3.key_cache" : tensor<2x64x32xf32>
    %s161 = delta.state_read @"layers.3.value_cache" : tensor<2x64x32xf32>
    %attn162, %kc163, %vc164 = delta.attention %qr158, %kr159, %r153 gate %gate147 : tensor<?x4x32xf32> cache(%s160, %s161) at %start scale(1.76776692E-1) : tensor<?x4x32xf32>, tensor<?x2x32xf32>, tensor<?x2x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<?x4x32xf32>
    %r165 = delta.reshape %attn162 : tensor<?x4x32xf32> -> tensor<?x128xf32>
    %w166 = delta.weight_ref @"model.language_model.layers.3.self_attn.o_proj.weight" : tensor<64x128xbf16>
    %p167 = delta.linear %r165, %w166 : tensor<?x128xf32>, tensor<64x128xbf16> -> tensor<?x64xf32>
    delta.state_write %kc163, @"layers.3.key_cache" : tensor<2x64x32xf32>
    delta.state_write %vc164, @"layers.3.value_cache" : tensor<2x64x32xf32>
    %h168 = delta.add %x140, %p167 : tensor<?x64xf32>
    %w169 = delta.weight_ref @"model.language_model.layers.3.post_attention_layernorm.weight" : tensor<64xbf16>
    %n170 = delta.rms_norm %h168, %w169 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w171 = delta.weight_ref @"model.language_model.layers.3.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p172 = delta.linear %n170, %w171 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %w173 = delta.weight_ref @"model.language_model.layers.3.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p174 = delta.linear %n170, %w173 : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
    %act175 = delta.swiglu %p172, %p174 : tensor<?x128xf32>
    %w176 = delta.weight_ref @"model.language_model.layers.3.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p177 = delta.linear %act175, %w176 : tensor<?x128xf32>, tensor<64x128xbf16> -> tensor<?x64xf32>
    %x178 = delta.add %h168, %p177 : tensor<?x64xf32>
    %w179 = delta.weight_ref @"model.language_model.norm.weight" : tensor<64xbf16>
    %final180 = delta.rms_norm %x178, %w179 one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
    %w181 = delta.weight_ref @"model.language_model.embed_tokens.weight" : tensor<256x64xbf16>
    %logits182 = delta.lm_head %final180, %w181 : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
    return %logits182 : tensor<?x256xf32>
  }

  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x256xf32> {
    %w183 = delta.weight_ref @"model.language_model.embed_tokens.weight" : tensor<256x64xbf16>
    %x184 = delta.embedding %w183[%tokens] : tensor<256x64xbf16>, tensor<1xi32> -> tensor<1x64xf32>
    // layer 0: Gated DeltaNet
    %w185 = delta.weight_ref @"model.language_model.layers.0.input_layernorm.weight" : tensor<64xbf16>
    %n186 = delta.rms_norm %x184, %w185 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w187 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p188 = delta.linear %n186, %w187 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w189 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p190 = delta.linear %n186, %w189 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %w191 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p192 = delta.linear %n186, %w191 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w193 = delta.weight_ref @"model.language_model.layers.0.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p194 = delta.linear %n186, %w193 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w195 = delta.weight_ref @"model.language_model.layers.0.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s196 = delta.state_read @"layers.0.conv_state" : tensor<3x128xf32>
    %conv197, %convstate198 = delta.causal_conv1d %p188, %w195, %s196 activation(silu) : tensor<1x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q199, %k200, %v201 = delta.split %conv197 : tensor<1x128xf32> -> tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x64xf32>
    %r202 = delta.reshape %q199 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r203 = delta.reshape %k200 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r204 = delta.reshape %v201 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %qn205 = delta.l2_norm %r202 eps(1.0e-06) : tensor<1x2x16xf32>
    %kn206 = delta.l2_norm %r203 eps(1.0e-06) : tensor<1x2x16xf32>
    %w207 = delta.weight_ref @"model.language_model.layers.0.linear_attn.A_log" : tensor<4xf32>
    %w208 = delta.weight_ref @"model.language_model.layers.0.linear_attn.dt_bias" : tensor<4xf32>
    %g209, %beta210 = delta.gdn_gates %p194, %p192, %w207, %w208 a_log : tensor<1x4xf32>, tensor<4xf32> -> tensor<1x4xf32>
    %s211 = delta.state_read @"layers.0.delta_state" : tensor<4x16x16xf32>
    %o212, %state213 = delta.gated_delta_rule %qn205, %kn206, %r204, %g209, %beta210, %s211 grouped scale(2.500000e-01) : tensor<1x2x16xf32>, tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<4x16x16xf32>
    %r214 = delta.reshape %p190 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %w215 = delta.weight_ref @"model.language_model.layers.0.linear_attn.norm.weight" : tensor<16xf32>
    %y216 = delta.gated_rms_norm %o212, %r214, %w215 eps(1.0e-06) : tensor<1x4x16xf32>, tensor<16xf32>
    %r217 = delta.reshape %y216 : tensor<1x4x16xf32> -> tensor<1x64xf32>
    %w218 = delta.weight_ref @"model.language_model.layers.0.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p219 = delta.linear %r217, %w218 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    delta.state_write %convstate198, @"layers.0.conv_state" : tensor<3x128xf32>
    delta.state_write %state213, @"layers.0.delta_state" : tensor<4x16x16xf32>
    %h220 = delta.add %x184, %p219 : tensor<1x64xf32>
    %w221 = delta.weight_ref @"model.language_model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
    %n222 = delta.rms_norm %h220, %w221 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w223 = delta.weight_ref @"model.language_model.layers.0.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p224 = delta.linear %n222, %w223 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w225 = delta.weight_ref @"model.language_model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p226 = delta.linear %n222, %w225 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %act227 = delta.swiglu %p224, %p226 : tensor<1x128xf32>
    %w228 = delta.weight_ref @"model.language_model.layers.0.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p229 = delta.linear %act227, %w228 : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
    %x230 = delta.add %h220, %p229 : tensor<1x64xf32>
    // layer 1: Gated DeltaNet
    %w231 = delta.weight_ref @"model.language_model.layers.1.input_layernorm.weight" : tensor<64xbf16>
    %n232 = delta.rms_norm %x230, %w231 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w233 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p234 = delta.linear %n232, %w233 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w235 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p236 = delta.linear %n232, %w235 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %w237 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p238 = delta.linear %n232, %w237 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w239 = delta.weight_ref @"model.language_model.layers.1.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p240 = delta.linear %n232, %w239 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w241 = delta.weight_ref @"model.language_model.layers.1.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s242 = delta.state_read @"layers.1.conv_state" : tensor<3x128xf32>
    %conv243, %convstate244 = delta.causal_conv1d %p234, %w241, %s242 activation(silu) : tensor<1x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q245, %k246, %v247 = delta.split %conv243 : tensor<1x128xf32> -> tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x64xf32>
    %r248 = delta.reshape %q245 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r249 = delta.reshape %k246 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r250 = delta.reshape %v247 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %qn251 = delta.l2_norm %r248 eps(1.0e-06) : tensor<1x2x16xf32>
    %kn252 = delta.l2_norm %r249 eps(1.0e-06) : tensor<1x2x16xf32>
    %w253 = delta.weight_ref @"model.language_model.layers.1.linear_attn.A_log" : tensor<4xf32>
    %w254 = delta.weight_ref @"model.language_model.layers.1.linear_attn.dt_bias" : tensor<4xf32>
    %g255, %beta256 = delta.gdn_gates %p240, %p238, %w253, %w254 a_log : tensor<1x4xf32>, tensor<4xf32> -> tensor<1x4xf32>
    %s257 = delta.state_read @"layers.1.delta_state" : tensor<4x16x16xf32>
    %o258, %state259 = delta.gated_delta_rule %qn251, %kn252, %r250, %g255, %beta256, %s257 grouped scale(2.500000e-01) : tensor<1x2x16xf32>, tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<4x16x16xf32>
    %r260 = delta.reshape %p236 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %w261 = delta.weight_ref @"model.language_model.layers.1.linear_attn.norm.weight" : tensor<16xf32>
    %y262 = delta.gated_rms_norm %o258, %r260, %w261 eps(1.0e-06) : tensor<1x4x16xf32>, tensor<16xf32>
    %r263 = delta.reshape %y262 : tensor<1x4x16xf32> -> tensor<1x64xf32>
    %w264 = delta.weight_ref @"model.language_model.layers.1.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p265 = delta.linear %r263, %w264 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    delta.state_write %convstate244, @"layers.1.conv_state" : tensor<3x128xf32>
    delta.state_write %state259, @"layers.1.delta_state" : tensor<4x16x16xf32>
    %h266 = delta.add %x230, %p265 : tensor<1x64xf32>
    %w267 = delta.weight_ref @"model.language_model.layers.1.post_attention_layernorm.weight" : tensor<64xbf16>
    %n268 = delta.rms_norm %h266, %w267 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w269 = delta.weight_ref @"model.language_model.layers.1.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p270 = delta.linear %n268, %w269 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w271 = delta.weight_ref @"model.language_model.layers.1.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p272 = delta.linear %n268, %w271 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %act273 = delta.swiglu %p270, %p272 : tensor<1x128xf32>
    %w274 = delta.weight_ref @"model.language_model.layers.1.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p275 = delta.linear %act273, %w274 : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
    %x276 = delta.add %h266, %p275 : tensor<1x64xf32>
    // layer 2: Gated DeltaNet
    %w277 = delta.weight_ref @"model.language_model.layers.2.input_layernorm.weight" : tensor<64xbf16>
    %n278 = delta.rms_norm %x276, %w277 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w279 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_qkv.weight" : tensor<128x64xbf16>
    %p280 = delta.linear %n278, %w279 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w281 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_z.weight" : tensor<64x64xbf16>
    %p282 = delta.linear %n278, %w281 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %w283 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_b.weight" : tensor<4x64xbf16>
    %p284 = delta.linear %n278, %w283 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w285 = delta.weight_ref @"model.language_model.layers.2.linear_attn.in_proj_a.weight" : tensor<4x64xbf16>
    %p286 = delta.linear %n278, %w285 : tensor<1x64xf32>, tensor<4x64xbf16> -> tensor<1x4xf32>
    %w287 = delta.weight_ref @"model.language_model.layers.2.linear_attn.conv1d.weight" : tensor<128x4xbf16>
    %s288 = delta.state_read @"layers.2.conv_state" : tensor<3x128xf32>
    %conv289, %convstate290 = delta.causal_conv1d %p280, %w287, %s288 activation(silu) : tensor<1x128xf32>, tensor<128x4xbf16>, tensor<3x128xf32>
    %q291, %k292, %v293 = delta.split %conv289 : tensor<1x128xf32> -> tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x64xf32>
    %r294 = delta.reshape %q291 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r295 = delta.reshape %k292 : tensor<1x32xf32> -> tensor<1x2x16xf32>
    %r296 = delta.reshape %v293 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %qn297 = delta.l2_norm %r294 eps(1.0e-06) : tensor<1x2x16xf32>
    %kn298 = delta.l2_norm %r295 eps(1.0e-06) : tensor<1x2x16xf32>
    %w299 = delta.weight_ref @"model.language_model.layers.2.linear_attn.A_log" : tensor<4xf32>
    %w300 = delta.weight_ref @"model.language_model.layers.2.linear_attn.dt_bias" : tensor<4xf32>
    %g301, %beta302 = delta.gdn_gates %p286, %p284, %w299, %w300 a_log : tensor<1x4xf32>, tensor<4xf32> -> tensor<1x4xf32>
    %s303 = delta.state_read @"layers.2.delta_state" : tensor<4x16x16xf32>
    %o304, %state305 = delta.gated_delta_rule %qn297, %kn298, %r296, %g301, %beta302, %s303 grouped scale(2.500000e-01) : tensor<1x2x16xf32>, tensor<1x4x16xf32>, tensor<1x4xf32>, tensor<4x16x16xf32>
    %r306 = delta.reshape %p282 : tensor<1x64xf32> -> tensor<1x4x16xf32>
    %w307 = delta.weight_ref @"model.language_model.layers.2.linear_attn.norm.weight" : tensor<16xf32>
    %y308 = delta.gated_rms_norm %o304, %r306, %w307 eps(1.0e-06) : tensor<1x4x16xf32>, tensor<16xf32>
    %r309 = delta.reshape %y308 : tensor<1x4x16xf32> -> tensor<1x64xf32>
    %w310 = delta.weight_ref @"model.language_model.layers.2.linear_attn.out_proj.weight" : tensor<64x64xbf16>
    %p311 = delta.linear %r309, %w310 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    delta.state_write %convstate290, @"layers.2.conv_state" : tensor<3x128xf32>
    delta.state_write %state305, @"layers.2.delta_state" : tensor<4x16x16xf32>
    %h312 = delta.add %x276, %p311 : tensor<1x64xf32>
    %w313 = delta.weight_ref @"model.language_model.layers.2.post_attention_layernorm.weight" : tensor<64xbf16>
    %n314 = delta.rms_norm %h312, %w313 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w315 = delta.weight_ref @"model.language_model.layers.2.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p316 = delta.linear %n314, %w315 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w317 = delta.weight_ref @"model.language_model.layers.2.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p318 = delta.linear %n314, %w317 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %act319 = delta.swiglu %p316, %p318 : tensor<1x128xf32>
    %w320 = delta.weight_ref @"model.language_model.layers.2.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p321 = delta.linear %act319, %w320 : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
    %x322 = delta.add %h312, %p321 : tensor<1x64xf32>
    // layer 3: gated attention
    %w323 = delta.weight_ref @"model.language_model.layers.3.input_layernorm.weight" : tensor<64xbf16>
    %n324 = delta.rms_norm %x322, %w323 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w325 = delta.weight_ref @"model.language_model.layers.3.self_attn.q_proj.weight" : tensor<256x64xbf16>
    %p326 = delta.linear %n324, %w325 : tensor<1x64xf32>, tensor<256x64xbf16> -> tensor<1x256xf32>
    %r327 = delta.reshape %p326 : tensor<1x256xf32> -> tensor<1x4x64xf32>
    %q328, %gate329 = delta.split %r327 : tensor<1x4x64xf32> -> tensor<1x4x32xf32>, tensor<1x4x32xf32>
    %w330 = delta.weight_ref @"model.language_model.layers.3.self_attn.k_proj.weight" : tensor<64x64xbf16>
    %p331 = delta.linear %n324, %w330 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %r332 = delta.reshape %p331 : tensor<1x64xf32> -> tensor<1x2x32xf32>
    %w333 = delta.weight_ref @"model.language_model.layers.3.self_attn.v_proj.weight" : tensor<64x64xbf16>
    %p334 = delta.linear %n324, %w333 : tensor<1x64xf32>, tensor<64x64xbf16> -> tensor<1x64xf32>
    %r335 = delta.reshape %p334 : tensor<1x64xf32> -> tensor<1x2x32xf32>
    %w336 = delta.weight_ref @"model.language_model.layers.3.self_attn.q_norm.weight" : tensor<32xbf16>
    %w337 = delta.weight_ref @"model.language_model.layers.3.self_attn.k_norm.weight" : tensor<32xbf16>
    %qn338 = delta.rms_norm %q328, %w336 one_plus eps(1.0e-06) : tensor<1x4x32xf32>, tensor<32xbf16>
    %kn339 = delta.rms_norm %r332, %w337 one_plus eps(1.0e-06) : tensor<1x2x32xf32>, tensor<32xbf16>
    %qr340 = delta.rope %qn338, %positions rotary_dim(8) theta(1.000000e+07) mrope [2, 1, 1] : tensor<1x4x32xf32>, tensor<1xi32>
    %kr341 = delta.rope %kn339, %positions rotary_dim(8) theta(1.000000e+07) mrope [2, 1, 1] : tensor<1x2x32xf32>, tensor<1xi32>
    %s342 = delta.state_read @"layers.3.key_cache" : tensor<2x64x32xf32>
    %s343 = delta.state_read @"layers.3.value_cache" : tensor<2x64x32xf32>
    %attn344, %kc345, %vc346 = delta.attention %qr340, %kr341, %r335 gate %gate329 : tensor<1x4x32xf32> cache(%s342, %s343) at %start scale(1.76776692E-1) : tensor<1x4x32xf32>, tensor<1x2x32xf32>, tensor<1x2x32xf32>, tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<1x4x32xf32>
    %r347 = delta.reshape %attn344 : tensor<1x4x32xf32> -> tensor<1x128xf32>
    %w348 = delta.weight_ref @"model.language_model.layers.3.self_attn.o_proj.weight" : tensor<64x128xbf16>
    %p349 = delta.linear %r347, %w348 : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
    delta.state_write %kc345, @"layers.3.key_cache" : tensor<2x64x32xf32>
    delta.state_write %vc346, @"layers.3.value_cache" : tensor<2x64x32xf32>
    %h350 = delta.add %x322, %p349 : tensor<1x64xf32>
    %w351 = delta.weight_ref @"model.language_model.layers.3.post_attention_layernorm.weight" : tensor<64xbf16>
    %n352 = delta.rms_norm %h350, %w351 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w353 = delta.weight_ref @"model.language_model.layers.3.mlp.gate_proj.weight" : tensor<128x64xbf16>
    %p354 = delta.linear %n352, %w353 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %w355 = delta.weight_ref @"model.language_model.layers.3.mlp.up_proj.weight" : tensor<128x64xbf16>
    %p356 = delta.linear %n352, %w355 : tensor<1x64xf32>, tensor<128x64xbf16> -> tensor<1x128xf32>
    %act357 = delta.swiglu %p354, %p356 : tensor<1x128xf32>
    %w358 = delta.weight_ref @"model.language_model.layers.3.mlp.down_proj.weight" : tensor<64x128xbf16>
    %p359 = delta.linear %act357, %w358 : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
    %x360 = delta.add %h350, %p359 : tensor<1x64xf32>
    %w361 = delta.weight_ref @"model.language_model.norm.weight" : tensor<64xbf16>
    %final362 = delta.rms_norm %x360, %w361 one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xbf16>
    %w363 = delta.weight_ref @"model.language_model.embed_tokens.weight" : tensor<256x64xbf16>
    %logits364 = delta.lm_head %final362, %w363 : tensor<1x64xf32>, tensor<256x64xbf16> -> tensor<1x256xf32>
    return %logits364 : tensor<1x256xf32>
  }
}

