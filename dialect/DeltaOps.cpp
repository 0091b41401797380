//===- DeltaOps.cpp - delta ops: module structure and shape plumbing ------===//
//
// This file holds the generated op definitions, the StateUpdateOpInterface contract, and the verifiers of
// the weight/state ops and of reshape, split and concat. The compute ops' verifiers live by family in
// NormOps.cpp, ProjectionOps.cpp and MixerOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialect/DeltaOps.h"

#include "dialect/DeltaShapes.h"
#include "dialect/VerifyHelpers.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace deltac::delta;

#include "dialect/DeltaInterfaces.cpp.inc"

/// Enum attributes appear in op syntax as a bare keyword (`one_plus`, `tiled`, `silu`) so ops read
/// naturally; their generic form keeps the attribute syntax (`#delta.norm_scale<one_plus>`).
template <typename AttrT>
static ParseResult parseKeywordAttr(OpAsmParser &parser, AttrT &attr) {
  using EnumT = decltype(std::declval<AttrT>().getValue());
  // The generated field parser reports "expected one of [...]" for an unknown keyword.
  FailureOr<EnumT> value = FieldParser<EnumT>::parse(parser);
  if (failed(value))
    return failure();
  attr = AttrT::get(parser.getContext(), *value);
  return success();
}

template <typename AttrT>
static void printKeywordAttr(OpAsmPrinter &printer, Operation *, AttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

/// Parses `[private|public|nested] @name`: an optional bare visibility keyword, then the symbol.
static ParseResult parseVisibilityAndName(OpAsmParser &parser, StringAttr &visibility,
                                          StringAttr &name) {
  StringRef keyword;
  if (succeeded(parser.parseOptionalKeyword(&keyword, {"private", "public", "nested"})))
    visibility = parser.getBuilder().getStringAttr(keyword);
  return parser.parseSymbolName(name);
}

static void printVisibilityAndName(OpAsmPrinter &printer, Operation *, StringAttr visibility,
                                   StringAttr name) {
  if (visibility)
    printer << visibility.getValue() << ' ';
  printer.printSymbolName(name.getValue());
}

#define GET_OP_CLASSES
#include "dialect/DeltaOps.cpp.inc"

LogicalResult deltac::delta::detail::verifyStateUpdateOp(Operation *op) {
  auto stateOp = cast<StateUpdateOpInterface>(op);
  OperandRange states = stateOp.getStateOperands();
  ResultRange updated = stateOp.getUpdatedStates();
  if (states.size() != updated.size())
    return op->emitOpError() << "has " << states.size() << " state operands but "
                             << updated.size() << " updated states";
  for (auto [index, pair] : llvm::enumerate(llvm::zip(states, updated)))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return op->emitOpError() << "updated state #" << index << " must have the state's type "
                               << std::get<0>(pair).getType() << ", got "
                               << std::get<1>(pair).getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Weights and state
//===----------------------------------------------------------------------===//

/// Looks up `name` as an op of type OpTy in the nearest symbol table; emits an error naming `what`
/// when it is missing or of another kind.
template <typename OpTy>
static FailureOr<OpTy> lookupDeclaration(Operation *user, SymbolTableCollection &symbolTable,
                                         FlatSymbolRefAttr name, StringRef what) {
  Operation *symbol = symbolTable.lookupNearestSymbolFrom(user, name);
  if (!symbol)
    return user->emitOpError() << "refers to " << name << ", which is not declared";
  auto declaration = dyn_cast<OpTy>(symbol);
  if (!declaration)
    return user->emitOpError() << "refers to " << name << ", which is not a " << what;
  return declaration;
}

/// `[visibility] @name : type [verbatim] [= derivation(@source, ...)] attr-dict`
ParseResult WeightOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &b = parser.getBuilder();
  Properties &props = result.getOrAddProperties<Properties>();
  Type type;
  if (parseVisibilityAndName(parser, props.sym_visibility, props.sym_name) || parser.parseColon() ||
      parser.parseType(type))
    return failure();
  props.type = TypeAttr::get(type);
  if (succeeded(parser.parseOptionalKeyword("verbatim")))
    props.verbatim = b.getUnitAttr();
  if (succeeded(parser.parseOptionalEqual())) {
    if (parseKeywordAttr(parser, props.derivation))
      return failure();
    SmallVector<Attribute> names;
    auto parseOne = [&]() -> ParseResult {
      StringAttr name;
      if (parser.parseSymbolName(name))
        return failure();
      names.push_back(FlatSymbolRefAttr::get(name));
      return success();
    };
    if (parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Paren, parseOne))
      return failure();
    props.sources = b.getArrayAttr(names);
  }
  return parser.parseOptionalAttrDict(result.attributes);
}

