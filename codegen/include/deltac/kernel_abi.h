/*===- deltac/kernel_abi.h - the compiler <-> kernel ABI, version 1 --------===*
 *
 * One C function per kernel of the delta ops (docs/reference/DeltaDialect.md), called by the code
 * deltac generates and by the runtime. Every target provides the same functions; the portable C
 * implementation lives in targets/portable/kernels/ and test/ops/OpSuiteTest.cpp checks any
 * implementation against the double-precision reference (reference/ReferenceOps.h).
 * docs/kernels.md explains the rules and how a new target plugs in.
 *
 * Rules every kernel follows (in the manner of IREE's microkernels):
 *  - No allocation, no I/O, no globals, no static mutable state: a kernel touches only the memory
 *    its arguments point to (plus a few KiB of stack), so it is reentrant and thread safe.
 *  - No libc. The only library functions a kernel may reach are the math builtins expf, log1pf,
 *    sinf and cosf (which a compiler may merge into sincosf) and the double pow; sqrtf is an
 *    instruction (-fno-math-errno). Like any freestanding C, the compiler may also emit memset and
 *    memcpy for zeroing and copying loops. A target without libm links its own versions of these.
 *  - Every size and index is int64_t; flags are int32_t with the DC_K_* values below.
 *  - Activations, states, caches and outputs are float32. Only linear, lm_head, embedding and moe
 *    take other weight element types, one function per type, with f32 accumulation (the q8act
 *    kernels, which quantize their activations internally, sum each block of 32 in int32).
 *  - Tensors are dense and row-major (last dimension contiguous). Linear weights use PyTorch's
 *    [out, in] layout. Pointers need only their element's natural alignment; byte-typed weights
 *    (GGML blocks) need none.
 *  - Ownership: the caller owns every buffer, before, during and after the call; a kernel keeps no
 *    pointer after it returns. Inputs are const and never written. A kernel with scratch needs
 *    exposes dc_k_<kernel>_scratch_bytes(...); the caller passes that many bytes, aligned to
 *    DC_K_SCRATCH_ALIGNMENT, whose contents on entry and on return are unspecified.
 *  - Aliasing: outputs must not overlap inputs unless the kernel's comment says "may equal", which
 *    always means exactly the same pointer (in-place), never a partial overlap.
 *  - Threading: a kernel that can be split takes a half-open range [begin, end) of its independent
 *    dimension and computes exactly the part of the outputs that range owns. Calls on disjoint
 *    ranges may run concurrently (each with its own scratch), and splitting a range changes no
 *    output bit. A call with begin >= end does nothing.
 *
 * Versioning: DC_KERNEL_ABI_VERSION changes whenever a signature or a documented behaviour
 * changes; adding a function does not change it. dc_k_abi_version() reports the version a kernel
 * library was built for, so a runtime can refuse a mismatched one.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_KERNEL_ABI_H
#define DELTAC_KERNEL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 3: dc_k_gated_delta_net_f32(_state_f16) take a row stride for each of qkv, a and b, and
 * dc_k_gated_rms_norm_f32 one for its gate, so that they read views into a merged projection's
 * output (docs/design/compile.md, "Split results as views"). */
#define DC_KERNEL_ABI_VERSION 3

/* Alignment in bytes of every scratch buffer a caller passes. */
#define DC_K_SCRATCH_ALIGNMENT 64

/* GGML block formats (import/GGMLQuants.h): QK values per block, bytes per block. A row of K values
 * is K / DC_K_GGML_BLOCK consecutive blocks, so K must be a multiple of 32; a [N, K] matrix is N
 * such rows back to back. All fields are little-endian, blocks are packed with no padding.
 *   Q8_0 (34 bytes): f16 d, int8 q[32];                 x[i] = q[i] * d
 *   Q4_0 (18 bytes): f16 d, uint8 qs[16];                x[i] = (nib[i] - 8) * d
 *   Q4_1 (20 bytes): f16 d, f16 m, uint8 qs[16];         x[i] = nib[i] * d + m
 * where nib[i] is the low nibble of qs[i] for i < 16 and the high nibble of qs[i - 16] otherwise.
 */
#define DC_K_GGML_BLOCK 32
#define DC_K_Q8_0_BLOCK_BYTES 34
#define DC_K_Q4_0_BLOCK_BYTES 18
#define DC_K_Q4_1_BLOCK_BYTES 20

/* deltac's int4 blocks over groups of G = 64 or 128 values (import/DeltacQuants.h): Q4_0 and Q4_1
 * with a larger group, the same fields and the same nibble order. A row of K values is K / G
 * consecutive blocks, so K must be a multiple of G.
 *   Q4_0_G64  (34 bytes): f16 d, uint8 qs[32];          x[i] = (nib[i] - 8) * d
 *   Q4_1_G64  (36 bytes): f16 d, f16 m, uint8 qs[32];   x[i] = nib[i] * d + m
 *   Q4_0_G128 (66 bytes): f16 d, uint8 qs[64];          x[i] = (nib[i] - 8) * d
 *   Q4_1_G128 (68 bytes): f16 d, f16 m, uint8 qs[64];   x[i] = nib[i] * d + m
 * where nib[i] is the low nibble of qs[i] for i < G/2 and the high nibble of qs[i - G/2] otherwise.
 */
#define DC_K_Q4_G64_GROUP 64
#define DC_K_Q4_G128_GROUP 128
#define DC_K_Q4_0_G64_BLOCK_BYTES 34
#define DC_K_Q4_1_G64_BLOCK_BYTES 36
#define DC_K_Q4_0_G128_BLOCK_BYTES 66
#define DC_K_Q4_1_G128_BLOCK_BYTES 68

