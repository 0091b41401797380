/*===- weight_store.c - map and validate a weight store (.dcw) ------------===*
 *
 * The checks mirror import/WeightStore.cpp (WeightStore::open) one for one, so a store deltac
 * accepts is the store the runtime accepts: the format (deltac/weight_store.h,
 *docs/weight-store.md) has one definition and two readers that must agree.
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(dc_ws_header) == 96, "the header layout is part of the file format");
_Static_assert(sizeof(dc_ws_tensor) == 72, "the table entry layout is part of the file format");

const char *dc_ws_dtype_name(uint32_t dtype) {
  switch (dtype) {
  case DC_WS_F32:
    return "f32";
  case DC_WS_F16:
    return "f16";
  case DC_WS_BF16:
    return "bf16";
  case DC_WS_Q8_0:
    return "q8_0";
  case DC_WS_Q4_0:
    return "q4_0";
  case DC_WS_Q4_1:
    return "q4_1";
  case DC_WS_Q4_0_G64:
    return "q4_0_g64";
  case DC_WS_Q4_1_G64:
    return "q4_1_g64";
  case DC_WS_Q4_0_G128:
    return "q4_0_g128";
  case DC_WS_Q4_1_G128:
    return "q4_1_g128";
  case DC_WS_Q8_0_PACKED:
    return "q8_0_packed";
  case DC_WS_Q4_0_PACKED:
    return "q4_0_packed";
  case DC_WS_Q4_0_X8:
    return "q4_0_x8";
  }
  return "unknown";
}

int64_t dc_ws_dtype_group(uint32_t dtype) {
  switch (dtype) {
  case DC_WS_Q8_0:
  case DC_WS_Q4_0:
  case DC_WS_Q4_1:
  case DC_WS_Q8_0_PACKED:
  case DC_WS_Q4_0_PACKED:
  case DC_WS_Q4_0_X8:
    return 32;
  case DC_WS_Q4_0_G64:
  case DC_WS_Q4_1_G64:
    return 64;
  case DC_WS_Q4_0_G128:
  case DC_WS_Q4_1_G128:
    return 128;
  }
  return 1;
}

uint64_t dc_ws_stored_bytes(uint32_t dtype, const uint64_t *dims, uint32_t rank) {
  if (rank == 0 || rank > DC_WS_MAX_RANK)
    return 0;
  uint64_t count = 1;
  for (uint32_t i = 0; i < rank; ++i) {
    if (dims[i] == 0 || dims[i] > (uint64_t)INT64_MAX ||
        __builtin_mul_overflow(count, dims[i], &count))
      return 0;
  }
  uint64_t block_bytes, group = dc_ws_dtype_group(dtype);
  switch (dtype) {
  case DC_WS_F32:
    return count <= UINT64_MAX / 4 ? count * 4 : 0;
  case DC_WS_F16:
  case DC_WS_BF16:
    return count <= UINT64_MAX / 2 ? count * 2 : 0;
  case DC_WS_Q8_0:
  case DC_WS_Q8_0_PACKED:
    block_bytes = 34;
    break;
  case DC_WS_Q4_0:
  case DC_WS_Q4_0_PACKED:
  case DC_WS_Q4_0_X8:
    block_bytes = 18;
    break;
  case DC_WS_Q4_1:
    block_bytes = 20;
    break;
  case DC_WS_Q4_0_G64:
    block_bytes = 34;
    break;
  case DC_WS_Q4_1_G64:
    block_bytes = 36;
    break;
  case DC_WS_Q4_0_G128:
    block_bytes = 66;
    break;
  case DC_WS_Q4_1_G128:
    block_bytes = 68;
    break;
  default:
    return 0;
  }
  if (dims[rank - 1] % group != 0)
    return 0;
  return count / group * block_bytes;
}

/* Byte-wise comparison of two names, a proper prefix first (StringRef's order). */
static int dc_name_compare(const char *a, size_t a_bytes, const char *b, size_t b_bytes) {
  int c = memcmp(a, b, a_bytes < b_bytes ? a_bytes : b_bytes);
  if (c != 0)
    return c;
  return a_bytes < b_bytes ? -1 : a_bytes > b_bytes ? 1 : 0;
}

#define DC_BAD(...) dc_status_make(DC_STATUS_INVALID_FORMAT, __VA_ARGS__)

