#!/usr/bin/env python3
"""Writes a corrupted copy of a checkpoint made by `deltac synth`, one defect per mode.

    corrupt.py MODE SRC DST

Modes named hf-*, st-* and shard-* take a Hugging Face checkpoint directory and write a
directory; gguf-* modes take a GGUF file and write a file. `corrupt.py --list` prints the modes.
The lit tests in test/Import/errors-*.test feed each result to `deltac import` and check its
one-line error.

Standard library only: CI runs this without numpy or gguf-py, so the safetensors header (an 8-byte
little-endian length and JSON) and the GGUF layout (header, metadata, tensor infos, aligned data)
are read and rewritten here directly.
"""

import json
import os
import shutil
import struct
import sys

#===------------------------------------------------------------------------===#
# safetensors
#===------------------------------------------------------------------------===#

def split_safetensors(path):
    """Returns (header bytes, data region bytes)."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack_from("<Q", raw, 0)
    return raw[8:8 + length], raw[8 + length:]


def read_safetensors(path):
    """Returns (header dict in file order, data region bytes)."""
    header, data = split_safetensors(path)
    return json.loads(header), data


def write_raw_safetensors(path, header_bytes, data, length=None):
    """Writes a file whose length field is `length` (default: the real header length)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes) if length is None else length))
        f.write(header_bytes)
        f.write(data)


def write_safetensors(path, header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)  # data 8-byte aligned, as the reference writer pads
    write_raw_safetensors(path, text, data)


def tensor_blobs(header, data):
    """[(name, entry, bytes)] for every tensor, in header order (no __metadata__)."""
    return [(name, entry, data[entry["data_offsets"][0]:entry["data_offsets"][1]])
            for name, entry in header.items() if name != "__metadata__"]


def relayout(header, blobs):
    """A new header and data region holding `blobs` back to back, keeping __metadata__."""
    new_header, data = {}, bytearray()
    if "__metadata__" in header:
        new_header["__metadata__"] = header["__metadata__"]
    for name, entry, blob in blobs:
        new_header[name] = dict(entry, data_offsets=[len(data), len(data) + len(blob)])
        data += blob
    return new_header, bytes(data)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


LM = "model.language_model."

MODES = {}


def mode(fn):
    """Registers a corruption: hf-*, st-*, shard-* edit a directory copy, gguf-* write a file."""
    MODES[fn.__name__.replace("_", "-")] = fn
    return fn

#===------------------------------------------------------------------------===#
# Hugging Face directory modes: each gets DST (a copy of SRC) and edits it in place
#===------------------------------------------------------------------------===#


def edit_config(dst, edit):
    path = os.path.join(dst, "config.json")
    with open(path) as f:
        config = json.load(f)
    edit(config)
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def edit_single(dst, edit):
    """Rewrites model.safetensors through edit(header, data) -> (header, data)."""
    path = os.path.join(dst, "model.safetensors")
    header, data = read_safetensors(path)
    header, data = edit(header, data)
    write_safetensors(path, header, data)


@mode
def hf_no_config(dst):
    os.remove(os.path.join(dst, "config.json"))


@mode
def hf_config_invalid_json(dst):
    with open(os.path.join(dst, "config.json"), "w") as f:
        f.write('{\n  "model_type": "qwen3_5",\n  "text_config": {\n')


@mode
def hf_config_not_object(dst):
    with open(os.path.join(dst, "config.json"), "w") as f:
        f.write('["qwen3_5"]\n')


@mode
def hf_config_missing_key(dst):
    edit_config(dst, lambda c: c["text_config"].pop("hidden_size"))


@mode
def hf_config_wrong_type(dst):
    edit_config(dst, lambda c: c["text_config"].update(num_attention_heads="four"))


@mode
def hf_config_unsupported_model_type(dst):
    edit_config(dst, lambda c: c.update(model_type="llama"))


@mode
def hf_config_no_text_config(dst):
    edit_config(dst, lambda c: c.pop("text_config"))


@mode
def hf_config_absurd_layers(dst):
    # Without layer_types the layer list is derived from the count: 10^12 layers must be an error,
    # not a 125 GB allocation.
    def edit(c):
        c["text_config"].pop("layer_types")
        c["text_config"]["num_hidden_layers"] = 10**12
    edit_config(dst, edit)


@mode
def hf_config_absurd_head_dim(dst):
    # 2^40 heads of 2^40 values: their product overflows int64 in the tensor shapes.
    edit_config(dst, lambda c: c["text_config"].update(head_dim=2**40, num_attention_heads=2**40))


