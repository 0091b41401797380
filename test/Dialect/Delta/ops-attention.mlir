// RUN: delta-opt %s | FileCheck %s
// RUN: delta-opt %s | delta-opt | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt | FileCheck %s

// rope with one position per token (plain partial RoPE) over a dynamic number of tokens.
// CHECK-LABEL: func.func @rope_plain
func.func @rope_plain(%q: tensor<?x4x16xf32>, %pos: tensor<?xi32>) -> tensor<?x4x16xf32> {
  // CHECK-SAME: ([[Q:%.+]]: tensor<?x4x16xf32>, [[POS:%.+]]: tensor<?xi32>)
  // CHECK: [[R:%.+]] = delta.rope [[Q]], [[POS]] rotary_dim(8) theta(1.000000e+04) : tensor<?x4x16xf32>, tensor<?xi32>
  // CHECK-NOT: mrope
  // CHECK: return [[R]]
  %r = delta.rope %q, %pos rotary_dim(8) theta(10000.0) : tensor<?x4x16xf32>, tensor<?xi32>
  return %r : tensor<?x4x16xf32>
}

// rope rotating the whole head (rotary_dim = head dim) for one bf16 decode token.
// CHECK-LABEL: func.func @rope_full_decode
func.func @rope_full_decode(%k: tensor<1x2x16xbf16>, %pos: tensor<1xi32>) -> tensor<1x2x16xbf16> {
  // CHECK: delta.rope %{{.+}}, %{{.+}} rotary_dim(16) theta(1.000000e+06) : tensor<1x2x16xbf16>, tensor<1xi32>
  %r = delta.rope %k, %pos rotary_dim(16) theta(1.0e6) : tensor<1x2x16xbf16>, tensor<1xi32>
  return %r : tensor<1x2x16xbf16>
}

// rope with interleaved M-RoPE sections and [3, T] positions.
// CHECK-LABEL: func.func @rope_mrope
func.func @rope_mrope(%q: tensor<?x4x16xf32>, %pos: tensor<3x?xi32>) -> tensor<?x4x16xf32> {
  // CHECK-SAME: ([[Q:%.+]]: tensor<?x4x16xf32>, [[POS:%.+]]: tensor<3x?xi32>)
  // CHECK: delta.rope [[Q]], [[POS]] rotary_dim(8) theta(1.000000e+07) mrope [2, 1, 1] : tensor<?x4x16xf32>, tensor<3x?xi32>
  %r = delta.rope %q, %pos rotary_dim(8) theta(1.0e7) mrope [2, 1, 1] : tensor<?x4x16xf32>, tensor<3x?xi32>
  return %r : tensor<?x4x16xf32>
}

// rope with mrope sections but [T] positions (text-only M-RoPE), one of the sections empty.
// CHECK-LABEL: func.func @rope_mrope_text_positions
func.func @rope_mrope_text_positions(%q: tensor<1x4x16xf32>, %pos: tensor<1xi32>) -> tensor<1x4x16xf32> {
  // CHECK: delta.rope %{{.+}}, %{{.+}} rotary_dim(8) theta(1.000000e+07) mrope [2, 2, 0] : tensor<1x4x16xf32>, tensor<1xi32>
  %r = delta.rope %q, %pos rotary_dim(8) theta(1.0e7) mrope [2, 2, 0] : tensor<1x4x16xf32>, tensor<1xi32>
  return %r : tensor<1x4x16xf32>
}

// attention with a sigmoid output gate over a dynamic number of tokens (nh = 4, nkv = 2, hd = 16).
// CHECK-LABEL: func.func @attention_gated
func.func @attention_gated(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %gate: tensor<?x4x16xf32>,
                           %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %pos: index)
    -> (tensor<?x4x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>) {
  // CHECK-SAME: ([[Q:%[^:]+]]: tensor<?x4x16xf32>, [[K:%[^:]+]]: tensor<?x2x16xf32>, [[V:%[^:]+]]: tensor<?x2x16xf32>, [[GATE:%[^:]+]]: tensor<?x4x16xf32>,
  // CHECK-SAME: [[KC:%[^:]+]]: tensor<2x32x16xf32>, [[VC:%[^:]+]]: tensor<2x32x16xf32>, [[POS:%[^:]+]]: index)
  // CHECK: [[O:%[^,]+]], [[KC1:%[^,]+]], [[VC1:%[^,]+]] = delta.attention [[Q]], [[K]], [[V]] gate [[GATE]] : tensor<?x4x16xf32>
  // CHECK-SAME: cache([[KC]], [[VC]]) at [[POS]] scale(2.500000e-01)
  // CHECK-SAME: : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  // CHECK: return [[O]], [[KC1]], [[VC1]]
  %o, %kc1, %vc1 = delta.attention %q, %k, %v gate %gate : tensor<?x4x16xf32> cache(%kc, %vc) at %pos scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return %o, %kc1, %vc1 : tensor<?x4x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>
}

