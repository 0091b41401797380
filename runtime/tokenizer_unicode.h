/*===- tokenizer_unicode.h - Unicode properties and NFC for the tokenizer -===*
 *
 * Private to runtime/ (and its tests). The tables are generated into tokenizer_unicode_tables.c by
 * gen_tokenizer_unicode.py; this header declares them and the lookups on top of them.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_RUNTIME_TOKENIZER_UNICODE_H
#define DELTAC_RUNTIME_TOKENIZER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Property flags of dc_uc_flags. */
enum {
  DC_UC_L = 1,      /* general category L* (letter) */
  DC_UC_M = 2,      /* general category M* (mark) */
  DC_UC_N = 4,      /* general category N* (number) */
  DC_UC_WS = 8,     /* White_Space */
  DC_UC_UNSAFE = 16 /* may change under NFC: decomposes, combines, or has a non-zero class */
};

/* The generated tables (see gen_tokenizer_unicode.py for their meaning). */
extern const char dc_uc_version[];
extern const uint32_t dc_uc_props[];
extern const size_t dc_uc_props_count;
extern const uint32_t dc_uc_ccc[];
extern const size_t dc_uc_ccc_count;
extern const uint32_t dc_uc_decomp_cp[];
extern const uint32_t dc_uc_decomp_index[];
extern const size_t dc_uc_decomp_cp_count;
extern const uint32_t dc_uc_decomp_pool[];
extern const uint64_t dc_uc_comp_key[];
extern const uint32_t dc_uc_comp_value[];
extern const size_t dc_uc_comp_key_count;

/* The DC_UC_* flags of code point `cp` (0 past U+10FFFF). */
unsigned dc_uc_flags(uint32_t cp);

/* The canonical combining class of `cp`. */
unsigned dc_uc_combining_class(uint32_t cp);

/* NFC of the `count` code points at `in` (Unicode scalar values), written to `out`, which must
 * hold dc_uc_nfc_bound(count) code points. Returns the number written. `in` and `out` must not
 * overlap. */
size_t dc_uc_nfc(const uint32_t *in, size_t count, uint32_t *out);

/* The most code points dc_uc_nfc may write for `count` input code points (a canonical
 * decomposition is at most 4 code points long). */
size_t dc_uc_nfc_bound(size_t count);

#endif /* DELTAC_RUNTIME_TOKENIZER_UNICODE_H */
