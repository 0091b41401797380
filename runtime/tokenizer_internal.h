/*===- tokenizer_internal.h - tokenizer internals for tests ---------------===*
 *
 * Private to runtime/ and its tests.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_RUNTIME_TOKENIZER_INTERNAL_H
#define DELTAC_RUNTIME_TOKENIZER_INTERNAL_H

#include "deltac/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Steps 2 and 3 of encoding only (NFC and the pre-tokenizer regex, no added-token split, no BPE)
 * on `length` bytes of UTF-8 at `text`: *out_pieces receives the pieces, each followed by the
 * byte 0x1F, NUL-terminated, malloc'd (the caller frees it with free()). Invalid UTF-8 is
 * DC_STATUS_INVALID_ARGUMENT. */
dc_status *dc_tokenizer_pretokenize(const dc_tokenizer *tokenizer, const char *text,
                                    size_t length, char **out_pieces);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_RUNTIME_TOKENIZER_INTERNAL_H */
