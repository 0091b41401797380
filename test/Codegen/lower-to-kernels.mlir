// RUN: delta-opt %s --split-input-file --delta-lower-to-kernels="max-tokens=8" | FileCheck %s

// The lowering of a small model (embedding, norm, conv with state, residual add, tied LM head; a
// block-quantized linear in decode), at 8 tokens per prefill step: one dc_op_* call per op, weights
// and states loaded from the runtime's pointer tables, arena offsets reused once a value is dead,
// the conv state updated in place, the logits written to the caller's buffer, and the program table.

// CHECK-LABEL: llvm.func @dc_entry_prefill(
// CHECK-SAME: %[[EXEC:.+]]: !llvm.ptr, %[[WEIGHTS:.+]]: !llvm.ptr, %[[STATES:.+]]: !llvm.ptr, %[[ARENA:.+]]: !llvm.ptr, %[[TOKENS:.+]]: !llvm.ptr, %{{.+}}: !llvm.ptr, %[[T:.+]]: i64, %{{.+}}: i64, %[[LOGITS:.+]]: !llvm.ptr)
// The embedding table is weight 0, stored bf16 (dc_ws_dtype 2); x goes to arena offset 0.
// CHECK: %[[BF16:.+]] = llvm.mlir.constant(2 : i32)
// CHECK: %[[E_SLOT:.+]] = llvm.getelementptr %[[WEIGHTS]][0]
// CHECK: %[[E:.+]] = llvm.load %[[E_SLOT]]
// CHECK: %[[X:.+]] = llvm.getelementptr %[[ARENA]][0] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: llvm.call @dc_op_embedding(%[[EXEC]], %[[BF16]], %[[E]], %{{.+}}, %{{.+}}, %[[TOKENS]], %[[T]], %[[X]])
// x stays live until the add, so the norm's result takes the next 1024 bytes (8 x 32 floats).
// CHECK: llvm.getelementptr %[[ARENA]][1024]
// CHECK: llvm.call @dc_op_rms_norm(
// The conv reads and updates state 0 in place.
// CHECK: %[[S_SLOT:.+]] = llvm.getelementptr %[[STATES]][0]
// CHECK: %[[S:.+]] = llvm.load %[[S_SLOT]]
// CHECK: %[[C:.+]] = llvm.getelementptr %[[ARENA]][2048]
// CHECK: llvm.call @dc_op_causal_conv1d(%[[EXEC]], %{{.+}}, %[[T]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[S]], %[[C]])
// The norm's result is dead after the conv: the add reuses its offset.
// CHECK: %[[R:.+]] = llvm.getelementptr %[[ARENA]][1024]
// CHECK: llvm.call @dc_op_add(%[[EXEC]], %{{.+}}, %{{.+}}, %{{.+}}, %[[R]])
// CHECK: llvm.call @dc_op_lm_head(%[[EXEC]], %{{.+}}, %{{.+}}, %[[T]], %{{.+}}, %{{.+}}, %{{.+}}, %[[LOGITS]])
// CHECK: llvm.return

// CHECK-LABEL: llvm.func @dc_entry_decode(
// The Q8_0 projection (weight 3) is passed with dc_ws_dtype 3; decode's token count is the constant 1.
// CHECK: %[[Q8:.+]] = llvm.mlir.constant(3 : i32)
// CHECK: llvm.getelementptr %{{.+}}[3] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: llvm.call @dc_op_linear(%{{.+}}, %[[Q8]],
// Writing back the unchanged state costs nothing.
// CHECK-NOT: llvm.call
// CHECK: llvm.call @dc_op_lm_head(

// The table: the fingerprint 0xab, vocab 48, context 64, 8 tokens, 4 weights, 1 state.
// CHECK: llvm.mlir.global internal constant @dc_weight_names()
// CHECK: llvm.mlir.global internal constant @dc_weight_dtypes()
// CHECK: llvm.mlir.global external constant @dc_model_program()
// CHECK-DAG: llvm.mlir.constant(171 : i64)
// CHECK-DAG: llvm.mlir.constant(48 : i64)
// CHECK-DAG: llvm.mlir.constant(64 : i64)
// CHECK: llvm.mlir.addressof @dc_entry_prefill
// CHECK: llvm.mlir.addressof @dc_entry_decode

