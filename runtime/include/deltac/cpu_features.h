/*===- deltac/cpu_features.h - the CPU features a program may require -----===*
 *
 * A program compiled for one target runs instructions that older CPUs of its architecture lack
 * (AVX2, AVX-512, AVX-VNNI, the Arm dot products); run there, it would die with SIGILL somewhere in
 * its first kernel. So `deltac compile` records in the program table the features its target
 * implies (dc_program.cpu_features, a comma-separated list of the names below), and the runtime
 * checks them against the CPU before it runs anything (runtime/cpu_features.c). One list serves
 * both sides: codegen/TargetInfo.cpp records only these names, the runtime knows how to test each.
 *
 * x86-64: X(name, CPUID leaf, subleaf, register (0 EAX, 1 EBX, 2 ECX, 3 EDX), bit, the XCR0 bits
 * the OS must enable for the feature's registers). These are the vector extensions the x86 targets
 * use and the scalar ones of x86-64-v3. AMX is not listed: the kernels ask Linux for the tile state
 * at run time and fall back to AVX-512 where it is refused (targets/portable/kernels/linear_amx.h).
 * LLVM's feature names (the same as clang's -m flags without the -m).
 *
 * AArch64 (Linux): X(name, auxiliary vector entry (1 AT_HWCAP, 2 AT_HWCAP2), bit).
 *
 * Only preprocessor definitions: C and C++ include it.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_CPU_FEATURES_H
#define DELTAC_CPU_FEATURES_H

#define DC_XCR0_AVX 0x6u     /* SSE and AVX state */
#define DC_XCR0_AVX512 0xE6u /* and the opmask and upper ZMM state */

#define DC_X86_CPU_FEATURES(X)                                                                     \
  X("avx", 1, 0, 2, 28, DC_XCR0_AVX)                                                               \
  X("fma", 1, 0, 2, 12, DC_XCR0_AVX)                                                               \
  X("f16c", 1, 0, 2, 29, DC_XCR0_AVX)                                                              \
  X("movbe", 1, 0, 2, 22, 0)                                                                       \
  X("lzcnt", 0x80000001u, 0, 2, 5, 0)                                                              \
  X("bmi", 7, 0, 1, 3, 0)                                                                          \
  X("bmi2", 7, 0, 1, 8, 0)                                                                         \
  X("avx2", 7, 0, 1, 5, DC_XCR0_AVX)                                                               \
  X("avxvnni", 7, 1, 0, 4, DC_XCR0_AVX)                                                            \
  X("avx512f", 7, 0, 1, 16, DC_XCR0_AVX512)                                                        \
  X("avx512dq", 7, 0, 1, 17, DC_XCR0_AVX512)                                                       \
  X("avx512ifma", 7, 0, 1, 21, DC_XCR0_AVX512)                                                     \
  X("avx512cd", 7, 0, 1, 28, DC_XCR0_AVX512)                                                       \
  X("avx512bw", 7, 0, 1, 30, DC_XCR0_AVX512)                                                       \
  X("avx512vl", 7, 0, 1, 31, DC_XCR0_AVX512)                                                       \
  X("avx512vbmi", 7, 0, 2, 1, DC_XCR0_AVX512)                                                      \
  X("avx512vbmi2", 7, 0, 2, 6, DC_XCR0_AVX512)                                                     \
  X("avx512vnni", 7, 0, 2, 11, DC_XCR0_AVX512)                                                     \
  X("avx512bitalg", 7, 0, 2, 12, DC_XCR0_AVX512)                                                   \
  X("avx512vpopcntdq", 7, 0, 2, 14, DC_XCR0_AVX512)                                                \
  X("avx512fp16", 7, 0, 3, 23, DC_XCR0_AVX512)                                                     \
  X("avx512bf16", 7, 1, 0, 5, DC_XCR0_AVX512)

#define DC_ARM64_CPU_FEATURES(X)                                                                   \
  X("dotprod", 1, 20)                                                                              \
  X("i8mm", 2, 13)                                                                                 \
  X("bf16", 2, 14)

#endif /* DELTAC_CPU_FEATURES_H */
