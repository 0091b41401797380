/*===- fake_program.h - a tiny hand-written program for runtime tests -----===*
 *
 * fake_program.c defines dc_model_program the way a compiled model does, with entry points that
 * check what the runtime promises (zeroed states, aligned arena, positions, chunk sizes) and write
 * logits a test can predict:
 *
 *   logits[t][v] = v / 64 + (v == (tokens[t] + positions[t] + 1) % FAKE_VOCAB ? 10 : 0)
 *
 * so greedy decoding after token x at position p picks (x + p + 1) % FAKE_VOCAB. The bias v / 64
 * is the weight "output.bias" (f32 [FAKE_VOCAB]), added with dc_op_add. Each call is logged.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TEST_RUNTIME_FAKE_PROGRAM_H
#define DELTAC_TEST_RUNTIME_FAKE_PROGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_VOCAB 16
#define FAKE_CONTEXT 32
#define FAKE_MAX_TOKENS 4
#define FAKE_FINGERPRINT 0x0123456789abcdefull
#define FAKE_LOG_SIZE 256

/* Entry point return codes when a check fails. */
#define FAKE_BAD_ARENA 2
#define FAKE_BAD_STATE 3
#define FAKE_BAD_COUNT 4
#define FAKE_BAD_POSITION 5
#define FAKE_INJECTED 7

/* One entry per call: n_tokens, negated for decode calls. */
extern int64_t fake_program_log[FAKE_LOG_SIZE];
extern int64_t fake_program_log_size;
/* When >= 0, the call with this log index returns FAKE_INJECTED. */
extern int64_t fake_program_fail_at;
/* When nonzero, every call issues an op the runtime refuses (a q8_0 linear with K = 33). */
extern int32_t fake_program_bad_op;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_TEST_RUNTIME_FAKE_PROGRAM_H */
