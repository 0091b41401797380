#!/usr/bin/env python3
"""Checks the text interface of a compiled model against Hugging Face `tokenizers`.

Runs the executable with -p, --chat (one turn, and two turns on stdin) and checks:
  - the prompt ids it reports are what `tokenizers` gives for the same text (for the chat, for the
    ChatML rendering of the conversation);
  - its generated ids are the ids the same executable generates when fed the prompt ids with
    --tokens (the path the oracle fixtures check), so text mode runs the same model;
  - its text (--json) and its streamed stdout are `tokenizers`' decoding of the generated ids;
  - generation stops at the end-of-turn / end-of-text tokens: a sampled run that stops equals the
    --ignore-eos run with the same seed up to the stop token, which that run samples next.
Exits non-zero with a message on the first mismatch.
"""
import argparse
import json
import subprocess
import sys

try:
    from tokenizers import Tokenizer
except ImportError:
    sys.exit("check_text.py needs the Python package `tokenizers` (scripts/setup.sh installs it)")

failures = 0


def check(condition, message):
    global failures
    if not condition:
        failures += 1
        print("FAIL: " + message, file=sys.stderr)


def run_bytes(exe, args, stdin=None):
    proc = subprocess.run([exe] + args, input=stdin, capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"{exe} {' '.join(args)} failed ({proc.returncode}): {proc.stderr!r}")
    return proc.stdout


def run(exe, args, stdin=None):
    return run_bytes(exe, args, stdin.encode() if stdin else None).decode("utf-8")


