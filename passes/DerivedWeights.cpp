//===- DerivedWeights.cpp - declaring derived weights from passes ---------===//

#include "passes/DerivedWeights.h"

#include "dialect/DeltaTypes.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace deltac::delta;

namespace deltac {

std::string concatenatedWeightName(ArrayRef<StringRef> names) {
  StringRef first = names.front();
  size_t prefix = first.size(), suffix = first.size();
  for (StringRef n : names.drop_front()) {
    size_t p = 0;
    while (p < std::min(prefix, n.size()) && first[p] == n[p])
      ++p;
    prefix = p;
    size_t s = 0;
    while (s < std::min(suffix, n.size()) && first[first.size() - 1 - s] == n[n.size() - 1 - s])
      ++s;
    suffix = s;
  }
  // Share whole name components only: cut the prefix after a dot and the suffix at one.
  size_t dot = first.substr(0, prefix).rfind('.');
  prefix = dot == StringRef::npos ? 0 : dot + 1;
  StringRef tail = first.substr(first.size() - suffix);
  size_t tailDot = tail.find('.');
  suffix = tailDot == StringRef::npos ? 0 : suffix - tailDot;
  for (StringRef n : names)
    if (prefix + suffix > n.size())
      prefix = suffix = 0;
  std::string result = first.substr(0, prefix).str();
  for (auto [i, n] : llvm::enumerate(names)) {
    if (i)
      result += '+';
    result += n.substr(prefix, n.size() - prefix - suffix).str();
  }
  return result + first.substr(first.size() - suffix).str();
}

Type matrixWithRows(Type type, int64_t rows) {
  ArrayRef<int64_t> shape = getWeightShape(type);
  SmallVector<int64_t> newShape = {rows, shape[1]};
  if (auto q = dyn_cast<QuantizedWeightType>(type))
    return QuantizedWeightType::get(type.getContext(), newShape, q.getScheme(), q.getLayout());
  return RankedTensorType::get(newShape, cast<RankedTensorType>(type).getElementType());
}

FailureOr<WeightOp> declareDerivedWeight(SymbolTable &symbols, StringRef name, Type type,
                                         WeightDerivation derivation, ArrayRef<StringRef> sources,
                                         WeightOp after) {
  MLIRContext *ctx = type.getContext();
  SmallVector<Attribute> refs;
  for (StringRef source : sources)
    refs.push_back(FlatSymbolRefAttr::get(ctx, source));
  auto derivationAttr = WeightDerivationAttr::get(ctx, derivation);
  auto sourceList = ArrayAttr::get(ctx, refs);
  if (auto existing = symbols.lookup<WeightOp>(name)) {
    if (existing.getType() == type && existing.getDerivationAttr() == derivationAttr &&
        existing.getSourcesAttr() == sourceList)
      return existing;
    return existing.emitOpError() << "already has another definition; cannot declare it as "
                                  << stringifyEnum(derivation) << sourceList;
  }
  OpBuilder b(ctx);
  b.setInsertionPointAfter(after);
  auto weight = WeightOp::create(b, after.getLoc(), b.getStringAttr(name), b.getStringAttr("private"),
                                 TypeAttr::get(type), derivationAttr, sourceList, UnitAttr());
  symbols.insert(weight);
  return weight;
}

} // namespace deltac
