//===- BufferPlan.cpp - static arena layout for an entry point ------------===//

#include "codegen/BufferPlan.h"

#include "dialect/DeltaOps.h"

#include "llvm/Support/MathExtras.h"

#include <functional>
#include <map>

using namespace mlir;
using namespace deltac::delta;

namespace deltac {

int64_t tensorBytes(Type type, int64_t maxTokens) {
  auto tensor = cast<RankedTensorType>(type);
  int64_t n = 1;
  for (int64_t d : tensor.getShape())
    n *= ShapedType::isDynamic(d) ? maxTokens : d;
  // Every activation is f32 (kernel ABI version 1); the f16 tensors the lowering takes are a
  // delta-rule state or a KV cache stored in f16 (--recurrent-state-type=f16, --kv-cache-type=f16),
  // which the kernels read as such.
  return n * (tensor.getElementType().isF16() ? 2 : 4);
}

bool takesTokenStride(OpOperand &use) {
  Operation *user = use.getOwner();
  if (auto gdn = dyn_cast<GatedDeltaNetOp>(user))
    return &use == &gdn.getQkvMutable() || &use == &gdn.getAMutable() || &use == &gdn.getBMutable();
  if (auto norm = dyn_cast<GatedRMSNormOp>(user))
    return &use == &norm.getGateMutable();
  return false;
}

namespace {

/// Whether every reader of `v` can take it as a view into a wider value's columns: with one token
/// row, any reader but the return and a state write (which need memory of their own); otherwise
/// only operands that take a token stride, through reshapes that keep the token dimension.
bool readInPlace(Value v, bool oneRow) {
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (auto reshape = dyn_cast<ReshapeOp>(user)) {
      auto in = cast<RankedTensorType>(reshape.getInput().getType());
      auto out = cast<RankedTensorType>(reshape.getType());
      const bool keepsTokens = out.getRank() >= 2 && in.getDimSize(0) == out.getDimSize(0);
      if (!(oneRow || keepsTokens) || !readInPlace(reshape.getResult(), oneRow))
        return false;
      continue;
    }
    if (oneRow ? isa<func::ReturnOp, StateWriteOp>(user) : !takesTokenStride(use))
      return false;
  }
  return true;
}

} // namespace