module attributes {delta.architecture = "qwen3_5", delta.max_context = 64 : i64, delta.weight_store = {fingerprint = "0x00000000000000ab", path = "m.dcw"}} {
  delta.weight private @embed : tensor<48x32xbf16>
  delta.weight private @norm : tensor<32xbf16>
  delta.weight private @conv_w : tensor<32x4xf32>
  delta.weight private @proj : !delta.qweight<32x32, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
  delta.state @conv : tensor<3x32xf32>
  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x32xbf16>
    %x = delta.embedding %e[%tokens] : tensor<48x32xbf16>, tensor<?xi32> -> tensor<?x32xf32>
    %n = delta.weight_ref @norm : tensor<32xbf16>
    %h = delta.rms_norm %x, %n one_plus eps(1.0e-06) : tensor<?x32xf32>, tensor<32xbf16>
    %cw = delta.weight_ref @conv_w : tensor<32x4xf32>
    %s = delta.state_read @conv : tensor<3x32xf32>
    %c, %s1 = delta.causal_conv1d %h, %cw, %s activation(silu) : tensor<?x32xf32>, tensor<32x4xf32>, tensor<3x32xf32>
    delta.state_write %s1, @conv : tensor<3x32xf32>
    %r = delta.add %x, %c : tensor<?x32xf32>
    %l = delta.lm_head %r, %e : tensor<?x32xf32>, tensor<48x32xbf16> -> tensor<?x48xf32>
    return %l : tensor<?x48xf32>
  }
  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x32xbf16>
    %x = delta.embedding %e[%tokens] : tensor<48x32xbf16>, tensor<1xi32> -> tensor<1x32xf32>
    %p = delta.weight_ref @proj : !delta.qweight<32x32, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %y = delta.linear %x, %p : tensor<1x32xf32>, !delta.qweight<32x32, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks> -> tensor<1x32xf32>
    %s = delta.state_read @conv : tensor<3x32xf32>
    delta.state_write %s, @conv : tensor<3x32xf32>
    %l = delta.lm_head %y, %e : tensor<1x32xf32>, tensor<48x32xbf16> -> tensor<1x48xf32>
    return %l : tensor<1x48xf32>
  }
}

// -----

// The fused forms of delta-fuse-elementwise: a linear with swiglu and residual epilogues becomes one
// dc_op_linear_epilogue (epilogue 1 = swiglu, N = 16 outputs of a 32-row weight, the residual's
// pointer); delta.gated_delta_net becomes one dc_op_gated_delta_net with nk = 2, nv = 4, dk = dv = 8,
// K = 4, a_log (0), tiled (1), both states updated in place (state pointers, no arena copies; the
// delta-rule state's storage code 0 = DC_WS_F32) and the output in the arena. A plain linear still lowers to dc_op_linear.

