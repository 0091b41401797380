//===- Importer.h - checkpoint to IR + weight store -------------*- C++ -*-===//

#ifndef DELTAC_IMPORT_IMPORTER_H
#define DELTAC_IMPORT_IMPORTER_H

#include "import/Checkpoint.h"
#include "import/QuantPolicy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>

namespace deltac {

struct ImportOptions {
  std::string storePath;       ///< where the weight store goes
  std::string storePathInIR;   ///< how the IR refers to it (normally the file name next to the IR)
  int64_t maxContext = 4096;   ///< KV cache length
  /// How each weight is stored (float type, quantization scheme per class); the default keeps the
  /// checkpoint's encodings.
  QuantPolicy quant;
  /// Called as bytes are copied: (bytes done, bytes total, current tensor).
  std::function<void(uint64_t, uint64_t, llvm::StringRef)> progress;
};

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  uint64_t fingerprint = 0;
  uint64_t storeBytes = 0;
  size_t tensorCount = 0;
};

/// Streams every tensor of `checkpoint` into a new weight store (bounded memory: one 16 MiB buffer),
/// then builds the model's module referring to it. The store appears under its final name only when
/// complete.
llvm::Expected<ImportResult> importCheckpoint(mlir::MLIRContext &context,
                                              const Checkpoint &checkpoint,
                                              const ImportOptions &options);

} // namespace deltac

#endif // DELTAC_IMPORT_IMPORTER_H
