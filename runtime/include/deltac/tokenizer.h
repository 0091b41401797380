/*===- deltac/tokenizer.h - the byte-level BPE tokenizer of Qwen models ----===*
 *
 * A compiled model carries its tokenizer as a "tokenizer blob" (docs/tokenizer.md) that the
 * importer builds from the checkpoint's tokenizer.json or GGUF metadata. This API parses a blob
 * and encodes and decodes text exactly as Hugging Face `tokenizers` does with the checkpoint's
 * tokenizer.json:
 *
 *   added tokens split out of the raw text -> NFC of the other pieces -> the Qwen pre-tokenizer
 *   regex -> byte-level BPE (the adjacent pair of lowest merge rank first).
 *
 * Errors and ownership follow deltac/runtime.h: a failing function returns a status the caller
 * frees with dc_status_free, and writes no `out_` parameter. A dc_tokenizer is read-only once
 * open: any number of threads may use one at the same time.
 *
 * Only <stdint.h> and <stddef.h> (and deltac/runtime.h for dc_status).
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_TOKENIZER_H
#define DELTAC_TOKENIZER_H

#include "runtime.h" /* deltac/runtime.h, next to this header wherever it is copied */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dc_tokenizer dc_tokenizer;

/* Parses and validates the tokenizer blob of `size` bytes at `blob` (docs/tokenizer.md): magic,
 * version, every count and offset, every id a merge or an added token names. The blob is
 * borrowed, not copied: it must stay valid and unchanged until the tokenizer is closed, and is
 * never freed by the runtime. A malformed blob is a DC_STATUS_INVALID_FORMAT status, never a
 * crash. On success *out_tokenizer is a new tokenizer the caller owns and frees with
 * dc_tokenizer_close. */
dc_status *dc_tokenizer_open(const void *blob, size_t size, dc_tokenizer **out_tokenizer);

/* Frees the tokenizer and its lookup tables (NULL is fine). The blob is not touched. */
void dc_tokenizer_close(dc_tokenizer *tokenizer);

/* Encodes the `length` bytes of UTF-8 at `text` (need not be NUL-terminated; read during the call
 * only) into token ids, exactly as Hugging Face `tokenizers` encodes it with
 * add_special_tokens=False (Qwen adds no BOS).
 *   parse_special  != 0: special tokens written in the text (e.g. "<|im_start|>") become their
 *                  ids; 0: they are encoded as plain text (Hugging Face's encode_special_tokens).
 *                  Added tokens that are not special are always split out, as Hugging Face does.
 *   out_ids        receives a malloc'd array of *out_count ids that the caller frees with free()
 *                  (NULL when the count is 0).
 * Invalid UTF-8 is a DC_STATUS_INVALID_ARGUMENT status. */
dc_status *dc_tokenizer_encode(const dc_tokenizer *tokenizer, const char *text, size_t length,
                               int parse_special, int32_t **out_ids, size_t *out_count);

/* Decodes `count` ids (owned by the caller, read during the call only) into text: the tokens'
 * bytes concatenated, with every sequence that is not valid UTF-8 replaced by U+FFFD as Hugging
 * Face's decode (Rust's from_utf8_lossy) does. skip_special != 0 drops special tokens.
 * *out_text receives a malloc'd, NUL-terminated string the caller frees with free(). An id
 * outside the vocabulary (negative, >= vocab size, or a gap with no token) is a
 * DC_STATUS_INVALID_ARGUMENT status. */
dc_status *dc_tokenizer_decode(const dc_tokenizer *tokenizer, const int32_t *ids, size_t count,
                               int skip_special, char **out_text);

/* The raw bytes of token `id` (a vocabulary token's bytes may be part of a UTF-8 sequence: for
 * streaming, buffer them until they form whole characters), their count in *out_length (if
 * out_length is not NULL). Not NUL-terminated. Owned by the tokenizer's blob; valid until the
 * tokenizer is closed. NULL (and *out_length untouched) for an id outside the vocabulary. */
const char *dc_tokenizer_token_bytes(const dc_tokenizer *tokenizer, int32_t id,
                                     size_t *out_length);

/* The id of the token whose text is exactly the NUL-terminated `token_text` (read during the call
 * only): an added token's content (e.g. "<|im_end|>"), else a vocabulary token's raw bytes (" the",
 * not the byte-level form "Ġthe"); -1 if there is none. */
int32_t dc_tokenizer_find(const dc_tokenizer *tokenizer, const char *token_text);

/* 1 if `id` is a special token (dropped by decode's skip_special), else 0 (also for an id outside
 * the vocabulary). */
int dc_tokenizer_is_special(const dc_tokenizer *tokenizer, int32_t id);

/* 1 + the largest token id. */
int32_t dc_tokenizer_vocab_size(const dc_tokenizer *tokenizer);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_TOKENIZER_H */
