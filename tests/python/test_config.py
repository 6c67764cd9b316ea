"""trnsim.chips(), systems() and describe() against `trnsim chips`, `systems` and `describe`."""
import pytest

import trnsim
from conftest import cli_error


def columns(text, header):
    """Rows of an aligned table whose first line is `header` (column starts from its words)."""
    lines = text.splitlines()
    start = lines.index(next(l for l in lines if l.startswith(header)))
    head = lines[start]
    starts = [head.index(w) for w in head.split()]
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows.append(cells)
    return rows


def test_chips_match_the_cli(cli):
    listing = cli("chips").stdout.splitlines()
    got = trnsim.chips()
    assert [c["name"] for c in got] == [l.split()[0] for l in listing] == ["trn1", "inf2", "trn2",
                                                                          "tiny"]
    for c, line in zip(got, listing):
        assert c["summary"] in line and c["title"] in line and c["title"]


def test_systems_match_the_cli(cli):
    listing = cli("systems").stdout.splitlines()
    got = {s["name"]: s for s in trnsim.systems()}
    assert list(got) == [l.split()[0] for l in listing]
    assert got["tiny4"]["chips"] == 4 and got["tiny4"]["chip"] == "tiny"
    assert got["trn1.32xlarge"]["chips"] == 16 and got["trn1.32xlarge"]["ranks"] == 32


@pytest.mark.parametrize("chip", ["trn1", "tiny"])
def test_describe_matches_the_cli(cli, chip):
    rows = columns(cli("describe", "--chip", chip, "--set", "pe.rows=16").stdout, "key")
    got = trnsim.describe(chip, set={"pe.rows": 16})
    assert list(got) == [r[0] for r in rows]
    for key, value, unit, doc in rows:
        p = got[key]
        assert (p["unit"], p["doc"], p["scope"]) == (unit, doc, "chip")
        if isinstance(p["value"], str):
            assert p["value"] == value
        else:  # ints stay ints, floats are the same number
            assert type(p["value"]) in (int, float) and p["value"] == float(value), key
    assert got["pe.rows"]["value"] == 16 and isinstance(got["pe.rows"]["value"], int)
    assert isinstance(got["pe.clock_ghz"]["value"], float) and got["pe.clock_ghz"]["unit"] == "GHz"


def test_describe_system(cli):
    got = trnsim.describe(system="tiny4", set=["link.latency_ns=50"])
    assert got["link.latency_ns"] == {**got["link.latency_ns"], "value": 50.0, "scope": "system"}
    dims = got["system.dims"]["value"]
    assert isinstance(dims, list) and all(isinstance(d, int) for d in dims)
    assert got["system.chips"]["value"] == 4 and got["system.chips"]["unit"] == "chips"
    # The chip's parameters follow, prefixed "chip." (both have a "name").
    tiny = trnsim.describe("tiny")
    assert [k for k, v in got.items() if v["scope"] == "chip"] == ["chip." + k for k in tiny]
    assert got["chip.pe.rows"] == tiny["pe.rows"] and got["chip"]["value"] == "tiny"
    assert got["name"]["value"] == "tiny4" and got["chip.name"]["value"] == "tiny"
    text = cli("describe", "--system", "tiny4").stdout
    system_keys = [r[0] for r in columns(text, "key")]
    assert [k for k, v in got.items() if v["scope"] == "system"] == system_keys


@pytest.mark.parametrize("args,cli_args", [
    (dict(chip="tiny", set={"pe.rowz": 8}), ["--chip", "tiny", "--set", "pe.rowz=8"]),
    (dict(chip="tiny", set={"pe.rows": 0}), ["--chip", "tiny", "--set", "pe.rows=0"]),
    (dict(chip="nosuchchip"), ["--chip", "nosuchchip"]),
    (dict(chip="/nonexistent/chip.yaml"), ["--chip", "/nonexistent/chip.yaml"]),
    (dict(system="nosuchsystem"), ["--system", "nosuchsystem"]),
])
def test_describe_errors_are_the_cli_messages(cli, args, cli_args):
    proc = cli("describe", *cli_args)
    assert proc.returncode == 2
    with pytest.raises(trnsim.InputError) as e:
        trnsim.describe(**args)
    assert str(e.value) == cli_error(proc)
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)


def test_describe_chip_and_system_is_an_error(cli):
    with pytest.raises(trnsim.InputError, match="give chip or system, not both"):
        trnsim.describe("tiny", system="tiny4")
    assert cli("describe", "--chip", "tiny", "--system", "tiny4").returncode == 2


def test_describe_wrong_types():
    with pytest.raises(TypeError, match="chip: expected a path"):
        trnsim.describe(128)
