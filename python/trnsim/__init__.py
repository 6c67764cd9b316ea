"""trnsim from Python: chip presets, the ONNX compiler and the simulator, with NumPy and pandas.

    import trnsim
    prog = trnsim.compile("examples/cnn_small.onnx", chip="tiny", shapes={"x": (1, 3, 16, 16)})
    res = trnsim.run(prog, chip="tiny", set={"hbm.gbps": 50})
    res.sim_time_ns, res.outputs["y"], res.stats["mfu"], res.nodes

Every simulation runs in a forked child process (SystemC allows one per process), so a session
can run any number of them. Errors are trnsim.InputError (bad input, the CLI's exit code 2) and
trnsim.SimFault (run-time fault, exit code 3) with the CLI's one-line messages. docs/python.md
describes every function.
"""
from __future__ import annotations

import io
import json
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from ._errors import Error, InputError, SimFault
from . import _core
from ._cli import collectives, executable, generate, sweep
from ._util import PathLike, _path, _sets, _shapes

__all__ = ["chips", "systems", "describe", "compile", "run", "sweep", "collectives", "generate",
           "executable", "Program", "Result", "Error", "InputError", "SimFault", "__version__"]
__version__: str = _core.VERSION

Program = _core.Program


def chips() -> list[dict]:
    """The chip presets, as `trnsim chips`: [{"name", "title", "summary"}, ...]."""
    return _core.chips()


def systems() -> list[dict]:
    """The multi-chip system presets, as `trnsim systems`: name, title, chips, chip, topology,
    dims, link_bandwidth_gbps (GB/s per direction) and ranks (NeuronCores)."""
    return _core.systems()


def describe(chip: PathLike = "trn1", *, set: Union[None, Mapping[str, Any], Iterable[str]] = None,
             system: Optional[PathLike] = None) -> dict[str, dict]:
    """Every parameter of a chip (a preset or a chip YAML file, with `set` overrides), as
    `trnsim describe`: {key: {"value", "unit", "doc", "scope"}}. With `system`, the system's
    parameters (scope "system"), then its chip's as "chip.KEY" (scope "chip"); `set` keys go
    to the system or the chip as with `trnsim describe --system`."""
    if system is not None and chip != "trn1":
        raise InputError("describe: give chip or system, not both (a system names its chip: "
                         "`chip:` in its file, or set={'chip': NAME})")
    return _core.describe(_path(chip, "chip"), _sets(set),
                          "" if system is None else _path(system, "system"))


def compile(model: PathLike, chip: PathLike = "trn1", *,
            shapes: Optional[Mapping[str, Sequence[int]]] = None, dtype: str = "bf16",
            cores: int = 1, set: Union[None, Mapping[str, Any], Iterable[str]] = None,
            timing_only: bool = False) -> Program:
    """Compiles an ONNX model for a chip, as `trnsim compile`. Returns a Program with
    .to_tasm(), .save(path) (.tasm or .tbin), .num_instructions, .nodes (graph-node tags),
    .inputs and .outputs. timing_only=True leaves the weights out: such a program runs only with
    run(..., timing_only=True)."""
    return _core.compile(_path(model, "model"), _path(chip, "chip"), _sets(set), _shapes(shapes),
                         str(dtype), int(cores), bool(timing_only))


def _npy_bytes(name: str, value: Any) -> bytes:
    arr = np.asarray(value)
    if arr.dtype.hasobject:
        raise InputError(f"inputs['{name}']: object arrays are not supported")
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