// CHECK-LABEL: llvm.func @dc_entry_prefill(
// CHECK-SAME: %[[EXEC:[^:]+]]: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[STATES:[^:]+]]: !llvm.ptr, %[[ARENA:[^:]+]]: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[T:[^:]+]]: i64
// CHECK: llvm.call @dc_op_embedding(
// CHECK: %[[SWIGLU:.+]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[RESIDUAL:.+]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: %[[H:.+]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: llvm.call @dc_op_linear_epilogue(%[[EXEC]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[SWIGLU]], %[[RESIDUAL]], %[[H]])
// CHECK: llvm.call @dc_op_linear(
// The split copies nothing: qkv, a and b are views into the projection's output at arena 1024 (its
// columns 0, 64 and 68), each with the output's row of 72 floats as its token stride.
// CHECK-NOT: dc_op_slice_columns
// CHECK: %[[QKV:.+]] = llvm.getelementptr %[[ARENA]][1024]
// CHECK-NEXT: %[[QKV_STRIDE:.+]] = llvm.mlir.constant(72 : i64)
// CHECK-NEXT: %[[A:.+]] = llvm.getelementptr %[[ARENA]][1280]
// CHECK-NEXT: %[[A_STRIDE:.+]] = llvm.mlir.constant(72 : i64)
// CHECK-NEXT: %[[B:.+]] = llvm.getelementptr %[[ARENA]][1296]
// CHECK-NEXT: %[[B_STRIDE:.+]] = llvm.mlir.constant(72 : i64)
// CHECK-NEXT: %[[NK:.+]] = llvm.mlir.constant(2 : i64)
// CHECK-NEXT: %[[NV:.+]] = llvm.mlir.constant(4 : i64)
// CHECK: %[[A_LOG:.+]] = llvm.mlir.constant(0 : i32)
// CHECK-NEXT: %[[TILED:.+]] = llvm.mlir.constant(1 : i32)
// CHECK: %[[CS_SLOT:.+]] = llvm.getelementptr %[[STATES]][0]
// CHECK-NEXT: %[[CS:.+]] = llvm.load %[[CS_SLOT]]
// CHECK-NEXT: %[[F32_STATE:.+]] = llvm.mlir.constant(0 : i32)
// CHECK-NEXT: %[[S_SLOT:.+]] = llvm.getelementptr %[[STATES]][1]
// CHECK-NEXT: %[[S:.+]] = llvm.load %[[S_SLOT]]
// The output goes past the projection's output (1024 + 8 x 72 x 4 bytes), which its views keep live.
// CHECK-NEXT: %[[O:.+]] = llvm.getelementptr %[[ARENA]][3328]
// CHECK-NEXT: llvm.call @dc_op_gated_delta_net(%[[EXEC]], %[[QKV]], %[[QKV_STRIDE]], %[[A]], %[[A_STRIDE]], %[[B]], %[[B_STRIDE]], %[[T]], %[[NK]], %[[NV]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[A_LOG]], %[[TILED]], %{{[^,]+}}, %{{[^,]+}}, %[[CS]], %[[F32_STATE]], %[[S]], %[[O]])
// The out projection's residual epilogue (none = 0) reads the first epilogue's result.
// CHECK: llvm.call @dc_op_linear_epilogue(
// CHECK: llvm.call @dc_op_lm_head(
// CHECK: llvm.return

module attributes {delta.architecture = "qwen3_5", delta.max_context = 64 : i64, delta.weight_store = {fingerprint = "0x00000000000000ab", path = "m.dcw"}} {
  delta.weight private @embed : tensor<48x16xf32>
  delta.weight private @gate_up : tensor<32x16xf32>
  delta.weight private @in_proj : tensor<72x16xf32>
  delta.weight private @conv_w : tensor<64x4xf32>
  delta.weight private @a_log : tensor<4xf32>
  delta.weight private @dt_bias : tensor<4xf32>
  delta.weight private @out : tensor<16x32xf32>
  delta.state @conv : tensor<3x64xf32>
  delta.state @delta : tensor<4x8x8xf32>
  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x16xf32>
    %x = delta.embedding %e[%tokens] : tensor<48x16xf32>, tensor<?xi32> -> tensor<?x16xf32>
    %wgu = delta.weight_ref @gate_up : tensor<32x16xf32>
    %h = delta.linear %x, %wgu swiglu residual(%x) : tensor<?x16xf32>, tensor<32x16xf32> -> tensor<?x16xf32>
    %wi = delta.weight_ref @in_proj : tensor<72x16xf32>
    %p = delta.linear %h, %wi : tensor<?x16xf32>, tensor<72x16xf32> -> tensor<?x72xf32>
    %qkv, %a, %b = delta.split %p : tensor<?x72xf32> -> tensor<?x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>
    %cw = delta.weight_ref @conv_w : tensor<64x4xf32>
    %al = delta.weight_ref @a_log : tensor<4xf32>
    %dt = delta.weight_ref @dt_bias : tensor<4xf32>
    %cs = delta.state_read @conv : tensor<3x64xf32>
    %s = delta.state_read @delta : tensor<4x8x8xf32>
    %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%cw, %cs) gates(%al, %dt) a_log state(%s) tiled scale(0.353553385) l2_eps(1.0e-6)
        : tensor<?x64xf32>, tensor<?x4xf32>, tensor<64x4xf32>, tensor<3x64xf32>, tensor<4xf32>, tensor<4x8x8xf32> -> tensor<?x4x8xf32>
    delta.state_write %cs1, @conv : tensor<3x64xf32>
    delta.state_write %s1, @delta : tensor<4x8x8xf32>
    %of = delta.reshape %o : tensor<?x4x8xf32> -> tensor<?x32xf32>
    %wo = delta.weight_ref @out : tensor<16x32xf32>
    %y = delta.linear %of, %wo residual(%h) : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
    %l = delta.lm_head %y, %e : tensor<?x16xf32>, tensor<48x16xf32> -> tensor<?x48xf32>
    return %l : tensor<?x48xf32>
  }
  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x48xf32> {
    %e = delta.weight_ref @embed : tensor<48x16xf32>
    %x = delta.embedding %e[%tokens] : tensor<48x16xf32>, tensor<1xi32> -> tensor<1x16xf32>
    %cs = delta.state_read @conv : tensor<3x64xf32>
    %s = delta.state_read @delta : tensor<4x8x8xf32>
    delta.state_write %cs, @conv : tensor<3x64xf32>
    delta.state_write %s, @delta : tensor<4x8x8xf32>
    %l = delta.lm_head %x, %e : tensor<1x16xf32>, tensor<48x16xf32> -> tensor<1x48xf32>
    return %l : tensor<1x48xf32>
  }
}