static dc_status *dc_ws_validate(const char *path, dc_ws_file *f) {
  const uint64_t size = f->size;
  dc_ws_header *h = &f->header;
  if (size < sizeof(dc_ws_header))
    return DC_BAD("%s: not a valid weight store: shorter than its header", path);
  memcpy(h, f->base, sizeof(*h));
  if (memcmp(h->magic, DC_WS_MAGIC, 8) != 0)
    return DC_BAD("%s: not a valid weight store: wrong magic", path);
  if (h->version != DC_WS_VERSION)
    return DC_BAD("%s: not a valid weight store: version %u, this runtime reads %u", path,
                  (unsigned)h->version, (unsigned)DC_WS_VERSION);
  if (h->header_bytes != sizeof(dc_ws_header))
    return DC_BAD("%s: not a valid weight store: header size %u", path, (unsigned)h->header_bytes);
  if (h->file_bytes != size)
    return DC_BAD("%s: not a valid weight store: the header says %llu bytes but the file has %llu "
                  "(truncated or incomplete)",
                  path, (unsigned long long)h->file_bytes, (unsigned long long)size);
  if (h->fingerprint == 0)
    return DC_BAD("%s: not a valid weight store: no fingerprint (the write did not finish)", path);
  uint64_t table_bytes;
  if (__builtin_mul_overflow(h->tensor_count, (uint64_t)sizeof(dc_ws_tensor), &table_bytes) ||
      h->table_offset > size || table_bytes > size - h->table_offset)
    return DC_BAD("%s: not a valid weight store: tensor table past the end of the file", path);
  if (h->strings_offset > size || h->strings_bytes > size - h->strings_offset)
    return DC_BAD("%s: not a valid weight store: name table past the end of the file", path);
  if (h->data_offset % DC_WS_ALIGNMENT != 0 || h->data_offset > size)
    return DC_BAD("%s: not a valid weight store: misaligned or out-of-range data offset", path);

  f->strings = (const char *)f->base + h->strings_offset;
  f->tensors = malloc(table_bytes ? (size_t)table_bytes : 1);
  if (!f->tensors)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "%s: out of memory reading the tensor table",
                          path);
  memcpy(f->tensors, f->base + h->table_offset, (size_t)table_bytes);

  uint64_t previous_end = 0;
  for (uint64_t i = 0; i < h->tensor_count; ++i) {
    const dc_ws_tensor *t = &f->tensors[i];
    if (t->name_offset > h->strings_bytes || t->name_bytes >= h->strings_bytes - t->name_offset)
      return DC_BAD("%s: not a valid weight store: tensor #%llu has a name outside the name table",
                    path, (unsigned long long)i);
    const char *name = f->strings + t->name_offset;
    const int name_len = t->name_bytes > 4096 ? 4096 : (int)t->name_bytes;
    if (t->dtype > DC_WS_DTYPE_MAX)
      return DC_BAD("%s: not a valid weight store: tensor %.*s has unknown dtype %u", path,
                    name_len, name, (unsigned)t->dtype);
    if (t->rank == 0 || t->rank > DC_WS_MAX_RANK)
      return DC_BAD("%s: not a valid weight store: tensor %.*s has rank %u", path, name_len, name,
                    (unsigned)t->rank);
    for (uint32_t d = 0; d < t->rank; ++d)
      if (t->dims[d] == 0 || t->dims[d] > (uint64_t)INT64_MAX)
        return DC_BAD("%s: not a valid weight store: tensor %.*s has an invalid dimension", path,
                      name_len, name);
    uint64_t expected = dc_ws_stored_bytes(t->dtype, t->dims, t->rank);
    if (expected == 0 || expected != t->bytes)
      return DC_BAD("%s: not a valid weight store: tensor %.*s has %llu bytes, which does not "
                    "match its shape and dtype",
                    path, name_len, name, (unsigned long long)t->bytes);
    if (t->offset % DC_WS_ALIGNMENT != 0 || t->offset < previous_end ||
        t->offset > size - h->data_offset || t->bytes > size - h->data_offset - t->offset)
      return DC_BAD(
          "%s: not a valid weight store: tensor %.*s has data out of range, misaligned or "
          "overlapping",
          path, name_len, name);
    previous_end = t->offset + t->bytes;
    if (i > 0) {
      const dc_ws_tensor *p = &f->tensors[i - 1];
      if (dc_name_compare(f->strings + p->name_offset, p->name_bytes, name, t->name_bytes) >= 0)
        return DC_BAD(
            "%s: not a valid weight store: tensor names are not sorted and unique at %.*s", path,
            name_len, name);
    }
  }
  return DC_OK;
}

/* Maps f->size bytes of the open store `fd` read-only into f. MAP_POPULATE maps every page now
 * (reading the file if it is not cached yet), as llama.cpp's loader does: otherwise the first
 * forward pass takes a page fault per 64 KiB of weights (about 3% of the 0.8B's first 512-token
 * prefill on the Zen 4 VM, docs/perf-log.md). */
static dc_status *dc_ws_map(const char *path, int fd, dc_ws_file *f) {
  int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
  flags |= MAP_POPULATE;
#endif
  void *base = mmap(NULL, f->size, PROT_READ, flags, fd, 0);
  if (base == MAP_FAILED)
    return dc_status_make(DC_STATUS_IO_ERROR, "%s: cannot map the weight store: %s", path,
                          strerror(errno));
  f->base = base;
  f->mapping = base;
  f->mapping_bytes = f->size;
  return DC_OK;
}

/* Transparent huge pages: 2 MiB on x86-64 and on arm64 with 4 KiB base pages. */
#define DC_WS_HUGE_PAGE ((size_t)2 << 20)

/* Whether the kernel gives transparent huge pages to a range that asks for them: its
 * `enabled` setting is `always` or `madvise` (not `never`, and the file exists). */
