/*===- cli_text.c - text prompts and the chat of a generated executable ---===*
 *
 * `model -p "text"`, `model -f prompt.txt` and `model --chat` run through the tokenizer the executable
 * embeds (deltac/tokenizer.h). Generated text streams to stdout as it is sampled (a UTF-8 character
 * split across tokens is held back until it is complete); generation stops at the end-of-turn
 * (<|im_end|>) or end-of-text (<|endoftext|>) token, or after -n tokens. Statistics go to stderr, or
 * into the one JSON object per prompt or turn with --json.
 *
 * The chat template is Qwen's ChatML, the one the Qwen3.5 checkpoints ship (docs/runtime.md):
 *
 *   <|im_start|>system\n{system}<|im_end|>\n          (with --system)
 *   <|im_start|>user\n{message}<|im_end|>\n
 *   <|im_start|>assistant\n<think>\n                   (--think, the template's default)
 *   <|im_start|>assistant\n<think>\n\n</think>\n\n     (--no-think)
 *
 * Each piece between special tokens is encoded on its own, as Hugging Face tokenizes the rendered
 * template; the user's text is encoded with special-token parsing off, so typing "<|im_end|>" cannot
 * end a turn. The session keeps the whole conversation: each turn feeds only its new tokens.
 *===----------------------------------------------------------------------===*/

#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Tokens generated per prompt when -n is not given. */
#define DC_TEXT_DEFAULT_GENERATE 512

/*---- A growing array of ids ------------------------------------------------------------------*/

typedef struct dc_ids {
  int32_t *v;
  int64_t n, cap;
} dc_ids;

static int dc_ids_reserve(dc_ids *ids, int64_t extra) {
  if (ids->n + extra <= ids->cap)
    return 1;
  int64_t cap = ids->cap ? ids->cap : 64;
  while (cap < ids->n + extra)
    cap *= 2;
  int32_t *v = realloc(ids->v, (size_t)cap * sizeof(int32_t));
  if (!v) {
    dc_error("out of memory");
    return 0;
  }
  ids->v = v;
  ids->cap = cap;
  return 1;
}

static int dc_ids_push(dc_ids *ids, int32_t id) {
  if (!dc_ids_reserve(ids, 1))
    return 0;
  ids->v[ids->n++] = id;
  return 1;
}

/* Appends the encoding of `text`. */
static int dc_ids_encode(dc_ids *ids, const dc_tokenizer *tokenizer, const char *text,
                         size_t length, int parse_special) {
  int32_t *encoded = NULL;
  size_t count = 0;
  dc_status *status =
      dc_tokenizer_encode(tokenizer, text, length, parse_special, &encoded, &count);
  if (status) {
    dc_fail(status, DC_EXIT_ERROR);
    return 0;
  }
  int ok = dc_ids_reserve(ids, (int64_t)count);
  if (ok) {
    if (count)
      memcpy(ids->v + ids->n, encoded, count * sizeof(int32_t));
    ids->n += (int64_t)count;
  }
  free(encoded);
  return ok;
}

/*---- Streaming UTF-8 -------------------------------------------------------------------------*/

/* Bytes written to stdout as tokens arrive, except an incomplete UTF-8 sequence at the end, which
 * waits for the next token. */
typedef struct dc_stream {
  unsigned char held[4];
  size_t n;
} dc_stream;

/* The length of the sequence a lead byte starts (1 for anything that is not a multi-byte lead). */
static size_t dc_utf8_length(unsigned char lead) {
  if (lead >= 0xf0 && lead <= 0xf4)
    return 4;
  if (lead >= 0xe0)
    return lead <= 0xef ? 3 : 1;
  if (lead >= 0xc2)
    return 2;
  return 1;
}

