/*===- deltac/weight_store.h - on-disk format of a deltac weight store ----===*
 *
 * A weight store (`.dcw`) holds every weight of one imported model, laid out so the runtime can
 * memory-map the file and point kernels straight at the data. This header is the format's only
 * definition; the compiler writes it and the runtime reads it. All integers are little-endian.
 *
 *   offset 0                 dc_ws_header
 *   header.table_offset      dc_ws_tensor[header.tensor_count], sorted by name
 *   header.strings_offset    tensor names, UTF-8, each NUL-terminated (name_bytes excludes the NUL)
 *   header.data_offset       tensor data; each tensor starts at data_offset + offset, a multiple of
 *                            DC_WS_ALIGNMENT from the start of the file
 *   header.file_bytes        end of file
 *
 * The header is written last: a file whose magic is not DC_WS_MAGIC, whose file_bytes disagrees with
 * the file's size, or whose fingerprint is 0 is incomplete and must be rejected. deltac also writes the
 * store to a temporary name and renames it into place, so an interrupted import leaves no file that
 * looks valid.
 *
 * The fingerprint is a 64-bit hash of the tensor table and of every data byte. The compiled program
 * carries the fingerprint of the store it was compiled against; the runtime refuses a store with
 * another fingerprint.
 *===----------------------------------------------------------------------===*/

#ifndef DELTAC_WEIGHT_STORE_H
#define DELTAC_WEIGHT_STORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DC_WS_MAGIC "DELTACWS"
#define DC_WS_VERSION 1u
#define DC_WS_ALIGNMENT 64u
#define DC_WS_MAX_RANK 4u

/* Element encoding of a stored tensor. */
typedef enum dc_ws_dtype {
  DC_WS_F32 = 0,  /* IEEE binary32 */
  DC_WS_F16 = 1,  /* IEEE binary16 */
  DC_WS_BF16 = 2, /* bfloat16 */
  DC_WS_Q8_0 = 3, /* GGML Q8_0 blocks of 32: f16 scale, 32 x int8 (34 bytes) */
  DC_WS_Q4_0 = 4, /* GGML Q4_0 blocks of 32: f16 scale, 16 bytes of 4-bit codes (18 bytes) */
  DC_WS_Q4_1 = 5, /* GGML Q4_1 blocks of 32: f16 scale, f16 min, 16 bytes of codes (20 bytes) */
  /* deltac's int4 blocks of 64 and 128 values (import/DeltacQuants.h): Q4_0 / Q4_1 over a larger
   * group, with the same nibble order (value i < G/2 in the low nibble of code byte i, value
   * i + G/2 in its high nibble). */
  DC_WS_Q4_0_G64 = 6,  /* f16 scale, 32 bytes of codes (34 bytes per 64 values) */
  DC_WS_Q4_1_G64 = 7,  /* f16 scale, f16 min, 32 bytes of codes (36 bytes per 64 values) */
  DC_WS_Q4_0_G128 = 8, /* f16 scale, 64 bytes of codes (66 bytes per 128 values) */
  DC_WS_Q4_1_G128 = 9, /* f16 scale, f16 min, 64 bytes of codes (68 bytes per 128 values) */
  /* Packed rows for the int8-activation kernels (the delta-pack-weights pass, kernel_abi.h
   * "Packed rows"): Q8_0 / Q4_0 rearranged row by row, every code of the row first, then the row's
   * K / 32 f16 scales in block order. Same size as the GGML type; exactly its values. */
  DC_WS_Q8_0_PACKED = 10, /* K bytes: code + 128 as uint8, value order; K / 32 f16 scales */
  DC_WS_Q4_0_PACKED = 11, /* K / 2 bytes: the 16 qs bytes of each Q4_0 block in turn; scales */
  /* Q4_0 packed rows for AVX2 (kernel_abi.h "Packed rows"): the qs bytes of each span of 8 blocks
   * interleaved 4 bytes at a time, so that 32-bit lane b of a 32-byte load belongs to block b. */
  DC_WS_Q4_0_X8 = 12, /* K / 2 bytes: spans of 8 blocks, interleaved by 4 bytes; K / 32 scales */
} dc_ws_dtype;

/* The largest dc_ws_dtype value; a store with a larger one is rejected. */
#define DC_WS_DTYPE_MAX DC_WS_Q4_0_X8

typedef struct dc_ws_header {
  char magic[8];            /* DC_WS_MAGIC, no NUL */
  uint32_t version;         /* DC_WS_VERSION */
  uint32_t header_bytes;    /* sizeof(dc_ws_header) */
  uint64_t fingerprint;     /* hash of table and data; never 0 in a complete file */
  uint64_t tensor_count;
  uint64_t table_offset;    /* byte offset of the tensor table */
  uint64_t strings_offset;  /* byte offset of the name strings */
  uint64_t strings_bytes;
  uint64_t data_offset;     /* byte offset of the first tensor, a multiple of DC_WS_ALIGNMENT */
  uint64_t file_bytes;      /* total size of the file */
  uint64_t reserved[3];     /* zero */
} dc_ws_header;

typedef struct dc_ws_tensor {
  uint64_t name_offset;           /* from strings_offset */
  uint32_t name_bytes;            /* without the terminating NUL */
  uint32_t dtype;                 /* dc_ws_dtype */
  uint32_t rank;                  /* 1 .. DC_WS_MAX_RANK */
  uint32_t reserved;              /* zero */
  uint64_t dims[DC_WS_MAX_RANK];  /* row-major logical shape, outermost first; unused dims are 0 */
  uint64_t offset;                /* from data_offset, a multiple of DC_WS_ALIGNMENT */
  uint64_t bytes;                 /* stored bytes */
} dc_ws_tensor;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DELTAC_WEIGHT_STORE_H */
