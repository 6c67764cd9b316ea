#!/usr/bin/python3
"""Runs every real model in both dtypes and reports; optionally rewrites the docs section.

usage: run_all.py TRNSIM WORK_DIR [-j N] [--only ID,ID] [--doc docs/validation.md]
                  [--update-expected]

Runs check.py per model and dtype (N at a time, default 2), then prints one line per run and
the failure classes. --doc replaces the "## Real models from npm" section of the given file with
the table (package, version, licence, model, ops, status and time per dtype, reason).
--update-expected writes each run's outcome into models.json as its new expectation (review
the diff: it is how a fix flips a model to "pass").
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import onnx

import corpus

SECTION = "## Real models from npm"
# Root-cause classes: (pattern on "status: message", class name). First match wins.
CLASSES = [
    (r"^pass", "pass"),
    (r"whose condition is known only at run time", "runtime If branch invalid for the shapes"),
    (r"do not fit in SBUF|bytes per partition; SBUF has", "row or tile too large for SBUF"),
    (r"opset \d+ is not supported", "opset newer than 17"),
    (r"^timeout", "timeout (> limit)"),
    (r"^output-name", "output file naming"),
    (r"^mismatch: .*bf16", "bf16 deviation (fp32 matches)"),
    (r"^mismatch", "wrong numerics"),
    (r"^shape", "wrong output shape"),
    (r"^error: exit 2: .*(not supported|unsupported)", "unsupported op or attribute"),
    (r"^error: exit 2", "compile error (other)"),
    (r"^error: exit 3", "simulation fault"),
    (r"^error", "crash or internal error"),
]


# Why each class fails, with the smallest example found (written by hand from the runs; the
# counts and model lists in the docs come from the runs themselves).
CLASS_NOTES = {
    "output file naming":
        "the values match, but an output whose ONNX name does not start with a letter is written "
        "with an extra leading underscore: output `13` of oww_alexa becomes `DIR/_13.npy`, output "
        "`{\"1\": \"1_minute_timer\", ...}` of oww_timer becomes `___1____1_minute_timer...npy` "
        "(ONNX Runtime's name, sanitised the same way, has two). The compiler's legalised tensor "
        "identifier leaks into the file name; `--output-dir` should use the ONNX output name.",
    "runtime If branch invalid for the shapes":
        "silero v5/v6 are one `If(Equal(sr, 16000))` around the 16 kHz and 8 kHz networks. `sr` is "
        "a runtime input, so both branches are compiled (docs/compiler.md, Control flow: If), and "
        "the 8 kHz branch cannot run on 512 samples: its LSTM input comes out [1, 1, 1, 128, 2]. "
        "ONNX Runtime fails the same way when given sr = 8000 with these inputs; a compile-time "
        "value for `sr` (an input pinned as a constant) would inline the 16 kHz branch.",
    "row or tile too large for SBUF":
        "u2netp: `Resize_130` (op Resize, bilinear, pytorch_half_pixel, on [1, 16, 160, 160], "
        "output size from a Shape chain) needs rows of 25600 elements (a whole 160x160 plane). "
        "The four M-LSD models stop on a Pad instead: "
        "`block_1_pad/Pad` (op Pad, TensorFlow's explicit padding before a stride-2 depthwise "
        "Conv, pads [0, 0, 0, 0, 0, 0, 1, 1] from a Split + Concat of an initializer, on [1, 96, "
        "160, 160] at 320x320 or [1, 96, 256, 256] at 512x512) wants a whole plane per row: "
        "25600 or 65536 elements. Both ops would fit if they were tiled over rows of the plane "
        "as Conv is (BlazeFace's Convs on 256x256 planes pass). "
        "oww_melspectrogram in fp32: the STFT `Conv_2` (1 input channel, 257 outputs, "
        "kernel 512, on 1760 samples) needs a 262144-byte tile per partition (SBUF has 196608; in "
        "bf16 it fits and matches). The second message names no node.",
    "opset newer than 17":
        "silero_vad_op18_ifless declares opset 18 and uses its forms of Split (num_outputs) and "
        "ReduceMean (axes as an input); behind that is the same `If(Equal(sr, 16000))` as the "
        "other silero models (its LSTM is unrolled into Gemm/Sigmoid/Tanh).",
    "bf16 deviation (fp32 matches)":
        "fp32 matches to 1e-5; bf16 exceeds 3e-2 on outputs that saturate: PP-OCRv4 det's text "
        "probability map (0.17 max, 0.46% of pixels over 3e-2, text/no-text mask at 0.3 agrees on "
        "99.96%) and rec's CTC softmax (one character boundary moves by one step). The det model "
        "rewritten to round every tensor to bf16 deviates more under ONNX Runtime (0.36, 0.72% of "
        "pixels), so this is bf16 itself, not a lowering error; the tolerance, not trnsim, is what "
        "these two need (e.g. comparing decisions). BlazeFace back (256x256, 69 Convs) in bf16: the "
        "raw face-score logits reach -541 on a face-free image and differ by up to 4.2% of that "
        "(22.9); every score keeps its sign and the box regressors stay within 2.6%; the front "
        "model (128x128, 37 Convs) passes.",
}


def classify(res):
    key = f"{res['status']}: {res.get('message', '')} [{res['dtype']}]"
    for pat, name in CLASSES:
        if re.search(pat, key):
            return name
    return res["status"]


def expectation(res):
    """The models.json expectation that matches this outcome (stable across runs)."""
    if res["status"] == "error":
        return "error: " + res["message"].split(": ", 1)[-1][:100]
    return res["status"]


def op_summary(path):
    """Distinct op types (subgraphs of If/Loop included), most frequent first, and node count."""
    count = collections.Counter()

    def walk(g):
        for n in g.node:
            count[n.op_type] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for sub in a.graphs:
                    walk(sub)
    walk(onnx.load(path, load_external_data=False).graph)
    return sum(count.values()), [op for op, _ in count.most_common()]


def run_one(args, model_id, dtype):
    r = subprocess.run([sys.executable, os.path.join(corpus.HERE, "check.py"), args.trnsim, model_id,
                        dtype, args.work], capture_output=True, text=True)
    path = os.path.join(args.work, f"{model_id}.{dtype}", "result.json")
    if r.returncode == 77 or not os.path.exists(path):
        return dict(id=model_id, dtype=dtype, status="skipped", message=r.stdout.strip()[-200:],
                    ok=r.returncode == 77)
    with open(path) as f:
        res = json.load(f)
    res["ok"] = r.returncode == 0  # outcome agrees with models.json
    return res


def cell(res):
    if res is None:
        return "-"
    s = {"pass": "pass", "error": "error", "timeout": "timeout", "output-name": "naming",
         "mismatch": "mismatch", "shape": "shape"}.get(res["status"], res["status"])
    return f"{s} ({res['seconds']:.0f} s)" if "seconds" in res else s


def write_doc(doc, manifest, results):
    by = {(r["id"], r["dtype"]): r for r in results}
    models = [m for m in manifest["models"] if any((m["id"], d) in by for d in corpus.DTYPES)]
    n = len(models)
    npass = {d: sum(by.get((m["id"], d), {}).get("status") == "pass" for m in models)
             for d in corpus.DTYPES}
    ncomp = {d: sum(by.get((m["id"], d), {}).get("status") not in (None, "error", "timeout",
                                                                    "skipped") for m in models)
             for d in corpus.DTYPES}
    total = sum(p["tarball_bytes"] for p in manifest["packages"].values())
    L = [SECTION, "",
         f"{n} models that npm packages ship as .onnx files ({len(manifest['packages'])} packages at "
         f"pinned versions, {total / 1e6:.0f} MB of",
         "tarballs), run as a user would: `trnsim run MODEL --chip trn1 --dtype DT --input",
         "NAME=FILE.npy --shape NAME=DIMS --output-dir DIR`, with seeded inputs in realistic ranges",
         "(audio in [-1, 1] at 16 kHz, or int16 scale where the model expects it; images and text",
         "lines normalised as each model's pre-processing does; sample rate 16000 as an int64",
         "scalar; recurrent state in [-0.5, 0.5]) and every output compared with ONNX Runtime",
         "(graph optimisation off) under the output's own file name: fp32 within 1e-4, bf16 within",
         "3e-2 of max|ref|, integers exactly. The corpus, inputs and expected outcomes are",
         "tests/realmodels/models.json; `tests/realmodels/fetch.py` downloads it (setup.sh does),",
         "CTest runs one test per model and dtype (label `realmodel`; a known failure passes while",
         "it fails the recorded way), and `tests/realmodels/run_all.py build/trnsim /tmp/rm --doc",
         "docs/validation.md` reruns everything and regenerates this section.", "",
         f"Compile and run: fp32 {ncomp['fp32']} of {n}, bf16 {ncomp['bf16']} of {n}. "
         f"Match ONNX Runtime: fp32 {npass['fp32']} of {n}, bf16 {npass['bf16']} of {n}.", "",
         "| package | version | licence | model | domain | nodes: op types | fp32 | bf16 | reason |",
         "|---|---|---|---|---|---|---|---|---|"]
    for m in models:
        p = manifest["packages"][m["package"]]
        nodes, ops = op_summary(corpus.model_path(manifest, m))
        r32, r16 = by.get((m["id"], "fp32")), by.get((m["id"], "bf16"))
        reasons = []
        for r in (r32, r16):
            if r and r["status"] != "pass":
                txt = f"{classify(r)}: {r.get('message', '')}".replace("|", "\\|")
                if txt not in reasons:
                    reasons.append(txt)
        lic = p["license"] + (f" ({p['note']})" if p.get("note") else "")
        L.append(f"| {m['package']} | {p['version']} | {lic} | {m['id']} "
                 f"(`{m['path']}`) | {m['domain']} | {nodes}: {', '.join(ops)} | {cell(r32)} | "
                 f"{cell(r16)} | {'<br>'.join(reasons)} |")
    classes = collections.defaultdict(set)
    for r in results:
        if r["status"] not in ("pass", "skipped"):
            classes[classify(r)].add(r["id"])
    if classes:
        L += ["", "Failures by root cause (models blocked, in either dtype):", ""]
        for name, ids in sorted(classes.items(), key=lambda kv: -len(kv[1])):
            L.append(f"- **{name}**: {len(ids)} ({', '.join(sorted(ids))}). "
                     + CLASS_NOTES.get(name, ""))
    slow = [r for r in results if r.get("seconds", 0) > 60]
    if slow:
        L += ["", "Runs over 60 s (compile + simulate): " +
              ", ".join(f"{r['id']} {r['dtype']} {r['seconds']:.0f} s" for r in slow) + "."]
    L.append("")
    text = open(doc).read() if os.path.exists(doc) else ""
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + "\n".join(L)
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + "\n".join(L) + (text[nxt + 1:] if nxt >= 0 else "")
    with open(doc, "w") as f:
        f.write(text)
    print(f"wrote {doc}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trnsim")
    ap.add_argument("work")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--doc")
    ap.add_argument("--update-expected", action="store_true")
    args = ap.parse_args()
    args.trnsim = os.path.abspath(args.trnsim)
    manifest = corpus.load()
    ids = [m["id"] for m in manifest["models"]]
    if args.only:
        ids = [i for i in ids if i in args.only.split(",")]
    jobs = [(i, d) for i in ids for d in corpus.DTYPES]
    with ThreadPoolExecutor(args.j) as ex:
        results = list(ex.map(lambda j: run_one(args, *j), jobs))
    for r in results:
        flag = "" if r.get("ok") else "   <-- differs from models.json"
        print(f"{r['id']:24} {r['dtype']}  {cell(r):18} {classify(r)}: {r.get('message', '')[:110]}"
              f"{flag}")
    if args.update_expected:
        by = {(r["id"], r["dtype"]): r for r in results if r["status"] != "skipped"}
        for m in manifest["models"]:
            for d in corpus.DTYPES:
                if (m["id"], d) in by:
                    m["expect"][d] = expectation(by[(m["id"], d)])
        corpus.dump(manifest)
        print(f"updated {corpus.MANIFEST}")
    if args.doc:
        write_doc(args.doc, manifest, results)
    npass = sum(r["status"] == "pass" for r in results)
    nfail = sum(r["status"] not in ("pass", "skipped") for r in results)
    print(f"realmodels: {npass} passed, {nfail} failed, "
          f"{sum(r['status'] == 'skipped' for r in results)} skipped")


if __name__ == "__main__":
    main()
