"""The command line, run as a user would: a subprocess with no TTY."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gradscope as gs

MODELS = ("linreg", "mlp", "lenet", "gru", "transformer")
FIRST_PARAM = {
    "linreg": "linear.weight",
    "mlp": "fc1.weight",
    "lenet": "conv1.weight",
    "gru": "encoder.weight",
    "transformer": "embedding.weight",
}


def gradscope(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "CI": "true"}
    return subprocess.run(
        [sys.executable, "-m", "gradscope", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=1200,
        check=False,
    )


@pytest.mark.parametrize("model", MODELS)
def test_demo_trains_writes_store_and_prints_report(model: str, tmp_path: Path) -> None:
    result = gradscope("demo", model, "--steps", "4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    store = tmp_path / "runs" / f"demo-{model}.gsdb"
    assert f"store written to runs/demo-{model}.gsdb" in result.stdout
    assert "gradscope report" in result.stdout
    with gs.open_store(store) as run:
        assert run.steps == [0, 1, 2, 3]
        assert run.params[0] == FIRST_PARAM[model]
        assert FIRST_PARAM[model] in result.stdout
        _, losses = run.series("loss")
        assert len(losses) == 4 and all(v == v for v in losses)
        steps, norms = run.series("grad_norm", run.params[0])
        assert steps == [0, 1, 2, 3] and all(n > 0 for n in norms)
        assert run.has_graph
    image = store.with_suffix(".svg" if shutil.which("dot") else ".gv")
    assert f"autograd graph of the first step written to {image.relative_to(tmp_path)}" in (
        result.stdout
    )
    head = image.read_text()[:400]
    assert "<svg" in head if image.suffix == ".svg" else head.startswith("digraph")


def test_demo_with_default_steps_and_custom_store(tmp_path: Path) -> None:
    store = tmp_path / "out" / "mlp.gsdb"
    result = gradscope("demo", "mlp", "--store", str(store), "--every", "5")
    assert result.returncode == 0, result.stderr
    with gs.open_store(store) as run:
        n = len(run.steps)
        assert n >= 50
        grad_steps, _ = run.series("grad_norm", "fc1.weight")
        assert grad_steps == list(range(0, n, 5))
        _, losses = run.series("loss")
        assert losses[-1] < 0.7 * losses[0]


def test_report_json_has_the_documented_shape(tmp_path: Path) -> None:
    assert gradscope("demo", "lenet", "--steps", "3", cwd=tmp_path).returncode == 0
    result = gradscope("report", str(tmp_path / "runs" / "demo-lenet.gsdb"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] == "LeNet"
    assert data["steps"] == 3
    assert [p["name"] for p in data["params"]][:2] == ["conv1.weight", "conv1.bias"]
    assert data["optimizers"][0]["type"] == "SGD"
    assert data["optimizers"][0]["groups"][0]["momentum"] == 0.9
    assert set(data["loss"]) >= {"first", "last", "min", "trend"}
    assert all(p["grad_norm"] > 0 for p in data["params"])


def test_every_command_has_help() -> None:
    commands = ("demo", "report", "run", "doctor", "graph", "tui", "export", "serve")
    for args in ((), *((c,) for c in commands)):
        result = gradscope(*args, "--help")
        assert result.returncode == 0
        assert "Usage: gradscope" in result.stdout


def test_unknown_demo_model_is_a_usage_error() -> None:
    result = gradscope("demo", "resnet")
    assert result.returncode == 2
    assert "resnet" in result.stderr


def test_bug_demo_shows_the_doctors_findings(tmp_path: Path) -> None:
    result = gradscope("demo", "bug", "--steps", "20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "softmax-before-cross-entropy  at softmax" in result.stdout
    assert "unused-parameter  at aux" in result.stdout
    with gs.open_store(tmp_path / "runs" / "demo-bug.gsdb") as run:
        assert {a.code for a in run.alerts} >= {"softmax-before-cross-entropy", "unused-parameter"}


def _demo_in_a_terminal(cwd: Path, *args: str, quit_on: bytes) -> tuple[bytes, int]:
    """Run ``gradscope demo ARGS`` in a pty (a terminal, CI unset); press q once ``quit_on``
    is on screen. Returns everything the terminal received and the exit status."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal session running the demo
        os.chdir(cwd)
        os.environ.pop("CI", None)
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "gradscope", "demo", *args])
    out, quit_sent, deadline = b"", False, time.monotonic() + 600
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        if not quit_sent and quit_on in out:
            os.write(fd, b"q")
            quit_sent = True
    _, status = os.waitpid(pid, 0)
    assert quit_sent, out[-2000:]
    assert os.WIFEXITED(status), status
    return out, os.WEXITSTATUS(status)


@pytest.mark.slow
def test_demo_follows_the_training_live_in_a_terminal_and_q_quits(tmp_path: Path) -> None:
    """In a terminal the dashboard opens while the demo trains and shows the run as live;
    quitting then stops the training, which leaves a closed store with the steps so far."""
    out, status = _demo_in_a_terminal(tmp_path, "mlp", "--steps", "100000", quit_on=b"live")
    assert status == 0, out[-2000:]
    assert b"\x1b[?1049h" in out  # the dashboard took the alternate screen
    assert b"training stopped when the dashboard closed" in out
    with gs.open_store(tmp_path / "runs" / "demo-mlp.gsdb") as run:
        assert "finished" in run.meta  # closed by its scope, not killed
        assert 0 < len(run.steps) < 100000


@pytest.mark.slow
def test_demo_in_a_terminal_ends_with_the_report(tmp_path: Path) -> None:
    """Left to finish, the demo's report and store path follow the dashboard."""
    out, status = _demo_in_a_terminal(tmp_path, "linreg", "--steps", "30", quit_on=b"finished")
    assert status == 0, out[-2000:]
    assert b"gradscope report" in out
    assert b"store written to runs/demo-linreg.gsdb" in out
