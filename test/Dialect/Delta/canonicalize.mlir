// RUN: delta-opt %s --split-input-file --canonicalize | FileCheck %s

// A reshape to the type it already has disappears.
// CHECK-LABEL: func.func @identity_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>)
// CHECK-NOT: delta.reshape
// CHECK: return %[[X]]
func.func @identity_reshape(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %r = delta.reshape %x : tensor<?x64xf32> -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// Splitting heads and merging them back is the identity.
// CHECK-LABEL: func.func @split_then_merge_heads
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>)
// CHECK-NOT: delta.reshape
// CHECK: return %[[X]]
func.func @split_then_merge_heads(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %h = delta.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %m = delta.reshape %h : tensor<?x4x16xf32> -> tensor<?x64xf32>
  return %m : tensor<?x64xf32>
}

// -----

// Two reshapes in a row become one reshape of the original value.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>)
// CHECK-NEXT: %[[R:.+]] = delta.reshape %[[X]] : tensor<?x64xf32> -> tensor<?x2x32xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<?x64xf32>) -> tensor<?x2x32xf32> {
  %h = delta.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %m = delta.reshape %h : tensor<?x4x16xf32> -> tensor<?x2x32xf32>
  return %m : tensor<?x2x32xf32>
}

// -----

// Pure delta ops whose results are unused are removed; state updates that are written back stay.
// CHECK-LABEL: func.func @dead_linear
// CHECK-NOT: delta.linear
// CHECK: return
func.func @dead_linear(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>) {
  %y = delta.linear %x, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return
}
