#!/usr/bin/env python3
"""Writes the GGML block-format fixtures that test/unit/GGMLQuantsTest.cpp checks against.

The oracle is gguf-py, pinned because its numpy code is what the C++ decoders must match bit for
bit:

    pip install numpy 'gguf==0.17.1'
    python3 test/reference/ggml_quant_fixtures.py        # from the repository root

Output goes to test/unit/Inputs/ggml/ (override with --out); the files are committed, so the C++
tests never need Python. The seed is fixed, so rerunning reproduces the same bytes. All files are
little-endian:

  <type>.blocks       raw blocks: random bytes with the f16 scale fields set to finite values
  <type>.dequant.f32  gguf.quants.dequantize of <type>.blocks
  <type>.source.f32   float32 input rows (Q8_0, Q4_0, Q4_1 only; Q4_0's last block is crafted
                      so that float rounding order shows, see rounding_order_block)
  <type>.quant        gguf.quants.quantize of <type>.source.f32
  f16.source.f32, f16.bits, f16.dequant.f32     float32 -> f16 -> float32 through numpy
  bf16.source.f32, bf16.bits, bf16.dequant.f32  the same through gguf-py's BF16 code
"""

import argparse
import pathlib

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

EXPECTED_GGUF_VERSION = "0.17.1"

# Offsets of the f16 fields of each format that scale the codes; random bytes there would often be
# NaN or inf, which says nothing about the decoder.
HALF_FIELDS = {
    T.Q8_0: [0],
    T.Q4_0: [0],
    T.Q4_1: [0, 2],
    T.Q4_K: [0, 2],
    T.Q5_K: [0, 2],
    T.Q6_K: [208],
}
NUM_BLOCKS = {T.Q8_0: 8, T.Q4_0: 8, T.Q4_1: 8, T.Q4_K: 4, T.Q5_K: 4, T.Q6_K: 4}


def write(out: pathlib.Path, name: str, array: np.ndarray) -> None:
    data = np.ascontiguousarray(array)
    if data.dtype.byteorder == ">":
        data = data.byteswap().view(data.dtype.newbyteorder("<"))
    (out / name).write_bytes(data.tobytes())


def random_scale_halves(rng: np.random.Generator, count: int) -> np.ndarray:
    """Finite f16 bit patterns of both signs over several decades, plus one subnormal."""
    magnitudes = 10.0 ** rng.uniform(-4.0, 0.5, size=count)
    signs = rng.choice([-1.0, 1.0], size=count)
    halves = (magnitudes * signs).astype(np.float16)
    halves[0] = np.uint16(0x0123).view(np.float16)  # subnormal: exercises that decode path
    return halves.view(np.uint16)


def write_block_fixture(out: pathlib.Path, rng: np.random.Generator, qtype: T) -> None:
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    num_blocks = NUM_BLOCKS[qtype]
    blocks = rng.integers(0, 256, size=(num_blocks, type_size), dtype=np.uint8)
    for offset in HALF_FIELDS[qtype]:
        halves = random_scale_halves(rng, num_blocks).astype("<u2")
        blocks[:, offset:offset + 2] = halves.view(np.uint8).reshape(num_blocks, 2)
    values = quants.dequantize(blocks.reshape(-1), qtype)
    assert values.dtype == np.float32 and values.size == num_blocks * block_size
    assert np.all(np.isfinite(values)), qtype.name
    stem = qtype.name.lower()
    write(out, f"{stem}.blocks", blocks)
    write(out, f"{stem}.dequant.f32", values.astype("<f4"))


def quant_source(rng: np.random.Generator) -> np.ndarray:
    """16 blocks of 32 inputs, each block picked to hit a different corner of the algorithms."""
    blocks = [
        rng.standard_normal(32),
        rng.standard_normal(32) * 0.01,
        np.zeros(32),
        np.full(32, -0.0),  # all-zero block whose first value is -0.0
        rng.standard_normal(32) * 1e5,  # scales (and Q4_1's min) beyond f16's range
        rng.uniform(0.5, 2.0, 32),  # all positive: Q4_1's min is not near zero
        np.full(32, 3.25),  # constant: Q4_1's d is 0
        # Q8_0 gets d = 1 here, so the halves test round-half-away-from-zero.
        np.array([127.0, -127.0] + [s * (k + 0.5) for k in range(15) for s in (1, -1)]),
        rng.standard_normal(32) * 1e-6,  # scales in f16's subnormal range
        np.concatenate([rng.standard_normal(31), [-40.0]]),  # one outlier sets the scale
    ]
    for _ in range(6):
        blocks.append(rng.standard_normal(32) * 10.0 ** rng.uniform(-3.0, 3.0))
    return np.concatenate(blocks).astype(np.float32)


def neighbours(x: np.float32, count: int) -> list:
    """x and the `count` nearest float32 values on either side of it."""
    result, down, up = [x], x, x
    for _ in range(count):
        down = np.nextafter(down, np.float32(-np.inf))
        up = np.nextafter(up, np.float32(np.inf))
        result += [down, up]
    return result