void WeightOp::print(OpAsmPrinter &printer) {
  printer << ' ';
  printVisibilityAndName(printer, *this, getSymVisibilityAttr(), getSymNameAttr());
  printer << " : " << getType();
  if (getVerbatim())
    printer << " verbatim";
  if (WeightDerivationAttr derivation = getDerivationAttr()) {
    printer << " = ";
    printKeywordAttr(printer, *this, derivation);
    printer << '(';
    ArrayRef<Attribute> sources;
    if (ArrayAttr attr = getSourcesAttr())
      sources = attr.getValue();
    llvm::interleaveComma(sources, printer, [&](Attribute a) { printer.printAttributeWithoutType(a); });
    printer << ')';
  }
  printer.printOptionalAttrDict((*this)->getAttrs(),
                                {getSymNameAttrName(), getSymVisibilityAttrName(), getTypeAttrName(),
                                 getVerbatimAttrName(), getDerivationAttrName(), getSourcesAttrName()});
}

LogicalResult WeightOp::verify() {
  if (getDerivation().has_value() != (getSources().has_value()))
    return emitOpError("needs both a derivation and its sources, or neither");
  if (isDerived() && getVerbatim())
    return emitOpError("a derived weight cannot be verbatim: its bytes are computed, not copied");
  return success();
}

/// The weights `weight` is derived from, directly or not (each once), in depth-first order.
static SmallVector<WeightOp> transitiveSources(WeightOp weight, SymbolTableCollection &symbolTable) {
  SmallVector<WeightOp> found, stack = {weight};
  llvm::SmallPtrSet<Operation *, 8> seen;
  while (!stack.empty()) {
    WeightOp w = stack.pop_back_val();
    if (!w.isDerived())
      continue;
    for (Attribute a : w.getSourcesAttr()) {
      auto source = symbolTable.lookupNearestSymbolFrom<WeightOp>(w, cast<FlatSymbolRefAttr>(a));
      if (source && seen.insert(source).second) {
        found.push_back(source);
        stack.push_back(source);
      }
    }
  }
  return found;
}

/// The name of a verbatim weight `weight` is or is derived from, if any.
static std::optional<StringRef> verbatimSource(WeightOp weight, SymbolTableCollection &symbolTable) {
  if (weight.getVerbatim())
    return weight.getSymName();
  for (WeightOp source : transitiveSources(weight, symbolTable))
    if (source.getVerbatim())
      return source.getSymName();
  return std::nullopt;
}

