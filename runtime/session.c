/*===- session.c - one sequence: states, arena, threads, position ---------===*/

#include "runtime_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dc_session {
  dc_model *model;
  const dc_program *program;
  dc_exec *exec;
  /* Every state in one zeroed page mapping, each at a 64-byte aligned offset. */
  uint8_t *state_pages;
  size_t state_pages_bytes;
  void **states;
  uint8_t *arena;
  size_t arena_bytes;
  float *logits; /* max_tokens x vocab, pages committed as written */
  size_t logits_bytes;
  int32_t *positions; /* max_tokens */
  int64_t position;
};

static size_t dc_round64(size_t n) { return (n + 63) / 64 * 64; }

dc_status *dc_session_create(dc_model *model, int32_t threads, dc_session **out_session) {
  if (!model)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "no model");
  if (threads <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cpus > 0 ? (int32_t)(cpus < 4096 ? cpus : 4096) : 1;
  }
  const dc_program *p = dc_model_program_of(model);
  dc_session *s = calloc(1, sizeof(dc_session));
  if (!s)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory creating a session");
  s->model = model;
  s->program = p;
  dc_status *status = dc_exec_create(threads, &s->exec);
  if (status) {
    free(s);
    return status;
  }

  size_t total = 0;
  for (int64_t i = 0; i < p->state_count; ++i)
    total = dc_round64(total) + (size_t)p->state_bytes[i];
  s->state_pages_bytes = total;
  s->states = calloc(p->state_count ? (size_t)p->state_count : 1, sizeof(void *));
  s->state_pages = dc_pages_alloc(total);
  s->arena_bytes = (size_t)p->arena_bytes;
  s->arena = dc_pages_alloc(s->arena_bytes);
  const int64_t rows = p->max_tokens < p->max_context ? p->max_tokens : p->max_context;
  s->logits_bytes = (size_t)rows * (size_t)p->vocab_size * sizeof(float);
  s->logits = dc_pages_alloc(s->logits_bytes);
  s->positions = calloc((size_t)rows, sizeof(int32_t));
  if (!s->states || !s->state_pages || !s->arena || !s->logits || !s->positions) {
    dc_session_destroy(s);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY,
                          "out of memory creating a session (%zu bytes of state, %zu of arena, "
                          "%zu of logits)",
                          total, s->arena_bytes, s->logits_bytes);
  }
  size_t offset = 0;
  for (int64_t i = 0; i < p->state_count; ++i) {
    offset = dc_round64(offset);
    s->states[i] = s->state_pages + offset;
    offset += (size_t)p->state_bytes[i];
  }
  *out_session = s;
  return DC_OK;
}

void dc_session_destroy(dc_session *session) {
  if (!session)
    return;
  dc_exec_destroy(session->exec);
  dc_pages_free(session->state_pages, session->state_pages_bytes);
  dc_pages_free(session->arena, session->arena_bytes);
  dc_pages_free(session->logits, session->logits_bytes);
  free(session->states);
  free(session->positions);
  free(session);
}

void dc_session_reset(dc_session *session) {
  dc_pages_zero(session->state_pages, session->state_pages_bytes);
  session->position = 0;
}

int64_t dc_session_position(const dc_session *session) { return session->position; }

int32_t dc_session_threads(const dc_session *session) { return session->exec->threads; }

static dc_status *dc_check_tokens(const dc_session *s, const int32_t *tokens, int64_t n) {
  const int64_t vocab = s->program->vocab_size;
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                            "token id %" PRId32 " (at index %" PRId64
                            ") is outside the vocabulary [0, %" PRId64 ")",
                            tokens[i], i, vocab);
  const int64_t context = s->program->max_context;
  if (n > context - s->position)
    return dc_status_make(DC_STATUS_OUT_OF_RANGE,
                          "%" PRId64 " more tokens at position %" PRId64
                          " exceed the context length of %" PRId64 " tokens",
                          n, s->position, context);
  return DC_OK;
}

/* One call of an entry point on tokens[0 .. n) at the current position. */
static dc_status *dc_session_run(dc_session *s, dc_entry_fn entry, const char *which,
                                 const int32_t *tokens, int64_t n, float *logits) {
  for (int64_t i = 0; i < n; ++i)
    s->positions[i] = (int32_t)(s->position + i);
  const int32_t rc = entry(s->exec, dc_model_weight_table(s->model), s->states, s->arena, tokens,
                           s->positions, n, s->position, logits);
  dc_status *error = dc_exec_take_error(s->exec);
  if (error)
    return error;
  if (rc != 0)
    return dc_status_make(DC_STATUS_INTERNAL,
                          "the program's %s entry failed (returned %" PRId32
                          ") at position %" PRId64,
                          which, rc, s->position);
  s->position += n;
  return DC_OK;
}

dc_status *dc_session_prefill(dc_session *session, const int32_t *tokens, int64_t n_tokens,
                              float *all_logits, const float **out_logits) {
  if (!session || !tokens || n_tokens < 1)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "prefill needs at least one token");
  dc_status *status = dc_check_tokens(session, tokens, n_tokens);
  if (status)
    return status;
  const dc_program *p = session->program;
  const size_t vocab = (size_t)p->vocab_size;
  if (all_logits && p->prefill_last_logits_only)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                          "this model was compiled with --prefill-logits=last: a prefill gives the "
                          "last token's logits only, not every position's");
  const float *last = NULL;
  for (int64_t done = 0; done < n_tokens;) {
    const int64_t chunk = n_tokens - done < p->max_tokens ? n_tokens - done : p->max_tokens;
    float *logits = all_logits ? all_logits + (size_t)done * vocab : session->logits;
    status = dc_session_run(session, p->prefill, "prefill", tokens + done, chunk, logits);
    if (status)
      return status;
    last = logits + (p->prefill_last_logits_only ? 0 : (size_t)(chunk - 1) * vocab);
    done += chunk;
  }
  if (out_logits)
    *out_logits = last;
  return DC_OK;
}

dc_status *dc_session_decode(dc_session *session, int32_t token, const float **out_logits) {
  if (!session)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "no session");
  dc_status *status = dc_check_tokens(session, &token, 1);
  if (status)
    return status;
  status = dc_session_run(session, session->program->decode, "decode", &token, 1, session->logits);
  if (status)
    return status;
  if (out_logits)
    *out_logits = session->logits;
  return DC_OK;
}
