/*===- main.c - a C program that embeds a model compiled by deltac --------===*
 *
 * `deltac compile CHECKPOINT --emit=lib -o DIR/model` writes DIR/libmodel.a, DIR/model.h (which
 * includes DIR/deltac/runtime.h) and DIR/model.dcw. This program links them and runs the model
 * the way every embedding does: open the model, create a session and a sampler, prefill the
 * prompt, then sample and decode one token at a time; it frees everything before it returns.
 *
 *   embed [--weights PATH] [-n N] ID...
 *
 * prints the N (default 8) greedily generated token ids on one line, separated by spaces, as the
 * executable `deltac compile` builds does for `--tokens ID,... -n N`. Without --weights the model
 * opens the store its header names (model.h: MODEL_WEIGHTS_PATH), or its embedded one.
 *
 * The model here is named `model`: a library compiled with `-o DIR/NAME` declares NAME_open and
 * NAME_program in NAME.h instead.
 *===----------------------------------------------------------------------===*/

#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the status as an error line and frees it. */
static int fail(dc_status *status) {
  fprintf(stderr, "error: %s\n", dc_status_message(status));
  dc_status_free(status);
  return 1;
}

static int parse_int(const char *text, long long min, long long max, long long *out) {
  char *end = NULL;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value < min || value > max)
    return 0;
  *out = value;
  return 1;
}

int main(int argc, char **argv) {
  const char *weights = NULL;
  long long generate = 8;
  int32_t *prompt = malloc((size_t)argc * sizeof(int32_t));
  int64_t prompt_length = 0;
  if (!prompt) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  for (int i = 1; i < argc; ++i) {
    long long value = 0;
    if (!strcmp(argv[i], "--weights") && i + 1 < argc) {
      weights = argv[++i];
    } else if (!strcmp(argv[i], "-n") && i + 1 < argc && parse_int(argv[++i], 1, 1 << 20, &value)) {
      generate = value;
    } else if (parse_int(argv[i], 0, INT32_MAX, &value)) {
      prompt[prompt_length++] = (int32_t)value;
    } else {
      fprintf(stderr, "usage: %s [--weights PATH] [-n N] ID...\n", argv[0]);
      free(prompt);
      return 2;
    }
  }
  if (prompt_length == 0) {
    fprintf(stderr, "usage: %s [--weights PATH] [-n N] ID...\n", argv[0]);
    free(prompt);
    return 2;
  }

  /* Each object is created by a dc_*_create/open call and freed by its destroy/close, which all
   * accept NULL: one cleanup path serves every failure. */
  dc_model *model = NULL;
  dc_session *session = NULL;
  dc_sampler *sampler = NULL;
  dc_sampler_params params;
  dc_sampler_params_init(&params); /* temperature 0: greedy */
  int rc = 0;

  dc_status *status = model_open(weights, &model);
  if (!status)
    status = dc_session_create(model, /*threads=*/0, &session); /* 0: every online CPU */
  if (!status)
    status = dc_sampler_create(&params, &sampler);
  /* The prompt in one call (the runtime splits it into steps of the program's max_tokens); the
   * logits of its last token come back, owned by the session. */
  const float *logits = NULL;
  if (!status)
    status = dc_session_prefill(session, prompt, prompt_length, NULL, &logits);
  const int64_t vocab = model ? dc_model_vocab_size(model) : 0;
  for (long long i = 0; !status && i < generate; ++i) {
    int32_t token = 0;
    status = dc_sampler_sample(sampler, logits, vocab, &token);
    if (status)
      break;
    printf(i ? " %" PRId32 : "%" PRId32, token);
    /* Feed the token to get the next row of logits; the last one needs no successor. */
    if (i + 1 < generate)
      status = dc_session_decode(session, token, &logits);
  }
  if (status)
    rc = fail(status);
  else
    printf("\n");

  dc_sampler_destroy(sampler);
  dc_session_destroy(session); /* before the model it belongs to */
  dc_model_close(model);
  free(prompt);
  return rc;
}
