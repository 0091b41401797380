#!/usr/bin/env python3
"""Trains the tiny byte-level BPE tokenizer of deltac's end-to-end test models.

    python3 test/tokenizer/make_tiny_tokenizer.py [OUT_DIR]   (default test/fixtures/tokenizer_tiny)

Writes OUT_DIR/tokenizer.json: a Qwen3.5-shaped tokenizer (NFC normalizer, the qwen35 Split regex
then ByteLevel, ByteLevel decoder) of 384 tokens: the special tokens <|endoftext|>, <|im_start|>,
<|im_end|> (ids 0-2), the 256 bytes, 123 merges learned from the text below, and <think>, </think>
as added tokens that are not special (ids 382, 383), as Qwen's own tokenizer.json has them.
The result is committed; rerun only to change it (training is deterministic).
"""

import os
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import trainers

QWEN35_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}|"""
                r""" ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

TEXT = """\
The tiny model reads a short story. Once upon a time there was a little robot who liked to count
the stars: one, two, three, four, five. Every night the robot said "hello" to the moon, and the moon
said hello back. The robot's friends were a cat, a dog and a very old tree. They talked about the
weather, the river and the road that went over the hill. It's a quiet town; we'll see what happens
when the rain comes. I'm sure they're happy there, and you've seen it too.
def add(a, b):
    return a + b

for i in range(10):
    print(i, add(i, i))
<|im_start|>user
What is two plus two?<|im_end|>
<|im_start|>assistant
<think>
Two plus two is four.
</think>

Four.<|im_end|>
Schöne Grüße, café, naïve, 你好世界, こんにちは, 안녕하세요, Привет, مرحبا, नमस्ते 😀
"""

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ADDED = ["<think>", "</think>"]
VOCAB_SIZE = 384


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tokenizer_tiny")
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN35_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - len(ADDED), min_frequency=1, show_progress=False,
        special_tokens=[AddedToken(s, special=True, normalized=False) for s in SPECIALS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TEXT] * 4, trainer=trainer)
    tok.add_tokens([AddedToken(s, special=False, normalized=False) for s in ADDED])
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))


if __name__ == "__main__":
    main()
