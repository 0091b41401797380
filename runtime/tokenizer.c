/*===- tokenizer.c - the byte-level BPE tokenizer of Qwen models ----------===*
 *
 * Encoding follows Hugging Face `tokenizers` for Qwen's tokenizer.json step by step:
 *   1. added tokens are matched literally in the raw text, leftmost-longest (its Aho-Corasick
 *      automaton's match kind); the text between them is the input of the next steps;
 *   2. NFC (skipped for a piece whose every code point is NFC-stable, the common case);
 *   3. the Split pre-tokenizer: the Qwen regex, implemented by hand in match_piece();
 *   4. BPE on each piece's UTF-8 bytes: every byte starts as its own token, then the adjacent pair
 *      of lowest merge rank is merged (leftmost first on ties) until no pair has a merge. A binary
 *      heap of candidate pairs with lazy invalidation, as Hugging Face's word merge does.
 * The blob stores raw token bytes, so the byte-level (GPT-2 byte-to-unicode) mapping never appears
 * here: the importer undid it.
 *===----------------------------------------------------------------------===*/

#include "deltac/tokenizer.h"

#include "runtime_internal.h"
#include "tokenizer_internal.h"
#include "tokenizer_unicode.h"

#include <stdlib.h>
#include <string.h>

/*===----------------------------------------------------------------------===*
 * The blob (docs/tokenizer.md)
 *===----------------------------------------------------------------------===*/

#define DC_TOK_MAGIC "DCTK"
#define DC_TOK_VERSION 1u
#define DC_TOK_HEADER_SIZE 32u

enum { PRE_QWEN2 = 1, PRE_QWEN35 = 2 };
enum { BLOB_NFC = 1u, BLOB_IGNORE_MERGES = 2u };
enum { TOKEN_VOCAB = 1u, TOKEN_ADDED = 2u, TOKEN_SPECIAL = 4u };

typedef struct merge_slot {
  uint64_t key; /* left << 32 | right; EMPTY_KEY when free */
  uint32_t rank;
  int32_t result;
} merge_slot;

#define EMPTY_KEY UINT64_MAX

typedef struct added_token {
  int32_t id;
  uint32_t length;
  const uint8_t *content;
  int special;
} added_token;

struct dc_tokenizer {
  const uint8_t *blob;
  uint32_t pretokenizer;
  uint32_t flags;
  int32_t vocab_size;
  const uint8_t *token_offsets; /* vocab_size + 1 little-endian u32 */
  const uint8_t *token_flags;
  const uint8_t *pool;
  int32_t byte_token[256]; /* the vocabulary token of each single byte, or -1 */
  merge_slot *merges;      /* open addressing, merge_mask + 1 slots */
  uint64_t merge_mask;
  int32_t *token_slots; /* vocabulary tokens by bytes, open addressing; -1 free */
  uint64_t token_mask;
  added_token *added; /* longest first */
  uint32_t added_count;
  uint8_t added_first_byte[256]; /* 1 if some added token starts with that byte */
};

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t token_offset(const dc_tokenizer *t, int32_t id) {
  return read_u32(t->token_offsets + 4 * (size_t)id);
}

