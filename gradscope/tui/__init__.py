"""The terminal dashboard (``gradscope tui``), built on Textual.

Only this package imports Textual, and only when the dashboard is built: importing
``gradscope.tui`` (as the CLI does to register its command) stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradscope.store.reader import Run
    from gradscope.tui.app import DashboardApp

__all__ = ["make_app"]


def make_app(store: str | os.PathLike[str] | Run, *, interval: float = 1.0) -> DashboardApp:
    """The dashboard over ``store`` (a path or an open ``Run``); see :mod:`gradscope.tui.app`."""
    from gradscope.tui.app import make_app as build

    return build(store, interval=interval)
