/*===- deltac/program.h - the compiled program <-> runtime ABI, version 1 -===*
 *
 * `deltac compile` turns a model into a *program*: one exported table, `dc_model_program`, that
 * describes the model and points at its compiled entry points. The runtime (runtime/) binds to that
 * table: it maps the weight store, checks the fingerprint, gathers the weight pointers in the order
 * the program lists them, allocates the state and the scratch arena, and calls the entry points.
 *
 * The entry points do no work themselves beyond addressing: each delta op becomes one call to a
 * dc_op_* function below, which the runtime implements by splitting the op's independent dimension
 * across its worker threads and calling the target's kernels (codegen/include/deltac/kernel_abi.h)
 * on the pieces. Only <stdint.h> and <stddef.h>.
 *
 * Ownership: the program table and everything it points to are constant data owned by the program
 * image. Every buffer passed to an entry point or a dc_op_* function is owned by the runtime; callees
 * keep no pointer after returning.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_PROGRAM_H
#define DELTAC_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 3: dc_op_gated_delta_net, dc_op_gated_delta_rule and dc_op_attention take their state's storage
 * code (f32 or f16). */
/* 4: dc_op_gated_delta_net and dc_op_gated_rms_norm take token strides, for views into a merged
 * projection's output (docs/design/compile.md, "Split results as views"). */
/* 5: dc_program.cpu_features, the CPU features the runtime checks before it runs the program. */
#define DC_PROGRAM_ABI_VERSION 5

/* Runtime execution context (thread pool, per-thread scratch). Opaque to generated code. */
typedef struct dc_exec dc_exec;

/* A compiled entry point (`prefill` or `decode`).
 *   exec       the runtime context, passed through to every dc_op_* call
 *   weights    weight_count pointers, in the order of dc_program.weight_names, each to the weight's
 *              data in the dtype dc_program.weight_dtypes names
 *   states     state_count pointers to the state buffers (zero at session start), program order
 *   arena      arena_bytes of scratch, 64-byte aligned, contents unspecified on entry
 *   tokens     n_tokens token ids, each in [0, vocab_size) (the runtime checks)
 *   positions  n_tokens absolute positions (start, start + 1, ... for text)
 *   n_tokens   1 .. max_tokens (decode: 1)
 *   start      tokens already in the KV cache; start + n_tokens <= max_context (the runtime checks)
 *   logits     n_tokens x vocab_size floats, written
 * Returns 0. */
typedef int32_t (*dc_entry_fn)(dc_exec *exec, void *const *weights, void *const *states,
                               uint8_t *arena, const int32_t *tokens, const int32_t *positions,
                               int64_t n_tokens, int64_t start, float *logits);

typedef struct dc_program {
  uint32_t abi_version;            /* DC_PROGRAM_ABI_VERSION */
  uint32_t kernel_abi_version;     /* DC_KERNEL_ABI_VERSION the program was compiled against */
  uint64_t weight_fingerprint;     /* must equal the weight store's fingerprint */
  const char *architecture;        /* "qwen3_5", "qwen3_5_moe", "qwen3_next" */
  const char *target;              /* the --target it was compiled for */
  int64_t vocab_size;
  int64_t max_context;             /* KV cache length in tokens */
  int64_t max_tokens;              /* the most tokens one prefill call takes */
  int64_t weight_count;
  const char *const *weight_names; /* weight store names, in the order of the weights argument */
  const uint32_t *weight_dtypes;   /* dc_ws_dtype wanted for each; the runtime converts f16/bf16
                                      vectors the kernels take as f32 */
  int64_t state_count;
  const char *const *state_names;
  const int64_t *state_bytes;
  int64_t arena_bytes;
  dc_entry_fn prefill;
  dc_entry_fn decode;
  /* 0: prefill writes one logits row per token; 1: only the last token's row (row 0), compiled with
   * --prefill-logits=last. Added in ABI version 2. */
  int64_t prefill_last_logits_only;
  /* The CPU features the target's code needs, comma-separated names of deltac/cpu_features.h
   * ("avx2,fma,avxvnni"; "" for none): dc_model_open refuses the program with DC_STATUS_MISMATCH on
   * a CPU that lacks one, before any of its code runs. Added in ABI version 5. */
  const char *cpu_features;
} dc_program;

/* The table a compiled model exports. */
extern const dc_program dc_model_program;

/*===----------------------------------------------------------------------===*
 * Operations called by generated code. Same semantics, layouts and flags as the kernels of the same
 * name in kernel_abi.h, without the range arguments (the runtime splits the work); weight-typed
 * functions take the weight's dc_ws_dtype. Scratch comes from the runtime's per-thread buffers.
 *===----------------------------------------------------------------------===*/

void dc_op_embedding(dc_exec *exec, uint32_t dtype, const void *table, int64_t V, int64_t H,
                     const int32_t *ids, int64_t T, float *y);
void dc_op_linear(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t K,
                  const void *weight, int64_t N, float *y);
void dc_op_lm_head(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t H,
                   const void *weight, int64_t V, float *y);
/* delta.linear with a swiglu and/or residual epilogue (dc_k_linear_epilogue_*): weight [N, K] or,
 * with DC_K_EPILOGUE_SWIGLU, [2N, K]; residual [T, N] or NULL; y [T, N]. */
void dc_op_linear_epilogue(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t K,
                           const void *weight, int64_t N, int32_t epilogue, const float *residual,
                           float *y);
