"""What ``gradscope run`` discovers in real training loops it was not written for.

Each fixture script runs plain and under ``python -m gradscope run``: the printed numbers and
the trained tensors must be identical, and the store must hold the steps, the names the script
uses, the loss, and no diagnosis (these are correct scripts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

import gradscope as gs
from gradscope.doctor.cli import doctor_command

SCRIPTS = Path(__file__).parent.parent / "fixtures" / "scripts"
NAMES = ["raw_linreg", "lbfgs_lstm", "shared_optimizer", "add_param_group", "gradient_penalty",
         "lazy_modules", "two_phases"]  # fmt: skip

#: Runs each script plain, as ``python SCRIPT --save OUT`` would, in one interpreter.
PLAIN_ALL = """
import contextlib, runpy, sys
for script, out, saved in zip(*[iter(sys.argv[1:])] * 3):
    sys.argv = [script, "--save", saved]
    with open(out, "w") as f, contextlib.redirect_stdout(f):
        runpy.run_path(script, run_name="__main__")
"""


def env() -> dict[str, str]:
    return {**os.environ, "CI": "true"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("discovery")
    args = [
        str(x)
        for n in NAMES
        for x in (SCRIPTS / f"{n}.py", folder / f"{n}.plain.txt", folder / f"{n}.plain.pt")
    ]
    subprocess.run([sys.executable, "-c", PLAIN_ALL, *args], check=True, env=env(),
                   stdin=subprocess.DEVNULL, timeout=600)  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for name in NAMES:
        store = folder / f"{name}.gsdb"
        watched = subprocess.run(
            # every step a detail step: the tests compare updates and state step by step
            [sys.executable, "-m", "gradscope", "run", "--store", str(store), "--detail-every",
             "1", str(SCRIPTS / f"{name}.py"), "--save", str(folder / f"{name}.run.pt")],
            capture_output=True, text=True, env=env(), stdin=subprocess.DEVNULL, timeout=600,
            check=False,
        )  # fmt: skip
        doctor = CliRunner().invoke(doctor_command, [str(store), "--json"])
        out[name] = {
            "plain": (folder / f"{name}.plain.txt").read_text(),
            "watched": watched,
            "store": store,
            "doctor": json.loads(doctor.output),
            "tensors": [torch.load(folder / f"{name}.{k}.pt") for k in ("plain", "run")],
        }
    return out


@pytest.mark.parametrize("name", NAMES)
def test_same_numbers_and_a_clean_closed_store(name: str, runs: dict[str, Any]) -> None:
    r = runs[name]
    assert r["watched"].returncode == 0, r["watched"].stderr
    assert r["watched"].stdout == r["plain"]
    plain, watched = r["tensors"]
    assert plain.keys() == watched.keys()
    for key in plain:
        assert torch.equal(plain[key], watched[key]), key
    assert r["doctor"] == []
    with gs.open_store(r["store"]) as run:
        assert run.meta.get("finished") is not None
        assert run.meta["steps"] == len(run.steps)


def printed_losses(text: str) -> list[float]:
    return [float(line.split()[1]) for line in text.splitlines() if line[:1].isdigit()]


def test_raw_tensors_without_optimizer(runs: dict[str, Any]) -> None:
    """Each backward pass is a step; the input ``x`` with requires_grad is not a parameter."""
    r = runs["raw_linreg"]
    with gs.open_store(r["store"]) as run:
        assert run.params == ["w", "b"]
        assert run.steps == list(range(20))
        assert run.series("loss")[1] == pytest.approx(printed_losses(r["plain"]), rel=1e-6)
        steps, updates = run.series("update_norm", "w")
        assert steps == list(range(20)) and all(u > 0 for u in updates)
        _, grads = run.series("grad_norm", "w")
        # plain gradient descent: the update is lr times the gradient
        assert updates == pytest.approx([0.1 * g for g in grads], rel=1e-5)
        assert run.series("update_ratio", "w")[0] == list(range(20))
        assert run.events("grad_carried") == []


def test_lbfgs_closure_is_one_step_with_the_first_loss(runs: dict[str, Any]) -> None:
    r = runs["lbfgs_lstm"]
    with gs.open_store(r["store"]) as run:
        assert run.params[:2] == ["lstm1.weight_ih", "lstm1.weight_hh"]
        assert run.params[-1] == "linear.bias"
        assert run.steps == [0, 1, 2]
        firsts = [float(line.split(": ")[1]) for line in r["plain"].splitlines()
                  if line.startswith("STEP")]  # fmt: skip
        assert run.series("loss")[1] == pytest.approx(firsts, rel=1e-6)
        rows = run.step_rows()
        assert all(row.n_backward > 1 for row in rows)
        assert sum(row.n_backward for row in rows) == r["plain"].count("loss: ")
        assert run.series("update_norm", "linear.weight")[0] == [0, 1, 2]


def test_separate_modules_under_one_optimizer_keep_their_variable_names(
    runs: dict[str, Any],
) -> None:
    with gs.open_store(runs["shared_optimizer"]["store"]) as run:
        assert run.params == [
            "embed.weight", "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0",
            "gru.bias_hh_l0", "head.weight", "head.bias",
        ]  # fmt: skip
        assert [g.params for g in run.optimizers[0].groups] == [tuple(run.params)]
        assert {m.path for m in run.modules} >= {"embed", "gru", "head"}
        for name in run.params:
            assert run.series("state.momentum_buffer.norm", name)[0] == list(range(6))


def test_add_param_group_parameters_are_recorded_from_the_next_step(
    runs: dict[str, Any],
) -> None:
    with gs.open_store(runs["add_param_group"]["store"]) as run:
        assert [g.params for g in run.optimizers[0].groups] == [
            ("0.weight", "0.bias"),
            ("2.weight", "2.bias"),
        ]
        assert run.optimizers[0].groups[1].hparams["lr"] == 0.003
        assert run.series("grad_norm", "2.weight")[0] == [3, 4, 5, 6, 7]
        assert run.series("state.exp_avg.norm", "2.weight")[0] == [3, 4, 5, 6, 7]
        assert run.series("update_norm", "2.weight")[0] == [3, 4, 5, 6, 7]
        assert run.series("state.step.value", "0.weight")[1][-1] == 8.0


def test_gradient_penalty_inputs_are_not_parameters(runs: dict[str, Any]) -> None:
    with gs.open_store(runs["gradient_penalty"]["store"]) as run:
        assert run.params == ["0.weight", "0.bias", "2.weight", "2.bias"]
        assert run.steps == list(range(6))


def test_lazy_modules_are_watched_once_they_have_a_shape(runs: dict[str, Any]) -> None:
    r = runs["lazy_modules"]
    with gs.open_store(r["store"]) as run:
        assert len(run.params) == 4
        assert run.steps == list(range(6))
        assert run.series("loss")[1] == pytest.approx(printed_losses(r["plain"]), rel=1e-6)
        for name in run.params:
            assert run.series("grad_norm", name)[0] == list(range(6))


def test_a_second_model_trained_after_the_first_gets_its_own_steps(
    runs: dict[str, Any],
) -> None:
    """Its first step joins the first model's last; every later one is a step of its own."""
    r = runs["two_phases"]
    with gs.open_store(r["store"]) as run:
        assert run.steps == list(range(11))
        losses = printed_losses(r["plain"])
        assert run.series("loss")[1][:5] == pytest.approx(losses[:5], rel=1e-6)
        assert run.series("loss")[1][5:] == pytest.approx(losses[6:], rel=1e-6)
        second = [n for n in run.params if n.startswith("mlp.")]
        assert len(second) == 4
        assert run.series("grad_norm", second[0])[0] == list(range(4, 11))
