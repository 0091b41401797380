# Cross-compiling for aarch64 Linux with clang 22 on a Debian x86-64 host.
#
# The target libraries are Debian's cross packages (libc6-dev-arm64-cross, g++-aarch64-linux-gnu):
# glibc under /usr/aarch64-linux-gnu, libstdc++ and crtbegin under /usr/lib/gcc-cross/aarch64-linux-gnu.
# clang finds both by itself from --target (its Debian multiarch GCC-installation search); lld links.
# Executables run on the host through qemu-user (qemu-aarch64), which CMake uses for try_run,
# gtest_discover_tests and add_test via CMAKE_CROSSCOMPILING_EMULATOR.
#
#   cmake -S <src> -B <build> -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(DELTAC_AARCH64_TRIPLE aarch64-linux-gnu)
set(DELTAC_AARCH64_SYSROOT /usr/${DELTAC_AARCH64_TRIPLE} CACHE PATH
  "the aarch64 glibc tree (headers, crt files, shared libraries) qemu loads programs against")

set(CMAKE_C_COMPILER clang-22)
set(CMAKE_CXX_COMPILER clang++-22)
set(CMAKE_ASM_COMPILER clang-22)
set(CMAKE_C_COMPILER_TARGET ${DELTAC_AARCH64_TRIPLE})
set(CMAKE_CXX_COMPILER_TARGET ${DELTAC_AARCH64_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${DELTAC_AARCH64_TRIPLE})
# The host's ld would reject aarch64 objects; lld-22 handles every target.
set(CMAKE_EXE_LINKER_FLAGS_INIT -fuse-ld=lld)
set(CMAKE_SHARED_LINKER_FLAGS_INIT -fuse-ld=lld)
set(CMAKE_MODULE_LINKER_FLAGS_INIT -fuse-ld=lld)

# Look for libraries and headers in the target tree only; programs (code generators) on the host.
set(CMAKE_FIND_ROOT_PATH ${DELTAC_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(DELTAC_QEMU_AARCH64 qemu-aarch64)
if(DELTAC_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${DELTAC_QEMU_AARCH64} -L ${DELTAC_AARCH64_SYSROOT})
endif()
