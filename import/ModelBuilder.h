//===- ModelBuilder.h - emit a model's delta-dialect module -----*- C++ -*-===//

#ifndef DELTAC_IMPORT_MODELBUILDER_H
#define DELTAC_IMPORT_MODELBUILDER_H

#include "import/ModelConfig.h"
#include "import/TensorCatalog.h"

#include "deltac/weight_store.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace deltac {

/// Everything the IR needs to know about an imported model.
struct ModelDescription {
  ModelConfig config;
  DecayStorage decay = DecayStorage::ALog;
  bool normsStoreOnePlus = false; ///< GGUF: zero-centred norms hold 1 + w, so they apply as `plain`
  bool tiledValueHeads = false;
  /// Every weight: canonical name, stored dtype and shape (MTP weights may be present; they are
  /// declared but only an MTP entry point would use them).
  struct Weight {
    std::string name;
    dc_ws_dtype dtype;
    llvm::SmallVector<int64_t, 4> shape;
    bool verbatim = false; ///< see delta.weight's `verbatim`
  };
  std::vector<Weight> weights;
  int64_t maxContext = 4096;
  /// The delta-rule state's storage: f32, or f16 (half the bytes each decode step reads and writes;
  /// computed in f32, rounded once per op; delta.gated_delta_rule).
  bool f16RecurrentState = false;
  /// The attention layers' KV caches: f32, or f16 (half the bytes; new rows rounded as they are
  /// appended; delta.attention).
  bool f16KVCache = false;
};

/// Builds the module: weight and state declarations and the `prefill` / `decode` entry points
/// (docs/design/dialect.md, "Values, tokens and entry points").
mlir::OwningOpRef<mlir::ModuleOp> buildModelModule(mlir::MLIRContext &context,
                                                   const ModelDescription &model);

} // namespace deltac

#endif // DELTAC_IMPORT_MODELBUILDER_H
