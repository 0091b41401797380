/*===- sampler.c - greedy and temperature / top-k / top-p / min-p sampling ===*
 *
 * Greedy is the arg-max (lowest id on ties). Otherwise, with p_i = exp((l_i - max l) / T) (so the
 * most likely token has p = 1), the filters run in the order of dc_sampler_params: top-k, top-p
 * (over what top-k kept), min-p (p_i >= min_p), then one uniform draw picks a token in proportion
 *to p among what is left, walking the candidates from the most likely when top-k or top-p sorted
 * them, else in id order (sorting is the expensive part and nothing else needs it).
 *
 * Sorting a 250k vocabulary for every token would cost milliseconds, so the candidates are gathered
 * above a probability threshold tau first: the tokens with p >= tau are exactly the first ones in
 * sorted order, and the threshold is accepted once that prefix provably holds every token the
 * filters keep (k tokens for top-k; mass reaching top_p for top-p; min_p itself is a threshold).
 * Otherwise tau drops, down to 0 (every token with p > 0). The result is the same as sorting all.
 *===----------------------------------------------------------------------===*/

#include "sampler_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

struct dc_sampler {
  dc_sampler_params params;
  uint64_t rng[4]; /* xoshiro256** */
  dc_candidate *work;
  int64_t capacity;
};

void dc_sampler_params_init(dc_sampler_params *params) {
  params->temperature = 0.0f;
  params->top_k = 0;
  params->top_p = 1.0f;
  params->min_p = 0.0f;
  params->seed = 0;
}

static uint64_t dc_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t dc_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t dc_rng_next(uint64_t *s) {
  const uint64_t result = dc_rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = dc_rotl(s[3], 45);
  return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double dc_rng_uniform(uint64_t *s) { return (double)(dc_rng_next(s) >> 11) * 0x1p-53; }

dc_status *dc_sampler_create(const dc_sampler_params *params, dc_sampler **out_sampler) {
  if (!params)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "no sampler parameters");
  if (!(params->temperature >= 0.0f) || isinf(params->temperature))
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "temperature %g is not a finite number >= 0",
                          params->temperature);
  if (params->top_k < 0)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "top-k %d is negative", (int)params->top_k);
  if (!(params->top_p > 0.0f && params->top_p <= 1.0f))
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "top-p %g is not in (0, 1]", params->top_p);
  if (!(params->min_p >= 0.0f && params->min_p <= 1.0f))
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "min-p %g is not in [0, 1]", params->min_p);
  dc_sampler *sampler = calloc(1, sizeof(dc_sampler));
  if (!sampler)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a sampler");
  sampler->params = *params;
  uint64_t seed = params->seed;
  for (int i = 0; i < 4; ++i)
    sampler->rng[i] = dc_splitmix64(&seed);
  *out_sampler = sampler;
  return DC_OK;
}

void dc_sampler_destroy(dc_sampler *sampler) {
  if (!sampler)
    return;
  free(sampler->work);
  free(sampler);
}

/* NaN is -inf, +inf the largest float (so max - l stays defined). */
static float dc_clean_logit(float l) {
  if (isnan(l))
    return -INFINITY;
  return l > FLT_MAX ? FLT_MAX : l;
}

/* Logits are scanned in blocks of this many; a multiple of the lanes below. */
#define DC_ARGMAX_BLOCK 1024
#define DC_ARGMAX_LANES 16

/* The largest of x[0 .. n) with NaN skipped (x > m is false for it); -inf when there is none.
 * Independent lanes, so the compiler turns the loop into packed max instructions: a greedy decode
 * step scans the whole vocabulary (248k logits for Qwen3.5), and one running maximum is a chain
 * of dependent compares about ten times slower. */
static float dc_max_logit(const float *x, int64_t n) {
  float lane[DC_ARGMAX_LANES];
  for (int j = 0; j < DC_ARGMAX_LANES; ++j)
    lane[j] = -INFINITY;
  int64_t i = 0;
  for (; i + DC_ARGMAX_LANES <= n; i += DC_ARGMAX_LANES)
    for (int j = 0; j < DC_ARGMAX_LANES; ++j)
      lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  float m = -INFINITY;
  for (int j = 0; j < DC_ARGMAX_LANES; ++j)
    m = lane[j] > m ? lane[j] : m;
  for (; i < n; ++i)
    m = x[i] > m ? x[i] : m;
  return m;
}

/* The lowest index of the largest cleaned logit, -1 when every logit is NaN or -inf. The first
 * block whose maximum is the largest holds it; only that block is searched for the index. */
static int64_t dc_argmax(const float *logits, int64_t vocab) {
  int64_t best_block = -1;
  float best_logit = -INFINITY;
  for (int64_t b = 0; b < vocab; b += DC_ARGMAX_BLOCK) {
    const int64_t n = vocab - b < DC_ARGMAX_BLOCK ? vocab - b : DC_ARGMAX_BLOCK;
    const float m = dc_clean_logit(dc_max_logit(logits + b, n));
    if (m > best_logit) {
      best_logit = m;
      best_block = b;
    }
  }
  if (best_block < 0)
    return -1;
  for (int64_t i = best_block;; ++i)
    if (dc_clean_logit(logits[i]) == best_logit)
      return i;
}

