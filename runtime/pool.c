/*===- pool.c - the thread pool the ops are split across ------------------===*
 *
 * One job at a time: the caller publishes (fn, context, n, granule) and bumps a job word holding a
 * generation and the number of parts; worker i (1 .. threads - 1) runs part i when i < parts, the
 * caller runs part 0 and then waits for the pending count to reach zero. Workers and the caller
 * spin briefly before sleeping, since a forward pass issues hundreds of short jobs back to back;
 * the sleep/wake handshakes use sequentially consistent atomics on both sides (a Dekker pattern),
 * so no wake-up is lost.
 *
 * A balanced job (dc_pool_run_balanced) cuts the range in proportion to each thread's measured
 * speed instead of evenly: every part is timed, and after the job the caller moves each thread's
 * speed a step towards the one its part showed (dc_pool_update_speeds). On a VM whose two vCPUs
 * run at different speeds for seconds at a time, the faster one then takes more rows, so it no
 * longer waits for the slower one at the end of every decode GEMV (docs/runtime.md).
 *
 * A claimed job (dc_pool_run_claimed) starts from the same cuts, but the threads take their ranges
 * piece by piece through one atomic word per part, front << 32 | back in granules: the owner claims
 * a quarter of what is left from the front, and a thread whose own range is used up claims half of
 * what is left from the back of another's (at least a granule each time). The speeds that cut the
 *next job are then learnt from the granules each thread claimed in its time. A worker only counts
 *once it is inside the job (a compare-and-swap on the claim state that the caller's generation and
 *an open job let through): when the caller has claimed the last piece it closes the job and waits
 *only for the workers inside, so a worker that has not woken yet, or lost its CPU to another
 *process, holds nothing up. It skips the job when it comes to it.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Spin iterations (each a pause instruction) before a worker or the caller sleeps. */
#define DC_POOL_SPIN 20000

/* How far one balanced job moves a thread's speed towards the one it showed: about the last 8 jobs
 * count (a decode step of the 0.8B has about 100). */
#define DC_POOL_BALANCE_RATE 0.125
/* Speeds stay within this factor of the mean, so one preempted part cannot starve a thread. */
#define DC_POOL_BALANCE_LIMIT 2.0

/* An owner's claim takes this fraction of what is left of its range (at least a granule): few
 * claims while the range is long, pieces of a granule or two at its end. A thief takes half of what
 * is left of another's: beside a busy process, whose CPU the worker shares, the caller then steals
 * the absent worker's columns in fewer, longer pieces (each starts without the prefetch a piece
 * runs ahead of itself): 0.8B int4 decode +6.8% there, the same on an idle machine. */
#define DC_POOL_CLAIM_DIVISOR 4

/* The job word: generation in the high 48 bits, then a flag for claimed jobs, then the number of
 * parts in the low 15. */
#define DC_PARTS_BITS 16
#define DC_CLAIMED_JOB ((uint64_t)1 << 15)
#define DC_MAX_THREADS ((1 << 15) - 1)

/* The claim state of a claimed job: the low 32 bits of its generation, then DC_CLAIMS_CLOSED,
 * then the number of workers inside it. */
#define DC_CLAIMS_CLOSED ((uint64_t)1 << 31)
#define DC_CLAIMS_INSIDE (DC_CLAIMS_CLOSED - 1)

struct dc_pool;

/* Part `part` of a claimed job: its unclaimed granules, and what its thread claimed. One cache
 * line each, so that the owners' claims do not contend. */
typedef struct dc_claimer {
  _Atomic uint64_t range; /* front << 32 | back, in granules */
  struct dc_pool *pool;
  int32_t part;
  int64_t claimed; /* rows claimed by this part's thread in the current job */
} __attribute__((aligned(64))) dc_claimer;

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
  int balanced;    /* the parts are bounds[i] .. bounds[i + 1], and each is timed */
  dc_claim_task_fn claim_fn; /* non-NULL for a claimed job: fn is unused */
  int32_t claim_parts;
  _Atomic uint64_t claim_state; /* generation << 32 | DC_CLAIMS_CLOSED | workers inside */
  dc_claimer *claimers; /* threads, for claimed jobs */
  int64_t *bounds; /* threads + 1 */
  double *seconds; /* per thread: its part of the current balanced job; written before `pending` */
  double *speed;   /* per thread: relative speed for balanced jobs, mean 1 */
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