static const uint8_t *token_data(const dc_tokenizer *t, int32_t id, uint32_t *length) {
  uint32_t begin = token_offset(t, id);
  *length = token_offset(t, id + 1) - begin;
  return t->pool + begin;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static uint64_t hash_pair(uint64_t key) {
  key *= 0x9E3779B97F4A7C15ull;
  return key ^ (key >> 31);
}

static uint64_t table_size_for(uint64_t entries) {
  uint64_t size = 16;
  while (size < 2 * entries)
    size *= 2;
  return size;
}

static dc_status *blob_error(const char *what) {
  return dc_status_make(DC_STATUS_INVALID_FORMAT, "tokenizer blob: %s", what);
}

/* The vocabulary token whose bytes are exactly p[0, n), or -1. */
static int32_t find_vocab_token(const dc_tokenizer *t, const uint8_t *p, size_t n) {
  for (uint64_t slot = hash_bytes(p, n) & t->token_mask;; slot = (slot + 1) & t->token_mask) {
    int32_t id = t->token_slots[slot];
    if (id < 0)
      return -1;
    uint32_t length;
    const uint8_t *data = token_data(t, id, &length);
    if (length == n && memcmp(data, p, n) == 0)
      return id;
  }
}

static const merge_slot *find_merge(const dc_tokenizer *t, int32_t left, int32_t right) {
  uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
  for (uint64_t slot = hash_pair(key) & t->merge_mask;; slot = (slot + 1) & t->merge_mask) {
    const merge_slot *s = &t->merges[slot];
    if (s->key == key)
      return s;
    if (s->key == EMPTY_KEY)
      return NULL;
  }
}

static int compare_added(const void *a, const void *b) {
  const added_token *x = a, *y = b;
  if (x->length != y->length)
    return x->length > y->length ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

dc_status *dc_tokenizer_open(const void *blob, size_t size, dc_tokenizer **out_tokenizer) {
  const uint8_t *b = blob;
  if (!blob || !out_tokenizer)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "dc_tokenizer_open: NULL argument");
  if (size < DC_TOK_HEADER_SIZE)
    return blob_error("shorter than its header");
  if (memcmp(b, DC_TOK_MAGIC, 4) != 0)
    return blob_error("bad magic (not a deltac tokenizer blob)");
  uint32_t version = read_u32(b + 4);
  if (version != DC_TOK_VERSION)
    return dc_status_make(DC_STATUS_INVALID_FORMAT,
                          "tokenizer blob: version %u, this runtime reads version %u", version,
                          DC_TOK_VERSION);
  uint32_t pretokenizer = read_u32(b + 8), flags = read_u32(b + 12);
  uint32_t vocab = read_u32(b + 16), merge_count = read_u32(b + 20);
  uint32_t added_count = read_u32(b + 24), pool_size = read_u32(b + 28);
  if (pretokenizer != PRE_QWEN2 && pretokenizer != PRE_QWEN35)
    return blob_error("unknown pre-tokenizer");
  if (flags & ~(uint32_t)(BLOB_NFC | BLOB_IGNORE_MERGES))
    return blob_error("unknown flags");
  if (vocab == 0 || vocab > (uint32_t)INT32_MAX - 1)
    return blob_error("bad vocabulary size");
  if (added_count > vocab)
    return blob_error("more added tokens than tokens");

  /* Sections, back to back, each a multiple of 4 bytes: offsets, flags, merges, added, pool. */
  uint64_t offsets_at = DC_TOK_HEADER_SIZE;
  uint64_t flags_at = offsets_at + 4 * ((uint64_t)vocab + 1);
  uint64_t merges_at = flags_at + (((uint64_t)vocab + 3) & ~(uint64_t)3);
  uint64_t added_at = merges_at + 12 * (uint64_t)merge_count;
  uint64_t pool_at = added_at + 16 * (uint64_t)added_count;
  uint64_t end = pool_at + (uint64_t)pool_size;
  if (end != (uint64_t)size)
    return blob_error("size does not match its header (truncated or corrupt)");

  dc_tokenizer *t = calloc(1, sizeof(dc_tokenizer));
  if (!t)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory opening a tokenizer");
  t->blob = b;
  t->pretokenizer = pretokenizer;
  t->flags = flags;
  t->vocab_size = (int32_t)vocab;
  t->token_offsets = b + offsets_at;
  t->token_flags = b + flags_at;
  t->pool = b + pool_at;
  dc_status *status = DC_OK;

  /* Tokens: monotonic offsets inside the pool; known flags; present tokens non-empty. */
  uint64_t vocab_tokens = 0;
  if (token_offset(t, 0) != 0)
    status = blob_error("token offsets do not start at 0");
  for (uint32_t i = 0; !status && i < vocab; ++i) {
    uint32_t begin = token_offset(t, (int32_t)i), stop = token_offset(t, (int32_t)i + 1);
    uint8_t f = t->token_flags[i];
    if (stop < begin || stop > pool_size)
      status = blob_error("token offsets out of order or past the string pool");
    else if (f & ~(TOKEN_VOCAB | TOKEN_ADDED | TOKEN_SPECIAL))
      status = blob_error("unknown token flags");
    else if ((f & TOKEN_SPECIAL) && !(f & TOKEN_ADDED))
      status = blob_error("a special token that is not an added token");
    else if ((f & (TOKEN_VOCAB | TOKEN_ADDED)) ? stop == begin : stop != begin)
      status = blob_error("an empty token, or bytes for an id without a token");
    vocab_tokens += (f & TOKEN_VOCAB) != 0;
  }

  /* Vocabulary tokens by bytes (the first of equal byte strings wins), and single bytes. */
  for (int i = 0; i < 256; ++i)
    t->byte_token[i] = -1;
  if (!status) {
    uint64_t slots = table_size_for(vocab_tokens);
    t->token_mask = slots - 1;
    t->token_slots = malloc(slots * sizeof(int32_t));
    if (!t->token_slots)
      status = dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory opening a tokenizer");
    else
      memset(t->token_slots, 0xFF, slots * sizeof(int32_t));
  }
  for (uint32_t i = 0; !status && i < vocab; ++i) {
    if (!(t->token_flags[i] & TOKEN_VOCAB))
      continue;
    uint32_t length;
    const uint8_t *data = token_data(t, (int32_t)i, &length);
    if (find_vocab_token(t, data, length) >= 0)
      continue;
    uint64_t slot = hash_bytes(data, length) & t->token_mask;
    while (t->token_slots[slot] >= 0)
      slot = (slot + 1) & t->token_mask;
    t->token_slots[slot] = (int32_t)i;
    if (length == 1)
      t->byte_token[data[0]] = (int32_t)i;
  }

  /* Merges: ids of vocabulary tokens, the result's bytes the concatenation of the pair's. */
  if (!status) {
    uint64_t slots = table_size_for(merge_count);
    t->merge_mask = slots - 1;
    t->merges = malloc(slots * sizeof(merge_slot));
    if (!t->merges)
      status = dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory opening a tokenizer");
    for (uint64_t i = 0; !status && i < slots; ++i)
      t->merges[i].key = EMPTY_KEY;
  }
  for (uint32_t rank = 0; !status && rank < merge_count; ++rank) {
    const uint8_t *m = b + merges_at + 12 * (uint64_t)rank;
    uint32_t left = read_u32(m), right = read_u32(m + 4), result = read_u32(m + 8);
    if (left >= vocab || right >= vocab || result >= vocab ||
        !(t->token_flags[left] & t->token_flags[right] & t->token_flags[result] & TOKEN_VOCAB)) {
      status = blob_error("a merge names an id that is not a vocabulary token");
      break;
    }
    uint32_t ll, rl, xl;
    const uint8_t *ld = token_data(t, (int32_t)left, &ll), *rd = token_data(t, (int32_t)right, &rl);
    const uint8_t *xd = token_data(t, (int32_t)result, &xl);
    if ((uint64_t)ll + rl != xl || memcmp(xd, ld, ll) != 0 || memcmp(xd + ll, rd, rl) != 0) {
      status = blob_error("a merge's result is not the concatenation of its pair");
      break;
    }
    uint64_t key = (uint64_t)left << 32 | right;
    uint64_t slot = hash_pair(key) & t->merge_mask;
    while (t->merges[slot].key != EMPTY_KEY && t->merges[slot].key != key)
      slot = (slot + 1) & t->merge_mask;
    if (t->merges[slot].key == key)
      continue; /* a repeated pair keeps its lowest rank */
    t->merges[slot].key = key;
    t->merges[slot].rank = rank;
    t->merges[slot].result = (int32_t)result;
  }

  /* Added tokens. */
  if (!status && added_count) {
    t->added = calloc(added_count, sizeof(added_token));
    if (!t->added)
      status = dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory opening a tokenizer");
  }
  for (uint32_t i = 0; !status && i < added_count; ++i) {
    const uint8_t *a = b + added_at + 16 * (uint64_t)i;
    uint32_t id = read_u32(a), offset = read_u32(a + 4), length = read_u32(a + 8);
    if (id >= vocab || !(t->token_flags[id] & TOKEN_ADDED)) {
      status = blob_error("an added token names an id not flagged as added");
      break;
    }
    if (length == 0 || offset > pool_size || length > pool_size - offset || read_u32(a + 12)) {
      status = blob_error("an added token's content is empty or past the string pool");
      break;
    }
    t->added[i].id = (int32_t)id;
    t->added[i].content = t->pool + offset;
    t->added[i].length = length;
    t->added[i].special = (t->token_flags[id] & TOKEN_SPECIAL) != 0;
    t->added_first_byte[t->pool[offset]] = 1;
  }
  if (!status) {
    t->added_count = added_count;
    if (added_count)
      qsort(t->added, added_count, sizeof(added_token), compare_added);
  }

  if (status) {
    dc_tokenizer_close(t);
    return status;
  }
  *out_tokenizer = t;
  return DC_OK;
}

void dc_tokenizer_close(dc_tokenizer *tokenizer) {
  if (!tokenizer)
    return;
  free(tokenizer->merges);
  free(tokenizer->token_slots);
  free(tokenizer->added);
  free(tokenizer);
}

/*===----------------------------------------------------------------------===*
 * Small accessors
 *===----------------------------------------------------------------------===*/

static int valid_id(const dc_tokenizer *t, int32_t id) {
  return id >= 0 && id < t->vocab_size && (t->token_flags[id] & (TOKEN_VOCAB | TOKEN_ADDED));
}

const char *dc_tokenizer_token_bytes(const dc_tokenizer *tokenizer, int32_t id,
                                     size_t *out_length) {
  if (!tokenizer || !valid_id(tokenizer, id))
    return NULL;
  uint32_t length;
  const uint8_t *data = token_data(tokenizer, id, &length);
  if (out_length)
    *out_length = length;
  return (const char *)data;
}

int32_t dc_tokenizer_find(const dc_tokenizer *tokenizer, const char *token_text) {
  if (!tokenizer || !token_text)
    return -1;
  size_t n = strlen(token_text);
  for (uint32_t i = 0; i < tokenizer->added_count; ++i) {
    const added_token *a = &tokenizer->added[i];
    if (a->length == n && memcmp(a->content, token_text, n) == 0)
      return a->id;
  }
  return n ? find_vocab_token(tokenizer, (const uint8_t *)token_text, n) : -1;
}

int dc_tokenizer_is_special(const dc_tokenizer *tokenizer, int32_t id) {
  return tokenizer && id >= 0 && id < tokenizer->vocab_size &&
         (tokenizer->token_flags[id] & TOKEN_SPECIAL) != 0;
}

int32_t dc_tokenizer_vocab_size(const dc_tokenizer *tokenizer) {
  return tokenizer ? tokenizer->vocab_size : 0;
}

/*===----------------------------------------------------------------------===*
 * UTF-8
 *===----------------------------------------------------------------------===*/

/* The length of the valid UTF-8 sequence at p[0, n) (n >= 1), or 0 if it is not one; the code
 * point in *cp. Well-formed means Unicode's table 3-7: no overlongs, surrogates or > U+10FFFF. */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp) {
  uint8_t c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (n < 2 || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < len; ++i)
    if (i >= n || (p[i] & 0xC0) != 0x80)
      return 0;
  uint32_t v = c & (0x7F >> len);
  for (size_t i = 1; i < len; ++i)
    v = v << 6 | (p[i] & 0x3F);
  *cp = v;
  return len;
}

