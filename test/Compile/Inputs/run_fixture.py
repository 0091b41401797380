#!/usr/bin/env python3
"""Runs a compiled model on an oracle fixture and compares it with transformers' results.

  run_fixture.py BINARY FIXTURE_DIR WORKDIR [--tolerance 1e-4] [--runner "qemu-aarch64 -L ..."]

Feeds the fixture's prompt (its first prompt_length tokens) to BINARY with --tokens, asks for as many
greedy tokens as the fixture generated, with --dump-logits. Then checks
  * the generated tokens equal the fixture's (transformers' greedy continuation),
  * the logits at every position (prompt and generated) are within the tolerance, measured as
    max |actual - expected| / max |expected| over all positions,
and prints the measured error. --runner runs BINARY under an emulator (the command line of the
target's TargetInfo::emulator, split on spaces). Standard library only: CI runs it without numpy.
"""

import argparse
import json
import os
import struct
import subprocess
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length])
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        fmt = {"F32": "f", "I32": "i"}[info["dtype"]]
        count = (end - begin) // 4
        tensors[name] = (info["shape"], struct.unpack_from("<%d%s" % (count, fmt), data, base + begin))
    return tensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("fixture")
    parser.add_argument("workdir")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--report-only", action="store_true",
                        help="reduced-precision builds: report the error and token agreement, fail "
                             "only above the tolerance")
    parser.add_argument("--greedy-only", action="store_true",
                        help="builds without every position's logits (--prefill-logits=last): "
                             "check the greedy tokens only")
    parser.add_argument("--runner", default="",
                        help="a command line that runs BINARY (an emulator for another "
                             "architecture's executables), split on spaces")
    args = parser.parse_args()

    expected = read_safetensors(os.path.join(args.fixture, "expected.safetensors"))
    tokens = list(expected["tokens"][1])
    prompt_length = expected["prompt_length"][1][0]
    (positions, vocab), want = expected["logits"]
    generated = len(tokens) - prompt_length

    os.makedirs(args.workdir, exist_ok=True)
    dump = os.path.join(args.workdir, "logits.bin")
    command = args.runner.split() + [args.binary, "--tokens", ",".join(map(str, tokens[:prompt_length])),
               "-n", str(generated)]
    if not args.greedy_only:
        command += ["--dump-logits", dump]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        print("FAIL: the binary exited with %d: %s" % (run.returncode, run.stderr.strip()))
        return 1
    out_tokens = [int(t) for t in run.stdout.replace(",", " ").split()]
    expected_tokens = tokens[prompt_length:]
    agree = sum(a == b for a, b in zip(out_tokens, expected_tokens))
    if args.greedy_only:
        print("measured: %d of %d greedy tokens equal transformers'" % (agree, len(expected_tokens)))
        print("PASS" if out_tokens == expected_tokens else "FAIL: generated %s" % out_tokens)
        return 0 if out_tokens == expected_tokens else 1
    with open(dump, "rb") as f:
        raw = f.read()
    # The dump holds one row per prompt position and per generated token: the last generated token's
    # logits are computed too when the binary runs that token (it need not); compare what both have.
    rows = len(raw) // (4 * vocab)
    if rows < positions - 1 or len(raw) % (4 * vocab) != 0:
        print("FAIL: the logits dump has %d bytes, expected rows of %d floats" % (len(raw), vocab))
        return 1
    got = struct.unpack("<%df" % (rows * vocab), raw)
    compared = min(rows, positions) * vocab
    max_diff = max(abs(a - b) for a, b in zip(got[:compared], want[:compared]))
    max_ref = max(abs(b) for b in want[:compared])
    error = max_diff / max_ref
    print("measured: %s logits relative error %.3e over %d positions" %
          (os.path.basename(args.fixture.rstrip("/")), error, compared // vocab))
    print("measured: %d of %d greedy tokens equal transformers'" % (agree, len(expected_tokens)))
    if out_tokens != expected_tokens and not args.report_only:
        print("FAIL: generated %s, transformers generated %s" % (out_tokens, expected_tokens))
        return 1
    if error > args.tolerance:
        print("FAIL: relative error %.3e above %.1e" % (error, args.tolerance))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
