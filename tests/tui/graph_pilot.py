"""Helpers for the graph view's Pilot tests: reading the widgets, exporting, copying a store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from textual.widgets import Static

from gradscope.tui.app import DashboardApp
from gradscope.tui.screens.graph import GraphScreen
from gradscope.tui.widgets.graph_tree import GraphTree

SIZE = (120, 36)
#: The rows at first: calls two levels deep unfolded, the head's nodes, the loss, the breaks.
FIRST_ROWS = [
    "c:0", "c:2", "c:3", "c:4", "c:5", "c:6", "c:7", "c:8", "c:9", "c:10",
    "n46", "n6", "n45", "n8", "n5", "n2", "n1", "n0", "breaks", "b:0", "b:1", "b:2",
]  # fmt: skip


def text_of(app: DashboardApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def tree(app: DashboardApp) -> GraphTree:
    return app.screen.query_one(GraphTree)


def notifications(app: DashboardApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def export(app: DashboardApp, pilot: Any) -> Any:
    await pilot.press("x")
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, GraphScreen)
    return screen.exported


def copy_store(store: Path, folder: Path) -> Path:
    target = folder / "run.gsdb"
    shutil.copy(store, target)
    return target
