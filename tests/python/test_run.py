"""trnsim.run(): the same outputs and stats as `trnsim run`, inputs, errors, faults, and many
simulations in one Python process."""
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import trnsim
from conftest import repo

MODEL = repo("examples", "cnn_small.onnx")
X = repo("examples", "cnn_small_x.npy")
MATMUL = repo("traces", "01_matmul", "matmul.tasm")
GELU = repo("traces", "02_matmul_bias_gelu", "matmul_bias_gelu.tasm")
RING = repo("traces", "20_ring_allreduce_tiny4", "ring_allreduce.tasm")
BAD = repo("tests", "bad_inputs", "run")


def cli_message(proc):
    """The CLI's error message (everything after its "trnsim: ...: " prefix)."""
    err = proc.stderr
    for prefix in ("trnsim: error: ", "trnsim: simulation fault: "):
        if prefix in err:
            return err[err.index(prefix) + len(prefix):].rstrip("\n")
    raise AssertionError(f"no error message in: {err!r}")


def cli_run(cli, tmp_path, *args):
    """`trnsim run ARGS --output-dir --stats`: (stdout, {name: array}, stats)."""
    out, stats = tmp_path / "cli_out", tmp_path / "cli_stats.json"
    proc = cli("run", *args, "--output-dir", out, "--stats", stats)
    assert proc.returncode == 0, proc.stderr
    outputs = {}
    for line in proc.stdout.splitlines():
        if line.startswith("output "):
            name, path = line[len("output "):].split(": ", 1)
            chip = os.path.basename(os.path.dirname(path))
            outputs[(chip + "/" if chip.startswith("chip") else "") + name] = np.load(path)
    return proc.stdout, outputs, json.loads(stats.read_text())


def assert_same_arrays(got, want):
    assert list(got) == list(want)
    for name in want:
        g, w = got[name], want[name]
        assert (g.dtype, g.shape) == (w.dtype, w.shape), name
        assert g.tobytes() == w.tobytes(), name  # byte for byte


