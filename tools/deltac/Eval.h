//===- Eval.h - `deltac eval`: a quantized build against the f32 build -*- C++ -*-===//

#ifndef DELTAC_TOOLS_EVAL_H
#define DELTAC_TOOLS_EVAL_H

#include "Compile.h"

namespace deltac {

struct EvalOptions {
  CompileOptions compile;  ///< input, target, quantization options of the build under test
  std::string workDir;     ///< where both builds go (kept)
  int64_t prompts = 4;     ///< fixed pseudo-random prompts
  int64_t promptTokens = 64;
  bool json = false;
};

/// Compiles the model twice (f32, and with the quantization options), runs both on the same prompts
/// and prints the mean KL divergence KL(p_f32 || p_quant) over every position, the top-1 agreement
/// and the largest absolute logit difference.
llvm::Error evaluateQuantization(const EvalOptions &options);

} // namespace deltac

#endif // DELTAC_TOOLS_EVAL_H
