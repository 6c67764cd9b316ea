#!/usr/bin/env python3
"""Regenerates tests/scalesim/golden/real/ by running a SCALE-Sim checkout on every case below.

    tools/scalesim_regen.py SCALESIM_CHECKOUT [--v3] [-j N] [--only REGEX] [--out DIR] [--check]
                            [--commit SHA]

SCALESIM_CHECKOUT is an unmodified clone of scalesim-project/scale-sim-v2 (its top directory, the
one holding scalesim/scale.py). Each case writes a SCALE-Sim .cfg, runs
`python3 CHECKOUT/scalesim/scale.py -c CFG -t TOPOLOGY [-i gemm] -p TMP` with PYTHONPATH=CHECKOUT,
and copies the three reports and the .cfg into OUT/<case>/ (default: the golden folder). The case
list is written to OUT/cases.txt, which the test reads, and the checkout's commit to
OUT/SOURCE.txt (from `git rev-parse HEAD`, else --commit, else CHECKOUT.commit beside the
checkout). --check compares instead of writing.

With --v3, CHECKOUT is a clone of scalesim-project/scale-sim-v3 and only the V3_CASES below are run,
into golden/v3/ by default: the same .cfg plus the keys v3 requires ([layout] with no custom
layout, one bank whose bandwidth is the USER Bandwidth, [sparsity] off, no Ramulator trace, an
empty layout file given with -l), so that any difference from golden/real/ is v3's behaviour.
Nothing of SCALE-Sim is copied here: it is only run. Runs are niced; -j defaults to 1 because the
big cases need several GB each (ResNet-50 at 128x128 IS: about 9 GB).
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests", "scalesim")
GOLDEN = os.path.join(TESTS, "golden", "real")
GOLDEN_V3 = os.path.join(TESTS, "golden", "v3")
REPORTS = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")

# Topologies, relative to tests/scalesim/. SCALE-Sim's shipped ones are copied unchanged into
# golden/real/topologies/ (data files).
TOPO = {
    "gemms": ("data/gemms.csv", True),
    "gemmlarge": ("data/gemm_large.csv", True),
    "gemmsmall": ("data/gemm_small.csv", True),
    "convsmall": ("data/conv_small.csv", False),
    "convedge": ("data/conv_edge.csv", False),
    "r50": ("data/Resnet50_8col.csv", False),
    "r50pick": ("data/Resnet50_pick.csv", False),
    "r50small": ("data/Resnet50_small.csv", False),
    "test": ("golden/real/topologies/test.csv", False),
    "mnk": ("golden/real/topologies/test_mnk_input.csv", True),
}

DATAFLOWS = ("os", "ws", "is")

# Cases also run on scale-sim-v3 (docs/scalesim.md, "SCALE-Sim v3"): small and fast ones that show
# each way v3's reports differ from v2's, and ones where they agree.
V3_CASES = (
    "gemms__u12x14_64k_bw10_os",       # USER read stalls counted twice (read_buffer.py)
    "gemms__u12x14_64k_bw10_ws",       # OFMAP DRAM stop: latest drain, not the flush's
    "mnk__u16x16_32k16k8k_bw32_os",    # USER read stalls, both operands missing
    "convsmall__c8x8_2k1k1k_ws",       # OFMAP DRAM stop, CALC
    "convsmall__u8x8_2k1k1k_bw10_ws",  # OFMAP DRAM stop, USER
    "convsmall__c4x4_64k_os",          # same as v2
    "mnk__c12x14_4k_is",               # same as v2 (CALC refills)
    "mnk__scale_ws",                   # same as v2
)


def cfg_text(run_name, rows, cols, kb, df, mode, bw):
    """A .cfg in the layout of SCALE-Sim's shipped configs."""
    return (f"[general]\nrun_name = {run_name}\n\n[architecture_presets]\n"
            f"ArrayHeight:    {rows}\nArrayWidth:     {cols}\n"
            f"IfmapSramSzkB:    {kb[0]}\nFilterSramSzkB:   {kb[1]}\nOfmapSramSzkB:    {kb[2]}\n"
            "IfmapOffset:    0\nFilterOffset:   10000000\nOfmapOffset:    20000000\n"
            f"Bandwidth : {bw}\nDataflow : {df}\nMemoryBanks: 1\n\n"
            f"[run_presets]\nInterfaceBandwidth: {mode}\n")