// -----

// Split results read in place (codegen/BufferPlan.h). The in_proj output is [T, 68]: qkv (32
// columns), z (16), b (2), a (2) and e (16). In prefill, gated_delta_net's qkv, a and b and
// gated_rms_norm's gate (z through a reshape that keeps the token dimension) are views into it with
// its row of 68 floats as their token stride; e, which an add reads, is still copied. In decode (one
// token row) every result is a view, dense (each its own width as its stride), and nothing is copied.

// CHECK-LABEL: llvm.func @dc_entry_prefill(
// CHECK-SAME: %[[EXEC:[^:]+]]: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[ARENA:[^:]+]]: !llvm.ptr
// CHECK: %[[P:.+]] = llvm.getelementptr %[[ARENA]][512]
// CHECK-NEXT: llvm.call @dc_op_linear(
// The one copy: e, columns 52 to 68.
// CHECK: %[[FROM:.+]] = llvm.getelementptr %[[ARENA]][512]
// CHECK: %[[WIDTH:.+]] = llvm.mlir.constant(68 : i64)
// CHECK-NEXT: %[[OFFSET:.+]] = llvm.mlir.constant(52 : i64)
// CHECK-NEXT: %[[COLUMNS:.+]] = llvm.mlir.constant(16 : i64)
// CHECK-NEXT: %[[E:.+]] = llvm.getelementptr %[[ARENA]]{{\[}}[[E_AT:[0-9]+]]{{\]}}
// CHECK-NEXT: llvm.call @dc_op_slice_columns(%[[EXEC]], %[[FROM]], %{{[^,]+}}, %[[WIDTH]], %[[OFFSET]], %[[COLUMNS]], %[[E]])
// CHECK-NOT: dc_op_slice_columns
// CHECK: %[[QKV:.+]] = llvm.getelementptr %[[ARENA]][512]
// CHECK-NEXT: %[[S1:.+]] = llvm.mlir.constant(68 : i64)
// CHECK-NEXT: %[[A:.+]] = llvm.getelementptr %[[ARENA]][712]
// CHECK-NEXT: %[[S2:.+]] = llvm.mlir.constant(68 : i64)
// CHECK-NEXT: %[[B:.+]] = llvm.getelementptr %[[ARENA]][704]
// CHECK-NEXT: %[[S3:.+]] = llvm.mlir.constant(68 : i64)
// CHECK: llvm.call @dc_op_gated_delta_net(%[[EXEC]], %[[QKV]], %[[S1]], %[[A]], %[[S2]], %[[B]], %[[S3]],
// The gate: z at column 32, 2 rows of 8 per token, tokens 68 floats apart.
// CHECK: %[[Z:.+]] = llvm.getelementptr %[[ARENA]][640]
// CHECK-NEXT: %[[HEADS:.+]] = llvm.mlir.constant(2 : i64)
// CHECK-NEXT: %[[ZS:.+]] = llvm.mlir.constant(68 : i64)
// CHECK: llvm.call @dc_op_gated_rms_norm(%[[EXEC]], %{{[^,]+}}, %[[Z]], %[[HEADS]], %[[ZS]],
// The add reads the copy.
// CHECK: %[[E_IN:.+]] = llvm.getelementptr %[[ARENA]]{{\[}}[[E_AT]]{{\]}}
// CHECK: llvm.call @dc_op_add(%[[EXEC]], %{{[^,]+}}, %[[E_IN]],
// CHECK: llvm.return

