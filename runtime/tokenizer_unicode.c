/*===- tokenizer_unicode.c - Unicode properties and NFC for the tokenizer -===*
 *
 * Lookups are binary searches over the generated breakpoint tables; NFC is the textbook algorithm
 * (UAX #15): full canonical decomposition (Hangul algorithmically), canonical ordering of each run
 * of non-starters, then canonical composition with blocking.
 *===----------------------------------------------------------------------===*/

#include "tokenizer_unicode.h"

enum {
  SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7,
  LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT
};

/* The value of the breakpoint table entry covering `cp` (entries are first << 8 | value). */
static unsigned breakpoint_value(const uint32_t *table, size_t count, uint32_t cp) {
  uint32_t key = (cp << 8) | 0xFF;
  size_t lo = 0, hi = count; /* first entry > key */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (table[mid] <= key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == 0 ? 0 : (table[lo - 1] & 0xFF);
}

unsigned dc_uc_flags(uint32_t cp) {
  if (cp > 0x10FFFF)
    return 0;
  return breakpoint_value(dc_uc_props, dc_uc_props_count, cp);
}

unsigned dc_uc_combining_class(uint32_t cp) {
  if (cp < 0x300 || cp > 0x10FFFF)
    return 0;
  return breakpoint_value(dc_uc_ccc, dc_uc_ccc_count, cp);
}

size_t dc_uc_nfc_bound(size_t count) { return 4 * count; }

/* Appends the full canonical decomposition of `cp` to out; returns the new length. */
static size_t decompose(uint32_t cp, uint32_t *out, size_t n) {
  if (cp >= SBASE && cp < SBASE + SCOUNT) {
    uint32_t s = cp - SBASE;
    out[n++] = LBASE + s / NCOUNT;
    out[n++] = VBASE + (s % NCOUNT) / TCOUNT;
    if (s % TCOUNT)
      out[n++] = TBASE + s % TCOUNT;
    return n;
  }
  size_t lo = 0, hi = dc_uc_decomp_cp_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (dc_uc_decomp_cp[mid] < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < dc_uc_decomp_cp_count && dc_uc_decomp_cp[lo] == cp) {
    uint32_t index = dc_uc_decomp_index[lo];
    const uint32_t *d = dc_uc_decomp_pool + (index >> 8);
    for (uint32_t i = 0; i < (index & 0xFF); ++i)
      out[n++] = d[i];
    return n;
  }
  out[n++] = cp;
  return n;
}

/* The primary composite of (a, b), or 0. */
static uint32_t compose(uint32_t a, uint32_t b) {
  if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
    return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
  if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE &&
      b < TBASE + TCOUNT)
    return a + (b - TBASE);
  uint64_t key = ((uint64_t)a << 21) | b;
  size_t lo = 0, hi = dc_uc_comp_key_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (dc_uc_comp_key[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < dc_uc_comp_key_count && dc_uc_comp_key[lo] == key ? dc_uc_comp_value[lo] : 0;
}

size_t dc_uc_nfc(const uint32_t *in, size_t count, uint32_t *out) {
  /* Decompose. */
  size_t n = 0;
  for (size_t i = 0; i < count; ++i) {
    if (in[i] < 0xC0)
      out[n++] = in[i];
    else
      n = decompose(in[i], out, n);
  }
  /* Canonical ordering: a stable insertion sort of every run of non-starters by class. */
  for (size_t i = 1; i < n; ++i) {
    unsigned c = dc_uc_combining_class(out[i]);
    if (c == 0)
      continue;
    uint32_t cp = out[i];
    size_t j = i;
    while (j > 0) {
      unsigned p = dc_uc_combining_class(out[j - 1]);
      if (p == 0 || p <= c)
        break;
      out[j] = out[j - 1];
      --j;
    }
    out[j] = cp;
  }
  /* Compose: each character combines with the last starter unless a character in between has a
   * class of zero or one not lower than its own (blocking). */
  if (n == 0)
    return 0;
  size_t starter = 0, w = 1;
  unsigned last_class = dc_uc_combining_class(out[0]);
  if (last_class != 0)
    starter = (size_t)-1;
  for (size_t i = 1; i < n; ++i) {
    uint32_t cp = out[i];
    unsigned c = dc_uc_combining_class(cp);
    if (starter != (size_t)-1) {
      int blocked = w - 1 != starter && (last_class == 0 || last_class >= c);
      if (!blocked) {
        uint32_t composite = compose(out[starter], cp);
        if (composite) {
          out[starter] = composite;
          continue;
        }
      }
    }
    if (c == 0) {
      starter = w;
    }
    last_class = c;
    out[w++] = cp;
  }
  return w;
}
