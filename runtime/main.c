/*===- main.c - the command line of every generated executable ------------===*
 *
 * A compiled model links this file, cli_text.c, cli_common.c, the runtime and its kernels into one
 * executable that runs the model: `model -p "text"`, `model --chat`, or `model --tokens 1,2,3 -n 16`.
 * It depends only on the C library family (libc, libm, libpthread). docs/runtime.md describes the
 * options; `--help` lists them.
 *
 * Errors: one line `error: <what>` on stderr; exit status 2 for a bad command line (including a
 * prompt that does not fit the model), 1 for anything else.
 *===----------------------------------------------------------------------===*/

#include "cli.h"
#include "deltac/program.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The weight store of an executable compiled with --embed-weights (Compile.cpp emits them with
 * .incbin); null in every other executable. --weights still overrides it. */
extern const uint8_t dc_embedded_weights[] __attribute__((weak));
extern const uint8_t dc_embedded_weights_end[] __attribute__((weak));

/* The tokenizer blob (docs/tokenizer.md) of a model compiled from a checkpoint that has one; null
 * otherwise. */
extern const uint8_t dc_embedded_tokenizer[] __attribute__((weak));
extern const uint8_t dc_embedded_tokenizer_end[] __attribute__((weak));

static const char *dc_program_name = "model";

static void dc_usage(FILE *out) {
  fprintf(
      out,
      "usage: %s [options]\n"
      "Runs the compiled model on a prompt and prints what it generates.\n"
      "\n"
      "  -p, --prompt TEXT     prompt text; the generated text streams to stdout\n"
      "  -f, --file FILE       prompt text read from FILE\n"
      "  --chat                chat with the model's ChatML template: with -p or -f one turn,\n"
      "                        else one user message per line of stdin (/exit ends)\n"
      "  --system TEXT         the system message of the chat\n"
      "  --think, --no-think   let the model think first (the template's default), or not\n"
      "  --ignore-eos          do not stop at the end-of-turn and end-of-text tokens\n"
      "  --tokens LIST         prompt token ids, comma-separated (1,2,3); prints the generated "
      "ids\n"
      "  -n N                  tokens to generate (default 16 for --tokens, 512 for text,\n"
      "                        fewer when the context fills)\n"
      "  --temp T              sampling temperature (default 0: greedy)\n"
      "  --top-k K             keep the K most likely tokens (default 0: off)\n"
      "  --top-p P             keep the most likely tokens up to mass P (default 1: off)\n"
      "  --min-p P             keep tokens at least P times as likely as the best (default 0)\n"
      "  --seed S              sampling seed (default 0)\n"
      "  --threads N           threads (default: the number of online CPUs)\n"
      "  --weights PATH        weight store (default: this executable's path + .dcw)\n"
      "  --mmap                map the weight store instead of reading it into huge pages\n"
      "                        (shared by processes, droppable when memory is tight;\n"
      "                        decode is a few percent slower)\n"
      "  --dump-logits FILE    write float32 logits, one vocab row per prompt position and\n"
      "                        per generated token\n"
      "  --bench               time a prefill and decode steps instead of running a prompt\n"
      "  --bench-prompt N      prefill tokens for --bench (default 512)\n"
      "  --bench-gen M         decode steps for --bench (default 128)\n"
      "  --json                print one JSON object on stdout (statistics, the tokens and the\n"
      "                        text); one per turn in a chat\n"
      "  -h, --help            this text\n",
      dc_program_name);
}

static int dc_parse_int(const char *option, const char *text, int64_t min, int64_t max,
                        int64_t *out) {
  errno = 0;
  char *end = NULL;
  long long value = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE) {
    dc_error("%s: '%s' is not an integer", option, text);
    return 0;
  }
  if (value < min || value > max) {
    dc_error("%s: %lld is not in [%" PRId64 ", %" PRId64 "]", option, value, min, max);
    return 0;
  }
  *out = value;
  return 1;
}

static int dc_parse_u64(const char *option, const char *text, uint64_t *out) {
  errno = 0;
  char *end = NULL;
  if (*text == '-') {
    dc_error("%s: '%s' is not a non-negative integer", option, text);
    return 0;
  }
  unsigned long long value = strtoull(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE) {
    dc_error("%s: '%s' is not a non-negative integer", option, text);
    return 0;
  }
  *out = value;
  return 1;
}

static int dc_parse_float(const char *option, const char *text, float *out) {
  errno = 0;
  char *end = NULL;
  double value = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(value)) {
    dc_error("%s: '%s' is not a number", option, text);
    return 0;
  }
  *out = (float)value;
  return 1;
}

