#!/usr/bin/env python3
"""deltac against llama.cpp on the same synthesized GGUF weights (issue 7's benchmark).

    bench/compare.py --deltac build/bin/deltac --work .bench/run [--sizes 0.8b,2b] [--runs 3]

For each model size it synthesizes one random bf16 model (deltac synth, the real shapes) in three GGUF
files: bf16 (the reference), Q8_0 and Q4_0. deltac compiles int8 from the Q8_0 file and int4-g32
from the Q4_0 file (GGUF blocks are kept byte for byte, only repacked, so both engines run the very
same weights), both with --act-quant=int8 (int8 activations, as llama.cpp's Q8_0 / Q4_0 kernels use),
and f32 from the bf16 file as the accuracy reference. Then, with the same thread count for both:

  * prefill tok/s for one --prompt-token prompt and decode tok/s over --gen tokens, median of --runs;
  * the machine's read bandwidth (bench/bandwidth.c) and the decode roofline: bandwidth divided by
    the weight bytes one decode step reads, and the fraction of it each engine reaches. The
    bandwidth is the best of every measurement of the run (three at the start, then one before the
    first timed run and after each): on a shared VM one measurement moved from 24 to 54 GB/s between
    invocations a few seconds apart, and a roofline from a low one read above 100%. The paired
    roofline fraction divides each run's decode by the mean of the two measurements around it, the
    bandwidth the machine had at the time, and takes the median over the runs;
  * accuracy: mean KL divergence of each engine's next-token distribution from deltac's f32 build,
    and top-1 agreement, over --kl-prompts random prompts of --kl-tokens tokens;
  * deltac's peak RSS and compile time;
  * run by run: the engines' runs alternate, so deltac's run i and llama.cpp's run i share the
    machine's spell, and their ratio moves less than a ratio of medians taken from different
    spells. Printed under each table: the median of these pair ratios, their range, and how many
    pairs reach issue 7's targets (decode 1.3x, prefill 2x).

Prints a table per size and writes everything to WORK/results.json. llama.cpp is driven through
llama-cpp-python (scripts/bench.sh installs it from source, built for this CPU).

    bench/compare.py --report WORK/results.json

prints the tables of an earlier run again, without running anything.
"""

import argparse
import faulthandler
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- weights -------------------------------------------------------------------------------

BLOCK_BYTES = {"q8_0": (32, 34), "q4_0": (32, 18), "q4_1": (32, 20),
               "q8_0_packed": (32, 34), "q4_0_packed": (32, 18), "q4_0_x8": (32, 18)}
ELEMENT_BYTES = {"f32": 4, "f16": 2, "bf16": 2}


def store_tensors(deltac, store):
    """(name, dtype, shape) of every tensor of a deltac weight store, from `deltac inspect`."""
    out = run([deltac, "inspect", store]).stdout
    tensors = []
    for line in out.splitlines()[1:]:
        m = re.match(r"\s+(\S+) (\S+) \[([0-9, ]*)\]", line)
        if m:
            shape = [int(d) for d in m.group(3).split(",") if d.strip()]
            tensors.append((m.group(1), m.group(2), shape))
    return tensors


def tensor_bytes(dtype, shape):
    n = int(np.prod(shape)) if shape else 1
    if dtype in ELEMENT_BYTES:
        return n * ELEMENT_BYTES[dtype]
    if dtype in BLOCK_BYTES:
        per, size = BLOCK_BYTES[dtype]
        return n // per * size
    raise ValueError(f"unknown dtype {dtype}")


def decode_bytes_per_token(tensors, embedding="embed_tokens.weight", head="lm_head.weight"):
    """Bytes one decode step reads: every tensor once, except that the embedding gives one row only
    unless it is also the (tied) LM head."""
    # delta-pack-weights stores a weight as NAME.packed; it is the same tensor.
    tensors = [(name.removesuffix(".packed"), dtype, shape) for name, dtype, shape in tensors]
    names = {name for name, _, _ in tensors}
    total = 0
    for name, dtype, shape in tensors:
        if name == embedding and head not in names:
            total += tensor_bytes(dtype, shape)  # tied: the LM head streams it
        elif name == embedding:
            total += tensor_bytes(dtype, shape) // shape[0]
        else:
            total += tensor_bytes(dtype, shape)
    return total