static int dc_ws_huge_pages_available(void) {
  char setting[128] = {0};
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f)
    return 0;
  const size_t got = fread(setting, 1, sizeof(setting) - 1, f);
  fclose(f);
  setting[got] = '\0';
  return strstr(setting, "[always]") != NULL || strstr(setting, "[madvise]") != NULL;
}

/* Reads the f->size bytes of the open store `fd` into private anonymous memory whose 2 MiB-aligned
 * range asks for transparent huge pages (MADV_HUGEPAGE), then makes it read-only. Decode streams
 * every weight byte once per token: on 4 KiB pages that is a TLB miss, and a page walk (a nested
 * one in a VM), every 4 KiB, and the hardware prefetchers stop at each page's end; on 2 MiB pages
 * the 0.8B int4 build decoded 1.5-5% faster on the Zen 4 VM (docs/perf-log.md, "Weights on huge
 * pages"). Where the kernel gives no huge pages (the copy would buy nothing) or no such memory can
 * be had, leaves f->mapping NULL so that the caller maps the file instead; a read error or a file
 * shorter than f->size is an error naming the file. */
static dc_status *dc_ws_read(const char *path, int fd, dc_ws_file *f) {
  const size_t huge = DC_WS_HUGE_PAGE;
  if (f->size > SIZE_MAX - 2 * huge || !dc_ws_huge_pages_available())
    return DC_OK;
  const size_t span = (f->size + huge - 1) / huge * huge; /* the aligned range, whole huge pages */
  const size_t bytes = span + huge;                       /* room to align its start */
  uint8_t *raw = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return DC_OK;
  uint8_t *base = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
  (void)madvise(base, span, MADV_HUGEPAGE); /* advice only: base pages work the same */
#endif
  size_t done = 0;
  while (done < f->size) {
    const size_t want = f->size - done < ((size_t)1 << 30) ? f->size - done : ((size_t)1 << 30);
    const ssize_t got = pread(fd, base + done, want, (off_t)done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      const int err = got < 0 ? errno : 0;
      munmap(raw, bytes);
      return err ? dc_status_make(DC_STATUS_IO_ERROR, "%s: cannot read the weight store: %s", path,
                                  strerror(err))
                 : DC_BAD("%s: not a valid weight store: the file ended at byte %zu of %zu while "
                          "it was read",
                          path, done, f->size);
    }
    done += (size_t)got;
  }
  (void)mprotect(base, span, PROT_READ); /* hygiene: the weights are read-only from now on */
  f->base = base;
  f->mapping = raw;
  f->mapping_bytes = bytes;
  return DC_OK;
}

dc_status *dc_ws_open(const char *path, dc_weight_load load, dc_ws_file *out_file) {
  dc_ws_file f;
  memset(&f, 0, sizeof(f));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return dc_status_make(err == ENOENT ? DC_STATUS_NOT_FOUND : DC_STATUS_IO_ERROR,
                          "%s: cannot open the weight store: %s", path, strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return dc_status_make(DC_STATUS_IO_ERROR, "%s: cannot stat the weight store: %s", path,
                          strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return dc_status_make(DC_STATUS_IO_ERROR, "%s: the weight store is not a regular file", path);
  }
  f.size = (size_t)st.st_size;
  if (f.size < sizeof(dc_ws_header)) {
    close(fd);
    return DC_BAD("%s: not a valid weight store: shorter than its header", path);
  }
  dc_status *status = NULL;
  if (load == DC_WEIGHTS_READ)
    status = dc_ws_read(path, fd, &f);
  if (!status && !f.mapping)
    status = dc_ws_map(path, fd, &f);
  close(fd);
  if (status)
    return status;
  status = dc_ws_validate(path, &f);
  if (status) {
    dc_ws_close(&f);
    return status;
  }
  *out_file = f;
  return DC_OK;
}

dc_status *dc_ws_open_memory(const char *label, const void *data, size_t size,
                             dc_ws_file *out_file) {
  dc_ws_file f;
  memset(&f, 0, sizeof(f));
  if (!data || size < sizeof(dc_ws_header))
    return DC_BAD("%s: not a valid weight store: shorter than its header", label);
  f.base = (const uint8_t *)data;
  f.size = size;
  dc_status *status = dc_ws_validate(label, &f);
  if (status) {
    dc_ws_close(&f);
    return status;
  }
  *out_file = f;
  return DC_OK;
}

void dc_ws_close(dc_ws_file *file) {
  if (file->mapping)
    munmap(file->mapping, file->mapping_bytes);
  free(file->tensors);
  memset(file, 0, sizeof(*file));
}

const dc_ws_tensor *dc_ws_find(const dc_ws_file *file, const char *name) {
  const size_t name_bytes = strlen(name);
  uint64_t lo = 0, hi = file->header.tensor_count;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    const dc_ws_tensor *t = &file->tensors[mid];
    int c = dc_name_compare(file->strings + t->name_offset, t->name_bytes, name, name_bytes);
    if (c == 0)
      return t;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}
