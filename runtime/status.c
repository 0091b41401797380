/*===- status.c - dc_status: an error code and a one-line message ---------===*/

#include "runtime_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dc_status {
  dc_status_code code;
  char message[]; /* NUL-terminated, one line */
};

/* Returned when the status itself cannot be allocated; dc_status_free leaves it alone. */
static struct {
  dc_status_code code;
  char message[sizeof("out of memory")];
} dc_oom_status = {DC_STATUS_OUT_OF_MEMORY, "out of memory"};

#define DC_OOM_STATUS ((dc_status *)(void *)&dc_oom_status)

dc_status *dc_status_vmake(dc_status_code code, const char *format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int length = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (length < 0)
    length = 0;
  dc_status *status = malloc(sizeof(dc_status) + (size_t)length + 1);
  if (!status)
    return DC_OOM_STATUS;
  status->code = code;
  vsnprintf(status->message, (size_t)length + 1, format, args);
  /* Keep the message on one line whatever the arguments held (file names may hold newlines). */
  for (char *c = status->message; *c; ++c)
    if (*c == '\n' || *c == '\r')
      *c = ' ';
  return status;
}

dc_status *dc_status_make(dc_status_code code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  dc_status *status = dc_status_vmake(code, format, args);
  va_end(args);
  return status;
}

dc_status_code dc_status_get_code(const dc_status *status) {
  return status ? status->code : DC_STATUS_OK;
}

const char *dc_status_message(const dc_status *status) { return status ? status->message : "ok"; }

const char *dc_status_code_name(dc_status_code code) {
  switch (code) {
  case DC_STATUS_OK:
    return "ok";
  case DC_STATUS_INVALID_ARGUMENT:
    return "invalid argument";
  case DC_STATUS_NOT_FOUND:
    return "not found";
  case DC_STATUS_IO_ERROR:
    return "I/O error";
  case DC_STATUS_INVALID_FORMAT:
    return "invalid format";
  case DC_STATUS_MISMATCH:
    return "mismatch";
  case DC_STATUS_OUT_OF_RANGE:
    return "out of range";
  case DC_STATUS_OUT_OF_MEMORY:
    return "out of memory";
  case DC_STATUS_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}

void dc_status_free(dc_status *status) {
  if (status && status != DC_OOM_STATUS)
    free(status);
}
