#!/usr/bin/python3
"""Runs every command of the README's "Using it" block as written, from a scratch folder that
looks like a fresh clone after ./setup.sh: the repository's files are linked in read-only, build/
is the build being tested, and whatever a command writes lands in the scratch folder.

    tests/readme_commands.py SOURCE_DIR BUILD_DIR

A command fails the test if it exits non-zero; every failing command is printed with its
output. Lines are joined on a trailing backslash and `#` comments are dropped."""
import os
import shutil
import subprocess
import sys
import tempfile


def commands(readme):
    lines, block, found = open(readme, encoding="utf-8").read().splitlines(), False, False
    out, cur = [], ""
    for line in lines:
        if line.startswith("## "):
            found = line.strip() == "## Using it"
            continue
        if not found:
            continue
        if line.startswith("```"):
            if block:
                break
            block = True
            continue
        if not block:
            continue
        cur += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        cmd = cur.split("  #")[0].strip()
        cur = ""
        if cmd and not cmd.startswith("#"):
            out.append(cmd)
    return out


def main():
    src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    cmds = commands(os.path.join(src, "README.md"))
    if not cmds:
        print("no commands found under '## Using it' in README.md")
        return 1
    work = tempfile.mkdtemp(prefix="readme-")
    try:
        for name in os.listdir(src):
            if name.startswith(".") or name.startswith("build"):
                continue
            os.symlink(os.path.join(src, name), os.path.join(work, name))
        os.symlink(build, os.path.join(work, "build"))
        env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
        bad = 0
        for cmd in cmds:
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", cmd], cwd=work, env=env,
                               capture_output=True, text=True, timeout=600)
            status = "ok" if r.returncode == 0 else f"FAILED (exit {r.returncode})"
            print(f"{status}: {cmd}")
            if r.returncode:
                bad += 1
                print((r.stdout + r.stderr).strip()[-2000:])
        print(f"{len(cmds) - bad} of {len(cmds)} README commands ran")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
