#!/usr/bin/python3
"""Differential tester: random graphs (gen.py) through trnsim and ONNX Runtime.

usage: run.py --trnsim BIN (--seeds A-B | --minutes M [--seed-base B]) [--dtype fp32|bf16]
              [--jobs N] [--out DIR] [--minimise] [--known FILE] [--strict]

Writes DIR/results.jsonl (one line per graph), keeps each failing graph in
DIR/cases/<seed>_<class>/ (model, inputs, ONNX Runtime's and trnsim's outputs, result.json), with
--minimise also DIR/min/<seed>_<class>/ (minimise.py), and prints a summary: counts per class,
refusals grouped by message pattern, the failures.
--known FILE: "SEED CLASS why" lines of failures that are known bugs (reported, not counted as
new). --strict: exit 1 on any wrong output, fault or timeout that is not known, or on a known
failure that no longer happens (its line must go). Exit 77 if ONNX Runtime is not installed.
"""
import argparse
import collections
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import core  # noqa: E402
import f64  # noqa: E402
import gen  # noqa: E402

BAD = ("wrong", "fault", "timeout")
_W = {}   # per worker process: ORT worker, options


def _init(opts):
    _W["ort"] = core.OrtWorker()
    _W["opts"] = opts
    _W["tmp"] = tempfile.mkdtemp(prefix="work-", dir=opts["out"])   # per-graph scratch


def run_seed(seed):
    o = _W["opts"]
    work = os.path.join(_W["tmp"], str(seed))
    shutil.rmtree(work, ignore_errors=True)
    t0 = time.time()
    try:
        model, inputs, meta = gen.generate(seed)
    except Exception as e:   # a generator bug: counted apart
        return {"seed": seed, "class": "gen_invalid", "message": f"generator: {type(e).__name__}: {e}"[:300]}
    gen.write(work, model, inputs, meta)
    ins = {n: os.path.join(work, f"in_{n}.npy") for n in inputs}
    ort = _W["ort"]
    res = core.evaluate(ort, o["trnsim"], os.path.join(work, "model.onnx"), ins, work, o["dtype"],
                        f64=lambda m, i, w, bf16=False: f64.reference64(ort, m, i, w, bf16))
    res.update(seed=seed, opset=meta["opset"], ops=sorted({ln.split(": ")[1].split("(")[0]
                                                           for ln in meta["nodes"]}),
               n_nodes=len(meta["nodes"]), total_s=round(time.time() - t0, 2))
    if res["class"] in BAD or (res["class"] == "gen_invalid" and o["keep_invalid"]):
        dest = os.path.join(o["out"], "cases", f"{seed}_{res['class']}")
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(work, dest, ignore=shutil.ignore_patterns("f64"))
        with open(os.path.join(dest, "result.json"), "w") as f:
            json.dump(res, f, indent=1)
        res["case"] = dest
    shutil.rmtree(work, ignore_errors=True)
    return res


def _results(pool, seeds, deadline, jobs):
    """Results as they finish, with at most 2 x jobs seeds in flight, and no new seed started
    after the deadline (Pool.imap would drain an endless seed iterator at once)."""
    pending = collections.deque()
    for seed in seeds:
        if deadline and time.time() >= deadline:
            break
        pending.append(pool.apply_async(run_seed, (seed,)))
        while len(pending) >= 2 * jobs:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def seeds_from(args):
    if args.seeds:
        a, _, b = args.seeds.partition("-")
        yield from range(int(a), int(b or a) + 1)
    else:
        s = args.seed_base
        while True:
            yield s
            s += 1


def load_known(path):
    known = {}
    if path and os.path.exists(path):
        for line in open(path):
            line = line.split("#")[0].strip()
            if line:
                seed, cls, *why = line.split(None, 2)
                known[int(seed)] = (cls, why[0] if why else "")
    return known


def signature(r):
    """What a failure looks like, for grouping: the message pattern of a fault, or the dtypes of
    the wrong outputs and the graph's ops."""
    if r["class"] != "wrong":
        return (r["class"], core.refusal_pattern(r.get("message", "")))
    dts = sorted({r["outputs"][n].get("dtype", r["outputs"][n]["kind"]) for n in r["failed_outputs"]})
    return ("wrong", tuple(dts))