/* The length of the longest prefix of p[0, n) that starts a valid sequence but is cut short: the
 * "maximal subpart" that becomes one U+FFFD (at least 1). */
static size_t utf8_maximal_subpart(const uint8_t *p, size_t n) {
  uint8_t c = p[0];
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else
    return 1;
  if (n < 2 || p[1] < lo || p[1] > hi)
    return 1;
  size_t i = 2;
  while (i < len && i < n && (p[i] & 0xC0) == 0x80)
    ++i;
  return i;
}

static size_t utf8_put(uint32_t cp, uint8_t *out) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | cp >> 6);
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | cp >> 12);
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | cp >> 18);
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/*===----------------------------------------------------------------------===*
 * Encoding
 *===----------------------------------------------------------------------===*/

/* Growable scratch arrays of one encode call. */
typedef struct encoder {
  const dc_tokenizer *t;
  int32_t *ids;
  size_t count, capacity;
  uint32_t *cps, *nfc;
  uint8_t *classes;
  size_t cps_capacity, nfc_capacity, classes_capacity;
  uint8_t *bytes;
  size_t bytes_capacity;
  /* BPE word state: symbols and their linked list, in one buffer of 3 x word_capacity */
  int32_t *word, *sym, *prev, *next;
  uint64_t *heap;
  size_t word_capacity, heap_capacity;
  /* dc_tokenizer_pretokenize: the pieces instead of BPE, each followed by 0x1F */
  int split_only;
  uint8_t *split;
  size_t split_count, split_capacity;
  int failed;
} encoder;

