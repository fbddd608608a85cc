"""Driving the dashboard with Textual's Pilot: every view, selection, search, jumps, following."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static
from tui_fixtures import FIXED_STEPS, sync, train

from gradscope.numbers import fixed
from gradscope.tui import make_app
from gradscope.tui.app import DashboardApp
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.screens.overview import OverviewScreen
from gradscope.tui.screens.param import ParamScreen
from gradscope.tui.widgets.param_table import ParamTable
from gradscope.tui.widgets.plots import HistogramPlot, SeriesPlot
from gradscope.tui.widgets.run_header import RunHeader

SIZE = (120, 36)
LAST = FIXED_STEPS - 1


def header_text(app: DashboardApp) -> str:
    return str(app.screen.query_one(RunHeader).query_one("#run-title", Static).render())


def table_keys(app: DashboardApp) -> list[str]:
    return list(app.screen.query_one(ParamTable)._keys)


def cell_text(table: DataTable, row: int, column: int) -> str:
    return str(table.get_row_at(row)[column])


@sync
async def test_overview_header_and_tree(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE):
        assert isinstance(app.screen, OverviewScreen)
        title = header_text(app)
        assert title.startswith("Net · 137 params (73 trainable) · AdamW lr 1.25e-03")
        assert f"step {LAST} · finished" in title
        counts = str(app.screen.query_one("#alert-counts", Static).render())
        assert counts.split() == ["1", "error", "1", "warning", "1", "info"]
        keys = table_keys(app)
        assert keys[:4] == ["m:layers", "m:layers.0", "m:layers.0.fc", "p:layers.0.fc.weight"]
        table = app.screen.query_one(ParamTable)
        row = table.row("p:head.weight")
        numbers = [fixed(x) for x in (row.grad_norm, row.update_ratio, row.weight_norm)]
        assert [*numbers, row.health] == ["9.23e+06", "9.02e-04", "1.385", "exploding"]
        assert table.row("p:embed.weight").health == "frozen"
        assert table.row("p:unused.bias").health == "no grad"
        assert table.row("m:layers.1").health == "nan"
        assert table.row("m:layers.0.act").health == "" and table.row("m:layers.0.act").row.empty


@sync
async def test_fold_sort_and_click_header(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")  # fold "layers", the first row
        assert table_keys(app)[:2] == ["m:layers", "m:embed"]
        await pilot.press("space")
        assert table_keys(app)[1] == "m:layers.0"
        await pilot.press("s")  # model order → grad norm
        top = [k for k in table_keys(app) if k.count(".") == 0 and k.startswith("m:")]
        assert top[0] == "m:head"
        await pilot.click(ParamTable, offset=(2, 0))  # the "name" header sorts by name
        top = [k for k in table_keys(app) if k.count(".") == 0 and k.startswith("m:")]
        assert top == ["m:embed", "m:head", "m:layers", "m:unused"]


@sync
async def test_search_narrows_and_escape_restores(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        everything = table_keys(app)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"head")
        assert table_keys(app) == ["m:head", "p:head.weight", "p:head.bias"]
        await pilot.press("enter")
        assert isinstance(app.focused, ParamTable)
        await pilot.press("escape")
        assert table_keys(app) == everything


@sync
async def test_selecting_a_parameter_opens_its_detail(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(ParamTable)
        table.move_to(table_keys(app).index("p:head.weight"))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ParamScreen) and app.current_mode == "param"
        assert screen.param == "head.weight" and screen.step is None
        title = str(screen.query_one("#param-title", Static).render())
        assert title.startswith("head.weight · Linear head · (1, 4) float32 · exploding")
        assert f"step {LAST} (latest)" in title
        state = screen.query_one("#param-state", DataTable)
        assert [cell_text(state, i, 0) for i in range(state.row_count)] == [
            "eff_step.max",
            "eff_step.median",
            "exp_avg.norm",
            "exp_avg_sq.norm",
            "step.value",
        ]
        group = screen.query_one("#param-group", DataTable)
        assert cell_text(group, 0, 1) == "AdamW · group 0"
        assert cell_text(group, 1, 0) == "lr" and cell_text(group, 1, 1) == "1.25e-03"
        hist = screen.query_one(HistogramPlot)._drawn
        assert hist is not None and hist.step == 190
        plot = screen.query_one("#plot-grad_norm", SeriesPlot)
        assert plot._drawn is not None and plot._drawn[1] is None  # no step marker


@sync
async def test_stepping_back_and_forward_in_time(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, ParamScreen)
        assert screen.param == "layers.1.norm.bias"  # the worst health opens first
        await pilot.press("left")
        assert screen.step == LAST - 1
        await pilot.press("pageup")
        assert screen.step == LAST - 1 - 19
        assert screen.query_one(HistogramPlot)._drawn.step == 170
        assert "step 179 (of 199)" in str(screen.query_one("#param-title", Static).render())
        assert screen.query_one("#param-group", DataTable).row_count > 1
        await pilot.press("right")
        assert screen.step == LAST - 19
        await pilot.press("home")
        assert screen.step == 0
        await pilot.press("end")
        assert screen.step is None


@sync
async def test_alerts_list_and_jumps(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        table = app.screen.query_one("#alert-table", DataTable)
        assert [cell_text(table, i, 1) for i in range(3)] == [
            "nonfinite-grad",
            "exploding-gradients",
            "unused-parameter",
        ]
        message = str(app.screen.query_one("#alert-message", Static).render())
        assert "clip_grad_norm_" in message
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "param"
        assert (app.screen.param, app.screen.step) == ("layers.1.norm.bias", 180)
        await pilot.press("3", "down", "down")
        assert "never runs" in str(app.screen.query_one("#alert-message", Static).render()) or (
            "never ran" in str(app.screen.query_one("#alert-message", Static).render())
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "overview"
        table = app.screen.query_one(ParamTable)
        assert table.current_key == "m:unused"


@sync
async def test_optimizer_view_and_help(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        groups = app.screen.query_one("#group-table", DataTable)
        assert [str(c.label) for c in groups.columns.values()] == [
            "hyperparameter",
            "AdamW 0",
            "AdamW 1",
        ]
        rows = {cell_text(groups, i, 0): groups.get_row_at(i) for i in range(groups.row_count)}
        assert [str(c) for c in rows["weight_decay"][1:]] == ["0.01", "0"]
        assert [str(c) for c in rows["parameters"][1:]] == ["7", "6"]
        plot = app.screen.query_one("#lr-plot", SeriesPlot)
        assert plot._drawn is not None and len(plot._drawn[0]) == 2
        await pilot.press("l")
        assert plot.log_scale
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        assert keys["l"] == "Log LR" and keys["p"] == "Pause" and keys["1"] == "Overview"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("1", "question_mark")
        assert dict(app.screen.keys)["/"] == "Search"


@sync
async def test_pause_freezes_the_view(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert app.paused and "paused" in header_text(app)
        assert app.poll_store() is None
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused and "finished" in header_text(app)


@sync
async def test_clicking_a_parameter_row_opens_it(fixed_store: Path) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        row = table_keys(app).index("p:layers.0.fc.bias")
        await pilot.click(ParamTable, offset=(10, row + 1))  # highlights the row
        assert app.current_mode == "overview"
        assert app.screen.query_one(ParamTable).current_key == "p:layers.0.fc.bias"
        await pilot.click(ParamTable, offset=(10, row + 1))  # a click on it opens it
        await pilot.pause()
        assert app.current_mode == "param" and app.screen.param == "layers.0.fc.bias"


@sync
async def test_every_view_of_a_recorded_run(trained_store: Path) -> None:
    app = make_app(trained_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        assert "step 29" in header_text(app) and "Adam lr" in header_text(app)
        assert app.screen.query_one(ParamTable).row("p:unused.weight").health == "no grad"
        await pilot.press("2")
        state = app.screen.query_one("#param-state", DataTable)
        assert state.row_count > 0
        await pilot.press("3")
        alerts = app.screen.query_one("#alert-table", DataTable)
        # the live doctor saw the module that never ran, and nothing else
        assert alerts.row_count == 1
        assert "unused-parameter" in " ".join(map(str, alerts.get_row_at(0)))
        await pilot.press("4", "1")
        assert app.current_mode == "overview"


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
@sync
async def test_layout_holds(fixed_store: Path, size: tuple[int, int]) -> None:
    app = make_app(fixed_store, interval=3600)
    async with app.run_test(size=size) as pilot:
        for key in "1234":
            await pilot.press(key)
            await pilot.pause()
            header = app.screen.query_one(RunHeader)
            assert header.region.width == size[0] and header.region.height == 2
        await pilot.press("2")
        plot = app.screen.query_one("#plot-grad_norm", SeriesPlot)
        assert plot.region.width >= 40 and plot.region.height >= 6


@sync
async def test_follows_a_store_while_training_appends(tmp_path: Path) -> None:
    store = tmp_path / "live.gsdb"
    started = threading.Event()
    thread = threading.Thread(
        target=train, args=(store, 60), kwargs={"pause": 0.04, "started": started}
    )
    thread.start()
    assert started.wait(600)
    app = make_app(store, interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        seen: list[int] = []
        deadline = time.monotonic() + 600  # a guard against a hang, not a speed limit
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            last = app.data.last_step
            if last is not None and (not seen or seen[-1] != last):
                seen.append(last)
            if app.data.finished:
                break
        thread.join()
        await pilot.pause(0.3)
        assert seen[-1] == 59 and len(seen) >= 2  # it grew while the app was watching
        assert "m:encoder" in table_keys(app)
        assert "step 59 · finished" in header_text(app)
        assert app.screen.query_one(ParamTable).row("p:head.weight").health == "ok"