// attention without a gate for one decode token, with f16 caches and a value head dim unlike the key's.
// CHECK-LABEL: func.func @attention_ungated_decode
func.func @attention_ungated_decode(%q: tensor<1x4x16xf32>, %k: tensor<1x2x16xf32>, %v: tensor<1x2x8xf32>,
                                    %kc: tensor<2x32x16xf16>, %vc: tensor<2x32x8xf16>, %pos: index)
    -> tensor<1x4x8xf32> {
  // CHECK: delta.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} cache(%{{.+}}, %{{.+}}) at %{{.+}} scale(2.500000e-01)
  // CHECK-NOT: gate
  // CHECK-SAME: : tensor<1x4x16xf32>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<2x32x16xf16>, tensor<2x32x8xf16> -> tensor<1x4x8xf32>
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %pos scale(0.25)
      : tensor<1x4x16xf32>, tensor<1x2x16xf32>, tensor<1x2x8xf32>, tensor<2x32x16xf16>, tensor<2x32x8xf16> -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// Real Qwen3.5-0.8B gated attention layer: q / k RoPE with rotary_dim 64 of hd = 256, theta 1e7 and
// M-RoPE sections [11, 11, 10], then attention with nh = 8, nkv = 2, scale 1/16 and a 4096-token f16 KV cache.
// CHECK-LABEL: func.func @attention_qwen35_0_8b
func.func @attention_qwen35_0_8b(%q: tensor<?x8x256xf32>, %k: tensor<?x2x256xf32>, %v: tensor<?x2x256xf32>, %gate: tensor<?x8x256xf32>,
                                 %pos: tensor<?xi32>, %pos3: tensor<3x?xi32>, %kc: tensor<2x4096x256xf16>, %vc: tensor<2x4096x256xf16>, %at: index)
    -> (tensor<?x8x256xf32>, tensor<2x4096x256xf16>, tensor<2x4096x256xf16>) {
  // CHECK: [[QR:%.+]] = delta.rope %{{.+}}, %{{.+}} rotary_dim(64) theta(1.000000e+07) mrope [11, 11, 10] : tensor<?x8x256xf32>, tensor<3x?xi32>
  // CHECK: [[KR:%.+]] = delta.rope %{{.+}}, %{{.+}} rotary_dim(64) theta(1.000000e+07) : tensor<?x2x256xf32>, tensor<?xi32>
  // CHECK: delta.attention [[QR]], [[KR]], %{{.+}} gate %{{.+}} : tensor<?x8x256xf32> cache(%{{.+}}, %{{.+}}) at %{{.+}} scale(6.250000e-02)
  // CHECK-SAME: : tensor<?x8x256xf32>, tensor<?x2x256xf32>, tensor<?x2x256xf32>, tensor<2x4096x256xf16>, tensor<2x4096x256xf16> -> tensor<?x8x256xf32>
  %qr = delta.rope %q, %pos3 rotary_dim(64) theta(1.000000e+07) mrope [11, 11, 10] : tensor<?x8x256xf32>, tensor<3x?xi32>
  %kr = delta.rope %k, %pos rotary_dim(64) theta(1.000000e+07) : tensor<?x2x256xf32>, tensor<?xi32>
  %o, %kc1, %vc1 = delta.attention %qr, %kr, %v gate %gate : tensor<?x8x256xf32> cache(%kc, %vc) at %at scale(6.250000e-02)
      : tensor<?x8x256xf32>, tensor<?x2x256xf32>, tensor<?x2x256xf32>, tensor<2x4096x256xf16>, tensor<2x4096x256xf16> -> tensor<?x8x256xf32>
  return %o, %kc1, %vc1 : tensor<?x8x256xf32>, tensor<2x4096x256xf16>, tensor<2x4096x256xf16>
}

// Real Qwen3.5-0.8B decode step: one token attending over the 4096-token cache.
// CHECK-LABEL: func.func @attention_qwen35_0_8b_decode
func.func @attention_qwen35_0_8b_decode(%q: tensor<1x8x256xf32>, %k: tensor<1x2x256xf32>, %gate: tensor<1x8x256xf32>,
                                        %kc: tensor<2x4096x256xf16>, %vc: tensor<2x4096x256xf16>, %at: index) -> tensor<1x8x256xf32> {
  // CHECK: delta.attention %{{.+}} gate %{{.+}} : tensor<1x8x256xf32> cache(%{{.+}}, %{{.+}}) at %{{.+}} scale(6.250000e-02)
  // CHECK-SAME: : tensor<1x8x256xf32>, tensor<1x2x256xf32>, tensor<1x2x256xf32>, tensor<2x4096x256xf16>, tensor<2x4096x256xf16> -> tensor<1x8x256xf32>
  %o, %kc1, %vc1 = delta.attention %q, %k, %k gate %gate : tensor<1x8x256xf32> cache(%kc, %vc) at %at scale(0.0625)
      : tensor<1x8x256xf32>, tensor<1x2x256xf32>, tensor<1x2x256xf32>, tensor<2x4096x256xf16>, tensor<2x4096x256xf16> -> tensor<1x8x256xf32>
  return %o : tensor<1x8x256xf32>
}
