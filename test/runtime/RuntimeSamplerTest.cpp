//===- RuntimeSamplerTest.cpp - greedy, temperature, top-k, top-p, min-p --===//
//
// The filter is checked against a direct implementation of its definition (sort everything, cut)
// on random rows, so the threshold shortcut must give exactly the same candidates; the draws are
// checked statistically with fixed seeds.
//
//===----------------------------------------------------------------------===//

#include "sampler_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace {

dc_sampler *makeSampler(float temperature, int32_t topK = 0, float topP = 1.0f, float minP = 0.0f,
                        uint64_t seed = 42) {
  dc_sampler_params p;
  dc_sampler_params_init(&p);
  p.temperature = temperature;
  p.top_k = topK;
  p.top_p = topP;
  p.min_p = minP;
  p.seed = seed;
  dc_sampler *s = nullptr;
  dc_status *status = dc_sampler_create(&p, &s);
  EXPECT_EQ(status, nullptr) << dc_status_message(status);
  dc_status_free(status);
  return s;
}

uint64_t nextRandom(uint64_t &x) {
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x >> 33;
}

int32_t sample(dc_sampler *s, const std::vector<float> &logits) {
  int32_t token = -1;
  dc_status *status = dc_sampler_sample(s, logits.data(), int64_t(logits.size()), &token);
  EXPECT_EQ(status, nullptr) << dc_status_message(status);
  dc_status_free(status);
  return token;
}

std::vector<int> histogram(dc_sampler *s, const std::vector<float> &logits, int draws) {
  std::vector<int> counts(logits.size());
  for (int i = 0; i < draws; ++i)
    ++counts[size_t(sample(s, logits))];
  return counts;
}

TEST(RuntimeSampler, GreedyIsTheArgmaxLowestIdOnTies) {
  dc_sampler *s = makeSampler(0.0f);
  EXPECT_EQ(sample(s, {1, 3, 2, 3, -5}), 1);
  EXPECT_EQ(sample(s, {-INFINITY, NAN, -7, -7}), 2);
  EXPECT_EQ(sample(s, {0, INFINITY, INFINITY}), 1);
  EXPECT_EQ(sample(s, {5}), 0);
  int32_t token = 99;
  std::vector<float> none = {NAN, -INFINITY};
  dc_status *status = dc_sampler_sample(s, none.data(), 2, &token);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(dc_status_get_code(status), DC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(token, 99);
  dc_status_free(status);
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, GreedyOverAVocabularyOfManyBlocks) {
  // The greedy path scans the logits in blocks of 1024 with lanes of 16; the answer must be the
  // plain scan's: the lowest index of the largest value, NaN never, +inf counted as FLT_MAX.
  auto reference = [](const std::vector<float> &l) {
    auto clean = [](float v) { return std::isnan(v) ? -INFINITY : std::min(v, FLT_MAX); };
    int best = -1;
    float bestLogit = -INFINITY;
    for (size_t i = 0; i < l.size(); ++i)
      if (clean(l[i]) > bestLogit)
        bestLogit = clean(l[i]), best = int(i);
    return best;
  };
  dc_sampler *s = makeSampler(0.0f);
  uint64_t x = 3;
  for (int vocab : {1023, 1024, 1025, 5000, 20011}) {
    std::vector<float> logits(static_cast<size_t>(vocab));
    for (float &l : logits)
      l = float(nextRandom(x) % 1000) / 100.0f; // many ties
    for (int k = 0; k < 40; ++k)
      logits[nextRandom(x) % size_t(vocab)] = NAN;
    EXPECT_EQ(sample(s, logits), reference(logits)) << vocab;
    // The maximum in the last, partial block and in the scalar tail of a block.
    logits[size_t(vocab) - 1] = 50.0f;
    EXPECT_EQ(sample(s, logits), vocab - 1) << vocab;
    logits[size_t(vocab) - 3] = 50.0f;
    EXPECT_EQ(sample(s, logits), vocab - 3) << vocab;
    // A tie between blocks goes to the earlier block; FLT_MAX ties with a later +inf.
    logits[size_t(vocab) / 2] = 50.0f;
    EXPECT_EQ(sample(s, logits), vocab / 2) << vocab;
    logits[size_t(vocab) / 3] = FLT_MAX;
    logits[size_t(vocab) - 2] = INFINITY;
    EXPECT_EQ(sample(s, logits), vocab / 3) << vocab;
    EXPECT_EQ(sample(s, logits), reference(logits)) << vocab;
  }
  // Every logit NaN or -inf across several blocks: an error, as for a short row.
  std::vector<float> none(3000, -INFINITY);
  none[2999] = NAN;
  int32_t token = 7;
  dc_status *status = dc_sampler_sample(s, none.data(), int64_t(none.size()), &token);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(token, 7);
  dc_status_free(status);
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, ATinyTemperatureIsGreedy) {
  // 1 / 1e-40 overflows to infinity; the sampler must not turn (l - max) * inf into NaN.
  dc_sampler *s = makeSampler(1e-40f);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(sample(s, {0.5f, 2.0f, 1.0f, 2.0f}), 1);
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, TopK1IsGreedy) {
  dc_sampler *s = makeSampler(1.5f, 1, 1.0f, 0.0f, 7);
  uint64_t x = 1;
  for (int row = 0; row < 200; ++row) {
    std::vector<float> logits(97);
    for (float &l : logits) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      l = float(x >> 58); // 0..63: many ties
    }
    int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_EQ(sample(s, logits), best);
  }
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, AFixedSeedReproduces) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = float(std::sin(double(i)) * 3.0);
  for (auto [k, p, m] :
       {std::tuple{0, 1.0f, 0.0f}, std::tuple{40, 0.9f, 0.0f}, std::tuple{0, 0.95f, 0.05f}}) {
    dc_sampler *a = makeSampler(0.8f, k, p, m, 1234), *b = makeSampler(0.8f, k, p, m, 1234);
    dc_sampler *c = makeSampler(0.8f, k, p, m, 1235);
    std::vector<int32_t> ta, tb, tc;
    for (int i = 0; i < 300; ++i) {
      ta.push_back(sample(a, logits));
      tb.push_back(sample(b, logits));
      tc.push_back(sample(c, logits));
    }
    EXPECT_EQ(ta, tb);
    EXPECT_NE(ta, tc);
    dc_sampler_destroy(a);
    dc_sampler_destroy(b);
    dc_sampler_destroy(c);
  }
}

