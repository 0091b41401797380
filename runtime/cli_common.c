/*===- cli_common.c - output helpers of a generated executable's CLI ------===*/

#include "cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

void dc_error(const char *format, ...) {
  fflush(stdout);
  va_list args;
  va_start(args, format);
  fputs("error: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
}

int dc_fail(dc_status *status, int code) {
  dc_error("%s", dc_status_message(status));
  dc_status_free(status);
  return code;
}

double dc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double dc_rate(int64_t tokens, double seconds) {
  return seconds > 0 ? (double)tokens / seconds : 0.0;
}

/* Linux's VmHWM belongs to the address space exec created; getrusage's ru_maxrss survives execve,
 * so a program started by a large process (a Python benchmark holding logits) would report its
 * parent's peak. ru_maxrss is the fallback elsewhere. */
uint64_t dc_peak_rss_bytes(void) {
  FILE *status = fopen("/proc/self/status", "r");
  if (status) {
    char line[256];
    unsigned long long kib = 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, status))
      found = sscanf(line, "VmHWM: %llu kB", &kib) == 1;
    fclose(status);
    if (found)
      return (uint64_t)kib * 1024u;
  }
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return (uint64_t)usage.ru_maxrss * 1024u; /* KiB on Linux */
}

void dc_json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; ++c) {
    if (*c == '"' || *c == '\\')
      fprintf(out, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", out);
    else if (*c == '\t')
      fputs("\\t", out);
    else if (*c < 0x20 || *c == 0x7f)
      fprintf(out, "\\u%04x", *c);
    else
      fputc(*c, out);
  }
  fputc('"', out);
}

void dc_json_ids(FILE *out, const int32_t *ids, int64_t count) {
  fputc('[', out);
  for (int64_t i = 0; i < count; ++i)
    fprintf(out, i ? ", %" PRId32 : "%" PRId32, ids[i]);
  fputc(']', out);
}
