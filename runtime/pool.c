/*===- pool.c - the thread pool the ops are split across ------------------===*
 *
 * One job at a time: the caller publishes (fn, context, n, granule) and bumps a job word holding a
 * generation and the number of parts; worker i (1 .. threads - 1) runs part i when i < parts, the
 * caller runs part 0 and then waits for the pending count to reach zero. Workers and the caller
 * spin briefly before sleeping, since a forward pass issues hundreds of short jobs back to back;
 * the sleep/wake handshakes use sequentially consistent atomics on both sides (a Dekker pattern),
 * so no wake-up is lost.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* Spin iterations (each a pause instruction) before a worker or the caller sleeps. */
#define DC_POOL_SPIN 20000

/* The job word: generation in the high 48 bits, number of parts in the low 16. */
#define DC_PARTS_BITS 16
#define DC_MAX_THREADS ((1 << DC_PARTS_BITS) - 1)

struct dc_pool;

typedef struct dc_worker {
  struct dc_pool *pool;
  int32_t index;
  pthread_t thread;
} dc_worker;

struct dc_pool {
  int32_t threads;
  int32_t spin;
  dc_worker *workers;
  int32_t started;

  pthread_mutex_t mutex;
  pthread_cond_t wake;
  pthread_cond_t done;

  _Atomic uint64_t job;     /* generation << 16 | parts */
  _Atomic int32_t pending;  /* worker parts of the current job not finished */
  _Atomic int32_t sleepers; /* workers waiting on `wake` */
  _Atomic int32_t caller_waiting;
  _Atomic int32_t stop;

  /* The current job; written before `job` is bumped, read by the workers that take part. */
  dc_task_fn fn;
  void *context;
  int64_t n;
  int64_t granule;
};

static inline void dc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

void dc_split_range(int64_t n, int64_t granule, int32_t parts, int32_t part, int64_t *begin,
                    int64_t *end) {
  if (granule < 1)
    granule = 1;
  const int64_t units = (n + granule - 1) / granule;
  int64_t b = units * part / parts * granule;
  int64_t e = part + 1 == parts ? n : units * (part + 1) / parts * granule;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}

static void dc_pool_run_part(dc_pool *pool, int32_t parts, int32_t part) {
  int64_t begin, end;
  dc_split_range(pool->n, pool->granule, parts, part, &begin, &end);
  if (begin < end)
    pool->fn(pool->context, begin, end, part);
}

