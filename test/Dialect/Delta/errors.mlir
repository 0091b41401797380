// RUN: delta-opt %s --split-input-file --verify-diagnostics

// A weight's type must be a float tensor or a quantized weight, not an i32 tensor (ODS constraint).
// expected-error @+1 {{'delta.weight' op attribute 'type' failed to satisfy constraint: type attribute of float tensor or quantized weight}}
delta.weight private @w : tensor<4x4xi32>

// -----

// A weight must be statically shaped (ODS constraint).
// expected-error @+1 {{'delta.weight' op attribute 'type' failed to satisfy constraint: type attribute of float tensor or quantized weight}}
delta.weight private @w : tensor<?x4xf32>

// -----

// A weight may only be declared at module level (ODS HasParent).
func.func @weight_in_function() {
  // expected-error @+1 {{'delta.weight' op expects parent op 'builtin.module'}}
  delta.weight private @w : tensor<4xf32>
  return
}

// -----

// A state must be a statically shaped float tensor (ODS constraint).
// expected-error @+1 {{'delta.state' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of f32, f16 or bf16 values}}
delta.state @s : tensor<?x16xf32>

// -----

// A state cannot be a quantized weight (ODS constraint).
// expected-error @+1 {{'delta.state' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of f32, f16 or bf16 values}}
delta.state @s : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>

// -----

// weight_ref to a symbol that is not declared.
func.func @weight_ref_missing() -> tensor<4xf32> {
  // expected-error @+1 {{'delta.weight_ref' op refers to @missing, which is not declared}}
  %w = delta.weight_ref @missing : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// weight_ref to a delta.state instead of a delta.weight.
delta.state @s : tensor<4xf32>
func.func @weight_ref_to_state() -> tensor<4xf32> {
  // expected-error @+1 {{'delta.weight_ref' op refers to @s, which is not a delta.weight}}
  %w = delta.weight_ref @s : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// weight_ref whose result type differs from the declared type.
delta.weight private @w : tensor<4x8xbf16>
func.func @weight_ref_type_mismatch() -> tensor<4x8xf32> {
  // expected-error @+1 {{'delta.weight_ref' op result type 'tensor<4x8xf32>' does not match @w, declared as 'tensor<4x8xbf16>'}}
  %w = delta.weight_ref @w : tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}

// -----

// weight_ref whose result is an i32 tensor (ODS constraint).
func.func @weight_ref_i32() {
  // expected-error @+1 {{'delta.weight_ref' op result #0 must be float tensor or quantized weight}}
  %w = delta.weight_ref @w : tensor<4xi32>
  return
}

// -----

// state_read of a symbol that is not declared.
func.func @state_read_missing() -> tensor<4xf32> {
  // expected-error @+1 {{'delta.state_read' op refers to @missing, which is not declared}}
  %s = delta.state_read @missing : tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// state_read of a delta.weight instead of a delta.state.
delta.weight private @w : tensor<4xf32>
func.func @state_read_weight() -> tensor<4xf32> {
  // expected-error @+1 {{'delta.state_read' op refers to @w, which is not a delta.state}}
  %s = delta.state_read @w : tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// state_read whose type differs from the declared state type.
delta.state @s : tensor<3x64xf32>
func.func @state_read_type_mismatch() -> tensor<3x64xbf16> {
  // expected-error @+1 {{'delta.state_read' op type 'tensor<3x64xbf16>' does not match @s, declared as 'tensor<3x64xf32>'}}
  %s = delta.state_read @s : tensor<3x64xbf16>
  return %s : tensor<3x64xbf16>
}

// -----

// state_write of a value whose type differs from the declared state type.
delta.state @s : tensor<3x64xf32>
func.func @state_write_type_mismatch(%v: tensor<4x64xf32>) {
  // expected-error @+1 {{'delta.state_write' op type 'tensor<4x64xf32>' does not match @s, declared as 'tensor<3x64xf32>'}}
  delta.state_write %v, @s : tensor<4x64xf32>
  return
}

// -----

// state_write to a symbol that is not declared.
func.func @state_write_missing(%v: tensor<4xf32>) {
  // expected-error @+1 {{'delta.state_write' op refers to @missing, which is not declared}}
  delta.state_write %v, @missing : tensor<4xf32>
  return
}

// -----

// state_write to a delta.weight instead of a delta.state.
delta.weight private @w : tensor<4xf32>
func.func @state_write_weight(%v: tensor<4xf32>) {
  // expected-error @+1 {{'delta.state_write' op refers to @w, which is not a delta.state}}
  delta.state_write %v, @w : tensor<4xf32>
  return
}

// -----

// state_write of a dynamically shaped value (ODS constraint).
func.func @state_write_dynamic(%v: tensor<?x64xf32>) {
  // expected-error @+1 {{'delta.state_write' op operand #0 must be statically shaped tensor of f32, f16 or bf16 values}}
  delta.state_write %v, @s : tensor<?x64xf32>
  return
}

// -----

// reshape may not change the element type.
func.func @reshape_element_type(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'delta.reshape' op must keep the element type, got 'f32' and 'bf16'}}
  %0 = delta.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xbf16>
  return
}

// -----

// reshape needs a leading token dimension (rank-0 input).
func.func @reshape_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'delta.reshape' op needs a leading token dimension on both sides}}
  %0 = delta.reshape %x : tensor<f32> -> tensor<1xf32>
  return
}

// -----

// reshape must keep the leading (token) dimension.
func.func @reshape_leading(%x: tensor<2x64xf32>) {
  // expected-error @+1 {{'delta.reshape' op must keep the leading dimension, got 2 and 4}}
  %0 = delta.reshape %x : tensor<2x64xf32> -> tensor<4x32xf32>
  return
}

// -----

// reshape needs static trailing dimensions.
func.func @reshape_dynamic_trailing(%x: tensor<?x?xf32>) {
  // expected-error @+1 {{'delta.reshape' op trailing dimensions must be static}}
  %0 = delta.reshape %x : tensor<?x?xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// reshape must keep the number of values per token.
func.func @reshape_values_per_token(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'delta.reshape' op must keep the number of values per token, got 64 and 48}}
  %0 = delta.reshape %x : tensor<?x64xf32> -> tensor<?x4x12xf32>
  return
}

// -----

// split with no result (only expressible in generic form).
func.func @split_no_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'delta.split' op must have at least one result}}
  "delta.split"(%x) : (tensor<4x8xf32>) -> ()
  return
}

// -----

// split of a rank-0 tensor, which has no last dimension to split.
func.func @split_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'delta.split' op input must have at least one dimension, got 'tensor<f32>'}}
  %0 = delta.split %x : tensor<f32> -> tensor<f32>
  return
}

// -----

// split whose result has another rank than the input.
func.func @split_rank(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'delta.split' op result #1 must have the input's rank and element type, got 'tensor<4x2x2xf32>'}}
  %a, %b = delta.split %x : tensor<4x8xf32> -> tensor<4x4xf32>, tensor<4x2x2xf32>
  return
}

// -----

// split whose result has another element type than the input.
func.func @split_element_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'delta.split' op result #0 must have the input's rank and element type, got 'tensor<4x4xf16>'}}
  %a, %b = delta.split %x : tensor<4x8xf32> -> tensor<4x4xf16>, tensor<4x4xf32>
  return
}

// -----

// split whose result changes a leading dimension.
func.func @split_leading(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'delta.split' op result #1 dimension 0 (2) must equal the input's dimension (4)}}
  %a, %b = delta.split %x : tensor<4x8xf32> -> tensor<4x4xf32>, tensor<2x4xf32>
  return
}

// -----

// split whose result has a dynamic last dimension.
func.func @split_dynamic_width(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'delta.split' op result #0 must have a static last dimension}}
  %a, %b = delta.split %x : tensor<4x8xf32> -> tensor<4x?xf32>, tensor<4x4xf32>
  return
}

// -----

// split whose result widths do not add up to the input's last dimension.
func.func @split_widths(%x: tensor<?x6144xf32>) {
  // expected-error @+1 {{'delta.split' op result widths add up to 6000, but the input's last dimension is 6144}}
  %q, %k, %v = delta.split %x : tensor<?x6144xf32> -> tensor<?x2048xf32>, tensor<?x2048xf32>, tensor<?x1904xf32>
  return
}

// -----

// concat with no input (only expressible in generic form).
func.func @concat_no_input() {
  // expected-error @+1 {{'delta.concat' op must have at least one input}}
  %0 = "delta.concat"() : () -> tensor<4x8xf32>
  return
}

