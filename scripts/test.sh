#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test (lit, unit, docs check).
# Exits non-zero when any step or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh
BUILD_DIR=${DELTAC_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