static void dc_stream_write(dc_stream *s, const char *bytes, size_t length) {
  /* The held bytes followed by `bytes`, seen as one sequence of `total` bytes. */
  const size_t total = s->n + length;
#define DC_AT(i) ((i) < s->n ? s->held[(i)] : (unsigned char)bytes[(i)-s->n])
  size_t cut = total;
  for (size_t back = 1; back <= 3 && back <= total; ++back) {
    unsigned char c = DC_AT(total - back);
    if ((c & 0xc0) == 0x80)
      continue; /* a continuation byte: look further back for its lead */
    if (dc_utf8_length(c) > back)
      cut = total - back; /* an incomplete sequence: hold it */
    break;
  }
  unsigned char rest[4];
  size_t kept = 0;
  for (size_t i = cut; i < total; ++i)
    rest[kept++] = DC_AT(i);
#undef DC_AT
  if (cut > 0) {
    size_t from_held = cut < s->n ? cut : s->n;
    fwrite(s->held, 1, from_held, stdout);
    if (cut > s->n)
      fwrite(bytes, 1, cut - s->n, stdout);
  }
  memcpy(s->held, rest, kept);
  s->n = kept;
  fflush(stdout);
}

/* Writes what is held (a sequence the model never completed) and forgets it. */
static void dc_stream_flush(dc_stream *s) {
  fwrite(s->held, 1, s->n, stdout);
  s->n = 0;
  fflush(stdout);
}

/*---- One prompt or turn ----------------------------------------------------------------------*/

typedef struct dc_text {
  const dc_options *o;
  dc_run *r;
  int32_t end_of_turn, end_of_text; /* -1 where the vocabulary has none */
  int progress;                     /* stderr is a terminal: show prefill progress */
  int64_t generate;                 /* -n, or the default */
} dc_text;

typedef struct dc_turn {
  int64_t prompt_tokens;
  double prefill_s;
  dc_ids out;         /* the generated ids, stop token excluded */
  int64_t decode_steps;
  double decode_s;
  const char *stop;   /* "end_of_turn", "end_of_text" or "length" */
  int32_t unfed;      /* the last sampled token when no decode step fed it, else -1 */
} dc_turn;

/* Prefills `n` ids in chunks of the program's max_tokens, with a progress line on a terminal. */
static dc_status *dc_prefill(const dc_text *t, const int32_t *ids, int64_t n,
                             const float **logits) {
  const int64_t chunk = dc_model_max_tokens(t->r->model);
  if (!t->progress || n <= chunk)
    return dc_session_prefill(t->r->session, ids, n, NULL, logits);
  const double start = dc_now();
  for (int64_t done = 0; done < n;) {
    int64_t step = n - done < chunk ? n - done : chunk;
    dc_status *status = dc_session_prefill(t->r->session, ids + done, step, NULL, logits);
    if (status) {
      fputs("\r\033[K", stderr);
      return status;
    }
    done += step;
    fprintf(stderr, "\rprompt: %" PRId64 "/%" PRId64 " tokens, %.1f tok/s", done, n,
            dc_rate(done, dc_now() - start));
    fflush(stderr);
  }
  fputs("\r\033[K", stderr);
  return DC_OK;
}

static int dc_is_stop(const dc_text *t, int32_t id, const char **name) {
  if (t->o->ignore_eos)
    return 0;
  if (id >= 0 && id == t->end_of_turn)
    *name = "end_of_turn";
  else if (id >= 0 && id == t->end_of_text)
    *name = "end_of_text";
  else
    return 0;
  return 1;
}

/* Feeds `prompt` and samples until a stop token or `t->generate` tokens; streams the text unless
 * --json. Returns 0 or the exit status. */
