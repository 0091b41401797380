//===- DeltaAttributes.td - delta dialect attributes -----------*- tablegen -*-===//

#ifndef DELTAC_DIALECT_DELTAATTRIBUTES_TD
#define DELTAC_DIALECT_DELTAATTRIBUTES_TD

include "dialect/DeltaDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Delta_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Delta_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enumerations
//===----------------------------------------------------------------------===//

def Delta_NormScale : I32Enum<"NormScale", "how an RMSNorm applies its weight", [
    I32EnumCase<"plain", 0>,
    I32EnumCase<"one_plus", 1>,
    I32EnumCase<"none", 2>
  ]> {
  let cppNamespace = "::deltac::delta";
  let description = [{
    `plain`: y = n * w. `one_plus`: y = n * (1 + w), the zero-centred form of Qwen3.5's layer norms,
    final norm, q_norm and k_norm (their stored weights are centred on 0). `none`: y = n, no weight;
    what is left after `delta-fold-norm-scales` moved the scale into the consuming linears.
  }];
}
def Delta_NormScaleAttr : EnumAttr<Delta_Dialect, Delta_NormScale, "norm_scale"> {
}

def Delta_WeightDerivation : I32Enum<"WeightDerivation",
    "how a derived weight is computed from its source weights", [
    I32EnumCase<"concat_rows", 0>,
    I32EnumCase<"scale_columns", 1>,
    I32EnumCase<"scale_columns_one_plus", 2>,
    I32EnumCase<"pack", 3>
  ]> {
  let cppNamespace = "::deltac::delta";
  let description = [{
    `concat_rows(@a, @b, ...)`: the rows of the sources one after another (all [*, K]).
    `scale_columns(@w, @s)`: w[n, k] * s[k]; `scale_columns_one_plus(@w, @s)`: w[n, k] * (1 + s[k]),
    with w [N, K] and s [K]. `pack(@w)`: the same values as `w`, a `ggml_blocks` Q8_0 or Q4_0 weight,
    rearranged into the `packed` layout (bytes are moved, never recomputed, so `w` may be verbatim).
    Graph passes create derived weights; the weight store is written after the
    passes and computes them (docs/design/weights.md).
  }];
}
def Delta_WeightDerivationAttr : EnumAttr<Delta_Dialect, Delta_WeightDerivation,
                                          "weight_derivation"> {
}

