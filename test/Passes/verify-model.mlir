// RUN: delta-opt %s --split-input-file --delta-verify-model --verify-diagnostics | FileCheck %s

// A function that reads a state, updates it through two chained ops and writes the result back passes
// unchanged.
delta.state @conv : tensor<3x8xf32>
delta.weight private @conv_w : tensor<8x4xf32>
// CHECK-LABEL: func.func @chained_update
func.func @chained_update(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = delta.weight_ref @conv_w : tensor<8x4xf32>
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  // CHECK: delta.causal_conv1d
  %y, %s1 = delta.causal_conv1d %x, %w, %s0 activation(silu) : tensor<?x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  %z, %s2 = delta.causal_conv1d %y, %w, %s1 activation(none) : tensor<?x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  // CHECK: delta.state_write
  delta.state_write %s2, @conv : tensor<3x8xf32>
  return %z : tensor<?x8xf32>
}

// -----

// Writing back the value that was read (a step that leaves the state alone) is allowed.
delta.state @conv : tensor<3x8xf32>
// CHECK-LABEL: func.func @unchanged_state
func.func @unchanged_state() {
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  delta.state_write %s0, @conv : tensor<3x8xf32>
  return
}

// -----

// A state whose update is never written back loses the step's update.
delta.state @conv : tensor<3x8xf32>
delta.weight private @conv_w : tensor<8x4xf32>
func.func @missing_write(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %w = delta.weight_ref @conv_w : tensor<8x4xf32>
  // expected-error @+1 {{state @conv is read but its update is never written back}}
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  %y, %s1 = delta.causal_conv1d %x, %w, %s0 activation(silu) : tensor<1x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// Reading one state twice in a step is ambiguous.
delta.state @conv : tensor<3x8xf32>
func.func @double_read() {
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  // expected-error @+1 {{state @conv is read more than once in one function}}
  %s1 = delta.state_read @conv : tensor<3x8xf32>
  delta.state_write %s0, @conv : tensor<3x8xf32>
  return
}

// -----

// Two writes to one state: only one can be the step's result.
delta.state @conv : tensor<3x8xf32>
func.func @double_write() {
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  delta.state_write %s0, @conv : tensor<3x8xf32>
  // expected-error @+1 {{state @conv is written more than once in one function}}
  delta.state_write %s0, @conv : tensor<3x8xf32>
  return
}

// -----

// Writing a state that was never read overwrites it without looking at the old value.
delta.state @conv : tensor<3x8xf32>
func.func @write_without_read(%s: tensor<3x8xf32>) {
  // expected-error @+1 {{state @conv is written but never read in this function}}
  delta.state_write %s, @conv : tensor<3x8xf32>
  return
}

// -----

// The state of one layer written into another layer's slot is a threading bug, even with equal types.
delta.state @layer0_conv : tensor<3x8xf32>
delta.state @layer1_conv : tensor<3x8xf32>
delta.weight private @conv_w : tensor<8x4xf32>
func.func @crossed_states(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %w = delta.weight_ref @conv_w : tensor<8x4xf32>
  %a0 = delta.state_read @layer0_conv : tensor<3x8xf32>
  %b0 = delta.state_read @layer1_conv : tensor<3x8xf32>
  %y, %a1 = delta.causal_conv1d %x, %w, %a0 activation(silu) : tensor<1x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  %z, %b1 = delta.causal_conv1d %y, %w, %b0 activation(silu) : tensor<1x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  // expected-error @+1 {{the value written to state @layer0_conv is not an update of the value read from it}}
  delta.state_write %b1, @layer0_conv : tensor<3x8xf32>
  // expected-error @+1 {{the value written to state @layer1_conv is not an update of the value read from it}}
  delta.state_write %a1, @layer1_conv : tensor<3x8xf32>
  return %z : tensor<1x8xf32>
}

// -----

// One state value updated by two ops would need a copy; in a model it means a wrong wire.
delta.state @conv : tensor<3x8xf32>
delta.weight private @conv_w : tensor<8x4xf32>
func.func @forked_state(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %w = delta.weight_ref @conv_w : tensor<8x4xf32>
  %s0 = delta.state_read @conv : tensor<3x8xf32>
  %y, %s1 = delta.causal_conv1d %x, %w, %s0 activation(silu) : tensor<1x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  // expected-error @+1 {{this state value is already updated by another op}}
  %z, %s2 = delta.causal_conv1d %y, %w, %s0 activation(silu) : tensor<1x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>
  delta.state_write %s1, @conv : tensor<3x8xf32>
  return %z : tensor<1x8xf32>
}

// -----

// A declared state that no function uses is an importer bug (a layer was dropped).
// expected-error @+1 {{state @orphan is declared but never used}}
delta.state @orphan : tensor<3x8xf32>
func.func @nothing() {
  return
}

// -----

// An unused weight is only a warning: symbol-dce removes unused private weights.
// expected-warning @+1 {{weight @unused is never used}}
delta.weight private @unused : tensor<8x4xf32>
func.func @nothing() {
  return
}
