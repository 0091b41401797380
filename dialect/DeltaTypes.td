//===- DeltaTypes.td - delta dialect types ---------------------*- tablegen -*-===//

#ifndef DELTAC_DIALECT_DELTATYPES_TD
#define DELTAC_DIALECT_DELTATYPES_TD

include "dialect/DeltaAttributes.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class Delta_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Delta_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Delta_QuantizedWeightType : Delta_Type<"QuantizedWeight", "qweight"> {
  let summary = "A weight matrix stored as integer codes with per-group scales";
  let description = [{
    A linear weight `[N, K]` (or a stack of expert weights `[E, N, K]`) whose values are given by a
    `#delta.quant` scheme; `layout` says how codes, scales and offsets are laid out in the weight store.
    The logical value of the weight is the dequantized float matrix of that shape, so every op that takes a
    float weight accepts a quantized one with the same meaning.

    Storage size (row_major layout) of one [N, K] matrix: N * K * bits / 8 bytes of codes, plus
    N * groups_per_row scales, plus as many offsets for asymmetric schemes.

    Example:

    ```mlir
    !delta.qweight<6144x1024, #delta.quant<storage = i4, group_size = 32, scale_type = f16>, row_major>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t">:$shape,
    "QuantSchemeAttr":$scheme,
    "WeightLayout":$layout
  );
  let assemblyFormat = "`<` custom<Dims>($shape) `,` qualified($scheme) `,` $layout `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Rows of one matrix (N).
    int64_t getRows() const { return getShape()[getShape().size() - 2]; }
    /// Values in one row (K), the reduction dimension of a linear.
    int64_t getRowLength() const { return getShape().back(); }
    /// Bytes this weight occupies in the weight store.
    int64_t getStorageBytes() const;
  }];
}

#endif // DELTAC_DIALECT_DELTATYPES_TD