// CHECK-LABEL: llvm.func @dc_entry_decode(
// CHECK-SAME: %[[EXEC:[^:]+]]: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[ARENA:[^:]+]]: !llvm.ptr
// CHECK-NOT: dc_op_slice_columns
// CHECK: llvm.call @dc_op_linear(
// CHECK-NOT: dc_op_slice_columns
// CHECK: %[[QKV:.+]] = llvm.getelementptr %[[ARENA]][64]
// CHECK-NEXT: %[[S1:.+]] = llvm.mlir.constant(32 : i64)
// CHECK-NEXT: %[[A:.+]] = llvm.getelementptr %[[ARENA]][264]
// CHECK-NEXT: %[[S2:.+]] = llvm.mlir.constant(2 : i64)
// CHECK-NEXT: %[[B:.+]] = llvm.getelementptr %[[ARENA]][256]
// CHECK-NEXT: %[[S3:.+]] = llvm.mlir.constant(2 : i64)
// CHECK: llvm.call @dc_op_gated_delta_net(%[[EXEC]], %[[QKV]], %[[S1]], %[[A]], %[[S2]], %[[B]], %[[S3]],
// CHECK: %[[Z:.+]] = llvm.getelementptr %[[ARENA]][192]
// CHECK-NEXT: %[[HEADS:.+]] = llvm.mlir.constant(2 : i64)
// CHECK-NEXT: %[[ZS:.+]] = llvm.mlir.constant(16 : i64)
// CHECK: llvm.call @dc_op_gated_rms_norm(%[[EXEC]], %{{[^,]+}}, %[[Z]], %[[HEADS]], %[[ZS]],
// CHECK: %[[E:.+]] = llvm.getelementptr %[[ARENA]][272]
// CHECK-NEXT: llvm.mlir.constant(1 : i64)
// CHECK: llvm.call @dc_op_add(%[[EXEC]], %{{[^,]+}}, %[[E]],
// CHECK-NOT: dc_op_slice_columns
// CHECK: llvm.return

