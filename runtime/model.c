/*===- model.c - bind a program to its weight store -----------------------===*/

#include "runtime_internal.h"

#include "deltac/kernel_abi.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct dc_model {
  const dc_program *program;
  char *path;
  dc_ws_file file;
  void **weights; /* program->weight_count pointers, program order */
  void **owned;   /* the f32 copies among them (NULL where the pointer is into the mapping) */
};

const dc_program *dc_model_program_of(const dc_model *model) { return model->program; }
int64_t dc_model_vocab_size(const dc_model *model) { return model->program->vocab_size; }
int64_t dc_model_max_context(const dc_model *model) { return model->program->max_context; }
int64_t dc_model_max_tokens(const dc_model *model) { return model->program->max_tokens; }
uint64_t dc_model_fingerprint(const dc_model *model) { return model->file.header.fingerprint; }
const char *dc_model_weights_path(const dc_model *model) { return model->path; }

const void *dc_model_weight(const dc_model *model, int64_t index) {
  if (index < 0 || index >= model->program->weight_count)
    return NULL;
  return model->weights[index];
}

/* The weight pointers in program order (for the session). */
void *const *dc_model_weight_table(const dc_model *model) { return model->weights; }

static dc_status *dc_program_check(const dc_program *p) {
#define DC_BAD_PROGRAM(...) dc_status_make(DC_STATUS_MISMATCH, __VA_ARGS__)
  if (!p)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "no program");
  if (p->abi_version != DC_PROGRAM_ABI_VERSION)
    return DC_BAD_PROGRAM("the program was compiled for program ABI version %u, this runtime "
                          "implements version %u",
                          (unsigned)p->abi_version, (unsigned)DC_PROGRAM_ABI_VERSION);
  if (p->kernel_abi_version != DC_KERNEL_ABI_VERSION ||
      dc_k_abi_version() != (int32_t)p->kernel_abi_version)
    return DC_BAD_PROGRAM("the program was compiled for kernel ABI version %u, the runtime's "
                          "kernels implement version %d",
                          (unsigned)p->kernel_abi_version, (int)dc_k_abi_version());
  dc_status *cpu = dc_cpu_check(p->target, p->cpu_features);
  if (cpu)
    return cpu;
  /* Positions and token ids are int32 in the entry points. */
  if (p->vocab_size <= 0 || p->vocab_size > (int64_t)INT32_MAX + 1 || p->max_context <= 0 ||
      p->max_context > INT32_MAX || p->max_tokens <= 0 || p->weight_count < 0 ||
      p->state_count < 0 || p->arena_bytes < 0)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                          "the program table is invalid (vocab %" PRId64 ", context %" PRId64
                          ", max tokens %" PRId64 ", %" PRId64 " weights, %" PRId64
                          " states, arena %" PRId64 ")",
                          p->vocab_size, p->max_context, p->max_tokens, p->weight_count,
                          p->state_count, p->arena_bytes);
  if ((p->weight_count > 0 && (!p->weight_names || !p->weight_dtypes)) ||
      (p->state_count > 0 && !p->state_bytes) || !p->prefill || !p->decode)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                          "the program table is invalid (a missing list or entry point)");
  for (int64_t i = 0; i < p->weight_count; ++i)
    if (!p->weight_names[i])
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                            "the program table is invalid (weight %" PRId64 " has no name)", i);
  for (int64_t i = 0; i < p->state_count; ++i)
    if (p->state_bytes[i] < 0)
      return dc_status_make(DC_STATUS_INVALID_ARGUMENT,
                            "the program table is invalid (state %" PRId64 " has %" PRId64
                            " bytes)",
                            i, p->state_bytes[i]);
  return DC_OK;
#undef DC_BAD_PROGRAM
}

