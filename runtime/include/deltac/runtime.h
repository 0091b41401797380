/*===- deltac/runtime.h - the deltac runtime's public C API ---------------===*
 *
 * The runtime every compiled model links against (docs/runtime.md). It binds to the program table
 * a compiled model exports (deltac/program.h), maps the model's weight store
 *(deltac/weight_store.h), runs the program's entry points on a pool of threads, and samples tokens.
 *
 *   dc_model    a program bound to its weights: the mapped store, the weight pointers in program
 *               order, f32 copies of the half-precision vectors the program wants as f32. Read-only
 *               once open; any number of sessions (on any threads) may share one model.
 *   dc_session  one sequence: the program's states (KV caches, convolution and delta-rule states),
 *               the scratch arena, per-thread kernel scratch, a thread pool, and the position.
 *               One thread at a time may call a session's functions.
 *   dc_sampler  picks a token from a row of logits (greedy, or temperature / top-k / top-p / min-p
 *               with a seeded generator).
 *
 * Errors. A function that can fail returns a `dc_status *`: NULL (DC_OK) on success, otherwise a
 * status object the caller owns and frees with dc_status_free. Its message is one line naming what
 * failed (and the file, for weight-store errors). On failure no `out_` parameter is written, unless
 * the function says otherwise.
 *
 * Ownership is stated on every function below. In short: every object a dc_*_create / dc_*_open
 * function returns is owned by the caller and freed by the matching destroy / close function
 * (each accepts NULL); pointers a function returns into an object stay owned by that object.
 *
 * Only <stdint.h> and <stddef.h>.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_RUNTIME_H
#define DELTAC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Declared in deltac/program.h: the table a compiled model exports. */
struct dc_program;

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

typedef enum dc_status_code {
  DC_STATUS_OK = 0,
  DC_STATUS_INVALID_ARGUMENT = 1, /* a bad argument: token id out of range, bad sampler params */
  DC_STATUS_NOT_FOUND = 2,        /* a missing file, or a weight the store does not hold */
  DC_STATUS_IO_ERROR = 3,         /* open, stat or mmap failed */
  DC_STATUS_INVALID_FORMAT = 4,   /* a weight store that fails validation (truncated, corrupt) */
  DC_STATUS_MISMATCH = 5,     /* weights of another model (fingerprint), an ABI version, a dtype,
                                 a CPU without the features of the program's target */
  DC_STATUS_OUT_OF_RANGE = 6, /* the context is full */
  DC_STATUS_OUT_OF_MEMORY = 7,
  DC_STATUS_INTERNAL = 8, /* an entry point or an operation failed, a thread did not start */
} dc_status_code;

/* An error: a code and a one-line message. NULL means success. */
typedef struct dc_status dc_status;

#define DC_OK ((dc_status *)0)

/* The code of `status`; DC_STATUS_OK for NULL. Does not take ownership. */
dc_status_code dc_status_get_code(const dc_status *status);

/* The message of `status` (one line, no trailing newline, no "error:" prefix); "ok" for NULL. The
 * string is owned by `status` and lives until dc_status_free(status). */
const char *dc_status_message(const dc_status *status);

/* A static name for `code` ("ok", "invalid argument", ...); never NULL, never freed. */
const char *dc_status_code_name(dc_status_code code);

/* Frees `status` (NULL is fine). */
void dc_status_free(dc_status *status);

/*===----------------------------------------------------------------------===*
 * Model: a program bound to its weight store
 *===----------------------------------------------------------------------===*/

typedef struct dc_model dc_model;

/* How dc_model_open_with brings a weight store into memory. */
typedef enum dc_weight_load {
  /* Read the file into private memory on transparent huge pages where the kernel gives them
   * (read-only once loaded): fewer TLB misses while decode streams the weights (1.5-5% faster
   * decode measured, docs/runtime.md). The model's own copy: each process holds one, and under
   * memory pressure it can only be swapped, not dropped. The default. Where the kernel gives no
   * huge pages, or no such memory can be had, the file is mapped as with DC_WEIGHTS_MAP. */
  DC_WEIGHTS_READ = 0,
  /* Map the file read-only (all pages populated at open): processes that open the same store share
   * the page cache's copy. */
  DC_WEIGHTS_MAP = 1,
} dc_weight_load;

/* Binds `program` to the weight store at `weights_path`:
 *  - checks the program table (ABI versions, sizes, entry points);
 *  - reads the store into memory (DC_WEIGHTS_READ) and validates its header and every table entry
 *    as `deltac`'s own reader does (magic, version, size against the file, dtypes, shapes, byte
 * counts, alignment, bounds, sorted unique names);
 *  - refuses a store whose fingerprint differs from program->weight_fingerprint (the message names
 *    both fingerprints and the file);
 *  - resolves program->weight_names in order. A weight stored in the dtype the program asks for
 *    points into the store's memory; an f16 or bf16 weight the program asks for as f32 is converted
 * once into an owned, 64-byte aligned f32 copy; any other dtype difference, and a missing name, is
 * an error naming the weight. `program` is not copied: it (normally the static dc_model_program)
 * must outlive the model. `weights_path` is copied. On success *out_model is a new model the caller
 * owns and frees with dc_model_close. */
dc_status *dc_model_open(const struct dc_program *program, const char *weights_path,
                         dc_model **out_model);

/* dc_model_open with the store brought into memory as `load` says. */
dc_status *dc_model_open_with(const struct dc_program *program, const char *weights_path,
                              dc_weight_load load, dc_model **out_model);