// -----

// concat to a rank-0 result, which has no last dimension to concatenate along.
func.func @concat_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{'delta.concat' op result must have at least one dimension, got 'tensor<f32>'}}
  %0 = delta.concat %x : tensor<f32> -> tensor<f32>
  return
}

// -----

// concat to a result with a dynamic last dimension.
func.func @concat_dynamic_result(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'delta.concat' op result must have a static last dimension, got 'tensor<4x?xf32>'}}
  %0 = delta.concat %x, %x : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x?xf32>
  return
}

// -----

// concat of an input with another rank than the result.
func.func @concat_rank(%x: tensor<4x8xf32>, %y: tensor<4x2x4xf32>) {
  // expected-error @+1 {{'delta.concat' op input #1 must have the result's rank and element type, got 'tensor<4x2x4xf32>'}}
  %0 = delta.concat %x, %y : tensor<4x8xf32>, tensor<4x2x4xf32> -> tensor<4x16xf32>
  return
}

// -----

// concat of an input with another element type than the result.
func.func @concat_element_type(%x: tensor<4x8xf32>, %y: tensor<4x8xbf16>) {
  // expected-error @+1 {{'delta.concat' op input #1 must have the result's rank and element type, got 'tensor<4x8xbf16>'}}
  %0 = delta.concat %x, %y : tensor<4x8xf32>, tensor<4x8xbf16> -> tensor<4x16xf32>
  return
}

// -----

// concat of an input whose leading dimension differs from the result's.
func.func @concat_leading(%x: tensor<4x8xf32>, %y: tensor<3x8xf32>) {
  // expected-error @+1 {{'delta.concat' op input #1 dimension 0 (3) must equal the result's dimension (4)}}
  %0 = delta.concat %x, %y : tensor<4x8xf32>, tensor<3x8xf32> -> tensor<4x16xf32>
  return
}

// -----

// concat of an input with a dynamic last dimension.
func.func @concat_dynamic_input(%x: tensor<4x8xf32>, %y: tensor<4x?xf32>) {
  // expected-error @+1 {{'delta.concat' op input #1 must have a static last dimension}}
  %0 = delta.concat %x, %y : tensor<4x8xf32>, tensor<4x?xf32> -> tensor<4x16xf32>
  return
}

// -----

// concat whose input widths do not add up to the result's last dimension.
func.func @concat_widths(%e: tensor<?x1024xf32>, %h: tensor<?x1024xf32>) {
  // expected-error @+1 {{'delta.concat' op input widths add up to 2048, but the result's last dimension is 1024}}
  %0 = delta.concat %e, %h : tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x1024xf32>
  return
}

// -----

// rms_norm input needs a static last dimension.
func.func @rms_norm_dynamic_row(%x: tensor<4x?xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op input must have a static last dimension, got 'tensor<4x?xf32>'}}
  %0 = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<4x?xf32>, tensor<64xf32>
  return
}

// -----

// rms_norm of a rank-0 input has no last dimension.
func.func @rms_norm_rank0(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op input must have a static last dimension, got 'tensor<f32>'}}
  %0 = delta.rms_norm %x, %w plain eps(1.0e-06) : tensor<f32>, tensor<1xf32>
  return
}

// -----

// rms_norm weight must be a vector.
func.func @rms_norm_weight_rank(%x: tensor<?x64xf32>, %w: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op weight must have rank 1, got 'tensor<1x64xf32>'}}
  %0 = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<1x64xf32>
  return
}

// -----

// rms_norm weight length must equal the normalized dimension.
func.func @rms_norm_weight_length(%x: tensor<?x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op weight dimension 0 (32) must equal the input's last dimension (64)}}
  %0 = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<32xf32>
  return
}

// -----

// rms_norm eps must be positive (zero).
func.func @rms_norm_eps_zero(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op eps must be positive and finite, got 0.000000e+00}}
  %0 = delta.rms_norm %x, %w one_plus eps(0.0) : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

// rms_norm weight must be statically shaped (ODS constraint).
func.func @rms_norm_dynamic_weight(%x: tensor<?x64xf32>, %w: tensor<?xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op operand #1 must be statically shaped tensor of f32, f16 or bf16 values}}
  %0 = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<?x64xf32>, tensor<?xf32>
  return
}

// -----

// rms_norm of an integer tensor (ODS constraint).
func.func @rms_norm_integer(%x: tensor<?x64xi32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<?x64xi32>'}}
  %0 = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<?x64xi32>, tensor<64xf32>
  return
}

// -----

// l2_norm eps must be positive (negative).
func.func @l2_norm_eps_negative(%q: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'delta.l2_norm' op eps must be positive and finite, got -1.000000e-05}}
  %0 = delta.l2_norm %q eps(-1.0e-05) : tensor<?x4x16xf32>
  return
}

// -----

// l2_norm eps must be finite (infinity).
func.func @l2_norm_eps_inf(%q: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'delta.l2_norm' op eps must be positive and finite, got INF}}
  %0 = delta.l2_norm %q eps(0x7F800000) : tensor<?x4x16xf32>
  return
}

// -----

// l2_norm input needs a static last dimension.
func.func @l2_norm_dynamic_row(%q: tensor<?x4x?xf32>) {
  // expected-error @+1 {{'delta.l2_norm' op input must have a static last dimension, got 'tensor<?x4x?xf32>'}}
  %0 = delta.l2_norm %q eps(1.0e-06) : tensor<?x4x?xf32>
  return
}

// -----

// gated_rms_norm weight length must equal the head dimension.
func.func @gated_rms_norm_weight_length(%o: tensor<?x4x16xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'delta.gated_rms_norm' op weight dimension 0 (64) must equal the input's last dimension (16)}}
  %0 = delta.gated_rms_norm %o, %o, %w eps(1.0e-06) : tensor<?x4x16xf32>, tensor<64xf32>
  return
}

// -----

// gated_rms_norm gate must have the input's type (ODS AllTypesMatch, generic form).
func.func @gated_rms_norm_gate_type(%o: tensor<?x4x16xf32>, %z: tensor<?x4x16xbf16>, %w: tensor<16xf32>) {
  // expected-error @+1 {{'delta.gated_rms_norm' op failed to verify that all of {input, gate, result} have same type}}
  %0 = "delta.gated_rms_norm"(%o, %z, %w) <{eps = 1.0e-06 : f32}> : (tensor<?x4x16xf32>, tensor<?x4x16xbf16>, tensor<16xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

// embedding table must be a matrix (a rank-3 quantized stack is not).
func.func @embedding_table_rank(%t: !delta.qweight<2x512x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'delta.embedding' op table must have rank 2, got '!delta.qweight<2x512x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>'}}
  %0 = delta.embedding %t[%ids] : !delta.qweight<2x512x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>, tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

// embedding result must be [T, H].
func.func @embedding_result_rank(%t: tensor<512x64xbf16>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'delta.embedding' op result must have rank 2, got 'tensor<?x4x16xf32>'}}
  %0 = delta.embedding %t[%ids] : tensor<512x64xbf16>, tensor<?xi32> -> tensor<?x4x16xf32>
  return
}

// -----

// embedding result needs one row per id.
func.func @embedding_result_rows(%t: tensor<512x64xbf16>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{'delta.embedding' op result dimension 0 (3) must equal the number of ids (4)}}
  %0 = delta.embedding %t[%ids] : tensor<512x64xbf16>, tensor<4xi32> -> tensor<3x64xf32>
  return
}

// -----

// embedding result rows must have the table's row length.
func.func @embedding_result_width(%t: tensor<512x64xbf16>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'delta.embedding' op result dimension 1 (32) must equal the table's row length (64)}}
  %0 = delta.embedding %t[%ids] : tensor<512x64xbf16>, tensor<?xi32> -> tensor<?x32xf32>
  return
}

// -----

// embedding ids must be i32 (ODS constraint).
func.func @embedding_ids_i64(%t: tensor<512x64xbf16>, %ids: tensor<?xi64>) {
  // expected-error @+1 {{'delta.embedding' op operand #1 must be 1D tensor of 32-bit signless integer values}}
  %0 = delta.embedding %t[%ids] : tensor<512x64xbf16>, tensor<?xi64> -> tensor<?x64xf32>
  return
}

// -----

// linear result must keep the input's element type.
func.func @linear_element_type(%x: tensor<?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'delta.linear' op input and result must have the same element type, got 'f32' and 'bf16'}}
  %0 = delta.linear %x, %w : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xbf16>
  return
}

// -----

