// RUN: delta-opt %s | FileCheck %s
// RUN: delta-opt %s | delta-opt | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt | FileCheck %s

// moe with a shared expert and normalized top-k weights (E = 8, I = 32, Is = 16, H = 64).
// CHECK-LABEL: func.func @moe_shared_normalized
func.func @moe_shared_normalized(%x: tensor<?x64xf32>, %r: tensor<8x64xbf16>, %eg: tensor<8x32x64xbf16>, %eu: tensor<8x32x64xbf16>,
                                 %ed: tensor<8x64x32xbf16>, %sg: tensor<16x64xbf16>, %su: tensor<16x64xbf16>, %sd: tensor<64x16xbf16>,
                                 %sgate: tensor<1x64xbf16>) -> tensor<?x64xf32> {
  // CHECK-SAME: ([[X:%[^:]+]]: tensor<?x64xf32>, [[R:%[^:]+]]: tensor<8x64xbf16>, [[EG:%[^:]+]]: tensor<8x32x64xbf16>, [[EU:%[^:]+]]: tensor<8x32x64xbf16>,
  // CHECK-SAME: [[ED:%[^:]+]]: tensor<8x64x32xbf16>, [[SG:%[^:]+]]: tensor<16x64xbf16>, [[SU:%[^:]+]]: tensor<16x64xbf16>, [[SD:%[^:]+]]: tensor<64x16xbf16>,
  // CHECK-SAME: [[SGATE:%[^:]+]]: tensor<1x64xbf16>)
  // CHECK: [[Y:%.+]] = delta.moe [[X]] router([[R]]) experts([[EG]], [[EU]], [[ED]]) shared([[SG]], [[SU]], [[SD]]) gate([[SGATE]]) top_k(2) normalized
  // CHECK-SAME: : (tensor<?x64xf32>, tensor<8x64xbf16>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<64x16xbf16>, tensor<1x64xbf16>) -> tensor<?x64xf32>
  // CHECK: return [[Y]]
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xbf16>, tensor<8x32x64xbf16>, tensor<8x32x64xbf16>, tensor<8x64x32xbf16>, tensor<16x64xbf16>, tensor<16x64xbf16>, tensor<64x16xbf16>, tensor<1x64xbf16>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// moe without a shared expert and without renormalization of the top-k weights, one decode token.
// CHECK-LABEL: func.func @moe_routed_only
func.func @moe_routed_only(%x: tensor<1x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) -> tensor<1x64xf32> {
  // CHECK-SAME: ([[X:%[^:]+]]: tensor<1x64xf32>, [[R:%[^:]+]]: tensor<8x64xf32>, [[EG:%[^:]+]]: tensor<8x32x64xf32>, [[ED:%[^:]+]]: tensor<8x64x32xf32>)
  // CHECK: delta.moe [[X]] router([[R]]) experts([[EG]], [[EG]], [[ED]]) top_k(8)
  // CHECK-NOT: shared
  // CHECK-NOT: normalized
  // CHECK-SAME: : (tensor<1x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<1x64xf32>
  %y = delta.moe %x router(%r) experts(%eg, %eg, %ed) top_k(8)
      : (tensor<1x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}

// moe with a shared expert but without normalization, with top_k = 1.
// CHECK-LABEL: func.func @moe_shared_not_normalized
func.func @moe_shared_not_normalized(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>,
                                     %sg: tensor<16x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<1x64xf32>) -> tensor<?x64xf32> {
  // CHECK: delta.moe %{{.+}} router(%{{.+}}) experts(%{{.+}}, %{{.+}}, %{{.+}}) shared(%{{.+}}, %{{.+}}, %{{.+}}) gate(%{{.+}}) top_k(1)
  // CHECK-NOT: normalized
  // CHECK-SAME: -> tensor<?x64xf32>
  %y = delta.moe %x router(%r) experts(%eg, %eg, %ed) shared(%sg, %sg, %sd) gate(%sgate) top_k(1)
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// moe with quantized rank-3 expert stacks (Q4_0 ggml_blocks) and a float router, normalized, no shared expert.
// CHECK-LABEL: func.func @moe_quantized_experts
func.func @moe_quantized_experts(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>,
    %eg: !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>,
    %ed: !delta.qweight<8x64x32, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>) -> tensor<?x64xf32> {
  // CHECK: delta.moe %{{.+}} top_k(2) normalized
  // CHECK-SAME: !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>, !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>, !delta.qweight<8x64x32, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>) -> tensor<?x64xf32>
  %y = delta.moe %x router(%r) experts(%eg, %eg, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>,
         !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>,
         !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>,
         !delta.qweight<8x64x32, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// Real Qwen3.5-35B-A3B MoE block (H = 2048, E = 256, top-8, expert and shared intermediate 512, normalized).
// CHECK-LABEL: func.func @moe_qwen35_35b_a3b
func.func @moe_qwen35_35b_a3b(%x: tensor<?x2048xf32>, %r: tensor<256x2048xbf16>, %eg: tensor<256x512x2048xbf16>, %eu: tensor<256x512x2048xbf16>,
                              %ed: tensor<256x2048x512xbf16>, %sg: tensor<512x2048xbf16>, %su: tensor<512x2048xbf16>, %sd: tensor<2048x512xbf16>,
                              %sgate: tensor<1x2048xbf16>) -> tensor<?x2048xf32> {
  // CHECK: delta.moe %{{.+}} shared(%{{.+}}, %{{.+}}, %{{.+}}) gate(%{{.+}}) top_k(8) normalized
  // CHECK-SAME: : (tensor<?x2048xf32>, tensor<256x2048xbf16>, tensor<256x512x2048xbf16>, tensor<256x512x2048xbf16>, tensor<256x2048x512xbf16>, tensor<512x2048xbf16>, tensor<512x2048xbf16>, tensor<2048x512xbf16>, tensor<1x2048xbf16>) -> tensor<?x2048xf32>
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(8) normalized
      : (tensor<?x2048xf32>, tensor<256x2048xbf16>, tensor<256x512x2048xbf16>, tensor<256x512x2048xbf16>, tensor<256x2048x512xbf16>, tensor<512x2048xbf16>, tensor<512x2048xbf16>, tensor<2048x512xbf16>, tensor<1x2048xbf16>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// Real Qwen3-Next-80B-A3B MoE block for one decode token (E = 512, top-10).
// CHECK-LABEL: func.func @moe_qwen3_next_decode
func.func @moe_qwen3_next_decode(%x: tensor<1x2048xbf16>, %r: tensor<512x2048xbf16>, %eg: tensor<512x512x2048xbf16>, %ed: tensor<512x2048x512xbf16>,
                                 %sg: tensor<512x2048xbf16>, %sd: tensor<2048x512xbf16>, %sgate: tensor<1x2048xbf16>) -> tensor<1x2048xbf16> {
  // CHECK: delta.moe %{{.+}} top_k(10) normalized
  // CHECK-SAME: -> tensor<1x2048xbf16>
  %y = delta.moe %x router(%r) experts(%eg, %eg, %ed) shared(%sg, %sg, %sd) gate(%sgate) top_k(10) normalized
      : (tensor<1x2048xbf16>, tensor<512x2048xbf16>, tensor<512x512x2048xbf16>, tensor<512x512x2048xbf16>, tensor<512x2048x512xbf16>, tensor<512x2048xbf16>, tensor<512x2048xbf16>, tensor<2048x512xbf16>, tensor<1x2048xbf16>) -> tensor<1x2048xbf16>
  return %y : tensor<1x2048xbf16>
}
