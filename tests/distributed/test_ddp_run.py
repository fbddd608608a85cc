"""``gradscope run`` under torchrun: one file per rank that every reader merges."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from ddp_helpers import SCRIPTS, torchrun

import gradscope as gs
from gradscope.cli import main


@pytest.fixture(scope="module")
def run_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("ddp_run")
    store = out / "ddp.gsdb"
    result = torchrun(
        "-m", "gradscope", "run", "--store", str(store), str(SCRIPTS / "run_train.py"), cwd=out
    )
    assert result.returncode == 0, result.stderr[-4000:]
    # two processes share the pipe, so their lines may interleave: count, do not split
    assert sorted(re.findall(r"rank \d done", result.stdout)) == ["rank 0 done", "rank 1 done"]
    return store, result.stderr


def test_both_ranks_are_recorded_and_read_through_the_logical_path(
    run_store: tuple[Path, str],
) -> None:
    store, _ = run_store
    with gs.open_store(store) as run:
        assert (run.ranks, run.world_size, run.all_ranks) == ([0, 1], 2, True)
        with run.rank_run(1) as other:
            for r in (run, other):
                assert r.params == ["0.weight", "0.bias", "2.weight", "2.bias"]
                assert r.steps == list(range(6))
                assert r.events("ddp_desync") == []
            assert run.series("grad_norm", "2.weight") == other.series("grad_norm", "2.weight")
    data = json.loads(CliRunner().invoke(main, ["report", str(store), "--json"]).output)
    assert [(r["rank"], r["steps"]) for r in data["ranks"]] == [(0, 6), (1, 6)]
    assert data["ranks"][0]["grad_norm"] == data["ranks"][1]["grad_norm"]
    doctor = CliRunner().invoke(main, ["doctor", str(store), "--json"])
    assert (doctor.exit_code, json.loads(doctor.output)) == (0, [])


def test_an_fsdp_model_is_refused_and_the_script_runs_on(run_store: tuple[Path, str]) -> None:
    _, stderr = run_store
    refusals = [line for line in stderr.splitlines() if "FSDP-sharded" in line]
    assert len(refusals) == 2, stderr[-3000:]  # once per rank
    assert all("the 'discovery' instrument failed (GradscopeError: " in r for r in refusals)