def gguf_decode_bytes(path):
    from gguf import GGUFReader

    reader = GGUFReader(path)
    names = {t.name for t in reader.tensors}
    total = 0
    for t in reader.tensors:
        if t.name == "token_embd.weight" and "output.weight" in names:
            total += int(t.n_bytes) // int(t.shape[-1] if len(t.shape) > 1 else 1)
        else:
            total += int(t.n_bytes)
    return total


# ---- deltac --------------------------------------------------------------------------------

def deltac_run(exe, prompt, gen, threads):
    """One timed prefill + decode of a deltac build (its --bench mode)."""
    out = run([exe, "--bench", "--bench-prompt", str(prompt), "--bench-gen", str(gen),
               "--threads", str(threads), "--json"]).stdout
    return json.loads(out.strip().splitlines()[-1])


def summarize_deltac(results):
    return {
        "prefill_tok_s": statistics.median(r["prefill_tok_s"] for r in results),
        "decode_tok_s": statistics.median(r["decode_tok_s"] for r in results),
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in results),
        "runs": results,
    }


def deltac_logits(exe, tokens, vocab, workdir, threads):
    path = os.path.join(workdir, "logits.bin")
    run([exe, "--tokens", ",".join(map(str, tokens)), "-n", "1", "--dump-logits", path,
         "--threads", str(threads)])
    rows = np.fromfile(path, dtype=np.float32).reshape(-1, vocab)
    return rows[: len(tokens)].astype(np.float64)


# ---- llama.cpp -----------------------------------------------------------------------------

def llama_model(path, threads, ctx, logits_all):
    from llama_cpp import Llama

    return Llama(model_path=path, n_ctx=ctx, n_batch=512, n_ubatch=512, n_threads=threads,
                 n_threads_batch=threads, logits_all=logits_all, verbose=False)


def llama_run(llm, prompt, gen, vocab):
    """One timed prefill + decode of a loaded llama.cpp model: (prefill tok/s, decode tok/s)."""
    tokens = [(i * 7919 + 1) % vocab for i in range(prompt)]  # the prompt deltac's --bench uses
    llm.reset()
    start = time.perf_counter()
    llm.eval(tokens)
    prefill = prompt / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(gen):
        # Without logits_all, llama-cpp-python keeps no scores: read the context's logits of the
        # last evaluated token (the only output row), as deltac's --bench picks greedily.
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,))
        llm.eval([int(np.argmax(logits))])
    return prefill, gen / (time.perf_counter() - start)


def summarize_llama(runs):
    prefill, decode = [r[0] for r in runs], [r[1] for r in runs]
    return {"prefill_tok_s": statistics.median(prefill), "decode_tok_s": statistics.median(decode),
            "prefill_runs": prefill, "decode_runs": decode}


def llama_logits(path, tokens, threads):
    llm = llama_model(path, threads, len(tokens) + 16, logits_all=True)
    llm.reset()
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens)], dtype=np.float64)


# ---- accuracy ------------------------------------------------------------------------------

def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def compare(reference, candidate):
    lp, lq = log_softmax(reference), log_softmax(candidate)
    kl = (np.exp(lp) * (lp - lq)).sum(axis=-1)
    top1 = (reference.argmax(axis=-1) == candidate.argmax(axis=-1)).mean()
    return {"mean_kl": float(kl.mean()), "top1_agreement": float(top1)}


# ---- main ----------------------------------------------------------------------------------

class Bandwidth:
    """The machine's read bandwidth: the best of every measurement so far, per thread count."""

    def __init__(self, work, threads):
        self.exe = os.path.join(work, "bandwidth")
        self.threads = threads
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bandwidth.c")
        run(["clang-22", "-O2", "-march=native", "-pthread", src, "-o", self.exe])
        self.samples = []

    def measure(self):
        """Measures once; returns the bandwidth with all the threads (GB/s)."""
        m = json.loads(run([self.exe, str(self.threads)]).stdout)
        self.samples.append(m["read_gb_s"])
        log(f"read bandwidth (GB/s, 1..{self.threads} threads): {m['read_gb_s']}")
        return m["read_gb_s"][-1]

    def best(self):
        return [max(s[i] for s in self.samples) for i in range(self.threads)]

    def summary(self):
        return {"threads": list(range(1, self.threads + 1)), "read_gb_s": self.best(),
                "samples": self.samples}


