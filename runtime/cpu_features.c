/*===- cpu_features.c - does this CPU run the program's target? -----------===*
 *
 * dc_cpu_check tests each feature a program's table lists (deltac/cpu_features.h) on the CPU the
 * runtime runs on: CPUID and XGETBV on x86-64, the auxiliary vector's HWCAP words on AArch64 Linux.
 * A name this runtime cannot test counts as missing: refusing is better than SIGILL.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include "deltac/cpu_features.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned dc_xcr0(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE: XGETBV available */
    return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return lo;
}

/* 1 if the CPU (and the OS, for the registers' state) supports `name`, 0 if not, -1 if unknown. */
static int dc_cpu_supports(const char *name, size_t len) {
#define DC_FEATURE(feature, leaf, subleaf, reg, bit, xcr0)                                         \
  if (len == sizeof(feature) - 1 && memcmp(name, feature, len) == 0) {                             \
    unsigned r[4] = {0, 0, 0, 0};                                                                  \
    if (!__get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3]))                             \
      return 0;                                                                                    \
    return ((r[reg] >> (bit)) & 1u) && (dc_xcr0() & (xcr0)) == (xcr0);                             \
  }
  DC_X86_CPU_FEATURES(DC_FEATURE)
#undef DC_FEATURE
  return -1;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

static int dc_cpu_supports(const char *name, size_t len) {
#define DC_FEATURE(feature, word, bit)                                                             \
  if (len == sizeof(feature) - 1 && memcmp(name, feature, len) == 0)                               \
    return (getauxval((word) == 1 ? AT_HWCAP : AT_HWCAP2) >> (bit)) & 1u;
  DC_ARM64_CPU_FEATURES(DC_FEATURE)
#undef DC_FEATURE
  return -1;
}

#else
static int dc_cpu_supports(const char *name, size_t len) {
  (void)name;
  (void)len;
  return -1;
}
#endif

dc_status *dc_cpu_check(const char *target, const char *features) {
  char missing[256] = "";
  size_t used = 0;
  for (const char *at = features; at && *at;) {
    const char *end = strchr(at, ',');
    const size_t len = end ? (size_t)(end - at) : strlen(at);
    if (len > 0 && dc_cpu_supports(at, len) != 1) {
      const int wrote =
          snprintf(missing + used, sizeof missing - used, "%s%.*s", used ? ", " : "", (int)len, at);
      if (wrote > 0)
        used = used + (size_t)wrote < sizeof missing ? used + (size_t)wrote : sizeof missing - 1;
    }
    at = end ? end + 1 : at + len;
  }
  if (!used)
    return DC_OK;
  return dc_status_make(DC_STATUS_MISMATCH,
                        "this program was compiled for --target %s, and this CPU lacks %s; "
                        "compile it for this machine (--target host) or a target it supports",
                        target ? target : "(unknown)", missing);
}
