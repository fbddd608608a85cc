"""The pieces of distributed support that need no second process: file names, the numbers
the cross-rank check compares, its verdicts, the rule, merging ranks, and a world of one."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
from click.testing import CliRunner
from torch import nn

import gradscope as gs
from gradscope.capture.rank_compare import compare_ranks, disagree, local_numbers, values_disagree
from gradscope.cli import main
from gradscope.doctor.context import Context
from gradscope.doctor.rules import ddp_desync
from gradscope.doctor.runner import findings, merge_ranks
from gradscope.records import Event
from gradscope.store import ranks

# -- file names -----------------------------------------------------------------------------------


def test_rank_paths_round_trip() -> None:
    assert ranks.rank_path("runs/x.gsdb", 3) == Path("runs/x.rank3.gsdb")
    assert ranks.rank_path("runs/x.rank3.gsdb", 3) == Path("runs/x.rank3.gsdb")
    assert ranks.rank_path("runs/x.rank3.gsdb", 1) == Path("runs/x.rank1.gsdb")
    assert ranks.split_rank("runs/x.v2.rank12.gsdb") == (Path("runs/x.v2.gsdb"), 12)
    assert ranks.split_rank("runs/x.gsdb") == (Path("runs/x.gsdb"), None)
    assert ranks.split_rank("runs/x.ranks.gsdb") == (Path("runs/x.ranks.gsdb"), None)


def test_rank_files_and_resolve(tmp_path: Path) -> None:
    for name in ("a[1].rank1.gsdb", "a[1].rank0.gsdb", "a[1]x.rank2.gsdb", "b.gsdb"):
        (tmp_path / name).touch()
    logical = tmp_path / "a[1].gsdb"
    assert ranks.rank_files(logical) == {0: tmp_path / "a[1].rank0.gsdb",
                                         1: tmp_path / "a[1].rank1.gsdb"}  # fmt: skip
    assert ranks.rank_files(tmp_path / "a[1].rank1.gsdb") == ranks.rank_files(logical)
    assert ranks.resolve(logical) == tmp_path / "a[1].rank0.gsdb"
    assert ranks.resolve(logical, 1) == tmp_path / "a[1].rank1.gsdb"
    assert ranks.resolve(tmp_path / "b.gsdb") == tmp_path / "b.gsdb"
    assert ranks.resolve(tmp_path / "b.gsdb", 0) == tmp_path / "b.gsdb"  # rank 0 of 1
    assert ranks.resolve(tmp_path / "none.gsdb") == tmp_path / "none.gsdb"  # reader says why
    with pytest.raises(gs.StoreError, match=r"no store for rank 2 of .*a\[1\]\.gsdb' \(ranks "):
        ranks.resolve(logical, 2)
    with pytest.raises(gs.StoreError, match=r"no store for rank 1 .*b\.gsdb' \(ranks recorded: "):
        ranks.resolve(tmp_path / "b.gsdb", 1)


def test_shared_default_names_need_no_other_rank() -> None:
    first, second = ranks.shared_default("runs", "net"), ranks.shared_default("runs", "net")
    stamp = ranks.launch_stamp()
    assert second == Path("runs") / f"net-{stamp}-{int(second.stem.rsplit('-', 1)[1])}.gsdb"
    assert first.stem.startswith(f"net-{stamp}") and first != second


# -- the numbers and the verdicts -----------------------------------------------------------------


def test_local_numbers_are_float64_sums_and_norms() -> None:
    w = torch.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    w.grad = torch.tensor([[0.0, 3.0], [4.0, 0.0]])
    b = torch.tensor([2.0], requires_grad=True)  # no gradient
    z = torch.tensor([1 + 1j, 2j], dtype=torch.complex64, requires_grad=True)
    bad = torch.tensor([math.nan, math.inf])
    got = local_numbers([w, b, z, bad]).view(-1, 3).tolist()
    assert got[0] == [2.5, pytest.approx(math.sqrt(14.25)), 5.0]
    assert got[1] == [2.0, 2.0, -1.0]
    assert got[2] == [4.0, pytest.approx(math.sqrt(6.0)), -1.0]
    assert got[3] == [1e300, 1e300, -1.0]  # non-finite values become comparable sentinels
    assert local_numbers([]).numel() == 0


def test_disagree_judges_sums_against_the_largest_they_could_be() -> None:
    sizes = torch.tensor([100.0, 100.0, 4.0])
    lo = torch.tensor([[1e-3, 10.0, 1.0], [5.0, 10.0, 1.0], [1.0, 2.0, -1.0]], dtype=torch.float64)
    hi = lo.clone()
    hi[0, 0] += 5e-5  # a near-zero sum of 100 terms of norm 10: 5e-5 / (10 * 10) < 1e-6: equal
    hi[1, 1] *= 1 + 1e-5  # a weight norm 1e-5 apart: different
    hi[2, 2] = 0.0  # a gradient on one rank, none on the other
    assert disagree(hi, lo, sizes).tolist() == [False, True, True]
    assert not values_disagree([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 4)


def test_compare_ranks_names_the_minority_and_breaks_ties_towards_rank_0() -> None:
    good, bad = [1.0, 2.0, 3.0], [1.08, 2.0, 3.0]
    verdict = compare_ranks([good, good, bad, good], numel=8)
    assert verdict is not None
    assert (verdict["ranks"], verdict["reference"]) == ([2], 0)
    assert verdict["quantities"] == ["weight_sum"]
    assert verdict["max_abs_diff"]["weight_sum"] == pytest.approx(0.08)
    assert verdict["rel_diff"] == pytest.approx(0.08 / (math.sqrt(8) * 2.0))
    assert compare_ranks([bad, good], numel=8)["ranks"] == [1]  # type: ignore[index]
    assert compare_ranks([bad, bad, good], numel=8)["ranks"] == [2]  # type: ignore[index]
    assert compare_ranks([good, good], numel=8) is None


# -- the rule and merging ranks -------------------------------------------------------------------


def _alerts(*events: Event) -> list[gs.Alert]:
    return list(ddp_desync.check(Context(SimpleNamespace(events=lambda kind=None: list(events)))))  # type: ignore[arg-type]


def test_the_rule_names_parameter_ranks_and_cause() -> None:
    details = {"ranks": [2, 3], "reference_rank": 0, "world_size": 4,
               "quantities": ["grad_norm"], "max_abs_diff": {"grad_norm": 0.5}}  # fmt: skip
    (alert,) = _alerts(Event(10, "ddp_desync", "enc.weight", details))
    assert (alert.code, alert.severity, alert.where, alert.step) == (
        "ddp-desync", "error", "enc.weight", 10
    )  # fmt: skip
    assert alert.message.startswith(
        "At step 10 `enc.weight` differs across data-parallel ranks: ranks 2, 3 disagree with "
        "rank 0 (gradient norm off by 0.5)."
    )
    assert "`model.module(x)` instead of `model(x)`" in alert.message  # gradients only
    assert alert.details["ranks"] == [2, 3] and alert.details["world_size"] == 4


def test_merge_ranks_shows_each_finding_once_and_says_where_it_was_seen() -> None:
    everywhere = [gs.Alert("x", "warning", "a", 5, "on both"), gs.Alert("x", "warning", "a", 2, "")]
    merged = merge_ranks({
        0: [everywhere[0], gs.Alert("ddp-desync", "error", "w", 4, "m", {"ranks": [1]})],
        1: [everywhere[1], gs.Alert("y", "info", "b", None, "only here"),
            gs.Alert("ddp-desync", "error", "w", 4, "m", {"ranks": [1]})],
    })  # fmt: skip
    assert [(a.code, a.where, a.step, a.message, a.details["ranks"]) for a in merged] == [
        ("ddp-desync", "w", 4, "m", [1]),  # it names the ranks that differ itself
        ("x", "a", 2, "on both", [0, 1]),
        ("y", "b", None, "On rank 1 only: only here", [1]),
    ]


def _train(store: Path, *, zero_grad: bool) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with gs.watch(model, opt, store=store, doctor=False, graph=False):
        for _ in range(6):
            if zero_grad:
                opt.zero_grad()
            x = torch.randn(16, 4)
            nn.functional.mse_loss(model(x), x.sum(1, keepdim=True)).backward()
            opt.step()


def test_doctor_over_the_logical_path_judges_every_rank(tmp_path: Path) -> None:
    _train(tmp_path / "x.rank0.gsdb", zero_grad=True)
    _train(tmp_path / "x.rank1.gsdb", zero_grad=False)  # rank 1 forgot zero_grad
    with gs.open_store(tmp_path / "x.gsdb") as run:
        (alert,) = findings(run)
    assert (alert.code, alert.details["ranks"]) == ("grad-not-zeroed", [1])
    assert alert.message.startswith("On rank 1 only: At step 1 ")
    out = CliRunner().invoke(main, ["doctor", str(tmp_path / "x.gsdb"), "--json"])
    assert [(a["code"], a["ranks"]) for a in json.loads(out.output)] == [("grad-not-zeroed", [1])]
    one = CliRunner().invoke(main, ["doctor", str(tmp_path / "x.gsdb"), "--json", "--rank", "0"])
    assert json.loads(one.output) == []
    summary = CliRunner().invoke(main, ["report", str(tmp_path / "x.gsdb"), "--json"])
    report = json.loads(summary.output)
    assert [a["code"] for a in report["alerts"]] == ["grad-not-zeroed"]
    assert [r["rank"] for r in report["ranks"]] == [0, 1]


# -- a world of one -------------------------------------------------------------------------------


@pytest.fixture
def world_of_one() -> object:
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


@pytest.mark.usefixtures("world_of_one")
def test_a_world_of_one_writes_one_plain_file_and_compares_nothing(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 1)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_path / "one.gsdb", strict=True) as scope:
        for _ in range(3):
            opt.zero_grad()
            model(torch.randn(5, 4)).pow(2).mean().backward()
            opt.step()
    assert scope.path == tmp_path / "one.gsdb"
    with gs.open_store(tmp_path / "one.gsdb") as run:
        assert (run.rank, run.world_size, run.ranks, run.all_ranks) == (0, 1, [0], False)
        assert run.params == ["0.weight", "0.bias", "1.weight", "1.bias"]
        assert run.events("ddp_desync") == []
        grads = run.series("grad_norm", "0.weight")
        assert grads == run.series("grad_norm_preclip", "0.weight") and len(grads[0]) == 3


def test_the_check_can_be_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradscope.capture.ddp import DesyncCheck
    from gradscope.options import WatchOptions

    monkeypatch.setitem(os.environ, "GRADSCOPE_DDP_CHECK", "0")
    check = DesyncCheck(WatchOptions(), models=dict, params=list, emit=lambda e: None)
    assert [s for s in range(25) if check.is_due(s)] == [0, 1, 10, 20]
    check._after_step(None, (), {})  # type: ignore[arg-type]  # no distributed: nothing to do
    assert check.instrument.enabled


def test_tui_rank_option_refuses_a_missing_rank_before_taking_the_terminal(tmp_path: Path) -> None:
    _train(tmp_path / "x.rank0.gsdb", zero_grad=True)
    result = CliRunner().invoke(main, ["tui", str(tmp_path / "x.gsdb"), "--rank", "1"])
    assert result.exit_code == 2
    assert (
        f"gradscope: error: no store for rank 1 of '{tmp_path / 'x.gsdb'}' (ranks recorded: 0)"
        in result.output
    )
