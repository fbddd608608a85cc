"""``gs.watch`` on a DDP model under torchrun (2 ranks, gloo): files, readers, ``ddp-desync``.

One launch of ``tests/fixtures/distributed/ddp_watch.py`` runs every scenario (see its
docstring); each test checks one of them against what the script wrote down on each rank.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from ddp_helpers import expected

import gradscope as gs
from gradscope.cli import main
from gradscope.render.report import fmt

PARAMS = ["hidden.weight", "hidden.bias", "fc.weight", "fc.bias"]


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def doctor(store: Path) -> list[dict]:
    return json.loads(cli("doctor", str(store), "--json"))


def test_each_rank_writes_its_own_file_with_the_inner_names(watched: Path) -> None:
    assert sorted(p.name for p in watched.glob("correct*.gsdb")) == [
        "correct.rank0.gsdb", "correct.rank1.gsdb"
    ]  # fmt: skip
    for rank in (0, 1):
        assert expected(watched, "correct", rank)["path"] == str(
            watched / f"correct.rank{rank}.gsdb"
        )
        with gs.open_store(watched / "correct.gsdb", rank=rank) as run:
            assert (run.meta["rank"], run.meta["world_size"]) == (rank, 2)
            assert run.meta["wrapper"] == "DistributedDataParallel"
            assert run.params == PARAMS  # no "module." prefix
            assert run.steps == list(range(6))


def test_grad_norms_are_the_all_reduced_ones_and_equal_on_both_ranks(watched: Path) -> None:
    with gs.open_store(watched / "correct.gsdb") as r0, r0.rank_run(1) as r1:
        for rank, run in ((0, r0), (1, r1)):
            norms = expected(watched, "correct", rank)["norms"]
            for name in PARAMS:
                steps, values = run.series("grad_norm", name)
                assert steps == list(range(6))
                assert values == pytest.approx([n[name] for n in norms], rel=1e-6)
                # pre-clip norms are read after DDP's reducer wrote the averaged gradients
                assert run.series("grad_norm_preclip", name)[1] == pytest.approx(values, rel=1e-6)
        assert r0.series("grad_norm", "fc.weight") == r1.series("grad_norm", "fc.weight")
        assert r0.series("loss") != r1.series("loss")  # each rank's own batch


def test_watching_changes_no_number(watched: Path) -> None:
    for rank in (0, 1):
        assert expected(watched, "correct", rank)["bit_identical"] is True
    assert expected(watched, "correct", 0)["final"] == expected(watched, "correct", 1)["final"]


def test_open_store_on_the_logical_path_opens_rank_0_and_lists_the_ranks(watched: Path) -> None:
    with gs.open_store(watched / "correct.gsdb") as run:
        assert run.path == watched / "correct.rank0.gsdb"
        assert (run.ranks, run.rank, run.world_size, run.all_ranks) == ([0, 1], 0, 2, True)
        with run.rank_run(1) as other:
            assert other.path.name == "correct.rank1.gsdb"
            assert (other.rank, other.all_ranks) == (1, False)
    with gs.open_store(watched / "correct.rank1.gsdb") as run:
        assert (run.rank, run.ranks, run.all_ranks) == (1, [0, 1], False)
    with pytest.raises(gs.StoreError, match=r"no store for rank 5 .* \(ranks recorded: 0, 1\)"):
        gs.open_store(watched / "correct.gsdb", rank=5)


def test_report_shows_every_rank(watched: Path) -> None:
    text = cli("report", str(watched / "correct.gsdb"))
    assert "ranks 0, 1 of 2; parameters below are rank 0's" in text
    losses = {}
    for rank in (0, 1):
        with gs.open_store(watched / "correct.gsdb", rank=rank) as run:
            losses[rank] = run.series("loss")[1]
        row = rf"│\s+{rank} │\s+6 │\s+{re.escape(fmt(losses[rank][0]))} │"
        assert re.search(row + rf"\s+{re.escape(fmt(losses[rank][-1]))} │", text), rank
    last = expected(watched, "correct", 0)["norms"][-1]
    for name in PARAMS:
        value = re.escape(fmt(last[name]))
        assert re.search(rf"│ {re.escape(name)}\s+│\s+{value} │\s+{value} │", text), name

    data = json.loads(cli("report", str(watched / "correct.gsdb"), "--json"))
    assert (data["rank"], data["world_size"]) == (0, 2)
    assert [r["rank"] for r in data["ranks"]] == [0, 1]
    assert [r["steps"] for r in data["ranks"]] == [6, 6]
    assert [r["loss"]["first"] for r in data["ranks"]] == [losses[0][0], losses[1][0]]
    for r in data["ranks"]:
        assert r["grad_norm"] == pytest.approx(last, rel=1e-6)


def test_report_rank_option_shows_one_rank(watched: Path) -> None:
    data = json.loads(cli("report", str(watched / "correct.gsdb"), "--json", "--rank", "1"))
    assert (data["rank"], "ranks" in data) == (1, False)
    assert data["store"] == str(watched / "correct.rank1.gsdb")
    assert "rank 1 of 2" in cli("report", str(watched / "correct.gsdb"), "--rank", "1")


def test_a_correct_run_raises_nothing(watched: Path) -> None:
    assert doctor(watched / "correct.gsdb") == []
    for rank in (0, 1):
        with gs.open_store(watched / "correct.gsdb", rank=rank) as run:
            assert run.events("ddp_desync") == []
            assert run.alerts == []
            assert run.meta["failed_instruments"] == {}


def test_a_planted_desync_names_the_parameter_and_the_rank(watched: Path) -> None:
    alerts = doctor(watched / "desync.gsdb")
    assert [(a["code"], a["where"], a["step"], a["ranks"]) for a in alerts] == [
        ("ddp-desync", "fc.weight", 4, [1])
    ]  # once, though both ranks recorded it; checked at steps 0, 1, 2, 4: the edit was after 3
    assert (
        "rank 1 disagrees with rank 0 (weight sum off by 0.08, weight norm off by"
        in (alerts[0]["message"])
    )
    a0, a1 = (expected(watched, "desync", r)["final"] for r in (0, 1))
    assert a1["fc.weight"] - a0["fc.weight"] == pytest.approx(0.08, abs=1e-6)  # 8 weights
    events = []
    for rank in (0, 1):
        with gs.open_store(watched / "desync.gsdb", rank=rank) as run:
            events.append(run.events("ddp_desync"))
    assert events[0] == events[1]  # the same verdict on every rank
    (event,) = events[0]
    d = event.details
    assert (event.step, d["ranks"], d["reference_rank"], d["world_size"]) == (4, [1], 0, 2)
    assert d["quantities"] == ["weight_sum", "weight_norm"]  # gradients are still all-reduced
    assert d["max_abs_diff"]["weight_sum"] == pytest.approx(0.08, rel=1e-5)
    assert d["values"]["grad_norm"][0] == d["values"]["grad_norm"][1]


def test_doctor_rank_option_judges_one_rank(watched: Path) -> None:
    out = json.loads(cli("doctor", str(watched / "desync.gsdb"), "--json", "--rank", "0"))
    assert [(a["code"], a["ranks"]) for a in out] == [("ddp-desync", [1])]


def test_no_sync_accumulation_is_one_step_with_the_all_reduced_gradient(watched: Path) -> None:
    for rank in (0, 1):
        norms = expected(watched, "no_sync", rank)["norms"]
        with gs.open_store(watched / "no_sync.gsdb", rank=rank) as run:
            assert run.steps == [0, 1, 2, 3]
            assert [r.n_backward for r in run.step_rows()] == [3, 3, 3, 3]
            for name in PARAMS:
                _, values = run.series("grad_norm", name)
                assert values == pytest.approx([n[name] for n in norms], rel=1e-6)
                assert run.series("grad_norm_preclip", name)[1] == pytest.approx(values, rel=1e-6)
            assert run.events("ddp_desync") == []
    assert expected(watched, "no_sync", 0)["norms"] == expected(watched, "no_sync", 1)["norms"]
    assert doctor(watched / "no_sync.gsdb") == []  # accumulation is not grad-not-zeroed


def test_the_default_store_name_is_the_same_on_every_rank(watched: Path) -> None:
    paths = [Path(expected(watched, "default", r)["path"]) for r in (0, 1)]
    assert paths[0].parent == paths[1].parent == Path("runs")
    stem = paths[0].name.removesuffix(".rank0.gsdb")
    assert re.fullmatch(r"net-\d{8}-\d{6}", stem)
    assert paths[1].name == f"{stem}.rank1.gsdb"
    with gs.open_store(watched / "runs" / f"{stem}.gsdb") as run:
        assert run.ranks == [0, 1] and run.steps == [0, 1]


def test_fsdp_is_refused_before_any_file_is_made(watched: Path) -> None:
    for rank in (0, 1):
        info = expected(watched, "fsdp", rank)
        assert info["refused"] == (
            "gradscope.watch does not support FSDP-sharded models (each rank holds only a shard "
            "of every parameter): watch the model under DistributedDataParallel, or unsharded "
            "in a single process"
        )
        assert not [n for n in info["created"] if n.endswith(".gsdb")]


def test_a_check_failing_on_one_rank_switches_off_on_every_rank(watched: Path) -> None:
    r0, r1 = (expected(watched, "one_fails", r) for r in (0, 1))
    assert r1["warnings"] == [
        "gradscope: the 'ddp' instrument failed (RuntimeError: planted failure) and is switched "
        "off for the rest of the run; training continues unaffected."
    ]
    assert r0["warnings"] == [
        "gradscope: the 'ddp' instrument failed (GradscopeError: the cross-rank ddp-desync check "
        "is off: it failed on another rank) and is switched off for the rest of the run; "
        "training continues unaffected."
    ]
    assert r0["final"] == r1["final"]  # no rank was left waiting in a collective
    for rank in (0, 1):
        with gs.open_store(watched / "one_fails.gsdb", rank=rank) as run:
            assert run.steps == [0, 1, 2, 3, 4]
            assert list(run.meta["failed_instruments"]) == ["ddp"]


def test_a_check_only_some_ranks_make_gives_up_without_a_collective(watched: Path) -> None:
    """Only rank 0 watched: its handshake times out, training goes on in step on both ranks."""
    r0, r1 = (expected(watched, "rank0_only", r) for r in (0, 1))
    assert r0["warnings"] == [
        "gradscope: the 'ddp' instrument failed (GradscopeError: the cross-rank ddp-desync check "
        "is off: not every rank reached it within 2 s; call gs.watch on every rank (gradscope "
        "run does) to compare them) and is switched off for the rest of the run; training "
        "continues unaffected."
    ]
    assert r1["warnings"] == []
    assert r0["final"] == r1["final"]  # DDP's own all-reduces were never disturbed
    with gs.open_store(watched / "rank0_only.gsdb") as run:
        assert run.ranks == [0] and run.steps == [0, 1, 2, 3]
        assert run.events("ddp_desync") == []