static int grow(void **buffer, size_t *capacity, size_t needed, size_t element) {
  if (needed <= *capacity)
    return 1;
  size_t n = *capacity ? *capacity : 64;
  while (n < needed)
    n *= 2;
  if (n > SIZE_MAX / element)
    return 0;
  void *p = realloc(*buffer, n * element);
  if (!p)
    return 0;
  *buffer = p;
  *capacity = n;
  return 1;
}

static void emit(encoder *e, int32_t id) {
  if (!grow((void **)&e->ids, &e->capacity, e->count + 1, sizeof(int32_t))) {
    e->failed = 1;
    return;
  }
  e->ids[e->count++] = id;
}

/* The class bits of one code point as the pre-tokenizer sees them. */
enum { C_L = DC_UC_L, C_M = DC_UC_M, C_N = DC_UC_N, C_WS = DC_UC_WS, C_CRLF = 32 };

static uint8_t ascii_class(uint32_t c) {
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
    return C_L;
  if (c >= '0' && c <= '9')
    return C_N;
  if (c == '\r' || c == '\n')
    return C_WS | C_CRLF;
  if (c == ' ' || (c >= 0x09 && c <= 0x0D))
    return C_WS;
  return 0;
}

static uint32_t fold_ascii(uint32_t c) {
  if (c >= 'A' && c <= 'Z')
    return c + 32;
  if (c == 0x17F) /* LATIN SMALL LETTER LONG S case-folds to s */
    return 's';
  return c;
}