static int dc_turn_run(const dc_text *t, const dc_ids *prompt, dc_turn *turn) {
  dc_run *r = t->r;
  const int64_t context = dc_model_max_context(r->model);
  const int64_t position = dc_session_position(r->session);
  turn->prompt_tokens = prompt->n;
  turn->unfed = -1;
  turn->stop = "length";
  if (position + prompt->n > context) {
    if (position == 0)
      dc_error("the prompt of %" PRId64 " tokens does not fit the context of %" PRId64 " tokens",
               prompt->n, context);
    else
      dc_error("the conversation has filled the context of %" PRId64 " tokens", context);
    return position == 0 ? DC_EXIT_USAGE : DC_EXIT_ERROR;
  }
  /* The last sampled token is not fed, so `room` more positions allow room + 1 tokens. */
  const int64_t room = context - position - prompt->n;
  const int64_t generate = t->generate < room + 1 ? t->generate : room + 1;

  if (!prompt->n) {
    dc_error("the prompt is empty");
    return DC_EXIT_USAGE;
  }
  const float *logits = NULL;
  const double start = dc_now();
  dc_status *status = dc_prefill(t, prompt->v, prompt->n, &logits);
  turn->prefill_s = dc_now() - start;
  if (status)
    return dc_fail(status, DC_EXIT_ERROR);

  dc_stream stream = {{0}, 0};
  for (int64_t i = 0; i < generate; ++i) {
    int32_t token = 0;
    status = dc_sampler_sample(r->sampler, logits, r->vocab, &token);
    if (status)
      return dc_fail(status, DC_EXIT_ERROR);
    const char *stop = NULL;
    if (dc_is_stop(t, token, &stop)) {
      turn->stop = stop;
      break;
    }
    if (!dc_ids_push(&turn->out, token))
      return DC_EXIT_ERROR;
    if (!t->o->json) {
      size_t length = 0;
      const char *bytes = dc_tokenizer_token_bytes(r->tokenizer, token, &length);
      if (bytes)
        dc_stream_write(&stream, bytes, length);
    }
    if (i + 1 == generate) {
      turn->unfed = token;
      break;
    }
    const double step = dc_now();
    status = dc_session_decode(r->session, token, &logits);
    turn->decode_s += dc_now() - step;
    ++turn->decode_steps;
    if (status)
      return dc_fail(status, DC_EXIT_ERROR);
  }
  if (!t->o->json)
    dc_stream_flush(&stream);
  return 0;
}

/* The turn's statistics: one JSON object on stdout with --json, else lines on stderr. */
static int dc_turn_report(const dc_text *t, const dc_ids *prompt, const dc_turn *turn) {
  dc_run *r = t->r;
  const int32_t threads = dc_session_threads(r->session);
  const uint64_t rss = dc_peak_rss_bytes();
  if (t->o->json) {
    char *text = NULL;
    dc_status *status =
        dc_tokenizer_decode(r->tokenizer, turn->out.v, (size_t)turn->out.n, 0, &text);
    if (status)
      return dc_fail(status, DC_EXIT_ERROR);
    printf("{\"prompt_ids\": ");
    dc_json_ids(stdout, prompt->v, prompt->n);
    printf(", \"tokens\": ");
    dc_json_ids(stdout, turn->out.v, turn->out.n);
    printf(", \"text\": ");
    dc_json_string(stdout, text);
    free(text);
    printf(", \"stop\": \"%s\", \"prompt_tokens\": %" PRId64 ", \"prefill_s\": %.6f, "
           "\"prefill_tok_s\": %.3f, \"generated_tokens\": %" PRId64 ", \"decode_steps\": %" PRId64
           ", \"decode_s\": %.6f, \"decode_tok_s\": %.3f, \"position\": %" PRId64
           ", \"peak_rss_bytes\": %" PRIu64 ", \"threads\": %" PRId32 "}\n",
           turn->stop, turn->prompt_tokens, turn->prefill_s,
           dc_rate(turn->prompt_tokens, turn->prefill_s), turn->out.n, turn->decode_steps,
           turn->decode_s, dc_rate(turn->decode_steps, turn->decode_s),
           dc_session_position(r->session), rss, threads);
    fflush(stdout);
    return 0;
  }
  printf("\n");
  fflush(stdout);
  fprintf(stderr, "prompt tokens: %" PRId64 ", prefill: %.3f ms, %.2f tok/s\n",
          turn->prompt_tokens, turn->prefill_s * 1e3,
          dc_rate(turn->prompt_tokens, turn->prefill_s));
  fprintf(stderr,
          "generated tokens: %" PRId64 " (stop: %s), decode: %" PRId64 " steps, %.3f ms, %.2f "
          "tok/s\n",
          turn->out.n, turn->stop, turn->decode_steps, turn->decode_s * 1e3,
          dc_rate(turn->decode_steps, turn->decode_s));
  fprintf(stderr, "threads: %" PRId32 ", peak RSS: %.1f MiB\n", threads,
          (double)rss / (1024.0 * 1024.0));
  return 0;
}

