//===- BufferPlan.h - static arena layout for an entry point ----*- C++ -*-===//
//
// Every tensor an entry point computes lives in one scratch arena whose size is fixed at compile time
// (the token dimension is bounded by max_tokens). Values that need no memory of their own are not
// placed: weights (pointers into the store), state reads (the state buffer), updated states (written
// in place into the state they update), reshapes (views of their input), and the returned logits
// (the caller's buffer). The rest get 64-byte-aligned offsets, reused once a value is dead
// (first fit over live intervals in program order).
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_CODEGEN_BUFFERPLAN_H
#define DELTAC_CODEGEN_BUFFERPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

namespace deltac {

/// Where a value's data is at run time.
struct BufferLocation {
  enum Kind { Arena, Weight, State, Logits, Input } kind;
  int64_t index = 0;  ///< arena byte offset, weight index or state index
};

struct BufferPlan {
  llvm::DenseMap<mlir::Value, BufferLocation> locations;
  int64_t arenaBytes = 0;
};

/// Bytes of a tensor value with its dynamic (token) dimension set to `maxTokens`.
int64_t tensorBytes(mlir::Type type, int64_t maxTokens);

/// Plans the arena of `entry`. `weightIndex`/`stateIndex` give the program-order index of each weight
/// and state symbol.
BufferPlan planBuffers(mlir::func::FuncOp entry, int64_t maxTokens,
                       const llvm::StringMap<int64_t> &weightIndex,
                       const llvm::StringMap<int64_t> &stateIndex);

} // namespace deltac

#endif // DELTAC_CODEGEN_BUFFERPLAN_H
