/*===- bandwidth.c - the machine's memory read bandwidth -------------------===*
 *
 * Reads a 1 GiB buffer (far larger than any cache) with 1..N threads, each summing its own
 * contiguous slice with wide loads, and prints the best of several passes in GB/s as JSON:
 *   {"threads": [1, 2], "read_gb_s": [x, y]}
 * Decode of a language model streams its weights once per token, so this is its speed limit.
 * The buffer sits on transparent huge pages where the kernel gives them (2 MiB aligned,
 * madvise(MADV_HUGEPAGE)), as the deltac runtime holds its weights (docs/runtime.md, "Model"):
 * on base pages the probe read 7-12% slower on the Zen 4 VM (docs/perf-log.md, "Weights on huge
 * pages"), which would flatter a runtime on huge pages.
 * Build: cc -O2 -march=native -pthread bandwidth.c -o bandwidth
 *===----------------------------------------------------------------------===*/

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BYTES ((size_t)1 << 30)
#define PASSES 5

typedef struct {
  const uint64_t *begin;
  size_t words;
  uint64_t sum;
} slice;

static void *read_slice(void *arg) {
  slice *s = arg;
  /* Eight independent accumulators so the loads, not the adds, set the pace; the compiler turns
   * this into wide vector loads. */
  uint64_t acc[8] = {0};
  for (size_t i = 0; i + 8 <= s->words; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] ^= s->begin[i + j];
  uint64_t sum = 0;
  for (int j = 0; j < 8; ++j)
    sum ^= acc[j];
  s->sum = sum;
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  int max_threads = argc > 1 ? atoi(argv[1]) : 2;
  if (max_threads < 1 || max_threads > 64) {
    fprintf(stderr, "bandwidth: thread count must be 1..64\n");
    return 2;
  }
  uint64_t *buffer = aligned_alloc((size_t)2 << 20, BYTES);
  if (!buffer) {
    fprintf(stderr, "bandwidth: cannot allocate 1 GiB\n");
    return 1;
  }
#ifdef MADV_HUGEPAGE
  (void)madvise(buffer, BYTES, MADV_HUGEPAGE); /* advice only */
#endif
  memset(buffer, 1, BYTES); /* commit every page before timing */
  printf("{\"threads\": [");
  for (int t = 1; t <= max_threads; ++t)
    printf("%s%d", t > 1 ? ", " : "", t);
  printf("], \"read_gb_s\": [");
  uint64_t check = 0;
  for (int threads = 1; threads <= max_threads; ++threads) {
    double best = 0;
    for (int pass = 0; pass < PASSES; ++pass) {
      pthread_t ids[64];
      slice slices[64];
      size_t words = BYTES / 8 / (size_t)threads;
      double start = now();
      for (int i = 0; i < threads; ++i) {
        slices[i] = (slice){buffer + (size_t)i * words, words, 0};
        pthread_create(&ids[i], NULL, read_slice, &slices[i]);
      }
      for (int i = 0; i < threads; ++i) {
        pthread_join(ids[i], NULL);
        check ^= slices[i].sum;
      }
      double gbs = (double)(words * 8 * (size_t)threads) / (now() - start) / 1e9;
      if (gbs > best)
        best = gbs;
    }
    printf("%s%.2f", threads > 1 ? ", " : "", best);
  }
  printf("]}\n");
  free(buffer);
  return check == 12345 ? 3 : 0; /* keep the sums alive */
}