CASES = {
    "model_with_input": ([MODEL, "--chip", "tiny", "--input", f"x={X}"],
                         dict(chip="tiny", inputs={"x": np.load(X)})),
    "program_generated_inputs": ([GELU, "--chip", "trn1", "--seed", "3", "--set", "pe.rows=64"],
                                 dict(seed=3, set={"pe.rows": 64})),
    "model_timing_only_two_cores": ([MODEL, "--shape", "x=2x3x16x16", "--cores", "2",
                                     "--timing-only", "--set", "hbm.gbps=100"],
                                    dict(shapes={"x": (2, 3, 16, 16)}, cores=2, timing_only=True,
                                         set={"hbm.gbps": 100})),
    "system": ([RING, "--system", "tiny4", "--set", "cc.channels=1", "--set",
                "cc.mesh_max_bytes=0", "--set", "cc.rdh_max_bytes=0"],
               dict(system="tiny4", set=["cc.channels=1", "cc.mesh_max_bytes=0",
                                          "cc.rdh_max_bytes=0"])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_run_equals_the_cli(cli, tmp_path, case):
    cli_args, kwargs = CASES[case]
    stdout, want_outputs, want_stats = cli_run(cli, tmp_path, *cli_args)
    res = trnsim.run(cli_args[0], **kwargs)
    assert_same_arrays(res.outputs, want_outputs)
    assert res.stats == want_stats
    assert stdout.endswith(res.summary) and res.summary
    if kwargs.get("timing_only"):
        assert res.outputs == {}
    else:
        assert res.outputs
    if "system" not in kwargs:
        assert res.sim_time_ns == want_stats["sim_time_ns"]["value"] > 0


def test_compiled_program_equals_cli_model_run(cli, tmp_path):
    _, want_outputs, want_stats = cli_run(cli, tmp_path, MODEL, "--chip", "tiny", "--input",
                                          f"x={X}", "--dtype", "fp32")
    prog = trnsim.compile(MODEL, chip="tiny", shapes={"x": (2, 3, 16, 16)}, dtype="fp32")
    res = trnsim.run(prog, chip="tiny", inputs={"x": np.load(X)})
    assert_same_arrays(res.outputs, want_outputs)
    assert res.stats == want_stats


def bf16(a):
    """float32 rounded to bfloat16 (nearest even), as float32."""
    b = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def test_inputs_reach_the_chip():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((32, 32), dtype=np.float32)
    x = rng.standard_normal((32, 128), dtype=np.float32)
    res = trnsim.run(MATMUL, chip="tiny", inputs={"w": w, "x": x})
    want = bf16(w).T.astype(np.float64) @ bf16(x).astype(np.float64)
    assert res.outputs["out"].dtype == np.float32 and res.outputs["out"].shape == (32, 128)
    np.testing.assert_allclose(res.outputs["out"], want, rtol=1e-5, atol=1e-5)
    assert res.generated_inputs == []
    half = trnsim.run(MATMUL, chip="tiny", inputs={"w": w})
    assert half.generated_inputs == ["x"]


def test_many_runs_in_one_process():
    # SystemC allows one simulation per process: each run is a fork, so this needs no restart.
    times = [trnsim.run(MATMUL, chip="tiny", timing_only=True, set={"pe.clock_ghz": ghz}).sim_time_ns
             for ghz in (1.4, 0.7, 0.35)]
    assert times[0] < times[1] < times[2]


def test_nodes_profile():
    res = trnsim.run(MODEL, chip="tiny", shapes={"x": (1, 3, 16, 16)}, timing_only=True)
    nodes = res.nodes
    assert list(nodes.index) == list(res.stats["nodes"]) and nodes.index.name == "node"
    assert {"start_ns", "span_ns", "pe_busy_ns", "dma_ns", "dma_bytes", "instructions"} <= set(nodes)
    assert nodes["instructions"].sum() == sum(
        n["instructions"]["value"] for n in res.stats["nodes"].values())
    conv = [n for n in nodes.index if "c1_conv" in n][0]
    assert nodes.loc[conv, "pe_busy_ns"] > 0
    assert (nodes["span_ns"] <= res.sim_time_ns + 1e-6).all()


def test_trace(tmp_path):
    t = tmp_path / "t.json"
    trnsim.run(MATMUL, chip="tiny", trace=t)
    events = json.loads(t.read_text())["traceEvents"]
    assert any(e.get("name") == "matmul" or "matmul" in json.dumps(e.get("args", {})) for e in events)


def test_system_outputs_per_chip():
    x = [np.full((32, 256), c + 1, np.float32) for c in range(4)]
    res = trnsim.run(RING, system="tiny4", inputs={f"x@{c}": x[c] for c in range(4)})
    assert sorted(res.outputs) == [f"chip{c}/y" for c in range(4)]
    for c in range(4):
        np.testing.assert_array_equal(res.outputs[f"chip{c}/y"], np.full((32, 256), 10, np.float32))
    nodes = res.nodes  # every chip's profile, with its chip
    assert list(nodes["chip"]) == [c for c in range(4) for _ in range(3)]
    assert list(nodes["node"][:3]) == ["load", "allreduce", "store"]
    assert nodes["instructions"].sum() == 12 and "nodes=12" in repr(res)


# ---- errors: the CLI's one-line messages, as exceptions --------------------------------------

@pytest.mark.parametrize("path", ["/nonexistent/model.onnx", "/nonexistent/prog.tasm",
                                  repo("examples", "sweep_small.yaml")])
def test_bad_model_path_is_an_input_error_naming_the_file(cli, path):
    proc = cli("run", path, "--chip", "tiny")
    assert proc.returncode == 2
    with pytest.raises(trnsim.InputError) as e:
        trnsim.run(path, chip="tiny")
    assert str(e.value) == cli_message(proc) and path in str(e.value)


def test_input_errors_match_the_cli(cli, tmp_path):
    def both(array, name="w"):
        f = tmp_path / "a.npy"
        np.save(f, array)
        proc = cli("run", MATMUL, "--chip", "tiny", "--input", f"{name}={f}")
        assert proc.returncode == 2
        with pytest.raises(trnsim.InputError) as e:
            trnsim.run(MATMUL, chip="tiny", inputs={name: array})
        return cli_message(proc), str(e.value), str(f)

    want, got, f = both(np.zeros((32, 31), np.float32))
    assert got == want.replace(f, "inputs['w']") == \
        "inputs['w']: fp32 [32, 31] does not match input 'w' bf16 [32, 32]"
    want, got, f = both(np.zeros((32, 32), np.float32), name="nope")
    assert got == want.replace(f"--input nope={f}", "inputs['nope']")
    assert "the program has no input 'nope' (inputs: w, x)" in got
    want, got, f = both(np.zeros((32, 32), np.float64))
    assert got == want.replace(f, "inputs['w']")
    assert "float64 is not supported" in got
    with pytest.raises(trnsim.InputError, match="object arrays are not supported"):
        trnsim.run(MATMUL, chip="tiny", inputs={"w": np.array([None, 1], dtype=object)})


@pytest.mark.parametrize("args,kwargs", [
    ([RING, "--chip", "tiny"], dict(chip="tiny")),  # a collective needs a system
    ([MODEL, "--system", "tiny4"], dict(system="tiny4")),
    ([MATMUL, "--chip", "tiny", "--shape", "w=32x32"], dict(chip="tiny", shapes={"w": (32, 32)})),
    ([MATMUL, "--chip", "tiny", "--set", "pe.rows=1000"], dict(chip="tiny", set={"pe.rows": 1000})),
])
def test_other_input_errors_match_the_cli(cli, args, kwargs):
    proc = cli("run", *args)
    assert proc.returncode == 2
    with pytest.raises(trnsim.InputError) as e:
        trnsim.run(args[0], **kwargs)
    assert str(e.value) == cli_message(proc)


@pytest.mark.parametrize("prog,args", [("deadlock.tasm", {}), ("deadlock_cycle.tasm", {}),
                                       ("infinite_loop.tasm", {"max_instructions": 100000}),
                                       ("sbuf_out_of_bounds.tasm", {})])
def test_faults_are_sim_faults_with_the_cli_message(cli, prog, args):
    path = os.path.join(BAD, prog)
    extra = ["--max-instructions", "100000"] if args else []
    proc = cli("run", path, "--chip", "tiny", *extra)
    with pytest.raises((trnsim.SimFault, trnsim.InputError)) as e:
        trnsim.run(path, chip="tiny", **args)
    assert str(e.value) == cli_message(proc)
    assert (proc.returncode == 3) == isinstance(e.value, trnsim.SimFault)
    assert isinstance(e.value, trnsim.SimFault) or prog == "sbuf_out_of_bounds.tasm"


RACY = """\
.tensor x input fp32 [4, 8]
.tensor y output fp32 [4, 8]
.core 0
.engine act
  copy sbuf[0:4]+64:fp32[1,8], sbuf[0:4]+0:fp32[1,8]
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,8], hbm.x+0:fp32{8,4}[1,8]  inc(s0)
  dma q1, hbm.y+0:fp32{8,4}[1,8], sbuf[0:4]+64:fp32[1,8]  wait(s0>=1)
"""


def test_check_problems_raise_sim_fault_with_report_and_result(cli, tmp_path):
    p = tmp_path / "racy.tasm"
    p.write_text(RACY)
    proc = cli("run", p, "--chip", "tiny", "--check")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    with pytest.raises(trnsim.SimFault) as e:
        trnsim.run(str(p), chip="tiny", check=True)
    assert str(e.value) == "check: 3 problem(s) found (the exception's .report lists them)"
    assert e.value.report and e.value.report in proc.stdout and "race" in e.value.report
    assert e.value.result is not None and "y" in e.value.result.outputs
    clean = trnsim.run(MATMUL, chip="tiny", check=True)
    assert "check: 0 race(s), 0 uninitialised read(s)" in clean.check_report


def no_children_left():
    try:
        return os.waitpid(-1, os.WNOHANG) is None
    except ChildProcessError:
        return True


def test_timeout_kills_the_child():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="timeout=0.5"):
        trnsim.run(os.path.join(BAD, "infinite_loop.tasm"), chip="tiny", timeout=0.5)
    assert time.monotonic() - start < 5
    assert no_children_left()


def test_ctrl_c_interrupts_a_run():
    old = signal.signal(signal.SIGALRM, lambda *a: os.kill(os.getpid(), signal.SIGINT))
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            trnsim.run(os.path.join(BAD, "infinite_loop.tasm"), chip="tiny")
        assert time.monotonic() - start < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert no_children_left()


def test_a_crashed_child_is_a_runtime_error():
    def kill_child():  # the simulation process, once it is there
        for _ in range(200):
            kids = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
            if kids:
                os.kill(int(kids[0]), signal.SIGSEGV)
                return
            time.sleep(0.02)

    t = threading.Thread(target=kill_child)
    t.start()
    with pytest.raises(RuntimeError, match=r"killed by signal 11 \(Segmentation fault\)") as e:
        trnsim.run(os.path.join(BAD, "infinite_loop.tasm"), chip="tiny")
    t.join()
    assert not isinstance(e.value, trnsim.Error)
    assert trnsim.run(MATMUL, chip="tiny").sim_time_ns > 0  # the session goes on
    assert no_children_left()


def test_bad_python_values():
    with pytest.raises(trnsim.InputError, match="seed: expected an integer >= 0, not -1"):
        trnsim.run(MATMUL, seed=-1)
    with pytest.raises(trnsim.InputError, match="timeout: expected seconds > 0"):
        trnsim.run(MATMUL, timeout=0)
    with pytest.raises(trnsim.InputError, match="big-endian"):
        trnsim.run(MATMUL, chip="tiny", inputs={"w": np.zeros((32, 32), ">f4")})
    with pytest.raises(trnsim.InputError, match=r"inputs\['w'\]"):
        trnsim.run(MATMUL, chip="tiny", inputs={"w": "text"})


def test_wrong_python_types():
    with pytest.raises(TypeError, match="inputs: expected a dict"):
        trnsim.run(MATMUL, inputs=[np.zeros(3)])
    with pytest.raises(TypeError, match="model_or_program: expected a path"):
        trnsim.run(42)
