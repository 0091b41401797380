//===- RuntimePoolTest.cpp - the thread pool and the range split ----------===//
//
// Every part of a split runs exactly once, on the thread its index names; the parts tile [0, n) in
// whole granules; thousands of back-to-back jobs neither lose a wake-up nor deadlock, whether the
// workers spin (threads <= CPUs) or sleep (more threads than CPUs); a claimed job hands every
// granule out once, and a thread that runs out of its own range claims from a slower one's.
//
//===----------------------------------------------------------------------===//

#include "runtime_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <initializer_list>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

TEST(RuntimePool, SplitTilesTheRange) {
  for (int64_t n : {0, 1, 5, 16, 17, 100, 1023}) {
    for (int64_t granule : {1, 4, 16}) {
      for (int32_t parts = 1; parts <= 7; ++parts) {
        int64_t expected = 0;
        for (int32_t p = 0; p < parts; ++p) {
          int64_t b, e;
          dc_split_range(n, granule, parts, p, &b, &e);
          EXPECT_EQ(b, expected) << n << " " << granule << " " << parts << " " << p;
          EXPECT_LE(b, e);
          if (e < n)
            EXPECT_EQ(e % granule, 0);
          expected = e;
        }
        EXPECT_EQ(expected, n);
      }
    }
  }
}

struct Record {
  std::mutex mutex;
  std::vector<std::tuple<int64_t, int64_t, int32_t>> calls;
  std::set<std::thread::id> threadIds;
};

void record(void *context, int64_t begin, int64_t end, int32_t thread) {
  auto *r = static_cast<Record *>(context);
  std::lock_guard<std::mutex> lock(r->mutex);
  r->calls.emplace_back(begin, end, thread);
  r->threadIds.insert(std::this_thread::get_id());
}

using Ranges = std::vector<std::tuple<int64_t, int64_t, int32_t>>;

/// Whether (begin, end, thread) ranges tile [0, n) once: non-empty, each starting where the one
/// before ends, cut on multiples of `granule` (but at n), each on a thread below `threads`.
::testing::AssertionResult tilesRange(Ranges ranges, int64_t n, int64_t granule, int32_t threads) {
  std::sort(ranges.begin(), ranges.end());
  int64_t next = 0;
  for (auto [b, e, t] : ranges) {
    if (b != next)
      return ::testing::AssertionFailure() << "a range starts at " << b << ", not " << next;
    if (b >= e)
      return ::testing::AssertionFailure() << "an empty range at " << b;
    if (b % granule != 0 || (e < n && e % granule != 0))
      return ::testing::AssertionFailure()
             << "[" << b << ", " << e << ") is not cut on multiples of " << granule;
    if (t < 0 || t >= threads)
      return ::testing::AssertionFailure() << "a range on thread " << t;
    next = e;
  }
  if (next != n)
    return ::testing::AssertionFailure() << "the ranges end at " << next << ", not " << n;
  return ::testing::AssertionSuccess();
}

/// A context of `threads` threads that splits every op however small (min work 0), destroyed at the
/// end of its scope, also when a failed assertion returns early.
struct SplitExec {
  dc_exec *exec = nullptr;
  explicit SplitExec(int32_t threads) {
    if (dc_status *status = dc_exec_create(threads, &exec)) {
      ADD_FAILURE() << dc_status_message(status);
      dc_status_free(status);
      return;
    }
    dc_exec_set_min_work(exec, 0);
  }
  ~SplitExec() { dc_exec_destroy(exec); }
  SplitExec(const SplitExec &) = delete;
  SplitExec &operator=(const SplitExec &) = delete;
};

/// Runs jobs 0 .. jobs - 1 on a SplitExec of each thread count in turn; run(exec, threads, job)
/// runs one job and says whether its ranges tiled (tilesRange). Stops at the first job that did
/// not.
template <typename RunJob>
void runJobs(std::initializer_list<int32_t> threadCounts, int jobs, RunJob run) {
  for (int32_t threads : threadCounts) {
    SplitExec split(threads);
    ASSERT_NE(split.exec, nullptr);
    for (int job = 0; job < jobs; ++job)
      ASSERT_TRUE(run(split.exec, threads, job)) << "threads " << threads << " job " << job;
  }
}

