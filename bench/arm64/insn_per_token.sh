#!/usr/bin/env bash
# Guest instructions per token of deltac's builds of Qwen3.5-0.8B, counted under qemu-user.
#
# A proxy for speed on an Arm machine we do not have: qemu counts executed aarch64 instructions,
# not time (see docs/perf.md, "arm64 under emulation: instructions per token"). An x86-64 target
# (x86-64-avx2) is counted the same way under qemu-x86_64, for comparison.
#
# Same weights and flags as bench/compare.py's timed int8 / int4 builds: `deltac synth --size 0.8b
# --format gguf --dtype q8_0|q4_0`, compiled with `--quant int8|int4-g32 --act-quant int8
# --prefill-logits last`, here for an arm64 target and `--max-context 256`.
# Each figure is a difference of two runs with --threads 1 under the insn_count plugin, so loading the
# weights, start-up and exit cancel:
#   decode  = (count(prompt P0, gen G1) - count(prompt P0, gen G0)) / (G1 - G0)
#   prefill = (count(prompt P1, gen G0) - count(prompt P0, gen G0)) / (P1 - P0)
#
# Usage: bench/arm64/insn_per_token.sh [TARGET...]     (default: arm64 arm64-dotprod arm64-i8mm)
# Environment: WORK (default /tmp/arm64-insn; the GGUFs and builds take about 3 GB per target),
#              DELTAC (default build/bin/deltac), P0 P1 G0 G1 (default 8 40 2 6).
# Prints a Markdown table on stdout, progress on stderr; each run's output is kept in $WORK/runs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/arm64-insn}
DELTAC=${DELTAC:-$repo/build/bin/deltac}
P0=${P0:-8} P1=${P1:-40} G0=${G0:-2} G1=${G1:-6}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(arm64 arm64-dotprod arm64-i8mm)

# qemu_for TARGET: the emulator command of a target's executables. -cpu max: the model with every
# extension qemu emulates (dotprod, i8mm; AVX2, FMA, F16C), so each level's code runs.
qemu_for() {
    case $1 in
    arm64*) echo "qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu" ;;
    x86-64*) echo "qemu-x86_64 -cpu max" ;;
    *) echo "insn_per_token: no emulator for target $1" >&2; exit 2 ;;
    esac
}

log() { echo "[insn_per_token] $*" >&2; }

mkdir -p "$WORK/runs"
plugin=$WORK/insn_count.so
cc -O2 -shared -fPIC "$repo/bench/arm64/insn_count.c" -o "$plugin"

for dtype in q8_0 q4_0; do
    if [ ! -f "$WORK/model-$dtype.gguf" ]; then
        log "synthesizing the 0.8b $dtype GGUF"
        "$DELTAC" synth --size 0.8b --format gguf --dtype $dtype -o "$WORK/model-$dtype.gguf" --no-progress
    fi
done

# count TARGET EXE PROMPT GEN: guest instructions of one bench run
count() {
    local target=$1 exe=$2 prompt=$3 gen=$4
    local tag qemu
    tag=$(basename "$exe")-p$prompt-g$gen
    if [ ! -s "$WORK/runs/$tag.insns" ]; then
        log "$tag"
        read -ra qemu <<< "$(qemu_for "$target")"
        "${qemu[@]}" -plugin "$plugin,out=$WORK/runs/$tag.insns" "$exe" --threads 1 --bench \
            --bench-prompt "$prompt" --bench-gen "$gen" > "$WORK/runs/$tag.out" 2>&1
    fi
    awk '{print $2}' "$WORK/runs/$tag.insns"
}

# weight_bytes STORE: bytes one decode step reads, computed as bench/compare.py does
weight_bytes() {
    python3 - "$DELTAC" "$1" <<EOF
import sys
sys.path.insert(0, "$repo/bench")
import compare
print(compare.decode_bytes_per_token(compare.store_tensors(sys.argv[1], sys.argv[2])))
EOF
}

echo "| target | weights | decode instructions/token | prefill instructions/token | decode weight bytes/token | decode instructions/weight byte |"
echo "|---|---|---|---|---|---|"
for target in "${targets[@]}"; do
    for scheme in int8 int4; do
        if [ $scheme = int8 ]; then src=$WORK/model-q8_0.gguf; quant=int8; else src=$WORK/model-q4_0.gguf; quant=int4-g32; fi
        exe=$WORK/deltac-$scheme-$target
        if [ ! -x "$exe" ]; then
            log "compiling $scheme for $target"
            "$DELTAC" compile "$src" -o "$exe" --target="$target" --max-tokens 64 --max-context 256 \
                --quant $quant --act-quant int8 --prefill-logits last --no-progress >&2
        fi
        base=$(count "$target" "$exe" "$P0" "$G0")
        dec=$(count "$target" "$exe" "$P0" "$G1")
        pre=$(count "$target" "$exe" "$P1" "$G0")
        bytes=$(weight_bytes "$exe.dcw")
        python3 - "$target" "$scheme" "$base" "$dec" "$pre" "$bytes" "$P0" "$P1" "$G0" "$G1" <<'EOF'
import sys
target, scheme = sys.argv[1:3]
base, dec, pre, nbytes, p0, p1, g0, g1 = map(int, sys.argv[3:])
d = (dec - base) / (g1 - g0)
p = (pre - base) / (p1 - p0)
print(f"| {target} | {scheme} | {d / 1e6:,.0f} M | {p / 1e6:,.0f} M | {nbytes / 1e6:,.0f} MB | {d / nbytes:.2f} |")
EOF
    done
done