/*---- The chat template -----------------------------------------------------------------------*/

typedef struct dc_chatml {
  int32_t im_start, im_end, think_open, think_close;
} dc_chatml;

static int dc_chatml_find(const dc_tokenizer *tokenizer, dc_chatml *c) {
  static const char *const names[] = {"<|im_start|>", "<|im_end|>", "<think>", "</think>"};
  int32_t *slots[] = {&c->im_start, &c->im_end, &c->think_open, &c->think_close};
  for (size_t i = 0; i < 4; ++i) {
    *slots[i] = dc_tokenizer_find(tokenizer, names[i]);
    if (*slots[i] < 0) {
      dc_error("--chat: the tokenizer has no %s token, which Qwen's chat template needs",
               names[i]);
      return 0;
    }
  }
  return 1;
}

/* Appends "<|im_start|>{role}\n{content}<|im_end|>\n"; `content` is encoded as plain text. */
static int dc_chatml_message(dc_ids *ids, const dc_tokenizer *tokenizer, const dc_chatml *c,
                             const char *role, const char *content, size_t length) {
  size_t head = strlen(role) + 1;
  char *piece = malloc(head + length + 1);
  if (!piece) {
    dc_error("out of memory");
    return 0;
  }
  snprintf(piece, head + 1, "%s\n", role);
  memcpy(piece + head, content, length);
  piece[head + length] = '\0';
  int ok = dc_ids_push(ids, c->im_start) &&
           dc_ids_encode(ids, tokenizer, piece, head + length, 0) && dc_ids_push(ids, c->im_end) &&
           dc_ids_encode(ids, tokenizer, "\n", 1, 0);
  free(piece);
  return ok;
}

/* The tokens of one user turn: what the previous turn still owes the session (its unfed last token
 * and the closing <|im_end|>\n), the system message on the first turn, the user's message, and the
 * assistant's header with the thinking switch. */
static int dc_chatml_turn(const dc_text *t, const dc_chatml *c, const dc_turn *previous,
                          const char *message, size_t length, dc_ids *ids) {
  const dc_tokenizer *tokenizer = t->r->tokenizer;
  if (previous) {
    if (previous->unfed >= 0 && !dc_ids_push(ids, previous->unfed))
      return 0;
    if (!dc_ids_push(ids, c->im_end) || !dc_ids_encode(ids, tokenizer, "\n", 1, 0))
      return 0;
  } else if (t->o->system &&
             !dc_chatml_message(ids, tokenizer, c, "system", t->o->system, strlen(t->o->system))) {
    return 0;
  }
  if (!dc_chatml_message(ids, tokenizer, c, "user", message, length) ||
      !dc_ids_push(ids, c->im_start) ||
      !dc_ids_encode(ids, tokenizer, "assistant\n", strlen("assistant\n"), 0) ||
      !dc_ids_push(ids, c->think_open))
    return 0;
  if (t->o->think)
    return dc_ids_encode(ids, tokenizer, "\n", 1, 0);
  return dc_ids_encode(ids, tokenizer, "\n\n", 2, 0) && dc_ids_push(ids, c->think_close) &&
         dc_ids_encode(ids, tokenizer, "\n\n", 2, 0);
}

/*---- Entry -----------------------------------------------------------------------------------*/

