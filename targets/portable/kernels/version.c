/*===- version.c - the ABI version the portable kernels implement ---------===*/

#include "kernel_internal.h"

int32_t dc_k_abi_version(void) { return DC_KERNEL_ABI_VERSION; }
