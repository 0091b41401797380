//===- Passes.td - deltac graph passes -------------------------*- tablegen -*-===//

#ifndef DELTAC_PASSES_PASSES_TD
#define DELTAC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def VerifyModel : Pass<"delta-verify-model", "::mlir::ModuleOp"> {
  let summary = "Checks model-level invariants that no single op verifier can see";
  let description = [{
    Op verifiers check each op against its operands. This pass checks how a whole model module uses its
    weights and state, the mistakes an importer or a graph rewrite can make without breaking any op:

    * every `delta.state` read in a function is written back in that function exactly once, after the
      read (otherwise a step silently drops its state update);
    * no function writes a state it has not read (the old value would be lost unread — a sign of a
      state threaded to the wrong layer);
    * a state value is consumed by at most one state-updating op, so the update can happen in place;
    * every declared weight and state is used by some function (`delta.weight` symbols that are
      private are better removed with `symbol-dce`; this pass reports the public ones).

    The pass changes nothing. Example of what it rejects:

    ```mlir
    delta.state @conv : tensor<3x64xf32>
    func.func @decode(%x: tensor<1x64xf32>, %w: tensor<64x4xf32>) -> tensor<1x64xf32> {
      %s = delta.state_read @conv : tensor<3x64xf32>
      %y, %s1 = delta.causal_conv1d %x, %w, %s activation(silu) : ...
      // error: state @conv is read but its update is never written back
      return %y : tensor<1x64xf32>
    }
    ```
  }];
  let statistics = [
    Statistic<"numStatesChecked", "states-checked", "state symbols checked">,
    Statistic<"numWeightsChecked", "weights-checked", "weight symbols checked">
  ];
}