/// Whether a job split by `parallel` (dc_exec_parallel or dc_exec_parallel_balanced, with the
/// recording task) tiled [0, n).
template <typename Parallel>
::testing::AssertionResult splitTiles(Parallel parallel, dc_exec *exec, int64_t n, int64_t granule,
                                      int32_t threads) {
  Record r;
  parallel(exec, n, granule, 1.0, record, &r);
  return tilesRange(r.calls, n, granule, threads);
}

TEST(RuntimePool, EveryPartRunsOnceOnItsThread) {
  for (int32_t threads : {1, 2, 3, 5}) {
    SplitExec split(threads);
    ASSERT_NE(split.exec, nullptr);
    dc_exec *exec = split.exec;
    Record r;
    dc_exec_parallel(exec, 100, 1, 1.0, record, &r);
    ASSERT_EQ(int32_t(r.calls.size()), threads);
    EXPECT_EQ(int32_t(r.threadIds.size()), threads);
    std::sort(r.calls.begin(), r.calls.end());
    int64_t next = 0;
    for (int32_t i = 0; i < threads; ++i) {
      auto [b, e, t] = r.calls[i];
      EXPECT_EQ(b, next);
      EXPECT_EQ(t, i);
      next = e;
    }
    EXPECT_EQ(next, 100);
  }
}

TEST(RuntimePool, SmallWorkStaysOnTheCaller) {
  dc_exec *exec = nullptr;
  ASSERT_EQ(dc_exec_create(4, &exec), nullptr);
  Record r;
  dc_exec_parallel(exec, 1000, 1, 1.0, record, &r); // 1000 units < DC_EXEC_DEFAULT_MIN_WORK
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(*r.threadIds.begin(), std::this_thread::get_id());
  EXPECT_EQ(r.calls[0], std::make_tuple(int64_t(0), int64_t(1000), int32_t(0)));
  // Fewer parts than threads when the work covers only a few.
  Record r2;
  dc_exec_parallel(exec, 1000, 1, 2.0 * DC_EXEC_DEFAULT_MIN_WORK / 1000.0, record, &r2);
  EXPECT_EQ(r2.calls.size(), 2u);
  // Never more parts than units.
  dc_exec_set_min_work(exec, 0);
  Record r3;
  dc_exec_parallel(exec, 2, 1, 1.0, record, &r3);
  EXPECT_EQ(r3.calls.size(), 2u);
  dc_exec_destroy(exec);
}

void sum(void *context, int64_t begin, int64_t end, int32_t thread) {
  auto *total = static_cast<std::atomic<int64_t> *>(context);
  int64_t s = 0;
  for (int64_t i = begin; i < end; ++i)
    s += i;
  total->fetch_add(s);
}

TEST(RuntimePool, ManyJobsBackToBack) {
  unsigned cpus = std::thread::hardware_concurrency();
  // Spinning workers (threads <= CPUs) and sleeping ones (more threads than CPUs).
  for (int32_t threads : {2, int32_t(cpus ? cpus : 2), int32_t(cpus + 3)}) {
    SplitExec split(threads);
    ASSERT_NE(split.exec, nullptr);
    dc_exec *exec = split.exec;
    for (int job = 0; job < 5000; ++job) {
      std::atomic<int64_t> total{0};
      int64_t n = 1 + job % 97;
      dc_exec_parallel(exec, n, 1, 1.0, sum, &total);
      ASSERT_EQ(total.load(), n * (n - 1) / 2) << "threads " << threads << " job " << job;
      if (job % 1000 == 999)
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // let the workers sleep
    }
  }
}

TEST(RuntimePool, WeightedSplitTilesTheRange) {
  const std::vector<std::vector<double>> weightSets = {{1, 1},    {3, 1},         {1, 3},
                                                       {1, 0},    {0, 0},         {1, 1, 1},
                                                       {2, 1, 1}, {0.5, 2, 1, 1}, {1, 1, 1, 1, 1}};
  for (int64_t n : {0, 1, 5, 16, 17, 100, 1023, 248320}) {
    for (int64_t granule : {1, 4, 16}) {
      for (const std::vector<double> &w : weightSets) {
        const int32_t parts = int32_t(w.size());
        std::vector<int64_t> bounds(parts + 1, -1);
        dc_split_weighted(n, granule, parts, w.data(), bounds.data());
        EXPECT_EQ(bounds[0], 0);
        EXPECT_EQ(bounds[parts], n);
        double total = 0;
        for (double x : w)
          total += x;
        for (int32_t i = 0; i < parts; ++i) {
          EXPECT_LE(bounds[i], bounds[i + 1]) << n << " " << granule << " part " << i;
          if (bounds[i + 1] < n)
            EXPECT_EQ(bounds[i + 1] % granule, 0);
          // Each share is its weight's within a granule (or two, where rounding meets the tail).
          if (total > 0 && n >= 64 * granule) {
            const double want = double(n) * w[i] / total;
            EXPECT_NEAR(double(bounds[i + 1] - bounds[i]), want, 2.0 * double(granule))
                << n << " " << granule << " part " << i;
          }
        }
      }
    }
  }
}

