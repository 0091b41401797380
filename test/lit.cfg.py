# lit configuration for deltac's regression tests (MLIR files under test/ driven through delta-opt).
import os
import shutil
import sys

import lit.formats

config.name = "deltac"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.deltac_obj_root, "test")

config.substitutions.append(("%python", sys.executable))
# The build tree's CMake package (deltacConfig.cmake), for -Ddeltac_DIR in test/Compile/emit-lib-cmake.test.
config.substitutions.append(("%deltac_dir", config.deltac_obj_root))

# deltac's tools first, then LLVM's FileCheck and not.
config.environment["PATH"] = os.pathsep.join(
    [config.deltac_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)

# Instruction sets this machine can run, for tests of the x86-64 targets' executables.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = set(cpuinfo.read().split())
except OSError:
    flags = set()
if {"avx2", "fma"} <= flags:
    config.available_features.add("avx2")
if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
    config.available_features.add("avx512")
if {"avx2", "fma", "f16c", "avx_vnni"} <= flags:
    config.available_features.add("avxvnni")
if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"} <= flags:
    config.available_features.add("avx512vnni")
if {"amx_int8", "amx_tile", "amx_bf16", "avx512_fp16", "avx512_bf16", "avx512_vnni"} <= flags:
    config.available_features.add("amx")

# Debian's qemu-user and aarch64 cross libc run the arm64 targets' executables
# (test/Compile/compile-arm64.test); scripts/setup.sh installs them, and the build then also has the
# arm64 libraries (targets/portable/CMakeLists.txt).
if shutil.which("qemu-aarch64") and os.path.exists("/usr/aarch64-linux-gnu/lib/libc.so.6"):
    config.available_features.add("qemu-aarch64")
    config.substitutions.append(("%qemu-aarch64", "qemu-aarch64 -L /usr/aarch64-linux-gnu"))

# util-linux's `script` runs a command on a pseudo-terminal (test/Compile/compile-progress-tty.test).
if shutil.which("script"):
    config.available_features.add("pty")