/* The end of the regex match at i (> i), under the Qwen pattern (docs/tokenizer.md):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?L+ | \p{N} | ` ?[^\s\p{L}\p{N}]+[\r\n]*`
 *   | \s*[\r\n]+ | \s+(?!\S) | \s+
 * where L is \p{L} (qwen2) or [\p{L}\p{M}] (qwen35, which also keeps marks out of the
 * punctuation run). The first alternative that matches wins, each with its greedy/backtracking
 * meaning; 0 if none matches (impossible for these patterns, kept for safety). */
static size_t match_piece(const uint32_t *cp, const uint8_t *cls, size_t n, size_t i,
                          int qwen35) {
  const uint8_t letter = qwen35 ? (C_L | C_M) : C_L;
  const uint8_t not_punct = qwen35 ? (C_WS | C_L | C_M | C_N) : (C_WS | C_L | C_N);
  uint32_t c = cp[i];
  uint8_t k = cls[i];
  if (c == '\'' && i + 1 < n) {
    uint32_t a = fold_ascii(cp[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
      return i + 2;
    if (i + 2 < n) {
      uint32_t b = fold_ascii(cp[i + 2]);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return i + 3;
    }
  }
  if (k & letter) {
    size_t j = i + 1;
    while (j < n && (cls[j] & letter))
      ++j;
    return j;
  }
  if (!(k & (C_CRLF | C_L | C_N)) && i + 1 < n && (cls[i + 1] & letter)) {
    size_t j = i + 2;
    while (j < n && (cls[j] & letter))
      ++j;
    return j;
  }
  if (k & C_N)
    return i + 1;
  {
    size_t j = i;
    if (c == ' ' && i + 1 < n && !(cls[i + 1] & not_punct))
      j = i + 1;
    if (!(cls[j] & not_punct)) {
      while (j < n && !(cls[j] & not_punct))
        ++j;
      while (j < n && (cls[j] & C_CRLF))
        ++j;
      return j;
    }
  }
  if (k & C_WS) {
    size_t j = i, last_crlf = n;
    while (j < n && (cls[j] & C_WS)) {
      if (cls[j] & C_CRLF)
        last_crlf = j;
      ++j;
    }
    if (last_crlf != n)
      return last_crlf + 1; /* \s*[\r\n]+ */
    if (j == n || j - i == 1)
      return j;             /* \s+(?!\S) at the end, or the lone \s+ */
    return j - 1;           /* \s+(?!\S) gives back the last space before a non-space */
  }
  return 0;
}

/* Heap entries: rank << 32 | position, smallest first (ties: leftmost, as Hugging Face). */
static void heap_push(uint64_t *heap, size_t *n, uint64_t v) {
  size_t i = (*n)++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap[parent] <= v)
      break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = v;
}

static uint64_t heap_pop(uint64_t *heap, size_t *n) {
  uint64_t top = heap[0], v = heap[--*n];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= *n)
      break;
    if (child + 1 < *n && heap[child + 1] < heap[child])
      ++child;
    if (heap[child] >= v)
      break;
    heap[i] = heap[child];
    i = child;
  }
  if (*n)
    heap[i] = v;
  return top;
}

