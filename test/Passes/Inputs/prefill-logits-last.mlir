// Input of remove-dead-work.mlir (prefill-logits=last).
delta.weight private @n : tensor<64xf32>
delta.weight private @head : tensor<256x64xf32>
// LAST-LABEL: func.func @prefill
// LAST-SAME: -> tensor<1x256xf32>
// LAST: %[[R:.+]] = delta.last_row %arg0 : tensor<?x64xf32> -> tensor<1x64xf32>
// LAST: %[[N:.+]] = delta.rms_norm %[[R]], %{{.+}} one_plus eps(9.99999997E-7) : tensor<1x64xf32>, tensor<64xf32>
// LAST: %[[L:.+]] = delta.lm_head %[[N]], %{{.+}} : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x256xf32>
// LAST: return %[[L]]
// LAST-LABEL: func.func @decode
// LAST-NOT: last_row
func.func @prefill(%h: tensor<?x64xf32>) -> tensor<?x256xf32> {
  %n = delta.weight_ref @n : tensor<64xf32>
  %x = delta.rms_norm %h, %n one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @head : tensor<256x64xf32>
  %l = delta.lm_head %x, %w : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
  return %l : tensor<?x256xf32>
}
func.func @decode(%h: tensor<1x64xf32>) -> tensor<1x256xf32> {
  %n = delta.weight_ref @n : tensor<64xf32>
  %x = delta.rms_norm %h, %n one_plus eps(1.0e-06) : tensor<1x64xf32>, tensor<64xf32>
  %w = delta.weight_ref @head : tensor<256x64xf32>
  %l = delta.lm_head %x, %w : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x256xf32>
  return %l : tensor<1x256xf32>
}
