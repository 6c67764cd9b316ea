#!/usr/bin/python3
"""Regression test of one minimised differential-testing case: trnsim against stored outputs.

usage: check_case.py TRNSIM CASE_DIR

CASE_DIR holds model.onnx, in_<name>.npy, ref_<output>.npy (ONNX Runtime's outputs, stored, so
no ONNX Runtime is needed here), why.txt, and optionally case.json:
  {"dtype": "fp32"|"bf16",                (default fp32)
   "accept_refusal": true,                 a clean refusal (exit 2, one line) also passes
   "known_bug": "what still fails"}        a failure is reported and skipped (exit 77); a pass
                                           fails (exit 1), so the mark is removed when fixed
trnsim must exit 0 within 60 s and every output must match (tools/difftest/core.py compare():
1e-4 x max|ref| fp32, 3e-2 bf16, int/bool exact). Exit 0 pass, 1 fail, 77 known bug.
"""
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tools", "difftest"))
import core  # noqa: E402


def check(trnsim, case):
    conf = {}
    if os.path.exists(os.path.join(case, "case.json")):
        conf = json.load(open(os.path.join(case, "case.json")))
    dtype = conf.get("dtype", "fp32")
    inputs = {f[3:-4]: os.path.join(case, f) for f in os.listdir(case)
              if f.startswith("in_") and f.endswith(".npy")}
    with tempfile.TemporaryDirectory() as out:
        rc, err, secs = core.run_trnsim(trnsim, os.path.join(case, "model.onnx"), inputs, out, dtype)
        if rc is None:
            return False, f"no exit within {core.TIMEOUT_S:.0f} s", conf
        lines = err.strip().splitlines()
        if rc == 2 and conf.get("accept_refusal") and len(lines) == 1:
            return True, f"clean refusal: {lines[0]}", conf
        if rc != 0:
            return False, f"exit {rc}: {err.strip()[-500:]}", conf
        ok, report = True, []
        for f in sorted(os.listdir(case)):
            if not (f.startswith("ref_") and f.endswith(".npy")):
                continue
            ref = np.load(os.path.join(case, f))
            path = os.path.join(out, f[4:])
            if not os.path.exists(path):
                ok = False
                report.append(f"{f[4:-4]}: missing from trnsim's outputs")
                continue
            rec = core.compare(np.load(path), ref, dtype)
            ok = ok and rec["ok"]
            report.append(f"{f[4:-4]}: {'ok' if rec['ok'] else 'FAIL'} {json.dumps(rec)}")
        return ok, "\n".join(report), conf


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    trnsim, case = sys.argv[1], sys.argv[2]
    ok, report, conf = check(trnsim, case)
    name = os.path.basename(os.path.normpath(case))
    print(f"{name}: {report}")
    if conf.get("known_bug"):
        if ok:
            print(f"{name}: PASSES although marked as a known bug ({conf['known_bug']}): "
                  f"remove known_bug from {os.path.join(case, 'case.json')}")
            sys.exit(1)
        print(f"{name}: known bug, skipped: {conf['known_bug']}")
        sys.exit(77)
    if not ok:
        print(f"{name}: FAIL (why.txt in {case} has the story)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