static int dc_parse_tokens(const char *text, dc_options *o) {
  free(o->tokens); /* a repeated --tokens replaces the earlier one */
  o->tokens = NULL;
  int64_t count = 1;
  for (const char *c = text; *c; ++c)
    count += *c == ',';
  o->tokens = malloc((size_t)count * sizeof(int32_t));
  if (!o->tokens) {
    dc_error("out of memory");
    return 0;
  }
  const char *c = text;
  for (int64_t i = 0; i < count; ++i) {
    errno = 0;
    char *end = NULL;
    long long value = strtoll(c, &end, 10);
    if (end == c || (*end != ',' && *end != '\0') || errno == ERANGE || value < 0 ||
        value > INT32_MAX) {
      dc_error("--tokens: '%s' is not a comma-separated list of token ids", text);
      return 0;
    }
    o->tokens[i] = (int32_t)value;
    c = end + 1;
  }
  o->token_count = count;
  return 1;
}

/* Returns 0 to go on, or the exit status. */
static int dc_parse_args(int argc, char **argv, dc_options *o) {
  int think_given = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      dc_usage(stdout);
      return -1;
    }
    if (!strcmp(arg, "--bench")) {
      o->bench = 1;
      continue;
    }
    if (!strcmp(arg, "--json")) {
      o->json = 1;
      continue;
    }
    if (!strcmp(arg, "--chat")) {
      o->chat = 1;
      continue;
    }
    if (!strcmp(arg, "--think") || !strcmp(arg, "--no-think")) {
      o->think = !strcmp(arg, "--think");
      think_given = 1;
      continue;
    }
    if (!strcmp(arg, "--ignore-eos")) {
      o->ignore_eos = 1;
      continue;
    }
    if (!strcmp(arg, "--mmap")) {
      o->mmap = 1;
      continue;
    }
    /* Every other option takes a value: `--opt VALUE` or `--opt=VALUE`. */
    char name[64];
    const char *value = NULL;
    const char *equals = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    if (equals && (size_t)(equals - arg) < sizeof(name)) {
      memcpy(name, arg, (size_t)(equals - arg));
      name[equals - arg] = '\0';
      value = equals + 1;
    } else {
      snprintf(name, sizeof(name), "%s", arg);
    }
    static const char *const with_value[] = {
        "--tokens", "-n",        "--temp",    "--top-k",       "--top-p",        "--min-p",
        "--seed",   "--threads", "--weights", "--dump-logits", "--bench-prompt", "--bench-gen",
        "-p",       "--prompt",  "-f",        "--file",        "--system"};
    int known = 0;
    for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); ++k)
      known |= !strcmp(name, with_value[k]);
    if (!known) {
      dc_error("unknown option '%s' (see --help)", arg);
      return DC_EXIT_USAGE;
    }
    if (!value) {
      if (i + 1 >= argc) {
        dc_error("%s needs a value", name);
        return DC_EXIT_USAGE;
      }
      value = argv[++i];
    }
    int ok = 1;
    int64_t n = 0;
    if (!strcmp(name, "--tokens")) {
      ok = dc_parse_tokens(value, o);
    } else if (!strcmp(name, "-p") || !strcmp(name, "--prompt")) {
      o->prompt = value;
    } else if (!strcmp(name, "-f") || !strcmp(name, "--file")) {
      o->prompt_file = value;
    } else if (!strcmp(name, "--system")) {
      o->system = value;
    } else if (!strcmp(name, "-n")) {
      ok = dc_parse_int(name, value, 0, INT32_MAX, &o->generate);
    } else if (!strcmp(name, "--temp")) {
      ok = dc_parse_float(name, value, &o->sampler.temperature);
      if (ok && o->sampler.temperature < 0) {
        dc_error("--temp: %s is negative", value);
        ok = 0;
      }
    } else if (!strcmp(name, "--top-k")) {
      ok = dc_parse_int(name, value, 0, INT32_MAX, &n);
      o->sampler.top_k = (int32_t)n;
    } else if (!strcmp(name, "--top-p")) {
      ok = dc_parse_float(name, value, &o->sampler.top_p);
      if (ok && !(o->sampler.top_p > 0 && o->sampler.top_p <= 1)) {
        dc_error("--top-p: %s is not in (0, 1]", value);
        ok = 0;
      }
    } else if (!strcmp(name, "--min-p")) {
      ok = dc_parse_float(name, value, &o->sampler.min_p);
      if (ok && !(o->sampler.min_p >= 0 && o->sampler.min_p <= 1)) {
        dc_error("--min-p: %s is not in [0, 1]", value);
        ok = 0;
      }
    } else if (!strcmp(name, "--seed")) {
      ok = dc_parse_u64(name, value, &o->sampler.seed);
    } else if (!strcmp(name, "--threads")) {
      ok = dc_parse_int(name, value, 1, 4096, &n);
      o->threads = (int32_t)n;
    } else if (!strcmp(name, "--weights")) {
      o->weights = value;
    } else if (!strcmp(name, "--dump-logits")) {
      o->dump_logits = value;
    } else if (!strcmp(name, "--bench-prompt")) {
      ok = dc_parse_int(name, value, 1, INT32_MAX, &o->bench_prompt);
    } else if (!strcmp(name, "--bench-gen")) {
      ok = dc_parse_int(name, value, 0, INT32_MAX, &o->bench_gen);
    }
    if (!ok)
      return DC_EXIT_USAGE;
  }
  const int sources = !!o->tokens + !!o->prompt + !!o->prompt_file + !!o->bench;
  if (sources == 0 && !o->chat) {
    dc_error("no prompt: pass -p TEXT, -f FILE, --chat, --tokens 1,2,3 or --bench");
    return DC_EXIT_USAGE;
  }
  if (sources > 1) {
    dc_error("give one of -p, -f, --tokens and --bench");
    return DC_EXIT_USAGE;
  }
  if (o->chat && (o->tokens || o->bench)) {
    dc_error("--chat takes its prompt from -p, -f or stdin, not from %s",
             o->tokens ? "--tokens" : "--bench");
    return DC_EXIT_USAGE;
  }
  if (!o->chat && (o->system || think_given)) {
    dc_error("%s goes with --chat", o->system ? "--system" : "--think/--no-think");
    return DC_EXIT_USAGE;
  }
  if (o->dump_logits && !o->tokens) {
    dc_error("--dump-logits goes with --tokens");
    return DC_EXIT_USAGE;
  }
  return 0;
}

