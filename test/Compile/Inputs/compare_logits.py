#!/usr/bin/env python3
"""Compares the logits two builds of one model dumped for the same tokens (--dump-logits).

  compare_logits.py A.bin B.bin [--tolerance 1e-6]

Prints the largest difference relative to the largest |logit| of A, then PASS, or FAIL when it is
above the tolerance or the dumps differ in size. Standard library only.
"""

import argparse
import struct
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-6)
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
    max_diff = max(abs(x - y) for x, y in zip(a, b))
    max_ref = max(abs(x) for x in a)
    error = max_diff / max_ref
    print("measured: relative difference %.3e over %d logits (%s)" %
          (error, count, "bit-identical" if raw_a == raw_b else "not bit-identical"))
    if not error <= args.tolerance:
        print("FAIL: relative difference %.3e above %.1e" % (error, args.tolerance))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