static float dc_half_to_float(uint32_t dtype, uint16_t h) {
  uint32_t bits;
  if (dtype == DC_WS_BF16) {
    bits = (uint32_t)h << 16;
  } else {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    if (exponent == 0) {
      /* Zero or subnormal: mantissa * 2^-24, exact in f32. */
      float magnitude = (float)mantissa * 0x1p-24f;
      memcpy(&bits, &magnitude, 4);
      bits |= sign;
    } else if (exponent == 31) {
      bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
      bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Points weight i at its data, converting f16/bf16 to an owned f32 copy when the program asks. */
static dc_status *dc_model_bind_weight(dc_model *model, int64_t i) {
  const dc_program *p = model->program;
  const char *name = p->weight_names[i];
  const uint32_t want = p->weight_dtypes[i];
  const dc_ws_tensor *t = dc_ws_find(&model->file, name);
  if (!t)
    return dc_status_make(DC_STATUS_NOT_FOUND,
                          "%s: the weight store has no tensor %s, which the program needs",
                          model->path, name);
  const uint8_t *data = model->file.base + model->file.header.data_offset + t->offset;
  if (t->dtype == want) {
    model->weights[i] = (void *)data;
    return DC_OK;
  }
  if (want == DC_WS_F32 && (t->dtype == DC_WS_F16 || t->dtype == DC_WS_BF16)) {
    const uint64_t count = t->bytes / 2;
    float *copy = dc_alloc_aligned((size_t)count * 4);
    if (!copy)
      return dc_status_make(DC_STATUS_OUT_OF_MEMORY,
                            "%s: out of memory converting tensor %s to f32", model->path, name);
    for (uint64_t j = 0; j < count; ++j) {
      uint16_t h;
      memcpy(&h, data + 2 * j, 2);
      copy[j] = dc_half_to_float(t->dtype, h);
    }
    model->owned[i] = copy;
    model->weights[i] = copy;
    return DC_OK;
  }
  return dc_status_make(DC_STATUS_MISMATCH,
                        "%s: tensor %s is stored as %s but the program wants %s", model->path, name,
                        dc_ws_dtype_name(t->dtype), dc_ws_dtype_name(want));
}

/* Opens a model whose store is `path` (a file, brought into memory as `load` says) or, with `data`,
 * the `size` bytes at `data` (embedded in the executable; `path` is then only the label in
 * messages). */
static dc_status *dc_model_open_store(const dc_program *program, const char *weights_path,
                                      dc_weight_load load, const void *data, size_t size,
                                      dc_model **out_model) {
  dc_status *status = dc_program_check(program);
  if (status)
    return status;
  if (!weights_path || !*weights_path)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "no weight store path");
  dc_model *model = calloc(1, sizeof(dc_model));
  if (!model)
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory opening a model");
  model->program = program;
  model->path = strdup(weights_path);
  const size_t count = (size_t)program->weight_count;
  model->weights = calloc(count ? count : 1, sizeof(void *));
  model->owned = calloc(count ? count : 1, sizeof(void *));
  if (!model->path || !model->weights || !model->owned) {
    dc_model_close(model);
    return dc_status_make(DC_STATUS_OUT_OF_MEMORY, "out of memory opening a model");
  }
  status = data ? dc_ws_open_memory(weights_path, data, size, &model->file)
                : dc_ws_open(weights_path, load, &model->file);
  if (status) {
    dc_model_close(model);
    return status;
  }
  if (model->file.header.fingerprint != program->weight_fingerprint) {
    status =
        dc_status_make(DC_STATUS_MISMATCH,
                       "%s: the weight store has fingerprint 0x%016" PRIx64
                       " but the program was compiled for weights with fingerprint 0x%016" PRIx64
                       " (weights of another model?)",
                       weights_path, model->file.header.fingerprint, program->weight_fingerprint);
    dc_model_close(model);
    return status;
  }
  for (int64_t i = 0; i < program->weight_count; ++i) {
    status = dc_model_bind_weight(model, i);
    if (status) {
      dc_model_close(model);
      return status;
    }
  }
  *out_model = model;
  return DC_OK;
}

dc_status *dc_model_open(const dc_program *program, const char *weights_path,
                         dc_model **out_model) {
  return dc_model_open_with(program, weights_path, DC_WEIGHTS_READ, out_model);
}

dc_status *dc_model_open_with(const dc_program *program, const char *weights_path,
                              dc_weight_load load, dc_model **out_model) {
  if (load != DC_WEIGHTS_READ && load != DC_WEIGHTS_MAP)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "unknown weight load mode %d", (int)load);
  return dc_model_open_store(program, weights_path, load, NULL, 0, out_model);
}

dc_status *dc_model_open_embedded(const dc_program *program, const void *data, size_t size,
                                  dc_model **out_model) {
  if (!data)
    return dc_status_make(DC_STATUS_INVALID_ARGUMENT, "no embedded weight store");
  return dc_model_open_store(program, "<embedded weights>", DC_WEIGHTS_MAP, data, size, out_model);
}

void dc_model_close(dc_model *model) {
  if (!model)
    return;
  if (model->owned)
    for (int64_t i = 0; i < model->program->weight_count; ++i)
      free(model->owned[i]);
  free(model->owned);
  free(model->weights);
  dc_ws_close(&model->file);
  free(model->path);
  free(model);
}
