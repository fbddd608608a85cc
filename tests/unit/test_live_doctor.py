"""The doctor while training runs: warnings at the user's line, ``scope.alerts``, the store."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gradscope as gs
from gradscope.doctor import rules as rule_modules
from gradscope.doctor.rules import grad_not_zeroed
from gradscope.errors import InstrumentError


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))


def batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    teacher = torch.randn(8, 3, generator=g)
    out = []
    for _ in range(n):
        x = torch.randn(64, 8, generator=g)
        out.append((x, (x @ teacher).argmax(1)))
    return out


def train(scope_kwargs: dict, store: Path, *, zero_grad: bool, steps: int = 30) -> gs.Scope:
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with gs.watch(model, opt, store=store, **scope_kwargs) as scope:
        for x, y in batches(steps):
            if zero_grad:
                opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    return scope


def test_forgotten_zero_grad_warns_at_the_users_line_and_is_stored(tmp_store: Path) -> None:
    with pytest.warns(gs.DiagnosisWarning, match="grad-not-zeroed") as record:
        scope = train({}, tmp_store, zero_grad=False)
    ours = [w for w in record if "grad-not-zeroed" in str(w.message)]
    assert len(ours) == 1, "once per code and place"
    assert ours[0].filename == __file__
    codes = [a.code for a in scope.alerts]
    assert "grad-not-zeroed" in codes
    alert = next(a for a in scope.alerts if a.code == "grad-not-zeroed")
    assert alert.where == "optimizer0:SGD"
    assert alert.step == 1
    with gs.open_store(tmp_store) as run:
        stored = [(a.code, a.where) for a in run.alerts]
    assert ("grad-not-zeroed", "optimizer0:SGD") in stored
    assert len(stored) == len(set(stored)) == len(scope.alerts)


def test_alert_arrives_while_training_not_only_at_close(tmp_store: Path) -> None:
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen_at = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DiagnosisWarning)
        with gs.watch(model, opt, store=tmp_store) as scope:
            for i, (x, y) in enumerate(batches(200)):
                F.cross_entropy(model(x), y).backward()  # zero_grad forgotten
                opt.step()
                if seen_at is None and scope.alerts:
                    seen_at = i
                if seen_at is not None and i > seen_at + 2:
                    break
    assert seen_at is not None and seen_at < 60, seen_at


def test_correct_training_raises_nothing(tmp_store: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", gs.DiagnosisWarning)
        scope = train({}, tmp_store, zero_grad=True)
    assert scope.alerts == []
    with gs.open_store(tmp_store) as run:
        assert run.alerts == []


def test_doctor_off_records_no_alerts_but_gradscope_doctor_still_judges(tmp_store: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", gs.DiagnosisWarning)
        scope = train({"doctor": False}, tmp_store, zero_grad=False)
    assert scope.alerts == []
    from gradscope.doctor import findings

    with gs.open_store(tmp_store) as run:
        assert run.alerts == []
        assert "grad-not-zeroed" in [a.code for a in findings(run)]


def test_live_and_offline_doctor_agree(tmp_store: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gs.DiagnosisWarning)
        scope = train({}, tmp_store, zero_grad=False)
    from gradscope.doctor import diagnose

    with gs.open_store(tmp_store) as run:
        offline = diagnose(run)
    assert [(a.code, a.where) for a in offline] == [(a.code, a.where) for a in scope.alerts]


def _broken(ctx: object) -> list:
    raise ValueError("rule bug")


def test_a_failing_rule_never_stops_training(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grad_not_zeroed, "check", _broken)
    assert grad_not_zeroed in rule_modules.RULES
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with (
        pytest.warns(gs.GradscopeWarning, match="'doctor' instrument failed") as record,
        gs.watch(model, opt, store=tmp_store) as scope,
    ):
        for x, y in batches(30):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    assert scope.step == 30
    failed = [w for w in record if "'doctor' instrument failed" in str(w.message)]
    assert len(failed) == 1
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(30))
        assert "doctor" in run.meta["failed_instruments"]


def test_strict_mode_reraises_a_failing_rule(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grad_not_zeroed, "check", _broken)
    with pytest.raises(InstrumentError, match="doctor"):
        train({"strict": True}, tmp_store, zero_grad=True)
