#!/usr/bin/python3
"""Writes the bad binary programs of the bad-input suite (tests/bad_inputs/tbin/*.tbin).

usage: make_bad_tbin.py [OUT_DIR]     (default: the tbin/ folder beside this script)

Starts from good/matmul.tbin (`trnsim asm good/matmul.tasm -o good/matmul.tbin`) and the
layout comment at the top of isa/binary.cpp. Deterministic: re-running reproduces the
committed files. Expected exit codes and messages: tests/bad_inputs/manifest.tsv.
"""
import os
import random
import sys


def uv(v):
    """LEB128 unsigned varint."""
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


HEADER = b"TBIN\x01\x00"


def tensor(name, role, dtype, dims, data=b""):
    return (uv(len(name)) + name + bytes([role, dtype]) + uv(len(dims)) +
            b"".join(uv(d) for d in dims) + uv(0) + uv(len(data)) + data)


def files(good):
    rnd = random.Random(11)
    out = []
    out.append(("empty.tbin", b""))
    out.append(("magic_only.tbin", b"TBIN"))
    out.append(("bad_magic.tbin", b"TBIX" + good[4:]))
    out.append(("future_version.tbin", good[:4] + b"\x03\x00" + good[6:]))
    out.append(("version_ffff.tbin", good[:4] + b"\xff\xff" + good[6:]))
    out.append(("truncated_header.tbin", good[:5]))
    out.append(("truncated_half.tbin", good[: len(good) // 2]))
    out.append(("truncated_last_byte.tbin", good[:-1]))
    out.append(("trailing_garbage.tbin", good + b"\x00junk"))
    out.append(("random_bytes.tbin", bytes(rnd.randrange(256) for _ in range(400))))
    out.append(("random_after_header.tbin",
                HEADER + bytes(rnd.randrange(256) for _ in range(400))))
    # Counts that promise far more than the file holds (must not allocate them).
    out.append(("huge_string_count.tbin", HEADER + uv(1 << 60)))
    out.append(("huge_string_length.tbin", HEADER + uv(1) + uv(1 << 62) + b"abc"))
    out.append(("varint_too_long.tbin", HEADER + b"\x80" * 12 + b"\x01"))
    # Header comment id 7 with an empty string table.
    out.append(("bad_string_id.tbin", HEADER + uv(0) + uv(7)))
    # A tensor of 2^60 elements: decodes to nothing sensible, must not be allocated.
    out.append(("huge_tensor.tbin", HEADER + uv(0) + uv(0) + uv(1) +
                tensor(b"a", 0, 0, [1 << 20, 1 << 20, 1 << 20]) + uv(1) + uv(0) * 5))
    # A core count far above any chip.
    out.append(("huge_core_count.tbin", HEADER + uv(0) + uv(0) + uv(0) + uv(1 << 40)))
    # Corrupt bytes inside a real program: every 8th byte of the instruction area inverted.
    body = bytearray(good)
    for i in range(len(body) // 2, len(body), 8):
        body[i] ^= 0xFF
    out.append(("corrupted_body.tbin", bytes(body)))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "tbin")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(here, "good", "matmul.tbin"), "rb") as f:
        good = f.read()
    made = files(good)
    for name, data in made:
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(made)} programs to {out_dir}")


if __name__ == "__main__":
    main()