def rounding_order_block(rng: np.random.Generator) -> np.ndarray:
    """A Q4_0 block on which float rounding order changes the codes, so the fixture pins gguf-py's.

    gguf-py rounds x * id + 8.5 once (double, then float32), as ggml's C does when the compiler
    fuses it into an FMA; plain float32 rounds twice and now and then truncates to the code below.
    For each code boundary k the search picks the input nearest k where the two disagree.
    (Q4_1 needs no such block: its (x - min) * id + 0.5 is at least 0.5, and no power of two lies
    in the last half unit below an integer, so the two orders always truncate alike.)
    """
    f32 = np.float32
    block = (rng.uniform(-1.0, 1.0, 32) * 0.25).astype(f32)
    block[0] = f32(-8 * 0.37)  # the largest magnitude: d = 0.37
    inv = f32(f32(1) / f32(block[0] / f32(-8)))
    slot = 1
    for k in range(1, 16):
        for x in neighbours(f32(f32(k - 8.5) / inv), 400):
            reference = np.trunc(f32(np.float64(x) * np.float64(inv) + 8.5))
            step_by_step = np.trunc(f32(f32(x * inv) + f32(8.5)))
            if reference != step_by_step:
                block[slot] = x
                slot += 1
                break
    assert slot > 4, "found too few order-sensitive inputs"
    assert np.abs(block).argmax() == 0  # the crafted inputs leave d as chosen
    return block


def write_quant_fixture(out: pathlib.Path, rng: np.random.Generator, qtype: T) -> None:
    source = quant_source(rng)
    if qtype == T.Q4_0:
        source = np.concatenate([source, rounding_order_block(rng)])
    with np.errstate(over="ignore"):  # the 1e5 block overflows f16 on purpose
        packed = quants.quantize(source.reshape(1, -1), qtype).reshape(-1)
    stem = qtype.name.lower()
    write(out, f"{stem}.source.f32", source.astype("<f4"))
    write(out, f"{stem}.quant", packed)


def float_bits(values) -> np.ndarray:
    return np.array(values, dtype=np.uint32).view(np.float32)


def half_source(rng: np.random.Generator) -> np.ndarray:
    """Float32 values that exercise float32 -> f16 rounding."""
    parts = [
        (rng.standard_normal(256) * 10.0 ** rng.uniform(-9, 6, 256)).astype(np.float32),
        rng.uniform(-2.0 ** -14, 2.0 ** -14, 128).astype(np.float32),  # f16 subnormal range
    ]
    # Exact midpoints between neighbouring halves (ties), and points just either side of them.
    halves = rng.integers(0, 0x7BFF, 96, dtype=np.uint16)
    low = halves.view(np.float16).astype(np.float32)
    high = (halves + 1).view(np.float16).astype(np.float32)
    mid = ((low.astype(np.float64) + high.astype(np.float64)) / 2).astype(np.float32)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), 96)
    parts += [mid * signs, np.nextafter(mid, np.float32(0)), np.nextafter(mid, np.float32(np.inf))]
    parts.append(np.array([
        0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, -65504.0, 65519.996, 65520.0, -65520.0, 1e6,
        -3e38, 2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, -(2.0 ** -25), 2.0 ** -26,
        1.5 * 2.0 ** -24, 2.5 * 2.0 ** -24, 1.0, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11,
    ], dtype=np.float32))
    parts.append(float_bits([0x00000001, 0x80000001, 0x007FFFFF]))  # float32 subnormals
    return np.concatenate(parts).astype(np.float32)


def bf16_source(rng: np.random.Generator) -> np.ndarray:
    """Float32 values that exercise float32 -> bf16 rounding and NaN quieting."""
    random = (rng.standard_normal(256) * 10.0 ** rng.uniform(-30, 30, 256)).astype(np.float32)
    upper = rng.integers(0, 0x7F7F, 128, dtype=np.uint32) << 16
    ties = upper | 0x8000  # exact midpoints: both parities of the kept lsb occur
    near = np.concatenate([upper | 0x7FFF, upper | 0x8001])
    sign = rng.integers(0, 2, 128, dtype=np.uint32) << 31
    specials = [
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000,
        0x7F800001, 0xFF800001, 0x7FA00000, 0x7FFFFFFF,  # NaNs, some signalling
        0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF,  # largest finite: some overflow to inf
        0x00000001, 0x807FFFFF, 0x00008000, 0x00018000,  # subnormals incl. ties
    ]
    bits = np.concatenate([ties | sign, near, np.array(specials, dtype=np.uint32)])
    return np.concatenate([random, bits.view(np.float32)])


def write_half_fixtures(out: pathlib.Path, rng: np.random.Generator) -> None:
    source = half_source(rng)
    with np.errstate(over="ignore", invalid="ignore"):
        bits = quants.quantize(source, T.F16).view(np.uint16)
    back = quants.dequantize(bits.view(np.uint8), T.F16)
    write(out, "f16.source.f32", source.astype("<f4"))
    write(out, "f16.bits", bits.astype("<u2"))
    write(out, "f16.dequant.f32", back.astype("<f4"))

    source = bf16_source(rng)
    bits = quants.quantize(source, T.BF16).view(np.uint16)
    back = quants.dequantize(bits.view(np.uint8), T.BF16)
    write(out, "bf16.source.f32", source.astype("<f4"))
    write(out, "bf16.bits", bits.astype("<u2"))
    write(out, "bf16.dequant.f32", back.astype("<f4"))


def main() -> None:
    default_out = pathlib.Path(__file__).resolve().parents[1] / "unit" / "Inputs" / "ggml"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=default_out)
    args = parser.parse_args()

    version = getattr(gguf, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version
        version = dist_version("gguf")
    if version != EXPECTED_GGUF_VERSION:
        raise SystemExit(f"need gguf=={EXPECTED_GGUF_VERSION} (the oracle the tests pin), "
                         f"found {version}")

    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0x6767_4D4C)
    for qtype in NUM_BLOCKS:
        write_block_fixture(args.out, rng, qtype)
    for qtype in (T.Q8_0, T.Q4_0, T.Q4_1):
        write_quant_fixture(args.out, rng, qtype)
    write_half_fixtures(args.out, rng)

    total = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {len(list(args.out.iterdir()))} files, {total} bytes, to {args.out}")


if __name__ == "__main__":
    main()
