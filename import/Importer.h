//===- Importer.h - checkpoint to IR ----------------------------*- C++ -*-===//
//
// Import builds the model's module only: weights are declared with the encodings the quantization
// policy picks for them, and no value is read. The weight store is written after the graph passes by
// writeWeightStore (import/WeightMaterializer.h), so passes can derive new weights.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_IMPORTER_H
#define DELTAC_IMPORT_IMPORTER_H

#include "import/Checkpoint.h"
#include "import/QuantPolicy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace deltac {

struct ImportOptions {
  int64_t maxContext = 4096; ///< KV cache length
  bool f16RecurrentState = false; ///< store the delta-rule state in f16 (ModelDescription)
  bool f16KVCache = false;        ///< store the KV caches in f16 (ModelDescription)
  /// How each weight is stored (float type, quantization scheme per class); the default keeps the
  /// checkpoint's encodings.
  QuantPolicy quant;
};

/// Builds the module of `checkpoint`'s model: weight and state declarations and the `prefill` /
/// `decode` entry points. A weight whose store encoding is the checkpoint's own (and not f32) is
/// marked `verbatim`.
mlir::OwningOpRef<mlir::ModuleOp> importCheckpoint(mlir::MLIRContext &context,
                                                   const Checkpoint &checkpoint,
                                                   const ImportOptions &options);

} // namespace deltac

#endif // DELTAC_IMPORT_IMPORTER_H
