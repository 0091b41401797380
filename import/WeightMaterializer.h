//===- WeightMaterializer.h - write the weight store a module needs -*- C++ -*-===//
//
// The importer builds the model's module without touching a weight's values; graph passes may then
// declare derived weights (a norm scale folded into a linear, merged linears: delta.weight's
// `WeightDerivation`). Once the passes are done, writeWeightStore computes exactly the weights the
// module's functions reference, in the encodings their types declare, streaming from the checkpoint
// with bounded memory (docs/design/weights.md).
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_WEIGHTMATERIALIZER_H
#define DELTAC_IMPORT_WEIGHTMATERIALIZER_H

#include "import/Checkpoint.h"
#include "import/QuantPolicy.h"

#include "deltac/weight_store.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <optional>

namespace deltac {

struct StoreOptions {
  std::string storePath;     ///< where the weight store goes
  std::string storePathInIR; ///< how the IR refers to it (normally the file name next to the IR)
  /// Called as bytes are written: (bytes done, bytes total, current weight).
  std::function<void(uint64_t, uint64_t, llvm::StringRef)> progress;
  /// Also store every checkpoint tensor the module does not reference, encoded as this policy says
  /// (`deltac import` keeps the whole checkpoint, MTP weights included).
  std::optional<QuantPolicy> keepUnreferenced;
};

struct StoreSummary {
  uint64_t fingerprint = 0;
  uint64_t storeBytes = 0;
  size_t tensorCount = 0;
};

/// Writes the store for `module` (every weight a delta.weight_ref names; derived weights computed
/// from `checkpoint`), then records its path and fingerprint in the module's `delta.weight_store`
/// attribute. The store appears under its final name only when complete.
llvm::Expected<StoreSummary> writeWeightStore(mlir::ModuleOp module, const Checkpoint &checkpoint,
                                              const StoreOptions &options);

} // namespace deltac

#endif // DELTAC_IMPORT_WEIGHTMATERIALIZER_H