void dc_split_weighted(int64_t n, int64_t granule, int32_t parts, const double *weights,
                       int64_t *bounds) {
  if (granule < 1)
    granule = 1;
  const int64_t units = (n + granule - 1) / granule;
  double total = 0.0;
  for (int32_t i = 0; i < parts; ++i)
    total += weights[i] > 0.0 ? weights[i] : 0.0;
  double cumulative = 0.0;
  bounds[0] = 0;
  for (int32_t i = 1; i < parts; ++i) {
    cumulative += weights[i - 1] > 0.0 ? weights[i - 1] : 0.0;
    int64_t cut = total > 0.0 ? (int64_t)((double)units * cumulative / total + 0.5) * granule
                              : units * i / parts * granule;
    cut = cut < bounds[i - 1] ? bounds[i - 1] : cut;
    bounds[i] = cut < n ? cut : n;
  }
  bounds[parts] = n;
}

void dc_pool_update_speeds(int32_t parts, const int64_t *bounds, const double *seconds,
                           double *speed) {
  double mean_cost = 0.0;
  int32_t timed = 0;
  for (int32_t i = 0; i < parts; ++i)
    if (bounds[i + 1] > bounds[i] && seconds[i] > 0.0) {
      mean_cost += seconds[i] / (double)(bounds[i + 1] - bounds[i]);
      ++timed;
    }
  if (timed < parts || parts < 2)
    return; /* an idle or untimed part says nothing about its thread */
  mean_cost /= (double)parts;
  double sum = 0.0;
  for (int32_t i = 0; i < parts; ++i) {
    const double shown = mean_cost / (seconds[i] / (double)(bounds[i + 1] - bounds[i]));
    speed[i] += DC_POOL_BALANCE_RATE * (shown - speed[i]);
    sum += speed[i];
  }
  for (int32_t i = 0; i < parts; ++i) {
    double s = speed[i] * (double)parts / sum;
    s = s > DC_POOL_BALANCE_LIMIT ? DC_POOL_BALANCE_LIMIT : s;
    speed[i] = s < 1.0 / DC_POOL_BALANCE_LIMIT ? 1.0 / DC_POOL_BALANCE_LIMIT : s;
  }
}

static double dc_pool_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int32_t dc_pool_claim(void *handle, int64_t *begin, int64_t *end) {
  dc_claimer *self = handle;
  dc_pool *pool = self->pool;
  const int32_t parts = pool->claim_parts;
  /* Its own part first (k = 0, from the front), then the others' (from the back). */
  for (int32_t k = 0; k < parts; ++k) {
    _Atomic uint64_t *word = &pool->claimers[(self->part + k) % parts].range;
    uint64_t w = atomic_load_explicit(word, memory_order_relaxed);
    for (;;) {
      const uint64_t front = w >> 32, back = w & 0xFFFFFFFFu;
      if (front >= back)
        break;
      uint64_t take = (back - front) / (k == 0 ? DC_POOL_CLAIM_DIVISOR : 2);
      take = take < 1 ? 1 : take;
      const uint64_t from = k == 0 ? front : back - take;
      const uint64_t next = k == 0 ? (front + take) << 32 | back : front << 32 | (back - take);
      /* Relaxed: the word only hands out disjoint ranges; the outputs are published by the
       * job's `pending` count. A failed exchange reloads w. */
      if (atomic_compare_exchange_weak_explicit(word, &w, next, memory_order_relaxed,
                                                memory_order_relaxed)) {
        const int64_t b = (int64_t)from * pool->granule, e = (int64_t)(from + take) * pool->granule;
        *begin = b;
        *end = e < pool->n ? e : pool->n;
        self->claimed += *end - *begin;
        return 1;
      }
    }
  }
  return 0;
}

