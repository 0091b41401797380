#!/usr/bin/env python3
"""Converts an f32 Hugging Face fixture (test/fixtures/*) into the GGUF file llama.cpp's converter
(convert_hf_to_gguf.py) would write for it, so the compile tests can run the same model from both
formats. Standard library only.

  hf_to_gguf.py FIXTURE_DIR OUT.gguf

It applies the converter's transforms as the spec describes them (../shared/spec/qwen35.md §5.2-5.4):
GGUF names and reversed dimension order; 1 + w for every norm weight except the delta-rule gated norm;
ssm_a = -exp(A_log); conv1d squeezed to [C, K]; Qwen3-Next's in_proj_qkvz / in_proj_ba split into
attn_qkv, attn_gate, ssm_beta and ssm_alpha; experts stacked; for qwen35 / qwen35moe with more value
than key heads, value heads permuted from grouped (h = kh * r + j) to tiled (h' = j * nk + kh) order in
every per-value-head tensor; the tied output head left out. All tensors are written as F32.
"""

import json
import math
import os
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", "the fixtures are float32"
        begin, end = info["data_offsets"]
        values = list(struct.unpack_from("<%df" % ((end - begin) // 4), data, 8 + length + begin))
        tensors[name] = (info["shape"], values)
    return tensors


class Tensor:
    def __init__(self, shape, values):
        self.shape = list(shape)
        self.values = values

    def rows(self):
        width = self.shape[-1]
        return [self.values[i:i + width] for i in range(0, len(self.values), width)]


def from_rows(rows, shape):
    return Tensor(shape, [v for row in rows for v in row])


def permute_heads(items, offset, heads, size, nk):
    """Reorders `heads` blocks of `size` items starting at `offset` from grouped to tiled order."""
    r = heads // nk
    out = list(items)
    for tiled in range(heads):
        grouped = (tiled % nk) * r + tiled // nk
        out[offset + tiled * size:offset + (tiled + 1) * size] = \
            items[offset + grouped * size:offset + (grouped + 1) * size]
    return out


def convert(fixture, out_path):
    with open(os.path.join(fixture, "config.json")) as f:
        config = json.load(f)
    hf = {k: Tensor(*v) for k, v in read_safetensors(os.path.join(fixture, "model.safetensors")).items()}
    model_type = config["model_type"]
    arch = {"qwen3_5_text": "qwen35", "qwen3_5_moe_text": "qwen35moe", "qwen3_next": "qwen3next"}[model_type]
    layers = config["num_hidden_layers"]
    nk, nv = config["linear_num_key_heads"], config["linear_num_value_heads"]
    dk, dv = config["linear_key_head_dim"], config["linear_value_head_dim"]
    r = nv // nk
    tiled = arch != "qwen3next" and nv != nk
    key_dim = nk * dk
    rope = config["rope_parameters"]

    def get(name):
        return hf.pop("model." + name)

    out = {}  # gguf name -> Tensor (row-major shape)

    def put(name, tensor):
        out[name] = tensor

    put("token_embd.weight", get("embed_tokens.weight"))
    norm = get("norm.weight")
    put("output_norm.weight", Tensor(norm.shape, [v + 1.0 for v in norm.values]))
    if "lm_head.weight" in hf:
        put("output.weight", hf.pop("lm_head.weight"))

    for i in range(layers):
        p, b = "layers.%d." % i, "blk.%d." % i
        for hf_name, g_name in (("input_layernorm", "attn_norm"),
                                ("post_attention_layernorm", "post_attention_norm")):
            t = get(p + hf_name + ".weight")
            put(b + g_name + ".weight", Tensor(t.shape, [v + 1.0 for v in t.values]))
        if config["layer_types"][i] == "linear_attention":
            la = p + "linear_attn."
            if arch == "qwen3next":
                qkvz = get(la + "in_proj_qkvz.weight").rows()
                ba = get(la + "in_proj_ba.weight").rows()
                block = 2 * dk + 2 * r * dv
                q = [row for kh in range(nk) for row in qkvz[kh * block:kh * block + dk]]
                k = [row for kh in range(nk) for row in qkvz[kh * block + dk:kh * block + 2 * dk]]
                v = [row for kh in range(nk)
                     for row in qkvz[kh * block + 2 * dk:kh * block + 2 * dk + r * dv]]
                z = [row for kh in range(nk)
                     for row in qkvz[kh * block + 2 * dk + r * dv:(kh + 1) * block]]
                bb = [row for kh in range(nk) for row in ba[kh * 2 * r:kh * 2 * r + r]]
                aa = [row for kh in range(nk) for row in ba[kh * 2 * r + r:(kh + 1) * 2 * r]]
                hidden = config["hidden_size"]
                qkv = from_rows(q + k + v, [len(q) + len(k) + len(v), hidden])
                gate, beta, alpha = (from_rows(z, [len(z), hidden]), from_rows(bb, [nv, hidden]),
                                     from_rows(aa, [nv, hidden]))
            else:
                qkv, gate = get(la + "in_proj_qkv.weight"), get(la + "in_proj_z.weight")
                beta, alpha = get(la + "in_proj_b.weight"), get(la + "in_proj_a.weight")
            conv = get(la + "conv1d.weight")
            conv = Tensor([conv.shape[0], conv.shape[2]], conv.values)
            a_log, dt = get(la + "A_log"), get(la + "dt_bias")
            ssm_a = Tensor(a_log.shape, [-math.exp(v) for v in a_log.values])
            gated_norm, out_proj = get(la + "norm.weight"), get(la + "out_proj.weight")
            if tiled:
                qkv = from_rows(permute_heads(qkv.rows(), 2 * key_dim, nv, dv, nk), qkv.shape)
                conv = from_rows(permute_heads(conv.rows(), 2 * key_dim, nv, dv, nk), conv.shape)
                gate = from_rows(permute_heads(gate.rows(), 0, nv, dv, nk), gate.shape)
                beta = from_rows(permute_heads(beta.rows(), 0, nv, 1, nk), beta.shape)
                alpha = from_rows(permute_heads(alpha.rows(), 0, nv, 1, nk), alpha.shape)
                ssm_a = Tensor(ssm_a.shape, permute_heads(ssm_a.values, 0, nv, 1, nk))
                dt = Tensor(dt.shape, permute_heads(dt.values, 0, nv, 1, nk))
                out_proj = from_rows([permute_heads(row, 0, nv, dv, nk) for row in out_proj.rows()],
                                     out_proj.shape)
            for name, t in (("attn_qkv.weight", qkv), ("attn_gate.weight", gate),
                            ("ssm_beta.weight", beta), ("ssm_alpha.weight", alpha),
                            ("ssm_conv1d.weight", conv), ("ssm_a", ssm_a), ("ssm_dt.bias", dt),
                            ("ssm_norm.weight", gated_norm), ("ssm_out.weight", out_proj)):
                put(b + name, t)
        else:
            sa = p + "self_attn."
            for hf_name, g_name in (("q_proj", "attn_q"), ("k_proj", "attn_k"), ("v_proj", "attn_v"),
                                    ("o_proj", "attn_output")):
                put(b + g_name + ".weight", get(sa + hf_name + ".weight"))
            for hf_name, g_name in (("q_norm", "attn_q_norm"), ("k_norm", "attn_k_norm")):
                t = get(sa + hf_name + ".weight")
                put(b + g_name + ".weight", Tensor(t.shape, [v + 1.0 for v in t.values]))
        m = p + "mlp."
        if "num_experts" in config:
            experts = config["num_experts"]
            put(b + "ffn_gate_inp.weight", get(m + "gate.weight"))
            for hf_name, g_name in (("gate_proj", "ffn_gate_exps"), ("up_proj", "ffn_up_exps"),
                                    ("down_proj", "ffn_down_exps")):
                parts = [get(m + "experts.%d.%s.weight" % (e, hf_name)) for e in range(experts)]
                put(b + g_name + ".weight",
                    Tensor([experts] + parts[0].shape, [v for t in parts for v in t.values]))
            for hf_name, g_name in (("gate_proj", "ffn_gate_shexp"), ("up_proj", "ffn_up_shexp"),
                                    ("down_proj", "ffn_down_shexp")):
                put(b + g_name + ".weight", get(m + "shared_expert.%s.weight" % hf_name))
            t = get(m + "shared_expert_gate.weight")
            put(b + "ffn_gate_inp_shexp.weight", Tensor([t.shape[1]], t.values))
        else:
            for hf_name, g_name in (("gate_proj", "ffn_gate"), ("up_proj", "ffn_up"),
                                    ("down_proj", "ffn_down")):
                put(b + g_name + ".weight", get(m + hf_name + ".weight"))
    assert not hf, "unconverted tensors: %s" % sorted(hf)

    prefix = arch + "."
    meta = [("general.architecture", "str", arch), ("general.alignment", "u32", 32),
            (prefix + "block_count", "u32", layers),
            (prefix + "context_length", "u32", 262144),
            (prefix + "embedding_length", "u32", config["hidden_size"]),
            (prefix + "attention.head_count", "u32", config["num_attention_heads"]),
            (prefix + "attention.head_count_kv", "u32", config["num_key_value_heads"]),
            (prefix + "attention.key_length", "u32", config["head_dim"]),
            (prefix + "attention.value_length", "u32", config["head_dim"]),
            (prefix + "attention.layer_norm_rms_epsilon", "f32", config["rms_norm_eps"]),
            (prefix + "rope.freq_base", "f32", rope["rope_theta"]),
            (prefix + "rope.dimension_count", "u32",
             int(round(config["head_dim"] * rope.get("partial_rotary_factor", 0.25)))),
            (prefix + "ssm.conv_kernel", "u32", config["linear_conv_kernel_dim"]),
            (prefix + "ssm.state_size", "u32", dk), (prefix + "ssm.group_count", "u32", nk),
            (prefix + "ssm.time_step_rank", "u32", nv), (prefix + "ssm.inner_size", "u32", nv * dv),
            (prefix + "full_attention_interval", "u32", 4)]
    if "mrope_section" in rope:
        meta.append((prefix + "rope.dimension_sections", "i32[]", rope["mrope_section"] + [0]))
    if "num_experts" in config:
        meta += [(prefix + "expert_count", "u32", config["num_experts"]),
                 (prefix + "expert_used_count", "u32", config["num_experts_per_tok"]),
                 (prefix + "expert_feed_forward_length", "u32", config["moe_intermediate_size"]),
                 (prefix + "expert_shared_feed_forward_length", "u32",
                  config["shared_expert_intermediate_size"])]
    else:
        meta.append((prefix + "feed_forward_length", "u32", config["intermediate_size"]))
    write_gguf(out_path, meta, out)


def write_gguf(path, meta, tensors):
    def string(s):
        b = s.encode()
        return struct.pack("<Q", len(b)) + b

    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta))
    for key, kind, value in meta:
        head += string(key)
        if kind == "str":
            head += struct.pack("<I", 8) + string(value)
        elif kind == "u32":
            head += struct.pack("<II", 4, value)
        elif kind == "f32":
            head += struct.pack("<If", 6, value)
        elif kind == "i32[]":
            head += struct.pack("<IIQ", 9, 5, len(value)) + struct.pack("<%di" % len(value), *value)
    offset, blobs = 0, []
    for name, t in tensors.items():
        head += string(name) + struct.pack("<I", len(t.shape))
        head += struct.pack("<%dQ" % len(t.shape), *reversed(t.shape))
        head += struct.pack("<IQ", 0, offset)  # ggml type 0 = F32
        blob = struct.pack("<%df" % len(t.values), *t.values)
        pad = (-len(blob)) % 32
        blobs.append(blob + b"\0" * pad)
        offset += len(blob) + pad
    head += b"\0" * ((-len(head)) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    convert(sys.argv[1], sys.argv[2])
