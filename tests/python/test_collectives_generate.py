"""trnsim.collectives() and trnsim.generate() against their commands."""
import json
import os
import sys

import onnx
import numpy as np
import pytest

import trnsim
from conftest import repo

sys.path.insert(0, repo("tests", "models"))
import llm_models  # noqa: E402


def test_collectives_rows_equal_the_cli(cli, tmp_path):
    rows = tmp_path / "rows.json"
    proc = cli("collectives", "--system", "tiny4", "--op", "all_gather", "--bytes", "1K,64K",
               "--json", rows)
    assert proc.returncode == 0, proc.stderr
    got = trnsim.collectives("tiny4", "all_gather", sizes=[1024, "64K"])
    assert got.to_dict("records") == json.loads(rows.read_text())
    assert list(got["bytes"]) == [1024, 65536]
    assert (got["time_ns"] > 0).all() and got["time_ns"].is_monotonic_increasing
    assert got.attrs["links"] and got.attrs["sim_time_ns"] >= got["time_ns"].sum() - 1e-3


def test_collectives_options():
    got = trnsim.collectives("tiny4", "all_reduce", min=8, max="1K", factor=4, check=True,
                             algo="ring", set={"cc.channels": 1})
    assert list(got["bytes"]) == [8, 32, 128, 512]
    assert (got["mismatches"] == 0).all() and (got["algo"] == "ring").all()
    assert (got["channels"] == 1).all()


@pytest.mark.parametrize("kwargs,args,message", [
    (dict(op="all_sum"), ["--op", "all_sum"], "all_sum"),
    (dict(sizes="12Q"), ["--bytes", "12Q"], "'12Q' is not a size"),
    (dict(system="nosuchsystem"), [], "nosuchsystem"),
])
def test_collectives_errors_are_the_cli_messages(cli, kwargs, args, message):
    system = kwargs.pop("system", "tiny4")
    proc = cli("collectives", "--system", system, *args)
    assert proc.returncode == 2
    with pytest.raises(trnsim.InputError, match=message) as e:
        trnsim.collectives(system, **kwargs)
    assert str(e.value) == proc.stderr.strip().split("trnsim: error: ", 1)[1]


@pytest.fixture(scope="module")
def decoder(tmp_path_factory):
    m, _ = llm_models.llama("py_gen", B=1, S=3, P=0, dynamic=True)(np.random.default_rng(7))
    path = str(tmp_path_factory.mktemp("gen") / "llama.onnx")
    onnx.save(m, path)
    return path


def test_generate_timing_only_equals_the_cli(cli, tmp_path, decoder):
    stats = tmp_path / "gen.json"
    proc = cli("generate", decoder, "--chip", "tiny", "--prompt-len", "3", "--new-tokens", "3",
               "--timing-only", "--stats", stats)
    assert proc.returncode == 0, proc.stderr
    got = trnsim.generate(decoder, 3, 3, chip="tiny", timing_only=True)
    assert got == json.loads(stats.read_text())
    assert [s["kind"] for s in got["steps"]] == ["prefill", "decode", "decode"]
    assert got["ttft_ms"] > 0 and got["tpot_ms_mean"] > 0 and "tokens" not in got


def test_generate_greedy_tokens(decoder):
    got = trnsim.generate(decoder, prompt_len=3, new_tokens=2, chip="tiny", dtype="fp32", batch=2)
    assert len(got["tokens"]) == 2 and all(len(t) == 2 for t in got["tokens"])
    assert all(0 <= tok < 100 for t in got["tokens"] for tok in t)  # the vocabulary is 100
    assert len(got["prompt"][0]) == 3


def test_generate_errors(cli):
    model = repo("examples", "cnn_small.onnx")
    proc = cli("generate", model, "--prompt-len", "4", "--new-tokens", "2")
    with pytest.raises(trnsim.InputError) as e:
        trnsim.generate(model, 4, 2)
    assert str(e.value) == proc.stderr.strip().split("trnsim: error: ", 1)[1]
    assert "input 'x' is none of input_ids" in str(e.value)
    with pytest.raises(trnsim.InputError, match="--new-tokens must be >= 1"):
        trnsim.generate(model, 4, 0)
