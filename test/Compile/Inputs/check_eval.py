#!/usr/bin/env python3
"""Checks `deltac eval --json` results against accuracy limits: each file's mean KL must be finite and at
most --max-kl, and its top-1 agreement at least --min-top1. Prints one line per file and PASS, or FAIL
with the offending file."""

import argparse
import json
import math
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--max-kl", type=float, required=True)
parser.add_argument("--min-top1", type=float, required=True)
parser.add_argument("results", nargs="+")
args = parser.parse_args()

failed = False
for path in args.results:
    with open(path) as f:
        result = json.loads(f.read())
    kl, top1 = result["mean_kl"], result["top1_agreement"]
    ok = math.isfinite(kl) and 0 <= kl <= args.max_kl and top1 >= args.min_top1
    print(f"{result['scheme']}: mean KL {kl:.3e}, top-1 {top1:.4f}", "" if ok else "(out of limits)")
    failed |= not ok
print("FAIL" if failed else "PASS")
sys.exit(1 if failed else 0)