static void dc_pool_run_part(dc_pool *pool, int32_t parts, int32_t part) {
  if (pool->claim_fn) {
    dc_claimer *claimer = &pool->claimers[part];
    const double start = dc_pool_seconds();
    pool->claim_fn(pool->context, claimer, part);
    pool->seconds[part] = dc_pool_seconds() - start;
    return;
  }
  int64_t begin, end;
  if (pool->balanced) {
    begin = pool->bounds[part];
    end = pool->bounds[part + 1];
  } else {
    dc_split_range(pool->n, pool->granule, parts, part, &begin, &end);
  }
  if (begin >= end)
    return;
  const double start = pool->balanced ? dc_pool_seconds() : 0.0;
  pool->fn(pool->context, begin, end, part);
  if (pool->balanced)
    pool->seconds[part] = dc_pool_seconds() - start;
}

/* A worker's part of claimed job `generation`, if the job is still open: enters it (counted in the
 * claim state), claims until nothing is left, leaves, and wakes the caller if it was the last one
 * inside a closed job. */
static void dc_pool_join_claimed(dc_pool *pool, uint32_t generation, int32_t parts, int32_t index) {
  uint64_t state = atomic_load(&pool->claim_state);
  do {
    if ((uint32_t)(state >> 32) != generation || (state & DC_CLAIMS_CLOSED))
      return; /* too late: the caller claimed everything and moved on, or is waiting to */
  } while (!atomic_compare_exchange_weak(&pool->claim_state, &state, state + 1));
  dc_pool_run_part(pool, parts, index);
  state = atomic_fetch_sub(&pool->claim_state, 1) - 1;
  if ((state & DC_CLAIMS_CLOSED) && (state & DC_CLAIMS_INSIDE) == 0 &&
      atomic_load(&pool->caller_waiting)) {
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->done);
    pthread_mutex_unlock(&pool->mutex);
  }
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
    if (job & DC_CLAIMED_JOB) {
      dc_pool_join_claimed(pool, (uint32_t)seen, parts, self->index);
      continue;
    }
    dc_pool_run_part(pool, parts, self->index);
    if (atomic_fetch_sub(&pool->pending, 1) == 1 && atomic_load(&pool->caller_waiting)) {
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_broadcast(&pool->done);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
}

/* Publishes a job word and wakes sleeping workers. */
static void dc_pool_publish(dc_pool *pool, uint64_t parts) {
  uint64_t generation =
      (atomic_load_explicit(&pool->job, memory_order_relaxed) >> DC_PARTS_BITS) + 1;
  atomic_store(&pool->job, generation << DC_PARTS_BITS | parts);
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
  atomic_init(&pool->claim_state, 0);
  pool->bounds = calloc((size_t)threads + 1, sizeof(int64_t));
  pool->seconds = calloc((size_t)threads, sizeof(double));
  pool->speed = calloc((size_t)threads, sizeof(double));
  pool->claimers = aligned_alloc(_Alignof(dc_claimer), (size_t)threads * sizeof(dc_claimer));
  if (!pool->bounds || !pool->seconds || !pool->speed || !pool->claimers) {
    dc_pool_destroy(pool);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a thread pool");
  }
  for (int32_t i = 0; i < threads; ++i) {
    pool->speed[i] = 1.0;
    pool->claimers[i].pool = pool;
    pool->claimers[i].part = i;
    pool->claimers[i].claimed = 0;
    atomic_init(&pool->claimers[i].range, 0);
  }
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
  free(pool->bounds);
  free(pool->seconds);
  free(pool->speed);
  free(pool->claimers);
  free(pool);
}

int32_t dc_pool_threads(const dc_pool *pool) { return pool->threads; }

