//===- QuantPolicy.h - which encoding each weight is stored in --*- C++ -*-===//
//
// `deltac compile --quant=...` and its per-class overrides decide, weight by weight, how the store keeps
// it. The schemes map onto the weight encodings every kernel library implements (kernel ABI 1):
//
//   f32, bf16   float matrices
//   int8        symmetric 8-bit, groups of 32 with an f16 scale (GGML Q8_0 blocks)
//   int4-g32    symmetric 4-bit, groups of 32 with an f16 scale (Q4_0); with --quant-asym an f16 min
//               per group as well (Q4_1)
//   int4-g64    the same over groups of 64 and 128 values, in deltac's own blocks (Q4_0_G64 and
//   int4-g128   Q4_1_G64, Q4_0_G128 and Q4_1_G128; import/DeltacQuants.h)
//
// Only projection matrices are quantized (linear, experts, embedding, LM head); norm weights, conv
// taps, gate parameters, the MoE router and the shared-expert gate stay float, because the kernels take
// them as f32. An int4 matrix whose rows are not a multiple of the group takes the largest group of
// 128, 64 and 32 that divides them (int4-g128 on rows of 192 values: groups of 64); a matrix whose
// rows are not a multiple of 32 stays float. A GGUF tensor already in the requested blocks is kept
// byte for byte (no second rounding).
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_QUANTPOLICY_H
#define DELTAC_IMPORT_QUANTPOLICY_H

#include "import/TensorCatalog.h"

#include "deltac/weight_store.h"

#include "llvm/Support/Error.h"

#include <array>
#include <optional>

namespace deltac {

/// Int4 is int4-g32 (GGUF's blocks); Int4G64 and Int4G128 are deltac's larger groups.
enum class WeightScheme { F32, BF16, Int8, Int4, Int4G64, Int4G128 };

/// The classes a policy can override: token embedding, LM head, Gated DeltaNet projections,
/// attention projections, MLP / expert projections.
enum class WeightClass { Embedding, LMHead, DeltaNet, Attention, MLP };
constexpr size_t kWeightClassCount = 5;

/// Parses "f32", "bf16", "int8", "int4-g32", "int4-g64", "int4-g128" (the error names the option and
/// the accepted values).
llvm::Expected<WeightScheme> parseWeightScheme(llvm::StringRef text, llvm::StringRef option);
llvm::StringRef weightSchemeName(WeightScheme scheme);

struct QuantPolicy {
  /// Scheme (f32 or bf16) of float weights that are not projections, and of projections without a
  /// scheme; unset keeps the checkpoint's float types.
  std::optional<WeightScheme> floats;
  /// --quant: every projection; unset keeps `floats`.
  std::optional<WeightScheme> projections;
  /// --quant-<class> overrides.
  std::array<std::optional<WeightScheme>, kWeightClassCount> overrides;
  bool asymmetric = false; ///< int4 with a per-group min (Q4_1 and its larger groups)

  /// The encoding the store keeps `tensor` in, given the encoding it arrives in. `tiedHead`: the
  /// tensor is the embedding and also serves as the LM head.
  dc_ws_dtype storeDType(const CatalogTensor &tensor, dc_ws_dtype source, bool tiedHead) const;
};

/// The class of a projection matrix, or std::nullopt for tensors no scheme applies to.
std::optional<WeightClass> classifyWeight(const CatalogTensor &tensor);

} // namespace deltac

#endif // DELTAC_IMPORT_QUANTPOLICY_H
