/* kernel_insns: runs one int8-activation linear kernel of an aarch64 kernel library REPS times, for
 * counting its guest instructions under qemu-user with insn_count.c (no Arm hardware needed).
 *
 * Build (LIB: targets/portable/libDeltacKernels_arm64{,_dotprod,_i8mm}.a of a build tree):
 *   clang-22 --target=aarch64-linux-gnu -fuse-ld=lld -O2 -I codegen/include \
 *     bench/arm64/kernel_insns.c LIB -lm -o kernel_insns
 *   cc -O2 -shared -fPIC bench/arm64/insn_count.c -o insn_count.so
 * Run:
 *   qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu -plugin ./insn_count.so,out=FILE \
 *     ./kernel_insns KERNEL T REPS [K N]
 * KERNEL: q8_0 | q4_0 | q8_0_packed | q4_0_packed (dc_k_linear_q8act_<KERNEL>); K = N = 1024 by
 * default. FILE then holds "insns N". Start-up and set-up (random weights and activations) cost the
 * same for any REPS, so (insns(REPS = b) - insns(REPS = a)) / (b - a) is the count of one call;
 * divided by the weight bytes (printed on stdout) it gives instructions per weight byte. E.g.
 *   for r in 2 6; do qemu-aarch64 ... -plugin ./insn_count.so,out=/tmp/n$r ./kernel_insns q4_0 1 $r;
 *   done; echo $(( ($(cut -d' ' -f2 /tmp/n6) - $(cut -d' ' -f2 /tmp/n2)) / 4 ))
 * The weights are random codes with f16 scales in [0.5, 1), the activations random in (-1, 1).
 */
#include "deltac/kernel_abi.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*linear_fn)(const float *, int64_t, int64_t, const uint8_t *, int64_t, int64_t,
                          int64_t, void *, float *);

static uint32_t state = 12345u;
static uint32_t next(void) {
  state = state * 1664525u + 1013904223u;
  return state >> 8;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s q8_0|q4_0|q8_0_packed|q4_0_packed T REPS [K N]\n", argv[0]);
    return 2;
  }
  const char *kernel = argv[1];
  const int64_t T = atoll(argv[2]), reps = atoll(argv[3]);
  const int64_t K = argc > 4 ? atoll(argv[4]) : 1024, N = argc > 5 ? atoll(argv[5]) : 1024;
  const int q4 = strncmp(kernel, "q4_0", 4) == 0, packed = strstr(kernel, "packed") != NULL;
  linear_fn fn = packed ? (q4 ? dc_k_linear_q8act_q4_0_packed : dc_k_linear_q8act_q8_0_packed)
                        : (q4 ? dc_k_linear_q8act_q4_0 : dc_k_linear_q8act_q8_0);
  const int64_t blocks = K / 32, block_bytes = q4 ? 18 : 34, row_bytes = blocks * block_bytes;
  uint8_t *w = malloc((size_t)(N * row_bytes));
  for (int64_t i = 0; i < N * row_bytes; ++i)
    w[i] = (uint8_t)next();
  /* Valid scales, f16 0x3800 .. 0x3BFF: GGML blocks start with theirs, packed rows end with K / 32
   * of them after the codes. */
  for (int64_t r = 0; r < N; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t *s = packed ? w + r * row_bytes + (q4 ? K / 2 : K) + 2 * b
                          : w + r * row_bytes + b * block_bytes;
      const uint16_t h = (uint16_t)(0x3800 | (next() & 0x3FF));
      s[0] = (uint8_t)h, s[1] = (uint8_t)(h >> 8);
    }
  float *x = malloc((size_t)(T * K) * sizeof(float)), *y = malloc((size_t)(T * N) * sizeof(float));
  for (int64_t i = 0; i < T * K; ++i)
    x[i] = (float)next() / (float)(1u << 23) - 1.0f;
  void *scratch = aligned_alloc(64, (size_t)((dc_k_q8act_scratch_bytes(T, K) + 63) / 64 * 64));
  for (int64_t i = 0; i < reps; ++i)
    fn(x, T, K, w, N, 0, N, scratch, y);
  double check = 0;
  for (int64_t i = 0; i < T * N; ++i)
    check += y[i];
  printf("%s T=%lld K=%lld N=%lld weight_bytes=%lld check=%g\n", kernel, (long long)T,
         (long long)K, (long long)N, (long long)(N * row_bytes), check);
  return 0;
}
