#!/usr/bin/env bash
# The main job, until `deltac compile` lands: installs dependencies, builds, then runs delta-opt over a
# complete tiny Qwen3.5 model (all layer kinds, prefill and decode entry points), checking model-level
# invariants and canonicalizing, and prints the resulting IR with pass statistics.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh
BUILD_DIR=${DELTAC_BUILD_DIR:-build}
MODEL=${1:-test/Dialect/Delta/model-qwen35-tiny.mlir}
echo "== delta-opt --delta-verify-model --canonicalize $MODEL"
"$BUILD_DIR/bin/delta-opt" "$MODEL" --delta-verify-model --canonicalize --mlir-pass-statistics