/* Reads a whole file into a NUL-terminated malloc'ed buffer. */
static char *dc_read_file(const char *path, size_t *out_length) {
  FILE *file = fopen(path, "rb");
  if (!file) {
    dc_error("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, length = 0;
  char *text = malloc(cap);
  while (text) {
    length += fread(text + length, 1, cap - length - 1, file);
    if (length < cap - 1)
      break;
    char *grown = realloc(text, cap * 2);
    if (!grown) {
      free(text);
      text = NULL;
      break;
    }
    text = grown;
    cap *= 2;
  }
  int failed = ferror(file);
  fclose(file);
  if (!text) {
    dc_error("out of memory");
    return NULL;
  }
  if (failed) {
    dc_error("%s: cannot read", path);
    free(text);
    return NULL;
  }
  text[length] = '\0';
  *out_length = length;
  return text;
}

/* The interactive chat: one user message per line of stdin until end of input or "/exit". */
static int dc_chat_loop(const dc_text *t, const dc_chatml *c) {
  const int interactive = isatty(STDIN_FILENO);
  dc_turn previous;
  int have_previous = 0;
  char *line = NULL;
  size_t line_cap = 0;
  int rc = 0;
  for (;;) {
    if (interactive) {
      fputs("> ", stderr);
      fflush(stderr);
    }
    ssize_t length = getline(&line, &line_cap, stdin);
    if (length < 0)
      break;
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
      line[--length] = '\0';
    if (length == 0)
      continue;
    if (!strcmp(line, "/exit"))
      break;
    dc_ids prompt = {0};
    dc_turn turn;
    memset(&turn, 0, sizeof(turn));
    rc = dc_chatml_turn(t, c, have_previous ? &previous : NULL, line, (size_t)length, &prompt)
             ? dc_turn_run(t, &prompt, &turn)
             : DC_EXIT_ERROR;
    if (!rc)
      rc = dc_turn_report(t, &prompt, &turn);
    free(prompt.v);
    if (have_previous)
      free(previous.out.v);
    previous = turn;
    have_previous = 1;
    if (rc)
      break;
  }
  if (have_previous)
    free(previous.out.v);
  free(line);
  return rc;
}

int dc_run_text(const dc_options *o, dc_run *r) {
  if (!r->tokenizer) {
    dc_error("this model was compiled from a checkpoint without a tokenizer (no tokenizer.json, "
             "or a GGUF without a vocabulary): give the prompt as token ids with --tokens");
    return DC_EXIT_USAGE;
  }
  dc_text t;
  memset(&t, 0, sizeof(t));
  t.o = o;
  t.r = r;
  t.end_of_turn = dc_tokenizer_find(r->tokenizer, "<|im_end|>");
  t.end_of_text = dc_tokenizer_find(r->tokenizer, "<|endoftext|>");
  t.progress = !o->json && isatty(STDERR_FILENO);
  t.generate = o->generate >= 0 ? o->generate : DC_TEXT_DEFAULT_GENERATE;
  dc_chatml chatml;
  if (o->chat && !dc_chatml_find(r->tokenizer, &chatml))
    return DC_EXIT_USAGE;
  if (o->chat && !o->prompt && !o->prompt_file)
    return dc_chat_loop(&t, &chatml);

  size_t length = 0;
  char *file_text = NULL;
  const char *text = o->prompt;
  if (o->prompt_file) {
    file_text = dc_read_file(o->prompt_file, &length);
    if (!file_text)
      return DC_EXIT_ERROR;
    text = file_text;
  } else {
    length = strlen(text);
  }
  dc_ids prompt = {0};
  int ok = o->chat ? dc_chatml_turn(&t, &chatml, NULL, text, length, &prompt)
                   : dc_ids_encode(&prompt, r->tokenizer, text, length, 1);
  free(file_text);
  dc_turn turn;
  memset(&turn, 0, sizeof(turn));
  int rc = ok ? dc_turn_run(&t, &prompt, &turn) : DC_EXIT_USAGE;
  if (!rc)
    rc = dc_turn_report(&t, &prompt, &turn);
  free(prompt.v);
  free(turn.out.v);
  return rc;
}
