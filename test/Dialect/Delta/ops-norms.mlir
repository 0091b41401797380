// RUN: delta-opt %s | FileCheck %s
// RUN: delta-opt %s | delta-opt | FileCheck %s
// RUN: delta-opt %s --mlir-print-op-generic | delta-opt | FileCheck %s

// rms_norm with the zero-centred one_plus scale and a bf16 weight.
// CHECK-LABEL: func.func @rms_norm_one_plus
func.func @rms_norm_one_plus(%x: tensor<?x64xf32>, %w: tensor<64xbf16>) -> tensor<?x64xf32> {
  // CHECK-SAME: ([[X:%.+]]: tensor<?x64xf32>, [[W:%.+]]: tensor<64xbf16>)
  // CHECK: [[N:%.+]] = delta.rms_norm [[X]], [[W]] one_plus eps(9.99999997E-7) : tensor<?x64xf32>, tensor<64xbf16>
  // CHECK: return [[N]]
  %n = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xbf16>
  return %n : tensor<?x64xf32>
}

// rms_norm with the plain scale, on bf16 activations of one decode token.
// CHECK-LABEL: func.func @rms_norm_plain
func.func @rms_norm_plain(%x: tensor<1x64xbf16>, %w: tensor<64xf32>) -> tensor<1x64xbf16> {
  // CHECK-SAME: ([[X:%.+]]: tensor<1x64xbf16>, [[W:%.+]]: tensor<64xf32>)
  // CHECK: delta.rms_norm [[X]], [[W]] plain eps(9.99999974E-6) : tensor<1x64xbf16>, tensor<64xf32>
  %n = delta.rms_norm %x, %w plain eps(1.0e-05) : tensor<1x64xbf16>, tensor<64xf32>
  return %n : tensor<1x64xbf16>
}

// rms_norm without a weight (what delta-fold-norm-scales leaves).
// CHECK-LABEL: func.func @rms_norm_none
func.func @rms_norm_none(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: delta.rms_norm %{{.+}} none eps(9.99999997E-7) : tensor<?x64xf32>
  // CHECK-NOT: tensor<64x
  %n = delta.rms_norm %x none eps(1.0e-06) : tensor<?x64xf32>
  return %n : tensor<?x64xf32>
}

// rms_norm applied per head (q_norm / k_norm) over the last dimension of a rank-3 tensor.
// CHECK-LABEL: func.func @rms_norm_per_head
func.func @rms_norm_per_head(%q: tensor<?x4x16xf32>, %w: tensor<16xbf16>) -> tensor<?x4x16xf32> {
  // CHECK: delta.rms_norm %{{.+}}, %{{.+}} one_plus eps(9.99999997E-7) : tensor<?x4x16xf32>, tensor<16xbf16>
  %n = delta.rms_norm %q, %w one_plus eps(1.0e-06) : tensor<?x4x16xf32>, tensor<16xbf16>
  return %n : tensor<?x4x16xf32>
}

// l2_norm over each query / key head.
// CHECK-LABEL: func.func @l2_norm
func.func @l2_norm(%q: tensor<?x4x16xf32>) -> tensor<?x4x16xf32> {
  // CHECK-SAME: ([[Q:%.+]]: tensor<?x4x16xf32>)
  // CHECK: [[N:%.+]] = delta.l2_norm [[Q]] eps(9.99999997E-7) : tensor<?x4x16xf32>
  // CHECK: return [[N]]
  %n = delta.l2_norm %q eps(1.0e-06) : tensor<?x4x16xf32>
  return %n : tensor<?x4x16xf32>
}

// gated_rms_norm of the delta-rule output with its z gate and a plain per-head weight.
// CHECK-LABEL: func.func @gated_rms_norm
func.func @gated_rms_norm(%o: tensor<?x4x16xf32>, %z: tensor<?x4x16xf32>, %w: tensor<16xf32>) -> tensor<?x4x16xf32> {
  // CHECK-SAME: ([[O:%[^:]+]]: tensor<?x4x16xf32>, [[Z:%[^:]+]]: tensor<?x4x16xf32>, [[W:%[^:]+]]: tensor<16xf32>)
  // CHECK: [[Y:%.+]] = delta.gated_rms_norm [[O]], [[Z]], [[W]] eps(9.99999997E-7) : tensor<?x4x16xf32>, tensor<16xf32>
  // CHECK: return [[Y]]
  %y = delta.gated_rms_norm %o, %z, %w eps(1.0e-06) : tensor<?x4x16xf32>, tensor<16xf32>
  return %y : tensor<?x4x16xf32>
}

// Real Qwen3.5-0.8B shapes: the layer norm over hidden 1024, q_norm over hd 256, the l2 norm and gated
// norm over dk = dv = 128 with nk = nv = 16.
// CHECK-LABEL: func.func @norms_qwen35_0_8b
func.func @norms_qwen35_0_8b(%x: tensor<?x1024xf32>, %wx: tensor<1024xbf16>, %q: tensor<?x8x256xf32>, %wq: tensor<256xbf16>,
                             %k: tensor<?x16x128xf32>, %z: tensor<?x16x128xf32>, %wn: tensor<128xbf16>)
    -> (tensor<?x1024xf32>, tensor<?x8x256xf32>, tensor<?x16x128xf32>, tensor<?x16x128xf32>) {
  // CHECK: delta.rms_norm %{{.+}}, %{{.+}} one_plus eps(9.99999997E-7) : tensor<?x1024xf32>, tensor<1024xbf16>
  // CHECK: delta.rms_norm %{{.+}}, %{{.+}} one_plus eps(9.99999997E-7) : tensor<?x8x256xf32>, tensor<256xbf16>
  // CHECK: delta.l2_norm %{{.+}} eps(9.99999997E-7) : tensor<?x16x128xf32>
  // CHECK: delta.gated_rms_norm %{{.+}}, %{{.+}}, %{{.+}} eps(9.99999997E-7) : tensor<?x16x128xf32>, tensor<128xbf16>
  %0 = delta.rms_norm %x, %wx one_plus eps(1.0e-06) : tensor<?x1024xf32>, tensor<1024xbf16>
  %1 = delta.rms_norm %q, %wq one_plus eps(1.0e-06) : tensor<?x8x256xf32>, tensor<256xbf16>
  %2 = delta.l2_norm %k eps(1.0e-06) : tensor<?x16x128xf32>
  %3 = delta.gated_rms_norm %k, %z, %wn eps(1.0e-06) : tensor<?x16x128xf32>, tensor<128xbf16>
  return %0, %1, %2, %3 : tensor<?x1024xf32>, tensor<?x8x256xf32>, tensor<?x16x128xf32>, tensor<?x16x128xf32>
}
