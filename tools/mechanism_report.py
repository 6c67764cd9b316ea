#!/usr/bin/python3
"""Effect of each timing mechanism on the matmul tutorial traces and compiled models.

usage: mechanism_report.py TRNSIM OUT.md PROGRAM.tasm...   (each PROGRAM run with --chip trn1)

Runs every program with the default parameters, with each mechanism switched off in turn
(--set), and with all of them off, and writes a markdown table of simulated times. The
section is carried into docs/validation.md by tools/validation_report.sh.
"""
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

MECHS = [  # (name, --set that switches it off, source)
    ("per-run byte floor", ["dma.min_run_bytes=0"], "dma.min_run_bytes 32 [JESD235]"),
    ("per-descriptor cost", ["dma.descriptor_ns=0"], "dma.descriptor_ns 2 [assumed]"),
    ("fair engine sharing", ["dma.scheduling=fcfs"], "dma.scheduling fair [DMAO]"),
    ("8 partitions per engine", ["dma.partitions_per_engine=0"], "dma.partitions_per_engine 8 [DMAO]"),
    ("fluid HBM sharing", ["hbm.sharing=fcfs"], "hbm.sharing fair"),
    ("fp32 transpose factor", ["pe.fp32_transpose_factor=1"], "pe.fp32_transpose_factor 4 [G1, ISA226]"),
    ("wide-stride penalty", ["engine.wide_stride_bytes=0"], "engine.wide_stride_bytes 16 [G1]"),
    ("select 2N", ["dve.select_two_pass=0"], "dve.select_two_pass 1 [ISA226]"),
    ("GpSimd read width", ["pool.read_bytes_per_cycle=0"], "pool.read_bytes_per_cycle 4 [G1]"),
]


def run(trnsim, prog, sets):
    fd, st = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cmd = [trnsim, "run", prog, "--chip", "trn1", "--timing-only", "--stats", st]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"mechanism_report: {prog} {sets}: {r.stdout}{r.stderr}")
    s = json.load(open(st))
    os.unlink(st)
    return s["sim_time_ns"]["value"] / 1000.0


def main():
    trnsim, out, progs = sys.argv[1], sys.argv[2], sys.argv[3:]
    all_off = [s for _, sets, _ in MECHS for s in sets]
    configs = [("all mechanisms (default)", [])] + [(f"without {n}", s) for n, s, _ in MECHS] + \
              [("all off (the previous model)", all_off)]
    jobs = [(p, c) for p in progs for c in configs]
    with ThreadPoolExecutor(max_workers=2) as ex:
        times = list(ex.map(lambda j: run(trnsim, j[0], j[1][1]), jobs))
    t = {(j[0], j[1][0]): v for j, v in zip(jobs, times)}
    names = [os.path.splitext(os.path.basename(p))[0] for p in progs]
    L = ["| configuration (trn1, us) | " + " | ".join(names) + " |",
         "|---|" + "---|" * len(progs)]
    for c, _ in configs:
        cells = []
        for p in progs:
            v, base = t[(p, c)], t[(p, configs[0][0])]
            cells.append(f"{v:,.1f}" if c == configs[0][0] else f"{v:,.1f} ({(base - v) / v * 100:+.1f}%)")
        L.append(f"| {c} | " + " | ".join(cells) + " |")
    with open(out, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