def Delta_HeadMapping : I32Enum<"HeadMapping",
    "which key head a delta-rule value head reads", [
    I32EnumCase<"grouped", 0>,
    I32EnumCase<"tiled", 1>
  ]> {
  let cppNamespace = "::deltac::delta";
  let description = [{
    With nk key heads and nv = r * nk value heads: `grouped` pairs value head h with key head h / r
    (Hugging Face order, each key head serves r consecutive value heads); `tiled` pairs it with key head
    h mod nk (the order llama.cpp's GGUF converter writes for 4B/9B/MoE).
  }];
}
def Delta_HeadMappingAttr : EnumAttr<Delta_Dialect, Delta_HeadMapping, "head_mapping"> {
}

def Delta_Activation : I32Enum<"Activation", "an elementwise activation", [
    I32EnumCase<"none", 0>,
    I32EnumCase<"silu", 1>
  ]> {
  let cppNamespace = "::deltac::delta";
}
def Delta_ActivationAttr : EnumAttr<Delta_Dialect, Delta_Activation, "activation"> {
}

def Delta_DecayForm : I32Enum<"DecayForm",
    "how the delta-rule decay parameter A is stored", [
    I32EnumCase<"a_log", 0>,
    I32EnumCase<"neg_exp", 1>
  ]> {
  let cppNamespace = "::deltac::delta";
  let description = [{
    `a_log`: the operand holds A_log (Hugging Face `linear_attn.A_log`) and the op computes -exp(A_log).
    `neg_exp`: the operand already holds -exp(A_log) (GGUF `ssm_a`).
  }];
}
def Delta_DecayFormAttr : EnumAttr<Delta_Dialect, Delta_DecayForm, "decay_form"> {
}

def Delta_WeightLayout : I32Enum<"WeightLayout",
    "byte layout of a quantized weight in the weight store", [
    I32EnumCase<"row_major", 0>,
    I32EnumCase<"ggml_blocks", 1>,
    I32EnumCase<"blocks", 2>,
    I32EnumCase<"packed", 3>,
    I32EnumCase<"packed_x8", 4>
  ]> {
  let cppNamespace = "::deltac::delta";
  let description = [{
    `row_major`: the codes form one row-major [.., N, K] array (int4: two codes a byte, the even column in
    the low nibble), followed by the scales as a row-major [.., N, K / group] array, then the offsets if the
    scheme has them. `ggml_blocks`: GGUF's interleaved blocks of 32 (Q8_0, Q4_0, Q4_1), each holding its
    scale (and min) next to its codes, so a GGUF file's bytes are used as they are. `blocks`: deltac's own
    interleaved int4 blocks over groups of 64 or 128 (import/DeltacQuants.h): per group the f16 scale, the
    f16 offset if the scheme has one, then group / 2 bytes of codes in Q4_0's nibble order (value i of the
    first half in the low nibble of byte i, value i of the second half in its high nibble).
    `packed`: Q8_0 or Q4_0 rearranged row by row for the int8-activation kernels (the
    `delta-pack-weights` pass): all codes of a row (Q8_0: code + 128 as a byte; Q4_0: the 16 code bytes of
    each block in turn), then the row's f16 scales. Same values and size as `ggml_blocks`.
    `packed_x8`: Q4_0 only, `packed` with the code bytes of each span of 8 blocks interleaved 4 bytes at
    a time (kernel_abi.h, "Packed rows"), the layout of the x86 kernels (AVX2, AVX-512 VNNI).
  }];
}
def Delta_WeightLayoutAttr : EnumAttr<Delta_Dialect, Delta_WeightLayout, "layout"> {
}

//===----------------------------------------------------------------------===//
// Quantization scheme
//===----------------------------------------------------------------------===//

def Delta_QuantSchemeAttr : Delta_Attr<"QuantScheme", "quant"> {
  let summary = "Integer weight quantization: code width, group size, scale and offset types";
  let description = [{
    A weight row of K values is cut into groups of `group_size` consecutive values (`group_size = 0`: one
    group spans the whole row, i.e. per-output-channel quantization). Each group stores one scale `s` (of
    `scale_type`) and, for asymmetric schemes, one offset `m` (of `offset_type`). The value of code q is

    * symmetric (no `offset_type`): x = s * q, q a signed integer of `storage` width
      (-8..7 for i4, -128..127 for i8);
    * asymmetric (`offset_type` given): x = s * q + m, q an unsigned integer of `storage` width
      (0..15 for i4, 0..255 for i8).

    GGUF Q8_0 is `<storage = i8, group_size = 32, scale_type = f16>`, Q4_0 is the i4 analogue, and Q4_1 is
    `<storage = i4, group_size = 32, scale_type = f16, offset_type = f16>`.

    Example:

    ```mlir
    #delta.quant<storage = i4, group_size = 64, scale_type = f16>
    ```
  }];
  let parameters = (ins
    "::mlir::IntegerType":$storage,
    "int64_t":$group_size,
    "::mlir::FloatType":$scale_type,
    OptionalParameter<"::mlir::FloatType">:$offset_type
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the scheme stores a per-group offset (x = s * q + m).
    bool isAsymmetric() const { return static_cast<bool>(getOffsetType()); }
    /// The number of groups one row of `rowLength` values is cut into.
    int64_t getGroupsPerRow(int64_t rowLength) const;
  }];
}

#endif // DELTAC_DIALECT_DELTAATTRIBUTES_TD
