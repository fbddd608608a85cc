"""Reads of one thing come back as its record, holding what the optimizer and model held."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import gradscope as gs
from gradscope.records import PARAM_METRICS, GroupStats, ParamStats

STEPS = 7


def _train(path: Path) -> tuple[list[list[float]], list[float]]:
    """Two groups (the bias at its own lr, halved by a schedule every 2 steps); detail every
    3rd step. Returns each step's group lrs and ``fc.weight``'s gradient norm."""
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(
        [{"params": [model.weight]}, {"params": [model.bias], "lr": 0.05}], lr=0.1, momentum=0.9
    )
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    lrs, norms = [], []
    with gs.watch({"fc.weight": model.weight, "fc.bias": model.bias}, opt, store=path,
                  detail_every=3):  # fmt: skip
        for _ in range(STEPS):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            lrs.append([g["lr"] for g in opt.param_groups])
            assert model.weight.grad is not None
            norms.append(float(model.weight.grad.norm()))
            opt.step()
            sched.step()
    return lrs, norms


def test_group_reads_are_group_stats_of_their_step(tmp_store: Path) -> None:
    lrs, _ = _train(tmp_store)
    with gs.open_store(tmp_store) as run:
        at_3 = run.groups(step=3)
        assert all(isinstance(g, GroupStats) for g in at_3)
        assert [(g.step, g.optimizer, g.group) for g in at_3] == [(3, 0, 0), (3, 0, 1)]
        assert [g.lr for g in at_3] == lrs[3]
        assert [g.hparams["lr"] for g in at_3] == lrs[3]
        assert at_3[0].hparams["momentum"] == 0.9
        assert [g.step for g in run.groups()] == [STEPS - 1, STEPS - 1]
        # as of a step past the end: each group's last logged step
        assert run.groups_at(0, 100) == run.groups(0)
        assert run.groups_at(0, 4) == run.groups(0, 4)
        assert run.groups(optimizer=1) == run.groups_at(1) == []


def test_param_row_at_is_param_stats_with_the_detail_step(tmp_store: Path) -> None:
    _, norms = _train(tmp_store)
    with gs.open_store(tmp_store) as run:
        row = run.param_row_at("fc.weight", 5)
        assert isinstance(row, ParamStats)
        assert (row.step, row.param, row.detail_step) == (5, "fc.weight", 3)
        assert row.values["grad_norm"] == run.series("grad_norm", "fc.weight")[1][5]
        assert abs(row.values["grad_norm"] - norms[5]) < 1e-6 * norms[5]
        # weights come from detail step 3, the last one at or before step 5
        weights = dict(zip(*run.series("weight_norm", "fc.weight"), strict=True))
        assert row.values["weight_norm"] == weights[3]
        assert set(row.values) == set(PARAM_METRICS)
        latest = run.param_row_at("fc.weight")
        assert latest is not None and (latest.step, latest.detail_step) == (STEPS - 1, 6)
        assert run.param_row_at("fc.weight", -1) is None


def test_step_rows_read_a_window_of_steps(tmp_store: Path) -> None:
    lrs, _ = _train(tmp_store)
    with gs.open_store(tmp_store) as run:
        every = run.step_rows()
        assert [r.step for r in every] == list(range(STEPS))
        assert run.step_rows(2, before=5) == every[2:5]
        assert run.step_rows(before=2) == every[:2]
        assert run.step_rows(5, before=5) == []
        assert [list(r.lrs) for r in every] == lrs