static void push_pair(encoder *e, size_t *heap_n, int32_t pos) {
  int32_t nxt = e->next[pos];
  if (nxt < 0)
    return;
  const merge_slot *m = find_merge(e->t, e->sym[pos], e->sym[nxt]);
  if (m)
    heap_push(e->heap, heap_n, (uint64_t)m->rank << 32 | (uint32_t)pos);
}

/* BPE of one pre-tokenized piece. */
static void encode_word(encoder *e, const uint8_t *bytes, size_t n) {
  const dc_tokenizer *t = e->t;
  if (n == 1) {
    if (t->byte_token[bytes[0]] >= 0)
      emit(e, t->byte_token[bytes[0]]);
    return;
  }
  if (t->flags & BLOB_IGNORE_MERGES) {
    int32_t id = find_vocab_token(t, bytes, n);
    if (id >= 0) {
      emit(e, id);
      return;
    }
  }
  /* Each merge queues at most two pairs: the heap never holds more than 3n entries. */
  if (n > e->word_capacity) {
    size_t capacity = 0;
    free(e->word);
    e->word = NULL;
    e->word_capacity = 0;
    if (!grow((void **)&e->word, &capacity, 3 * n, sizeof(int32_t))) {
      e->failed = 1;
      return;
    }
    e->word_capacity = capacity / 3;
    e->sym = e->word;
    e->prev = e->word + e->word_capacity;
    e->next = e->word + 2 * e->word_capacity;
  }
  if (!grow((void **)&e->heap, &e->heap_capacity, 3 * n, sizeof(uint64_t))) {
    e->failed = 1;
    return;
  }
  /* Bytes without a token are dropped, as Hugging Face does with no unknown token. */
  int32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    int32_t id = t->byte_token[bytes[i]];
    if (id < 0)
      continue;
    e->sym[m] = id;
    e->prev[m] = m - 1;
    e->next[m] = m + 1;
    ++m;
  }
  if (m == 0)
    return;
  e->next[m - 1] = -1;
  size_t heap_n = 0;
  for (int32_t i = 0; i + 1 < m; ++i)
    push_pair(e, &heap_n, i);
  while (heap_n) {
    uint64_t top = heap_pop(e->heap, &heap_n);
    int32_t pos = (int32_t)(uint32_t)top;
    uint32_t rank = (uint32_t)(top >> 32);
    if (e->sym[pos] < 0)
      continue; /* merged into its left neighbour */
    int32_t nxt = e->next[pos];
    if (nxt < 0)
      continue;
    const merge_slot *mg = find_merge(t, e->sym[pos], e->sym[nxt]);
    if (!mg || mg->rank != rank)
      continue; /* stale: a side changed since this pair was queued */
    e->sym[pos] = mg->result;
    e->sym[nxt] = -1;
    e->next[pos] = e->next[nxt];
    if (e->next[pos] >= 0)
      e->prev[e->next[pos]] = pos;
    if (e->prev[pos] >= 0)
      push_pair(e, &heap_n, e->prev[pos]);
    push_pair(e, &heap_n, pos);
  }
  for (int32_t i = 0; i >= 0; i = e->next[i])
    emit(e, e->sym[i]);
}

