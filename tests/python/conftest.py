"""Fixtures of the Python module's tests: the repository, the trnsim CLI to compare with, and a
helper that runs it. CTest sets PYTHONPATH to <build>/python and TRNSIM_CLI to the binary."""
import os
import subprocess

import pytest

import trnsim

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def repo(*parts):
    return os.path.join(REPO, *parts)


@pytest.fixture(scope="session")
def cli_exe():
    return os.environ.get("TRNSIM_CLI") or trnsim.executable()


@pytest.fixture
def cli(cli_exe):
    """cli(*args) -> CompletedProcess of `trnsim ARGS` (text, not checked)."""
    def call(*args, cwd=None):
        env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
        return subprocess.run([cli_exe] + [str(a) for a in args], capture_output=True, text=True,
                              env=env, cwd=cwd)
    return call


def cli_error(proc):
    """The one-line message of a failed CLI run, without its "trnsim: error: " prefix."""
    line = proc.stderr.strip().splitlines()[-1]
    for prefix in ("trnsim: error: ", "trnsim: simulation fault: "):
        if line.startswith(prefix):
            return line[len(prefix):]
    return line
