#!/usr/bin/env python3
"""Regenerates the fuzzers' seed corpora in test/fuzz/corpus/ (a few KB each).

    python3 test/fuzz/make_corpus.py build/bin/deltac

safetensors/: inputs of SafetensorsHeaderFuzzer (header JSON, then NUL and the data size as 8
bytes little-endian): the header of a synthesized tiny checkpoint, a small header with every dtype,
near-valid variants, and config.json files of the three architectures and of the older layout (the
fuzzer also parses its input as a config). gguf/: small GGUF files: the metadata of synthesized
tiny models of the three architectures with one small token embedding, a file with every metadata
value type and many ggml tensor types, a version-2 file, and a truncated one. Standard library
only.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(kind, name, data):
    with open(os.path.join(CORPUS, kind, name), "wb") as f:
        f.write(data)


def header_input(header_json, data_bytes):
    return header_json + b"\0" + struct.pack("<Q", data_bytes)


def st_header(tensors):
    """A header dict and data size for [(name, dtype, shape, bytes per element)] back to back."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, size in tensors:
        n = size
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    return header, offset


def safetensors_seeds(hf_dirs):
    for arch, d in hf_dirs.items():
        with open(os.path.join(d, "config.json"), "rb") as f:
            write("safetensors", "config-%s.json" % arch, f.read())
    # The older layout: no layer_types (the list comes from full_attention_interval), RoPE settings
    # at the top level.
    with open(os.path.join(hf_dirs["qwen3_5"], "config.json")) as f:
        config = json.load(f)["text_config"]
    rope = config.pop("rope_parameters")
    config.pop("layer_types")
    config.update(full_attention_interval=4, rope_theta=rope["rope_theta"],
                  partial_rotary_factor=rope["partial_rotary_factor"],
                  rope_scaling={"mrope_section": rope["mrope_section"]})
    write("safetensors", "config-qwen3_5_text-interval.json", json.dumps(config).encode())
    with open(os.path.join(hf_dirs["qwen3_5"], "model.safetensors"), "rb") as f:
        raw = f.read()
    (length,) = struct.unpack_from("<Q", raw)
    write("safetensors", "tiny-qwen3_5.bin", header_input(raw[8:8 + length], len(raw) - 8 - length))

    dtypes = [("BOOL", 1), ("U8", 1), ("I8", 1), ("I16", 2), ("U16", 2), ("F16", 2), ("BF16", 2),
              ("I32", 4), ("U32", 4), ("F32", 4), ("F64", 8), ("I64", 8), ("U64", 8),
              ("F8_E4M3", 1), ("F8_E5M2", 1)]
    tensors = [("t.%s" % d.lower(), d, [2, 3], s) for d, s in dtypes]
    tensors += [("empty", "F32", [0, 4], 4), ("scalar", "F32", [], 4)]
    header, size = st_header(tensors)
    text = json.dumps(header).encode()
    write("safetensors", "all-dtypes.bin", header_input(text, size))
    write("safetensors", "all-dtypes-short-data.bin", header_input(text, size - 1))
    overlap = json.loads(text)
    overlap["t.f32"]["data_offsets"] = [0, 24]
    write("safetensors", "overlap.bin", header_input(json.dumps(overlap).encode(), size))
    mismatch = json.loads(text)
    mismatch["t.f16"]["shape"] = [3, 3]
    write("safetensors", "mismatch.bin", header_input(json.dumps(mismatch).encode(), size))


class GGUFWriter:
    def __init__(self, version=3, alignment=32):
        self.version, self.alignment = version, alignment
        self.kv, self.tensors = [], []

    def add(self, key, vtype, payload):
        self.kv.append(gguf_string(key.encode()) + struct.pack("<I", vtype) + payload)

    def tensor(self, name, ne, ggml_type, data):
        self.tensors.append((name, ne, ggml_type, data))

    def bytes(self):
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", self.version, len(self.tensors), len(self.kv))
        for kv in self.kv:
            out += kv
        data = bytearray()
        for name, ne, ggml_type, blob in self.tensors:
            data += bytes(-len(data) % self.alignment)
            out += gguf_string(name.encode()) + struct.pack("<I%dQIQ" % len(ne), len(ne), *ne,
                                                            ggml_type, len(data))
            data += blob
        out += bytes(-len(out) % self.alignment)
        return bytes(out + data)


def gguf_string(b):
    return struct.pack("<Q", len(b)) + b