def kb_name(kb):
    return f"{kb[0]}k" if kb[0] == kb[1] == kb[2] else f"{kb[0]}k{kb[1]}k{kb[2]}k"


def cases():
    """(name, topology key, cfg text or shipped config name) for every golden run."""
    out = []

    def add(topo, rows, cols, kb, mode="CALC", bw=10, dfs=DATAFLOWS):
        prefix = "c" if mode == "CALC" else "u"
        tag = f"{prefix}{rows}x{cols}_{kb_name(kb)}" + (f"_bw{bw}" if mode == "USER" else "")
        for df in dfs:
            name = f"{topo}__{tag}_{df}"
            out.append((name, topo, cfg_text(name, rows, cols, kb, df, mode, bw)))

    def shipped(topo, cfg, dfs=DATAFLOWS):
        for df in dfs:
            out.append((f"{topo}__{cfg}_{df}", topo, (cfg, df)))

    k64 = (64, 64, 64)
    arrays = [(8, 8), (16, 16), (32, 32), (64, 64), (128, 128), (12, 14), (8, 32), (32, 8), (3, 5)]
    # Default 64 kB SRAMs, CALC: GEMMs and conv corner cases on square and non-square arrays.
    for r, c in arrays:
        add("gemms", r, c, k64)
        add("convedge", r, c, k64)
    for r, c in [(64, 64), (128, 128)]:
        add("gemmlarge", r, c, k64)
    # ResNet-50 layers (the benchmark's configuration, and a pick of layers on smaller arrays).
    add("r50", 128, 128, k64)
    add("r50pick", 64, 64, k64)
    add("r50pick", 32, 32, k64, dfs=("ws",))
    add("r50pick", 128, 32, k64, dfs=("is",))
    add("r50small", 8, 8, k64, dfs=("os",))
    add("r50small", 16, 16, k64, dfs=("ws",))
    add("r50small", 12, 14, k64, dfs=("is",))
    # USER bandwidth, 64 kB.
    for r, c in [(8, 8), (32, 32), (128, 128), (12, 14)]:
        add("gemms", r, c, k64, "USER", 10)
        add("convedge", r, c, k64, "USER", 10)
    # Small SRAMs: read-buffer misses and prefetch stalls (USER), refills (CALC), write stalls.
    add("gemms", 16, 16, (8, 8, 8), "USER", 8)
    add("gemms", 8, 8, (4, 2, 1), "USER", 4)
    add("convedge", 8, 8, (2, 1, 1), "USER", 10)
    add("mnk", 16, 16, (32, 16, 8), "USER", 32, ("os",))
    add("test", 16, 16, (32, 16, 8), "USER", 32, ("os",))
    add("mnk", 16, 8, (8, 8, 8), "USER", 8, ("is",))
    add("mnk", 12, 14, (10, 10, 10), "USER", 24, ("ws",))
    add("convsmall", 8, 8, (2, 1, 1), "USER", 10, ("ws",))
    add("gemmsmall", 8, 8, (2, 1, 1), "USER", 10, ("ws",))
    add("convsmall", 8, 4, (1, 1, 1), "USER", 100000, ("ws",))
    add("gemms", 16, 16, (8, 4, 2))
    add("convedge", 8, 8, (2, 1, 1))
    add("mnk", 16, 16, (8, 4, 2), dfs=("os",))
    add("mnk", 12, 14, (4, 4, 4), dfs=("is",))
    add("test", 32, 32, (16, 8, 4), dfs=("ws",))
    add("convsmall", 8, 8, (2, 1, 1), dfs=("ws",))
    add("convsmall", 3, 5, (1, 1, 1), dfs=("ws",))
    add("convsmall", 4, 4, k64, dfs=("os",))
    add("gemmsmall", 3, 5, k64, dfs=("is",))
    # SCALE-Sim's shipped configs, Dataflow varied.
    for topo in ("test", "mnk", "convsmall"):
        shipped(topo, "scale")
        shipped(topo, "eyeriss")
    shipped("test", "google")
    return out


