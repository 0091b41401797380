//===- Importer.cpp - checkpoint to IR ------------------------------------===//

#include "import/Importer.h"

#include "import/ModelBuilder.h"

using namespace llvm;

namespace deltac {

mlir::OwningOpRef<mlir::ModuleOp> importCheckpoint(mlir::MLIRContext &context,
                                                   const Checkpoint &checkpoint,
                                                   const ImportOptions &options) {
  ModelDescription model;
  model.config = checkpoint.config;
  model.decay = checkpoint.decay;
  model.normsStoreOnePlus = checkpoint.normsStoreOnePlus;
  model.tiledValueHeads = checkpoint.tiledValueHeads;
  model.maxContext = options.maxContext;
  model.f16RecurrentState = options.f16RecurrentState;
  model.f16KVCache = options.f16KVCache;
  bool tied = checkpoint.config.tieWordEmbeddings;
  for (const ImportTensor &t : checkpoint.tensors) {
    dc_ws_dtype stored =
        options.quant.storeDType(t.spec, t.dtype, tied && t.spec.role == TensorRole::Embedding);
    // Bytes kept exactly as they arrive, in an encoding that would round again if recomputed.
    bool verbatim = t.decodeFrom < 0 && stored == t.dtype && stored != DC_WS_F32;
    model.weights.push_back({t.spec.name, stored, t.spec.shape, verbatim});
  }
  return buildModelModule(context, model);
}

} // namespace deltac