/* The same three with int8 activations (`deltac compile --act-quant=int8`; kernel_abi.h,
 * dc_k_*_q8act_*): for block-quantized weights only (dtype q8_0 and the int4 dtypes). */
void dc_op_linear_q8act(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t K,
                        const void *weight, int64_t N, float *y);
void dc_op_lm_head_q8act(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t H,
                         const void *weight, int64_t V, float *y);
void dc_op_linear_epilogue_q8act(dc_exec *exec, uint32_t dtype, const float *x, int64_t T,
                                 int64_t K, const void *weight, int64_t N, int32_t epilogue,
                                 const float *residual, float *y);
void dc_op_add(dc_exec *exec, const float *a, const float *b, int64_t n, float *y);
void dc_op_swiglu(dc_exec *exec, const float *gate, const float *up, int64_t n, float *y);
void dc_op_rms_norm(dc_exec *exec, const float *x, const float *weight, int64_t rows, int64_t d,
                    int32_t scale_mode, float eps, float *y);
void dc_op_l2_norm(dc_exec *exec, const float *x, int64_t rows, int64_t d, float eps, float *y);
/* z: z_heads rows of d per token, tokens z_stride floats apart (dc_k_gated_rms_norm_f32). */
void dc_op_gated_rms_norm(dc_exec *exec, const float *x, const float *z, int64_t z_heads,
                          int64_t z_stride, const float *weight, int64_t rows, int64_t d, float eps,
                          float *y);
/* Copies the last of `rows` rows of x [rows, width] to y [1, width]. */
void dc_op_last_row(dc_exec *exec, const float *x, int64_t rows, int64_t width, float *y);
/* Copies columns [offset, offset + width) of each of `rows` rows of x [rows, in_width] to y. */
void dc_op_slice_columns(dc_exec *exec, const float *x, int64_t rows, int64_t in_width,
                         int64_t offset, int64_t width, float *y);
/* Writes x [rows, width] into columns [offset, offset + width) of y [rows, out_width]. */
void dc_op_place_columns(dc_exec *exec, const float *x, int64_t rows, int64_t width,
                         int64_t offset, int64_t out_width, float *y);
void dc_op_causal_conv1d(dc_exec *exec, const float *x, int64_t T, int64_t C, const float *weight,
                         int64_t K, int32_t act, float *state, float *y);
void dc_op_gdn_gates(dc_exec *exec, const float *a, const float *b, const float *decay,
                     const float *dt_bias, int64_t T, int64_t nv, int32_t decay_form, float *g,
                     float *beta);
/* The runtime picks the chunked kernel for T > 1 and the recurrent one for T == 1. The state is
 * updated in place; state_dtype is DC_WS_F32 (float) or DC_WS_F16 (uint16_t: widened to f32 for
 * the call, rounded back once at its end). */
void dc_op_gated_delta_rule(dc_exec *exec, const float *q, const float *k, const float *v,
                            const float *g, const float *beta, int64_t T, int64_t nk, int64_t nv,
                            int64_t dk, int64_t dv, int32_t mapping, float scale,
                            uint32_t state_dtype, void *state, float *out);
/* delta.gated_delta_net (dc_k_gated_delta_net_f32): qkv [T, 2 nk dk + nv dv], a and b [T, nv],
 * token t's rows at qkv + t qkv_stride, a + t a_stride and b + t b_stride,
 * conv_weight [C, K], decay and dt_bias [nv]; conv_state [K-1, C] and state [nv, dk, dv] (of
 * state_dtype DC_WS_F32 or DC_WS_F16, as for dc_op_gated_delta_rule) are updated in place;
 * out [T, nv, dv]. Split over key heads. */
void dc_op_gated_delta_net(dc_exec *exec, const float *qkv, int64_t qkv_stride, const float *a,
                           int64_t a_stride, const float *b, int64_t b_stride, int64_t T,
                           int64_t nk, int64_t nv, int64_t dk, int64_t dv, const float *conv_weight,
                           int64_t K, const float *decay, const float *dt_bias, int32_t decay_form,
                           int32_t mapping, float scale, float l2_eps, float *conv_state,
                           uint32_t state_dtype, void *state, float *out);
void dc_op_rope(dc_exec *exec, const float *x, int64_t T, int64_t n, int64_t hd,
                const int32_t *positions, int64_t rotary_dim, double theta, float *y);
/* delta.attention (dc_k_attention_f32): the caches [nkv, S, hd] and [nkv, S, hdv] are of
 * cache_dtype DC_WS_F32 (float) or DC_WS_F16 (uint16_t: new rows rounded to f16, every row read
 * widened to f32); the new rows are written in place. Split over query heads. */
void dc_op_attention(dc_exec *exec, const float *q, const float *k, const float *v,
                     const float *gate, int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv,
                     float scale, uint32_t cache_dtype, void *key_cache, void *value_cache,
                     int64_t S, int64_t position, float *out);
void dc_op_moe(dc_exec *exec, uint32_t dtype, const float *x, int64_t T, int64_t H,
               const float *router, int64_t E, const void *gate, const void *up, const void *down,
               int64_t I, int64_t top_k, int32_t normalize, const void *shared_gate,
               const void *shared_up, const void *shared_down, const float *shared_expert_gate,
               int64_t Is, float *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_PROGRAM_H */
