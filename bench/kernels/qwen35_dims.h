/* The sizes `deltac compile` specializes the kernels to for Qwen3.5-0.8B and 2B with float
 * activations (codegen/KernelSpecializer.cpp), for deltac-kernel-bench-specialized:
 *   rows:  0.8B hidden 1024, intermediate 3584, GDN value width 16 x 128 = 2048, attention
 *          8 x 256 = 2048; 2B hidden 2048, intermediate 6144
 *   norms: hidden 1024 / 2048, delta-rule head dim 128, attention head dim 256
 *   delta rule: dk = dv = 128
 * (With --act-quant=int8 the quantized linears take the _q8act kernels and the row list is empty.) */
#define DC_MODEL_ROW_DIMS(X, s) X(s, 1024) X(s, 2048) X(s, 3584) X(s, 6144)
#define DC_MODEL_NORM_DIMS(X, s) X(s, 128) X(s, 256) X(s, 1024) X(s, 2048)
#define DC_MODEL_KEY_DIMS(X, s) X(s, 128)
#define DC_MODEL_VALUE_DIMS(X, s) X(s, 128)