/// The filter by its definition: sort every token with p > 0, cut for top-k, then top-p (against
/// the mass of what top-k kept, or of every token), then min-p.
std::vector<std::pair<int32_t, float>> referenceFilter(const dc_sampler_params &p,
                                                       const std::vector<float> &logits) {
  auto clean = [](float l) { return std::isnan(l) ? -INFINITY : std::min(l, FLT_MAX); };
  float max = -INFINITY;
  for (float l : logits)
    max = std::max(max, clean(l));
  const float invT = 1.0f / p.temperature;
  struct C {
    float logit, p;
    int32_t id;
  };
  std::vector<C> all;
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    float prob = expf((clean(logits[i]) - max) * invT);
    total += prob;
    if (prob > 0)
      all.push_back({clean(logits[i]), prob, int32_t(i)});
  }
  std::sort(all.begin(), all.end(), [](const C &a, const C &b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  });
  size_t n = all.size();
  if (p.top_k > 0)
    n = std::min(n, size_t(p.top_k));
  if (p.top_p < 1.0f) {
    double reference = total;
    if (p.top_k > 0) {
      reference = 0;
      for (size_t j = 0; j < n; ++j)
        reference += all[j].p;
    }
    double mass = 0;
    for (size_t j = 0; j < n; ++j) {
      mass += all[j].p;
      if (mass >= double(p.top_p) * reference) {
        n = j + 1;
        break;
      }
    }
  }
  std::vector<std::pair<int32_t, float>> out;
  for (size_t j = 0; j < n; ++j)
    if (all[j].p >= p.min_p)
      out.emplace_back(all[j].id, all[j].p);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RuntimeSampler, FilterMatchesItsDefinition) {
  uint64_t x = 99;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return double(x >> 11) * 0x1p-53;
  };
  const float temps[] = {0.3f, 1.0f, 2.5f};
  const int32_t ks[] = {0, 1, 5, 40, 5000};
  const float ps[] = {1.0f, 0.99f, 0.9f, 0.5f, 0.05f};
  const float mins[] = {0.0f, 1e-6f, 0.05f, 0.5f};
  int cases = 0;
  for (int row = 0; row < 6; ++row) {
    std::vector<float> logits(3000);
    for (float &l : logits)
      l = float((next() - 0.5) * (row < 3 ? 8.0 : 40.0)); // flat and peaked rows
    if (row == 5) {
      logits[17] = NAN;
      logits[18] = -INFINITY;
    }
    for (float t : temps)
      for (int32_t k : ks)
        for (float p : ps)
          for (float m : mins) {
            dc_sampler_params params;
            dc_sampler_params_init(&params);
            params.temperature = t;
            params.top_k = k;
            params.top_p = p;
            params.min_p = m;
            std::vector<dc_candidate> work(logits.size());
            int64_t n =
                dc_sampler_filter(&params, logits.data(), int64_t(logits.size()), work.data());
            std::vector<std::pair<int32_t, float>> got;
            for (int64_t j = 0; j < n; ++j)
              got.emplace_back(work[j].id, work[j].p);
            std::sort(got.begin(), got.end());
            ASSERT_EQ(got, referenceFilter(params, logits))
                << "row " << row << " T " << t << " k " << k << " p " << p << " min_p " << m;
            ++cases;
          }
  }
  EXPECT_EQ(cases, 6 * 3 * 5 * 5 * 4);
}