/* The executable's own path + ".dcw", through /proc/self/exe so any working directory works.
 * Returns a malloc'ed string or NULL. */
static char *dc_default_weights(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return NULL;
  exe[n] = '\0';
  char *path = malloc((size_t)n + 5);
  if (path)
    snprintf(path, (size_t)n + 5, "%s.dcw", exe);
  return path;
}

static int dc_write_rows(FILE *file, const char *path, const float *rows, int64_t count,
                         int64_t vocab) {
  if (fwrite(rows, sizeof(float) * (size_t)vocab, (size_t)count, file) != (size_t)count) {
    dc_error("%s: cannot write logits: %s", path, strerror(errno));
    return 0;
  }
  return 1;
}

/* Removes the logits file at path after a failed run, so that no part of a dump is left behind: a
 * regular file only (a dump written to a device or a pipe is left alone). */
static void dc_remove_partial_dump(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
    (void)remove(path);
}

static int dc_generate(const dc_options *o, dc_run *r) {
  const int64_t context = dc_model_max_context(r->model);
  const int64_t max_tokens = dc_model_max_tokens(r->model);
  for (int64_t i = 0; i < o->token_count; ++i)
    if (o->tokens[i] >= r->vocab) {
      dc_error("--tokens: token id %" PRId32 " is outside the vocabulary of %" PRId64 " tokens",
               o->tokens[i], r->vocab);
      return DC_EXIT_USAGE;
    }
  if (o->token_count + o->generate > context) {
    dc_error("a prompt of %" PRId64 " tokens and %" PRId64
             " generated ones exceed the context length of %" PRId64 " tokens",
             o->token_count, o->generate, context);
    return DC_EXIT_USAGE;
  }
  FILE *dump = NULL;
  float *rows = NULL;
  if (o->dump_logits) {
    dump = fopen(o->dump_logits, "wb");
    if (!dump) {
      dc_error("%s: cannot open for writing: %s", o->dump_logits, strerror(errno));
      return DC_EXIT_ERROR;
    }
    rows = malloc((size_t)max_tokens * (size_t)r->vocab * sizeof(float));
    if (!rows) {
      fclose(dump);
      dc_remove_partial_dump(o->dump_logits);
      dc_error("out of memory");
      return DC_EXIT_ERROR;
    }
  }
  int32_t *generated = malloc(((size_t)o->generate + 1) * sizeof(int32_t));
  if (!generated) {
    free(rows);
    if (dump) {
      fclose(dump);
      dc_remove_partial_dump(o->dump_logits);
    }
    dc_error("out of memory");
    return DC_EXIT_ERROR;
  }

  int rc = DC_EXIT_ERROR;
  dc_status *status = DC_OK;
  const float *logits = NULL;
  double start = dc_now();
  if (dump) {
    /* Chunks of max_tokens, so the rows are written from a bounded buffer. */
    for (int64_t done = 0; done < o->token_count && !status;) {
      int64_t chunk = o->token_count - done < max_tokens ? o->token_count - done : max_tokens;
      status = dc_session_prefill(r->session, o->tokens + done, chunk, rows, &logits);
      if (!status && !dc_write_rows(dump, o->dump_logits, rows, chunk, r->vocab))
        goto done;
      done += chunk;
    }
  } else {
    status = dc_session_prefill(r->session, o->tokens, o->token_count, NULL, &logits);
  }
  if (status) {
    rc = dc_fail(status, DC_EXIT_ERROR);
    goto done;
  }
  const double prefill_s = dc_now() - start;

  double decode_s = 0;
  int64_t decode_steps = 0;
  for (int64_t i = 0; i < o->generate; ++i) {
    status = dc_sampler_sample(r->sampler, logits, r->vocab, &generated[i]);
    if (status) {
      rc = dc_fail(status, DC_EXIT_ERROR);
      goto done;
    }
    if (!o->json) {
      printf(i ? " %" PRId32 : "%" PRId32, generated[i]);
      fflush(stdout);
    }
    /* The last token is fed only for its logits row in the dump. */
    if (i + 1 == o->generate && !dump)
      break;
    double step = dc_now();
    status = dc_session_decode(r->session, generated[i], &logits);
    decode_s += dc_now() - step;
    ++decode_steps;
    if (status) {
      rc = dc_fail(status, DC_EXIT_ERROR);
      goto done;
    }
    if (dump && !dc_write_rows(dump, o->dump_logits, logits, 1, r->vocab))
      goto done;
  }
  if (dump) {
    FILE *file = dump;
    dump = NULL;
    if (fclose(file) != 0) {
      dc_error("%s: cannot write logits: %s", o->dump_logits, strerror(errno));
      goto done;
    }
  }

  const int32_t threads = dc_session_threads(r->session);
  const uint64_t rss = dc_peak_rss_bytes();
  if (o->json) {
    printf("{\"tokens\": ");
    dc_json_ids(stdout, generated, o->generate);
    printf(", \"prompt_tokens\": %" PRId64 ", \"prefill_s\": %.6f, \"prefill_tok_s\": %.3f, "
           "\"generated_tokens\": %" PRId64 ", \"decode_steps\": %" PRId64
           ", \"decode_s\": %.6f, \"decode_tok_s\": %.3f, \"peak_rss_bytes\": %" PRIu64
           ", \"threads\": %" PRId32 "}\n",
           o->token_count, prefill_s, dc_rate(o->token_count, prefill_s), o->generate, decode_steps,
           decode_s, dc_rate(decode_steps, decode_s), rss, threads);
  } else {
    printf("\n");
  }
  fflush(stdout);
  fprintf(stderr, "prompt tokens: %" PRId64 ", prefill: %.3f ms, %.2f tok/s\n", o->token_count,
          prefill_s * 1e3, dc_rate(o->token_count, prefill_s));
  fprintf(stderr, "generated tokens: %" PRId64 ", decode: %" PRId64 " steps, %.3f ms, %.2f tok/s\n",
          o->generate, decode_steps, decode_s * 1e3, dc_rate(decode_steps, decode_s));
  fprintf(stderr, "threads: %" PRId32 ", peak RSS: %.1f MiB\n", threads,
          (double)rss / (1024.0 * 1024.0));
  rc = 0;
done:
  if (dump)
    fclose(dump);
  if (rc != 0 && rows) /* the dump was opened */
    dc_remove_partial_dump(o->dump_logits);
  free(rows);
  free(generated);
  return rc;
}