module attributes {delta.architecture = "qwen3_5", delta.max_context = 64 : i64, delta.weight_store = {fingerprint = "0x00000000000000ab", path = "m.dcw"}} {
  delta.weight private @embed : tensor<48x16xf32>
  delta.weight private @in_proj : tensor<68x16xf32>
  delta.weight private @conv_w : tensor<32x4xf32>
  delta.weight private @a_log : tensor<2xf32>
  delta.weight private @dt_bias : tensor<2xf32>
  delta.weight private @norm : tensor<8xf32>
  delta.state @conv : tensor<3x32xf32>
  delta.state @delta : tensor<2x8x8xf32>
  func.func @prefill(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %start: index) -> tensor<?x48xf32> {
    %emb = delta.weight_ref @embed : tensor<48x16xf32>
    %x = delta.embedding %emb[%tokens] : tensor<48x16xf32>, tensor<?xi32> -> tensor<?x16xf32>
    %wi = delta.weight_ref @in_proj : tensor<68x16xf32>
    %p = delta.linear %x, %wi : tensor<?x16xf32>, tensor<68x16xf32> -> tensor<?x68xf32>
    %qkv, %z, %b, %a, %e = delta.split %p : tensor<?x68xf32> -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x16xf32>
    %cw = delta.weight_ref @conv_w : tensor<32x4xf32>
    %al = delta.weight_ref @a_log : tensor<2xf32>
    %dt = delta.weight_ref @dt_bias : tensor<2xf32>
    %cs = delta.state_read @conv : tensor<3x32xf32>
    %s = delta.state_read @delta : tensor<2x8x8xf32>
    %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%cw, %cs) gates(%al, %dt) a_log state(%s) tiled scale(0.353553385) l2_eps(1.0e-6)
        : tensor<?x32xf32>, tensor<?x2xf32>, tensor<32x4xf32>, tensor<3x32xf32>, tensor<2xf32>, tensor<2x8x8xf32> -> tensor<?x2x8xf32>
    delta.state_write %cs1, @conv : tensor<3x32xf32>
    delta.state_write %s1, @delta : tensor<2x8x8xf32>
    %zr = delta.reshape %z : tensor<?x16xf32> -> tensor<?x2x8xf32>
    %nw = delta.weight_ref @norm : tensor<8xf32>
    %n = delta.gated_rms_norm %o, %zr, %nw eps(1.0e-6) : tensor<?x2x8xf32>, tensor<8xf32>
    %nf = delta.reshape %n : tensor<?x2x8xf32> -> tensor<?x16xf32>
    %r = delta.add %nf, %e : tensor<?x16xf32>
    %l = delta.lm_head %r, %emb : tensor<?x16xf32>, tensor<48x16xf32> -> tensor<?x48xf32>
    return %l : tensor<?x48xf32>
  }
  func.func @decode(%tokens: tensor<1xi32>, %positions: tensor<1xi32>, %start: index) -> tensor<1x48xf32> {
    %emb = delta.weight_ref @embed : tensor<48x16xf32>
    %x = delta.embedding %emb[%tokens] : tensor<48x16xf32>, tensor<1xi32> -> tensor<1x16xf32>
    %wi = delta.weight_ref @in_proj : tensor<68x16xf32>
    %p = delta.linear %x, %wi : tensor<1x16xf32>, tensor<68x16xf32> -> tensor<1x68xf32>
    %qkv, %z, %b, %a, %e = delta.split %p : tensor<1x68xf32> -> tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x16xf32>
    %cw = delta.weight_ref @conv_w : tensor<32x4xf32>
    %al = delta.weight_ref @a_log : tensor<2xf32>
    %dt = delta.weight_ref @dt_bias : tensor<2xf32>
    %cs = delta.state_read @conv : tensor<3x32xf32>
    %s = delta.state_read @delta : tensor<2x8x8xf32>
    %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%cw, %cs) gates(%al, %dt) a_log state(%s) tiled scale(0.353553385) l2_eps(1.0e-6)
        : tensor<1x32xf32>, tensor<1x2xf32>, tensor<32x4xf32>, tensor<3x32xf32>, tensor<2xf32>, tensor<2x8x8xf32> -> tensor<1x2x8xf32>
    delta.state_write %cs1, @conv : tensor<3x32xf32>
    delta.state_write %s1, @delta : tensor<2x8x8xf32>
    %zr = delta.reshape %z : tensor<1x16xf32> -> tensor<1x2x8xf32>
    %nw = delta.weight_ref @norm : tensor<8xf32>
    %n = delta.gated_rms_norm %o, %zr, %nw eps(1.0e-6) : tensor<1x2x8xf32>, tensor<8xf32>
    %nf = delta.reshape %n : tensor<1x2x8xf32> -> tensor<1x16xf32>
    %r = delta.add %nf, %e : tensor<1x16xf32>
    %l = delta.lm_head %r, %emb : tensor<1x16xf32>, tensor<48x16xf32> -> tensor<1x48xf32>
    return %l : tensor<1x48xf32>
  }
}
