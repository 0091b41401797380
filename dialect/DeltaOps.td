//===- DeltaOps.td - delta dialect operations ------------------*- tablegen -*-===//
//
// Operations of the delta dialect, grouped by family: module structure (weights and state), shape
// plumbing, normalizations, projections, the Gated DeltaNet mixer, gated attention, and the MLP / MoE.
// The math in each description is the op's contract; the naive C++ reference and every kernel implement it.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_DIALECT_DELTAOPS_TD
#define DELTAC_DIALECT_DELTAOPS_TD

include "dialect/DeltaDialect.td"
include "dialect/DeltaAttributes.td"
include "dialect/DeltaInterfaces.td"
include "dialect/DeltaTypes.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Delta_FloatElement : AnyTypeOf<[F32, F16, BF16]>;
def Delta_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Delta_F32Tensor : RankedTensorOf<[F32]>;
def Delta_StaticFloatTensor
    : Type<And<[Delta_FloatTensor.predicate, HasStaticShapePred]>,
           "statically shaped tensor of f32, f16 or bf16 values">;
// Recurrent state and KV caches: f32, or f16 storage that the ops read widened to f32 and write
// rounded to nearest (the delta-rule state once per op, new KV cache rows as they are appended).
def Delta_StaticStateTensor
    : Type<And<[RankedTensorOf<[F32, F16]>.predicate, HasStaticShapePred]>,
           "statically shaped tensor of f32 or f16 values">;
def Delta_Weight : AnyTypeOf<[Delta_StaticFloatTensor, Delta_QuantizedWeightType],
                             "float tensor or quantized weight">;
def Delta_TokenIds : 1DTensorOf<[I32]>;
def Delta_Positions : TensorRankOf<[I32], [1, 2]>;

//===----------------------------------------------------------------------===//
// Module structure: weights and state
//===----------------------------------------------------------------------===//

