// RUN: delta-opt %s --split-input-file --delta-pack-weights | FileCheck %s
// RUN: delta-opt %s --split-input-file --delta-pack-weights=interleave-q4 | FileCheck %s --check-prefix=X8

// Under int8 activations, Q8_0 and Q4_0 matrices read by linears, the LM head and the embedding
// are packed; the derivation sources the original (verbatim) weight, and every reference moves to
// the packed copy, in prefill and decode alike. A tied table is packed once for both its readers.
module attributes {delta.act_quant = "int8"} {
  delta.weight private @wq : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> verbatim
  // CHECK: delta.weight private @wq.packed : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, packed> = pack(@wq)
  delta.weight private @tok : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  // CHECK: delta.weight private @tok.packed : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, packed> = pack(@tok)
  // CHECK-LABEL: func.func @prefill
  func.func @prefill(%ids: tensor<?xi32>) -> tensor<?x128xf32> {
    // CHECK: %[[T:.+]] = delta.weight_ref @tok.packed : !delta.qweight<128x64, {{.*}}, packed>
    // CHECK: delta.embedding %[[T]][%{{.+}}] : !delta.qweight<128x64, {{.*}}, packed>
    %t = delta.weight_ref @tok : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %e = delta.embedding %t[%ids] : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>, tensor<?xi32> -> tensor<?x64xf32>
    // CHECK: %[[W:.+]] = delta.weight_ref @wq.packed : !delta.qweight<64x64, {{.*}}, packed>
    // CHECK: delta.linear %{{.+}}, %[[W]] : tensor<?x64xf32>, !delta.qweight<64x64, {{.*}}, packed>
    %w = delta.weight_ref @wq : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>
    %y = delta.linear %e, %w : tensor<?x64xf32>, !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x64xf32>
    // CHECK: delta.lm_head %{{.+}}, %[[T]] : tensor<?x64xf32>, !delta.qweight<128x64, {{.*}}, packed>
    %l = delta.lm_head %y, %t : tensor<?x64xf32>, !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x128xf32>
    return %l : tensor<?x128xf32>
  }
  // CHECK-LABEL: func.func @decode
  // CHECK: delta.weight_ref @wq.packed
  func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
    %w = delta.weight_ref @wq : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>
    %y = delta.linear %x, %w : tensor<1x64xf32>, !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x64xf32>
    return %y : tensor<1x64xf32>
  }
}

// -----

// Left alone: Q4_1 (no packed form), an embedding-only table (nothing to gain), and float weights.
module attributes {delta.act_quant = "int8"} {
  delta.weight private @asym : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks>
  delta.weight private @tok : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  delta.weight private @f : tensor<64x64xbf16>
  // CHECK-NOT: pack(
  // CHECK-LABEL: func.func @prefill
  // CHECK-NOT: packed
  func.func @prefill(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
    %t = delta.weight_ref @tok : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %e = delta.embedding %t[%ids] : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>, tensor<?xi32> -> tensor<?x64xf32>
    %a = delta.weight_ref @asym : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks>
    %y = delta.linear %e, %a : tensor<?x64xf32>, !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks> -> tensor<?x64xf32>
    %f = delta.weight_ref @f : tensor<64x64xbf16>
    %z = delta.linear %y, %f : tensor<?x64xf32>, tensor<64x64xbf16> -> tensor<?x64xf32>
    return %z : tensor<?x64xf32>
  }
}

// -----

// Without int8 activations the f32-activation kernels read the weights, which need GGUF blocks.
module {
  delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  // CHECK-NOT: packed
  func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
    %w = delta.weight_ref @w : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %y = delta.linear %x, %w : tensor<1x64xf32>, !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x64xf32>
    return %y : tensor<1x64xf32>
  }
}

// -----

// With interleave-q4 (the AVX2 targets) Q4_0 takes the packed_x8 layout and Q8_0 stays packed.
module attributes {delta.act_quant = "int8"} {
  delta.weight private @w4 : !delta.qweight<64x288, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> verbatim
  // CHECK: delta.weight private @w4.packed : !delta.qweight<64x288, {{.*}}, packed> = pack(@w4)
  // X8: delta.weight private @w4.packed : !delta.qweight<64x288, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, packed_x8> = pack(@w4)
  delta.weight private @w8 : !delta.qweight<288x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  // X8: delta.weight private @w8.packed : !delta.qweight<288x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, packed> = pack(@w8)
  // X8-LABEL: func.func @interleaved
  func.func @interleaved(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
    // X8: %[[A:.+]] = delta.weight_ref @w8.packed : !delta.qweight<288x64, {{.*}}, packed>
    // X8: delta.linear %{{.+}}, %[[A]]
    %a = delta.weight_ref @w8 : !delta.qweight<288x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %h = delta.linear %x, %a : tensor<1x64xf32>, !delta.qweight<288x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x288xf32>
    // X8: %[[B:.+]] = delta.weight_ref @w4.packed : !delta.qweight<64x288, {{.*}}, packed_x8>
    // X8: delta.linear %{{.+}}, %[[B]] : tensor<1x288xf32>, !delta.qweight<64x288, {{.*}}, packed_x8>
    %b = delta.weight_ref @w4 : !delta.qweight<64x288, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>
    %y = delta.linear %h, %b : tensor<1x288xf32>, !delta.qweight<64x288, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x64xf32>
    return %y : tensor<1x64xf32>
  }
}
