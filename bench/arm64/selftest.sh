#!/usr/bin/env bash
# Checks the instruction-counting tools of bench/arm64 (ctest arm64-insn-count-selftest): the
# insn_count plugin, whose QEMU plugin ABI is declared by hand, loads into this qemu-aarch64 and
# counts, and kernel_insns.c builds and runs against an aarch64 kernel library.
#   selftest.sh KERNEL_LIBRARY INCLUDE_DIR WORKDIR
# The count must be linear in the work: kernel_insns with REPS = 1, 2, 3 calls of one kernel gives
# counts c1, c2, c3 with c3 - c2 = c2 - c1 exactly (each call runs the same instructions), and one
# call of a 64 x 64 Q8_0 GEMV executes at least one instruction per 16 weight bytes.
set -euo pipefail
lib=$1 include=$2 work=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
cc -O2 -shared -fPIC "$repo/bench/arm64/insn_count.c" -o "$work/insn_count.so"
clang-22 --target=aarch64-linux-gnu -fuse-ld=lld -O2 -I "$include" \
  "$repo/bench/arm64/kernel_insns.c" "$lib" -lm -o "$work/kernel_insns"

count() { # count REPS: instructions of one run of kernel_insns q8_0_packed, T = 1, K = N = 64
  qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu -plugin "$work/insn_count.so,out=$work/n$1" \
    "$work/kernel_insns" q8_0_packed 1 "$1" 64 64 > "$work/out$1"
  read -r word n < "$work/n$1"
  [ "$word" = insns ] || { echo "selftest: unexpected plugin output in $work/n$1" >&2; exit 1; }
  echo "$n"
}
c1=$(count 1) c2=$(count 2) c3=$(count 3)
per_call=$((c2 - c1))
echo "insns: $c1 $c2 $c3; one call: $per_call"
grep -q "weight_bytes=4352 " "$work/out1" || { echo "selftest: kernel_insns output: $(cat "$work/out1")" >&2; exit 1; }
if [ $((c3 - c2)) -ne "$per_call" ]; then
  echo "selftest: counts are not linear in the calls: $c1 $c2 $c3" >&2
  exit 1
fi
if [ "$per_call" -lt $((4352 / 16)) ]; then
  echo "selftest: one call counted $per_call instructions, fewer than a 4352-byte GEMV needs" >&2
  exit 1
fi
echo PASS
