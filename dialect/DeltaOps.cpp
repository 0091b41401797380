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