@mode
def hf_config_bad_layer_type(dst):
    def edit(c):
        c["text_config"]["layer_types"][0] = "sliding_attention"
    edit_config(dst, edit)


@mode
def hf_config_bad_mrope(dst):
    # Sections whose sum overflows int64 must be rejected, not wrap around to the expected sum.
    edit_config(dst, lambda c: c["text_config"]["rope_parameters"].update(
        mrope_section=[2**62, 2**62, 4 - 2**63]))


@mode
def hf_no_safetensors(dst):
    os.remove(os.path.join(dst, "model.safetensors"))


@mode
def st_short(dst):
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00")


@mode
def st_header_past_end(dst):
    # A length equal to the file size: the header would end 8 bytes past the end.
    path = os.path.join(dst, "model.safetensors")
    header, data = split_safetensors(path)
    write_raw_safetensors(path, header, data, length=8 + len(header) + len(data))


@mode
def st_header_absurd(dst):
    path = os.path.join(dst, "model.safetensors")
    header, data = split_safetensors(path)
    write_raw_safetensors(path, header, data, length=1 << 40)


@mode
def st_header_not_json(dst):
    path = os.path.join(dst, "model.safetensors")
    write_raw_safetensors(path, b'{"a": [1, 2}      ', split_safetensors(path)[1])


@mode
def st_header_not_object(dst):
    path = os.path.join(dst, "model.safetensors")
    write_raw_safetensors(path, b'[1, 2, 3]       ', split_safetensors(path)[1])


@mode
def st_entry_not_object(dst):
    def edit(header, data):
        header[LM + "norm.weight"] = "BF16"
        return header, data
    edit_single(dst, edit)


@mode
def st_unknown_dtype(dst):
    def edit(header, data):
        header[LM + "embed_tokens.weight"]["dtype"] = "F128"
        return header, data
    edit_single(dst, edit)


@mode
def st_int_dtype(dst):
    # A_log [4] as I32: a valid safetensors tensor (16 bytes) that deltac cannot import.
    def edit(header, data):
        blobs = []
        for name, entry, blob in tensor_blobs(header, data):
            if name == LM + "layers.0.linear_attn.A_log":
                entry = dict(entry, dtype="I32")
                blob = bytes(4 * numel(entry["shape"]))
            blobs.append((name, entry, blob))
        return relayout(header, blobs)
    edit_single(dst, edit)


@mode
def st_offsets_past_end(dst):
    def edit(header, data):
        entry = header[LM + "norm.weight"]
        begin, end = entry["data_offsets"]
        entry["data_offsets"] = [begin + len(data), end + len(data)]
        return header, data
    edit_single(dst, edit)


@mode
def st_offsets_mismatch(dst):
    def edit(header, data):
        entry = header[LM + "embed_tokens.weight"]
        entry["data_offsets"][1] -= 2
        return header, data
    edit_single(dst, edit)


@mode
def st_absurd_shape(dst):
    def edit(header, data):
        header[LM + "norm.weight"]["shape"] = [2**40, 2**40]
        return header, data
    edit_single(dst, edit)


@mode
def st_overlap(dst):
    # in_proj_z and out_proj of layer 0 are both [64, 64] BF16: point one at the other's bytes.
    def edit(header, data):
        header[LM + "layers.0.linear_attn.in_proj_z.weight"]["data_offsets"] = list(
            header[LM + "layers.0.linear_attn.out_proj.weight"]["data_offsets"])
        return header, data
    edit_single(dst, edit)


