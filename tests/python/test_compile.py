"""trnsim.compile() and Program against `trnsim compile`."""
import os

import onnx
import pytest

import trnsim
from conftest import cli_error, repo

MODEL = repo("examples", "cnn_small.onnx")
SHAPES = {"x": (1, 3, 16, 16)}


@pytest.fixture(scope="module")
def prog():
    return trnsim.compile(MODEL, chip="tiny", shapes=SHAPES)


def test_program_is_the_cli_program(cli, prog, tmp_path):
    out = tmp_path / "cli.tasm"
    proc = cli("compile", MODEL, "--chip", "tiny", "--shape", "x=1x3x16x16", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert prog.to_tasm() == out.read_text()
    assert prog.num_instructions == sum(
        1 for l in out.read_text().splitlines()
        if l.startswith("  ") and not l.lstrip().startswith("#") and not l.strip().endswith(":"))


def test_program_fields(prog):
    assert prog.inputs == [{"name": "x", "dtype": "fp32", "shape": (1, 3, 16, 16)}]
    assert [o["name"] for o in prog.outputs] == ["y"] and prog.outputs[0]["shape"] == (1, 10)
    assert prog.source == MODEL and prog.chip == "tiny" and prog.num_cores == 1
    # Every tag names a node of the graph (fused nodes keep a node's name), each listed once.
    graph_nodes = {n.name for n in onnx.load(MODEL).graph.node}
    assert len(prog.nodes) == len(set(prog.nodes)) >= 5
    assert all(any(g in tag for g in graph_nodes) for tag in prog.nodes), prog.nodes
    assert "c1_conv" in " ".join(prog.nodes) and "fc" in " ".join(prog.nodes)
    assert f"{prog.num_instructions} instructions" in repr(prog)


def test_options_change_the_program(prog):
    fp32 = trnsim.compile(MODEL, chip="tiny", shapes=SHAPES, dtype="fp32")
    assert "bf16" in prog.to_tasm() and "bf16" not in fp32.to_tasm()
    two = trnsim.compile(MODEL, chip="tiny", shapes={"x": [2, 3, 16, 16]}, cores=2,
                         set={"cores": 2})
    assert two.num_cores == 2 and two.inputs[0]["shape"] == (2, 3, 16, 16)


def test_save_round_trips(prog, tmp_path):
    prog.save(tmp_path / "p.tasm")
    prog.save(str(tmp_path / "p.tbin"))
    assert (tmp_path / "p.tasm").read_text() == prog.to_tasm()
    assert (tmp_path / "p.tbin").stat().st_size > 0
    a = trnsim.run(str(tmp_path / "p.tbin"), chip="tiny", timing_only=True)
    b = trnsim.run(prog, chip="tiny", timing_only=True)
    assert a.stats == b.stats
    with pytest.raises(trnsim.InputError, match=r"p\.txt: unknown program file extension"):
        prog.save(str(tmp_path / "p.txt"))
    assert not (tmp_path / "p.txt").exists()


def test_timing_only_program_has_no_weights():
    t = trnsim.compile(MODEL, chip="tiny", shapes=SHAPES, timing_only=True)
    assert "absent" in t.to_tasm()
    assert trnsim.run(t, chip="tiny", timing_only=True).sim_time_ns > 0
    with pytest.raises(trnsim.InputError):
        trnsim.run(t, chip="tiny")


@pytest.mark.parametrize("kwargs,cli_args", [
    (dict(model="/nonexistent/model.onnx"), ["/nonexistent/model.onnx"]),
    (dict(model=MODEL, shapes={"x": (1, 3)}), [MODEL, "--shape", "x=1x3"]),
    (dict(model=MODEL, shapes={"nope": (1,)}), [MODEL, "--shape", "nope=1"]),
    (dict(model=MODEL, dtype="fp64"), [MODEL, "--dtype", "fp64"]),
    (dict(model=MODEL, set={"sbuf.partitions": 7}), [MODEL, "--set", "sbuf.partitions=7"]),
    (dict(model=repo("examples", "cnn_small_x.npy")), [repo("examples", "cnn_small_x.npy")]),
])
def test_errors_are_the_cli_messages(cli, tmp_path, kwargs, cli_args):
    proc = cli("compile", *cli_args, "--chip", "tiny", "-o", tmp_path / "m.tasm")
    assert proc.returncode == 2, proc.stdout
    with pytest.raises(trnsim.InputError) as e:
        trnsim.compile(chip="tiny", **kwargs)
    assert str(e.value) == cli_error(proc)


def test_bad_model_path_names_the_file():
    with pytest.raises(trnsim.InputError, match="/nonexistent/model.onnx"):
        trnsim.compile("/nonexistent/model.onnx")


def test_bad_python_values():
    with pytest.raises(trnsim.InputError, match=r"shapes\['x'\]: expected integers >= 0"):
        trnsim.compile(MODEL, shapes={"x": (1, -3, 16, 16)})
    with pytest.raises(trnsim.InputError, match=r"shapes\['x'\]: expected a sequence"):
        trnsim.compile(MODEL, shapes={"x": 1.5})
    with pytest.raises(TypeError, match="model: expected a path"):
        trnsim.compile(None)
    with pytest.raises(TypeError, match="shapes: expected a dict"):
        trnsim.compile(MODEL, shapes=[1, 3])