def byte_decoder():
    """GPT-2's byte-level alphabet, inverted: the character a vocabulary entry uses -> the byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def token_bytes(tok, decoder, ids):
    """The raw bytes the ids stand for: what a streaming executable writes."""
    added = {t.content for t in tok.get_added_tokens_decoder().values()}
    out = b""
    for i in ids:
        piece = tok.id_to_token(i)
        out += piece.encode() if piece in added else bytes(decoder[c] for c in piece)
    return out


def run_json(exe, args, stdin=None):
    return [json.loads(line) for line in run(exe, args, stdin).splitlines() if line.strip()]


def chatml(system, messages, think):
    text = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    for m in messages:
        text += f"<|im_start|>user\n{m}<|im_end|>\n<|im_start|>assistant\n"
        text += "<think>\n" if think else "<think>\n\n</think>\n\n"
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True, help="the checkpoint's tokenizer.json")
    ap.add_argument("--exe", required=True, help="the compiled model")
    args = ap.parse_args()
    tok = Tokenizer.from_file(args.tokenizer)
    exe = args.exe
    decoder = byte_decoder()
    n = "12"

    # 1. Plain text prompts, including special tokens written in the text and non-ASCII text.
    prompts = ["Hello world, it's a test!", "  indented\n\tcode();\r\n", "naïve café — 東京 🙂",
               "<|im_start|>user\nhi<|im_end|>"]
    for text in prompts:
        [out] = run_json(exe, ["-p", text, "-n", n, "--ignore-eos", "--json"])
        expected = tok.encode(text).ids
        check(out["prompt_ids"] == expected,
              f"-p {text!r}: prompt ids {out['prompt_ids']} != tokenizers {expected}")
        [ref] = run_json(exe, ["--tokens", ",".join(map(str, out["prompt_ids"])), "-n", n, "--json"])
        check(out["tokens"] == ref["tokens"],
              f"-p {text!r}: generated {out['tokens']} != --tokens path {ref['tokens']}")
        decoded = tok.decode(out["tokens"], skip_special_tokens=False)
        check(out["text"] == decoded, f"-p {text!r}: text {out['text']!r} != tokenizers {decoded!r}")
        check(out["stop"] == "length" and out["generated_tokens"] == int(n),
              f"-p {text!r} --ignore-eos: stop {out['stop']} after {out['generated_tokens']}")
        streamed = run_bytes(exe, ["-p", text, "-n", n, "--ignore-eos"])
        raw = token_bytes(tok, decoder, out["tokens"])
        check(streamed == raw + b"\n", f"-p {text!r}: streamed {streamed!r} != the tokens' bytes {raw!r}")
        check(raw.decode("utf-8", errors="replace") == decoded,
              f"-p {text!r}: the tokens' bytes do not decode to tokenizers' text")

    # A prompt from a file is the same prompt.
    with open(args.exe + ".prompt.txt", "w", encoding="utf-8") as f:
        f.write(prompts[2])
    [from_file] = run_json(exe, ["-f", args.exe + ".prompt.txt", "-n", "3", "--json"])
    check(from_file["prompt_ids"] == tok.encode(prompts[2]).ids, "-f: prompt ids differ from -p")

    # 2. One chat turn, with and without thinking.
    for think in (True, False):
        flag = "--think" if think else "--no-think"
        [out] = run_json(exe, ["--chat", "-p", "What is 2+2?", "--system", "Be brief.", flag,
                               "-n", "4", "--ignore-eos", "--json"])
        expected = tok.encode(chatml("Be brief.", ["What is 2+2?"], think)).ids
        check(out["prompt_ids"] == expected,
              f"--chat {flag}: prompt ids {out['prompt_ids']} != tokenizers {expected}")

    # 3. Two turns on stdin: the second feeds only what is new, and continues the same session.
    turns = run_json(exe, ["--chat", "-n", "5", "--ignore-eos", "--json"],
                     stdin="first message\nsecond one\n")
    check(len(turns) == 2, f"--chat on two lines gave {len(turns)} JSON objects")
    if len(turns) == 2:
        first, second = turns
        owed = [first["tokens"][-1]] if first["stop"] == "length" else []
        [first_expected] = [tok.encode(chatml(None, ["first message"], True)).ids]
        check(first["prompt_ids"] == first_expected, "--chat turn 1: prompt ids differ")
        continuation = "<|im_end|>\n" + chatml(None, ["second one"], True)
        expected = owed + tok.encode(continuation).ids
        check(second["prompt_ids"] == expected,
              f"--chat turn 2: prompt ids {second['prompt_ids']} != {expected}")
        check(second["prompt_ids"][:len(owed)] == owed,
              "--chat turn 2 does not start with turn 1's unfed token")
        history = first["prompt_ids"] + first["tokens"][:-1] + second["prompt_ids"]
        [ref] = run_json(exe, ["--tokens", ",".join(map(str, history)), "-n", "5", "--json"])
        check(second["tokens"] == ref["tokens"],
              f"--chat turn 2 generated {second['tokens']} != the whole history fed at once "
              f"{ref['tokens']}")
        check(second["position"] == len(history) + 4, f"--chat position {second['position']}")

    # 4. Stop tokens: sample hot until some seed stops early.
    stop_ids = {tok.token_to_id("<|im_end|>"), tok.token_to_id("<|endoftext|>")}
    stopped = 0
    for seed in range(40):
        common = ["-p", "Hello", "--temp", "8", "--seed", str(seed), "-n", "40", "--json"]
        [out] = run_json(exe, common)
        if out["stop"] == "length":
            continue
        stopped += 1
        [full] = run_json(exe, common + ["--ignore-eos"])
        k = out["generated_tokens"]
        check(full["tokens"][:k] == out["tokens"], f"seed {seed}: tokens before the stop differ")
        check(full["tokens"][k] in stop_ids and
              out["stop"] == ("end_of_turn" if full["tokens"][k] == tok.token_to_id("<|im_end|>")
                              else "end_of_text"),
              f"seed {seed}: stopped ({out['stop']}) but --ignore-eos sampled {full['tokens'][k]}")
        if stopped == 3:
            break
    check(stopped > 0, "no seed stopped at an end token in 40 tries")

    if failures:
        sys.exit(f"{failures} check(s) failed")
    print(f"check_text: all checks passed ({stopped} stopped runs)")


if __name__ == "__main__":
    main()
