// RUN: delta-opt %s --split-input-file --delta-remove-dead-work | FileCheck %s

// An unused chain goes entirely, and so do the private declarations only it used; public ones and
// state stay.
delta.weight private @used : tensor<32x64xf32>
delta.weight private @dead : tensor<32x64xf32>
delta.weight @public_unused : tensor<8xf32>
delta.weight private @mtp.fc.weight : tensor<64x128xf32>
// CHECK: delta.weight private @used
// CHECK-NOT: @dead
// CHECK: delta.weight @public_unused
// CHECK-NOT: @mtp
// CHECK-LABEL: func.func @prefill
// CHECK-COUNT-1: delta.linear
// CHECK-NOT: delta.swiglu
func.func @prefill(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %w = delta.weight_ref @used : tensor<32x64xf32>
  %y = delta.linear %x, %w : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %d = delta.weight_ref @dead : tensor<32x64xf32>
  %z = delta.linear %x, %d : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %s = delta.swiglu %z, %z : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// A merged linear with an unused piece loses that piece's rows; the originals stay as sources.
delta.weight private @a : tensor<16x64xf32>
delta.weight private @b : tensor<8x64xf32>
delta.weight private @c : tensor<4x64xf32>
delta.weight private @"a+b+c" : tensor<28x64xf32> = concat_rows(@a, @b, @c)
// CHECK: delta.weight private @a
// CHECK: delta.weight private @c
// CHECK-NOT: @"a+b+c"
// CHECK: delta.weight private @"a+c" : tensor<20x64xf32> = concat_rows(@a, @c)
// CHECK: %[[W:.+]] = delta.weight_ref @"a+c" : tensor<20x64xf32>
// CHECK: %[[M:.+]] = delta.linear %arg0, %[[W]] : tensor<?x64xf32>, tensor<20x64xf32> -> tensor<?x20xf32>
// CHECK: %[[S:.+]]:2 = delta.split %[[M]] : tensor<?x20xf32> -> tensor<?x16xf32>, tensor<?x4xf32>
// CHECK: return %[[S]]#0, %[[S]]#1
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x16xf32>, tensor<?x4xf32>) {
  %w = delta.weight_ref @"a+b+c" : tensor<28x64xf32>
  %m = delta.linear %x, %w : tensor<?x64xf32>, tensor<28x64xf32> -> tensor<?x28xf32>
  %a, %b, %c = delta.split %m : tensor<?x28xf32> -> tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x4xf32>
  return %a, %c : tensor<?x16xf32>, tensor<?x4xf32>
}

// -----

// One piece left: the linear reads that source weight directly, with no split.
delta.weight private @a : tensor<16x64xf32>
delta.weight private @b : tensor<8x64xf32>
delta.weight private @ab : tensor<24x64xf32> = concat_rows(@a, @b)
// CHECK-NOT: @ab
// CHECK: %[[W:.+]] = delta.weight_ref @b : tensor<8x64xf32>
// CHECK: %[[M:.+]] = delta.linear %arg0, %[[W]] : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x8xf32>
// CHECK-NOT: delta.split
// CHECK: return %[[M]]
func.func @prefill(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %w = delta.weight_ref @ab : tensor<24x64xf32>
  %m = delta.linear %x, %w : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  %a, %b = delta.split %m : tensor<?x24xf32> -> tensor<?x16xf32>, tensor<?x8xf32>
  return %b : tensor<?x8xf32>
}

// -----

// State updates are not dead work: the conv whose output is unused still runs for its new state.
delta.state @conv : tensor<3x8xf32>
delta.weight private @w : tensor<8x4xf32>
// CHECK: delta.causal_conv1d
// CHECK: delta.state_write
func.func @decode(%x: tensor<1x8xf32>) {
  %w = delta.weight_ref @w : tensor<8x4xf32>
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  %y, %s1 = delta.causal_conv1d %x, %w, %s0 activation(silu) : tensor<1x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  delta.state_write %s1, @conv : tensor<3x8xf32>
  return
}

// -----

// A split of something other than a merged linear is left alone (its unused piece is just not read).
delta.weight private @w : tensor<24x64xf32>
// CHECK: delta.weight_ref @w : tensor<24x64xf32>
// CHECK: delta.split
func.func @prefill(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %w = delta.weight_ref @w : tensor<24x64xf32>
  %m = delta.linear %x, %w : tensor<?x64xf32>, tensor<24x64xf32> -> tensor<?x24xf32>
  %a, %b = delta.split %m : tensor<?x24xf32> -> tensor<?x16xf32>, tensor<?x8xf32>
  return %b : tensor<?x8xf32>
}


// prefill-logits=last (on Inputs/prefill-logits-last.mlir, since every @prefill above would be refused
// for not returning an LM head): the final norm and the LM head run on the last token's row only, and
// @prefill returns one row; decode is untouched.
// RUN: delta-opt %S/Inputs/prefill-logits-last.mlir --delta-remove-dead-work=prefill-logits=last | FileCheck %s --check-prefix=LAST
// LAST-LABEL: func.func @prefill
// LAST-SAME: -> tensor<1x256xf32>
// LAST: %[[R:.+]] = delta.last_row %arg0 : tensor<?x64xf32> -> tensor<1x64xf32>
// LAST: %[[N:.+]] = delta.rms_norm %[[R]], %{{.+}} one_plus eps(9.99999997E-7) : tensor<1x64xf32>, tensor<64xf32>
// LAST: %[[L:.+]] = delta.lm_head %[[N]], %{{.+}} : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x256xf32>
// LAST: return %[[L]]
// LAST-LABEL: func.func @decode
// LAST-NOT: last_row

// A module whose @prefill does not end in an LM head is refused with prefill-logits=last.
// RUN: not delta-opt %s --split-input-file --delta-remove-dead-work=prefill-logits=last 2>&1 | FileCheck %s --check-prefix=REFUSED
// REFUSED: error: prefill-logits=last needs @prefill to return one delta.lm_head result
// RUN: not delta-opt %S/Inputs/prefill-logits-last.mlir --delta-remove-dead-work=prefill-logits=first 2>&1 | FileCheck %s --check-prefix=BADOPT
// BADOPT: error: prefill-logits must be 'all' or 'last', got 'first'