/* NFC, pre-tokenization and BPE of text[0, n) (valid UTF-8, no added tokens in it). */
static void encode_segment(encoder *e, const uint8_t *text, size_t n) {
  if (n == 0)
    return;
  if (!grow((void **)&e->cps, &e->cps_capacity, n, sizeof(uint32_t))) {
    e->failed = 1;
    return;
  }
  size_t count = 0;
  int unsafe = 0;
  for (size_t i = 0; i < n;) {
    uint32_t c;
    i += utf8_next(text + i, n - i, &c); /* validated by the caller */
    e->cps[count++] = c;
    if (c >= 0x300 && (dc_uc_flags(c) & DC_UC_UNSAFE))
      unsafe = 1;
  }
  const uint32_t *cps = e->cps;
  if (unsafe && (e->t->flags & BLOB_NFC)) {
    if (!grow((void **)&e->nfc, &e->nfc_capacity, dc_uc_nfc_bound(count), sizeof(uint32_t))) {
      e->failed = 1;
      return;
    }
    count = dc_uc_nfc(e->cps, count, e->nfc);
    cps = e->nfc;
  }
  if (!grow((void **)&e->classes, &e->classes_capacity, count, 1) ||
      !grow((void **)&e->bytes, &e->bytes_capacity, 4 * count, 1)) {
    e->failed = 1;
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    uint32_t c = cps[i];
    e->classes[i] = c < 0x80 ? ascii_class(c)
                             : (uint8_t)(dc_uc_flags(c) & (DC_UC_L | DC_UC_M | DC_UC_N | DC_UC_WS));
  }
  int qwen35 = e->t->pretokenizer == PRE_QWEN35;
  for (size_t i = 0; i < count && !e->failed;) {
    size_t j = match_piece(cps, e->classes, count, i, qwen35);
    if (j <= i)
      j = i + 1;
    size_t m = 0;
    for (size_t k = i; k < j; ++k)
      m += utf8_put(cps[k], e->bytes + m);
    if (e->split_only) {
      if (!grow((void **)&e->split, &e->split_capacity, e->split_count + m + 2, 1)) {
        e->failed = 1;
        return;
      }
      memcpy(e->split + e->split_count, e->bytes, m);
      e->split_count += m;
      e->split[e->split_count++] = 0x1F;
    } else {
      encode_word(e, e->bytes, m);
    }
    i = j;
  }
}

/* The added token matching at text[i, n) (the longest one), or NULL. */
static const added_token *match_added(const dc_tokenizer *t, const uint8_t *text, size_t n,
                                      size_t i, int parse_special) {
  for (uint32_t a = 0; a < t->added_count; ++a) {
    const added_token *tok = &t->added[a];
    if (tok->special && !parse_special)
      continue;
    if (tok->length <= n - i && memcmp(tok->content, text + i, tok->length) == 0)
      return tok;
  }
  return NULL;
}