TEST(RuntimePool, SpeedsFollowTheFasterThread) {
  // Thread 0 does a unit in half the time of thread 1: its speed rises, thread 1's falls, the mean
  // stays 1, and repeated jobs converge on a 2:1 ratio.
  const int64_t bounds[] = {0, 100, 200};
  const double seconds[] = {1.0, 2.0};
  double speed[] = {1.0, 1.0};
  dc_pool_update_speeds(2, bounds, seconds, speed);
  EXPECT_GT(speed[0], 1.0);
  EXPECT_LT(speed[1], 1.0);
  EXPECT_NEAR(speed[0] + speed[1], 2.0, 1e-12);
  for (int job = 0; job < 200; ++job)
    dc_pool_update_speeds(2, bounds, seconds, speed);
  EXPECT_NEAR(speed[0] / speed[1], 2.0, 0.02);

  // A split by those speeds gives thread 0 two thirds of the rows.
  int64_t cut[3];
  dc_split_weighted(3000, 1, 2, speed, cut);
  EXPECT_NEAR(double(cut[1]), 2000.0, 20.0);

  // One very slow part cannot push a speed past the limit of 2x the mean.
  const double stalled[] = {1.0, 1000.0};
  for (int job = 0; job < 200; ++job)
    dc_pool_update_speeds(2, bounds, stalled, speed);
  EXPECT_LE(speed[0], 2.0);
  EXPECT_GE(speed[1], 0.5);

  // An idle or untimed part changes nothing.
  double kept[] = {1.25, 0.75};
  const int64_t idle[] = {0, 200, 200};
  dc_pool_update_speeds(2, idle, seconds, kept);
  const double untimed[] = {1.0, 0.0};
  dc_pool_update_speeds(2, bounds, untimed, kept);
  EXPECT_EQ(kept[0], 1.25);
  EXPECT_EQ(kept[1], 0.75);
}

TEST(RuntimePool, BalancedJobsCoverTheRangeOnce) {
  runJobs({2, 3}, 2000, [](dc_exec *exec, int32_t threads, int job) {
    return splitTiles(dc_exec_parallel_balanced, exec, 1 + job % 517, job % 3 == 0 ? 16 : 1,
                      threads);
  });
}