class Result:
    """What one run produced.

    outputs: {name: ndarray} under the model's output names (bf16/fp8 as float32, as the CLI's
        .npy files); with a system, "chipC/NAME" per chip. Empty in timing-only runs.
    stats: the stats document (`trnsim run --stats`), every value {"value": v, "unit": u}.
    sim_time_ns: simulated time. summary: the CLI's human summary. generated_inputs: inputs
        filled from the seed. check_report: the check=True report ("" without).
    nodes: the per-node time profile (a pandas DataFrame when pandas is installed, else a list
        of dicts).
    """

    def __init__(self, raw: dict, system: bool):
        self.sim_time_ns: float = raw["sim_time_ns"]
        self.stats: dict = json.loads(raw["stats_json"])
        self.summary: str = raw["summary"]
        self.check_report: str = raw["check_report"]
        self.outputs: dict[str, np.ndarray] = {}
        self.generated_inputs: list[str] = []
        for c, chip in enumerate(raw["chips"]):
            prefix = f"chip{c}/" if system else ""
            for name, npy in chip["outputs"]:
                self.outputs[prefix + name] = np.load(io.BytesIO(npy), allow_pickle=False)
            self.generated_inputs += [prefix + g for g in chip["generated_inputs"]]
        self._system = system

    def _node_rows(self) -> list[dict]:
        if self._system:  # every chip's document, "chip0", "chip1", ...
            docs = [(int(k[4:]), d) for k, d in self.stats.items()
                    if k.startswith("chip") and k[4:].isdigit() and isinstance(d, dict)]
        else:
            docs = [(None, self.stats)]
        rows = []
        for chip, doc in docs:
            for name, fields in doc.get("nodes", {}).items():
                row = {"chip": chip} if chip is not None else {}
                row["node"] = name
                row.update({k: v["value"] for k, v in fields.items()})
                rows.append(row)
        return rows

    @property
    def nodes(self):
        rows = self._node_rows()
        try:
            import pandas as pd
        except ImportError:
            return rows
        df = pd.DataFrame(rows)
        return df.set_index("node") if not self._system and len(df) else df

    def __repr__(self) -> str:
        return (f"<trnsim.Result sim_time_ns={self.sim_time_ns:g} outputs={list(self.outputs)} "
                f"nodes={len(self._node_rows())}>")


def run(model_or_program: Union[PathLike, Program], chip: PathLike = "trn1", *,
        set: Union[None, Mapping[str, Any], Iterable[str]] = None,
        inputs: Optional[Mapping[str, Any]] = None, timing_only: bool = False,
        trace: Optional[PathLike] = None, seed: int = 0,
        shapes: Optional[Mapping[str, Sequence[int]]] = None, dtype: str = "bf16",
        cores: int = 1, system: Optional[PathLike] = None, check: bool = False,
        max_instructions: int = 1_000_000_000, timeout: Optional[float] = None) -> Result:
    """Simulates a program (.tasm/.tbin path, or a Program from compile()) or an ONNX model (a
    .onnx path, compiled as `trnsim run MODEL.onnx` does) on a chip, in a forked child process;
    the same code path as `trnsim run`, so the same outputs and stats.

    inputs: {name: array} (shape and dtype must match the input; bf16/fp8 inputs take float32);
    missing inputs are generated from `seed`. With `system`, the program runs SPMD on every chip
    of that system and "NAME@C" feeds chip C only. check=True runs the race/uninitialised-read
    check first and raises SimFault (with .report and .result) when it finds problems.
    timeout: seconds, then the child is killed and TimeoutError raised.
    """
    if isinstance(model_or_program, Program):
        program, path = model_or_program, ""
    else:
        program, path = None, _path(model_or_program, "model_or_program")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed: expected an integer >= 0, not {seed!r}")
    if timeout is not None and not timeout > 0:
        raise InputError(f"timeout: expected seconds > 0, not {timeout!r}")
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        raise TypeError("inputs: expected a dict of input name -> array")
    given = [(str(name), _npy_bytes(str(name), value)) for name, value in inputs.items()]
    raw = _core.run(program, path, _path(chip, "chip"),
                    "" if system is None else _path(system, "system"), _sets(set), given,
                    bool(timing_only), "" if trace is None else _path(trace, "trace"), int(seed),
                    int(max_instructions), _shapes(shapes), str(dtype), int(cores), bool(check),
                    0.0 if timeout is None else float(timeout))
    result = Result(raw, system is not None)
    if raw["check_problems"]:
        raise SimFault(f"check: {raw['check_problems']} problem(s) found (the exception's "
                       ".report lists them)", raw["check_report"], result)
    return result
