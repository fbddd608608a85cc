"""Checks both trainers' tests make on what a fit left behind: hooks, the store, the dashboard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.render.summary import run_summary
from gradscope.store.reader import Run
from gradscope.tui import make_app
from gradscope.tui.widgets.param_table import ParamTable


def assert_no_hooks(model: nn.Module, *optimizers: Optimizer) -> None:
    """Nothing gradscope registers survives the fit (as in tests/unit/test_capture_lifecycle)."""
    for name, m in model.named_modules():
        assert not m._forward_hooks, name
        assert not m._forward_pre_hooks, name
        assert not m._backward_hooks, name
        assert not m._backward_pre_hooks, name
    for name, p in model.named_parameters():
        assert not p._backward_hooks, name
        assert not getattr(p, "_post_accumulate_grad_hooks", None), name
    for opt in optimizers:
        assert not getattr(opt, "_optimizer_step_pre_hooks", None), type(opt).__name__
        assert not getattr(opt, "_optimizer_step_post_hooks", None), type(opt).__name__
    assert not hasattr(torch.autograd.backward, "__gradscope_wrapped__")


def assert_report_reads(run: Run, params: list[str], steps: int) -> None:
    """``gradscope report --json`` is this summary."""
    summary = run_summary(run)
    assert summary["steps"] == steps
    assert summary["finished"] is True
    assert [p["name"] for p in summary["params"]] == params
    assert summary["loss"]["last"] is not None


def dashboard_lines(store: Path, key: str) -> list[str]:
    """The overview's visible lines with the row ``key`` (``p:<param>``) revealed."""

    async def render() -> list[str]:
        app = make_app(store, interval=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.screen.query_one(ParamTable)
            assert table.focus_key(key), key
            await pilot.pause()
            return [table.render_line(y).text for y in range(table.size.height)]

    return asyncio.run(render())
