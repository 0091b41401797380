/*===- fake_program.c - a tiny hand-written program for runtime tests -----===*/

#include "fake_program.h"

#include "deltac/kernel_abi.h"
#include "deltac/program.h"
#include "deltac/weight_store.h"

int64_t fake_program_log[FAKE_LOG_SIZE];
int64_t fake_program_log_size;
int64_t fake_program_fail_at = -1;
int32_t fake_program_bad_op;

/* States: [0] the tokens seen (must equal `start`), [1] the calls. */
static int32_t fake_entry(dc_exec *exec, void *const *weights, void *const *states, uint8_t *arena,
                          const int32_t *tokens, const int32_t *positions, int64_t n_tokens,
                          int64_t start, float *logits, int decode) {
  int64_t *counter = (int64_t *)states[0];
  const int64_t call = fake_program_log_size;
  if (fake_program_log_size < FAKE_LOG_SIZE)
    fake_program_log[fake_program_log_size++] = decode ? -n_tokens : n_tokens;
  if (call == fake_program_fail_at)
    return FAKE_INJECTED;
  if ((uintptr_t)arena % 64 != 0 || (uintptr_t)states[0] % 64 != 0 ||
      (uintptr_t)states[1] % 64 != 0)
    return FAKE_BAD_ARENA;
  if (counter[0] != start)
    return FAKE_BAD_STATE;
  if (n_tokens < 1 || n_tokens > FAKE_MAX_TOKENS || (decode && n_tokens != 1) ||
      start + n_tokens > FAKE_CONTEXT)
    return FAKE_BAD_COUNT;
  for (int64_t t = 0; t < n_tokens; ++t)
    if (positions[t] != start + t)
      return FAKE_BAD_POSITION;
  if (fake_program_bad_op) {
    static const uint8_t weight[64];
    float x[33] = {0}, y[1];
    dc_op_linear(exec, DC_WS_Q8_0, x, 1, 33, weight, 1, y);
  }
  float *onehot = (float *)(void *)arena;
  const float *bias = (const float *)weights[0];
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t v = 0; v < FAKE_VOCAB; ++v)
      onehot[t * FAKE_VOCAB + v] = v == (tokens[t] + positions[t] + 1) % FAKE_VOCAB ? 10.0f : 0.0f;
    dc_op_add(exec, onehot + t * FAKE_VOCAB, bias, FAKE_VOCAB, logits + t * FAKE_VOCAB);
  }
  counter[0] += n_tokens;
  counter[1] += 1;
  return 0;
}

static int32_t fake_prefill(dc_exec *exec, void *const *weights, void *const *states,
                            uint8_t *arena, const int32_t *tokens, const int32_t *positions,
                            int64_t n_tokens, int64_t start, float *logits) {
  return fake_entry(exec, weights, states, arena, tokens, positions, n_tokens, start, logits, 0);
}

static int32_t fake_decode(dc_exec *exec, void *const *weights, void *const *states, uint8_t *arena,
                           const int32_t *tokens, const int32_t *positions, int64_t n_tokens,
                           int64_t start, float *logits) {
  return fake_entry(exec, weights, states, arena, tokens, positions, n_tokens, start, logits, 1);
}

static const char *const fake_weight_names[] = {"output.bias"};
static const uint32_t fake_weight_dtypes[] = {DC_WS_F32};
static const char *const fake_state_names[] = {"counter", "history"};
static const int64_t fake_state_bytes[] = {2 * sizeof(int64_t), 100};

const dc_program dc_model_program = {
    .abi_version = DC_PROGRAM_ABI_VERSION,
    .kernel_abi_version = DC_KERNEL_ABI_VERSION,
    .weight_fingerprint = FAKE_FINGERPRINT,
    .architecture = "fake",
    .target = "portable",
    .vocab_size = FAKE_VOCAB,
    .max_context = FAKE_CONTEXT,
    .max_tokens = FAKE_MAX_TOKENS,
    .weight_count = 1,
    .weight_names = fake_weight_names,
    .weight_dtypes = fake_weight_dtypes,
    .state_count = 2,
    .state_names = fake_state_names,
    .state_bytes = fake_state_bytes,
    .arena_bytes = FAKE_MAX_TOKENS * FAKE_VOCAB * sizeof(float),
    .prefill = fake_prefill,
    .decode = fake_decode,
};
