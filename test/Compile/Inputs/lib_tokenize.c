/* Opens the tokenizer a model library embeds (deltac compile --emit=lib, header m.h) and prints the
 * ids of argv[1], comma-separated, then the text they decode to: text-prompt.test compares them
 * with the executable's. */
#include "m.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2 || !M_HAS_TOKENIZER)
    return 2;
  dc_tokenizer *tokenizer = NULL;
  dc_status *status = m_tokenizer_open(&tokenizer);
  int32_t *ids = NULL;
  size_t count = 0;
  char *text = NULL;
  if (!status)
    status = dc_tokenizer_encode(tokenizer, argv[1], strlen(argv[1]), 1, &ids, &count);
  if (!status)
    status = dc_tokenizer_decode(tokenizer, ids, count, 0, &text);
  if (status) {
    fprintf(stderr, "error: %s\n", dc_status_message(status));
    dc_status_free(status);
    return 1;
  }
  for (size_t i = 0; i < count; ++i)
    printf(i ? ",%d" : "%d", (int)ids[i]);
  printf("\n%s\n", text);
  free(ids);
  free(text);
  dc_tokenizer_close(tokenizer);
  return 0;
}
