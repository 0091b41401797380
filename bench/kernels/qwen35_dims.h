/* The sizes `deltac compile` specializes the kernels to for Qwen3.5-0.8B and 2B
 * (codegen/KernelSpecializer.cpp: the row lengths of every linear, norm and LM head and the head
 * dimensions of the delta rule and attention), for deltac-kernel-bench-specialized:
 *   0.8B: hidden 1024, intermediate 3584, GDN value width 16 x 128 = 2048, attention 8 x 256 = 2048
 *   2B:   hidden 2048, intermediate 6144
 *   both: delta-rule head dim 128, attention head dim 256 */
#define DC_MODEL_DIMS(X, s) X(s, 128) X(s, 256) X(s, 1024) X(s, 2048) X(s, 3584) X(s, 6144)