/* f16 weights are IEEE binary16 bit patterns; bf16 weights are the upper 16 bits of a float32. */

/* Flag values; they equal the dialect's enum values (docs/reference/DeltaDialect.md, "Enums"). */
#define DC_K_NORM_PLAIN 0     /* rms_norm: y = n * w */
#define DC_K_NORM_ONE_PLUS 1  /* rms_norm: y = n * (1 + w) */
#define DC_K_NORM_NONE 2      /* rms_norm: y = n; weight is not read (may be NULL) */
#define DC_K_ACT_NONE 0       /* causal_conv1d: no activation */
#define DC_K_ACT_SILU 1       /* causal_conv1d: silu after the convolution */
#define DC_K_DECAY_A_LOG 0    /* gdn_gates: decay holds A_log, A = -exp(decay) */
#define DC_K_DECAY_NEG_EXP 1  /* gdn_gates: decay already holds A = -exp(A_log) */
#define DC_K_HEADS_GROUPED 0  /* delta rule: value head h reads key head h / (nv / nk) */
#define DC_K_HEADS_TILED 1    /* delta rule: value head h reads key head h mod nk */
#define DC_K_EPILOGUE_NONE 0   /* linear_epilogue: y = x W^T (+ residual) */
#define DC_K_EPILOGUE_SWIGLU 1 /* linear_epilogue: y = silu(x Wg^T) * (x Wu^T) (+ residual) */

/* The chunk length of dc_k_gated_delta_rule_chunked_f32 (spec §4.1); fixed by this ABI version. */
#define DC_K_DELTA_RULE_CHUNK 64

/* Returns DC_KERNEL_ABI_VERSION as the library was compiled. */
int32_t dc_k_abi_version(void);

/*===----------------------------------------------------------------------===*
 * Elementwise. Range: flat elements [begin, end) of the buffers.
 *===----------------------------------------------------------------------===*/

/* y[i] = a[i] + b[i]. y may equal a or b. */
void dc_k_add_f32(const float *a, const float *b, int64_t begin, int64_t end, float *y);

/* y[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i]. y may equal gate or up. */
void dc_k_swiglu_f32(const float *gate, const float *up, int64_t begin, int64_t end, float *y);

/* y[i] = x[i] widened from f16 (exact), and y[i] = x[i] rounded to the nearest f16 (ties to even;
 * past the largest half: infinity), the storage conversions of an f16 recurrent state. */
void dc_k_convert_f16_f32(const uint16_t *x, int64_t begin, int64_t end, float *y);
void dc_k_convert_f32_f16(const float *x, int64_t begin, int64_t end, uint16_t *y);

/*===----------------------------------------------------------------------===*
 * Row norms. x and y are [rows, d]; range: rows [row_begin, row_end). y may equal x (and a dense
 *z).
 *===----------------------------------------------------------------------===*/

/* n = x * 1 / sqrt(mean(x^2) + eps); y = n * w (DC_K_NORM_PLAIN), n * (1 + w)
 * (DC_K_NORM_ONE_PLUS) or n (DC_K_NORM_NONE, weight unread). weight: [d]. */
void dc_k_rms_norm_f32(const float *x, const float *weight, int64_t d, int32_t scale_mode,
                       float eps, int64_t row_begin, int64_t row_end, float *y);

/* y = x / sqrt(sum(x^2) + eps). */
void dc_k_l2_norm_f32(const float *x, int64_t d, float eps, int64_t row_begin, int64_t row_end,
                      float *y);

/* y = x / sqrt(mean(x^2) + eps) * w * silu(z), with z the gate rows and a plain weight [d] (no
 * 1 + w). The GDN output norm, applied per value head (d = dv). z holds `z_heads` rows per token,
 * each token's rows contiguous and z_stride floats after the previous token's: row r at
 * z + (r / z_heads) z_stride + (r mod z_heads) d. A dense z [rows, d] is z_heads = 1,
 * z_stride = d; a view into a merged projection's output has z_stride wider than z_heads d. */
void dc_k_gated_rms_norm_f32(const float *x, const float *z, int64_t z_heads, int64_t z_stride,
                             const float *weight, int64_t d, float eps, int64_t row_begin,
                             int64_t row_end, float *y);

/*===----------------------------------------------------------------------===*
 * Projections: embedding gather, linear, LM head. One function per weight element type.
 * x [T, K] f32, weight [N, K] row-major (PyTorch [out, in]), y [T, N] f32:
 *   y[t, n] = sum_k x[t, k] * weight[n, k], accumulated in f32.
 * Range: output columns n in [n_begin, n_end) (weight rows), for all T tokens. For the GGML block
 * types K must be a multiple of 32, for the _g64 / _g128 types of 64 / 128. y must not overlap x or
 * the weight.
 *===----------------------------------------------------------------------===*/