BufferPlan planBuffers(func::FuncOp entry, int64_t maxTokens,
                       const llvm::StringMap<int64_t> &weightIndex,
                       const llvm::StringMap<int64_t> &stateIndex) {
  BufferPlan plan;
  Block &body = entry.getBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  int64_t index = 0;
  for (Operation &op : body)
    position[&op] = index++;

  // Values that alias another value's memory resolve to the root they alias.
  llvm::DenseMap<Value, Value> aliasOf;
  auto root = [&](Value v) {
    while (aliasOf.count(v))
      v = aliasOf[v];
    return v;
  };
  for (Operation &op : body) {
    if (auto ref = dyn_cast<WeightRefOp>(op))
      plan.locations[ref.getResult()] = {BufferLocation::Weight, weightIndex.lookup(ref.getName())};
    else if (auto read = dyn_cast<StateReadOp>(op))
      plan.locations[read.getResult()] = {BufferLocation::State, stateIndex.lookup(read.getState())};
    else if (auto reshape = dyn_cast<ReshapeOp>(op))
      aliasOf[reshape.getResult()] = reshape.getInput();
    else if (auto updater = dyn_cast<StateUpdateOpInterface>(op))
      for (auto [state, updated] : llvm::zip(updater.getStateOperands(), updater.getUpdatedStates()))
        aliasOf[updated] = state;
  }
  for (BlockArgument arg : body.getArguments())
    plan.locations[arg] = {BufferLocation::Input, arg.getArgNumber()};
  Operation *terminator = body.getTerminator();
  Value logits = root(terminator->getOperand(0));
  plan.locations[logits] = {BufferLocation::Logits, 0};

  // Split results read in place become views into their input, which must be a [tokens, width]
  // value computed into the arena (not a weight, a state, an input or the logits).
  struct View {
    int64_t byteOffset, tokenStride;
  };
  llvm::DenseMap<Value, View> views;
  for (Operation &op : body) {
    auto split = dyn_cast<SplitOp>(op);
    if (!split)
      continue;
    auto input = cast<RankedTensorType>(split.getInput().getType());
    Value r = root(split.getInput());
    if (input.getRank() != 2 || plan.locations.count(r) || isa<BlockArgument>(r))
      continue;
    const bool oneRow = input.getDimSize(0) == 1;
    int64_t column = 0;
    for (Value result : split.getResults()) {
      if (readInPlace(result, oneRow)) {
        aliasOf[result] = split.getInput();
        views[result] = {column * 4, oneRow ? 0 : input.getDimSize(1)};
        plan.views.insert(result);
      }
      column += cast<RankedTensorType>(result.getType()).getDimSize(1);
    }
  }

  // Live interval of every arena root: from its definition to the last use of it or of an alias.
  llvm::DenseMap<Value, std::pair<int64_t, int64_t>> interval;
  std::vector<Value> roots;
  for (Operation &op : body)
    for (Value result : op.getResults()) {
      Value r = root(result);
      if (r != result || plan.locations.count(r) || !isa<RankedTensorType>(r.getType()))
        continue;
      interval[r] = {position[&op], position[&op]};
      roots.push_back(r);
    }
  for (Operation &op : body)
    for (Value operand : op.getOperands()) {
      auto it = interval.find(root(operand));
      if (it != interval.end())
        it->second.second = std::max(it->second.second, position[&op]);
    }

  // First fit: walk in program order, free what died before this definition.
  std::multimap<int64_t, std::pair<int64_t, int64_t>> live; // end -> (offset, bytes)
  std::map<int64_t, int64_t> freeList;                      // offset -> bytes
  auto release = [&](int64_t now) {
    while (!live.empty() && live.begin()->first < now) {
      auto [offset, bytes] = live.begin()->second;
      freeList[offset] = bytes;
      live.erase(live.begin());
    }
    // Merge neighbours so large buffers can reuse freed space.
    for (auto it = freeList.begin(); it != freeList.end();) {
      auto next = std::next(it);
      if (next != freeList.end() && it->first + it->second == next->first) {
        it->second += next->second;
        freeList.erase(next);
      } else {
        it = next;
      }
    }
  };
  for (Value r : roots) {
    auto [start, end] = interval[r];
    release(start);
    int64_t bytes = llvm::alignTo(tensorBytes(r.getType(), maxTokens), 64);
    int64_t offset = -1;
    for (auto it = freeList.begin(); it != freeList.end(); ++it) {
      if (it->second >= bytes) {
        offset = it->first;
        if (it->second > bytes)
          freeList[offset + bytes] = it->second - bytes;
        freeList.erase(it);
        break;
      }
    }
    if (offset < 0) {
      offset = plan.arenaBytes;
      plan.arenaBytes += bytes;
    }
    live.emplace(end, std::make_pair(offset, bytes));
    plan.locations[r] = {BufferLocation::Arena, offset};
  }
  // Aliases share their root's location; a view adds its column offset and sets its token stride,
  // which reshapes of it keep.
  std::function<BufferLocation(Value)> locate = [&](Value v) {
    auto target = aliasOf.find(v);
    if (target == aliasOf.end())
      return plan.locations.lookup(v);
    BufferLocation l = locate(target->second);
    auto view = views.find(v);
    if (view != views.end()) {
      l.index += view->second.byteOffset;
      l.tokenStride = view->second.tokenStride;
    }
    return l;
  };
  for (auto [alias, target] : aliasOf)
    plan.locations[alias] = locate(alias);
  return plan;
}

} // namespace deltac
