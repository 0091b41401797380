//===- DeltaShapes.cpp - shape and size arithmetic of the delta dialect ---===//

#include "dialect/DeltaShapes.h"

#include "llvm/Support/MathExtras.h"

namespace deltac::delta {

bool dimsCompatible(int64_t a, int64_t b) {
  return a == b || a == kDynamicDim || b == kDynamicDim;
}

std::optional<int64_t> numElements(llvm::ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t d : dims) {
    if (d == kDynamicDim || d < 0)
      return std::nullopt;
    if (llvm::MulOverflow(product, d, product))
      return std::nullopt;
  }
  return product;
}

int64_t keyHeadForValueHead(int64_t valueHead, int64_t numKeyHeads, int64_t numValueHeads,
                            bool tiled) {
  if (tiled)
    return valueHead % numKeyHeads;
  int64_t ratio = numValueHeads / numKeyHeads;
  return valueHead / ratio;
}

std::optional<int64_t> groupsPerRow(int64_t rowLength, int64_t groupSize) {
  if (groupSize == 0)
    return 1;
  if (groupSize < 0 || rowLength % groupSize != 0)
    return std::nullopt;
  return rowLength / groupSize;
}

std::optional<int64_t> quantizedStorageBytes(llvm::ArrayRef<int64_t> shape, int64_t bits,
                                             int64_t groupSize, int64_t scaleBytes,
                                             int64_t offsetBytes) {
  if (shape.size() < 2 || bits <= 0)
    return std::nullopt;
  std::optional<int64_t> rows = numElements(shape.drop_back());
  int64_t rowLength = shape.back();
  std::optional<int64_t> groups = groupsPerRow(rowLength, groupSize);
  if (!rows || !groups || rowLength == kDynamicDim)
    return std::nullopt;
  int64_t rowCodeBytes = (rowLength * bits + 7) / 8;
  int64_t perRow = rowCodeBytes + *groups * (scaleBytes + offsetBytes);
  int64_t total;
  if (llvm::MulOverflow(*rows, perRow, total))
    return std::nullopt;
  return total;
}

bool mropeSectionsFit(llvm::ArrayRef<int64_t> sections, int64_t rotaryDim) {
  int64_t sum = 0;
  for (int64_t s : sections) {
    if (s < 0)
      return false;
    sum += s;
  }
  return rotaryDim % 2 == 0 && sum == rotaryDim / 2;
}

} // namespace deltac::delta
