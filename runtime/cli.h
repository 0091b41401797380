/*===- cli.h - what the files of a generated executable's CLI share -------===*
 *
 * Private to DeltacRuntimeMain: main.c parses the command line and runs token-id prompts and
 * --bench; cli_text.c runs text prompts (-p, -f) and the chat (--chat) through the tokenizer the
 * executable embeds; cli_common.c holds the output helpers both use.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_RUNTIME_CLI_H
#define DELTAC_RUNTIME_CLI_H

#include "deltac/runtime.h"
#include "deltac/tokenizer.h"

#include <stdint.h>
#include <stdio.h>

#define DC_EXIT_ERROR 1
#define DC_EXIT_USAGE 2

typedef struct dc_options {
  /* The prompt: exactly one of token ids (--tokens), text (-p / -f), or none with --chat (the
   * user's turns come from stdin) or --bench. */
  int32_t *tokens;
  int64_t token_count;
  const char *prompt;      /* -p TEXT */
  const char *prompt_file; /* -f FILE */
  int chat;                /* --chat: the model's ChatML template around each turn */
  const char *system;      /* --system TEXT */
  int think;               /* --think (1) / --no-think (0); the template's default is 1 */
  int ignore_eos;          /* --ignore-eos: generate -n tokens whatever is sampled */
  int64_t generate;        /* -n; -1 until set */
  dc_sampler_params sampler;
  int32_t threads;
  const char *weights;
  int mmap; /* --mmap: DC_WEIGHTS_MAP instead of DC_WEIGHTS_READ */
  const char *dump_logits;
  int bench;
  int64_t bench_prompt;
  int64_t bench_gen;
  int json;
} dc_options;

/* What a run holds open; main.c creates and frees it. `tokenizer` is NULL in an executable built
 * from a checkpoint without one. */
typedef struct dc_run {
  dc_model *model;
  dc_session *session;
  dc_sampler *sampler;
  int64_t vocab;
  dc_tokenizer *tokenizer;
} dc_run;

/* One line `error: <what>` on stderr (after flushing stdout). */
void dc_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Prints the status as an error line, frees it, and returns `code`. */
int dc_fail(dc_status *status, int code);

/* Seconds on a monotonic clock. */
double dc_now(void);

/* tokens / seconds, 0 for no time. */
double dc_rate(int64_t tokens, double seconds);

/* The peak resident set of this process in bytes (0 if unknown). */
uint64_t dc_peak_rss_bytes(void);

/* `s` as a JSON string literal on `out` (bytes >= 0x80 are copied: the text is UTF-8). */
void dc_json_string(FILE *out, const char *s);

/* `count` ids as a JSON array on `out`. */
void dc_json_ids(FILE *out, const int32_t *ids, int64_t count);

/* Runs -p / -f / --chat. Returns the exit status. */
int dc_run_text(const dc_options *o, dc_run *r);

#endif /* DELTAC_RUNTIME_CLI_H */