static int dc_candidate_order(const void *a, const void *b) {
  const dc_candidate *x = a, *y = b;
  if (x->logit != y->logit)
    return x->logit > y->logit ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id ? 1 : 0;
}

int64_t dc_sampler_filter(const dc_sampler_params *params, const float *logits, int64_t vocab,
                          dc_candidate *work) {
  const int64_t best = dc_argmax(logits, vocab);
  if (best < 0)
    return 0;
  const float max_logit = dc_clean_logit(logits[best]);
  const float inv_t = 1.0f / params->temperature;
  const int64_t top_k = params->top_k;
  const double top_p = params->top_p;
  const float min_p = params->min_p;

  /* The total mass, in token order; top-p's reference when top-k is off. */
  double total = 0.0;
  if (top_k == 0 && top_p < 1.0)
    for (int64_t i = 0; i < vocab; ++i)
      total += expf((dc_clean_logit(logits[i]) - max_logit) * inv_t);

  /* min_p is a threshold itself unless top-k needs the tokens below it for top-p's reference. */
  const float floor_p = top_k == 0 ? min_p : 0.0f;
  /* Only top-k and top-p need the order; without them the candidates stay in id order. */
  const int sort = top_k > 0 || top_p < 1.0;
  static const float taus[] = {1e-2f, 1e-4f, 1e-8f, 0.0f};
  const size_t levels = sizeof(taus) / sizeof(taus[0]);
  int64_t n = 0;
  for (size_t level = sort ? 0 : levels - 1; level < levels; ++level) {
    const float tau = taus[level] > floor_p ? taus[level] : floor_p;
    n = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      const float l = dc_clean_logit(logits[i]);
      const float p = expf((l - max_logit) * inv_t);
      if (p > 0.0f && p >= tau) {
        work[n].logit = l;
        work[n].p = p;
        work[n].id = (int32_t)i;
        ++n;
      }
    }
    if (sort)
      qsort(work, (size_t)n, sizeof(dc_candidate), dc_candidate_order);
    /* Accepted when the prefix holds everything the filters can keep: every token with p > 0, or
     * everything above min-p, or the k best, or (top-p alone) a prefix reaching top_p. The walk
     * below is the one the cut uses, so the two agree to the last bit. */
    int accepted = tau == 0.0f || (floor_p > 0.0f && tau == floor_p);
    if (!accepted && top_k > 0)
      accepted = n >= top_k;
    if (!accepted && top_k == 0 && top_p < 1.0) {
      double mass = 0.0;
      for (int64_t j = 0; j < n && !accepted; ++j) {
        mass += work[j].p;
        accepted = mass >= top_p * total;
      }
    }
    if (accepted)
      break;
  }

  if (top_k > 0 && n > top_k)
    n = top_k;
  if (top_p < 1.0) {
    double reference = total;
    if (top_k > 0) {
      reference = 0.0;
      for (int64_t j = 0; j < n; ++j)
        reference += work[j].p;
    }
    double mass = 0.0;
    for (int64_t j = 0; j < n; ++j) {
      mass += work[j].p;
      if (mass >= top_p * reference) {
        n = j + 1;
        break;
      }
    }
  }
  if (min_p > 0.0f) {
    int64_t kept = 0;
    while (kept < n && work[kept].p >= min_p)
      ++kept;
    n = kept;
  }
  return n;
}

dc_status *dc_sampler_sample(dc_sampler *sampler, const float *logits, int64_t vocab_size,
                             int32_t *out_token) {
  if (!sampler || !logits || vocab_size <= 0 || vocab_size > (int64_t)INT32_MAX + 1)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "sampling needs a row of logits");
  /* A temperature so small that 1 / T overflows is greedy too (and would give 0 * inf = NaN). */
  if (sampler->params.temperature == 0.0f || isinf(1.0f / sampler->params.temperature)) {
    const int64_t best = dc_argmax(logits, vocab_size);
    if (best < 0)
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "the logits hold no finite value");
    *out_token = (int32_t)best;
    return DC_OK;
  }
  if (sampler->capacity < vocab_size) {
    dc_candidate *work = realloc(sampler->work, (size_t)vocab_size * sizeof(dc_candidate));
    if (!work)
      return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory sampling %lld logits",
                            (long long)vocab_size);
    sampler->work = work;
    sampler->capacity = vocab_size;
  }
  const int64_t n = dc_sampler_filter(&sampler->params, logits, vocab_size, sampler->work);
  if (n <= 0)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "the logits hold no finite value");
  double total = 0.0;
  for (int64_t j = 0; j < n; ++j)
    total += sampler->work[j].p;
  const double target = dc_rng_uniform(sampler->rng) * total;
  double mass = 0.0;
  int64_t chosen = n - 1;
  for (int64_t j = 0; j < n; ++j) {
    mass += sampler->work[j].p;
    if (mass > target) {
      chosen = j;
      break;
    }
  }
  *out_token = sampler->work[chosen].id;
  return DC_OK;
}