LogicalResult WeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (!isDerived())
    return success();
  SmallVector<WeightOp> sources;
  for (Attribute a : getSourcesAttr()) {
    auto name = cast<FlatSymbolRefAttr>(a);
    FailureOr<WeightOp> source = lookupDeclaration<WeightOp>(*this, symbolTable, name, "delta.weight");
    if (failed(source))
      return failure();
    sources.push_back(*source);
  }
  if (llvm::is_contained(transitiveSources(*this, symbolTable), *this))
    return emitOpError() << "is derived from itself";
  ArrayRef<int64_t> shape = verify::shapeOf(getType());
  if (shape.size() != 2)
    return emitOpError() << "a derived weight must be a matrix, got " << getType();
  switch (*getDerivation()) {
  case WeightDerivation::concat_rows: {
    int64_t rows = 0;
    for (WeightOp source : sources) {
      ArrayRef<int64_t> s = verify::shapeOf(source.getType());
      if (s.size() != 2 || s[1] != shape[1])
        return emitOpError() << "concat_rows source @" << source.getSymName() << " of type "
                             << source.getType() << " is not a matrix with " << shape[1]
                             << " columns";
      rows += s[0];
    }
    if (rows != shape[0])
      return emitOpError() << "concat_rows sources have " << rows << " rows in all, the type has "
                           << shape[0];
    return success();
  }
  case WeightDerivation::scale_columns:
  case WeightDerivation::scale_columns_one_plus: {
    if (sources.size() != 2)
      return emitOpError() << "scale_columns takes a matrix and a scale vector, got "
                           << sources.size() << " sources";
    if (verify::shapeOf(sources[0].getType()) != shape)
      return emitOpError() << "scale_columns matrix @" << sources[0].getSymName() << " has type "
                           << sources[0].getType() << ", expected the shape of " << getType();
    ArrayRef<int64_t> scale = verify::shapeOf(sources[1].getType());
    if (scale.size() != 1 || scale[0] != shape[1])
      return emitOpError() << "scale_columns scale @" << sources[1].getSymName()
                           << " must be a vector of " << shape[1] << " values, got "
                           << sources[1].getType();
    // The scale is read exactly; the matrix is re-encoded, so none of its bytes may be verbatim.
    if (std::optional<StringRef> verbatim = verbatimSource(sources[0], symbolTable))
      return emitOpError() << "cannot compute new values from verbatim weight @" << *verbatim
                           << " (it would be rounded a second time)";
    return success();
  }
  case WeightDerivation::pack: {
    // A pure rearrangement of bytes: same shape and scheme, ggml_blocks in, packed out.
    auto packed = dyn_cast<QuantizedWeightType>(getType());
    if (!packed ||
        (packed.getLayout() != WeightLayout::packed && packed.getLayout() != WeightLayout::packed_x8))
      return emitOpError() << "pack must produce a qweight in the packed or packed_x8 layout, got "
                           << getType();
    auto source = sources.size() == 1 ? dyn_cast<QuantizedWeightType>(sources[0].getType())
                                      : QuantizedWeightType();
    if (!source || source.getLayout() != WeightLayout::ggml_blocks ||
        source.getShape() != packed.getShape() || source.getScheme() != packed.getScheme())
      return emitOpError() << "pack takes one ggml_blocks qweight of the same shape and scheme as "
                           << getType();
    return success();
  }
  }
  return success();
}

LogicalResult WeightRefOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightOp> weight =
      lookupDeclaration<WeightOp>(*this, symbolTable, getNameAttr(), "delta.weight");
  if (failed(weight))
    return failure();
  if (weight->getType() != getResult().getType())
    return emitOpError() << "result type " << getResult().getType() << " does not match "
                         << getNameAttr() << ", declared as " << weight->getType();
  return success();
}

/// Shared by state_read and state_write: `type` must be the declared type of state `name`.
static LogicalResult verifyStateUse(Operation *op, SymbolTableCollection &symbolTable,
                                    FlatSymbolRefAttr name, Type type) {
  FailureOr<StateOp> state = lookupDeclaration<StateOp>(op, symbolTable, name, "delta.state");
  if (failed(state))
    return failure();
  if (state->getType() != type)
    return op->emitOpError() << "type " << type << " does not match " << name
                             << ", declared as " << state->getType();
  return success();
}

LogicalResult StateReadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyStateUse(*this, symbolTable, getStateAttr(), getResult().getType());
}

LogicalResult StateWriteOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyStateUse(*this, symbolTable, getStateAttr(), getValue().getType());
}