/* Returns when every worker part of the current job is done. */
static void dc_pool_wait(dc_pool *pool) {
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

/* Returns when no worker is inside the current (closed) claimed job: as dc_pool_wait. */
static void dc_pool_wait_inside(dc_pool *pool) {
  for (int32_t i = 0; i < pool->spin; ++i) {
    if ((atomic_load_explicit(&pool->claim_state, memory_order_acquire) & DC_CLAIMS_INSIDE) == 0)
      return;
    dc_cpu_relax();
  }
  if ((atomic_load(&pool->claim_state) & DC_CLAIMS_INSIDE) == 0)
    return;
  pthread_mutex_lock(&pool->mutex);
  atomic_store(&pool->caller_waiting, 1);
  atomic_thread_fence(memory_order_seq_cst); /* as in dc_pool_publish */
  while ((atomic_load(&pool->claim_state) & DC_CLAIMS_INSIDE) != 0)
    pthread_cond_wait(&pool->done, &pool->mutex);
  atomic_store(&pool->caller_waiting, 0);
  pthread_mutex_unlock(&pool->mutex);
}

static void dc_pool_run_job(dc_pool *pool, int32_t parts, int64_t n, int64_t granule, dc_task_fn fn,
                            void *context, int balanced) {
  if (parts > pool->threads)
    parts = pool->threads;
  if (parts < 1)
    parts = 1;
  pool->fn = fn;
  pool->claim_fn = NULL;
  pool->context = context;
  pool->n = n;
  pool->granule = granule;
  pool->balanced = balanced && parts > 1;
  if (parts == 1) {
    dc_pool_run_part(pool, 1, 0);
    return;
  }
  if (pool->balanced) {
    dc_split_weighted(n, granule, parts, pool->speed, pool->bounds);
    for (int32_t i = 0; i < parts; ++i)
      pool->seconds[i] = 0.0;
  }
  atomic_store(&pool->pending, parts - 1);
  dc_pool_publish(pool, parts);
  dc_pool_run_part(pool, parts, 0);
  dc_pool_wait(pool);
  /* The workers wrote their times before their release of `pending`; the wait acquired it. */
  if (pool->balanced)
    dc_pool_update_speeds(parts, pool->bounds, pool->seconds, pool->speed);
}

void dc_pool_run_claimed(dc_pool *pool, int32_t parts, int64_t n, int64_t granule,
                         dc_claim_task_fn fn, void *context) {
  if (parts > pool->threads)
    parts = pool->threads;
  if (parts < 1)
    parts = 1;
  if (granule < 1)
    granule = 1;
  /* Whole granules of the original size still, fewer of them, until they fit a range word. */
  while ((n + granule - 1) / granule > (int64_t)0xFFFFFFFFu)
    granule *= 2;
  pool->fn = NULL;
  pool->claim_fn = fn;
  pool->claim_parts = parts;
  pool->context = context;
  pool->n = n;
  pool->granule = granule;
  pool->balanced = 0;
  dc_split_weighted(n, granule, parts, pool->speed, pool->bounds);
  for (int32_t i = 0; i < parts; ++i) {
    /* The cuts are on granules but for a last part that ends at n: rounded up alike. */
    const uint64_t front = (uint64_t)((pool->bounds[i] + granule - 1) / granule);
    const uint64_t back = (uint64_t)((pool->bounds[i + 1] + granule - 1) / granule);
    atomic_store_explicit(&pool->claimers[i].range, front << 32 | back, memory_order_relaxed);
    pool->claimers[i].claimed = 0;
    pool->seconds[i] = 0.0;
  }
  if (parts == 1) {
    dc_pool_run_part(pool, 1, 0);
    return;
  }
  const uint64_t generation =
      (atomic_load_explicit(&pool->job, memory_order_relaxed) >> DC_PARTS_BITS) + 1;
  atomic_store(&pool->claim_state, (uint64_t)(uint32_t)generation << 32);
  dc_pool_publish(pool, (uint64_t)parts | DC_CLAIMED_JOB);
  dc_pool_run_part(pool, parts, 0);
  /* Nothing is left to claim: close the job and wait for the workers inside it. */
  atomic_fetch_or(&pool->claim_state, DC_CLAIMS_CLOSED);
  dc_pool_wait_inside(pool);
  /* Each thread's claims as if they had been its range: its speed is what it claimed per second. */
  int64_t *claimed_bounds = pool->bounds;
  claimed_bounds[0] = 0;
  for (int32_t i = 0; i < parts; ++i)
    claimed_bounds[i + 1] = claimed_bounds[i] + pool->claimers[i].claimed;
  dc_pool_update_speeds(parts, claimed_bounds, pool->seconds, pool->speed);
}

void dc_pool_run(dc_pool *pool, int32_t parts, int64_t n, int64_t granule, dc_task_fn fn,
                 void *context) {
  dc_pool_run_job(pool, parts, n, granule, fn, context, 0);
}

void dc_pool_run_balanced(dc_pool *pool, int32_t parts, int64_t n, int64_t granule, dc_task_fn fn,
                          void *context) {
  dc_pool_run_job(pool, parts, n, granule, fn, context, 1);
}
