#!/usr/bin/env bash
# The main job: installs dependencies, builds deltac, synthesizes a random-weight checkpoint at the real
# Qwen3.5-0.8B shape, compiles it for this machine, runs it for a few tokens and prints the speed.
# Everything it writes goes to build/main-job/ (about 3 GiB: the checkpoint and the weight store).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh
BUILD_DIR=${DELTAC_BUILD_DIR:-build}
WORK="$BUILD_DIR/main-job"
SIZE=${DELTAC_MAIN_SIZE:-0.8b}
mkdir -p "$WORK"
DELTAC="$BUILD_DIR/bin/deltac"

if [ ! -f "$WORK/qwen35-$SIZE/config.json" ]; then
  echo "== deltac synth --size $SIZE --format hf"
  "$DELTAC" synth --size "$SIZE" --format hf -o "$WORK/qwen35-$SIZE"
fi
echo "== deltac compile --target=host --dtype bf16"
"$DELTAC" compile "$WORK/qwen35-$SIZE" --target=host --dtype bf16 --max-context 2048 \
  -o "$WORK/qwen35-$SIZE-host"
echo "== run: 8 prompt tokens, 8 generated (greedy)"
"$WORK/qwen35-$SIZE-host" --tokens 11,25,101,7,64,200,3,42 -n 8
echo "== bench: 64-token prefill, 16 decode steps"
"$WORK/qwen35-$SIZE-host" --bench --bench-prompt 64 --bench-gen 16
