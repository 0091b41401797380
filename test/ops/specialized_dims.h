/* Sizes for the specialized build of the kernels the op suite checks (test/ops/CMakeLists.txt): the
 * row lengths and head dimensions the suite's shapes use, so each kernel runs both its specialized
 * instances (these sizes) and its generic path (every other size) against the reference. deltac
 * compile writes the same kind of header for each model (codegen/KernelSpecializer.cpp), with only
 * the sizes each family runs at; the suite gives every other family the same list. */
#define DC_OP_SUITE_DIMS(X, s)                                                                     \
  X(s, 1) X(s, 4) X(s, 7) X(s, 16) X(s, 17) X(s, 32) X(s, 33) X(s, 64) X(s, 65) X(s, 96)         \
      X(s, 128) X(s, 256) X(s, 1000) X(s, 1024)
#define DC_MODEL_ROW_DIMS DC_OP_SUITE_DIMS
#define DC_MODEL_EXPERT_DIMS DC_OP_SUITE_DIMS
#define DC_MODEL_NORM_DIMS DC_OP_SUITE_DIMS
/* The delta-rule families specialize per (dk, dv) pair, so their copies multiply: the 14 x 14
 * pairs of the list above made gated_delta_net.c alone take 12 minutes to compile. They get the
 * head sizes the suite's delta-rule and Gated DeltaNet cases use instead (dk 260 and dv 8 and 80
 * stay on the generic path). */
#define DC_MODEL_KEY_DIMS(X, s) X(s, 4) X(s, 7) X(s, 16) X(s, 32) X(s, 33) X(s, 128)
#define DC_MODEL_VALUE_DIMS(X, s) X(s, 4) X(s, 17) X(s, 32) X(s, 65) X(s, 128)