def bench_size(args, size, bw):
    work = os.path.join(args.work, size)
    os.makedirs(work, exist_ok=True)
    gguf = {d: os.path.join(work, f"model-{d}.gguf") for d in ("bf16", "q8_0", "q4_0")}
    for dtype, path in gguf.items():
        if not os.path.exists(path):
            log(f"[{size}] synthesizing {dtype} GGUF")
            run([args.deltac, "synth", "--size", size, "--format", "gguf", "--dtype", dtype,
                 "-o", path, "--no-progress"])
    # The timed builds compute the next token's logits only in a prefill, as llama.cpp does; the
    # "-kl" builds keep every position's logits for the accuracy comparison.
    # Both engines quantize activations to int8 in blocks of 32 for these weights (llama.cpp's
    # Q8_0 / Q4_0 dot products take Q8_0 activations), so the accuracy columns compare like with like.
    last = ["--prefill-logits", "last"]
    act = ["--act-quant", "int8"]
    # The quantized builds may keep their delta-rule state and their KV cache in f16
    # (--recurrent-state-type, --kv-cache-type; llama.cpp's KV cache is f16); the f32 reference
    # always keeps both in f32, so the KL columns include what the rounding costs.
    act += ["--recurrent-state-type", args.recurrent_state_type,
            "--kv-cache-type", args.kv_cache_type]
    builds = {"f32": (gguf["bf16"], ["--dtype", "f32"]),
              "int8": (gguf["q8_0"], ["--quant", "int8"] + act + last),
              "int4": (gguf["q4_0"], ["--quant", "int4-g32"] + act + last),
              "int8-kl": (gguf["q8_0"], ["--quant", "int8"] + act),
              "int4-kl": (gguf["q4_0"], ["--quant", "int4-g32"] + act)}
    compile_s = {}
    for name, (src, flags) in builds.items():
        exe = os.path.join(work, f"deltac-{name}")
        log(f"[{size}] deltac compile {name}")
        start = time.perf_counter()
        run([args.deltac, "compile", src, "-o", exe, "--max-tokens", str(args.prompt),
             "--max-context", str(args.prompt + args.gen + 64), "--no-progress"] + flags)
        compile_s[name] = time.perf_counter() - start

    rng = np.random.default_rng(7)
    vocab = None
    results = {"size": size, "compile_s": compile_s, "engines": {}}
    reference = []
    tensors = store_tensors(args.deltac, os.path.join(work, "deltac-f32.dcw"))
    vocab = next(shape[0] for name, _, shape in tensors if name == "embed_tokens.weight")
    prompts = [rng.integers(0, vocab, args.kl_tokens).tolist() for _ in range(args.kl_prompts)]
    for tokens in prompts:
        reference.append(deltac_logits(os.path.join(work, "deltac-f32"), tokens, vocab, work,
                                       args.threads))
    reference = np.concatenate(reference)

    for scheme, gguf_type in (("int8", "q8_0"), ("int4", "q4_0")):
        exe = os.path.join(work, f"deltac-{scheme}")
        # The engines' runs alternate, so a slow spell of this shared machine (its memory bandwidth
        # varies by tens of percent from minute to minute) falls on both rather than on one.
        log(f"[{size}] bench deltac {scheme} and llama.cpp {gguf_type}, {args.runs} runs each")
        llm = llama_model(gguf[gguf_type], args.threads, args.prompt + args.gen + 16,
                          logits_all=False)
        # A bandwidth measurement before the first run and after every run: each run sits between
        # two, whose mean is the bandwidth the machine had around it (the paired roofline below).
        d_runs, l_runs, d_bw, l_bw = [], [], [], []
        before = bw.measure()
        for _ in range(args.runs):
            d_runs.append(deltac_run(exe, args.prompt, args.gen, args.threads))
            after = bw.measure()
            d_bw.append((before + after) / 2)
            l_runs.append(llama_run(llm, args.prompt, args.gen, vocab))
            before = bw.measure()
            l_bw.append((after + before) / 2)
        del llm
        d, l = summarize_deltac(d_runs), summarize_llama(l_runs)
        d["run_read_gb_s"], l["run_read_gb_s"] = d_bw, l_bw
        d["decode_runs"] = [r["decode_tok_s"] for r in d_runs]
        d["decode_bytes"] = decode_bytes_per_token(store_tensors(args.deltac, exe + ".dcw"))
        d.update(compare(reference, np.concatenate(
            [deltac_logits(exe + "-kl", t, vocab, work, args.threads) for t in prompts])))
        l["decode_bytes"] = gguf_decode_bytes(gguf[gguf_type])
        l.update(compare(reference, np.concatenate(
            [llama_logits(gguf[gguf_type], t, args.threads) for t in prompts])))
        results["engines"][scheme] = {"deltac": d, "llama.cpp": l}
    gbs = bw.best()[-1]
    results["read_gb_s"] = gbs
    for engines in results["engines"].values():
        for r in engines.values():
            r["roofline_tok_s"] = gbs * 1e9 / r["decode_bytes"]
            r["roofline_fraction"] = r["decode_tok_s"] / r["roofline_tok_s"]
            # Each run's decode against the bandwidth measured around it, median over the runs.
            r["paired_roofline_fraction"] = statistics.median(
                tok_s * r["decode_bytes"] / (run_gbs * 1e9)
                for tok_s, run_gbs in zip(r["decode_runs"], r["run_read_gb_s"]))
    results["pairs"] = {scheme: paired_ratios(e["deltac"], e["llama.cpp"])
                        for scheme, e in results["engines"].items()}
    return results


