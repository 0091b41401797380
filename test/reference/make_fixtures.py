#!/usr/bin/env python3
"""Writes deltac's oracle fixtures with Hugging Face transformers' own Qwen3.5 / Qwen3-Next code.

Each fixture is a tiny random model run through transformers: a prefill of PROMPT tokens (more than two
chunks of 64, so the chunked delta rule crosses chunk boundaries) followed by DECODE greedy one-token
steps with the cache. For every fixture directory under test/fixtures/ it writes

  config.json, model.safetensors   the model, as transformers' save_pretrained writes it (float32)
  expected.safetensors             tokens [P + D] (int32), prompt_length [1], logits [P + D, V] (the
                                   row for every position), and per layer after the last step:
                                   layers.N.conv_state [K-1, C], layers.N.delta_state [nv, dk, dv],
                                   layers.N.key_cache / value_cache [nkv, P + D, hd]  (deltac layouts)

Run from the repository root, in an environment with test/reference/requirements.txt installed:

  pip install -r test/reference/requirements.txt
  python3 test/reference/make_fixtures.py            # all fixtures
  python3 test/reference/make_fixtures.py qwen35_r2  # one

The weights are float32 values. The forward passes run in float64: transformers casts to float32 in
many places (norms, softmax, the delta-rule kernels), and a float32 oracle disagrees with itself by
up to 2.4e-5 relative between two equivalent evaluation orders (chunked prefill vs token by token), which
is above the 1e-5 the reference must meet. `Float64Mode` reroutes every float32 cast and allocation in
transformers' code to float64, so the fixture holds transformers' own math at double precision (stored
rounded to float32). The output is deterministic for a given torch/transformers version (fixed seeds,
CPU).
"""

import json
import math
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

import transformers
from transformers import (
    DynamicCache,
    Qwen3_5ForCausalLM,
    Qwen3_5MoeForCausalLM,
    Qwen3_5MoeTextConfig,
    Qwen3_5TextConfig,
    Qwen3NextConfig,
    Qwen3NextForCausalLM,
)

PROMPT = 130
DECODE = 8
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

COMMON = dict(
    hidden_size=32,
    num_hidden_layers=4,  # three Gated DeltaNet layers, then one gated attention layer
    vocab_size=128,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    linear_num_key_heads=2,
    linear_key_head_dim=16,
    linear_value_head_dim=16,
    linear_conv_kernel_dim=4,
    rms_norm_eps=1e-6,
    max_position_embeddings=512,
)
MOE = dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
           shared_expert_intermediate_size=16)

FIXTURES = {
    # value/key head ratio 1, tied LM head, interleaved M-RoPE sections (sum = rotary_dim / 2 = 2)
    "qwen35_r1_tied": (Qwen3_5TextConfig, Qwen3_5ForCausalLM,
                       dict(COMMON, linear_num_value_heads=2, intermediate_size=64,
                            tie_word_embeddings=True,
                            rope_parameters=dict(rope_type="default", rope_theta=1e7,
                                                 partial_rotary_factor=0.25,
                                                 mrope_section=[1, 1, 0],
                                                 mrope_interleaved=True))),
    # ratio 2 (value head h reads key head h // 2), untied LM head
    "qwen35_r2": (Qwen3_5TextConfig, Qwen3_5ForCausalLM,
                  dict(COMMON, linear_num_value_heads=4, intermediate_size=64,
                       tie_word_embeddings=False,
                       rope_parameters=dict(rope_type="default", rope_theta=1e7,
                                            partial_rotary_factor=0.25,
                                            mrope_section=[1, 1, 0], mrope_interleaved=True))),
    # Qwen3-Next: fused in_proj_qkvz / in_proj_ba, MoE with a shared expert, plain partial RoPE
    "qwen3next": (Qwen3NextConfig, Qwen3NextForCausalLM,
                  dict(COMMON, **MOE, linear_num_value_heads=4, tie_word_embeddings=False,
                       norm_topk_prob=True,
                       rope_parameters=dict(rope_type="default", rope_theta=1e7,
                                            partial_rotary_factor=0.25))),
    # Qwen3.5-MoE text model
    "qwen35moe": (Qwen3_5MoeTextConfig, Qwen3_5MoeForCausalLM,
                  dict(COMMON, **MOE, linear_num_value_heads=4, tie_word_embeddings=False,
                       rope_parameters=dict(rope_type="default", rope_theta=1e7,
                                            partial_rotary_factor=0.25,
                                            mrope_section=[1, 1, 0], mrope_interleaved=True))),
}


