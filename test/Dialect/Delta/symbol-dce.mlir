// RUN: delta-opt %s --symbol-dce | FileCheck %s

// Private weights no function references are dropped by the upstream symbol-dce pass (an MTP head in a
// build without MTP, a tied head's duplicate); referenced weights and all state stay.
// CHECK-NOT: @unused_mtp_fc
// CHECK: delta.weight private @used : tensor<32x64xbf16>
// CHECK: delta.state @conv : tensor<3x64xf32>
delta.weight private @unused_mtp_fc : tensor<64x128xbf16>
delta.weight private @used : tensor<32x64xbf16>
delta.state @conv : tensor<3x64xf32>

// CHECK-LABEL: func.func @decode
func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %w = delta.weight_ref @used : tensor<32x64xbf16>
  %y = delta.linear %x, %w : tensor<1x64xf32>, tensor<32x64xbf16> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}