// linear weight must be a matrix (a rank-3 expert stack is not).
func.func @linear_weight_rank(%x: tensor<?x64xf32>, %w: !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>) {
  // expected-error @+1 {{'delta.linear' op weight must have rank 2, got '!delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>'}}
  %0 = delta.linear %x, %w : tensor<?x64xf32>, !delta.qweight<8x32x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major> -> tensor<?x32xf32>
  return
}

// -----

// linear of a rank-0 input.
func.func @linear_input_rank0(%x: tensor<f32>, %w: tensor<4x4xf32>) {
  // expected-error @+1 {{'delta.linear' op input must have at least one dimension, got 'tensor<f32>'}}
  %0 = delta.linear %x, %w : tensor<f32>, tensor<4x4xf32> -> tensor<f32>
  return
}

// -----

// linear result must have the input's rank.
func.func @linear_result_rank(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'delta.linear' op result must have the input's rank, got 'tensor<?x64xf32>' and 'tensor<?x2x64xf32>'}}
  %0 = delta.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x2x64xf32>
  return
}

// -----

// linear weight's row length must equal the input's last dimension (PyTorch [out, in] layout).
func.func @linear_weight_transposed(%x: tensor<?x64xf32>, %w: tensor<64x128xf32>) {
  // expected-error @+1 {{'delta.linear' op weight dimension 1 (128) must equal the input's last dimension (64)}}
  %0 = delta.linear %x, %w : tensor<?x64xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  return
}

// -----

// linear result's last dimension must equal the weight's row count.
func.func @linear_result_width(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'delta.linear' op result dimension 1 (64) must equal the weight's row count (128)}}
  %0 = delta.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x64xf32>
  return
}

// -----

// linear result must keep the input's leading dimensions.
func.func @linear_result_tokens(%x: tensor<2x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'delta.linear' op result dimension 0 (3) must equal the input's dimension (2)}}
  %0 = delta.linear %x, %w : tensor<2x64xf32>, tensor<128x64xf32> -> tensor<3x128xf32>
  return
}

// -----

// linear weight must be a float tensor or quantized weight, not i8 codes (ODS constraint).
func.func @linear_weight_i8(%x: tensor<?x64xf32>, %w: tensor<128x64xi8>) {
  // expected-error @+1 {{'delta.linear' op operand #1 must be float tensor or quantized weight}}
  %0 = delta.linear %x, %w : tensor<?x64xf32>, tensor<128x64xi8> -> tensor<?x128xf32>
  return
}

// -----

// lm_head input must be [T, H].
func.func @lm_head_input_rank(%x: tensor<?x4x16xf32>, %w: tensor<512x16xf32>) {
  // expected-error @+1 {{'delta.lm_head' op input must have rank 2, got 'tensor<?x4x16xf32>'}}
  %0 = delta.lm_head %x, %w : tensor<?x4x16xf32>, tensor<512x16xf32> -> tensor<?x4x512xf32>
  return
}

// -----

// lm_head vocabulary size must match the weight's rows.
func.func @lm_head_vocab(%x: tensor<?x1024xf32>, %w: tensor<248320x1024xbf16>) {
  // expected-error @+1 {{'delta.lm_head' op result dimension 1 (151936) must equal the weight's row count (248320)}}
  %0 = delta.lm_head %x, %w : tensor<?x1024xf32>, tensor<248320x1024xbf16> -> tensor<?x151936xf32>
  return
}

// -----

// lm_head logits must be f32 (ODS constraint).
func.func @lm_head_bf16_logits(%x: tensor<?x64xf32>, %w: tensor<512x64xbf16>) {
  // expected-error @+1 {{'delta.lm_head' op result #0 must be ranked tensor of 32-bit float values}}
  %0 = delta.lm_head %x, %w : tensor<?x64xf32>, tensor<512x64xbf16> -> tensor<?x512xbf16>
  return
}

// -----

// add operands must have one type (ODS SameOperandsAndResultType, generic form).
func.func @add_mismatch(%x: tensor<?x64xf32>, %y: tensor<?x64xbf16>) {
  // expected-error @+1 {{'delta.add' op requires the same type for all operands and results}}
  %0 = "delta.add"(%x, %y) : (tensor<?x64xf32>, tensor<?x64xbf16>) -> tensor<?x64xf32>
  return
}

// -----

// swiglu operands must have one type (ODS SameOperandsAndResultType, generic form).
func.func @swiglu_mismatch(%g: tensor<?x128xf32>, %u: tensor<?x64xf32>) {
  // expected-error @+1 {{'delta.swiglu' op requires the same type for all operands and results}}
  %0 = "delta.swiglu"(%g, %u) : (tensor<?x128xf32>, tensor<?x64xf32>) -> tensor<?x128xf32>
  return
}

// -----

// Quantized storage must be i4 or i8 (i3).
// expected-error @+2 {{quantized storage must be i4 or i8, got 'i3'}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = i3, group_size = 32, scale_type = f16>, row_major>

// -----

// Quantized storage must be signless (si4).
// expected-error @+2 {{quantized storage must be signless (i4 or i8); the scheme's offset decides whether codes are signed, got 'si4'}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = si4, group_size = 32, scale_type = f16>, row_major>

// -----

// group_size may not be negative.
// expected-error @+2 {{group_size must be positive, or 0 for one group per row, got -32}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = -32, scale_type = f16>, row_major>

// -----

// i4 groups must hold whole bytes (odd group size).
// expected-error @+2 {{i4 groups must hold an even number of values, got group_size 7}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x63, #delta.quant<storage = i4, group_size = 7, scale_type = f16>, row_major>

// -----

// scale_type must be f16, bf16 or f32 (f64).
// expected-error @+2 {{scale_type must be f16, bf16 or f32, got 'f64'}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = f64>, row_major>

// -----

// scale_type must be a float type (i8 does not parse as one).
// expected-error @+3 {{invalid kind of type specified}}
// expected-error @+2 {{failed to parse Delta_QuantSchemeAttr parameter 'scale_type' which is to be a `::mlir::FloatType`}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = i8, group_size = 32, scale_type = i8>, row_major>

// -----

// offset_type must be f16, bf16 or f32 (f8E4M3FN).
// expected-error @+2 {{offset_type must be f16, bf16 or f32, got 'f8E4M3FN'}}
// expected-error @+1 {{failed to parse Delta_QuantizedWeightType parameter 'scheme' which is to be a `QuantSchemeAttr`}}
delta.weight private @w : !delta.qweight<64x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f8E4M3FN>, row_major>

// -----

// A quantized weight is a matrix or a stack of expert matrices (rank 1).
// expected-error @+1 {{quantized weight must be a matrix [N, K] or a stack of expert matrices [E, N, K], got rank 1}}
delta.weight private @w : !delta.qweight<64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>

// -----

// A quantized weight is a matrix or a stack of expert matrices (rank 4).
// expected-error @+1 {{quantized weight must be a matrix [N, K] or a stack of expert matrices [E, N, K], got rank 4}}
delta.weight private @w : !delta.qweight<2x8x32x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>

// -----

// Quantized weight dimensions must be positive.
// expected-error @+1 {{quantized weight dimensions must be positive, got 0}}
delta.weight private @w : !delta.qweight<0x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>

// -----

// group_size must divide the row length.
// expected-error @+1 {{group_size 48 does not divide the row length 64}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 48, scale_type = f16>, row_major>

// -----

// i4 rows must hold an even number of values (per-channel scheme, odd row).
// expected-error @+1 {{i4 rows must hold an even number of values, got 63}}
delta.weight private @w : !delta.qweight<128x63, #delta.quant<storage = i4, group_size = 0, scale_type = f16>, row_major>

// -----

// ggml_blocks holds only blocks of 32 (group_size 64).
// expected-error @+1 {{ggml_blocks layout holds only GGUF Q8_0, Q4_0 and Q4_1 blocks (group_size 32, f16 scale, f16 offset for Q4_1), got #delta.quant<storage = i4, group_size = 64, scale_type = f16>}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 64, scale_type = f16>, ggml_blocks>

// -----

// ggml_blocks holds only f16 scales (bf16).
// expected-error @+1 {{ggml_blocks layout holds only GGUF Q8_0, Q4_0 and Q4_1 blocks}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = bf16>, ggml_blocks>

// -----

// ggml_blocks has no asymmetric i8 block (no GGUF Q8_1 weights).
// expected-error @+1 {{ggml_blocks layout holds only GGUF Q8_0, Q4_0 and Q4_1 blocks}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16, offset_type = f16>, ggml_blocks>

