"""``gradscope doctor STORE [--json]``: output, exit codes, and a bad store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gradscope.cli import GradscopeGroup
from gradscope.doctor.cli import doctor_command
from gradscope.errors import StoreError

DEMOS = Path(__file__).parents[2] / "demos"


def test_json_is_an_array_of_exactly_the_five_keys(script_stores: dict[str, Path]) -> None:
    result = CliRunner().invoke(doctor_command, [str(script_stores["grad_not_zeroed_bug"]),
                                                 "--json"])  # fmt: skip
    assert result.exit_code == 0
    (alert,) = json.loads(result.output)
    assert list(alert) == ["code", "severity", "where", "step", "message"]
    assert (alert["code"], alert["severity"], alert["where"], alert["step"]) == (
        "grad-not-zeroed", "error", "optimizer0:SGD", 1
    )  # fmt: skip


def test_rich_output_lists_findings_and_exits_0(script_stores: dict[str, Path]) -> None:
    store = script_stores["nonfinite_grad_bug"]
    result = CliRunner().invoke(doctor_command, [str(store)], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert f"gradscope doctor: 2 errors in 4 steps of {store}" in result.output.replace("\n", "")
    lines = [line.rstrip() for line in result.output.splitlines()]
    assert "✗ error   nonfinite-grad  at 1  (step 0)" in lines
    assert "✗ error   nonfinite-loss  at loss  (step 1)" in lines
    assert "    docs/doctor/nonfinite-grad.md" in lines


def test_clean_run_says_so(script_stores: dict[str, Path]) -> None:
    store = script_stores["ok_scheduler"]
    result = CliRunner().invoke(doctor_command, [str(store)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert result.output == f"✓ no problems found in 30 steps of {store}\n"


def test_clean_run_with_checks_that_could_not_run_says_which(
    script_stores: dict[str, Path],
) -> None:
    store = script_stores["grad_not_zeroed_fixed"]  # 8 steps: too few for the trends
    result = CliRunner().invoke(doctor_command, [str(store)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        f"no problems found by the checks that ran in 8 steps of {store}; not checked:"
    )
    assert "✓" not in result.output
    assert "  - only 8 steps with a loss: loss-stalled needs 20" in lines
    assert any("exploding-gradients needs more than 8" in line for line in lines)


def test_no_optimizer_and_no_loss_are_said(tmp_path: Path) -> None:
    import torch

    import gradscope as gs

    store = tmp_path / "bare.gsdb"
    model = torch.nn.Linear(3, 1)
    with gs.watch(model, store=store):
        model(torch.randn(4, 3))  # forward only: no backward, no optimizer
    result = CliRunner().invoke(doctor_command, [str(store)], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "✓" not in result.output
    assert "no optimizer was watched" in result.output
    assert "no loss was captured" in result.output
    assert json.loads(CliRunner().invoke(doctor_command, [str(store), "--json"]).output) == []


def test_fail_on_gates_ci_by_severity(script_stores: dict[str, Path]) -> None:
    bug = str(script_stores["grad_not_zeroed_bug"])  # one error
    amp = str(script_stores["ok_amp_grad_scaler"])  # one info
    clean = str(script_stores["ok_scheduler"])
    invoke = CliRunner().invoke
    assert invoke(doctor_command, [bug, "--json"]).exit_code == 0  # default: findings are output
    assert invoke(doctor_command, [bug, "--json", "--fail-on", "error"]).exit_code == 1
    assert invoke(doctor_command, [bug, "--fail-on", "warning"]).exit_code == 1
    assert invoke(doctor_command, [amp, "--fail-on", "warning"]).exit_code == 0
    assert invoke(doctor_command, [clean, "--fail-on", "warning"]).exit_code == 0
    stall = str(script_stores["loss_stalled_bug"])  # one warning
    assert invoke(doctor_command, [stall, "--fail-on", "error"]).exit_code == 0
    assert invoke(doctor_command, [stall, "--fail-on", "warning"]).exit_code == 1
    bad = invoke(doctor_command, [bug, "--fail-on", "info"])
    assert bad.exit_code == 2 and "'info' is not one of 'error', 'warning'" in bad.output


def test_threshold_option(script_stores: dict[str, Path]) -> None:
    store = str(script_stores["loss_stalled_fixed"])
    result = CliRunner().invoke(doctor_command, [store, "--json", "--threshold",
                                                 "stall_change=0.5"])  # fmt: skip
    assert [a["code"] for a in json.loads(result.output)] == ["loss-stalled"]


def test_bad_store_raises_store_error_for_the_main_command(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gsdb"
    bogus.write_text("not a store")
    result = CliRunner().invoke(doctor_command, [str(bogus)])
    assert isinstance(result.exception, StoreError)
    group = GradscopeGroup(commands={"doctor": doctor_command})
    result = CliRunner().invoke(group, ["doctor", str(bogus)])
    assert result.exit_code == 2
    assert result.output == (
        f"gradscope: error: {str(bogus)!r} is not a gradscope store (not an SQLite file)\n"
    )
    result = CliRunner().invoke(group, ["doctor", str(bogus), "--threshold", "nope=1"])
    assert result.exit_code == 2 and "unknown threshold 'nope'" in result.output


def test_help() -> None:
    result = CliRunner().invoke(doctor_command, ["--help"])
    assert result.exit_code == 0
    assert "Diagnose the classic training bugs" in result.output and "--json" in result.output


def test_end_to_end_as_a_user_would(tmp_path: Path) -> None:
    """`gradscope run` then `gradscope doctor --json`, each its own process."""
    store = tmp_path / "zero.gsdb"
    env = {**os.environ, "CI": "true"}
    ran = subprocess.run(
        [sys.executable, "-m", "gradscope", "run", "--store", str(store),
         str(DEMOS / "bug_zero_grad.py")],
        capture_output=True, text=True, env=env, timeout=1200, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    code = (
        "import sys; from gradscope.doctor.cli import doctor_command; doctor_command(sys.argv[1:])"
    )
    doc = subprocess.run(
        [sys.executable, "-c", code, str(store), "--json"],
        capture_output=True, text=True, env=env, timeout=1200, check=False,
    )  # fmt: skip
    assert doc.returncode == 0, doc.stderr
    assert [(a["code"], a["where"]) for a in json.loads(doc.stdout)] == [
        ("grad-not-zeroed", "optimizer0:SGD")
    ]