def summary(results, known, elapsed, dtype):
    c = collections.Counter(r["class"] for r in results)
    n = len(results)
    lines = [f"difftest ({dtype}): {n} graphs in {elapsed:.0f} s"]
    tested = n - c["gen_invalid"]
    arb = sum(1 for r in results if r.get("arbitrated"))
    for cls in ("match", "refusal", "wrong", "fault", "timeout", "nan_order", "gen_invalid"):
        pct = f" ({100.0 * c[cls] / tested:.2f}% of tested)" if tested and cls != "gen_invalid" else ""
        extra = f", {arb} of them arbitrated as rounding noise" if cls == "match" and arb else ""
        lines.append(f"  {cls:<12} {c[cls]:>6}{pct}{extra}")
    pats = collections.Counter(r["pattern"] for r in results if r["class"] == "refusal")
    if pats:
        lines.append("refusals by message pattern:")
        for p, k in pats.most_common(25):
            ex = next(r for r in results if r.get("pattern") == p)
            lines.append(f"  {k:>5}  {p}\n         e.g. seed {ex['seed']}: {ex['message'][:200]}")
    bad = [r for r in results if r["class"] in BAD]
    if bad:
        lines.append("failures:")
        for r in sorted(bad, key=lambda r: r["seed"]):
            k = " [known: " + known[r["seed"]][1] + "]" if r["seed"] in known else ""
            msg = r.get("message") or ("outputs " + ", ".join(r.get("failed_outputs", [])))
            lines.append(f"  seed {r['seed']} {r['class']}{k}: {msg[:200]}")
    nano = [r for r in results if r["class"] == "nan_order"]
    if nano:
        lines.append("NaN through a max/min reduction (ONNX Runtime's result depends on the NaN's "
                     "position; trnsim keeps NaN):")
        lines.append("  seeds " + " ".join(str(r["seed"]) for r in sorted(nano, key=lambda r: r["seed"])[:40]))
    inv = [r for r in results if r["class"] == "gen_invalid"]
    if inv:
        lines.append("generator bugs (ONNX Runtime rejected the graph):")
        for r in inv[:10]:
            lines.append(f"  seed {r['seed']}: {r['message'][:200]}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--trnsim", required=True)
    ap.add_argument("--seeds", help="A-B (inclusive)")
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--seed-base", type=int, default=None)
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="difftest-out")
    ap.add_argument("--minimise", action="store_true")
    ap.add_argument("--known")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--keep-invalid", action="store_true")
    args = ap.parse_args()
    if not args.seeds and not args.minutes:
        ap.error("--seeds or --minutes")
    if not core.ort_available():
        print(f"SKIP: ONNX Runtime not installed (cd {core.ORT_DIR} && npm install)")
        sys.exit(77)
    if args.seed_base is None:
        args.seed_base = int(time.time()) % 1000000 * 1000
    os.makedirs(args.out, exist_ok=True)
    opts = {"trnsim": os.path.abspath(args.trnsim), "dtype": args.dtype,
            "out": os.path.abspath(args.out), "keep_invalid": args.keep_invalid}
    known = load_known(args.known)
    deadline = time.time() + 60 * args.minutes if args.minutes else None
    t0 = time.time()
    results = []
    with open(os.path.join(args.out, "results.jsonl"), "w") as log, \
            mp.Pool(args.jobs, initializer=_init, initargs=(opts,)) as pool:
        for r in _results(pool, seeds_from(args), deadline, args.jobs):
            results.append(r)
            log.write(json.dumps(dict(r, dtype=args.dtype)) + "\n")
            log.flush()
            if r["class"] in BAD:
                print(f"seed {r['seed']}: {r['class']}: {r.get('message', r.get('failed_outputs'))}"[:300],
                      flush=True)
            if len(results) % 100 == 0:
                print(f"... {len(results)} graphs, {time.time() - t0:.0f} s", flush=True)
    text = summary(results, known, time.time() - t0, args.dtype)
    print(text)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    if args.minimise:   # a few per signature: a common bug would otherwise take hours
        import minimise
        per_sig = collections.Counter()
        for r in sorted(results, key=lambda r: r["seed"]):
            sig = signature(r)
            if r["class"] in BAD and r.get("case") and per_sig[sig] < (8 if "float32" in sig[1] else 2):
                per_sig[sig] += 1
                dest = os.path.join(args.out, "min", os.path.basename(r["case"]))
                minimise.minimise_case(r["case"], dest, opts["trnsim"], args.dtype)
    if args.strict:
        status = 0
        seen = {r["seed"]: r["class"] for r in results}
        for r in results:
            if r["class"] in BAD and known.get(r["seed"], (None,))[0] != r["class"]:
                status = 1
        for s, (cls, why) in known.items():
            if s in seen and seen[s] != cls:
                print(f"known failure of seed {s} ({cls}: {why}) no longer happens "
                      f"(now {seen[s]}): remove its line from {args.known}")
                status = 1
        sys.exit(status)


if __name__ == "__main__":
    main()