@mode
def st_overlap_hidden(dst):
    # in_proj_z overlaps the second half of in_proj_qkv, and an empty tensor sorts between the two:
    # a check that compares only neighbours, skipping empty ones, would miss the overlap.
    def edit(header, data):
        qkv = header[LM + "layers.0.linear_attn.in_proj_qkv.weight"]["data_offsets"]
        z = header[LM + "layers.0.linear_attn.in_proj_z.weight"]
        size = z["data_offsets"][1] - z["data_offsets"][0]
        z["data_offsets"] = [qkv[1] - size // 2, qkv[1] - size // 2 + size]
        header[LM + "layers.0.linear_attn.empty"] = {
            "dtype": "BF16", "shape": [0], "data_offsets": [qkv[1] - size] * 2}
        return header, data
    edit_single(dst, edit)


@mode
def st_truncated(dst):
    # Cut in the middle of the data region.
    path = os.path.join(dst, "model.safetensors")
    header, data = split_safetensors(path)
    write_raw_safetensors(path, header, data[:len(data) // 2])


@mode
def st_wrong_shape(dst):
    def edit(header, data):
        header[LM + "layers.0.mlp.gate_proj.weight"]["shape"] = [64, 128]
        return header, data
    edit_single(dst, edit)


@mode
def st_missing_tensor(dst):
    def edit(header, data):
        missing = LM + "layers.1.mlp.up_proj.weight"
        blobs = [b for b in tensor_blobs(header, data) if b[0] != missing]
        return relayout(header, blobs)
    edit_single(dst, edit)


@mode
def st_extra_tensor(dst):
    def edit(header, data):
        blobs = tensor_blobs(header, data)
        blobs.append((LM + "layers.0.mlp.extra_proj.weight",
                      {"dtype": "BF16", "shape": [64]}, bytes(128)))
        return relayout(header, blobs)
    edit_single(dst, edit)


#===------------------------------------------------------------------------===#
# Sharded Hugging Face checkpoints (synth --max-shard-bytes): model.safetensors.index.json names the
# shard of every tensor.
#===------------------------------------------------------------------------===#


def read_index(dst):
    with open(os.path.join(dst, "model.safetensors.index.json")) as f:
        return json.load(f)


def write_index(dst, index):
    with open(os.path.join(dst, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)


def shard_names(index):
    names = []
    for shard in index["weight_map"].values():
        if shard not in names:
            names.append(shard)
    if len(names) < 2:
        sys.exit("corrupt.py: the source checkpoint is not sharded (use synth --max-shard-bytes)")
    return names


@mode
def shard_duplicate(dst):
    # The first tensor of shard 1 appears again in shard 2.
    index = read_index(dst)
    first, second = shard_names(index)[:2]
    header1, data1 = read_safetensors(os.path.join(dst, first))
    name, entry, blob = tensor_blobs(header1, data1)[0]
    path2 = os.path.join(dst, second)
    header2, data2 = read_safetensors(path2)
    blobs = tensor_blobs(header2, data2) + [(name, entry, blob)]
    write_safetensors(path2, *relayout(header2, blobs))


@mode
def shard_wrong_index(dst):
    # The index says a tensor of shard 1 lives in shard 2.
    index = read_index(dst)
    first, second = shard_names(index)[:2]
    name = next(n for n, s in index["weight_map"].items() if s == first)
    index["weight_map"][name] = second
    write_index(dst, index)


@mode
def shard_missing_file(dst):
    index = read_index(dst)
    os.remove(os.path.join(dst, shard_names(index)[-1]))


@mode
def shard_index_extra(dst):
    # The index lists a tensor that no shard holds.
    index = read_index(dst)
    index["weight_map"][LM + "layers.0.mlp.extra_proj.weight"] = shard_names(index)[0]
    write_index(dst, index)


@mode
def shard_index_invalid_json(dst):
    with open(os.path.join(dst, "model.safetensors.index.json"), "w") as f:
        f.write('{"weight_map": {"a": ')


#===------------------------------------------------------------------------===#
# GGUF: magic, u32 version, u64 tensor count, u64 metadata count, metadata (key string, u32 type,
# value), tensor infos (name string, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset), padding
# to general.alignment, data. Strings are u64 length + bytes. All little-endian.
#===------------------------------------------------------------------------===#

GGUF_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
GGUF_U32, GGUF_STRING, GGUF_U64 = 4, 8, 10
GGML_Q5_0 = 6  # 32 values in 22 bytes; ggml knows it, deltac does not import it


class GGUF:
    """A GGUF file split into parts; metadata values stay raw bytes."""

    def __init__(self, raw):
        self.raw = raw
        if raw[:4] != b"GGUF":
            sys.exit("corrupt.py: the source is not a GGUF file")
        self.version, n_tensors, n_kv = struct.unpack_from("<IQQ", raw, 4)
        pos = 24
        self.kv = []          # [key bytes, type, raw value bytes]
        self.kv_offsets = []  # where each pair starts in the source
        for _ in range(n_kv):
            self.kv_offsets.append(pos)
            key, pos = self._string(pos)
            (vtype,) = struct.unpack_from("<I", raw, pos)
            end = self._skip(pos + 4, vtype)
            self.kv.append([key, vtype, raw[pos + 4:end]])
            pos = end
        self.alignment = 32
        for key, vtype, value in self.kv:
            if key == b"general.alignment" and vtype == GGUF_U32:
                (self.alignment,) = struct.unpack("<I", value)
        self.tensor_info_start = pos
        self.tensors = []  # dicts: name, ne, type, offset (relative to the data start)
        for _ in range(n_tensors):
            name, pos = self._string(pos)
            (n_dims,) = struct.unpack_from("<I", raw, pos)
            ne = list(struct.unpack_from("<%dQ" % n_dims, raw, pos + 4))
            pos += 4 + 8 * n_dims
            ggml_type, offset = struct.unpack_from("<IQ", raw, pos)
            pos += 12
            self.tensors.append({"name": name, "ne": ne, "type": ggml_type, "offset": offset})
        self.tensor_info_end = pos
        self.data_start = pos + (-pos % self.alignment)
        self.data = raw[self.data_start:]

    def _string(self, pos):
        (n,) = struct.unpack_from("<Q", self.raw, pos)
        return self.raw[pos + 8:pos + 8 + n], pos + 8 + n

    def _skip(self, pos, vtype):
        if vtype in GGUF_SCALAR_BYTES:
            return pos + GGUF_SCALAR_BYTES[vtype]
        if vtype == GGUF_STRING:
            return self._string(pos)[1]
        element_type, count = struct.unpack_from("<IQ", self.raw, pos)
        pos += 12
        for _ in range(count):
            pos = self._skip(pos, element_type)
        return pos

    def tensor(self, name):
        return next(t for t in self.tensors if t["name"] == name.encode())

    def set_string(self, key, value):
        for kv in self.kv:
            if kv[0] == key.encode():
                kv[1], kv[2] = GGUF_STRING, gguf_string(value.encode())

    def value_offset(self, key):
        """Offset in the source of the value of metadata `key` (after its type)."""
        for (k, _, _), at in zip(self.kv, self.kv_offsets):
            if k == key.encode():
                return at + 8 + len(k) + 4
        raise KeyError(key)

    def relayout(self, new_bytes):
        """Places every tensor's data back to back (aligned); new_bytes maps a name to new data
        (for a changed tensor or one added to self.tensors)."""
        old = sorted((t for t in self.tensors if t["name"] not in new_bytes),
                     key=lambda t: t["offset"])
        blobs = dict(new_bytes)
        for i, t in enumerate(old):
            end = old[i + 1]["offset"] if i + 1 < len(old) else len(self.data)
            blobs[t["name"]] = self.data[t["offset"]:end]
        data = bytearray()
        for t in self.tensors:
            data += bytes(-len(data) % self.alignment)
            t["offset"] = len(data)
            data += blobs[t["name"]]
        self.data = bytes(data)

    def write(self, path):
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", self.version, len(self.tensors), len(self.kv))
        for key, vtype, value in self.kv:
            out += gguf_string(key) + struct.pack("<I", vtype) + value
        for t in self.tensors:
            out += gguf_string(t["name"]) + struct.pack("<I", len(t["ne"]))
            out += struct.pack("<%dQ" % len(t["ne"]), *t["ne"])
            out += struct.pack("<IQ", t["type"], t["offset"])
        out += bytes(-len(out) % self.alignment)
        with open(path, "wb") as f:
            f.write(out + self.data)


def gguf_string(b):
    return struct.pack("<Q", len(b)) + b


def read_gguf(src):
    with open(src, "rb") as f:
        return GGUF(f.read())


def patched(src, dst, offset, fmt, value):
    """Copies src to dst with struct `fmt` at `offset` replaced by `value`."""
    with open(src, "rb") as f:
        raw = bytearray(f.read())
    struct.pack_into(fmt, raw, offset, value)
    with open(dst, "wb") as f:
        f.write(raw)


def cut(src, dst, length):
    with open(src, "rb") as f:
        raw = f.read()
    with open(dst, "wb") as f:
        f.write(raw[:length])


@mode
def gguf_bad_magic(src, dst):
    patched(src, dst, 0, "4s", b"GGUX")


@mode
def gguf_bad_version(src, dst):
    patched(src, dst, 4, "<I", 4)


@mode
def gguf_truncated_metadata(src, dst):
    g = read_gguf(src)
    cut(src, dst, g.kv_offsets[5] + 10)  # inside the key of the sixth pair


@mode
def gguf_truncated_tensor_info(src, dst):
    g = read_gguf(src)
    cut(src, dst, (g.tensor_info_start + g.tensor_info_end) // 2)


@mode
def gguf_truncated_data(src, dst):
    g = read_gguf(src)
    cut(src, dst, g.data_start + len(g.data) // 2)


@mode
def gguf_absurd_tensor_count(src, dst):
    patched(src, dst, 8, "<Q", 1 << 40)


@mode
def gguf_absurd_string(src, dst):
    patched(src, dst, 24, "<Q", 1 << 62)  # the length of the first metadata key


@mode
def gguf_absurd_array(src, dst):
    # 2^62 i32 elements: 2^62 * 4 wraps to 0 in 64 bits, so a size check must not multiply blindly.
    g = read_gguf(src)
    patched(src, dst, g.value_offset("qwen35.rope.dimension_sections") + 4, "<Q", 1 << 62)


@mode
def gguf_absurd_block_count(src, dst):
    # 2^40 layers as a u64: must be an error, not a 2^40-entry layer list.
    g = read_gguf(src)
    for kv in g.kv:
        if kv[0] == b"qwen35.block_count":
            kv[1], kv[2] = GGUF_U64, struct.pack("<Q", 1 << 40)
    g.write(dst)


@mode
def gguf_bad_alignment(src, dst):
    g = read_gguf(src)
    patched(src, dst, g.value_offset("general.alignment"), "<I", 24)


@mode
def gguf_five_dims(src, dst):
    g = read_gguf(src)
    g.tensor("token_embd.weight")["ne"] += [1, 1, 1]
    g.write(dst)


@mode
def gguf_unknown_type(src, dst):
    g = read_gguf(src)
    g.tensor("blk.0.ffn_up.weight")["type"] = 99
    g.write(dst)


@mode
def gguf_q5_0(src, dst):
    # token_embd [64, 256] as Q5_0: 64 / 32 blocks of 22 bytes per row, a consistent size.
    g = read_gguf(src)
    t = g.tensor("token_embd.weight")
    t["type"] = GGML_Q5_0
    g.relayout({t["name"]: bytes(t["ne"][0] // 32 * 22 * t["ne"][1])})
    g.write(dst)


@mode
def gguf_misaligned(src, dst):
    g = read_gguf(src)
    g.tensor("blk.0.attn_norm.weight")["offset"] += 16
    g.write(dst)


@mode
def gguf_overlap(src, dst):
    # blk.0.attn_gate and blk.0.ssm_out are both [64, 64] BF16.
    g = read_gguf(src)
    g.tensor("blk.0.attn_gate.weight")["offset"] = g.tensor("blk.0.ssm_out.weight")["offset"]
    g.write(dst)


@mode
def gguf_unknown_arch(src, dst):
    g = read_gguf(src)
    g.set_string("general.architecture", "llama")
    g.write(dst)


@mode
def gguf_missing_key(src, dst):
    g = read_gguf(src)
    g.kv = [kv for kv in g.kv if kv[0] != b"qwen35.embedding_length"]
    g.write(dst)


@mode
def gguf_duplicate_key(src, dst):
    g = read_gguf(src)
    g.kv.append(list(next(kv for kv in g.kv if kv[0] == b"general.name")))
    g.write(dst)


@mode
def gguf_duplicate_tensor(src, dst):
    g = read_gguf(src)
    g.tensor("blk.0.post_attention_norm.weight")["name"] = b"blk.0.attn_norm.weight"
    g.write(dst)


@mode
def gguf_missing_tensor(src, dst):
    g = read_gguf(src)
    g.tensors = [t for t in g.tensors if t["name"] != b"blk.1.ffn_up.weight"]
    g.write(dst)


@mode
def gguf_extra_tensor(src, dst):
    g = read_gguf(src)
    g.tensors.append({"name": b"blk.0.ffn_extra.weight", "ne": [64], "type": 0, "offset": 0})
    g.relayout({b"blk.0.ffn_extra.weight": bytes(256)})
    g.write(dst)


@mode
def gguf_wrong_shape(src, dst):
    g = read_gguf(src)
    t = g.tensor("blk.0.ffn_gate.weight")
    t["ne"] = t["ne"][::-1]
    g.write(dst)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(MODES))
        return 0
    if len(argv) != 4:
        sys.exit("usage: corrupt.py MODE SRC DST (corrupt.py --list prints the modes)")
    name, src, dst = argv[1:]
    if name not in MODES:
        sys.exit("corrupt.py: unknown mode '%s' (corrupt.py --list prints the modes)" % name)
    if name.startswith("gguf-"):
        MODES[name](src, dst)
    else:
        if os.path.exists(dst):
            shutil.rmtree(dst)
        shutil.copytree(src, dst)
        MODES[name](dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
