"""trnsim.sweep(): a spec file or dict, the same table as `trnsim sweep`, errors, progress."""
import os

import pandas as pd
import pytest

import trnsim
from conftest import REPO, repo

MATMUL = repo("traces", "01_matmul", "matmul.tasm")


def spec(program):
    return {"chip": "tiny",
            "axes": {"pe.clock_ghz": [0.7, 1.4], "dma.engine_gbps": [8, 16]},
            "workloads": [{"name": "mm", "program": program}]}


def test_dict_spec_equals_the_cli_sweep(cli, tmp_path, monkeypatch):
    f = tmp_path / "spec.yaml"
    f.write_text(f"""chip: tiny
axes:
  pe.clock_ghz: [0.7, 1.4]
  dma.engine_gbps: [8, 16]
workloads:
  - name: mm
    program: {MATMUL}
""")
    proc = cli("sweep", f, "-o", tmp_path / "cli.csv")
    assert proc.returncode == 0, proc.stderr
    want = pd.read_csv(tmp_path / "cli.csv", keep_default_na=False, na_values=[""])
    monkeypatch.chdir(REPO)  # the dict's relative paths are relative to the current directory
    got = trnsim.sweep(spec("traces/01_matmul/matmul.tasm"), jobs=2)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == 4 and (got["status"] == "ok").all()
    # A slower clock or less DMA bandwidth never makes the program faster.
    t = got.set_index(["pe.clock_ghz", "dma.engine_gbps"])["sim_time_ns"]
    assert t[(0.7, 8)] >= t[(1.4, 8)] and t[(0.7, 8)] >= t[(0.7, 16)] and t[(0.7, 8)] > t[(1.4, 16)]


def test_spec_file_model_workload_and_output(tmp_path, capsys):
    f = tmp_path / "sub" / "spec.yaml"
    f.parent.mkdir()
    rel = os.path.relpath(repo("examples", "cnn_small.onnx"), f.parent)
    f.write_text(f"""chip: tiny
axes:
  sbuf.bytes_per_partition: [65536, 131072]
workloads:
  - name: cnn
    model: {rel}
    shapes: {{x: [1, 3, 16, 16]}}
""")
    out = tmp_path / "res.csv"
    got = trnsim.sweep(str(f), output=out, progress=True)
    assert list(got["sbuf.bytes_per_partition"]) == [65536, 131072]
    assert (got["status"] == "ok").all() and (got["sim_time_ns"] > 0).all()
    assert out.exists() and (tmp_path / "res.csv.jsonl").exists()
    assert "trnsim.sweep: [2/2]" in capsys.readouterr().err
    again = trnsim.sweep(str(f), output=out, resume=True, progress=False)
    pd.testing.assert_frame_equal(again, got)
    assert capsys.readouterr().err == ""


def test_failed_points_are_rows_not_exceptions():
    got = trnsim.sweep(spec(repo("tests", "bad_inputs", "run", "deadlock.tasm")), progress=False)
    assert list(got["status"]) == ["failed"] * 4
    # The reason is the last line of the point's error (here the deadlock report's).
    assert got["reason"].str.contains("waits for s1 >= 1").all()


@pytest.mark.parametrize("change,message", [
    ({"axis": {}}, "unknown key 'axis'"),
    ({"axes": {"pe.rowz": [8]}}, "pe.rowz"),
    ({"chip": "nosuchchip"}, "nosuchchip"),
])
def test_bad_specs_are_input_errors(change, message):
    with pytest.raises(trnsim.InputError, match=message) as e:
        trnsim.sweep({**spec(MATMUL), **change})
    assert "trnsim_sweep_" not in str(e.value)  # names the dict, not a temporary file


def test_bad_spec_file_is_the_cli_message(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("chip: tiny\nmode: diagonal\nworkloads:\n  - program: x.tasm\n")
    proc = cli("sweep", f, "-o", tmp_path / "r.csv")
    assert proc.returncode == 2
    with pytest.raises(trnsim.InputError) as e:
        trnsim.sweep(str(f))
    assert str(e.value) == proc.stderr.strip().split("trnsim: error: ", 1)[1]
    with pytest.raises(TypeError, match="spec: expected"):
        trnsim.sweep(42)
