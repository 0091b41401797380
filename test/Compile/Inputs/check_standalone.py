#!/usr/bin/env python3
"""Checks that an executable needs nothing beyond the C library family (libc, libm, libpthread, libdl,
librt and the dynamic loader). Prints the needed libraries and PASS, or FAIL with the offender."""

import subprocess
import sys

ALLOWED = ("libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so", "ld-linux")

out = subprocess.run(["llvm-readelf", "--needed-libs", sys.argv[1]], capture_output=True, text=True,
                     check=True).stdout
needed = [line.strip() for line in out.splitlines() if ".so" in line]
print("needed:", " ".join(needed))
bad = [lib for lib in needed if not lib.startswith(ALLOWED)]
if bad or not needed:
    print("FAIL:", " ".join(bad) if bad else "no dynamic section")
    sys.exit(1)
print("PASS")