def FoldNormScales : Pass<"delta-fold-norm-scales", "::mlir::ModuleOp"> {
  let summary = "Folds RMSNorm scales into the weights of the linears that consume the norm";
  let description = [{
    An RMSNorm whose every user is a linear (or LM head) computes y = n * s with s = w (`plain`) or
    1 + w (`one_plus`, Qwen3.5's zero-centred norms), and the linear then computes y W^T. Since
    (n * s) W^T = n (W diag(s))^T, the scale moves into the weights: each consumer gets a derived weight
    `scale_columns[_one_plus](@W, @w)` and the norm becomes `none`. Exact in real arithmetic; the
    folded weight is rounded once, into its own encoding, from the checkpoint's values.

    ```mlir
    delta.weight private @n : tensor<1024xf32>
    delta.weight private @wq : !delta.qweight<6144x1024, #delta.quant<storage = i8, group_size = 32, scale_type = f16>, ggml_blocks>
    %h = delta.rms_norm %x, %nw one_plus eps(1.0e-06) : tensor<?x1024xf32>, tensor<1024xf32>
    %y = delta.linear %h, %q : tensor<?x1024xf32>, !delta.qweight<...> -> tensor<?x6144xf32>
    // becomes
    delta.weight private @wq.norm_folded : !delta.qweight<...> = scale_columns_one_plus(@wq, @n)
    %h = delta.rms_norm %x none eps(1.0e-06) : tensor<?x1024xf32>
    %y = delta.linear %h, %q2 : tensor<?x1024xf32>, !delta.qweight<...> -> tensor<?x6144xf32>
    ```

    A norm weight is folded only when it can be folded everywhere it is used: every norm that applies
    it (in every function), every user of those norms is a linear or LM head taking the norm as its
    input, and every use of each consumer weight is such a consumer. So a tied embedding (also read by
    the embedding) keeps the final norm, a norm feeding a MoE block keeps its scale, and no weight is
    ever stored twice. Weights marked `verbatim` (checkpoint bytes that would round again) and derived
    weights are left alone.
  }];
  let statistics = [
    Statistic<"numNormsFolded", "norms-folded", "norm ops whose scale moved into weights">,
    Statistic<"numWeightsScaled", "weights-scaled", "derived weights created">
  ];
}

def MergeLinears : Pass<"delta-merge-linears", "::mlir::ModuleOp"> {
  let summary = "Merges linears that read the same input into one linear over concatenated weights";
  let description = [{
    Linears with the same input and weights of the same encoding become one linear whose weight is
    `concat_rows` of theirs, followed by a `delta.split` of its result. One larger matrix-vector product
    replaces several small ones: fewer kernel launches and thread-pool rounds per decode step, and the
    tiny b / a projections of Gated DeltaNet ride along with in_proj_qkv instead of running alone.
    Concatenating rows copies bytes, so it never rounds.

    ```mlir
    %g = delta.linear %x, %wg : tensor<?x1024xf32>, tensor<3584x1024xbf16> -> tensor<?x3584xf32>
    %u = delta.linear %x, %wu : tensor<?x1024xf32>, tensor<3584x1024xbf16> -> tensor<?x3584xf32>
    // becomes
    delta.weight private @"layers.0.mlp.gate_proj+up_proj.weight" : tensor<7168x1024xbf16>
        = concat_rows(@layers.0.mlp.gate_proj.weight, @layers.0.mlp.up_proj.weight)
    %gu = delta.linear %x, %wgu : tensor<?x1024xf32>, tensor<7168x1024xbf16> -> tensor<?x7168xf32>
    %g, %u = delta.split %gu : tensor<?x7168xf32> -> tensor<?x3584xf32>, tensor<?x3584xf32>
    ```

    In Qwen3.5 this merges in_proj_qkv, in_proj_z, in_proj_b and in_proj_a of every Gated DeltaNet
    layer, q_proj, k_proj and v_proj of every attention layer, and gate_proj and up_proj of every
    MLP. The merged linear goes where the first of the group was, in program order, and the group keeps
    that order in the concatenation. Linears with an epilogue or a residual, weights that are not
    `delta.weight_ref`s, and weights of different encodings are not merged. The merged weight is
    declared once and shared by `prefill` and `decode`.
  }];
  let statistics = [
    Statistic<"numGroups", "groups-merged", "groups of linears merged">,
    Statistic<"numLinears", "linears-merged", "linears replaced by merged ones">
  ];
}

def RemoveDeadWork : Pass<"delta-remove-dead-work", "::mlir::ModuleOp"> {
  let summary = "Removes computations and declarations nothing needs";
  let description = [{
    * Ops without side effects whose results are all unused are erased, repeatedly, so a whole dead
      chain goes (a rewrite that leaves a projection unused, for instance). State updates are not
      dead: `delta.state_write` keeps them alive.
    * A `delta.split` of a merged linear whose piece is unused drops that piece's rows from the
      merged weight (the `concat_rows` loses that source), so the weight is neither stored nor read.
    * Private weights and states no function reaches (directly, or as a source of a derived weight a
      function reads) are erased: MTP weights in a build without an MTP entry point, the originals of
      folded or merged weights.
    * With `prefill-logits=last`, `@prefill` returns the next-token logits only (`tensor<1xV>`): the
      final norm and the LM head, the largest matrix of the model, run on the last token's row instead
      of every prompt position. The program table records it, and the runtime then refuses requests
      for every position's logits.

      ```mlir
      %n = delta.rms_norm %h, %w one_plus eps(1.0e-06) : tensor<?x1024xf32>, tensor<1024xf32>
      %l = delta.lm_head %n, %e : tensor<?x1024xf32>, tensor<248320x1024xbf16> -> tensor<?x248320xf32>
      // becomes
      %r = delta.last_row %h : tensor<?x1024xf32> -> tensor<1x1024xf32>
      %n = delta.rms_norm %r, %w one_plus eps(1.0e-06) : tensor<1x1024xf32>, tensor<1024xf32>
      %l = delta.lm_head %n, %e : tensor<1x1024xf32>, tensor<248320x1024xbf16> -> tensor<1x248320xf32>
      ```

    ```mlir
    delta.weight private @wab : tensor<32x64xf32> = concat_rows(@wa, @wb)
    %ab = delta.linear %x, %r : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
    %a, %b = delta.split %ab : tensor<?x32xf32> -> tensor<?x16xf32>, tensor<?x16xf32>
    // only %a is used: becomes
    %a = delta.linear %x, %ra : tensor<?x64xf32>, tensor<16x64xf32> -> tensor<?x16xf32>
    ```
  }];
  let statistics = [
    Statistic<"numOpsErased", "ops-erased", "dead ops erased">,
    Statistic<"numRowsDropped", "pieces-dropped", "unused pieces dropped from merged linears">,
    Statistic<"numSymbolsErased", "symbols-erased", "unreachable weight and state declarations erased">
  ];
  let options = [
    Option<"prefillLogits", "prefill-logits", "std::string", /*default=*/"\"all\"",
           "Logits @prefill returns: all (one row per prompt token) or last (the next token's)">
  ];
}

def FuseElementwise : Pass<"delta-fuse-elementwise", "::mlir::ModuleOp"> {
  let summary = "Fuses elementwise work into the neighbouring linear and Gated DeltaNet kernels";
  let description = [{
    Rewrites three chains so that their elementwise steps run inside the kernel that produces (or
    consumes) the data, instead of as separate kernels that stream a temporary through memory
    (docs/design/fusion.md). Each rewrite keeps the exact semantics of the ops it replaces.

    **swiglu**: a SwiGLU over the two equal halves of one linear becomes that linear's `swiglu`
    epilogue. Only the merged form is matched: one weight `[gate; up]` split into two equal halves,
    what `delta-merge-linears` produces from separate gate and up projections, so that pass must run
    first. The gate must be the first half.

    ```mlir
    %gu = delta.linear %x, %wgu : tensor<?x1024xf32>, tensor<7168x1024xf32> -> tensor<?x7168xf32>
    %g, %u = delta.split %gu : tensor<?x7168xf32> -> tensor<?x3584xf32>, tensor<?x3584xf32>
    %a = delta.swiglu %g, %u : tensor<?x3584xf32>
    // becomes
    %a = delta.linear %x, %wgu swiglu : tensor<?x1024xf32>, tensor<7168x1024xf32> -> tensor<?x3584xf32>
    ```

    **residual**: a residual `delta.add` of a linear's result becomes that linear's `residual`
    operand. The fused linear takes the add's place, so the other operand may be defined after the
    linear; the linear and the add must be in the same block (fusing across a region would move the
    matmul into it).

    ```mlir
    %d = delta.linear %a, %wd : tensor<?x3584xf32>, tensor<1024x3584xf32> -> tensor<?x1024xf32>
    %h = delta.add %x, %d : tensor<?x1024xf32>
    // becomes
    %h = delta.linear %a, %wd residual(%x) : tensor<?x3584xf32>, tensor<1024x3584xf32> -> tensor<?x1024xf32>
    ```

    **gdn-prologue**: the delta-rule prologue as the importer emits it (conv1d with SiLU, split into
    q | k | v, per-head reshapes, L2 norms of q and k, gdn_gates) together with the gated delta rule
    becomes one `delta.gated_delta_net`. The inputs of the chain (the mixed projection, a, b) may come
    from anywhere, e.g. from the split of a merged in_proj.

    ```mlir
    %m, %cs1 = delta.causal_conv1d %qkv, %w, %cs0 activation(silu) : ...
    %q, %k, %v = delta.split %m : tensor<?x6144xf32> -> tensor<?x2048xf32>, tensor<?x2048xf32>, tensor<?x2048xf32>
    %qh = delta.reshape %q : tensor<?x2048xf32> -> tensor<?x16x128xf32>
    %qn = delta.l2_norm %qh eps(9.99999997E-7) : tensor<?x16x128xf32>
    %kh = delta.reshape %k : tensor<?x2048xf32> -> tensor<?x16x128xf32>
    %kn = delta.l2_norm %kh eps(9.99999997E-7) : tensor<?x16x128xf32>
    %vh = delta.reshape %v : tensor<?x2048xf32> -> tensor<?x16x128xf32>
    %g, %beta = delta.gdn_gates %a, %b, %A_log, %dt_bias a_log : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
    %o, %s1 = delta.gated_delta_rule %qn, %kn, %vh, %g, %beta, %s0 grouped scale(0.0883883461) : ...
    // becomes
    %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%w, %cs0) gates(%A_log, %dt_bias) a_log
        state(%s0) grouped scale(0.0883883461) l2_eps(9.99999997E-7) : ...
    ```

    A rewrite is skipped when an intermediate value has another user (the fused kernel would not
    produce it), when the shapes do not line up exactly (unequal halves, a reshape that is not the
    per-head view, an L2 norm over another axis, two different L2 epsilons, a conv without SiLU), or
    when a user of the conv's new state comes before the delta rule (the fused op, which takes the
    delta rule's place, would not dominate it).

    The sigmoid output gate of attention and the SiLU gate of the GDN output norm need no pass: they
    are part of `delta.attention` and `delta.gated_rms_norm` from import on.
  }];
  let options = [
    Option<"fuseSwiGLU", "swiglu", "bool", /*default=*/"true",
           "Fold split + swiglu of a merged gate/up linear into its swiglu epilogue">,
    Option<"fuseResidual", "residual", "bool", /*default=*/"true",
           "Fold residual adds of a linear's result into its residual operand">,
    Option<"fuseGDNPrologue", "gdn-prologue", "bool", /*default=*/"true",
           "Fuse conv1d, split, L2 norms, gates and the delta rule into delta.gated_delta_net">
  ];
  let statistics = [
    Statistic<"numSwiGLU", "swiglu-fused", "swiglu epilogues formed">,
    Statistic<"numResidual", "residual-fused", "residual adds folded into linears">,
    Statistic<"numGDN", "gdn-fused", "Gated DeltaNet cores fused">
  ];
}

def PackWeights : Pass<"delta-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Repacks Q8_0 and Q4_0 weights into the layout of the int8-activation kernels";
  let description = [{
    GGUF's Q8_0 and Q4_0 blocks interleave a 2-byte scale with 32 or 16 bytes of codes, so a kernel
    must take every row apart block by block. In a module compiled for int8 activations
    (`delta.act_quant = "int8"`, `deltac compile --act-quant=int8`) this pass gives every such weight
    matrix that only linears, LM heads and embeddings read a `pack` derivation in the `packed`
    layout: each row's codes, then its scales (`kernel_abi.h`, "Packed rows"). The kernels load 64
    codes or 128 nibbles and their scales with whole vector loads. Packing moves bytes and never
    rounds, so verbatim GGUF blocks are packed as they are; the weight store keeps only the packed
    copy. Without int8 activations, and for Q4_1, deltac's own int4 groups, expert stacks and
    weights other ops read, the pass changes nothing.

    ```mlir
    delta.weight private @w : !delta.qweight<3584x1024, #delta.quant<storage = i4, group_size = 32,
        scale_type = f16>, ggml_blocks> verbatim
    %w = delta.weight_ref @w : !delta.qweight<3584x1024, #q4_0, ggml_blocks>
    // becomes
    delta.weight private @w.packed : !delta.qweight<3584x1024, #q4_0, packed> = pack(@w)
    %w = delta.weight_ref @w.packed : !delta.qweight<3584x1024, #q4_0, packed>
    ```

    With `interleave-q4` (the x86-64 targets, AVX2 or AVX-512 VNNI) Q4_0 weights take the
    `packed_x8` layout instead: the code bytes of each span of 8 blocks interleaved 4 bytes at a
    time, so that one 32-byte load gives the x86 kernels 4 code bytes of each of 8 blocks, one block
    per 32-bit lane.

    Run it last among the graph passes, after the passes that merge and narrow weights, so the
    weights it packs are the ones the kernels read.
  }];
  let options = [
    Option<"interleaveQ4", "interleave-q4", "bool", /*default=*/"false",
           "Pack Q4_0 weights in the packed_x8 layout (the x86 kernels')">
  ];
  let statistics = [
    Statistic<"numPacked", "weights-packed", "weights given a packed derivation">
  ];
}

#endif // DELTAC_PASSES_PASSES_TD