def v3_cfg(text):
    """TEXT (a v2 .cfg) with the keys scale-sim-v3 requires, set so as to change nothing."""
    bw = re.search(r"(?m)^Bandwidth\s*:\s*(\d+)", text).group(1)
    assert text.index("[architecture_presets]") < text.index("[run_presets]")
    layout = ("ReadRequestBuffer: 32\nWriteRequestBuffer: 32\n\n[layout]\nIfmapCustomLayout: False\nIfmapSRAMBankBandwidth: {bw}\n"
              "IfmapSRAMBankNum: 1\nIfmapSRAMBankPort: 2\nFilterCustomLayout: False\n"
              "FilterSRAMBankBandwidth: {bw}\nFilterSRAMBankNum: 1\nFilterSRAMBankPort: 2\n\n"
              "[sparsity]\nSparsitySupport : false\nSparseRep : ellpack_block\n"
              "OptimizedMapping : false\nBlockSize : 8\nRandomNumberGeneratorSeed : 40\n\n"
              "[run_presets]").format(bw=bw)
    text = text.replace("[run_presets]", layout)
    return text.rstrip() + "\nUseRamulatorTrace: False\n"


def v2_cfg(name):
    """The .cfg of golden/real/NAME (v3 runs use the very same inputs as the v2 goldens)."""
    with open(os.path.join(GOLDEN, name, "scale.cfg")) as f:
        return f.read()


def checkout_commit(checkout, given):
    try:
        return subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        pass
    if given:
        return given
    side = checkout.rstrip("/") + ".commit"
    if os.path.exists(side):
        return open(side).read().strip()
    sys.exit(f"scalesim_regen: {checkout}: not a git checkout; pass --commit SHA")


def config_for(checkout, spec):
    if isinstance(spec, str):
        return spec
    cfg, df = spec
    with open(os.path.join(checkout, "configs", cfg + ".cfg")) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^(Dataflow\s*:\s*)\S+", r"\g<1>" + df, text)
    if n != 1:
        sys.exit(f"scalesim_regen: configs/{cfg}.cfg: no single 'Dataflow' line")
    return text