static int dc_bench(const dc_options *o, dc_run *r) {
  const int64_t context = dc_model_max_context(r->model);
  if (o->bench_prompt + o->bench_gen > context) {
    dc_error("--bench-prompt %" PRId64 " and --bench-gen %" PRId64
             " exceed the context length of %" PRId64 " tokens",
             o->bench_prompt, o->bench_gen, context);
    return DC_EXIT_USAGE;
  }
  int32_t *prompt = malloc((size_t)o->bench_prompt * sizeof(int32_t));
  if (!prompt) {
    dc_error("out of memory");
    return DC_EXIT_ERROR;
  }
  /* Spread-out ids, the same every run. */
  for (int64_t i = 0; i < o->bench_prompt; ++i)
    prompt[i] = (int32_t)((i * 7919 + 1) % r->vocab);
  const float *logits = NULL;
  double start = dc_now();
  dc_status *status = dc_session_prefill(r->session, prompt, o->bench_prompt, NULL, &logits);
  const double prefill_s = dc_now() - start;
  free(prompt);
  if (status)
    return dc_fail(status, DC_EXIT_ERROR);
  start = dc_now();
  for (int64_t i = 0; i < o->bench_gen; ++i) {
    int32_t token = 0;
    status = dc_sampler_sample(r->sampler, logits, r->vocab, &token);
    if (!status)
      status = dc_session_decode(r->session, token, &logits);
    if (status)
      return dc_fail(status, DC_EXIT_ERROR);
  }
  const double decode_s = dc_now() - start;
  const int32_t threads = dc_session_threads(r->session);
  const uint64_t rss = dc_peak_rss_bytes();
  const dc_program *program = dc_model_program_of(r->model);
  if (o->json) {
    printf("{\"architecture\": ");
    dc_json_string(stdout, program->architecture);
    printf(", \"target\": ");
    dc_json_string(stdout, program->target);
    printf(", \"prefill_tokens\": %" PRId64 ", \"prefill_s\": %.6f, \"prefill_tok_s\": %.3f, "
           "\"decode_tokens\": %" PRId64 ", \"decode_s\": %.6f, \"decode_tok_s\": %.3f, "
           "\"peak_rss_bytes\": %" PRIu64 ", \"threads\": %" PRId32 "}\n",
           o->bench_prompt, prefill_s, dc_rate(o->bench_prompt, prefill_s), o->bench_gen, decode_s,
           dc_rate(o->bench_gen, decode_s), rss, threads);
  } else {
    printf("prefill: %" PRId64 " tokens, %.3f ms, %.2f tok/s\n", o->bench_prompt, prefill_s * 1e3,
           dc_rate(o->bench_prompt, prefill_s));
    printf("decode: %" PRId64 " tokens, %.3f ms, %.2f tok/s\n", o->bench_gen, decode_s * 1e3,
           dc_rate(o->bench_gen, decode_s));
    printf("threads: %" PRId32 ", peak RSS: %.1f MiB\n", threads, (double)rss / (1024.0 * 1024.0));
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 0 && argv[0] && *argv[0])
    dc_program_name = argv[0];
  dc_options o;
  memset(&o, 0, sizeof(o));
  o.generate = -1;
  o.think = 1;
  o.bench_prompt = 512;
  o.bench_gen = 128;
  dc_sampler_params_init(&o.sampler);
  int rc = dc_parse_args(argc, argv, &o);
  if (rc != 0) {
    free(o.tokens);
    return rc < 0 ? 0 : rc;
  }
  if (o.tokens && o.generate < 0)
    o.generate = 16;

  char *default_weights = NULL;
  const char *weights = o.weights;
  int embedded = !weights && dc_embedded_weights;
  if (!weights && !embedded) {
    default_weights = dc_default_weights();
    if (!default_weights) {
      dc_error("cannot find this executable's path to locate its weights; pass --weights");
      free(o.tokens);
      return DC_EXIT_ERROR;
    }
    weights = default_weights;
  }

  dc_run r;
  memset(&r, 0, sizeof(r));
  dc_status *status =
      embedded ? dc_model_open_embedded(&dc_model_program, dc_embedded_weights,
                                        (size_t)(dc_embedded_weights_end - dc_embedded_weights),
                                        &r.model)
               : dc_model_open_with(&dc_model_program, weights,
                                    o.mmap ? DC_WEIGHTS_MAP : DC_WEIGHTS_READ, &r.model);
  if (!status)
    status = dc_session_create(r.model, o.threads, &r.session);
  if (!status)
    status = dc_sampler_create(&o.sampler, &r.sampler);
  if (!status && dc_embedded_tokenizer && !o.tokens && !o.bench)
    status = dc_tokenizer_open(dc_embedded_tokenizer,
                               (size_t)(dc_embedded_tokenizer_end - dc_embedded_tokenizer),
                               &r.tokenizer);
  if (status) {
    rc = dc_fail(status, DC_EXIT_ERROR);
  } else {
    r.vocab = dc_model_vocab_size(r.model);
    rc = o.bench ? dc_bench(&o, &r) : o.tokens ? dc_generate(&o, &r) : dc_run_text(&o, &r);
  }
  dc_tokenizer_close(r.tokenizer);
  dc_sampler_destroy(r.sampler);
  dc_session_destroy(r.session);
  dc_model_close(r.model);
  free(default_weights);
  free(o.tokens);
  return rc;
}
