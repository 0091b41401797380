/*===- runtime_internal.h - what the runtime's files share ----------------===*
 *
 * Private to runtime/ (and its tests): status construction, aligned and page allocations, the
 * thread pool, the execution context dc_exec that generated code passes to every dc_op_* function,
 * and the weight-store reader.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_RUNTIME_INTERNAL_H
#define DELTAC_RUNTIME_INTERNAL_H

#include "deltac/program.h"
#include "deltac/runtime.h"
#include "deltac/weight_store.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the weight store and --dump-logits are little-endian; this runtime reads them natively"
#endif

/*---- Status ----------------------------------------------------------------------------------*/

/* A new status with a printf-formatted message; never NULL (a static out-of-memory status when the
 * allocation fails). The caller owns it. */
dc_status *dc_status_make(dc_status_code code, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
dc_status *dc_status_vmake(dc_status_code code, const char *format, va_list args);

/*---- CPU features ----------------------------------------------------------------------------*/

/* DC_OK if this CPU has every feature of `features` (a dc_program.cpu_features list; NULL or ""
 * for none), else a DC_STATUS_MISMATCH status naming `target` and the missing features
 * (cpu_features.c). */
dc_status *dc_cpu_check(const char *target, const char *features);

/*---- Memory ----------------------------------------------------------------------------------*/

/* `bytes` (> 0 or not) of 64-byte aligned heap memory, uninitialized; free with free(). NULL when
 * out of memory. */
void *dc_alloc_aligned(size_t bytes);

/* `bytes` of zeroed, page-aligned anonymous memory whose pages are committed on first touch; free
 * with dc_pages_free(p, bytes). NULL when out of memory. */
void *dc_pages_alloc(size_t bytes);
void dc_pages_free(void *pages, size_t bytes);
/* Makes pages from dc_pages_alloc zero again (and returns them to the system). */
void dc_pages_zero(void *pages, size_t bytes);

/*---- Thread pool -----------------------------------------------------------------------------*/

/* Runs the range [begin, end) of a task on thread `thread` (0 is the calling thread). */
typedef void (*dc_task_fn)(void *context, int64_t begin, int64_t end, int32_t thread);

typedef struct dc_pool dc_pool;

/* A pool of threads - 1 workers; the thread calling dc_pool_run is the threads-th. Workers spin
 * briefly for work, then sleep on a condition variable; they never spin when the pool has more
 * threads than the machine has online CPUs. */
dc_status *dc_pool_create(int32_t threads, dc_pool **out_pool);
void dc_pool_destroy(dc_pool *pool);
int32_t dc_pool_threads(const dc_pool *pool);

/* Cuts [0, n) into `parts` (1 .. threads) ranges as even as whole granules allow and runs range i
 * on thread i, the caller running range 0; returns when every range is done. Not reentrant: one
 * caller at a time, and `fn` must not call dc_pool_run. */
void dc_pool_run(dc_pool *pool, int32_t parts, int64_t n, int64_t granule, dc_task_fn fn,
                 void *context);

/* The range of part `part` of `parts` of [0, n) in whole granules (the last part takes the rest).
 */
void dc_split_range(int64_t n, int64_t granule, int32_t parts, int32_t part, int64_t *begin,
                    int64_t *end);

/* As dc_pool_run, but the ranges are cut in proportion to the threads' speeds as measured on the
 * earlier balanced jobs. For tasks whose results do not depend on where the cuts fall. */
void dc_pool_run_balanced(dc_pool *pool, int32_t parts, int64_t n, int64_t granule, dc_task_fn fn,
                          void *context);

/* A claimed job's task: runs on thread `thread` and takes its ranges of [0, n) one at a time from
 * dc_pool_claim(claimer, ...) until it returns 0 (a kernel_abi.h dc_k_claim_fn). */
typedef void (*dc_claim_task_fn)(void *context, void *claimer, int32_t thread);

/* Work claiming: [0, n) is cut in whole granules into `parts` home ranges as dc_pool_run_balanced
 * cuts it, and each thread claims its own range piece by piece from the front; a thread whose
 * range is used up claims pieces from the back of another's. So no thread waits at the end of the
 * job for one that drew a slower share of the machine (docs/runtime.md, "Work claiming"). Every
 * granule goes to exactly one claim. The threads' speeds are learnt as for balanced jobs, from
 * the granules each claimed and its time. */
void dc_pool_run_claimed(dc_pool *pool, int32_t parts, int64_t n, int64_t granule,
                         dc_claim_task_fn fn, void *context);

/* The claimer's next range of the current claimed job: returns 1 and [*begin, *end), or 0 when
 * every granule has been claimed. Only the thread the claimer was given to may call it. */
int32_t dc_pool_claim(void *claimer, int64_t *begin, int64_t *end);

/* bounds[0 .. parts]: [0, n) cut in whole granules, part i's share in proportion to weights[i]
 * (part i is bounds[i] .. bounds[i + 1], possibly empty; the last part takes the rest). */
void dc_split_weighted(int64_t n, int64_t granule, int32_t parts, const double *weights,
                       int64_t *bounds);

/* After a balanced job whose part i (bounds as above) took seconds[i]: moves each speed[i] a step
 * towards the speed its part showed (relative to the parts' mean cost per unit), then scales the
 * speeds to mean 1 within a factor of 2. No change unless every part did work and was timed. */
void dc_pool_update_speeds(int32_t parts, const int64_t *bounds, const double *seconds,
                           double *speed);

/*---- Execution context -----------------------------------------------------------------------*/

/* Cost units (about one multiply-add or one float moved) a part of a split op gets at least; an op
 * with less work than this in total runs on the calling thread alone. */
#define DC_EXEC_DEFAULT_MIN_WORK 32768

struct dc_exec {
  dc_pool *pool;
  int32_t threads;
  int64_t min_work;
  void **scratch; /* threads buffers of scratch_bytes, DC_K_SCRATCH_ALIGNMENT aligned */
  int64_t scratch_bytes;
  dc_status *error; /* the first failure of an op since the last dc_exec_take_error */
};

/* A context with a pool of `threads` threads (>= 1) and no scratch yet. Owned by the caller. */
dc_status *dc_exec_create(int32_t threads, dc_exec **out_exec);
void dc_exec_destroy(dc_exec *exec);

/* Tests set 0 so that every op is split across all threads however small. */
void dc_exec_set_min_work(dc_exec *exec, int64_t min_work);

/* Records an op's failure (the first one wins); the op then returns without writing its outputs.
 * The session reports it after the entry point returns. */
void dc_exec_fail(dc_exec *exec, dc_status_code code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Hands the recorded failure (or NULL) to the caller and clears it. */
dc_status *dc_exec_take_error(dc_exec *exec);

/* Makes every thread's scratch at least `bytes`; called on the calling thread before a split.
 * Returns 0 (and records a failure) when out of memory. */
int dc_exec_reserve_scratch(dc_exec *exec, int64_t bytes);

/* Runs fn over [0, n): split into as many parts as the pool has threads, or fewer so that each part
 * has at least min_work of n * cost_per_unit; granule keeps the cuts on multiples of it. */
void dc_exec_parallel(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                      dc_task_fn fn, void *context);
/* As dc_exec_parallel, with the parts cut by dc_pool_run_balanced. */
void dc_exec_parallel_balanced(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                               dc_task_fn fn, void *context);
/* As dc_exec_parallel_balanced, by dc_pool_run_claimed (a single part: one claim of [0, n)). */
void dc_exec_parallel_claimed(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                              dc_claim_task_fn fn, void *context);
/* A range task over claimed pieces: fn runs once per piece a thread claims, so it may run several
 * times on one thread, on ranges in any order. For tasks whose outputs do not depend on the cuts.
 */
void dc_exec_parallel_pieces(dc_exec *exec, int64_t n, int64_t granule, double cost_per_unit,
                             dc_task_fn fn, void *context);

/*---- Model ---------------------------------------------------------------------------------*/

/* The weight pointers in program order, as the entry points take them. Owned by the model. */
void *const *dc_model_weight_table(const dc_model *model);

/*---- Weight store ----------------------------------------------------------------------------*/

/* A validated weight store in memory. */
typedef struct dc_ws_file {
  const uint8_t *base; /* the whole file (read-only), or the embedded bytes */
  size_t size;
  void *mapping;        /* what dc_ws_close unmaps (NULL for embedded bytes) */
  size_t mapping_bytes; /* its length */
  dc_ws_header header;
  dc_ws_tensor *tensors; /* owned copy of the table (the file's table need not be aligned) */
  const char *strings;   /* into base */
} dc_ws_file;

/* Brings the store at `path` into memory as `load` says (dc_weight_load, runtime.h) and validates
 * it as import/WeightStore.cpp does; on failure nothing stays mapped and the message names the
 * file. */
dc_status *dc_ws_open(const char *path, dc_weight_load load, dc_ws_file *out_file);
/* Validates a store already in memory (embedded in the executable); `label` names it in errors. The
 * bytes must outlive the file and are never freed. */
dc_status *dc_ws_open_memory(const char *label, const void *data, size_t size,
                             dc_ws_file *out_file);
void dc_ws_close(dc_ws_file *file);

/* The entry named `name` (binary search), or NULL. */
const dc_ws_tensor *dc_ws_find(const dc_ws_file *file, const char *name);

/* Name of a dtype ("f32", "bf16", ...; "unknown" past the enum). */
const char *dc_ws_dtype_name(uint32_t dtype);

/* Values per block of a block-quantized dtype (32 for the GGML blocks, 64 or 128 for deltac's int4
 * groups); 1 for the float dtypes and for unknown values. */
int64_t dc_ws_dtype_group(uint32_t dtype);

/* 1 for the packed dtypes (DC_WS_Q8_0_PACKED, DC_WS_Q4_0_PACKED, DC_WS_Q4_0_X8), which only the
 * int8-activation kernels and the embedding read. */
static inline int dc_ws_dtype_is_packed(uint32_t dtype) {
  return dtype == DC_WS_Q8_0_PACKED || dtype == DC_WS_Q4_0_PACKED || dtype == DC_WS_Q4_0_X8;
}

/* Stored bytes of a tensor of `rank` dims in `dtype`; 0 when the shape does not fit the dtype (a
 * block-quantized row that is not a multiple of its group, a zero dim) or the size overflows. */
uint64_t dc_ws_stored_bytes(uint32_t dtype, const uint64_t *dims, uint32_t rank);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_RUNTIME_INTERNAL_H */