TEST(RuntimeSampler, TemperatureFollowsTheSoftmax) {
  // p proportional to exp(l / T): with T = 2 and logits 2 ln(1), 2 ln(2), 2 ln(4), 2 ln(8) the
  // probabilities are 1/15, 2/15, 4/15, 8/15.
  std::vector<float> logits = {0.0f, 2 * logf(2), 2 * logf(4), 2 * logf(8)};
  dc_sampler *s = makeSampler(2.0f, 0, 1.0f, 0.0f, 5);
  const int draws = 30000;
  auto counts = histogram(s, logits, draws);
  for (int i = 0; i < 4; ++i) {
    double expected = draws * double(1 << i) / 15.0;
    EXPECT_NEAR(counts[i], expected, 5 * std::sqrt(expected)) << "token " << i;
  }
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, MinPExcludesUnlikelyTokens) {
  // p relative to the best: 1, 0.5, 0.2, 0.09, 0.01 (T = 1). min_p 0.1 keeps the first three.
  std::vector<float> logits = {0, logf(0.5f), logf(0.2f), logf(0.09f), logf(0.01f)};
  dc_sampler *s = makeSampler(1.0f, 0, 1.0f, 0.1f, 11);
  const int draws = 20000;
  auto counts = histogram(s, logits, draws);
  EXPECT_EQ(counts[3], 0);
  EXPECT_EQ(counts[4], 0);
  const double total = 1 + 0.5 + 0.2;
  const double share[] = {1 / total, 0.5 / total, 0.2 / total};
  for (int i = 0; i < 3; ++i) {
    double expected = draws * share[i];
    EXPECT_NEAR(counts[i], expected, 5 * std::sqrt(expected)) << "token " << i;
  }
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, TopPKeepsTheSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (ids shuffled). top_p 0.75: 0.5 < 0.75 <= 0.8, so the two
  // most likely stay, in the ratio 5 : 3.
  std::vector<float> logits = {logf(0.15f), logf(0.5f), logf(0.05f), logf(0.3f)};
  dc_sampler *s = makeSampler(1.0f, 0, 0.75f, 0.0f, 3);
  const int draws = 20000;
  auto counts = histogram(s, logits, draws);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[1], draws * 5.0 / 8.0, 5 * std::sqrt(draws * 5.0 / 8.0));
  EXPECT_NEAR(counts[3], draws * 3.0 / 8.0, 5 * std::sqrt(draws * 3.0 / 8.0));
  dc_sampler_destroy(s);
  // With top-k 3 first, top-p is relative to the three kept: 0.5 / 0.95 < 0.6 <= 0.8 / 0.95.
  s = makeSampler(1.0f, 3, 0.6f, 0.0f, 3);
  counts = histogram(s, logits, 2000);
  EXPECT_EQ(counts[0] + counts[2], 0);
  EXPECT_GT(counts[3], 0);
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, TopKKeepsTheKMostLikely) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i)
    logits[i] = float(i % 10); // ids 9, 19, 29, 39, 49 share the best logit
  dc_sampler *s = makeSampler(1.0f, 3, 1.0f, 0.0f, 8);
  auto counts = histogram(s, logits, 3000);
  for (int i = 0; i < 50; ++i) {
    if (i == 9 || i == 19 || i == 29)
      EXPECT_GT(counts[i], 800) << i; // ties: the lower ids
    else
      EXPECT_EQ(counts[i], 0) << i;
  }
  dc_sampler_destroy(s);
}

TEST(RuntimeSampler, RefusesBadParameters) {
  struct Case {
    float t;
    int32_t k;
    float p, m;
    const char *what;
  } cases[] = {{-1, 0, 1, 0, "temperature"}, {NAN, 0, 1, 0, "temperature"},
               {1, -1, 1, 0, "top-k"},       {1, 0, 0, 0, "top-p"},
               {1, 0, 1.5f, 0, "top-p"},     {1, 0, 1, -0.1f, "min-p"},
               {1, 0, 1, 2, "min-p"}};
  for (const Case &c : cases) {
    dc_sampler_params p;
    dc_sampler_params_init(&p);
    p.temperature = c.t;
    p.top_k = c.k;
    p.top_p = c.p;
    p.min_p = c.m;
    dc_sampler *s = nullptr;
    dc_status *status = dc_sampler_create(&p, &s);
    ASSERT_NE(status, nullptr) << c.what;
    EXPECT_EQ(dc_status_get_code(status), DC_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(dc_status_message(status)).find(c.what), std::string::npos)
        << dc_status_message(status);
    EXPECT_EQ(s, nullptr);
    dc_status_free(status);
  }
}

} // namespace
