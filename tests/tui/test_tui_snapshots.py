"""SVG snapshots of every view (pytest-textual-snapshot), from the fixed store.

Nothing rendered depends on the clock or the machine: the store's numbers are exact, the
header shows steps rather than times, the poll timer is set far beyond the test, and the
search box's cursor does not blink. Update with ``pytest tests/tui --snapshot-update`` and
look at the report before committing the new SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from gradscope.tui import make_app

SIZE = (120, 36)


def app(store: Path) -> Any:
    return make_app(store, interval=3600)


def test_overview(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE)


def test_overview_80x24(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=(80, 24))


def test_overview_sorted_and_searched(snap_compare: Any, fixed_store: Path) -> None:
    def no_blink(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one(Input).cursor_blink = False

    assert snap_compare(
        app(fixed_store), terminal_size=SIZE, press=["s", "slash", *"norm"], run_before=no_blink
    )


def test_parameter_view(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["2"])


def test_parameter_view_earlier_step(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["2", "pageup", "left"])


def test_alerts_view(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["3"])


def test_optimizer_view(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["4"])


def test_keys_help(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["question_mark"])


def test_graph_view(snap_compare: Any, graph_store: Path) -> None:
    assert snap_compare(app(graph_store), terminal_size=SIZE, press=["5"])


def test_graph_view_node_detail(snap_compare: Any, graph_store: Path) -> None:
    # layers.0.fc unfolded, the cursor on its AddmmBackward0: shapes, saved tensors, attributes
    press = ["5", "down", "down", "enter", *["down"] * 6]
    assert snap_compare(app(graph_store), terminal_size=SIZE, press=press)


def test_graph_view_collapsed_and_searched(snap_compare: Any, graph_store: Path) -> None:
    async def no_blink(pilot: Pilot[Any]) -> None:
        await pilot.press("5")
        pilot.app.screen.query_one(Input).cursor_blink = False

    press = ["minus", "slash", *"layers.1"]
    assert snap_compare(app(graph_store), terminal_size=SIZE, press=press, run_before=no_blink)


def test_graph_view_80x24(snap_compare: Any, graph_store: Path) -> None:
    assert snap_compare(app(graph_store), terminal_size=(80, 24), press=["5", "down"])


def test_graph_view_without_snapshot(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["5"])
