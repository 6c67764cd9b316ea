"""sweep, collectives and generate: these run the `trnsim` command-line program (the one built
beside this module, or $TRNSIM_EXE), which forks its own processes, and read its result files;
its exit codes and one-line messages become InputError and SimFault."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _core
from ._errors import InputError, SimFault
from ._util import PathLike, _sets


def executable() -> str:
    """The trnsim command-line program the module runs ($TRNSIM_EXE, else the one built with
    the module)."""
    exe = os.environ.get("TRNSIM_EXE") or _core.TRNSIM_EXE
    if not os.access(exe, os.X_OK):
        raise RuntimeError(f"the trnsim program is not at {exe}: build it, or set TRNSIM_EXE")
    return exe


def _table(rows: list[dict]):
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


def _call(args: list[str], tick=None) -> str:
    """Runs `trnsim ARGS`; returns its stdout. Ctrl-C kills it and every process it started."""
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    proc = subprocess.Popen([executable()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                if tick:
                    tick()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    if proc.returncode == 0:
        return out
    text = err.strip()
    for prefix, cls in (("trnsim: error: ", InputError), ("trnsim: simulation fault: ", SimFault)):
        at = text.rfind(prefix)
        if at >= 0:
            raise cls(text[at + len(prefix):])
    last = text.splitlines()[-1] if text else f"exit code {proc.returncode}"
    if proc.returncode == 2:  # an option the command line parser refused
        raise InputError(f"trnsim {args[0]}: {last}")
    raise RuntimeError(f"trnsim {args[0]}: exit code {proc.returncode}: {last}")


def _interactive() -> bool:
    if os.environ.get("CI"):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def _resolve_spec(spec: Mapping[str, Any]) -> dict:
    """A spec dict with its relative file paths made absolute (they are relative to the current
    directory, as a spec file's are to its folder)."""
    spec = json.loads(json.dumps(spec))  # a deep copy, and only what JSON (so YAML) can hold

    def is_file(s: Any) -> bool:
        return isinstance(s, str) and ("/" in s or s.endswith((".yaml", ".yml")))

    if is_file(spec.get("chip")):
        spec["chip"] = os.path.abspath(spec["chip"])
    for w in spec.get("workloads") or []:
        if isinstance(w, dict):
            for key in ("model", "program"):
                if isinstance(w.get(key), str):
                    w[key] = os.path.abspath(w[key])
    return spec


def sweep(spec: Union[PathLike, Mapping[str, Any]], jobs: Optional[int] = None, *,
          output: Optional[PathLike] = None, resume: bool = False, compile_cache: bool = True,
          progress: Optional[bool] = None):
    """Runs a design-space sweep (`trnsim sweep`, docs/sweeps.md): `spec` is a spec file or the
    same content as a dict. Returns the results table (a pandas DataFrame, else a list of dicts),
    one row per design point. output: keep the CSV there (and the full stats in OUTPUT.jsonl);
    resume=True continues it. progress: a progress line on stderr (default: when interactive).
    """
    tmp = tempfile.mkdtemp(prefix="trnsim_sweep_")
    try:
        if isinstance(spec, Mapping):
            path = os.path.join(tmp, "spec.yaml")
            with open(path, "w") as f:
                json.dump(_resolve_spec(spec), f)  # JSON is YAML
        elif isinstance(spec, (str, os.PathLike)):
            path = os.fspath(spec)
        else:
            raise TypeError(f"spec: expected a spec file or a dict, not {type(spec).__name__}")
        try:
            total = _core.sweep_points(path)  # checks the spec here, with the CLI's messages
        except InputError as e:
            if isinstance(spec, Mapping):  # name the dict, not the temporary file
                raise InputError(re.sub(re.escape(path) + r"(:\d+)*", "sweep spec (dict)",
                                        str(e))) from None
            raise
        csv = os.fspath(output) if output is not None else os.path.join(tmp, "results.csv")
        args = ["sweep", path, "-o", csv]
        if jobs is not None:
            args += ["-j", str(int(jobs))]
        if resume:
            args.append("--resume")
        if not compile_cache:
            args.append("--no-compile-cache")
        show = _interactive() if progress is None else bool(progress)
        start = time.monotonic()

        def tick():
            try:
                with open(csv) as f:
                    done = max(0, sum(1 for _ in f) - 1)
            except OSError:
                done = 0
            sys.stderr.write(f"\rtrnsim.sweep: [{done}/{total}] {time.monotonic() - start:.0f} s")
            sys.stderr.flush()

        _call(args, tick if show else None)
        if show:
            tick()
            sys.stderr.write("\n")
        try:
            import pandas as pd
            return pd.read_csv(csv, keep_default_na=False, na_values=[""])
        except ImportError:
            import csv as csvmod
            with open(csv, newline="") as f:
                return list(csvmod.DictReader(f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sizes(sizes: Union[None, str, int, Iterable[Union[int, str]]]) -> Optional[str]:
    if sizes is None:
        return None
    if isinstance(sizes, (str, int)):
        return str(sizes)
    return ",".join(str(s) for s in sizes)


def collectives(system: PathLike = "trn1.32xlarge", op: str = "all_reduce", *,
                sizes: Union[None, str, int, Iterable[Union[int, str]]] = None,
                min: Union[int, str] = 8, max: Union[None, int, str] = None, factor: float = 2,
                algo: str = "auto", dtype: str = "fp32", reduce: str = "sum", channels: int = 0,
                ranks: int = 0, group: Optional[Sequence[int]] = None, check: bool = False,
                set: Union[None, Mapping[str, Any], Iterable[str]] = None,
                trace: Optional[PathLike] = None):
    """Times one collective on a multi-chip system at several sizes (`trnsim collectives`, like
    nccom-test): one row per size (op, algo, bytes, elements, dtype, ranks, channels, transfers,
    time_ns, algbw_gbps, busbw_gbps, and mismatches with check=True). Returns a pandas DataFrame
    (else a list of dicts); its .attrs hold "links" (every link's bytes, busy time and
    utilisation over the run) and "sim_time_ns". sizes: bytes, as numbers or "64K", "1M"."""
    with tempfile.TemporaryDirectory(prefix="trnsim_coll_") as tmp:
        rows_path, stats_path = os.path.join(tmp, "rows.json"), os.path.join(tmp, "stats.json")
        args = ["collectives", "--system", os.fspath(system), "--op", op, "--algo", algo,
                "--dtype", dtype, "--reduce", reduce, "--channels", str(channels),
                "--ranks", str(ranks), "--json", rows_path, "--stats", stats_path]
        b = _sizes(sizes)
        if b is not None:
            args += ["--bytes", b]
        else:
            args += ["--min", str(min), "--factor", str(factor)]
            if max is not None:
                args += ["--max", str(max)]
        if group is not None:
            args += ["--group", ",".join(str(int(g)) for g in group)]
        if check:
            args.append("--check")
        if trace is not None:
            args += ["--trace", os.fspath(trace)]
        for s in _sets(set):
            args += ["--set", s]
        _call(args)
        with open(rows_path) as f:
            rows = json.load(f)
        with open(stats_path) as f:
            stats = json.load(f)
    table = _table(rows)
    if hasattr(table, "attrs"):
        table.attrs["links"] = stats["links"]
        table.attrs["sim_time_ns"] = stats["sim_time_ns"]
    return table


def generate(model: PathLike, prompt_len: int, new_tokens: int, *, chip: PathLike = "trn1",
             batch: int = 1, dtype: str = "bf16", timing_only: bool = False, sample: int = 1,
             seed: int = 0) -> dict:
    """Autoregressive generation with a decoder exported with its KV cache (`trnsim
    generate`): prefill, then one decode step per token, each step its own simulation. Returns
    the CLI's stats document: "steps" (step, kind, past, tokens, sim_time_ns, simulated),
    "ttft_ms", "tpot_ms_mean", and with numerics "prompt" and "tokens" (greedy) per sequence."""
    with tempfile.TemporaryDirectory(prefix="trnsim_gen_") as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        args = ["generate", os.fspath(model), "--chip", os.fspath(chip), "--prompt-len",
                str(int(prompt_len)), "--new-tokens", str(int(new_tokens)), "--batch",
                str(int(batch)), "--dtype", dtype, "--sample", str(int(sample)), "--seed",
                str(int(seed)), "--stats", stats_path]
        if timing_only:
            args.append("--timing-only")
        _call(args)
        with open(stats_path) as f:
            return json.load(f)
