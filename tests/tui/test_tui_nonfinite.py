"""A run whose values went NaN or Inf: every view opens, draws them as markers, never dies.

The store (``nonfinite_store``) holds NaN, +Inf, -Inf and missing values in every series; the
tests walk every view at 80×24 and 120×40 as a user would and check both that the app is
still alive and that each kind of value is on screen as a marker, not a gap.
"""

from __future__ import annotations

import html
import math
import re
import warnings
from pathlib import Path

import pytest
import torch
from textual.widgets import DataTable, Static
from textual.widgets.tree import TreeNode
from torch import nn
from tui_fixtures import sync

import gradscope as gs
from gradscope.tui import make_app
from gradscope.tui.app import DashboardApp
from gradscope.tui.messages import ParamSelected
from gradscope.tui.screens.alerts import AlertsScreen
from gradscope.tui.screens.graph import GraphScreen
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.screens.optimizer import OptimizerScreen
from gradscope.tui.screens.param import ParamScreen
from gradscope.tui.viewmodel.ticks import MARKERS
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.param_table import ParamTable
from gradscope.tui.widgets.plots import HistogramPlot, SeriesPlot

SIZES = [(80, 24), (120, 40)]
ALL_KINDS = {"nan", "+inf", "-inf", "missing"}


def screen_text(app: DashboardApp) -> str:
    """What the terminal shows, as text (from the SVG screenshot, tags removed)."""
    svg = app.export_screenshot()
    lines = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return html.unescape("".join(lines)).replace("\xa0", " ")


def cells(table: DataTable) -> list[str]:
    return [str(c) for r in range(table.row_count) for c in table.get_row_at(r)]


def _tree_nodes(node: TreeNode[str]) -> list[TreeNode[str]]:
    out = [node]
    for child in node.children:
        out += _tree_nodes(child)
    return out


def alive(app: DashboardApp) -> None:
    assert app.is_running and app._exception is None


@pytest.mark.parametrize("size", SIZES)
@sync
async def test_every_view_draws_nonfinite_values(nonfinite_store: Path, size) -> None:
    app = make_app(nonfinite_store, interval=3600)
    async with app.run_test(size=size) as pilot:
        # overview: numbers say nan/inf/-inf, health says nan, the trend carries a marker
        table = app.screen.query_one(ParamTable)
        row = table.row("p:layers.0.fc.weight")
        assert row.grad_norm == math.inf and row.health == "nan"
        assert math.isnan(table.row("p:layers.0.norm.bias").grad_norm or 0.0)
        assert table.row("p:layers.0.fc.bias").grad_norm == -math.inf
        assert table.row("m:layers.0.act").health == "nan"  # its activations went NaN
        text = screen_text(app)
        assert "loss nan" in text and "lr inf" in text
        for word in (" nan ", " inf ", " -inf ", MARKERS["nan"]):
            assert word in text
        loss = app.screen.query_one("#loss-plot", SeriesPlot)
        assert set(loss.marked) == ALL_KINDS
        assert set(app.screen.query_one("#band-lr-plot", SeriesPlot).marked) >= {"+inf", "-inf"}
        if size[1] >= 32:
            assert MARKERS["+inf"] in text and MARKERS["-inf"] in text

        # parameter view: the worst parameter, then a NaN one
        await pilot.press("2")
        assert isinstance(app.screen, ParamScreen)
        assert app.screen.param == "layers.0.fc.weight"
        title = str(app.screen.query_one("#param-title", Static).render())
        assert "‖g‖ inf (pre-clip -inf)" in title
        plot = app.screen.query_one("#plot-grad_norm", SeriesPlot)
        assert set(plot.marked) >= {"nan", "+inf", "-inf", "missing"}
        hist = app.screen.query_one(HistogramPlot)
        assert all(k in hist.title_text for k in ("7 ✗ nan", "3 ▲ +inf", "2 ▼ -inf"))
        state = cells(app.screen.query_one("#param-state", DataTable))
        assert {"nan", "inf", "-inf", "—"} <= set(state)
        app.post_message(ParamSelected("layers.0.norm.bias"))
        await pilot.pause()
        assert app.screen.param == "layers.0.norm.bias"
        assert "‖g‖ nan" in str(app.screen.query_one("#param-title", Static).render())
        alive(app)

        # alerts: details read as words, not JSON
        await pilot.press("3", "down")  # the second error: nonfinite-loss
        assert isinstance(app.screen, AlertsScreen)
        message = str(app.screen.query_one("#alert-message", Static).render())
        assert "first step  150" in message and "kinds       nan, inf" in message
        assert "value       —" in message and "[" not in message

        # optimizer: the current lr of each group is non-finite, the schedule plot marks it
        await pilot.press("4")
        assert isinstance(app.screen, OptimizerScreen)
        groups = cells(app.screen.query_one("#group-table", DataTable))
        assert "inf" in groups and "-inf" in groups
        assert set(app.screen.query_one("#lr-plot", SeriesPlot).marked) >= {"nan", "+inf"}

        # graph: non-finite gradient norms in the tree
        await pilot.press("5")
        assert isinstance(app.screen, GraphScreen)
        await pilot.pause()
        labels = [str(node.label) for node in _tree_nodes(app.screen.query_one(GraphTree).root)]
        assert any("‖g‖ nan" in label for label in labels)
        assert any("‖g‖ inf" in label for label in labels)

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "1")
        alive(app)


def _train_to_nan(store: Path) -> None:
    """Six SGD steps whose loss is ``-log(0)`` from the second on: Inf, then NaN everywhere."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(16, 4)
    with gs.watch(model, opt, store=store, detail_every=1):
        for step in range(6):
            opt.zero_grad()
            loss = -torch.log(model(x).abs() * (0 if step else 1)).mean()
            loss.backward()
            opt.step()


@sync
async def test_a_store_that_went_nan_in_a_real_run(tmp_path: Path) -> None:
    """A real ``log(0)`` run, read back: every view opens and the parameters read ``nan``."""
    with warnings.catch_warnings():  # the doctor's nonfinite-loss warning is expected here
        warnings.simplefilter("ignore")
        _train_to_nan(tmp_path / "nan.gsdb")
    app = make_app(tmp_path / "nan.gsdb", interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("2", "3", "4", "5", "question_mark", "escape", "1"):
            await pilot.press(key)
            alive(app)
        assert "loss nan" in screen_text(app)
        assert app.screen.query_one(ParamTable).row("p:0.weight").health == "nan"