// -----

// packed holds only Q8_0 and Q4_0 values (Q4_1 has no packed form).
// expected-error @+1 {{packed layout holds only Q8_0 and Q4_0 values (group_size 32, f16 scale, symmetric), got #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>, packed>

// -----

// ggml_blocks Q4_1 needs an f16 offset (f32).
// expected-error @+1 {{ggml_blocks layout holds only GGUF Q8_0, Q4_0 and Q4_1 blocks}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16, offset_type = f32>, ggml_blocks>

// -----

// ggml_blocks has no per-channel block (group_size 0).
// expected-error @+1 {{ggml_blocks layout holds only GGUF Q8_0, Q4_0 and Q4_1 blocks}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i8, group_size = 0, scale_type = f16>, ggml_blocks>

// -----

// blocks (deltac's int4 groups) holds no groups of 32: those are ggml_blocks.
// expected-error @+1 {{blocks layout holds only int4 groups of 64 or 128 with an f16 scale (and an f16 offset), got #delta.quant<storage = i4, group_size = 32, scale_type = f16>}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, blocks>

// -----

// blocks holds int4 codes only (i8).
// expected-error @+1 {{blocks layout holds only int4 groups of 64 or 128}}
delta.weight private @w : !delta.qweight<128x128, #delta.quant<storage = i8, group_size = 64, scale_type = f16>, blocks>

// -----

// blocks needs an f16 offset for the asymmetric form (bf16).
// expected-error @+1 {{blocks layout holds only int4 groups of 64 or 128}}
delta.weight private @w : !delta.qweight<128x128, #delta.quant<storage = i4, group_size = 128, scale_type = f16, offset_type = bf16>, blocks>

// -----

// blocks of 128 need rows of a multiple of 128 (a row of 64).
// expected-error @+1 {{group_size 128 does not divide the row length 64}}
delta.weight private @w : !delta.qweight<128x64, #delta.quant<storage = i4, group_size = 128, scale_type = f16>, blocks>

// -----

// A quantized weight's shape is static (a dynamic dimension does not parse).
// expected-error @+1 {{expected static shape}}
delta.weight private @w : !delta.qweight<?x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, row_major>

// -----

// causal_conv1d input must be [T, C].
func.func @conv_input_rank(%m: tensor<?x4x16xf32>, %w: tensor<64x4xf32>, %s: tensor<3x64xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op input must have rank 2, got 'tensor<?x4x16xf32>'}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x4x16xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  return
}

// -----

// causal_conv1d weight must be [C, K].
func.func @conv_weight_rank(%m: tensor<?x64xf32>, %w: tensor<64x1x4xf32>, %s: tensor<3x64xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op weight must have rank 2, got 'tensor<64x1x4xf32>'}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x64xf32>, tensor<64x1x4xf32>, tensor<3x64xf32>
  return
}

// -----

// causal_conv1d state must be [K-1, C].
func.func @conv_state_rank(%m: tensor<?x64xf32>, %w: tensor<64x4xf32>, %s: tensor<192xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op state must have rank 2, got 'tensor<192xf32>'}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<192xf32>
  return
}

// -----

// causal_conv1d weight needs one filter per channel (weight given as [K, C]).
func.func @conv_weight_channels(%m: tensor<?x64xf32>, %w: tensor<4x64xf32>, %s: tensor<3x64xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op weight dimension 0 (4) must equal the input's channel count (64)}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x64xf32>, tensor<4x64xf32>, tensor<3x64xf32>
  return
}

// -----

// causal_conv1d kernel must have at least two taps.
func.func @conv_kernel_one(%m: tensor<?x64xf32>, %w: tensor<64x1xf32>, %s: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op kernel size must be at least 2, got 1}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x64xf32>, tensor<64x1xf32>, tensor<1x64xf32>
  return
}

// -----

// causal_conv1d state must hold kernel size - 1 steps (HF keeps 4 columns, only 3 are needed).
func.func @conv_state_steps(%m: tensor<?x6144xf32>, %w: tensor<6144x4xbf16>, %s: tensor<4x6144xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op state dimension 0 (4) must equal the kernel size minus one (3)}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x6144xf32>, tensor<6144x4xbf16>, tensor<4x6144xf32>
  return
}

// -----

// causal_conv1d state must have the input's channels (state given as [C, K-1]).
func.func @conv_state_channels(%m: tensor<?x64xf32>, %w: tensor<64x4xf32>, %s: tensor<3x32xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op state dimension 1 (32) must equal the input's channel count (64)}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x32xf32>
  return
}

// -----

// causal_conv1d state must have the input's element type.
func.func @conv_state_element_type(%m: tensor<?x64xf32>, %w: tensor<64x4xf32>, %s: tensor<3x64xbf16>) {
  // expected-error @+1 {{'delta.causal_conv1d' op input and state must have the same element type, got 'f32' and 'bf16'}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(silu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xbf16>
  return
}

// -----

// causal_conv1d new_state must have the state's type (ODS AllTypesMatch, generic form).
func.func @conv_new_state_type(%m: tensor<?x64xf32>, %w: tensor<64x4xf32>, %s: tensor<3x64xf32>) {
  // expected-error @+1 {{'delta.causal_conv1d' op failed to verify that all of {state, new_state} have same type}}
  %y, %s1 = "delta.causal_conv1d"(%m, %w, %s) <{activation = #delta<activation silu>}> : (tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>) -> (tensor<?x64xf32>, tensor<4x64xf32>)
  return
}

// -----

// causal_conv1d activation must be silu or none.
func.func @conv_activation(%m: tensor<?x64xf32>, %w: tensor<64x4xf32>, %s: tensor<3x64xf32>) {
  // expected-error @+1 {{expected one of [none, silu] for an elementwise activation, got: gelu}}
  %y, %s1 = delta.causal_conv1d %m, %w, %s activation(gelu) : tensor<?x64xf32>, tensor<64x4xf32>, tensor<3x64xf32>
  return
}

// -----

// gdn_gates a must be [T, nv].
func.func @gates_a_rank(%a: tensor<?x4x1xf32>, %d: tensor<4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op a must have rank 2, got 'tensor<?x4x1xf32>'}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d a_log : tensor<?x4x1xf32>, tensor<4xf32> -> tensor<?x4xf32>
  return
}

// -----

// gdn_gates decay must be a vector.
func.func @gates_decay_rank(%a: tensor<?x4xf32>, %d: tensor<1x4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op decay must have rank 1, got 'tensor<1x4xf32>'}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d a_log : tensor<?x4xf32>, tensor<1x4xf32> -> tensor<?x4xf32>
  return
}

// -----

// gdn_gates decay needs one value per value head.
func.func @gates_decay_heads(%a: tensor<?x16xf32>, %d: tensor<32xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op decay dimension 0 (32) must equal the value head count of a (16)}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d neg_exp : tensor<?x16xf32>, tensor<32xf32> -> tensor<?x16xf32>
  return
}

// -----

// gdn_gates results must be [T, nv].
func.func @gates_g_rank(%a: tensor<?x4xf32>, %d: tensor<4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op g must have rank 2, got 'tensor<?x4x1xf32>'}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4x1xf32>
  return
}

// -----

// gdn_gates results keep the token count.
func.func @gates_g_tokens(%a: tensor<2x4xf32>, %d: tensor<4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op g dimension 0 (1) must equal the token count (2)}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d a_log : tensor<2x4xf32>, tensor<4xf32> -> tensor<1x4xf32>
  return
}

// -----

// gdn_gates results keep the value head count.
func.func @gates_g_heads(%a: tensor<?x4xf32>, %d: tensor<4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op g dimension 1 (8) must equal the value head count (4)}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x8xf32>
  return
}

// -----

// gdn_gates results are f32 (ODS constraint).
func.func @gates_g_bf16(%a: tensor<?x4xf32>, %d: tensor<4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op result #0 must be ranked tensor of 32-bit float values}}
  %g, %beta = delta.gdn_gates %a, %a, %d, %d a_log : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xbf16>
  return
}

// -----