def gguf_metadata(path):
    """The raw metadata pairs of a GGUF file, as bytes ready to write back."""
    with open(path, "rb") as f:
        raw = f.read()
    _, n_tensors, n_kv = struct.unpack_from("<IQQ", raw, 4)
    pos, pairs = 24, []
    scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(pos, t):
        if t in scalar:
            return pos + scalar[t]
        if t == 8:
            return pos + 8 + struct.unpack_from("<Q", raw, pos)[0]
        et, n = struct.unpack_from("<IQ", raw, pos)
        pos += 12
        for _ in range(n):
            pos = skip(pos, et)
        return pos

    for _ in range(n_kv):
        start = pos
        pos += 8 + struct.unpack_from("<Q", raw, pos)[0]
        (t,) = struct.unpack_from("<I", raw, pos)
        pos = skip(pos + 4, t)
        pairs.append(raw[start:pos])
    return pairs


def gguf_seeds(gguf_files):
    for arch, path in gguf_files.items():
        w = GGUFWriter()
        w.kv = gguf_metadata(path)
        w.tensor("token_embd.weight", [64, 2], 0, bytes(64 * 2 * 4))  # F32, vocabulary 2
        write("gguf", "metadata-%s.gguf" % arch, w.bytes())

    w = GGUFWriter(alignment=64)
    w.add("general.alignment", 4, struct.pack("<I", 64))
    w.add("u8", 0, b"\x07")
    w.add("i8", 1, b"\xf9")
    w.add("u16", 2, struct.pack("<H", 7))
    w.add("i16", 3, struct.pack("<h", -7))
    w.add("u32", 4, struct.pack("<I", 7))
    w.add("i32", 5, struct.pack("<i", -7))
    w.add("f32", 6, struct.pack("<f", 0.5))
    w.add("bool", 7, b"\x01")
    w.add("string", 8, gguf_string(b"qwen35"))
    w.add("u64", 10, struct.pack("<Q", 7))
    w.add("i64", 11, struct.pack("<q", -7))
    w.add("f64", 12, struct.pack("<d", 0.25))
    w.add("strings", 9, struct.pack("<IQ", 8, 2) + gguf_string(b"a") + gguf_string(b"bc"))
    w.add("nested", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQ", 5, 1) + struct.pack("<i", 1)
          + struct.pack("<IQ", 0, 2) + b"\x01\x02")
    # ggml type: (id, block size, bytes per block)
    types = {"f32": (0, 1, 4), "f16": (1, 1, 2), "q4_0": (2, 32, 18), "q4_1": (3, 32, 20),
             "q5_0": (6, 32, 22), "q8_0": (8, 32, 34), "q4_k": (12, 256, 144),
             "q5_k": (13, 256, 176), "q6_k": (14, 256, 210), "bf16": (30, 1, 2)}
    for name, (tid, block, size) in types.items():
        w.tensor("t." + name, [256, 2], tid, bytes(256 // block * size * 2))
    w.tensor("t.4d", [2, 3, 4, 5], 0, bytes(2 * 3 * 4 * 5 * 4))
    write("gguf", "kinds.gguf", w.bytes())

    w = GGUFWriter(version=2)
    w.add("general.architecture", 8, gguf_string(b"qwen35"))
    w.tensor("token_embd.weight", [32, 4], 1, bytes(32 * 4 * 2))
    write("gguf", "version2.gguf", w.bytes())
    with open(os.path.join(CORPUS, "gguf", "metadata-qwen3_5.gguf"), "rb") as f:
        write("gguf", "truncated.gguf", f.read()[:300])


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: make_corpus.py path/to/deltac")
    deltac = argv[1]
    for kind in ("safetensors", "gguf"):
        shutil.rmtree(os.path.join(CORPUS, kind), ignore_errors=True)
        os.makedirs(os.path.join(CORPUS, kind))
    with tempfile.TemporaryDirectory() as tmp:
        hf, gguf = {}, {}
        for arch in ("qwen3_5", "qwen3_5_moe", "qwen3_next"):
            hf[arch] = os.path.join(tmp, arch)
            gguf[arch] = os.path.join(tmp, arch + ".gguf")
            for fmt, out in (("hf", hf[arch]), ("gguf", gguf[arch])):
                subprocess.run([deltac, "synth", "--size", "tiny", "--arch", arch, "--format", fmt,
                                "-o", out], check=True, stderr=subprocess.DEVNULL)
        safetensors_seeds(hf)
        gguf_seeds(gguf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
