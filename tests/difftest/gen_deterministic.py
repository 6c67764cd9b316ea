#!/usr/bin/python3
"""The generator gives the same graph for a seed in every process: generates seeds 1..40 under
two different PYTHONHASHSEEDs (set and dict-of-str orders differ) and compares the model bytes
and inputs. The CI seed set and ci_known.txt rely on it. Exit 0 same, 1 different."""
import os
import subprocess
import sys

GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "difftest")
CODE = """
import hashlib, sys
sys.path.insert(0, %r)
import gen
for s in range(1, 41):
    m, ins, meta = gen.generate(s)
    h = hashlib.sha256(m.SerializeToString())
    for k in sorted(ins): h.update(k.encode() + ins[k].tobytes())
    print(s, h.hexdigest())
""" % GEN


def digests(hashseed):
    env = dict(os.environ, PYTHONHASHSEED=str(hashseed))
    return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True,
                          check=True).stdout.splitlines()


a, b = digests(1), digests(2)
bad = [x.split()[0] for x, y in zip(a, b) if x != y]
print(f"{len(a)} seeds, {len(bad)} differ between processes" + (f": {bad}" if bad else ""))
sys.exit(1 if bad or len(a) != 40 else 0)
