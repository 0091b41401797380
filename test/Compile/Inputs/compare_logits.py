#!/usr/bin/env python3
"""Compares the logits two builds of one model dumped for the same tokens (--dump-logits).

  compare_logits.py A.bin B.bin [--tolerance 1e-6] [--vocab V --flip-tolerance F --max-flips N]

Prints the largest difference relative to the largest |logit| of A, then PASS, or FAIL when it is
above the tolerance or the dumps differ in size.

With int8 activations, two builds that sum in different f32 orders can quantize one activation
value to neighbouring codes (it sat within rounding of a .5 boundary), which moves that position's
logits by about 1e-3 of the largest while every other position agrees to float rounding. With
--vocab (logits per position), up to --max-flips positions may differ by up to --flip-tolerance;
every other position must stay within --tolerance. A wrong kernel moves every position, not one.
Standard library only.
"""

import argparse
import struct
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--vocab", type=int, default=0,
                        help="logits per position (needed by --max-flips)")
    parser.add_argument("--flip-tolerance", type=float, default=0.0)
    parser.add_argument("--max-flips", type=int, default=0)
    args = parser.parse_args()
    with open(args.a, "rb") as f:
        raw_a = f.read()
    with open(args.b, "rb") as f:
        raw_b = f.read()
    if len(raw_a) != len(raw_b) or len(raw_a) % 4 != 0 or not raw_a:
        print("FAIL: the dumps have %d and %d bytes" % (len(raw_a), len(raw_b)))
        return 1
    count = len(raw_a) // 4
    a = struct.unpack("<%df" % count, raw_a)
    b = struct.unpack("<%df" % count, raw_b)
    max_ref = max(abs(x) for x in a)
    vocab = args.vocab if args.vocab > 0 else count
    if count % vocab != 0:
        print("FAIL: %d logits are not whole positions of %d" % (count, vocab))
        return 1
    per_position = [
        max(abs(x - y) for x, y in zip(a[p:p + vocab], b[p:p + vocab])) / max_ref
        for p in range(0, count, vocab)
    ]
    error = max(per_position)
    print("measured: relative difference %.3e over %d logits (%s)" %
          (error, count, "bit-identical" if raw_a == raw_b else "not bit-identical"))
    flips = [p for p, e in enumerate(per_position) if not e <= args.tolerance]
    if flips and args.max_flips > 0:
        print("measured: %d of %d positions above %.1e (%s), the largest %.3e" %
              (len(flips), len(per_position), args.tolerance,
               " ".join(str(p) for p in flips), max(per_position[p] for p in flips)))
        if len(flips) <= args.max_flips and all(per_position[p] <= args.flip_tolerance
                                                for p in flips):
            flips = []
    if flips:
        print("FAIL: relative difference %.3e above %.1e" % (error, args.tolerance))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
