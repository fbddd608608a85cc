"""SVG snapshots of every view (pytest-textual-snapshot), from the fixed stores.

Every view, at 80×24 and 120×40, on the clean store and on the store whose series hold NaN,
±Inf and missing values; then a few interactions at 120×36. Nothing rendered depends on the
clock or the machine: the stores' numbers are exact, the graph comes from a golden file, the
header shows steps rather than times, the poll timer is set far beyond the test, and the
search box's cursor does not blink. Update with ``pytest tests/tui --snapshot-update`` and
look at the report before committing the new SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from gradscope.tui import make_app

SIZE = (120, 36)
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
#: Each view and the keys that open it (the parameter view opens on the worst parameter).
VIEWS = {
    "overview": [],
    "parameter": ["2"],
    "alerts": ["3"],
    "optimizer": ["4"],
    "graph": ["5"],
    "help": ["question_mark"],
}


def app(store: Path) -> Any:
    return make_app(store, interval=3600)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_clean(snap_compare: Any, graph_store: Path, view: str, size: str) -> None:
    assert snap_compare(app(graph_store), terminal_size=SIZES[size], press=VIEWS[view])


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_nonfinite(
    snap_compare: Any, nonfinite_store: Path, view: str, size: str
) -> None:
    assert snap_compare(app(nonfinite_store), terminal_size=SIZES[size], press=VIEWS[view])


def test_overview_sorted_and_searched(snap_compare: Any, fixed_store: Path) -> None:
    def no_blink(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one(Input).cursor_blink = False

    assert snap_compare(
        app(fixed_store), terminal_size=SIZE, press=["s", "slash", *"norm"], run_before=no_blink
    )


def test_parameter_view_earlier_step(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["2", "pageup", "left"])


def test_parameter_view_scrolled_by_keyboard_80x24(snap_compare: Any, fixed_store: Path) -> None:
    press = ["2", *["down"] * 30]  # the histogram, optimizer state and group below the fold
    assert snap_compare(app(fixed_store), terminal_size=(80, 24), press=press)


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


def test_graph_view_without_snapshot(snap_compare: Any, fixed_store: Path) -> None:
    assert snap_compare(app(fixed_store), terminal_size=SIZE, press=["5"])