# Issue 7's ratio targets, deltac against llama.cpp.
TARGETS = {"prefill": 2.0, "decode": 1.3}


def paired_ratios(deltac, llama):
    """deltac's run i against llama.cpp's run i, for prefill and decode: the pairs' ratios and their
    median. The runs alternate (bench_size), so a pair shares the machine's spell."""
    out = {}
    for kind in ("prefill", "decode"):
        ours = [r[f"{kind}_tok_s"] for r in deltac["runs"]]
        theirs = llama[f"{kind}_runs"]
        if len(ours) != len(theirs) or not ours:
            raise ValueError(f"{kind}: {len(ours)} deltac runs against {len(theirs)} llama.cpp runs")
        ratios = [a / b for a, b in zip(ours, theirs)]
        out[kind] = {"ratios": ratios, "median": statistics.median(ratios),
                     "at_target": sum(r >= TARGETS[kind] for r in ratios)}
    return out


def format_pairs(scheme, engines):
    """One line per weight scheme: the pairs' ratios and the runs' ranges."""
    d, l = engines["deltac"], engines["llama.cpp"]
    pairs = paired_ratios(d, l)
    parts = []
    for kind in ("prefill", "decode"):
        p = pairs[kind]
        ours = [r[f"{kind}_tok_s"] for r in d["runs"]]
        theirs = l[f"{kind}_runs"]
        parts.append(
            f"{kind} {p['median']:.2f}x ({min(p['ratios']):.2f}-{max(p['ratios']):.2f}x; "
            f"{p['at_target']} of {len(p['ratios'])} pairs >= {TARGETS[kind]:g}x; deltac "
            f"{min(ours):.1f}-{max(ours):.1f}, llama.cpp {min(theirs):.1f}-{max(theirs):.1f} tok/s)")
    return f"- {scheme}, run by run: " + "; ".join(parts)


