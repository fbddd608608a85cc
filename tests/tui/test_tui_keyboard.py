"""80×24 without a mouse: every panel can be reached with keys, and ``?`` and ``q`` stay shown.

At 80×24 the parameter and optimizer views stack their panels below the fold and the key help
is taller than the screen; ↑/↓ scroll them. The footer groups the view keys so that the keys
for help and quit always fit.
"""

from __future__ import annotations

from pathlib import Path

from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey
from tui_fixtures import sync

from gradscope.tui import make_app
from gradscope.tui.app import DashboardApp
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.widgets.key_scroll import KeyScroll

SIZE = (80, 24)


def fully_shown(widget: Widget, pane: Widget) -> bool:
    """Whether ``widget`` lies wholly inside the part of ``pane`` that is on screen."""
    region, visible = widget.region, pane.region
    return region.height > 0 and visible.contains_region(region)


async def scroll_until_shown(pilot, app: DashboardApp, pane: Widget, target: Widget) -> bool:
    """Press ↓ (at most 60 times) until ``target`` is wholly on screen."""
    for _ in range(60):
        if fully_shown(target, pane):
            return True
        await pilot.press("down")
    return fully_shown(target, pane)


@sync
async def test_every_panel_is_reached_by_keyboard_at_80x24(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        body = app.screen.query_one("#param-body", KeyScroll)
        assert app.focused is body and body.max_scroll_y > 0  # below the fold at this size
        for panel in ("#plot-weight_norm", "#param-histogram", "#param-state", "#param-group"):
            assert await scroll_until_shown(pilot, app, body, app.screen.query_one(panel)), panel
        await pilot.press("left")  # ← still moves in time while the pane has focus
        assert app.screen.step is not None

        await pilot.press("4")
        body = app.screen.query_one("#optimizer-body", KeyScroll)
        assert app.focused is body
        for panel in ("#group-table", "#group-params", "#lr-plot"):
            assert await scroll_until_shown(pilot, app, body, app.screen.query_one(panel)), panel

        await pilot.press("3", "tab")  # alerts: the detail pane below the list
        detail = app.screen.query_one("#alert-detail")
        assert app.focused is detail

        await pilot.press("1", "question_mark")  # the overview has the most keys to list
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        assert app.focused is table and table.max_scroll_y > 0
        for _ in range(40):
            await pilot.press("down")
        assert table.scroll_offset.y == table.max_scroll_y  # the last lines came into view
        last = table.get_row_at(table.row_count - 1)
        assert str(last[0]) == "mouse wheel"


@sync
async def test_footer_keeps_help_and_quit_at_80x24(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        for view in "12345":
            await pilot.press(view)
            await pilot.pause()
            keys = {k.key: k for k in app.screen.query(FooterKey)}
            for key in ("question_mark", "q"):
                region = keys[key].region
                assert region.width > 0 and region.right <= SIZE[0], (view, key, region)