// gdn_gates b must have a's type (ODS AllTypesMatch, generic form).
func.func @gates_b_type(%a: tensor<?x4xf32>, %b: tensor<?x8xf32>, %d: tensor<4xf32>) {
  // expected-error @+1 {{'delta.gdn_gates' op failed to verify that all of {a, b} have same type}}
  %g, %beta = "delta.gdn_gates"(%a, %b, %d, %d) <{decay_form = #delta<decay_form a_log>}> : (tensor<?x4xf32>, tensor<?x8xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
  return
}

// -----

// gated_delta_rule query must be [T, nk, dk].
func.func @gdr_query_rank(%q: tensor<?x32xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op query must have rank 3, got 'tensor<?x32xf32>'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x32xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule value must be [T, nv, dv].
func.func @gdr_value_rank(%q: tensor<?x2x16xf32>, %v: tensor<?x64xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op value must have rank 3, got 'tensor<?x64xf32>'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x64xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule g must be [T, nv].
func.func @gdr_g_rank(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4x1xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op g must have rank 2, got 'tensor<?x4x1xf32>'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4x1xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule state must be a statically shaped tensor (an unranked state is not).
func.func @gdr_state_rank(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<*xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op operand #5 must be statically shaped tensor of f32 or f16 values, but got 'tensor<*xf32>'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<*xf32>
  return
}

// -----

// gated_delta_rule query and value must have one element type.
func.func @gdr_element_type(%q: tensor<?x2x16xbf16>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op query and value must have the same element type, got 'bf16' and 'f32'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xbf16>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule value must have the query's token count.
func.func @gdr_value_tokens(%q: tensor<2x2x16xf32>, %v: tensor<3x4x16xf32>, %g: tensor<2x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op value dimension 0 (3) must equal the query's token count (2)}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<2x2x16xf32>, tensor<3x4x16xf32>, tensor<2x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule g must have the query's token count.
func.func @gdr_g_tokens(%q: tensor<2x2x16xf32>, %v: tensor<2x4x16xf32>, %g: tensor<1x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op g dimension 0 (1) must equal the query's token count (2)}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<2x2x16xf32>, tensor<2x4x16xf32>, tensor<1x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule g needs one gate per value head.
func.func @gdr_g_heads(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x2xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op g dimension 1 (2) must equal the value head count (4)}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x2xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule value heads must be a multiple of the key heads (nk = 3, nv = 4).
func.func @gdr_heads_divide(%q: tensor<?x3x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op value heads must be a multiple of key heads: 4 is not a multiple of 3}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s tiled scale(0.25) : tensor<?x3x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule value heads must be a multiple of the key heads (more key heads than value heads).
func.func @gdr_heads_fewer_values(%q: tensor<?x32x128xf32>, %v: tensor<?x16x128xf32>, %g: tensor<?x16xf32>, %s: tensor<16x128x128xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op value heads must be a multiple of key heads: 16 is not a multiple of 32}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.0883883461) : tensor<?x32x128xf32>, tensor<?x16x128xf32>, tensor<?x16xf32>, tensor<16x128x128xf32>
  return
}

// -----

// gated_delta_rule state needs one matrix per value head (state sized for the key heads).
func.func @gdr_state_heads(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<2x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op state dimension 0 (2) must equal the value head count (4)}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<2x16x16xf32>
  return
}

// -----

// gated_delta_rule state rows must be the key head dimension ([nv, dv, dk] is the transposed llama.cpp layout).
func.func @gdr_state_key_dim(%q: tensor<?x2x16xf32>, %v: tensor<?x4x8xf32>, %g: tensor<?x4xf32>, %s: tensor<4x8x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op state dimension 1 (8) must equal the key head dimension (16)}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x8x16xf32>
  return
}

// -----

// gated_delta_rule state columns must be the value head dimension.
func.func @gdr_state_value_dim(%q: tensor<?x2x16xf32>, %v: tensor<?x4x8xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op state dimension 2 (16) must equal the value head dimension (8)}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x8xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule state must be statically shaped.
func.func @gdr_state_dynamic(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<?x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op operand #5 must be statically shaped tensor of f32 or f16 values, but got 'tensor<?x16x16xf32>'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<?x16x16xf32>
  return
}

// -----

// gated_delta_rule scale must be positive (zero).
func.func @gdr_scale_zero(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op scale must be positive and finite, got 0.000000e+00}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.0) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule scale must be positive (negative).
func.func @gdr_scale_negative(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op scale must be positive and finite, got -2.500000e-01}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(-0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>
  return
}

// -----

// gated_delta_rule state is f32 or f16 storage, not bf16 (ODS constraint).
func.func @gdr_state_bf16(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xbf16>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op operand #5 must be statically shaped tensor of f32 or f16 values, but got 'tensor<4x16x16xbf16>'}}
  %o, %s1 = delta.gated_delta_rule %q, %q, %v, %g, %g, %s grouped scale(0.25) : tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<4x16x16xbf16>
  return
}

// -----

// gated_delta_rule key must have the query's type (ODS AllTypesMatch, generic form).
func.func @gdr_key_type(%q: tensor<?x2x16xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op failed to verify that all of {query, key} have same type}}
  %o, %s1 = "delta.gated_delta_rule"(%q, %k, %v, %g, %g, %s) <{head_mapping = #delta<head_mapping grouped>, scale = 2.5e-01 : f32}> : (tensor<?x2x16xf32>, tensor<?x2x8xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>) -> (tensor<?x4x16xf32>, tensor<4x16x16xf32>)
  return
}

// -----

// gated_delta_rule new_state must have the state's type (ODS AllTypesMatch, generic form).
func.func @gdr_new_state_type(%q: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %g: tensor<?x4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_rule' op failed to verify that all of {state, new_state} have same type}}
  %o, %s1 = "delta.gated_delta_rule"(%q, %q, %v, %g, %g, %s) <{head_mapping = #delta<head_mapping grouped>, scale = 2.5e-01 : f32}> : (tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>) -> (tensor<?x4x16xf32>, tensor<4x16x8xf32>)
  return
}

// -----

// rope input must be [T, n, hd].
func.func @rope_input_rank(%x: tensor<?x64xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op input must have rank 3, got 'tensor<?x64xf32>'}}
  %0 = delta.rope %x, %pos rotary_dim(16) theta(1.0e7) : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

// rope rotary_dim must be even.
func.func @rope_rotary_odd(%x: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op rotary_dim must be positive and even, got 7}}
  %0 = delta.rope %x, %pos rotary_dim(7) theta(1.0e7) : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

// rope rotary_dim must be positive.
func.func @rope_rotary_zero(%x: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op rotary_dim must be positive and even, got 0}}
  %0 = delta.rope %x, %pos rotary_dim(0) theta(1.0e7) : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

// rope rotary_dim may not exceed the head dimension.
func.func @rope_rotary_too_large(%x: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op rotary_dim 32 exceeds the head dimension 16}}
  %0 = delta.rope %x, %pos rotary_dim(32) theta(1.0e7) : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

// rope theta must be greater than 1.
func.func @rope_theta(%x: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op theta must be finite and greater than 1, got 1.000000e+00}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0) : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

// rope theta must be finite.
func.func @rope_theta_inf(%x: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op theta must be finite and greater than 1, got INF}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(0x7FF0000000000000) : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

// rope with [3, T] positions needs mrope sections.
func.func @rope_3d_positions_no_mrope(%x: tensor<?x4x16xf32>, %pos: tensor<3x?xi32>) {
  // expected-error @+1 {{'delta.rope' op [3, T] positions need mrope sections}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) : tensor<?x4x16xf32>, tensor<3x?xi32>
  return
}

// -----

// rope M-RoPE positions need three rows.
func.func @rope_mrope_rows(%x: tensor<?x4x16xf32>, %pos: tensor<2x?xi32>) {
  // expected-error @+1 {{'delta.rope' op positions dimension 0 (2) must equal the three M-RoPE position rows (3)}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) mrope [2, 1, 1] : tensor<?x4x16xf32>, tensor<2x?xi32>
  return
}

// -----

// rope mrope sections must add up to rotary_dim / 2 (Qwen3.5 sections with a rotary_dim of 32).
func.func @rope_mrope_sum(%x: tensor<?x8x256xf32>, %pos: tensor<3x?xi32>) {
  // expected-error @+1 {{'delta.rope' op mrope needs three non-negative sections that add up to rotary_dim / 2 (16)}}
  %0 = delta.rope %x, %pos rotary_dim(32) theta(1.0e7) mrope [11, 11, 10] : tensor<?x8x256xf32>, tensor<3x?xi32>
  return
}

// -----