//===----------------------------------------------------------------------===//
// Shape plumbing
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = getInput().getType();
  auto out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "must keep the element type, got " << in.getElementType() << " and "
                         << out.getElementType();
  if (in.getRank() < 1 || out.getRank() < 1)
    return emitOpError() << "needs a leading token dimension on both sides";
  if (!dimsCompatible(in.getDimSize(0), out.getDimSize(0)))
    return emitOpError() << "must keep the leading dimension, got " << in.getDimSize(0)
                         << " and " << out.getDimSize(0);
  std::optional<int64_t> inRow = numElements(in.getShape().drop_front());
  std::optional<int64_t> outRow = numElements(out.getShape().drop_front());
  if (!inRow || !outRow)
    return emitOpError() << "trailing dimensions must be static";
  if (*inRow != *outRow)
    return emitOpError() << "must keep the number of values per token, got " << *inRow
                         << " and " << *outRow;
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  // A reshape to the same type is the identity.
  if (getInput().getType() == getResult().getType())
    return getInput();
  // reshape(reshape(x)) is a single reshape of x; fold to x when that one is the identity too.
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    if (producer.getInput().getType() == getResult().getType())
      return producer.getInput();
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

LogicalResult SplitOp::verify() {
  auto in = getInput().getType();
  if (getResults().empty())
    return emitOpError() << "must have at least one result";
  if (in.getRank() < 1)
    return emitOpError() << "input must have at least one dimension, got " << in;
  int64_t total = 0;
  for (auto [index, result] : llvm::enumerate(getResults())) {
    auto type = cast<RankedTensorType>(result.getType());
    if (type.getRank() != in.getRank() || type.getElementType() != in.getElementType())
      return emitOpError() << "result #" << index << " must have the input's rank and element "
                           << "type, got " << type;
    for (int64_t d = 0; d + 1 < in.getRank(); ++d)
      if (failed(verify::dim(*this, "result #" + std::to_string(index), type, d, in.getDimSize(d),
                             "the input's dimension")))
        return failure();
    if (type.isDynamicDim(type.getRank() - 1))
      return emitOpError() << "result #" << index << " must have a static last dimension";
    total += type.getShape().back();
  }
  if (!in.isDynamicDim(in.getRank() - 1) && total != in.getShape().back())
    return emitOpError() << "result widths add up to " << total
                         << ", but the input's last dimension is " << in.getShape().back();
  return success();
}

LogicalResult LastRowOp::verify() {
  auto in = getInput().getType();
  auto out = getResult().getType();
  if (in.getRank() < 2)
    return emitOpError() << "input must have a token dimension and a row, got " << in;
  if (out.getRank() != in.getRank() || out.getElementType() != in.getElementType())
    return emitOpError() << "result must have the input's rank and element type, got " << out;
  if (out.getDimSize(0) != 1)
    return emitOpError() << "result must have one row, got " << out;
  for (int64_t d = 1; d < in.getRank(); ++d)
    if (out.getDimSize(d) != in.getDimSize(d))
      return emitOpError() << "result dimension " << d << " must equal the input's ("
                           << in.getDimSize(d) << "), got " << out.getDimSize(d);
  return success();
}

LogicalResult ConcatOp::verify() {
  auto out = getResult().getType();
  if (getInputs().empty())
    return emitOpError() << "must have at least one input";
  if (out.getRank() < 1)
    return emitOpError() << "result must have at least one dimension, got " << out;
  if (out.isDynamicDim(out.getRank() - 1))
    return emitOpError() << "result must have a static last dimension, got " << out;
  int64_t total = 0;
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != out.getRank() || type.getElementType() != out.getElementType())
      return emitOpError() << "input #" << index << " must have the result's rank and element "
                           << "type, got " << type;
    for (int64_t d = 0; d + 1 < out.getRank(); ++d)
      if (failed(verify::dim(*this, "input #" + std::to_string(index), type, d, out.getDimSize(d),
                             "the result's dimension")))
        return failure();
    if (type.isDynamicDim(type.getRank() - 1))
      return emitOpError() << "input #" << index << " must have a static last dimension";
    total += type.getShape().back();
  }
  if (total != out.getShape().back())
    return emitOpError() << "input widths add up to " << total
                         << ", but the result's last dimension is " << out.getShape().back();
  return success();
}
