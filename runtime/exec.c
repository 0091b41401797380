/*===- exec.c - the execution context passed to every dc_op_* function ----===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *dc_alloc_aligned(size_t bytes) {
  void *p = NULL;
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded < bytes)
    return NULL;
  if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
    return NULL;
  return p;
}

void *dc_pages_alloc(size_t bytes) {
  if (bytes == 0)
    bytes = 1;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void dc_pages_free(void *pages, size_t bytes) {
  if (pages)
    munmap(pages, bytes ? bytes : 1);
}

void dc_pages_zero(void *pages, size_t bytes) {
  /* A private anonymous mapping reads as zero again after MADV_DONTNEED. */
  if (pages && bytes && madvise(pages, bytes, MADV_DONTNEED) != 0)
    memset(pages, 0, bytes);
}

dc_status *dc_exec_create(int32_t threads, dc_exec **out_exec) {
  dc_exec *exec = calloc(1, sizeof(dc_exec));
  if (!exec)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a session");
  exec->threads = threads;
  exec->min_work = DC_EXEC_DEFAULT_MIN_WORK;
  exec->scratch = calloc((size_t)(threads > 0 ? threads : 1), sizeof(void *));
  if (!exec->scratch) {
    free(exec);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a session");
  }
  dc_status *status = dc_pool_create(threads, &exec->pool);
  if (status) {
    free(exec->scratch);
    free(exec);
    return status;
  }
  *out_exec = exec;
  return DC_OK;
}

void dc_exec_destroy(dc_exec *exec) {
  if (!exec)
    return;
  dc_pool_destroy(exec->pool);
  for (int32_t i = 0; i < exec->threads; ++i)
    free(exec->scratch[i]);
  free(exec->scratch);
  dc_status_free(exec->error);
  free(exec);
}

void dc_exec_set_min_work(dc_exec *exec, int64_t min_work) { exec->min_work = min_work; }

void dc_exec_fail(dc_exec *exec, dc_status_code code, const char *format, ...) {
  if (exec->error)
    return;
  va_list args;
  va_start(args, format);
  exec->error = dc_status_vmake(code, format, args);
  va_end(args);
}

dc_status *dc_exec_take_error(dc_exec *exec) {
  dc_status *error = exec->error;
  exec->error = NULL;
  return error;
}

int dc_exec_reserve_scratch(dc_exec *exec, int64_t bytes) {
  if (bytes <= exec->scratch_bytes)
    return 1;
  /* Grow generously so a sequence of slightly larger requests reallocates rarely. */
  int64_t want = exec->scratch_bytes * 2 > bytes ? exec->scratch_bytes * 2 : bytes;
  for (int32_t i = 0; i < exec->threads; ++i) {
    free(exec->scratch[i]);
    exec->scratch[i] = NULL;
  }
  exec->scratch_bytes = 0;
  for (int32_t i = 0; i < exec->threads; ++i) {
    exec->scratch[i] = dc_alloc_aligned((size_t)want);
    if (!exec->scratch[i]) {
      for (int32_t j = 0; j < i; ++j) {
        free(exec->scratch[j]);
        exec->scratch[j] = NULL;
      }
      dc_exec_fail(exec, DC_STATUS_OUT_OF_MEMORY,
                   "out of memory allocating %lld bytes of kernel scratch for %d threads",
                   (long long)want, (int)exec->threads);
      return 0;
    }
  }
  exec->scratch_bytes = want;
  return 1;
}

/* How many threads a split of n units (cut on multiples of granule) gets: all, or fewer so that
 * each part has at least min_work of n * cost_per_unit, and no more than there are granules. */
static int64_t dc_exec_parts(const dc_exec *exec, int64_t n, int64_t granule,
                             double cost_per_unit) {
  const int64_t units = (n + granule - 1) / granule;
  int64_t parts = exec->threads;
  if (exec->min_work > 0) {
    double total = (double)n * (cost_per_unit > 0 ? cost_per_unit : 1.0);
    double by_work = total / (double)exec->min_work;
    if (by_work < (double)parts)
      parts = by_work < 1.0 ? 1 : (int64_t)by_work;
  }
  return parts > units ? units : parts;
}

static void dc_exec_split(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                          dc_task_fn fn, void *context, int balanced) {
  if (n <= 0)
    return;
  if (granule < 1)
    granule = 1;
  const int64_t parts = dc_exec_parts(exec, n, granule, cost_per_unit);
  if (parts <= 1) {
    fn(context, 0, n, 0);
    return;
  }
  if (balanced)
    dc_pool_run_balanced(exec->pool, (int32_t)parts, n, granule, fn, context);
  else
    dc_pool_run(exec->pool, (int32_t)parts, n, granule, fn, context);
}

void dc_exec_parallel(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                      dc_task_fn fn, void *context) {
  dc_exec_split(exec, n, granule, cost_per_unit, fn, context, 0);
}

void dc_exec_parallel_balanced(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                               dc_task_fn fn, void *context) {
  dc_exec_split(exec, n, granule, cost_per_unit, fn, context, 1);
}

typedef struct {
  dc_task_fn fn;
  void *context;
} dc_exec_ranges;

/* A claimed job's task that runs a range task on each range it claims. */
static void dc_exec_claim_ranges(void *context, void *claimer, int32_t thread) {
  const dc_exec_ranges *ranges = context;
  int64_t begin, end;
  while (dc_pool_claim(claimer, &begin, &end))
    ranges->fn(ranges->context, begin, end, thread);
}

void dc_exec_parallel_pieces(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                             dc_task_fn fn, void *context) {
  dc_exec_ranges ranges = {fn, context};
  dc_exec_parallel_claimed(exec, n, granule, cost_per_unit, dc_exec_claim_ranges, &ranges);
}

void dc_exec_parallel_claimed(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                              dc_claim_task_fn fn, void *context) {
  if (n <= 0)
    return;
  if (granule < 1)
    granule = 1;
  dc_pool_run_claimed(exec->pool, (int32_t)dc_exec_parts(exec, n, granule, cost_per_unit), n,
                      granule, fn, context);
}
