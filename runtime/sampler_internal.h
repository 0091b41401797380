/*===- sampler_internal.h - the sampler's filter, exposed for tests -------===*/

#ifndef DELTAC_RUNTIME_SAMPLER_INTERNAL_H
#define DELTAC_RUNTIME_SAMPLER_INTERNAL_H

#include "runtime_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dc_candidate {
  float logit; /* NaN read as -inf, +inf as FLT_MAX */
  float p;     /* exp((logit - max) / temperature): 1 for the most likely token */
  int32_t id;
} dc_candidate;

/* The tokens that survive top-k, top-p and min-p for params->temperature > 0, written to
 * work[0 .. n) with their p, from the most likely (ties: lower id first) when top-k or top-p is
 * on, else in id order; returns n (0 when no logit is finite). work holds `vocab` entries. */
int64_t dc_sampler_filter(const dc_sampler_params *params, const float *logits, int64_t vocab,
                          dc_candidate *work);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_RUNTIME_SAMPLER_INTERNAL_H */
