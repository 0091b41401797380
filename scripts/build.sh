#!/usr/bin/env bash
# Configures and builds deltac in ./build (or $DELTAC_BUILD_DIR). Called by main.sh and test.sh after
# setup.sh; safe to rerun, it only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${DELTAC_BUILD_DIR:-build}
GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" "${GENERATOR[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
