// RUN: delta-opt %s --split-input-file --delta-fold-norm-scales | FileCheck %s

// A one_plus norm feeding two linears, in two functions: both consumers get a scaled copy, every norm
// loses its weight, and the originals stay declared as the derivation's sources.
delta.weight private @n : tensor<64xf32>
delta.weight private @wq : tensor<32x64xf32>
delta.weight private @wk : !delta.qweight<16x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
// CHECK: delta.weight private @wq : tensor<32x64xf32>
// CHECK-NEXT: delta.weight private @wq.norm_folded : tensor<32x64xf32> = scale_columns_one_plus(@wq, @n)
// CHECK: delta.weight private @wk.norm_folded : !delta.qweight<16x64, {{.*}}> = scale_columns_one_plus(@wk, @n)
// CHECK-LABEL: func.func @prefill
// CHECK: %[[H:.+]] = delta.rms_norm %{{.+}} none eps(9.99999997E-7) : tensor<?x64xf32>
// CHECK: %[[Q:.+]] = delta.weight_ref @wq.norm_folded
// CHECK: delta.linear %[[H]], %[[Q]]
// CHECK: %[[K:.+]] = delta.weight_ref @wk.norm_folded
// CHECK: delta.linear %[[H]], %[[K]]
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x16xf32>) {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %wq = delta.weight_ref @wq : tensor<32x64xf32>
  %q = delta.linear %h, %wq : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %wk = delta.weight_ref @wk : !delta.qweight<16x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  %k = delta.linear %h, %wk : tensor<?x64xf32>, !delta.qweight<16x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<?x16xf32>
  return %q, %k : tensor<?x32xf32>, tensor<?x16xf32>
}
// CHECK-LABEL: func.func @decode
// CHECK: delta.rms_norm %{{.+}} none
// CHECK: delta.weight_ref @wq.norm_folded
// CHECK-NOT: delta.weight_ref @n
func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xf32>
  %wq = delta.weight_ref @wq : tensor<32x64xf32>
  %q = delta.linear %h, %wq : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  return %q : tensor<1x32xf32>
}

// -----

// A plain norm (GGUF stores 1 + w) folds with scale_columns; an untied LM head is a consumer too.
delta.weight private @n : tensor<64xf32>
delta.weight private @head : tensor<256x64xbf16>
// CHECK: delta.weight private @head.norm_folded : tensor<256x64xbf16> = scale_columns(@head, @n)
// CHECK: delta.rms_norm %{{.+}} none
// CHECK: delta.lm_head
func.func @prefill(%x: tensor<?x64xf32>) -> tensor<?x256xf32> {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n plain eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @head : tensor<256x64xbf16>
  %l = delta.lm_head %h, %w : tensor<?x64xf32>, tensor<256x64xbf16> -> tensor<?x256xf32>
  return %l : tensor<?x256xf32>
}

// -----

// A tied head: the table is also read by the embedding, so the final norm keeps its scale (folding
// would store the embedding twice).
delta.weight private @n : tensor<64xf32>
delta.weight private @table : tensor<256x64xf32>
// CHECK-NOT: norm_folded
// CHECK: delta.rms_norm %{{.+}}, %{{.+}} one_plus
func.func @prefill(%ids: tensor<?xi32>) -> tensor<?x256xf32> {
  %t = delta.weight_ref @table : tensor<256x64xf32>
  %e = delta.embedding %t[%ids] : tensor<256x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %e, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %l = delta.lm_head %h, %t : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
  return %l : tensor<?x256xf32>
}

// -----

// A norm with a user that is not a linear (here an add) keeps its scale, in every function.
delta.weight private @n : tensor<64xf32>
delta.weight private @w : tensor<32x64xf32>
// CHECK-NOT: norm_folded
// CHECK: delta.rms_norm %{{.+}}, %{{.+}} one_plus
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x64xf32>) {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @w : tensor<32x64xf32>
  %y = delta.linear %h, %w : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %r = delta.add %x, %h : tensor<?x64xf32>
  return %y, %r : tensor<?x32xf32>, tensor<?x64xf32>
}

// -----

// The same norm weight applied in two places, one of them feeding a non-linear: nothing folds (the
// scale is one weight, so it must fold everywhere or nowhere).
delta.weight private @n : tensor<64xf32>
delta.weight private @w : tensor<32x64xf32>
// CHECK-NOT: norm_folded
// CHECK-COUNT-2: one_plus
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x64xf32>) {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @w : tensor<32x64xf32>
  %y = delta.linear %h, %w : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %h2 = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %r = delta.add %x, %h2 : tensor<?x64xf32>
  return %y, %r : tensor<?x32xf32>, tensor<?x64xf32>
}

// -----

// A consumer weight that another, unnormalized input also multiplies: folding would change that
// product, so nothing folds.
delta.weight private @n : tensor<64xf32>
delta.weight private @w : tensor<32x64xf32>
// CHECK-NOT: norm_folded
func.func @prefill(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @w : tensor<32x64xf32>
  %y = delta.linear %h, %w : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %z = delta.linear %x, %w : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %y, %z : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// A verbatim consumer (checkpoint bf16 kept as bf16) would be rounded twice: nothing folds.
delta.weight private @n : tensor<64xf32>
delta.weight private @w : tensor<32x64xbf16> verbatim
// CHECK-NOT: norm_folded
// CHECK: one_plus
func.func @prefill(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %n = delta.weight_ref @n : tensor<64xf32>
  %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @w : tensor<32x64xbf16>
  %y = delta.linear %h, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
