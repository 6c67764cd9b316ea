#!/usr/bin/python3
"""Sweep the Tensor Engine array size and the HBM bandwidth for the bundled CNN with the trnsim
Python module, and plot the simulated latency (docs/python.md).

    PYTHONPATH=build/python /usr/bin/python3 examples/sweep_plot.py --out plots/

writes plots/sweep_plot.png and plots/sweep_plot.csv. One sweep per square array size (a spec
dict with pe.rows = pe.cols = N fixed and hbm.gbps as the axis), timing only, batch 16 so that
the small model moves enough data for the bandwidth to matter.
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import trnsim  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARRAYS = [32, 64, 128]
HBM_GBPS = [25, 50, 100, 200, 400, 820]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=".", help="folder for sweep_plot.png and sweep_plot.csv")
    ap.add_argument("--jobs", type=int, default=None, help="parallel design points (default: cores)")
    ap.add_argument("--batch", type=int, default=16, help="batch size of the model's input")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tables = []
    for n in ARRAYS:
        spec = {
            "chip": "trn1",
            "set": {"pe.rows": n, "pe.cols": n},
            "axes": {"hbm.gbps": HBM_GBPS},
            "workloads": [{"name": "cnn_small", "model": os.path.join(HERE, "cnn_small.onnx"),
                           "shapes": {"x": [args.batch, 3, 16, 16]}}],
        }
        t = trnsim.sweep(spec, jobs=args.jobs)
        bad = t[t["status"] != "ok"]
        if len(bad):
            raise SystemExit(f"sweep_plot: {len(bad)} point(s) failed: {bad['reason'].iloc[0]}")
        tables.append(t.assign(array=f"{n}x{n}"))
    results = pd.concat(tables, ignore_index=True)
    csv = os.path.join(args.out, "sweep_plot.csv")
    results.to_csv(csv, index=False)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for array, t in results.groupby("array", sort=False):
        ax.plot(t["hbm.gbps"], t["sim_time_ns"] / 1e3, marker="o", label=f"PE array {array}")
    ax.set_xscale("log")
    ax.set_xticks(HBM_GBPS, [str(g) for g in HBM_GBPS])
    ax.set_xlabel("HBM bandwidth (GB/s)")
    ax.set_ylabel("simulated latency (us)")
    ax.set_title(f"cnn_small, batch {args.batch}, bf16, trn1 (timing only)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    png = os.path.join(args.out, "sweep_plot.png")
    fig.savefig(png, dpi=120)
    print(results[["array", "hbm.gbps", "sim_time_ns", "mfu", "hbm_read_bytes"]].to_string(index=False))
    print(f"wrote {png} and {csv}")


if __name__ == "__main__":
    main()
