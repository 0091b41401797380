//===- DeltaShapes.h - shape and size arithmetic of the delta dialect -----===//
//
// Plain functions (no MLIR objects) that encode the dialect's shape rules and storage sizes. The op
// verifiers, the importer and the runtime planner all use them, and they are unit-tested on their own.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_DIALECT_DELTASHAPES_H
#define DELTAC_DIALECT_DELTASHAPES_H

#include <cstdint>
#include <optional>

#include "llvm/ADT/ArrayRef.h"

namespace deltac::delta {

/// The marker MLIR uses for a dynamic dimension (ShapedType::kDynamic).
constexpr int64_t kDynamicDim = INT64_MIN;

/// True when two dimensions can describe the same tensor: equal, or at least one is dynamic.
bool dimsCompatible(int64_t a, int64_t b);

/// Product of `dims`, or std::nullopt when one of them is dynamic or the product overflows int64.
std::optional<int64_t> numElements(llvm::ArrayRef<int64_t> dims);

/// Key head read by delta-rule value head `valueHead` with `numKeyHeads` key heads and `numValueHeads`
/// value heads (a multiple of numKeyHeads): valueHead / r when `tiled` is false (Hugging Face order),
/// valueHead mod numKeyHeads when it is true (GGUF order).
int64_t keyHeadForValueHead(int64_t valueHead, int64_t numKeyHeads, int64_t numValueHeads,
                            bool tiled);

/// Number of groups a row of `rowLength` values is cut into; groupSize 0 means one group per row.
/// std::nullopt when groupSize does not divide rowLength.
std::optional<int64_t> groupsPerRow(int64_t rowLength, int64_t groupSize);

/// Bytes of a quantized weight of shape [.., N, K] stored row-major: the codes (bits per value, rows
/// padded to whole bytes), one scale per group and, when offsetBytes > 0, one offset per group.
/// std::nullopt for a group size that does not divide K or a dynamic dimension.
std::optional<int64_t> quantizedStorageBytes(llvm::ArrayRef<int64_t> shape, int64_t bits,
                                             int64_t groupSize, int64_t scaleBytes,
                                             int64_t offsetBytes);

/// True when M-RoPE `sections` [s_t, s_h, s_w] fit a rotary dimension: every section non-negative and
/// their sum equal to rotaryDim / 2 (the number of frequency slots).
bool mropeSectionsFit(llvm::ArrayRef<int64_t> sections, int64_t rotaryDim);

} // namespace deltac::delta

#endif // DELTAC_DIALECT_DELTASHAPES_H
