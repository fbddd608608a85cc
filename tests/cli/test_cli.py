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


@pytest.mark.slow
def test_demo_opens_the_dashboard_in_a_terminal_and_q_quits(tmp_path: Path) -> None:
    """In a real terminal (a pty here) the demo ends in the dashboard; without one it does not."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal session running the demo
        os.chdir(tmp_path)
        os.environ.pop("CI", None)
        os.environ["TERM"] = "xterm-256color"
        os.execv(
            sys.executable, [sys.executable, "-m", "gradscope", "demo", "linreg", "--steps", "3"]
        )
    out, quit_sent, deadline = b"", False, time.monotonic() + 600
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        if not quit_sent and b"Overview" in out:
            time.sleep(1.0)
            os.write(fd, b"q")
            quit_sent = True
    _, status = os.waitpid(pid, 0)
    assert quit_sent, out[-2000:]
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert b"\x1b[?1049h" in out  # the dashboard took the alternate screen
    assert b"store written to runs/demo-linreg.gsdb" in out