dc_status *dc_tokenizer_encode(const dc_tokenizer *tokenizer, const char *text, size_t length,
                               int parse_special, int32_t **out_ids, size_t *out_count) {
  if (!tokenizer || (!text && length) || !out_ids || !out_count)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "dc_tokenizer_encode: NULL argument");
  const uint8_t *s = (const uint8_t *)text;
  for (size_t i = 0; i < length;) {
    uint32_t c;
    size_t len = utf8_next(s + i, length - i, &c);
    if (!len)
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                            "dc_tokenizer_encode: invalid UTF-8 at byte %zu", i);
    i += len;
  }
  if (length > SIZE_MAX / 16)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "dc_tokenizer_encode: text too long");
  encoder e;
  memset(&e, 0, sizeof e);
  e.t = tokenizer;
  size_t start = 0;
  for (size_t i = 0; i < length && !e.failed;) {
    const added_token *tok = NULL;
    if (tokenizer->added_first_byte[s[i]])
      tok = match_added(tokenizer, s, length, i, parse_special);
    if (!tok) {
      ++i;
      continue;
    }
    encode_segment(&e, s + start, i - start);
    emit(&e, tok->id);
    i += tok->length;
    start = i;
  }
  if (!e.failed)
    encode_segment(&e, s + start, length - start);
  free(e.cps);
  free(e.nfc);
  free(e.classes);
  free(e.bytes);
  free(e.word);
  free(e.heap);
  if (e.failed) {
    free(e.ids);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "dc_tokenizer_encode: out of memory");
  }
  if (e.count == 0) {
    free(e.ids);
    e.ids = NULL;
  }
  *out_ids = e.ids;
  *out_count = e.count;
  return DC_OK;
}

static void free_encoder(encoder *e) {
  free(e->cps);
  free(e->nfc);
  free(e->classes);
  free(e->bytes);
  free(e->word);
  free(e->heap);
  free(e->ids);
  free(e->split);
}

dc_status *dc_tokenizer_pretokenize(const dc_tokenizer *tokenizer, const char *text,
                                    size_t length, char **out_pieces) {
  const uint8_t *s = (const uint8_t *)text;
  for (size_t i = 0; i < length;) {
    uint32_t c;
    size_t len = utf8_next(s + i, length - i, &c);
    if (!len)
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "invalid UTF-8 at byte %zu", i);
    i += len;
  }
  encoder e;
  memset(&e, 0, sizeof e);
  e.t = tokenizer;
  e.split_only = 1;
  encode_segment(&e, s, length);
  if (!e.failed && !grow((void **)&e.split, &e.split_capacity, e.split_count + 1, 1))
    e.failed = 1;
  if (e.failed) {
    free_encoder(&e);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory");
  }
  e.split[e.split_count] = 0;
  *out_pieces = (char *)e.split;
  e.split = NULL;
  free_encoder(&e);
  return DC_OK;
}

/*===----------------------------------------------------------------------===*
 * Decoding
 *===----------------------------------------------------------------------===*/

dc_status *dc_tokenizer_decode(const dc_tokenizer *tokenizer, const int32_t *ids, size_t count,
                               int skip_special, char **out_text) {
  if (!tokenizer || (!ids && count) || !out_text)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "dc_tokenizer_decode: NULL argument");
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!valid_id(tokenizer, ids[i]))
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                            "dc_tokenizer_decode: id %d (at %zu) is not in the vocabulary of %d",
                            (int)ids[i], i, (int)tokenizer->vocab_size);
    uint32_t length;
    token_data(tokenizer, ids[i], &length);
    total += length;
  }
  uint8_t *raw = malloc(total ? total : 1);
  /* Each invalid byte becomes at most 3 bytes (U+FFFD). */
  char *out = malloc(3 * total + 1);
  if (!raw || !out) {
    free(raw);
    free(out);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "dc_tokenizer_decode: out of memory");
  }
  size_t n = 0;
  for (size_t i = 0; i < count; ++i) {
    if (skip_special && dc_tokenizer_is_special(tokenizer, ids[i]))
      continue;
    uint32_t length;
    const uint8_t *data = token_data(tokenizer, ids[i], &length);
    memcpy(raw + n, data, length);
    n += length;
  }
  size_t w = 0;
  for (size_t i = 0; i < n;) {
    uint32_t c;
    size_t len = utf8_next(raw + i, n - i, &c);
    if (len) {
      memcpy(out + w, raw + i, len);
      w += len;
      i += len;
    } else {
      memcpy(out + w, "\xEF\xBF\xBD", 3);
      w += 3;
      i += utf8_maximal_subpart(raw + i, n - i);
    }
  }
  out[w] = '\0';
  free(raw);
  *out_text = out;
  return DC_OK;
}