def Delta_WeightOp : Delta_Op<"weight", [Symbol, HasParent<"::mlir::ModuleOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Declares a weight held in the external weight store";
  let description = [{
    Declares a module-level weight. The IR never holds the weight's values, so a 9B model's IR stays a
    few hundred kilobytes. The type is a statically shaped float tensor or a `!delta.qweight`; it is the
    encoding the weight store will keep.

    A weight without a derivation is the checkpoint tensor of the same (canonical) name. A derived
    weight is computed from other weights when the store is written, after the graph passes
    (`WeightDerivation`): passes that change weights (folding a norm scale into a linear, merging
    linears) declare new weights this way instead of touching values.

    `verbatim` marks a weight whose stored bytes are the checkpoint's bytes in an encoding that would
    round again if recomputed (a GGUF Q8_0 tensor compiled to int8, a bf16 tensor compiled to bf16).
    No derivation may compute new values from a verbatim weight; `concat_rows` may copy its rows when
    the result has the same type.

    Weights are normally private, so `symbol-dce` drops the ones no function and no derived weight
    references (MTP weights in a build without MTP, a weight folded into another). The store holds only
    the weights functions reference.

    Example:

    ```mlir
    delta.weight private @"layers.0.mlp.gate_proj.weight" : tensor<3584x1024xbf16> verbatim
    delta.weight private @"layers.0.mlp.up_proj.weight" : tensor<3584x1024xbf16> verbatim
    delta.weight private @"layers.0.mlp.gate_up_proj.weight" : tensor<7168x1024xbf16>
        = concat_rows(@"layers.0.mlp.gate_proj.weight", @"layers.0.mlp.up_proj.weight")
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    OptionalAttr<StrAttr>:$sym_visibility,
    TypeAttrOf<Delta_Weight>:$type,
    OptionalAttr<Delta_WeightDerivationAttr>:$derivation,
    OptionalAttr<FlatSymbolRefArrayAttr>:$sources,
    UnitAttr:$verbatim
  );
  // [visibility] @name : type [verbatim] [= derivation(@source, ...)] attr-dict
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True for a weight computed from other weights rather than read from the checkpoint.
    bool isDerived() { return getDerivation().has_value(); }
  }];
}

def Delta_WeightRefOp : Delta_Op<"weight_ref",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Refers to a weight declared by delta.weight";
  let description = [{
    Produces the value of the module-level weight `name`. The result type must equal the declared type.

    ```mlir
    %w = delta.weight_ref @"model.layers.0.mlp.up_proj.weight" : tensor<3584x1024xbf16>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs Delta_Weight:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Delta_StateOp : Delta_Op<"state", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "Declares a piece of recurrent state kept between steps";
  let description = [{
    Declares module-level state that persists from one call of an entry point to the next: a layer's conv
    state `[K-1, C]`, its delta-rule state `[nv, dk, dv]`, or a KV cache `[nkv, max_context, hd]`. Sizes
    are fixed at compile time (the KV cache from the `--max-context` option). The runtime zero-initializes
    all state when a session starts, and saves and restores it as a whole.

    ```mlir
    delta.state @"layers.0.delta_state" : tensor<16x128x128xf32>
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<Delta_StaticFloatTensor>:$type
  );
  let assemblyFormat = "$sym_name `:` $type attr-dict";
}

def Delta_StateReadOp : Delta_Op<"state_read",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>, MemoryEffects<[MemRead]>]> {
  let summary = "Reads the current value of a delta.state";
  let description = [{
    ```mlir
    %s = delta.state_read @"layers.0.delta_state" : tensor<16x128x128xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$state);
  let results = (outs Delta_StaticFloatTensor:$result);
  let assemblyFormat = "$state attr-dict `:` type($result)";
}

def Delta_StateWriteOp : Delta_Op<"state_write",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>, MemoryEffects<[MemWrite]>]> {
  let summary = "Replaces the value of a delta.state";
  let description = [{
    Stores `value` as the new value of `state`, visible to the next step.

    ```mlir
    delta.state_write %s1, @"layers.0.delta_state" : tensor<16x128x128xf32>
    ```
  }];
  let arguments = (ins Delta_StaticFloatTensor:$value, FlatSymbolRefAttr:$state);
  let assemblyFormat = "$value `,` $state attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Shape plumbing
//===----------------------------------------------------------------------===//

def Delta_ReshapeOp : Delta_Op<"reshape", [Pure]> {
  let summary = "Regroups the trailing dimensions of a tensor";
  let description = [{
    Reinterprets a row-major tensor with another shape that keeps the leading (token) dimension and the
    number of values per token: `[T, a*b] -> [T, a, b]` splits a projection into heads, `[T, a, b] ->
    [T, a*b]` merges them back. The element type is unchanged.

    ```mlir
    %q = delta.reshape %x : tensor<?x2048xf32> -> tensor<?x16x128xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$input);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Delta_SplitOp : Delta_Op<"split", [Pure]> {
  let summary = "Splits a tensor into consecutive slices of its last dimension";
  let description = [{
    Result i holds the columns [o_i, o_i + n_i) of the last dimension, where n_i is result i's last
    dimension and o_i the sum of the earlier ones; the n_i add up to the input's last dimension. All other
    dimensions are unchanged. Used for the q | k | v split of the Gated DeltaNet conv output and the
    per-head query | gate split of gated attention.

    ```mlir
    %q, %k, %v = delta.split %m : tensor<?x6144xf32> -> tensor<?x2048xf32>, tensor<?x2048xf32>, tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$input);
  let results = (outs Variadic<Delta_FloatTensor>:$results);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($results)";
  let hasVerifier = 1;
}

def Delta_LastRowOp : Delta_Op<"last_row", [Pure]> {
  let summary = "Takes the last token's row of a [T, ...] tensor";
  let description = [{
    The result is the input's last row along the first (token) dimension, kept as a dimension of 1;
    the other dimensions are unchanged. `delta-remove-dead-work{prefill-logits=last}` puts it in front of
    the final norm and the LM head, so a prefill computes the next-token logits only.

    ```mlir
    %l = delta.last_row %h : tensor<?x1024xf32> -> tensor<1x1024xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$input);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Delta_ConcatOp : Delta_Op<"concat", [Pure]> {
  let summary = "Concatenates tensors along their last dimension";
  let description = [{
    The inverse of `delta.split`: the result's last dimension is the inputs' last dimensions laid end to
    end, in operand order. Used by the MTP module (embedding first, hidden state second).

    ```mlir
    %c = delta.concat %e, %h : tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins Variadic<Delta_FloatTensor>:$inputs);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding, projections, LM head
//===----------------------------------------------------------------------===//

def Delta_EmbeddingOp : Delta_Op<"embedding", [Pure]> {
  let summary = "Gathers embedding rows for token ids";
  let description = [{
    `result[t, :] = table[ids[t], :]` for a table `[V, H]` (float or quantized, dequantized on the fly) and
    ids `[T]`; no scaling. Ids outside [0, V) are a runtime error reported by the runtime before the step.

    ```mlir
    %e = delta.embedding %table[%ids] : tensor<248320x1024xbf16>, tensor<?xi32> -> tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins Delta_Weight:$table, Delta_TokenIds:$ids);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` type($table) `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Delta_LinearOp : Delta_Op<"linear", [Pure,
    OptionalTypesMatchWith<"residual has the result's type", "result", "residual", "$_self">]> {
  let summary = "Multiplies activations by a (possibly quantized) weight matrix, with an optional epilogue";
  let description = [{
    `p[.., n] = sum_k input[.., k] * weight[n, k]`: input `[.., K]`, weight `[M, K]` (PyTorch layout,
    float or `!delta.qweight`), accumulation in f32. No bias (no Qwen3.5 text linear has one). The result
    `[.., N]` has the input's element type and is, elementwise, in f32:

    * no epilogue: N = M and result = p;
    * `swiglu`: the weight is one merged `[gate; up]` matrix, M = 2 * N (rows 0 .. N-1 the gate
      projection, rows N .. 2N-1 the up projection), and
      result[.., n] = silu(p[.., n]) * p[.., N + n], i.e. `delta.swiglu` of the two halves of p;
    * `residual(r)`: r has the result's type and is added last: result = r + (p, or the swiglu of p).

    The epilogues are what `delta-fuse-elementwise` folds into a linear (`linear` + `split` + `swiglu`,
    and `linear` + `add`), so the kernel writes the final value once instead of a temporary that a
    second kernel reads back (docs/design/fusion.md).

    ```mlir
    %y = delta.linear %x, %w : tensor<?x1024xf32>, tensor<6144x1024xbf16> -> tensor<?x6144xf32>
    %a = delta.linear %n, %wgu swiglu : tensor<?x1024xf32>, tensor<7168x1024xbf16> -> tensor<?x3584xf32>
    %h = delta.linear %a, %wd residual(%x) : tensor<?x3584xf32>, tensor<1024x3584xbf16> -> tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$input,
    Delta_Weight:$weight,
    Optional<Delta_FloatTensor>:$residual,
    UnitAttr:$swiglu
  );
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`swiglu` $swiglu^)? (`residual` `(` $residual^ `)`)? attr-dict
      `:` type($input) `,` type($weight) `->` type($result)
  }];
  let builders = [
    // The plain projection, as the importer builds it.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input, "::mlir::Value":$weight), [{
      build($_builder, $_state, result, input, weight, /*residual=*/::mlir::Value(),
            /*swiglu=*/false);
    }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True when the op is a plain projection (no swiglu, no residual).
    bool hasNoEpilogue() { return !getSwiglu() && !getResidual(); }
  }];
}

def Delta_LMHeadOp : Delta_Op<"lm_head", [Pure]> {
  let summary = "Projects final hidden states to f32 vocabulary logits";
  let description = [{
    `logits[t, v] = sum_h input[t, h] * weight[v, h]`, input `[T, H]`, weight `[V, H]` (the embedding table
    when the model ties them, else `lm_head.weight`), logits `[T, V]` always f32. A separate op from
    `delta.linear` because it dominates decode traffic for tied models (34% of the 0.8B's weights) and is
    lowered to its own kernel; the runtime samples from its result.

    ```mlir
    %logits = delta.lm_head %x, %w : tensor<?x1024xf32>, tensor<248320x1024xbf16> -> tensor<?x248320xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$input, Delta_Weight:$weight);
  let results = (outs Delta_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise and normalization
//===----------------------------------------------------------------------===//

def Delta_AddOp : Delta_Op<"add", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise sum (residual connections)";
  let description = [{
    `result = lhs + rhs` elementwise; both operands and the result have one type.

    ```mlir
    %h = delta.add %x, %attn : tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$lhs, Delta_FloatTensor:$rhs);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Delta_SwiGLUOp : Delta_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "SwiGLU activation: silu(gate) * up";
  let description = [{
    `result = gate * sigmoid(gate) * up` elementwise, computed in f32.

    ```mlir
    %a = delta.swiglu %gate, %up : tensor<?x3584xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$gate, Delta_FloatTensor:$up);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Delta_RMSNormOp : Delta_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS normalization over the last dimension, plain or zero-centred";
  let description = [{
    For every row x of length D (the last dimension), in f32:

    n = x * rsqrt(mean(x^2) + eps);  `plain`: y = n * w;  `one_plus`: y = n * (1 + w)

    with weight w of shape `[D]`. Qwen3.5 uses `one_plus` for input_layernorm, post_attention_layernorm,
    the final norm, the MTP norms, and (per head, D = head_dim) for q_norm and k_norm. `none` takes no
    weight (y = n): `delta-fold-norm-scales` leaves it when it moves the scale into the consumers.

    ```mlir
    %n = delta.rms_norm %x, %w one_plus eps(1.0e-06) : tensor<?x1024xf32>, tensor<1024xbf16>
    %m = delta.rms_norm %x none eps(1.0e-06) : tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$input,
    Optional<Delta_StaticFloatTensor>:$weight,
    Delta_NormScaleAttr:$scale,
    F32Attr:$eps
  );
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? custom<KeywordAttr>($scale) `eps` `(` $eps `)` attr-dict `:` type($input)
    (`,` type($weight)^)?
  }];
  let hasVerifier = 1;
}

def Delta_L2NormOp : Delta_Op<"l2_norm", [Pure, SameOperandsAndResultType]> {
  let summary = "L2 normalization over the last dimension";
  let description = [{
    For every row x of the last dimension, in f32: y = x / sqrt(sum(x^2) + eps). Gated DeltaNet applies
    it to each query and key head (eps = 1e-6).

    ```mlir
    %qn = delta.l2_norm %q eps(1.0e-06) : tensor<?x16x128xf32>
    ```
  }];
  let arguments = (ins Delta_FloatTensor:$input, F32Attr:$eps);
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = "$input `eps` `(` $eps `)` attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Delta_GatedRMSNormOp : Delta_Op<"gated_rms_norm",
    [Pure, AllTypesMatch<["input", "gate", "result"]>]> {
  let summary = "RMS normalization followed by a SiLU gate (Gated DeltaNet output)";
  let description = [{
    For every row o of the last dimension D with the matching row z of `gate`, in f32:

    y = (o * rsqrt(mean(o^2) + eps)) * w * silu(z)

    with a plain weight w `[D]` (no 1 + w). Applied per value head (D = dv) to the delta-rule output.

    ```mlir
    %y = delta.gated_rms_norm %o, %z, %w eps(1.0e-06) : tensor<?x16x128xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$input,
    Delta_FloatTensor:$gate,
    Delta_StaticFloatTensor:$weight,
    F32Attr:$eps
  );
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $weight `eps` `(` $eps `)` attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gated DeltaNet
//===----------------------------------------------------------------------===//

def Delta_CausalConv1DOp : Delta_Op<"causal_conv1d", [Pure,
    AllTypesMatch<["input", "result"]>, AllTypesMatch<["state", "new_state"]>,
    DeclareOpInterfaceMethods<Delta_StateUpdateOpInterface>]> {
  let summary = "Causal depthwise 1-D convolution over time with carried state";
  let description = [{
    Input `[T, C]`, weight `[C, K]` (tap 0 oldest), state `[K-1, C]` holding the last K-1 *pre-conv* inputs
    of the previous step (oldest first; zeros at the start of a sequence). With the sequence
    m = concat(state, input) along time (length K-1+T):

    result[t, c] = act(sum_{j=0..K-1} weight[c, j] * m[t + j, c]),   new_state = m[T .. T+K-2, :]

    `act` is `silu` or `none`. There is no bias. For Qwen3.5, C = conv_dim = 2 * key_dim + value_dim and
    K = 4.

    ```mlir
    %y, %s1 = delta.causal_conv1d %m, %w, %s0 activation(silu)
        : tensor<?x6144xf32>, tensor<6144x4xbf16>, tensor<3x6144xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$input,
    Delta_StaticFloatTensor:$weight,
    Delta_StaticFloatTensor:$state,
    Delta_ActivationAttr:$activation
  );
  let results = (outs Delta_FloatTensor:$result, Delta_StaticFloatTensor:$new_state);
  let assemblyFormat = [{
    $input `,` $weight `,` $state `activation` `(` custom<KeywordAttr>($activation) `)` attr-dict
      `:` type($input) `,` type($weight) `,` type($state)
  }];
  let hasVerifier = 1;
}

def Delta_GDNGatesOp : Delta_Op<"gdn_gates", [Pure,
    AllTypesMatch<["a", "b"]>, AllTypesMatch<["decay", "dt_bias"]>,
    AllTypesMatch<["g", "beta"]>]> {
  let summary = "Gated DeltaNet gates: log-decay g and write strength beta";
  let description = [{
    Inputs a, b `[T, nv]` (the `in_proj_a` and `in_proj_b` projections), decay `[nv]`, dt_bias `[nv]`.
    In f32:

    beta = sigmoid(b)
    g    = A * softplus(a + dt_bias),  A = -exp(decay) (`a_log`) or A = decay (`neg_exp`)

    so g <= 0 is the log of the per-step decay alpha = exp(g). softplus(x) = log(1 + exp(x)), and x for
    x > 20. Both results are f32 `[T, nv]`.

    ```mlir
    %g, %beta = delta.gdn_gates %a, %b, %A_log, %dt_bias a_log
        : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$a,
    Delta_FloatTensor:$b,
    Delta_StaticFloatTensor:$decay,
    Delta_StaticFloatTensor:$dt_bias,
    Delta_DecayFormAttr:$decay_form
  );
  let results = (outs Delta_F32Tensor:$g, Delta_F32Tensor:$beta);
  let assemblyFormat = [{
    $a `,` $b `,` $decay `,` $dt_bias custom<KeywordAttr>($decay_form) attr-dict
      `:` type($a) `,` type($decay) `->` type($g)
  }];
  let hasVerifier = 1;
}

def Delta_GatedDeltaRuleOp : Delta_Op<"gated_delta_rule", [Pure,
    AllTypesMatch<["query", "key"]>, AllTypesMatch<["value", "output"]>,
    AllTypesMatch<["g", "beta"]>, AllTypesMatch<["state", "new_state"]>,
    DeclareOpInterfaceMethods<Delta_StateUpdateOpInterface>]> {
  let summary = "The gated delta rule over T tokens, with recurrent state in and out";
  let description = [{
    Query and key `[T, nk, dk]` (already L2-normalized), value `[T, nv, dv]`, log-decay g and beta
    `[T, nv]` (f32), state `[nv, dk, dv]` (f32 or f16). nv = r * nk. Value head h reads key head
    kh(h) = h / r (`grouped`) or h mod nk (`tiled`). For t = 0 .. T-1 and every value head h, with
    k = key[t, kh(h)], q = query[t, kh(h)] * scale, S = state[h] (a dk x dv matrix), in f32:

    S      <- exp(g[t, h]) * S
    delta   = beta[t, h] * (value[t, h] - S^T k)
    S      <- S + k delta^T
    output[t, h] = S^T q

    new_state holds S after the last token. An f16 state is storage only: the op widens it to f32
    when it starts, runs every token in f32, and rounds S to the nearest f16 (ties to even) once,
    when it ends, so a decode step rounds once per token and a prefill once per call (the
    `--recurrent-state-type=f16` option of `deltac compile`, docs/design/dialect.md). This recurrence is the op's meaning for every T; a lowering
    may evaluate it with the chunked WY/UT form for prefill (same result up to rounding) and the step
    above for decode. `scale` is normally 1 / sqrt(dk).

    ```mlir
    %o, %s1 = delta.gated_delta_rule %q, %k, %v, %g, %beta, %s0 grouped scale(0.0883883461)
        : tensor<?x16x128xf32>, tensor<?x16x128xf32>, tensor<?x16xf32>, tensor<16x128x128xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$query,
    Delta_FloatTensor:$key,
    Delta_FloatTensor:$value,
    Delta_F32Tensor:$g,
    Delta_F32Tensor:$beta,
    Delta_StaticStateTensor:$state,
    Delta_HeadMappingAttr:$head_mapping,
    F32Attr:$scale
  );
  let results = (outs Delta_FloatTensor:$output, Delta_StaticStateTensor:$new_state);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $g `,` $beta `,` $state custom<KeywordAttr>($head_mapping) `scale` `(` $scale `)` attr-dict
      `:` type($query) `,` type($value) `,` type($g) `,` type($state)
  }];
  let hasVerifier = 1;
}

def Delta_GatedDeltaNetOp : Delta_Op<"gated_delta_net", [Pure,
    AllTypesMatch<["a", "b"]>, AllTypesMatch<["decay", "dt_bias"]>,
    AllTypesMatch<["conv_state", "new_conv_state"]>, AllTypesMatch<["state", "new_state"]>,
    DeclareOpInterfaceMethods<Delta_StateUpdateOpInterface>]> {
  let summary = "The Gated DeltaNet core fused: conv, SiLU, q/k/v split, L2 norms, gates, delta rule";
  let description = [{
    The delta-rule prologue and the recurrence of one Gated DeltaNet layer as one op, what
    `delta-fuse-elementwise` makes of the chain the importer emits. Operands: `qkv` `[T, C]`, the
    *pre-conv* mixed projection with C = 2 * nk * dk + nv * dv; the conv weight `[C, K]` and conv state
    `[K-1, C]` of `delta.causal_conv1d`; `a` and `b` `[T, nv]` (the `in_proj_a` and `in_proj_b`
    projections); `decay` and `dt_bias` `[nv]` of `delta.gdn_gates`; the delta-rule state
    `[nv, dk, dv]` (f32, or f16 storage as on `delta.gated_delta_rule`). nv, dk and dv are the state's dimensions; nk = (C - nv * dv) / (2 * dk) and
    nv must be a multiple of it. The result is exactly, in f32:

    ```
    m, new_conv_state = causal_conv1d(qkv, conv_weight, conv_state) activation(silu)
    q, k, v           = split(m) into widths nk*dk, nk*dk, nv*dv, viewed as [T, nk, dk], [T, nk, dk], [T, nv, dv]
    q, k              = l2_norm(q) eps(l2_eps), l2_norm(k) eps(l2_eps)      (per head, over dk)
    g, beta           = gdn_gates(a, b, decay, dt_bias) decay_form
    output, new_state = gated_delta_rule(q, k, v, g, beta, state) head_mapping scale(scale)
    ```

    with every op's meaning as documented on that op (spec §2.4 steps 2 to 7). `output` is `[T, nv, dv]`
    with the element type of `qkv`. Like the unfused ops it updates two states, the conv state and the
    delta-rule state (`StateUpdateOpInterface`, in that order), so buffer planning updates both in place.

    A decode step evaluates the whole chain per head with no intermediate tensor; prefill may stage
    q, k, v, g and beta per head and use the chunked delta rule (docs/design/fusion.md).

    ```mlir
    %o, %cs1, %s1 = delta.gated_delta_net %qkv, %a, %b conv(%w, %cs0) gates(%A_log, %dt_bias) a_log
        state(%s0) grouped scale(0.0883883461) l2_eps(9.99999997E-7)
        : tensor<?x6144xf32>, tensor<?x16xf32>, tensor<6144x4xf32>, tensor<3x6144xf32>, tensor<16xf32>,
          tensor<16x128x128xf32> -> tensor<?x16x128xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$qkv,
    Delta_FloatTensor:$a,
    Delta_FloatTensor:$b,
    Delta_StaticFloatTensor:$conv_weight,
    Delta_StaticFloatTensor:$decay,
    Delta_StaticFloatTensor:$dt_bias,
    Delta_StaticFloatTensor:$conv_state,
    Delta_StaticStateTensor:$state,
    Delta_DecayFormAttr:$decay_form,
    Delta_HeadMappingAttr:$head_mapping,
    F32Attr:$scale,
    F32Attr:$l2_eps
  );
  let results = (outs
    Delta_FloatTensor:$output,
    Delta_StaticFloatTensor:$new_conv_state,
    Delta_StaticStateTensor:$new_state
  );
  let assemblyFormat = [{
    $qkv `,` $a `,` $b `conv` `(` $conv_weight `,` $conv_state `)`
      `gates` `(` $decay `,` $dt_bias `)` custom<KeywordAttr>($decay_form)
      `state` `(` $state `)` custom<KeywordAttr>($head_mapping) `scale` `(` $scale `)`
      `l2_eps` `(` $l2_eps `)` attr-dict
      `:` type($qkv) `,` type($a) `,` type($conv_weight) `,` type($conv_state) `,` type($decay) `,`
      type($state) `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Key heads: nk = (C - nv * dv) / (2 * dk) for a verified op.
    int64_t getNumKeyHeads();
  }];
}

//===----------------------------------------------------------------------===//
// Gated attention
//===----------------------------------------------------------------------===//

def Delta_RoPEOp : Delta_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Partial rotary position embedding (rotate-half pairing, optional M-RoPE)";
  let description = [{
    Input `[T, n, hd]`. The first `rotary_dim` (= 2 * half) dims of each head rotate, the rest pass
    through. For i < half, with p the position of token t and inv_freq_i = theta^(-2i / rotary_dim):

    y[i]        = x[i] * cos(p * inv_freq_i) - x[i + half] * sin(p * inv_freq_i)
    y[i + half] = x[i + half] * cos(p * inv_freq_i) + x[i] * sin(p * inv_freq_i)

    `positions` is `[T]` (one position per token) or, with `mrope` sections [s_t, s_h, s_w] summing to
    half, `[3, T]` (temporal, height, width). In M-RoPE frequency slot i takes its position from row 1
    (height) when i mod 3 = 1 and i < 3 * s_h, from row 2 (width) when i mod 3 = 2 and i < 3 * s_w, and
    from row 0 otherwise (Qwen3.5's interleaved layout). With `[T]` positions all rows are that position,
    which is exactly plain partial RoPE: what text-only Qwen3.5 needs.

    ```mlir
    %qr = delta.rope %q, %pos rotary_dim(64) theta(1.000000e+07)
        : tensor<?x8x256xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$input,
    Delta_Positions:$positions,
    I64Attr:$rotary_dim,
    F64Attr:$theta,
    OptionalAttr<DenseI64ArrayAttr>:$mrope_sections
  );
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `rotary_dim` `(` $rotary_dim `)` `theta` `(` $theta `)`
      (`mrope` $mrope_sections^)? attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Delta_AttentionOp : Delta_Op<"attention", [Pure,
    AllTypesMatch<["key_cache", "new_key_cache"]>,
    AllTypesMatch<["value_cache", "new_value_cache"]>,
    DeclareOpInterfaceMethods<Delta_StateUpdateOpInterface>]> {
  let summary = "Causal grouped-query attention over a KV cache, with optional sigmoid output gate";
  let description = [{
    Query `[T, nh, hd]`, key `[T, nkv, hd]`, value `[T, nkv, hdv]`, caches `[nkv, S, hd]` and
    `[nkv, S, hdv]` holding `position` earlier tokens, `gate` (optional) `[T, nh, hdv]`. nh is a multiple
    of nkv; query head i reads kv head i / (nh / nkv).

    1. The new keys and values are written at cache rows position .. position + T - 1
       (new_key_cache, new_value_cache; the caller guarantees position + T <= S).
    2. For query token t (absolute position position + t) and head i, over cache rows j <= position + t:
       p = softmax_j(scale * (query[t, i] . K[j])),  o = sum_j p_j V[j]   (f32 accumulation)
    3. With a gate: output[t, i] = o * sigmoid(gate[t, i]); otherwise output[t, i] = o.

    The caches are f32 or f16 (both the same). With f16 caches the new rows are stored rounded to
    nearest f16 (ties to even) and step 2 reads every row, this step's own included, as its
    stored value: the output is the f32 caches' output on k and v rounded to f16, and a step split
    into several calls computes the same.

    ```mlir
    %o, %kc1, %vc1 = delta.attention %q, %k, %v gate %gt : tensor<?x8x256xf32>
        cache(%kc0, %vc0) at %pos scale(6.250000e-02)
        : tensor<?x8x256xf32>, tensor<?x2x256xf32>, tensor<?x2x256xf32>,
          tensor<2x4096x256xf16>, tensor<2x4096x256xf16> -> tensor<?x8x256xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$query,
    Delta_FloatTensor:$key,
    Delta_FloatTensor:$value,
    Optional<Delta_FloatTensor>:$gate,
    Delta_StaticStateTensor:$key_cache,
    Delta_StaticStateTensor:$value_cache,
    Index:$position,
    F32Attr:$scale
  );
  let results = (outs
    Delta_FloatTensor:$output,
    Delta_StaticStateTensor:$new_key_cache,
    Delta_StaticStateTensor:$new_value_cache
  );
  let assemblyFormat = [{
    $query `,` $key `,` $value (`gate` $gate^ `:` type($gate))?
      `cache` `(` $key_cache `,` $value_cache `)` `at` $position `scale` `(` $scale `)` attr-dict
      `:` type($query) `,` type($key) `,` type($value) `,` type($key_cache) `,` type($value_cache)
      `->` type($output)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Delta_MoEOp : Delta_Op<"moe", [Pure, AttrSizedOperandSegments]> {
  let summary = "Top-k routed SwiGLU experts plus an optional sigmoid-gated shared expert";
  let description = [{
    Input `[T, H]`; router `[E, H]`; expert weights gate and up `[E, I, H]`, down `[E, H, I]`. For each
    token, in f32:

    p = softmax(router x);  choose the top_k experts by p (ties: lower index first); with `normalized`
    rescale their k weights to sum to 1;
    y_routed = sum over chosen e of p_e * down_e(silu(gate_e x) * up_e x)

    With a shared expert (gate, up `[Is, H]`, down `[H, Is]`, shared gate `[1, H]`):
    y = y_routed + sigmoid(shared_gate . x) * down_s(silu(gate_s x) * up_s x); otherwise y = y_routed.
    Qwen3-Next and Qwen3.5-MoE use this block in every layer (E = 512 / 256, k = 10 / 8, normalized).

    ```mlir
    %y = delta.moe %x router(%r) experts(%eg, %eu, %ed) shared(%sg, %su, %sd) gate(%sgate)
        top_k(10) normalized : (...) -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins
    Delta_FloatTensor:$input,
    Delta_Weight:$router,
    Delta_Weight:$gate_weights,
    Delta_Weight:$up_weights,
    Delta_Weight:$down_weights,
    Optional<Delta_Weight>:$shared_gate_weight,
    Optional<Delta_Weight>:$shared_up_weight,
    Optional<Delta_Weight>:$shared_down_weight,
    Optional<Delta_Weight>:$shared_expert_gate,
    I64Attr:$top_k,
    UnitAttr:$normalized
  );
  let results = (outs Delta_FloatTensor:$result);
  let assemblyFormat = [{
    $input `router` `(` $router `)`
      `experts` `(` $gate_weights `,` $up_weights `,` $down_weights `)`
      (`shared` `(` $shared_gate_weight^ `,` $shared_up_weight `,` $shared_down_weight `)`
        `gate` `(` $shared_expert_gate `)`)?
      `top_k` `(` $top_k `)` (`normalized` $normalized^)? attr-dict
      `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // DELTAC_DIALECT_DELTAOPS_TD
