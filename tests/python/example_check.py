#!/usr/bin/python3
"""CTest python:sweep_plot_example: runs examples/sweep_plot.py into WORKDIR and checks its PNG
(a real image of the plot's size) and CSV (every design point ok, latency falling as the HBM
bandwidth rises). Exit 77 (skip) without matplotlib or pandas.
usage: example_check.py SWEEP_PLOT.py WORKDIR"""
import csv
import os
import shutil
import struct
import subprocess
import sys


def main():
    script, work = sys.argv[1:]
    try:
        import matplotlib  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e}")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    proc = subprocess.run([sys.executable, script, "--out", work], capture_output=True, text=True)
    print(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        return 1
    png = os.path.join(work, "sweep_plot.png")
    with open(png, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    assert (width, height) == (768, 504), (width, height)  # 6.4 x 4.2 in at 120 dpi
    assert os.path.getsize(png) > 20000, "an empty-looking plot"
    with open(os.path.join(work, "sweep_plot.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * 6 and all(r["status"] == "ok" for r in rows)
    for array in ("32x32", "64x64", "128x128"):
        t = [float(r["sim_time_ns"]) for r in rows if r["array"] == array]
        assert all(a >= b for a, b in zip(t, t[1:])) and t[0] > t[-1], (array, t)
    print(f"ok: {png} {width}x{height}, {len(rows)} design points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