class Float64Mode(torch.overrides.TorchFunctionMode):
    """Runs transformers' float32 code paths in float64: every dtype=float32 argument, .float() and
    .to(float32) becomes float64."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is torch.Tensor.float:
            return args[0].to(torch.float64)
        if kwargs.get("dtype") is torch.float32:
            kwargs["dtype"] = torch.float64
        args = tuple(torch.float64 if a is torch.float32 else a for a in args)
        return func(*args, **kwargs)


def randomize(model, generator):
    """Replaces transformers' init (zero norms, 0.02 std) with values that make every op matter: norm
    weights far from their neutral value, projections that keep activations near unit scale."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("linear_attn.norm.weight"):
                p.copy_(torch.empty_like(p).uniform_(0.7, 1.3, generator=generator))
            elif "norm" in name:
                p.copy_(torch.empty_like(p).uniform_(-0.3, 0.3, generator=generator))
            elif name.endswith("A_log"):
                p.copy_(torch.log(torch.empty_like(p).uniform_(1.0, 16.0, generator=generator)))
            elif name.endswith("dt_bias"):
                p.copy_(torch.empty_like(p).uniform_(0.5, 1.5, generator=generator))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=generator))
            elif p.dim() >= 2:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(fan_in))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)


def export_states(model, cache, config):
    states = {}
    for i, layer_type in enumerate(config.layer_types):
        layer = cache.layers[i]
        if layer_type == "linear_attention":
            conv = layer.conv_states[0][0]  # [C, K] (transformers keeps K columns of pre-conv inputs)
            states[f"layers.{i}.conv_state"] = conv[:, 1:].transpose(0, 1).contiguous()
            states[f"layers.{i}.delta_state"] = layer.recurrent_states[0][0]  # [nv, dk, dv]
        else:
            states[f"layers.{i}.key_cache"] = layer.keys[0]  # [nkv, T, hd]
            states[f"layers.{i}.value_cache"] = layer.values[0]
    return {k: v.detach().float().numpy() for k, v in states.items()}


def make(name):
    config_class, model_class, kwargs = FIXTURES[name]
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    config = config_class(**kwargs)
    model = model_class(config).float().eval()
    randomize(model, generator)

    directory = os.path.join(ROOT, name)
    os.makedirs(directory, exist_ok=True)
    model.save_pretrained(directory, safe_serialization=True)  # float32 weights
    model = model.double()
    # The grouped-matmul expert kernel has no float64 version; the eager loop over experts is the
    # reference form anyway.
    config._experts_implementation = "eager"

    prompt = torch.randint(0, config.vocab_size, (PROMPT,), generator=generator)
    cache = DynamicCache(config=config)
    logits = []
    tokens = prompt.tolist()
    with torch.no_grad(), Float64Mode():
        out = model(input_ids=prompt[None], cache=cache, use_cache=True)
        logits.append(out.logits[0])
        for _ in range(DECODE):
            next_token = int(out.logits[0, -1].argmax())
            tokens.append(next_token)
            out = model(input_ids=torch.tensor([[next_token]]), cache=cache, use_cache=True)
            logits.append(out.logits[0])
    assert logits[0].dtype == torch.float64, "the forward pass must run in float64"
    logits = torch.cat(logits).float().numpy()
    assert logits.shape == (PROMPT + DECODE, config.vocab_size)

    for extra in ("generation_config.json",):
        path = os.path.join(directory, extra)
        if os.path.exists(path):
            os.remove(path)
    expected = {
        "tokens": np.array(tokens, dtype=np.int32),
        "prompt_length": np.array([PROMPT], dtype=np.int32),
        "logits": logits.astype(np.float32),
    }
    expected.update(export_states(model, cache, config))
    save_file(expected, os.path.join(directory, "expected.safetensors"),
              metadata={"torch": torch.__version__, "transformers": transformers.__version__})
    print(f"{name}: {PROMPT}+{DECODE} tokens, logits {logits.shape}, "
          f"max |logit| {np.abs(logits).max():.3f}")


if __name__ == "__main__":
    for name in sys.argv[1:] or FIXTURES:
        make(name)