def run_case(python, checkout, name, topo, cfg, v3=False):
    """Runs SCALE-Sim for one case; returns (name, reports, seconds, peak RSS kB, cfg)."""
    if v3:
        cfg = v3_cfg(cfg)
    path, gemm = TOPO[topo]
    with tempfile.TemporaryDirectory(prefix="scalesim_regen_") as tmp:
        cfg_path = os.path.join(tmp, "scale.cfg")
        with open(cfg_path, "w") as f:
            f.write(cfg)
        time_log = os.path.join(tmp, "time.txt")
        cmd = ["/usr/bin/time", "-f", "%e %M", "-o", time_log, "nice", python, os.path.join(checkout, "scalesim", "scale.py"), "-c",
               cfg_path, "-t", os.path.join(TESTS, path), "-p", os.path.join(tmp, "out")]
        if gemm:
            cmd += ["-i", "gemm"]
        if v3:
            layout = os.path.join(tmp, "layout.csv")
            with open(layout, "w") as f:
                f.write("Layer name,\n")
            cmd += ["-l", layout]
        env = dict(os.environ, PYTHONPATH=checkout)
        proc = subprocess.run(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: SCALE-Sim exited {proc.returncode}:\n{proc.stdout[-2000:]}")
        with open(time_log) as f:
            secs, rss_kb = f.read().split()[-2:]
        run_name = re.search(r"(?m)^run_name\s*=\s*(\S+)", cfg).group(1)
        out = os.path.join(tmp, "out", run_name)
        reports = {}
        for r in REPORTS:
            with open(os.path.join(out, r)) as f:
                reports[r] = f.read()
        return name, reports, float(secs), int(rss_kb), cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", help="scale-sim-v2 checkout (holds scalesim/scale.py)")
    ap.add_argument("-j", type=int, default=1, help="runs at once (default 1)")
    ap.add_argument("--only", default="", help="regex: only cases whose name matches")
    ap.add_argument("--out", default=None,
                    help="output folder (default: golden/real, with --v3 golden/v3)")
    ap.add_argument("--v3", action="store_true", help="CHECKOUT is scale-sim-v3: run V3_CASES")
    ap.add_argument("--commit", default="", help="the checkout's commit if it is not a git clone")
    ap.add_argument("--check", action="store_true", help="compare with OUT instead of writing")
    ap.add_argument("--resume", action="store_true",
                    help="skip cases whose folder in OUT already has the three reports")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter with numpy, tqdm, absl (default /usr/bin/python3: Debian's)")
    args = ap.parse_args()
    checkout = os.path.abspath(args.checkout)
    if not os.path.isfile(os.path.join(checkout, "scalesim", "scale.py")):
        sys.exit(f"scalesim_regen: {checkout}: no scalesim/scale.py (not a SCALE-Sim checkout)")
    if args.out is None:
        args.out = GOLDEN_V3 if args.v3 else GOLDEN
    commit = checkout_commit(checkout, args.commit)
    all_cases = cases()
    if args.v3:
        all_cases = [c for c in all_cases if c[0] in V3_CASES]
        assert len(all_cases) == len(V3_CASES), "V3_CASES names a case that does not exist"
    names = [c[0] for c in all_cases]
    assert len(set(names)) == len(names), "duplicate case names"
    todo = [c for c in all_cases if re.search(args.only, c[0])]
    if args.resume:
        todo = [c for c in todo
                if not all(os.path.exists(os.path.join(args.out, c[0], r)) for r in REPORTS)]
    os.makedirs(args.out, exist_ok=True)
    if not args.check:
        with open(os.path.join(args.out, "cases.txt"), "w") as f:
            f.write("# case  topology (relative to tests/scalesim/)  conv|gemm"
                    "  -- written by tools/scalesim_regen.py\n")
            for name, topo, _ in all_cases:
                path, gemm = TOPO[topo]
                f.write(f"{name} {path} {'gemm' if gemm else 'conv'}\n")
        with open(os.path.join(args.out, "SOURCE.txt"), "w") as f:
            repo = "scale-sim-v3" if args.v3 else "scale-sim-v2"
            f.write(f"scalesim-project/{repo} {commit}\n"
                    f"# written by tools/scalesim_regen.py{' --v3' if args.v3 else ''}; the reports "
                    "in this folder are that commit's output, unmodified\n")
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as pool:
        futs = [pool.submit(run_case, args.python, checkout, n, t,
                            v2_cfg(n) if args.v3 else config_for(checkout, s), args.v3)
                for n, t, s in todo]
        for fut in concurrent.futures.as_completed(futs):
            try:
                name, reports, secs, rss_kb, cfg = fut.result()
            except RuntimeError as e:
                print(f"FAILED {e}", flush=True)
                bad += 1
                continue
            d = os.path.join(args.out, name)
            if args.check:
                diff = [r for r in REPORTS
                        if not os.path.exists(os.path.join(d, r))
                        or open(os.path.join(d, r)).read() != reports[r]]
                bad += bool(diff)
                print(f"{name}: {'DIFFERS in ' + ' '.join(diff) if diff else 'same'} "
                      f"({secs:.1f} s, {rss_kb // 1024} MB)", flush=True)
                continue
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "scale.cfg"), "w") as f:
                f.write(cfg)
            for r, text in reports.items():
                with open(os.path.join(d, r), "w") as f:
                    f.write(text)
            print(f"{name}: {secs:.1f} s, {rss_kb // 1024} MB", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