/* The same as dc_model_open for a weight store embedded in the executable (`deltac compile
 * --embed-weights`): the `size` bytes at `data`, which must stay valid and unchanged until the model
 * is closed and are never freed by the runtime. Errors name the store "<embedded weights>". */
dc_status *dc_model_open_embedded(const struct dc_program *program, const void *data, size_t size,
                                  dc_model **out_model);

/* Unmaps the store and frees the model (NULL is fine). Every session of the model must have been
 * destroyed first. */
void dc_model_close(dc_model *model);

/* Accessors; none takes ownership. Strings are owned by the program or the model and live as long
 * as the model. */
const struct dc_program *dc_model_program_of(const dc_model *model);
int64_t dc_model_vocab_size(const dc_model *model);
int64_t dc_model_max_context(const dc_model *model);
int64_t dc_model_max_tokens(const dc_model *model);
uint64_t dc_model_fingerprint(const dc_model *model);
const char *dc_model_weights_path(const dc_model *model);

/* The data of weight `index` (program order) in the dtype the program asked for: a pointer into the
 * mapped store, or into the model's f32 copy. Owned by the model; NULL when index is out of range.
 */
const void *dc_model_weight(const dc_model *model, int64_t index);

/*===----------------------------------------------------------------------===*
 * Session: one sequence's state and the threads that advance it
 *===----------------------------------------------------------------------===*/

typedef struct dc_session dc_session;

/* Creates a session of `model` at position 0: the program's states zeroed, its scratch arena
 * (64-byte aligned), a logits buffer of max_tokens x vocab floats (pages are committed only as they
 * are written), and a pool of `threads` threads, the calling thread included (`threads` <= 0: the
 * number of online CPUs), each with kernel scratch that grows on first use to what the program's
 * ops need. The model must outlive the session. On success *out_session is a new session the
 * caller owns and frees with dc_session_destroy. */
dc_status *dc_session_create(dc_model *model, int32_t threads, dc_session **out_session);

/* Frees the session, its buffers and its threads (NULL is fine). */
void dc_session_destroy(dc_session *session);

/* Feeds `n_tokens` (>= 1) tokens at the current position and advances the position by n_tokens.
 * The runtime splits the tokens into calls of at most max_tokens to the program's prefill entry.
 * Before running anything it checks every id against [0, vocab) (DC_STATUS_INVALID_ARGUMENT) and
 * that position + n_tokens <= max_context (DC_STATUS_OUT_OF_RANGE); a refused call changes nothing.
 *   tokens         n_tokens ids, owned by the caller, read during the call only
 *   all_logits     NULL, or a caller-owned buffer of n_tokens x vocab floats that receives the
 *                  logits of every token, row by row
 *   out_logits     NULL, or receives a pointer to the last token's vocab logits: into all_logits
 *                  when given, else into the session's buffer, valid until the next call that
 *                  runs or resets the session
 * If an entry point fails midway the states are left in an unspecified state: reset the session. */
dc_status *dc_session_prefill(dc_session *session, const int32_t *tokens, int64_t n_tokens,
                              float *all_logits, const float **out_logits);

/* Feeds one token through the program's decode entry (same checks as prefill) and advances the
 * position by one. *out_logits (if out_logits is not NULL) receives a pointer to the vocab logits,
 * owned by the session and valid until the next call that runs or resets the session. */
dc_status *dc_session_decode(dc_session *session, int32_t token, const float **out_logits);

/* Back to position 0 with every state zero; keeps buffers and threads. */
void dc_session_reset(dc_session *session);

/* Tokens fed so far (the position the next token takes). */
int64_t dc_session_position(const dc_session *session);

/* Threads the session runs on, the caller included. */
int32_t dc_session_threads(const dc_session *session);

/*===----------------------------------------------------------------------===*
 * Sampler
 *===----------------------------------------------------------------------===*/

typedef struct dc_sampler dc_sampler;

/* Sampling parameters. Filters apply in this order, each to what the previous one kept (the order
 * of Hugging Face's logits warpers): probabilities p = softmax(logits / temperature); top_k keeps
 * the k most likely tokens; top_p keeps the smallest most-likely prefix whose probability
 * (renormalized over what top_k kept) reaches top_p; min_p keeps tokens with p >= min_p * max p.
 * Ties order by lower token id. */
typedef struct dc_sampler_params {
  float temperature; /* >= 0; 0: greedy (the arg-max, lowest id on ties; the other fields unused) */
  int32_t top_k;     /* >= 0; 0: off */
  float top_p;       /* in (0, 1]; 1: off */
  float min_p;       /* in [0, 1]; 0: off */
  uint64_t seed;     /* the generator's seed: equal seeds and inputs give equal draws */
} dc_sampler_params;

/* Fills *params with greedy defaults: temperature 0, top_k 0, top_p 1, min_p 0, seed 0. */
void dc_sampler_params_init(dc_sampler_params *params);

/* Validates *params (copied) and creates a sampler. On success *out_sampler is a new sampler the
 * caller owns and frees with dc_sampler_destroy. */
dc_status *dc_sampler_create(const dc_sampler_params *params, dc_sampler **out_sampler);

/* Frees the sampler (NULL is fine). */
void dc_sampler_destroy(dc_sampler *sampler);

/* Picks a token from `logits` (vocab_size floats, owned by the caller, read only) and advances the
 * generator. NaN logits count as -infinity; a row with no finite logit is an error. The sampler's
 * working memory grows to vocab_size entries on first use and is reused. */
dc_status *dc_sampler_sample(dc_sampler *sampler, const float *logits, int64_t vocab_size,
                             int32_t *out_token);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_RUNTIME_H */