void dc_k_linear_f32_f32(const float *x, int64_t T, int64_t K, const float *weight, int64_t N,
                         int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_f16(const float *x, int64_t T, int64_t K, const uint16_t *weight, int64_t N,
                         int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_bf16(const float *x, int64_t T, int64_t K, const uint16_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q8_0(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q4_0(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q4_1(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                          int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q4_0_g64(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                              int64_t N, int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q4_1_g64(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                              int64_t N, int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q4_0_g128(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                               int64_t N, int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_f32_q4_1_g128(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                               int64_t N, int64_t n_begin, int64_t n_end, float *y);

/* Linear with a fused epilogue (delta.linear with `swiglu` and/or `residual`; docs/design/fusion.md).
 *   x        [T, K]
 *   weight   [M, K] in the function's weight type: M = N for DC_K_EPILOGUE_NONE; M = 2N for
 *            DC_K_EPILOGUE_SWIGLU, rows [0, N) the gate projection and rows [N, 2N) the up projection
 *   residual [T, N] or NULL
 *   y        [T, N]: with p[t, m] = sum_k x[t, k] * weight[m, k] (f32 accumulation),
 *            e[t, n] = p[t, n] (NONE) or silu(p[t, n]) * p[t, N + n] (SWIGLU), and
 *            y[t, n] = e[t, n] + residual[t, n], or e[t, n] without a residual.
 * Each p is accumulated exactly as by dc_k_linear_f32_<w>, so without an epilogue and residual the
 * result has the same bits. Range: output columns n in [n_begin, n_end) (for SWIGLU, weight rows n and
 * N + n), for all T tokens. The K constraints of the weight type apply. y must not overlap x, the
 * weight or the residual. */
void dc_k_linear_epilogue_f32_f32(const float *x, int64_t T, int64_t K, const float *weight,
                                  int64_t N, int32_t epilogue, const float *residual,
                                  int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_epilogue_f32_f16(const float *x, int64_t T, int64_t K, const uint16_t *weight,
                                  int64_t N, int32_t epilogue, const float *residual,
                                  int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_epilogue_f32_bf16(const float *x, int64_t T, int64_t K, const uint16_t *weight,
                                   int64_t N, int32_t epilogue, const float *residual,
                                   int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_epilogue_f32_q8_0(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                   int64_t N, int32_t epilogue, const float *residual,
                                   int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_epilogue_f32_q4_0(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                   int64_t N, int32_t epilogue, const float *residual,
                                   int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_epilogue_f32_q4_1(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                   int64_t N, int32_t epilogue, const float *residual,
                                   int64_t n_begin, int64_t n_end, float *y);
void dc_k_linear_epilogue_f32_q4_0_g64(const float *x, int64_t T, int64_t K,
                                       const uint8_t *weight, int64_t N, int32_t epilogue,
                                       const float *residual, int64_t n_begin, int64_t n_end,
                                       float *y);
void dc_k_linear_epilogue_f32_q4_1_g64(const float *x, int64_t T, int64_t K,
                                       const uint8_t *weight, int64_t N, int32_t epilogue,
                                       const float *residual, int64_t n_begin, int64_t n_end,
                                       float *y);
void dc_k_linear_epilogue_f32_q4_0_g128(const float *x, int64_t T, int64_t K,
                                        const uint8_t *weight, int64_t N, int32_t epilogue,
                                        const float *residual, int64_t n_begin, int64_t n_end,
                                        float *y);
void dc_k_linear_epilogue_f32_q4_1_g128(const float *x, int64_t T, int64_t K,
                                        const uint8_t *weight, int64_t N, int32_t epilogue,
                                        const float *residual, int64_t n_begin, int64_t n_end,
                                        float *y);

/* logits [T, V] = x [T, H] weight^T with weight [V, H] (the embedding table when tied). The same
 * contract as linear, range over vocabulary rows [v_begin, v_end); a separate entry point because a
 * target tunes it on its own (it streams the largest matrix of a decode step). */
void dc_k_lm_head_f32_f32(const float *x, int64_t T, int64_t H, const float *weight, int64_t V,
                          int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_f16(const float *x, int64_t T, int64_t H, const uint16_t *weight, int64_t V,
                          int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_bf16(const float *x, int64_t T, int64_t H, const uint16_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q8_0(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q4_0(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q4_1(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                           int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q4_0_g64(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                               int64_t V, int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q4_1_g64(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                               int64_t V, int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q4_0_g128(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                int64_t V, int64_t v_begin, int64_t v_end, float *logits);
void dc_k_lm_head_f32_q4_1_g128(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                int64_t V, int64_t v_begin, int64_t v_end, float *logits);

/* y[t, :] = table[ids[t], :] decoded to f32, table [V, H]. Range: tokens [t_begin, t_end). An id
 * outside [0, V) yields a zero row (the runtime reports bad ids before the step; the kernel only
 * stays memory safe). For the block types H must be a multiple of the group (32, 64 or 128). */
void dc_k_embedding_f32_f32(const float *table, int64_t V, int64_t H, const int32_t *ids,
                            int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_f16(const uint16_t *table, int64_t V, int64_t H, const int32_t *ids,
                            int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_bf16(const uint16_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q8_0(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_0(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_1(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                             int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_0_g64(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                 int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_1_g64(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                 int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_0_g128(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                  int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_1_g128(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                  int64_t t_begin, int64_t t_end, float *y);

/*===----------------------------------------------------------------------===*
 * int8 activations (`deltac compile --act-quant=int8`): linear, LM head and the linear epilogue for
 * the block-quantized weight types, with integer dot products.
 *
 * Each call quantizes the T rows of x in blocks of DC_K_ACT_BLOCK values into its scratch, as
 * llama.cpp's Q8_0 / Q8_1 activation blocks do: per block an f32 scale dx = max|x| / 127 and codes
 * q = x * (127 / max|x|) rounded to nearest even (ties to even), in [-127, 127]; an all-zero block
 * has dx = 0 and q = 0. The result is then the linear of the dequantized activations q * dx with the
 * decoded weights, accumulated per block in int32 (exact) and across blocks in f32:
 *   y[t, n] = sum_b dw_b dx_b (sum_i c_i q_i) + e_b dx_b (sum_i q_i)
 * where c are the weight block's stored codes, dw its scale and e its code offset (-8 dw for the
 * symmetric int4 types, the min for the asymmetric ones, 0 for Q8_0). The quantization of x costs a
 * relative error of about 1/254 per block; the f32 kernels stay the reference.
 *
 * The integer instructions are chosen when the kernel library is compiled: AVX-512 VNNI (vpdpbusd)
 * on targets with it, AVX2 (vpmaddubsw) otherwise on x86-64-v3, portable C elsewhere.
 * Arguments, ranges and the epilogue are those of dc_k_linear_f32_<w>, dc_k_lm_head_f32_<w> and
 * dc_k_linear_epilogue_f32_<w>, plus `scratch`: dc_k_q8act_scratch_bytes(T, K) bytes (T tokens of
 * K = H values). Splitting the range changes no output bit. K must be a multiple of the weight
 * type's group (so of DC_K_ACT_BLOCK).
 *===----------------------------------------------------------------------===*/

#define DC_K_ACT_BLOCK 32

int64_t dc_k_q8act_scratch_bytes(int64_t T, int64_t K);

void dc_k_linear_q8act_q8_0(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                            int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_q8act_q4_0(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                            int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_q8act_q4_1(const float *x, int64_t T, int64_t K, const uint8_t *weight, int64_t N,
                            int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_q8act_q4_0_g64(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                int64_t N, int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_q8act_q4_1_g64(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                int64_t N, int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_q8act_q4_0_g128(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                 int64_t N, int64_t n_begin, int64_t n_end, void *scratch,
                                 float *y);
void dc_k_linear_q8act_q4_1_g128(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                 int64_t N, int64_t n_begin, int64_t n_end, void *scratch,
                                 float *y);

void dc_k_lm_head_q8act_q8_0(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                             int64_t v_begin, int64_t v_end, void *scratch, float *logits);
void dc_k_lm_head_q8act_q4_0(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                             int64_t v_begin, int64_t v_end, void *scratch, float *logits);
void dc_k_lm_head_q8act_q4_1(const float *x, int64_t T, int64_t H, const uint8_t *weight, int64_t V,
                             int64_t v_begin, int64_t v_end, void *scratch, float *logits);
void dc_k_lm_head_q8act_q4_0_g64(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                 int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                 float *logits);
void dc_k_lm_head_q8act_q4_1_g64(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                 int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                 float *logits);
void dc_k_lm_head_q8act_q4_0_g128(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                  int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                  float *logits);
void dc_k_lm_head_q8act_q4_1_g128(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                  int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                  float *logits);

void dc_k_linear_epilogue_q8act_q8_0(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                     int64_t N, int32_t epilogue, const float *residual,
                                     int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_0(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                     int64_t N, int32_t epilogue, const float *residual,
                                     int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_1(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                     int64_t N, int32_t epilogue, const float *residual,
                                     int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_0_g64(const float *x, int64_t T, int64_t K,
                                         const uint8_t *weight, int64_t N, int32_t epilogue,
                                         const float *residual, int64_t n_begin, int64_t n_end,
                                         void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_1_g64(const float *x, int64_t T, int64_t K,
                                         const uint8_t *weight, int64_t N, int32_t epilogue,
                                         const float *residual, int64_t n_begin, int64_t n_end,
                                         void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_0_g128(const float *x, int64_t T, int64_t K,
                                          const uint8_t *weight, int64_t N, int32_t epilogue,
                                          const float *residual, int64_t n_begin, int64_t n_end,
                                          void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_1_g128(const float *x, int64_t T, int64_t K,
                                          const uint8_t *weight, int64_t N, int32_t epilogue,
                                          const float *residual, int64_t n_begin, int64_t n_end,
                                          void *scratch, float *y);

/*===----------------------------------------------------------------------===*
 * Packed rows (the delta-pack-weights pass; weight-store dtypes DC_WS_Q8_0_PACKED and
 * DC_WS_Q4_0_PACKED). A row of K values (K a multiple of 32) holds exactly the values of the GGML
 * Q8_0 / Q4_0 row it was packed from, in the same number of bytes, rearranged so that the integer
 * dot-product kernels load codes and scales with whole-register loads:
 *   Q8_0_PACKED: uint8 c[K], then f16 d[K / 32];        x[k] = (c[k] - 128) * d[k / 32]
 *   Q4_0_PACKED: uint8 qs[K / 2], then f16 d[K / 32];   x[k] = (nib(k) - 8) * d[k / 32]
 * c[k] is the Q8_0 code plus 128. qs[16 b .. 16 b + 15] are the 16 qs bytes of Q4_0 block b, so
 * nib(k), k = 32 b + i, is the low nibble of qs[16 b + i] for i < 16 and the high nibble of
 * qs[16 b + i - 16] otherwise.
 *   Q4_0_X8 (DC_WS_Q4_0_X8; x86 targets): Q4_0_PACKED with the qs bytes of each span of 8 blocks
 *   (blocks 8 s .. 8 s + 7; a row's last span may hold g < 8) interleaved 4 bytes at a time: the
 *   span's 16 g bytes start at byte 128 s, and qs byte i of its block j sits at
 *   4 g (i / 4) + 4 j + i % 4. A 32-byte load at 128 s + 32 m then holds bytes 4m .. 4m + 3 of
 *   block j in 32-bit lane j: its low nibbles are values 4m .. 4m + 3, its high nibbles values
 *   16 + 4m .. 16 + 4m + 3, so integer dot products leave one block per int32 lane. The scales
 *   are as in Q4_0_PACKED.
 * A [N, K] matrix is N such rows back to back, each K / 32 * 34 (Q8_0_PACKED) or K / 32 * 18
 * (Q4_0_PACKED, Q4_0_X8) bytes. Every kernel library implements every layout; the compiler picks
 * the one its target's kernels load fastest.
 * The linear, lm_head and epilogue kernels take int8 activations exactly as the _q8act_ kernels
 * above (same arguments, scratch of dc_k_q8act_scratch_bytes(T, K) bytes); the embedding gathers
 * rows as dc_k_embedding_f32_<w>. A token's outputs have the same bits whatever T > 1 its call
 * takes (the runtime splits a prefill's tokens between threads), though they may differ in the
 * last bits from its T = 1 outputs.
 *===----------------------------------------------------------------------===*/

void dc_k_linear_q8act_q8_0_packed(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                   int64_t N, int64_t n_begin, int64_t n_end, void *scratch,
                                   float *y);
void dc_k_linear_q8act_q4_0_packed(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                   int64_t N, int64_t n_begin, int64_t n_end, void *scratch,
                                   float *y);
void dc_k_lm_head_q8act_q8_0_packed(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                    int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                    float *logits);
void dc_k_lm_head_q8act_q4_0_packed(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                    int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                    float *logits);
void dc_k_linear_epilogue_q8act_q8_0_packed(const float *x, int64_t T, int64_t K,
                                            const uint8_t *weight, int64_t N, int32_t epilogue,
                                            const float *residual, int64_t n_begin,
                                            int64_t n_end, void *scratch, float *y);
void dc_k_linear_epilogue_q8act_q4_0_packed(const float *x, int64_t T, int64_t K,
                                            const uint8_t *weight, int64_t N, int32_t epilogue,
                                            const float *residual, int64_t n_begin,
                                            int64_t n_end, void *scratch, float *y);
void dc_k_embedding_f32_q8_0_packed(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                    int64_t t_begin, int64_t t_end, float *y);
void dc_k_embedding_f32_q4_0_packed(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                    int64_t t_begin, int64_t t_end, float *y);
void dc_k_linear_q8act_q4_0_x8(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                               int64_t N, int64_t n_begin, int64_t n_end, void *scratch, float *y);
void dc_k_lm_head_q8act_q4_0_x8(const float *x, int64_t T, int64_t H, const uint8_t *weight,
                                int64_t V, int64_t v_begin, int64_t v_end, void *scratch,
                                float *logits);
void dc_k_linear_epilogue_q8act_q4_0_x8(const float *x, int64_t T, int64_t K,
                                        const uint8_t *weight, int64_t N, int32_t epilogue,
                                        const float *residual, int64_t n_begin, int64_t n_end,
                                        void *scratch, float *y);
void dc_k_embedding_f32_q4_0_x8(const uint8_t *table, int64_t V, int64_t H, const int32_t *ids,
                                int64_t t_begin, int64_t t_end, float *y);

/*===----------------------------------------------------------------------===*
 * Claimed ranges (packed rows)
 *
 * A thread pool that hands out a GEMV's output columns in pieces while it runs (work stealing:
 * a thread that finishes its own columns takes some of another's) calls these instead of the
 * range-at-a-time kernels above. dc_k_linear_claimed_q8act_<w> is dc_k_linear_epilogue_q8act_<w>
 * (DC_K_EPILOGUE_NONE for the plain linear and the LM head, whose bits are those of the linear)
 * over every range that `claim` hands out, until it returns 0: each call of
 * claim(claimer, &begin, &end) returns 1 with [begin, end) a range of output columns in [0, N)
 * that no call has handed out before, or 0 when there are none left. At T = 1 the activations are
 * quantized once for all the ranges (a range-at-a-time call quantizes them once per call, which
 * costs about 0.4 us at K = 1024 and 1.4 us at K = 3584 on the Zen 4 VM); other T go range by
 * range. The outputs are those of the range-at-a-time calls, bit for bit, wherever the ranges
 * fall and in whatever order they come.
 *===----------------------------------------------------------------------===*/

/* Returns 1 and a range [*begin, *end) not handed out before, or 0 when none is left. */
typedef int32_t (*dc_k_claim_fn)(void *claimer, int64_t *begin, int64_t *end);

void dc_k_linear_claimed_q8act_q8_0_packed(const float *x, int64_t T, int64_t K,
                                           const uint8_t *weight, int64_t N, int32_t epilogue,
                                           const float *residual, dc_k_claim_fn claim,
                                           void *claimer, void *scratch, float *y);
void dc_k_linear_claimed_q8act_q4_0_packed(const float *x, int64_t T, int64_t K,
                                           const uint8_t *weight, int64_t N, int32_t epilogue,
                                           const float *residual, dc_k_claim_fn claim,
                                           void *claimer, void *scratch, float *y);
void dc_k_linear_claimed_q8act_q4_0_x8(const float *x, int64_t T, int64_t K, const uint8_t *weight,
                                       int64_t N, int32_t epilogue, const float *residual,
                                       dc_k_claim_fn claim, void *claimer, void *scratch, float *y);

/*===----------------------------------------------------------------------===*
 * Gated DeltaNet.
 *===----------------------------------------------------------------------===*/

/* Causal depthwise convolution over time with carried state (delta.causal_conv1d).
 *   x         [T, C]     new pre-conv inputs
 *   weight    [C, K]     taps, tap 0 the oldest
 *   state_in  [K-1, C]   the last K-1 pre-conv inputs of the previous step, oldest first
 *   act       DC_K_ACT_NONE or DC_K_ACT_SILU
 *   y         [T, C]     y[t, c] = act(sum_j weight[c, j] * m[t + j, c]), m = concat(state_in, x)
 *   state_out [K-1, C]   m[T .. T+K-2, :]; may equal state_in (updated in place)
 * Range: channels [c_begin, c_end). y must not overlap x. */
void dc_k_causal_conv1d_f32(const float *x, int64_t T, int64_t C, const float *weight, int64_t K,
                            const float *state_in, int32_t act, int64_t c_begin, int64_t c_end,
                            float *y, float *state_out);

/* Delta-rule gates (delta.gdn_gates). a, b [T, nv]; decay, dt_bias [nv]; g, beta [T, nv]:
 *   beta = sigmoid(b);  g = A * softplus(a + dt_bias),  A = -exp(decay) (DC_K_DECAY_A_LOG) or decay
 *   (DC_K_DECAY_NEG_EXP);  softplus(x) = log(1 + exp(x)), and x above 20.
 * Range: tokens [t_begin, t_end). */
void dc_k_gdn_gates_f32(const float *a, const float *b, const float *decay, const float *dt_bias,
                        int64_t nv, int32_t decay_form, int64_t t_begin, int64_t t_end, float *g,
                        float *beta);

/* The gated delta rule (delta.gated_delta_rule) token by token: the decode kernel, exact for any T.
 *   q, k      [T, nk, dk]  L2-normalized query and key heads (q is multiplied by `scale` here)
 *   v         [T, nv, dv]  values, nv = r * nk
 *   g, beta   [T, nv]      log-decay (<= 0) and write strength
 *   mapping   DC_K_HEADS_GROUPED or DC_K_HEADS_TILED (which key head value head h reads)
 *   state_in  [nv, dk, dv] S per value head (dv fastest)
 *   out       [T, nv, dv]  out[t, h] = S^T (scale q) after token t's update
 *   state_out [nv, dk, dv] S after the last token; may equal state_in (updated in place)
 * Per token and value head: S <- exp(g) S; delta = beta (v - S^T k); S <- S + k delta^T.
 * Range: value heads [head_begin, head_end); the call reads and writes only those heads' state. */
void dc_k_gated_delta_rule_recurrent_f32(const float *q, const float *k, const float *v,
                                         const float *g, const float *beta, int64_t T, int64_t nk,
                                         int64_t nv, int64_t dk, int64_t dv, int32_t mapping,
                                         float scale, const float *state_in, int64_t head_begin,
                                         int64_t head_end, float *out, float *state_out);

/* Scratch bytes of one dc_k_gated_delta_rule_chunked_f32 call; independent of T and the range. */
int64_t dc_k_gated_delta_rule_chunked_f32_scratch_bytes(int64_t dk, int64_t dv);

/* The same operation and arguments as the recurrent kernel, evaluated chunk by chunk
 * (DC_K_DELTA_RULE_CHUNK tokens) in the WY/UT form of spec §4.1: the prefill kernel. Per chunk it
 * forms the decay matrix with the mask applied before exp (only non-positive exponents), solves the
 * unit lower-triangular system for W and U by forward substitution, then updates the f32 state once
 * per chunk. A partial last chunk is handled exactly (no padding). Agrees with the recurrent kernel
 * up to rounding. Requires g <= 0 (what dc_k_gdn_gates_f32 produces); decay exponents are formed as
 * sums of g over the span they cover, not as differences of prefix sums, so fast decays lose no
 * accuracy to cancellation. On x86 it computes with subnormals flushed to zero (FTZ and DAZ, the
 * caller's MXCSR restored before it returns): Intel cores take a microcode assist per subnormal,
 * which fast-decaying heads make by the thousand. `scratch`:
 * dc_k_gated_delta_rule_chunked_f32_scratch_bytes(dk, dv) bytes. */
void dc_k_gated_delta_rule_chunked_f32(const float *q, const float *k, const float *v,
                                       const float *g, const float *beta, int64_t T, int64_t nk,
                                       int64_t nv, int64_t dk, int64_t dv, int32_t mapping,
                                       float scale, const float *state_in, int64_t head_begin,
                                       int64_t head_end, void *scratch, float *out,
                                       float *state_out);

/* Scratch bytes of one dc_k_gated_delta_net_f32 call over T tokens; independent of the range. */
int64_t dc_k_gated_delta_net_f32_scratch_bytes(int64_t T, int64_t dk, int64_t dv);

/* The Gated DeltaNet core fused (delta.gated_delta_net): causal conv1d + SiLU over the pre-conv
 * projection, the q | k | v split, L2 norms of q and k, the gates, and the gated delta rule.
 *   qkv         [T, C]      pre-conv mixed projection, C = 2 nk dk + nv dv, channels [q heads | k
 * heads | v heads], each head contiguous; token t's row at qkv + t qkv_stride (qkv_stride >= C: C
 * when dense, wider for a view into the columns of a merged projection's output) a, b        [T,
 * nv]     in_proj_a and in_proj_b projections, token t's at a + t a_stride and b + t b_stride (>=
 * nv) conv_weight [C, K]      conv taps, tap 0 the oldest; conv_state_in [K-1, C] oldest row first
 *   decay, dt_bias [nv]     as dc_k_gdn_gates_f32 (decay_form DC_K_DECAY_A_LOG or _NEG_EXP)
 *   mapping, scale          as dc_k_gated_delta_rule_recurrent_f32; l2_eps the L2-norm epsilon
 *   state_in    [nv, dk, dv]
 *   out         [T, nv, dv]
 * computes exactly dc_k_causal_conv1d_f32 (DC_K_ACT_SILU), then q = l2norm(q), k = l2norm(k) per
 * key head (x / sqrt(sum x^2 + l2_eps)), g and beta as dc_k_gdn_gates_f32, then the gated delta
 * rule; conv_state_out [K-1, C] and state_out [nv, dk, dv] get the new states and may equal
 * conv_state_in and state_in (updated in place). Range: KEY heads [kh_begin, kh_end). A call
 * computes every value head that reads these key heads (r = nv / nk of them: h / r == kh for
 * DC_K_HEADS_GROUPED, h mod nk == kh for DC_K_HEADS_TILED) and owns their outputs and delta states,
 * and the conv channels of its key heads' q and k and of its value heads' v (old and new conv
 * state). Value heads sharing a key head share its q/k conv channels, so they must be in one call
 * for the in-place conv state update to be race free; with r = 1 (Qwen3.5 0.8B/2B) key and value
 * heads are the same split. With T == 1 and dk <= 256 the call uses no scratch: per key head, q and
 * k live in registers and stack arrays, and each value head's v, g and beta are formed inside the
 * recurrent step. Otherwise it stages one head's q, k, v, g and beta in `scratch` and runs the
 * chunked (T > 1) or recurrent kernel on them: `scratch` holds
 * dc_k_gated_delta_net_f32_scratch_bytes(T, dk, dv) bytes. out must not overlap any input. */
void dc_k_gated_delta_net_f32(const float *qkv, int64_t qkv_stride, const float *a,
                              int64_t a_stride, const float *b, int64_t b_stride, int64_t T,
                              int64_t nk, int64_t nv, int64_t dk, int64_t dv,
                              const float *conv_weight, int64_t K, const float *conv_state_in,
                              const float *decay, const float *dt_bias, int32_t decay_form,
                              int32_t mapping, float scale, float l2_eps, const float *state_in,
                              int64_t kh_begin, int64_t kh_end, void *scratch, float *out,
                              float *conv_state_out, float *state_out);

/* The same with the delta-rule state stored in f16 (deltac compile --recurrent-state-type=f16):
 * the call widens each of its value heads' state to f32, computes exactly what
 * dc_k_gated_delta_net_f32 computes from that widened state, and writes state_out rounded to the
 * nearest f16 (ties to even) once, at the end of the call: out, conv_state_out and the f32 state
 * before rounding are bit for bit those of dc_k_gated_delta_net_f32. A decode step reads and writes
 * half the state's bytes. Same scratch size. */
void dc_k_gated_delta_net_f32_state_f16(const float *qkv, int64_t qkv_stride, const float *a,
                                        int64_t a_stride, const float *b, int64_t b_stride,
                                        int64_t T, int64_t nk, int64_t nv, int64_t dk, int64_t dv,
                                        const float *conv_weight, int64_t K,
                                        const float *conv_state_in, const float *decay,
                                        const float *dt_bias, int32_t decay_form, int32_t mapping,
                                        float scale, float l2_eps, const uint16_t *state_in,
                                        int64_t kh_begin, int64_t kh_end, void *scratch, float *out,
                                        float *conv_state_out, uint16_t *state_out);

/*===----------------------------------------------------------------------===*
 * Gated attention.
 *===----------------------------------------------------------------------===*/

/* Partial rotate-half RoPE (delta.rope with [T] positions).
 *   x [T, n, hd], positions [T], y [T, n, hd]. With half = rotary_dim / 2 (rotary_dim even,
 *   <= hd), p = positions[t] and f_i = theta^(-2i / rotary_dim), for i < half:
 *     y[i]        = x[i] cos(p f_i) - x[i + half] sin(p f_i)
 *     y[i + half] = x[i + half] cos(p f_i) + x[i] sin(p f_i)
 *   and y[j] = x[j] for j >= rotary_dim. Angles are formed and reduced in double, so the error does
 *   not grow with the position. Range: tokens [t_begin, t_end). y may equal x. */
void dc_k_rope_f32(const float *x, int64_t n, int64_t hd, const int32_t *positions,
                   int64_t rotary_dim, double theta, int64_t t_begin, int64_t t_end, float *y);

/* Causal grouped-query attention over a KV cache (delta.attention).
 *   q     [T, nh, hd];  k [T, nkv, hd];  v [T, nkv, hdv];  gate [T, nh, hdv] or NULL; nh is a
 *   multiple of nkv. q and k are already normed and rotated; scale is normally 1 / sqrt(hd).
 *   key_cache [nkv, S, hd], value_cache [nkv, S, hdv], holding `position` earlier tokens; the new
 *   keys and values are written at rows position .. position + T - 1 (position + T <= S).
 *   out [T, nh, hdv]: query head i reads kv head i / (nh / nkv); for token t the visible rows are
 *   0 .. position + t, p = softmax(scale q.K), o = sum p V (running-max softmax in f32), and
 *   out = o * sigmoid(gate) when a gate is given.
 * Range: query heads [head_begin, head_end). The call that owns the first query head of a group
 * (i mod (nh / nkv) == 0) writes that kv head's new cache rows; no call reads rows at or past
 * `position` from the cache (the new rows come from k and v), so calls on disjoint ranges never
 * race. Rows past position + T - 1 are never read. `scratch`: dc_k_attention_f32_scratch_bytes(hd,
 * hdv) bytes (prefill works on blocks of queries and keys there; a call with T < 4 does not touch
 * it and may pass NULL). */
int64_t dc_k_attention_f32_scratch_bytes(int64_t hd, int64_t hdv);

void dc_k_attention_f32(const float *q, const float *k, const float *v, const float *gate,
                        int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv, float scale,
                        float *key_cache, float *value_cache, int64_t S, int64_t position,
                        int64_t head_begin, int64_t head_end, void *scratch, float *out);

/* dc_k_attention_f32 over an f16 KV cache (delta.attention with f16 caches): the new keys and
 * values are stored rounded to nearest f16 (ties to even), and every visible row, the step's own
 * included, is read as that rounded value widened to f32, so the output is dc_k_attention_f32's
 * bit for bit on k and v rounded to f16 and the caches' values widened. `scratch` as for
 * dc_k_attention_f32, at every T (the rows are widened there). */
void dc_k_attention_f32_cache_f16(const float *q, const float *k, const float *v, const float *gate,
                                  int64_t T, int64_t nh, int64_t nkv, int64_t hd, int64_t hdv,
                                  float scale, uint16_t *key_cache, uint16_t *value_cache,
                                  int64_t S, int64_t position, int64_t head_begin, int64_t head_end,
                                  void *scratch, float *out);

/*===----------------------------------------------------------------------===*
 * Mixture of experts (delta.moe): softmax router, top-k, SwiGLU experts, optional shared expert.
 *   x [T, H]; router [E, H] f32; experts gate, up [E, I, H] and down [E, H, I] in the weight type
 *   of the function name; optional shared expert gate, up [Is, H] and down [H, Is] (same type) with
 *   its sigmoid gate vector shared_expert_gate [H] f32 (all four NULL and Is = 0 without one).
 *   Per token: p = softmax(router x); the top_k (<= E) experts by p (ties: lower index first); with
 *   `normalize` their weights are rescaled to sum to 1;
 *   y = sum_e p_e down_e(silu(gate_e x) * up_e x) + sigmoid(shared_expert_gate . x) * shared(x).
 * Range: tokens [t_begin, t_end). out [T, H] must not overlap x. For the block types H and I (and
 * Is) must be multiples of the group (32, 64 or 128). `scratch`:
 * dc_k_moe_f32_scratch_bytes(H, E, I, Is) bytes, one size for every weight type.
 *===----------------------------------------------------------------------===*/

int64_t dc_k_moe_f32_scratch_bytes(int64_t H, int64_t E, int64_t I, int64_t Is);

void dc_k_moe_f32_f32(const float *x, int64_t H, const float *router, int64_t E, const float *gate,
                      const float *up, const float *down, int64_t I, int64_t top_k,
                      int32_t normalize, const float *shared_gate, const float *shared_up,
                      const float *shared_down, const float *shared_expert_gate, int64_t Is,
                      int64_t t_begin, int64_t t_end, void *scratch, float *out);
void dc_k_moe_f32_f16(const float *x, int64_t H, const float *router, int64_t E,
                      const uint16_t *gate, const uint16_t *up, const uint16_t *down, int64_t I,
                      int64_t top_k, int32_t normalize, const uint16_t *shared_gate,
                      const uint16_t *shared_up, const uint16_t *shared_down,
                      const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                      void *scratch, float *out);
void dc_k_moe_f32_bf16(const float *x, int64_t H, const float *router, int64_t E,
                       const uint16_t *gate, const uint16_t *up, const uint16_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint16_t *shared_gate,
                       const uint16_t *shared_up, const uint16_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out);
void dc_k_moe_f32_q8_0(const float *x, int64_t H, const float *router, int64_t E,
                       const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                       const uint8_t *shared_up, const uint8_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out);
void dc_k_moe_f32_q4_0(const float *x, int64_t H, const float *router, int64_t E,
                       const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                       const uint8_t *shared_up, const uint8_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out);
void dc_k_moe_f32_q4_1(const float *x, int64_t H, const float *router, int64_t E,
                       const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                       int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                       const uint8_t *shared_up, const uint8_t *shared_down,
                       const float *shared_expert_gate, int64_t Is, int64_t t_begin, int64_t t_end,
                       void *scratch, float *out);
void dc_k_moe_f32_q4_0_g64(const float *x, int64_t H, const float *router, int64_t E,
                           const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                           int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                           const uint8_t *shared_up, const uint8_t *shared_down,
                           const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                           int64_t t_end, void *scratch, float *out);
void dc_k_moe_f32_q4_1_g64(const float *x, int64_t H, const float *router, int64_t E,
                           const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                           int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                           const uint8_t *shared_up, const uint8_t *shared_down,
                           const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                           int64_t t_end, void *scratch, float *out);
void dc_k_moe_f32_q4_0_g128(const float *x, int64_t H, const float *router, int64_t E,
                            const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                            int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                            const uint8_t *shared_up, const uint8_t *shared_down,
                            const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                            int64_t t_end, void *scratch, float *out);
void dc_k_moe_f32_q4_1_g128(const float *x, int64_t H, const float *router, int64_t E,
                            const uint8_t *gate, const uint8_t *up, const uint8_t *down, int64_t I,
                            int64_t top_k, int32_t normalize, const uint8_t *shared_gate,
                            const uint8_t *shared_up, const uint8_t *shared_down,
                            const float *shared_expert_gate, int64_t Is, int64_t t_begin,
                            int64_t t_end, void *scratch, float *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_KERNEL_ABI_H */
