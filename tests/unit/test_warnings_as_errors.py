"""Runs that turn warnings into errors (``python -W error``, pytest ``filterwarnings = error``):
gradscope's warnings must never become an exception in the user's training. Hooks queue them;
they are emitted outside autograd, and logged instead when the filters make them errors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gradscope as gs
from gradscope.capture import params as params_module

pytestmark = pytest.mark.warnings_as_errors

STEPS = 12


def buggy_model() -> nn.Module:
    """Softmax before cross-entropy: a diagnosis at the first step."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1))


def train_buggy(store: Path | None) -> tuple[dict[str, torch.Tensor], list[float], gs.Scope | None]:
    """zero_grad forgotten as well: grad-not-zeroed at the second step."""
    model = buggy_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    scope = gs.watch(model, opt, store=store) if store is not None else None
    losses = []
    for _ in range(STEPS):
        x, y = torch.randn(32, 8, generator=g), torch.randint(0, 3, (32,), generator=g)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    if scope is not None:
        scope.close()
    return {k: v.clone() for k, v in model.state_dict().items()}, losses, scope


def test_diagnoses_under_warnings_as_errors_are_logged_and_training_completes(
    tmp_store: Path, gradscope_logged_warnings: list[logging.LogRecord]
) -> None:
    plain_state, plain_losses = train_buggy(None)[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state, losses, scope = train_buggy(tmp_store)
    assert scope is not None
    assert losses == plain_losses
    for key, value in plain_state.items():
        assert torch.equal(state[key], value), key
    codes = {a.code for a in scope.alerts}
    assert {"softmax-before-cross-entropy", "grad-not-zeroed"} <= codes
    logged = [r.getMessage() for r in gradscope_logged_warnings]
    assert any("DiagnosisWarning: gradscope: error: grad-not-zeroed" in m for m in logged)
    assert any("softmax-before-cross-entropy" in m for m in logged)
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(STEPS))
        assert run.meta["failed_instruments"] == {}
        assert codes <= {a.code for a in run.alerts}


def test_diagnoses_still_warn_at_the_users_line(tmp_store: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_buggy(tmp_store)
    ours = [w for w in caught if issubclass(w.category, gs.DiagnosisWarning)]
    text = "\n".join(str(w.message) for w in ours)
    assert "softmax-before-cross-entropy" in text and "grad-not-zeroed" in text
    assert {w.filename for w in ours} == {__file__}


def test_a_failing_instrument_under_warnings_as_errors_never_stops_training(
    tmp_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    gradscope_logged_warnings: list[logging.LogRecord],
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(params_module, "histograms", broken)  # fails inside the step hook
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, losses, scope = train_buggy(tmp_store)
    assert scope is not None and len(losses) == STEPS
    messages = [r.getMessage() for r in gradscope_logged_warnings]
    assert any("the 'histograms' instrument failed (RuntimeError: injected failure)" in m
               for m in messages)  # fmt: skip
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(STEPS))
        assert list(run.meta["failed_instruments"]) == ["histograms"]


def test_meta_device_model_trains_under_warnings_as_errors(
    tmp_store: Path, gradscope_logged_warnings: list[logging.LogRecord]
) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)).to("meta")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with gs.watch(model, opt, store=tmp_store, detail_every=1) as scope:
            for _ in range(3):
                opt.zero_grad()
                model(torch.randn(4, 8, device="meta")).sum().backward()
                opt.step()
    assert scope.step == 3
    assert gradscope_logged_warnings == []  # a meta tensor has no values: nothing to report
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1, 2]
        assert run.meta["failed_instruments"] == {}
        assert run.series("loss") == ([], [])


FLOAT64_SCRIPT = """
import torch, torch.nn as nn, torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1)).double()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.randn(64, 8, dtype=torch.float64)
y = x.sum(1, keepdim=True)
for step in range(6):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.12f}")
"""


@pytest.mark.slow
def test_gradscope_run_under_python_dash_w_error_exits_0(tmp_path: Path) -> None:
    script = tmp_path / "train64.py"
    script.write_text(textwrap.dedent(FLOAT64_SCRIPT))
    store = tmp_path / "run.gsdb"
    env = {**os.environ, "CI": "true"}
    common = {"capture_output": True, "text": True, "env": env, "cwd": tmp_path,
              "stdin": subprocess.DEVNULL, "timeout": 600, "check": False}  # fmt: skip
    plain = subprocess.run([sys.executable, "-W", "error", str(script)], **common)
    watched = subprocess.run(
        [sys.executable, "-W", "error", "-m", "gradscope", "run", "--store", str(store),
         str(script)],
        **common,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout == plain.stdout
    assert "Warning" not in watched.stderr
    with gs.open_store(store) as run:
        assert run.steps == list(range(6))
        assert run.meta["failed_instruments"] == {}
        snapshot = run.graph_snapshot()
        assert snapshot is not None and snapshot["heat"]["done"] is True
        assert snapshot["heat"]["norms"]


def test_torchs_warning_about_global_module_hooks_is_quiet_only_while_watched(
    tmp_store: Path,
) -> None:
    """torch.compile warns at every compiled forward while a process-wide module hook exists;
    gradscope's hooks pass over the compiled wrapper, so the warning is theirs to silence."""
    message = (
        "Using `torch.compile(module)` when there are global hooks on modules (e.g., from "
        "`register_module_forward_hook`); this will cause the hooks to fire an extra time"
    )
    model = nn.Linear(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with gs.watch(model, store=tmp_store):
            warnings.warn(message, UserWarning, stacklevel=1)  # ignored
        with pytest.raises(UserWarning, match="global hooks"):
            warnings.warn(message, UserWarning, stacklevel=1)