static void *dc_worker_main(void *arg) {
  dc_worker *self = arg;
  dc_pool *pool = self->pool;
  /* Generation 0 is the pool's state before any job, so a worker that starts late still sees the
   * first job. */
  uint64_t seen = 0;
  for (;;) {
    uint64_t job = atomic_load_explicit(&pool->job, memory_order_acquire);
    for (int32_t i = 0; i < pool->spin && (job >> DC_PARTS_BITS) == seen; ++i) {
      dc_cpu_relax();
      job = atomic_load_explicit(&pool->job, memory_order_acquire);
    }
    if ((job >> DC_PARTS_BITS) == seen) {
      pthread_mutex_lock(&pool->mutex);
      atomic_fetch_add(&pool->sleepers, 1);
      while (((job = atomic_load(&pool->job)) >> DC_PARTS_BITS) == seen)
        pthread_cond_wait(&pool->wake, &pool->mutex);
      atomic_fetch_sub(&pool->sleepers, 1);
      pthread_mutex_unlock(&pool->mutex);
    }
    if (atomic_load(&pool->stop))
      return NULL;
    seen = job >> DC_PARTS_BITS;
    const int32_t parts = (int32_t)(job & DC_MAX_THREADS);
    if (self->index >= parts)
      continue;
    dc_pool_run_part(pool, parts, self->index);
    if (atomic_fetch_sub(&pool->pending, 1) == 1 && atomic_load(&pool->caller_waiting)) {
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_broadcast(&pool->done);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
}

/* Publishes a job word and wakes sleeping workers. */
static void dc_pool_publish(dc_pool *pool, int32_t parts) {
  uint64_t generation =
      (atomic_load_explicit(&pool->job, memory_order_relaxed) >> DC_PARTS_BITS) + 1;
  atomic_store(&pool->job, generation << DC_PARTS_BITS | (uint64_t)parts);
  /* C11 already orders this seq_cst store before the seq_cst load below; the fence is for
   * emulators that do not (qemu-aarch64 on an x86 host may let an stlr pass a later ldar), where
   * a lost wake-up would leave the caller waiting forever (docs/runtime.md). */
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load(&pool->sleepers) > 0) {
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
  }
}

static void dc_pool_stop(dc_pool *pool) {
  atomic_store(&pool->stop, 1);
  dc_pool_publish(pool, 0);
  for (int32_t i = 0; i < pool->started; ++i)
    pthread_join(pool->workers[i].thread, NULL);
}

dc_status *dc_pool_create(int32_t threads, dc_pool **out_pool) {
  if (threads < 1 || threads > DC_MAX_THREADS)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "thread count %d is not in [1, %d]",
                          (int)threads, DC_MAX_THREADS);
  dc_pool *pool = calloc(1, sizeof(dc_pool));
  if (!pool)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a thread pool");
  pool->threads = threads;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  /* Oversubscribed, a spinning thread only keeps the one it waits for off the CPU. */
  pool->spin = cpus > 0 && threads <= cpus ? DC_POOL_SPIN : 0;
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  atomic_init(&pool->job, 0);
  atomic_init(&pool->pending, 0);
  atomic_init(&pool->sleepers, 0);
  atomic_init(&pool->caller_waiting, 0);
  atomic_init(&pool->stop, 0);
  if (threads > 1) {
    pool->workers = calloc((size_t)threads - 1, sizeof(dc_worker));
    if (!pool->workers) {
      dc_pool_destroy(pool);
      return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a thread pool");
    }
  }
  for (int32_t i = 0; i + 1 < threads; ++i) {
    pool->workers[i].pool = pool;
    pool->workers[i].index = i + 1;
    int rc = pthread_create(&pool->workers[i].thread, NULL, dc_worker_main, &pool->workers[i]);
    if (rc != 0) {
      dc_pool_destroy(pool);
      return dc_status_make(DC_STATUS_INTERNAL, "cannot start worker thread %d of %d (error %d)",
                            (int)i + 2, (int)threads, rc);
    }
    pool->started = i + 1;
  }
  *out_pool = pool;
  return DC_OK;
}

void dc_pool_destroy(dc_pool *pool) {
  if (!pool)
    return;
  dc_pool_stop(pool);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->workers);
  free(pool);
}

int32_t dc_pool_threads(const dc_pool *pool) { return pool->threads; }

void dc_pool_run(dc_pool *pool, int32_t parts, int64_t n, int64_t granule, dc_task_fn fn,
                 void *context) {
  if (parts > pool->threads)
    parts = pool->threads;
  if (parts < 1)
    parts = 1;
  pool->fn = fn;
  pool->context = context;
  pool->n = n;
  pool->granule = granule;
  if (parts == 1) {
    dc_pool_run_part(pool, 1, 0);
    return;
  }
  atomic_store(&pool->pending, parts - 1);
  dc_pool_publish(pool, parts);
  dc_pool_run_part(pool, parts, 0);

  for (int32_t i = 0; i < pool->spin; ++i) {
    if (atomic_load_explicit(&pool->pending, memory_order_acquire) == 0)
      return;
    dc_cpu_relax();
  }
  if (atomic_load(&pool->pending) == 0)
    return;
  pthread_mutex_lock(&pool->mutex);
  atomic_store(&pool->caller_waiting, 1);
  atomic_thread_fence(memory_order_seq_cst); /* as in dc_pool_publish */
  while (atomic_load(&pool->pending) != 0)
    pthread_cond_wait(&pool->done, &pool->mutex);
  atomic_store(&pool->caller_waiting, 0);
  pthread_mutex_unlock(&pool->mutex);
}