// rope mrope needs exactly three sections.
func.func @rope_mrope_count(%x: tensor<?x4x16xf32>, %pos: tensor<?xi32>) {
  // expected-error @+1 {{'delta.rope' op mrope needs three non-negative sections that add up to rotary_dim / 2 (4)}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) mrope [2, 2] : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

// rope mrope sections may not be negative.
func.func @rope_mrope_negative(%x: tensor<?x4x16xf32>, %pos: tensor<3x?xi32>) {
  // expected-error @+1 {{'delta.rope' op mrope needs three non-negative sections that add up to rotary_dim / 2 (4)}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) mrope [3, 2, -1] : tensor<?x4x16xf32>, tensor<3x?xi32>
  return
}

// -----

// rope needs one position per token.
func.func @rope_positions_tokens(%x: tensor<4x4x16xf32>, %pos: tensor<1xi32>) {
  // expected-error @+1 {{'delta.rope' op positions dimension 0 (1) must equal the input's token count (4)}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) : tensor<4x4x16xf32>, tensor<1xi32>
  return
}

// -----

// rope [3, T] positions need one column per token.
func.func @rope_mrope_positions_tokens(%x: tensor<4x4x16xf32>, %pos: tensor<3x2xi32>) {
  // expected-error @+1 {{'delta.rope' op positions dimension 1 (2) must equal the input's token count (4)}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) mrope [2, 1, 1] : tensor<4x4x16xf32>, tensor<3x2xi32>
  return
}

// -----

// rope positions are [T] or [3, T] i32 (ODS constraint).
func.func @rope_positions_i64(%x: tensor<?x4x16xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{'delta.rope' op operand #1 must be 1D/2D tensor of 32-bit signless integer values}}
  %0 = delta.rope %x, %pos rotary_dim(8) theta(1.0e7) : tensor<?x4x16xf32>, tensor<?xi64>
  return
}

// -----

// attention query must be [T, nh, hd].
func.func @attn_query_rank(%q: tensor<?x64xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op query must have rank 3, got 'tensor<?x64xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x64xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention key must be [T, nkv, hd].
func.func @attn_key_rank(%q: tensor<?x4x16xf32>, %k: tensor<?x32xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key must have rank 3, got 'tensor<?x32xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x32xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention value must be [T, nkv, hdv].
func.func @attn_value_rank(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x32xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value must have rank 3, got 'tensor<?x32xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x32xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention output must be [T, nh, hdv].
func.func @attn_output_rank(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op output must have rank 3, got 'tensor<?x64xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x64xf32>
  return
}

// -----

// attention key cache must be [nkv, S, hd].
func.func @attn_key_cache_rank(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<64x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key cache must have rank 3, got 'tensor<64x16xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<64x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention value cache must be [nkv, S, hdv].
func.func @attn_value_cache_rank(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<64x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value cache must have rank 3, got 'tensor<64x16xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<64x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention query and key must have one element type.
func.func @attn_key_element_type(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xbf16>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op query and key must have the same element type, got 'f32' and 'bf16'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xbf16>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention query and value must have one element type.
func.func @attn_value_element_type(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xbf16>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op query and value must have the same element type, got 'f32' and 'bf16'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xbf16>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention KV caches are f32 or f16: no bf16 storage (ODS constraint).
func.func @attn_bf16_cache(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %kc: tensor<2x32x16xbf16>, %vc: tensor<2x32x16xbf16>, %p: index) {
  // expected-error @+1 {{'delta.attention' op operand #3 must be statically shaped tensor of f32 or f16 values, but got 'tensor<2x32x16xbf16>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %k cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16> -> tensor<?x4x16xf32>
  return
}

// -----

// attention key and value caches share one storage type.
func.func @attn_mixed_cache_types(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf16>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key cache and value cache must have the same element type, got 'f16' and 'f32'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %k cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf16>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention output must have the query's element type.
func.func @attn_output_element_type(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op query and output must have the same element type, got 'f32' and 'bf16'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xbf16>
  return
}

// -----

// attention key must have the query's token count.
func.func @attn_key_tokens(%q: tensor<1x4x16xf32>, %k: tensor<2x2x16xf32>, %v: tensor<1x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key dimension 0 (2) must equal the query's token count (1)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<1x4x16xf32>, tensor<2x2x16xf32>, tensor<1x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<1x4x16xf32>
  return
}

// -----

// attention key must have the query's head dimension.
func.func @attn_key_head_dim(%q: tensor<?x4x16xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key dimension 2 (8) must equal the query's head dimension (16)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x8xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention value must have the query's token count.
func.func @attn_value_tokens(%q: tensor<1x4x16xf32>, %k: tensor<1x2x16xf32>, %v: tensor<2x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value dimension 0 (2) must equal the query's token count (1)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<1x4x16xf32>, tensor<1x2x16xf32>, tensor<2x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<1x4x16xf32>
  return
}

// -----

// attention value must have the key's head count.
func.func @attn_value_heads(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x4x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<4x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value dimension 1 (4) must equal the key's head count (2)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x4x16xf32>, tensor<2x32x16xf32>, tensor<4x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention query heads must be a multiple of the key/value heads (nh = 4, nkv = 3).
func.func @attn_heads_divide(%q: tensor<?x4x16xf32>, %k: tensor<?x3x16xf32>, %v: tensor<?x3x16xf32>, %kc: tensor<3x32x16xf32>, %vc: tensor<3x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op query heads must be a multiple of key/value heads: 4 is not a multiple of 3}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x3x16xf32>, tensor<?x3x16xf32>, tensor<3x32x16xf32>, tensor<3x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention key cache needs one slab per kv head (cache sized for the query heads).
func.func @attn_key_cache_heads(%q: tensor<?x8x256xf32>, %k: tensor<?x2x256xf32>, %v: tensor<?x2x256xf32>, %kc: tensor<8x4096x256xf16>, %vc: tensor<2x4096x256xf16>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key cache dimension 0 (8) must equal the key's head count (2)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.0625)
      : tensor<?x8x256xf32>, tensor<?x2x256xf32>, tensor<?x2x256xf32>, tensor<8x4096x256xf16>, tensor<2x4096x256xf16> -> tensor<?x8x256xf32>
  return
}

// -----

// attention key cache rows must have the key's head dimension.
func.func @attn_key_cache_head_dim(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x8xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op key cache dimension 2 (8) must equal the key's head dimension (16)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x8xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention value cache needs one slab per kv head.
func.func @attn_value_cache_heads(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<4x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value cache dimension 0 (4) must equal the key's head count (2)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<4x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention value cache must be as long as the key cache.
func.func @attn_value_cache_length(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x64x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value cache dimension 1 (64) must equal the key cache's length (32)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x64x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention value cache rows must have the value's head dimension.
func.func @attn_value_cache_head_dim(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x8xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op value cache dimension 2 (16) must equal the value's head dimension (8)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x8xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x8xf32>
  return
}

// -----

// attention output must have the query's token count.
func.func @attn_output_tokens(%q: tensor<1x4x16xf32>, %k: tensor<1x2x16xf32>, %v: tensor<1x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op output dimension 0 (2) must equal the query's token count (1)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<1x4x16xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<2x4x16xf32>
  return
}

// -----

// attention output must have the query's head count (GQA does not reduce heads).
func.func @attn_output_heads(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op output dimension 1 (2) must equal the query's head count (4)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x2x16xf32>
  return
}

// -----

// attention output must have the value's head dimension.
func.func @attn_output_head_dim(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op output dimension 2 (8) must equal the value's head dimension (16)}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x8xf32>
  return
}

// -----

// attention step of more tokens than the KV cache holds.
func.func @attn_step_too_long(%q: tensor<64x4x16xf32>, %k: tensor<64x2x16xf32>, %v: tensor<64x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op a step of 64 tokens does not fit a KV cache of 32}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.25)
      : tensor<64x4x16xf32>, tensor<64x2x16xf32>, tensor<64x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<64x4x16xf32>
  return
}

// -----

// attention gate must have the output's type.
func.func @attn_gate_type(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index, %gt: tensor<?x4x32xf32>) {
  // expected-error @+1 {{'delta.attention' op gate must have the output's type 'tensor<?x4x16xf32>', got 'tensor<?x4x32xf32>'}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v gate %gt : tensor<?x4x32xf32> cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention scale must be positive (zero).
func.func @attn_scale_zero(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op scale must be positive and finite, got 0.000000e+00}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0.0)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention scale must be finite (NaN).
func.func @attn_scale_nan(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op scale must be positive and finite, got nan}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %v cache(%kc, %vc) at %p scale(0x7FC00000)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention KV cache must be statically shaped (ODS constraint).
func.func @attn_dynamic_cache(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %kc: tensor<2x?x16xf32>, %vc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op operand #3 must be statically shaped tensor of f32 or f16 values}}
  %o, %kc1, %vc1 = delta.attention %q, %k, %k cache(%kc, %vc) at %p scale(0.25)
      : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x?x16xf32>, tensor<2x32x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// attention position must be an index (ODS constraint, generic form).
func.func @attn_position_i32(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %p: i32) {
  // expected-error @+1 {{'delta.attention' op operand #5 must be index, but got 'i32'}}
  %o, %kc1, %vc1 = "delta.attention"(%q, %k, %k, %kc, %kc, %p) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 1>, scale = 2.5e-01 : f32}>
      : (tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>, i32) -> (tensor<?x4x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>)
  return
}

// -----

// attention new key cache must have the key cache's type (ODS AllTypesMatch, generic form).
func.func @attn_new_cache_type(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %kc: tensor<2x32x16xf32>, %p: index) {
  // expected-error @+1 {{'delta.attention' op failed to verify that all of {key_cache, new_key_cache} have same type}}
  %o, %kc1, %vc1 = "delta.attention"(%q, %k, %k, %kc, %kc, %p) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 1>, scale = 2.5e-01 : f32}>
      : (tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x32x16xf32>, tensor<2x32x16xf32>, index) -> (tensor<?x4x16xf32>, tensor<2x32x16xf16>, tensor<2x32x16xf32>)
  return
}

// -----

// moe input must be [T, H].
func.func @moe_input_rank(%x: tensor<?x4x16xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op input must have rank 2, got 'tensor<?x4x16xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x4x16xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x4x16xf32>
  return
}

// -----

// moe result must keep the input's element type.
func.func @moe_result_element_type(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op input and result must have the same element type, got 'f32' and 'bf16'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xbf16>
  return
}

// -----

// moe result must have the input's type.
func.func @moe_result_type(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op result must have the input's type 'tensor<?x64xf32>', got 'tensor<4x64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<4x64xf32>
  return
}

// -----

// moe router must be [E, H].
func.func @moe_router_rank(%x: tensor<?x64xf32>, %r: tensor<64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op router must have rank 2, got 'tensor<64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe router rows must have the hidden size (router given as [H, E]).
func.func @moe_router_hidden(%x: tensor<?x64xf32>, %r: tensor<64x8xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op router dimension 1 (8) must equal the hidden size (64)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<64x8xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert gate weights must be a stack [E, I, H].
func.func @moe_gate_rank(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op expert gate weights must have rank 3, got 'tensor<32x64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert gate weights need one matrix per expert.
func.func @moe_gate_experts(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<4x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op expert gate weights dimension 0 (4) must equal the expert count (8)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<4x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert gate weights must take the hidden size.
func.func @moe_gate_hidden(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x64x32xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op expert gate weights dimension 2 (32) must equal the hidden size (64)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x64x32xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert up weights must have the gate weights' shape.
func.func @moe_up_shape(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x16x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op expert up weights must have the gate weights' shape, got 'tensor<8x16x64xf32>' and 'tensor<8x32x64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x16x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert down weights must be a stack [E, H, I].
func.func @moe_down_rank(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op expert down weights must have rank 3, got 'tensor<64x32xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert down weights need one matrix per expert.
func.func @moe_down_experts(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<4x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op expert down weights dimension 0 (4) must equal the expert count (8)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<4x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert down weights must produce the hidden size (down given as [E, I, H]).
func.func @moe_down_hidden(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x32x64xf32>) {
  // expected-error @+1 {{'delta.moe' op expert down weights dimension 1 (32) must equal the hidden size (64)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe expert down weights must take the expert intermediate size.
func.func @moe_down_intermediate(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x16xf32>) {
  // expected-error @+1 {{'delta.moe' op expert down weights dimension 2 (16) must equal the expert intermediate size (32)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x16xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe top_k must be at least 1.
func.func @moe_top_k_zero(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op top_k must be between 1 and the expert count 8, got 0}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(0) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe top_k may not exceed the expert count (Qwen3-Next's top-10 with 8 experts).
func.func @moe_top_k_too_large(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>) {
  // expected-error @+1 {{'delta.moe' op top_k must be between 1 and the expert count 8, got 10}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) top_k(10) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared expert given in part: no shared expert gate (only expressible in generic form).
func.func @moe_partial_shared(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %sd: tensor<64x16xf32>) {
  // expected-error @+1 {{'delta.moe' op a shared expert needs all of gate, up, down and the shared expert gate}}
  %y = "delta.moe"(%x, %r, %eg, %eg, %ed, %sg, %sg, %sd) <{normalized, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 0>, top_k = 2 : i64}>
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared gate weight must be a matrix [Is, H].
func.func @moe_shared_gate_rank(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<1x16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared gate weight must have rank 2, got 'tensor<1x16x64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<1x16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared gate weight must take the hidden size.
func.func @moe_shared_gate_hidden(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x32xf32>, %su: tensor<16x32xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared gate weight dimension 1 (32) must equal the hidden size (64)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<64x16xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared up weight must have the shared gate weight's shape.
func.func @moe_shared_up_shape(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<32x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared up weight must have the shared gate weight's shape, got 'tensor<32x64xf32>' and 'tensor<16x64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<32x64xf32>, tensor<64x16xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared down weight must be a matrix [H, Is].
func.func @moe_shared_down_rank(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<1x64x16xf32>, %sgate: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared down weight must have rank 2, got 'tensor<1x64x16xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<1x64x16xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared down weight must produce the hidden size (down given as [Is, H]).
func.func @moe_shared_down_hidden(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<16x64xf32>, %sgate: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared down weight dimension 0 (16) must equal the hidden size (64)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared down weight must take the shared intermediate size.
func.func @moe_shared_down_intermediate(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<64x32xf32>, %sgate: tensor<1x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared down weight dimension 1 (32) must equal the shared intermediate size (16)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x32xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared expert gate must be a [1, H] matrix, not a vector (GGUF stores it as [H]).
func.func @moe_shared_expert_gate_rank(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared expert gate must have rank 2, got 'tensor<64xf32>'}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared expert gate must have a single output.
func.func @moe_shared_expert_gate_outputs(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<2x64xf32>) {
  // expected-error @+1 {{'delta.moe' op shared expert gate dimension 0 (2) must equal one output (1)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>, tensor<2x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared expert gate given transposed as [H, 1] fails the single-output check.
func.func @moe_shared_expert_gate_hidden(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<64x1xf32>) {
  // expected-error @+1 {{'delta.moe' op shared expert gate dimension 0 (64) must equal one output (1)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>, tensor<64x1xf32>) -> tensor<?x64xf32>
  return
}

// -----

// moe shared expert gate must take the hidden size.
func.func @moe_shared_expert_gate_width(%x: tensor<?x64xf32>, %r: tensor<8x64xf32>, %eg: tensor<8x32x64xf32>, %eu: tensor<8x32x64xf32>, %ed: tensor<8x64x32xf32>, %sg: tensor<16x64xf32>, %su: tensor<16x64xf32>, %sd: tensor<64x16xf32>, %sgate: tensor<1x32xf32>) {
  // expected-error @+1 {{'delta.moe' op shared expert gate dimension 1 (32) must equal the hidden size (64)}}
  %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate) top_k(2) normalized
      : (tensor<?x64xf32>, tensor<8x64xf32>, tensor<8x32x64xf32>, tensor<8x32x64xf32>, tensor<8x64x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<64x16xf32>, tensor<1x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

// A swiglu linear's weight stacks [gate; up] rows, so its row count must be even.
func.func @linear_swiglu_odd_rows(%x: tensor<?x64xf32>, %w: tensor<127x64xf32>) {
  // expected-error @+1 {{'delta.linear' op a swiglu weight stacks [gate; up] rows and needs an even row count, got 127}}
  %0 = delta.linear %x, %w swiglu : tensor<?x64xf32>, tensor<127x64xf32> -> tensor<?x63xf32>
  return
}

// -----

// A swiglu linear gives half as many outputs as the weight has rows.
func.func @linear_swiglu_width(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'delta.linear' op result dimension 1 (128) must equal half the weight's row count (64)}}
  %0 = delta.linear %x, %w swiglu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

// A linear's residual must have the result's type (the custom form infers it; the generic form can differ).
func.func @linear_residual_type(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %r: tensor<?x64xf32>) {
  // expected-error @+1 {{'delta.linear' op failed to verify that residual has the result's type}}
  %0 = "delta.linear"(%x, %w, %r) : (tensor<?x64xf32>, tensor<128x64xf32>, tensor<?x64xf32>) -> tensor<?x128xf32>
  return
}

// -----

// gated_delta_net: the conv channels must split as 2 * nk * dk + nv * dv (100 - 4 * 16 = 36 is not a multiple of 2 * 16).
func.func @gated_delta_net_channels(%qkv: tensor<?x100xf32>, %a: tensor<?x4xf32>, %w: tensor<100x4xf32>, %cs: tensor<3x100xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op the 100 conv channels must be 2 * nk * dk + nv * dv with nv = 4, dk = 16, dv = 16 (from the state) and nk >= 1}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x100xf32>, tensor<?x4xf32>, tensor<100x4xf32>, tensor<3x100xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: the value heads (4) must be a multiple of the key heads (160 = 2 * 3 * 16 + 4 * 16: nk = 3).
func.func @gated_delta_net_heads(%qkv: tensor<?x160xf32>, %a: tensor<?x4xf32>, %w: tensor<160x4xf32>, %cs: tensor<3x160xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op value heads must be a multiple of key heads}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x160xf32>, tensor<?x4xf32>, tensor<160x4xf32>, tensor<3x160xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: qkv must have the conv weight's channels.
func.func @gated_delta_net_qkv_width(%qkv: tensor<?x96xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op qkv dimension 1 (96) must equal the conv weight's channel count (128)}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x96xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: the conv state holds kernel - 1 = 3 rows.
func.func @gated_delta_net_conv_state(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<4x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op conv state dimension 0 (4) must equal the kernel size minus one (3)}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<4x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: a kernel of one tap has no history to carry.
func.func @gated_delta_net_kernel(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x1xf32>, %cs: tensor<0x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op kernel size must be at least 2, got 1}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x1xf32>, tensor<0x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: a and b carry one value per value head.
func.func @gated_delta_net_gate_heads(%qkv: tensor<?x128xf32>, %a: tensor<?x8xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op a dimension 1 (8) must equal the value head count (4)}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x8xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: the output's head dimension is the state's dv.
func.func @gated_delta_net_output(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op output dimension 2 (32) must equal the value head dimension (16)}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x32xf32>
  return
}

// -----

// gated_delta_net: the output keeps qkv's element type.
func.func @gated_delta_net_element_type(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op qkv and output must have the same element type, got 'f32' and 'bf16'}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xbf16>
  return
}

// -----

// gated_delta_net: the delta-rule state is f32 or f16 storage, not bf16 (ODS constraint).
func.func @gated_delta_net_state_f32(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xbf16>) {
  // expected-error @+1 {{'delta.gated_delta_net' op operand #7 must be statically shaped tensor of f32 or f16 values}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xbf16> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: scale must be positive.
func.func @gated_delta_net_scale(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op scale must be positive and finite, got 0}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.0) l2_eps(1.0e-6) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// gated_delta_net: the L2-norm eps must be positive (a zero head would divide by zero).
func.func @gated_delta_net_l2_eps(%qkv: tensor<?x128xf32>, %a: tensor<?x4xf32>, %w: tensor<128x4xf32>, %cs: tensor<3x128xf32>, %d: tensor<4xf32>, %s: tensor<4x16x16xf32>) {
  // expected-error @+1 {{'delta.gated_delta_net' op eps must be positive and finite, got 0}}
  %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %a conv(%w, %cs) gates(%d, %d) a_log state(%s) grouped scale(0.25) l2_eps(0.0) : tensor<?x128xf32>, tensor<?x4xf32>, tensor<128x4xf32>, tensor<3x128xf32>, tensor<4xf32>, tensor<4x16x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

// rms_norm none takes no weight.
func.func @rms_norm_none_with_weight(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op takes no weight with scale 'none'}}
  %0 = delta.rms_norm %x, %w none eps(1.0e-06) : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

// rms_norm plain needs its weight.
func.func @rms_norm_plain_without_weight(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'delta.rms_norm' op needs a weight for scale 'plain'}}
  %0 = delta.rms_norm %x plain eps(1.0e-06) : tensor<?x64xf32>
  return
}

// -----

// A derived weight's source must be declared.
// expected-error @+1 {{'delta.weight' op refers to @missing, which is not declared}}
delta.weight private @d : tensor<8x64xf32> = concat_rows(@missing)

// -----

// A derived weight's source must be a delta.weight.
delta.state @s : tensor<8x64xf32>
// expected-error @+1 {{'delta.weight' op refers to @s, which is not a delta.weight}}
delta.weight private @d : tensor<8x64xf32> = concat_rows(@s)

// -----

// concat_rows sources must have the result's columns.
delta.weight private @a : tensor<4x64xf32>
delta.weight private @b : tensor<4x32xf32>
// expected-error @+1 {{'delta.weight' op concat_rows source @b of type 'tensor<4x32xf32>' is not a matrix with 64 columns}}
delta.weight private @d : tensor<8x64xf32> = concat_rows(@a, @b)

// -----

// concat_rows sources must add up to the result's rows.
delta.weight private @a : tensor<4x64xf32>
delta.weight private @b : tensor<4x64xf32>
// expected-error @+1 {{'delta.weight' op concat_rows sources have 8 rows in all, the type has 12}}
delta.weight private @d : tensor<12x64xf32> = concat_rows(@a, @b)

// -----

// A weight cannot derive from itself.
// expected-error @+1 {{'delta.weight' op is derived from itself}}
delta.weight private @d : tensor<8x64xf32> = concat_rows(@d)

// -----

// A derived weight is a matrix.
delta.weight private @a : tensor<64xf32>
// expected-error @+1 {{'delta.weight' op a derived weight must be a matrix, got 'tensor<64xf32>'}}
delta.weight private @d : tensor<64xf32> = concat_rows(@a)

// -----

// scale_columns takes a matrix and a vector.
delta.weight private @w : tensor<8x64xf32>
// expected-error @+1 {{'delta.weight' op scale_columns takes a matrix and a scale vector, got 1 sources}}
delta.weight private @d : tensor<8x64xf32> = scale_columns(@w)

// -----

// scale_columns keeps the matrix's shape.
delta.weight private @w : tensor<8x64xf32>
delta.weight private @n : tensor<64xf32>
// expected-error @+1 {{'delta.weight' op scale_columns matrix @w has type 'tensor<8x64xf32>', expected the shape of 'tensor<16x64xf32>'}}
delta.weight private @d : tensor<16x64xf32> = scale_columns(@w, @n)

// -----

// The scale vector has one value per column.
delta.weight private @w : tensor<8x64xf32>
delta.weight private @n : tensor<32xf32>
// expected-error @+1 {{'delta.weight' op scale_columns scale @n must be a vector of 64 values, got 'tensor<32xf32>'}}
delta.weight private @d : tensor<8x64xf32> = scale_columns_one_plus(@w, @n)

// -----

// New values are never computed from a verbatim weight: it would be rounded twice.
delta.weight private @w : tensor<8x64xbf16> verbatim
delta.weight private @n : tensor<64xf32>
// expected-error @+1 {{'delta.weight' op cannot compute new values from verbatim weight @w (it would be rounded a second time)}}
delta.weight private @d : tensor<8x64xbf16> = scale_columns(@w, @n)

// -----

// A derived weight is computed, so it is not verbatim.
delta.weight private @a : tensor<8x64xbf16>
// expected-error @+1 {{'delta.weight' op a derived weight cannot be verbatim: its bytes are computed, not copied}}
delta.weight private @d : tensor<8x64xbf16> verbatim = concat_rows(@a)

// -----

// A derivation needs its sources.
// expected-error @+1 {{'delta.weight' op needs both a derivation and its sources, or neither}}
"delta.weight"() <{sym_name = "d", type = tensor<8x64xf32>, derivation = #delta<weight_derivation concat_rows>}> : () -> ()

// -----

// pack rearranges GGUF blocks: the source must be a ggml_blocks weight of the same scheme.
delta.weight private @w : !delta.qweight<8x64, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, ggml_blocks>
// expected-error @+1 {{'delta.weight' op pack takes one ggml_blocks qweight of the same shape and scheme as '!delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, packed>'}}
delta.weight private @p : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, packed> = pack(@w)

// -----

// pack produces the packed layout.
delta.weight private @w : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
// expected-error @+1 {{'delta.weight' op pack must produce a qweight in the packed or packed_x8 layout, got '!delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>'}}
delta.weight private @p : !delta.qweight<8x64, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> = pack(@w)