def print_table(results, gbs, threads):
    print(f"\n## Qwen3.5-{results['size']} (synthesized), {threads} threads, read bandwidth "
          f"{gbs:.1f} GB/s\n")
    print("| weights | engine | prefill tok/s | decode tok/s | decode vs llama.cpp | "
          "bytes/token | roofline tok/s | of roofline | of paired roofline | KL vs f32 | top-1 | "
          "peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for scheme, engines in results["engines"].items():
        base = engines["llama.cpp"]["decode_tok_s"]
        for name, r in engines.items():
            rss = f"{r['peak_rss_bytes'] / 2**20:.0f} MiB" if "peak_rss_bytes" in r else "–"
            label = {"int8": "int8 / Q8_0", "int4": "int4 / Q4_0"}[scheme]
            print(f"| {label} | {name} | {r['prefill_tok_s']:.1f} | {r['decode_tok_s']:.1f} | "
                  f"{r['decode_tok_s'] / base:.2f}x | {r['decode_bytes'] / 2**20:.0f} MiB | "
                  f"{r['roofline_tok_s']:.1f} | {100 * r['roofline_fraction']:.0f}% | "
                  f"{100 * r['paired_roofline_fraction']:.0f}% | {r['mean_kl']:.2e} | {100 * r['top1_agreement']:.1f}% | {rss} |")
        d, l = engines["deltac"], engines["llama.cpp"]
        print(f"|  | deltac / llama.cpp | {d['prefill_tok_s'] / l['prefill_tok_s']:.2f}x | "
              f"{d['decode_tok_s'] / l['decode_tok_s']:.2f}x | | | | | | | | |")
    print()
    for scheme, engines in results["engines"].items():
        print(format_pairs(scheme, engines))
    print("\ndeltac compile time (--prefill-logits=last for the timed builds): " + ", ".join(
        f"{k} {v:.1f} s" for k, v in results["compile_s"].items()))


def print_size(results, all_results):
    print_table(results, results["read_gb_s"], all_results["threads"])
    print(f"deltac's int8 and int4 builds keep the delta-rule state in "
          f"{all_results['recurrent_state_type']} (--recurrent-state-type) and the KV cache in "
          f"{all_results['kv_cache_type']} (--kv-cache-type)")


def report(path):
    """The tables of a results.json written by an earlier run."""
    try:
        with open(path) as f:
            all_results = json.load(f)
        for r in all_results["sizes"]:
            print_size(r, all_results)
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"compare.py: {path}: not a results.json of this benchmark ({e})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--report", metavar="RESULTS_JSON",
                   help="print the tables of an earlier run's results.json and exit")
    p.add_argument("--deltac")
    p.add_argument("--work")
    p.add_argument("--sizes", default="0.8b")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--prompt", type=int, default=512)
    p.add_argument("--gen", type=int, default=128)
    p.add_argument("--recurrent-state-type", choices=["f32", "f16"], default="f32",
                   help="storage of deltac's delta-rule state in the int8 and int4 builds")
    p.add_argument("--kv-cache-type", choices=["f32", "f16"], default="f32",
                   help="storage of deltac's KV cache in the int8 and int4 builds")
    p.add_argument("--kl-prompts", type=int, default=4)
    p.add_argument("--kl-tokens", type=int, default=64)
    args = p.parse_args()
    if args.report:
        report(args.report)
        return
    if not args.deltac or not args.work:
        p.error("--deltac and --work are required (or --report RESULTS_JSON)")
    if args.runs < 3:
        p.error("--runs must be at least 3 (the figures are medians)")
    os.makedirs(args.work, exist_ok=True)
    # llama.cpp runs in this process: a crash of its kernels (SIGILL, SIGSEGV) then says where it
    # happened instead of ending the benchmark without a word (scripts/bench.sh, AMX).
    faulthandler.enable()
    bw = Bandwidth(args.work, args.threads)
    for _ in range(3):
        bw.measure()
    all_results = {"threads": args.threads, "recurrent_state_type": args.recurrent_state_type,
                   "kv_cache_type": args.kv_cache_type, "sizes": []}
    for size in args.sizes.split(","):
        r = bench_size(args, size, bw)
        all_results["sizes"].append(r)
        all_results["bandwidth"] = bw.summary()
        print_size(r, all_results)
        with open(os.path.join(args.work, "results.json"), "w") as f:  # after each size
            json.dump(all_results, f, indent=1)


if __name__ == "__main__":
    main()