/// A claimed job's task: claims ranges until none is left, recording each with its thread. The
/// thread `slowThread` sleeps after its first claim, as a preempted or slower thread would. With
/// `together`, each thread waits after its first claim until every thread has made one (before
/// any sleep), so that each first claim comes from the front of the thread's own range however
/// late a worker starts.
struct Claims {
  std::mutex mutex;
  std::vector<std::tuple<int64_t, int64_t, int32_t>> ranges;
  int32_t slowThread = -1;
  int32_t together = 0; ///< threads to wait for
  std::atomic<int32_t> started{0};
  int64_t firstBegin[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
};

void claimAll(void *context, void *claimer, int32_t thread) {
  auto *c = static_cast<Claims *>(context);
  int64_t b, e;
  for (bool first = true; dc_pool_claim(claimer, &b, &e); first = false) {
    {
      std::lock_guard<std::mutex> lock(c->mutex);
      c->ranges.emplace_back(b, e, thread);
      if (first)
        c->firstBegin[thread] = b;
    }
    if (first && c->together) {
      ++c->started;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (c->started < c->together && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    }
    if (first && thread == c->slowThread)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// Rows of [lo, hi) that thread `thread` claimed.
int64_t claimedBy(const Claims &c, int32_t thread, int64_t lo, int64_t hi) {
  int64_t rows = 0;
  for (auto [b, e, t] : c.ranges)
    if (t == thread)
      rows += std::max<int64_t>(0, std::min(e, hi) - std::max(b, lo));
  return rows;
}

/// Whether a claimed job (claimAll, no thread slowed) tiled [0, n).
::testing::AssertionResult claimedTiles(dc_exec *exec, int64_t n, int64_t granule,
                                        int32_t threads) {
  Claims c;
  dc_exec_parallel_claimed(exec, n, granule, 1.0, claimAll, &c);
  return tilesRange(c.ranges, n, granule, threads);
}

TEST(RuntimePool, ClaimedJobsCoverTheRangeOnce) {
  runJobs({1, 2, 3, 5}, 1000, [](dc_exec *exec, int32_t threads, int job) {
    return claimedTiles(exec, job % 517, job % 3 == 0 ? 16 : 1, threads);
  });
}

TEST(RuntimePool, ClaimedAndSplitJobsInterleave) {
  // Claimed jobs do not wait for workers that have not entered them, so a late worker comes to a
  // claimed job after the caller has closed it, or after the next job has started. On more threads
  // than CPUs (nobody spins, workers are often late) every job must still cover its range once
  // and no wake-up may be lost.
  runJobs({2, 5}, 3000, [](dc_exec *exec, int32_t threads, int job) {
    const int64_t n = 1 + job % 97;
    return job % 3 == 2 ? splitTiles(dc_exec_parallel, exec, n, 1, threads)
                        : claimedTiles(exec, n, 1, threads);
  });
}

TEST(RuntimePool, AThreadThatRunsOutClaimsFromASlowerOne) {
  SplitExec split(2);
  ASSERT_NE(split.exec, nullptr);
  dc_exec *exec = split.exec;
  // Even speeds: thread 0's own range is [0, 800), thread 1's [800, 1600). Thread 1 stalls after
  // its first claim, so thread 0 takes most of thread 1's range from its back.
  Claims slow;
  slow.slowThread = 1;
  slow.together = 2;
  dc_exec_parallel_claimed(exec, 1600, 16, 1.0, claimAll, &slow);
  EXPECT_EQ(claimedBy(slow, 0, 0, 1600) + claimedBy(slow, 1, 0, 1600), 1600);
  EXPECT_EQ(claimedBy(slow, 0, 0, 800), 800);
  EXPECT_GT(claimedBy(slow, 0, 800, 1600), 400) << "thread 0 did not claim from thread 1";
  // The next job's own ranges follow the speeds the claims showed: thread 1's starts later.
  Claims next;
  next.together = 2;
  dc_exec_parallel_claimed(exec, 1600, 16, 1.0, claimAll, &next);
  EXPECT_EQ(next.firstBegin[0], 0);
  EXPECT_GT(next.firstBegin[1], 800);
  EXPECT_EQ(next.firstBegin[1] % 16, 0);
}

TEST(RuntimePool, ScratchGrowsAndAligns) {
  dc_exec *exec = nullptr;
  ASSERT_EQ(dc_exec_create(3, &exec), nullptr);
  EXPECT_EQ(exec->scratch_bytes, 0);
  ASSERT_TRUE(dc_exec_reserve_scratch(exec, 1000));
  EXPECT_GE(exec->scratch_bytes, 1000);
  ASSERT_TRUE(dc_exec_reserve_scratch(exec, 100)); // never shrinks
  EXPECT_GE(exec->scratch_bytes, 1000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(exec->scratch[i], nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(exec->scratch[i]) % 64, 0u);
  }
  EXPECT_EQ(dc_exec_take_error(exec), nullptr);
  dc_exec_destroy(exec);
}

TEST(RuntimePool, RefusesBadThreadCounts) {
  dc_exec *exec = nullptr;
  dc_status *s = dc_exec_create(0, &exec);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(dc_status_get_code(s), DC_STATUS_INVALID_ARGUMENT);
  dc_status_free(s);
  EXPECT_EQ(exec, nullptr);
}

TEST(RuntimeStatus, CodesAndMessages) {
  EXPECT_EQ(dc_status_get_code(DC_OK), DC_STATUS_OK);
  EXPECT_STREQ(dc_status_message(DC_OK), "ok");
  dc_status *s = dc_status_make(DC_STATUS_NOT_FOUND, "file %s\nmissing", "x");
  EXPECT_EQ(dc_status_get_code(s), DC_STATUS_NOT_FOUND);
  EXPECT_STREQ(dc_status_message(s), "file x missing"); // kept on one line
  dc_status_free(s);
  dc_status_free(nullptr);
  EXPECT_STREQ(dc_status_code_name(DC_STATUS_MISMATCH), "mismatch");
}

} // namespace
