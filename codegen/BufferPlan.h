//===- BufferPlan.h - static arena layout for an entry point ----*- C++ -*-===//
//
// Every tensor an entry point computes lives in one scratch arena whose size is fixed at compile
// time (the token dimension is bounded by max_tokens). Values that need no memory of their own are
// not placed: weights (pointers into the store), state reads (the state buffer), updated states
// (written in place into the state they update), reshapes (views of their input), split results
// read in place (views into their input's columns, below), and the returned logits (the caller's
// buffer). The rest get 64-byte-aligned offsets, reused once a value is dead (first fit over live
// intervals in program order).
//
// A result of a `delta.split` of a [tokens, width] value needs no copy of its own when it is read
// in place: its columns sit at a fixed offset in each token's row. Any reader can do that when
// there is one token row (decode); otherwise only an operand whose kernel takes a token stride can
// (takesTokenStride). Such a result is a view: the input's location plus its column offset, with
// the input's row width as its token stride; the input then lives as long as its views
// (docs/design/compile.md, "Split results as views").
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_CODEGEN_BUFFERPLAN_H
#define DELTAC_CODEGEN_BUFFERPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace deltac {

/// Where a value's data is at run time.
struct BufferLocation {
  enum Kind { Arena, Weight, State, Logits, Input } kind;
  int64_t index = 0; ///< arena byte offset (a view's includes its columns'), weight or state index
  /// Floats from one token's row to the next of a strided view into a wider value's columns; 0 for
  /// a value laid out densely.
  int64_t tokenStride = 0;
};

struct BufferPlan {
  llvm::DenseMap<mlir::Value, BufferLocation> locations;
  /// The split results read in place: their split copies nothing into them.
  llvm::DenseSet<mlir::Value> views;
  int64_t arenaBytes = 0;
};

/// Bytes of a tensor value with its dynamic (token) dimension set to `maxTokens`.
int64_t tensorBytes(mlir::Type type, int64_t maxTokens);

/// Whether `use` is an operand whose dc_op_* call takes a token stride, so that it may read a
/// strided view: gated_delta_net's qkv, a and b, and gated_rms_norm's gate. The program emitter
/// passes the stride for exactly these.
bool takesTokenStride(mlir::OpOperand &use);

/// Plans the arena of `entry`. `weightIndex`/`stateIndex` give the program-order index of each weight
/// and state symbol.
BufferPlan planBuffers(mlir::func::FuncOp entry, int64_t maxTokens,
                       const llvm::StringMap<int64_t> &weightIndex,
                       const llvm::StringMap<int64_t> &stateIndex);

} // namespace deltac

#endif // DELTAC_CODEGEN_BUFFERPLAN_H
