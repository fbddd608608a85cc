"""The dashboard app: composes the views and routes messages between them; no logic of its own.

Each view is a Textual mode (its own screen stack), switched with a number key. Data comes from
one :class:`~gradscope.tui.viewmodel.data.StoreData`, polled on a timer; only the view on screen
hears about new data, the others redraw when they come back.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from gradscope.store.reader import Run
from gradscope.text_safety import visible
from gradscope.tui.messages import AlertSelected, ParamSelected, StoreUpdated
from gradscope.tui.screens.alerts import AlertsScreen
from gradscope.tui.screens.base import DashboardScreen
from gradscope.tui.screens.graph import GraphScreen
from gradscope.tui.screens.help import HelpScreen, describe_bindings
from gradscope.tui.screens.optimizer import OptimizerScreen
from gradscope.tui.screens.overview import OverviewScreen
from gradscope.tui.screens.param import ParamScreen
from gradscope.tui.viewmodel.data import StoreData, Update, open_data


@dataclass(frozen=True)
class View:
    """A view of the dashboard: the key that shows it, its mode name and its screen class."""

    key: str
    name: str
    title: str
    screen: type[DashboardScreen]


#: The dashboard's views, in key order. A new view is a DashboardScreen subclass (built from
#: the StoreData) plus one entry here: its key, bindings and mode follow from the entry.
VIEWS: list[View] = [
    View("1", "overview", "Overview", OverviewScreen),
    View("2", "param", "Parameter", ParamScreen),
    View("3", "alerts", "Alerts", AlertsScreen),
    View("4", "optimizer", "Optimizer", OptimizerScreen),
    View("5", "graph", "Graph", GraphScreen),
]


VIEW_KEYS = Binding.Group("Views")


class DashboardApp(App[None]):
    """``gradscope tui``: the views of one run, following it while it grows."""

    CSS_PATH = "dashboard.tcss"
    TITLE = "gradscope"
    # Textual declares both as ``ClassVar[...] | None``, which mypy reads as instance variables.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]  # type: ignore[misc]
    #: Below 32 rows the overview's band of curves folds away and the tree takes the room.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]  # type: ignore[misc]
    BINDINGS: ClassVar[list[BindingType]] = [
        # One footer entry for all the view keys ("1 2 3 4 5 Views"), so that at 80 columns
        # the footer keeps room for ? and q; the help lists each view by name.
        *(Binding(v.key, f"show_view('{v.name}')", v.title, group=VIEW_KEYS) for v in VIEWS),
        Binding("p", "toggle_pause", "Pause"),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, data: StoreData, *, interval: float = 1.0) -> None:
        super().__init__()
        self.data = data
        self.interval = interval
        self.paused = False
        self.views = {v.name: v.screen(data) for v in VIEWS}
        for name, screen in self.views.items():
            self.add_mode(name, _returning(screen))

    def on_mount(self) -> None:
        self.switch_mode(VIEWS[0].name)
        self.set_interval(self.interval, self.poll_store, name="poll-store")
        # What is loaded by now (torch among it) lives as long as the app: keep it out of the
        # collector's full passes, which otherwise stall a refresh for ~0.1 s now and then.
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()

    def poll_store(self) -> Update | None:
        """Read what the run committed since the last poll and tell the view on screen."""
        if self.paused:
            return None
        update = self.data.poll()
        if update is not None:
            self.screen.post_message(StoreUpdated(update))
        return update

    def action_show_view(self, name: str) -> None:
        if name in self.views and self.current_mode != name:
            self.switch_mode(name)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.screen.post_message(StoreUpdated(Update()))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(describe_bindings(self.screen.active_bindings)))

    def on_param_selected(self, message: ParamSelected) -> None:
        view = self.views["param"]
        assert isinstance(view, ParamScreen)
        view.select(message.param, message.step)
        self.action_show_view("param")

    def on_alert_selected(self, message: AlertSelected) -> None:
        target = self.data.locate(message.alert.where)
        if target is None:
            where = visible(repr(message.alert.where))
            self.notify(f"{where} is not a module or parameter of this run", markup=False)
        elif target[0] == "param":
            self.post_message(ParamSelected(target[1], message.alert.step))
        else:
            view = self.views["overview"]
            assert isinstance(view, OverviewScreen)
            view.reveal(f"m:{target[1]}")
            self.action_show_view("overview")


def _returning(screen: DashboardScreen) -> Callable[[], DashboardScreen]:
    """A mode's screen factory that hands back the one screen made for it (its state is kept)."""
    return lambda: screen


def make_app(store: str | os.PathLike[str] | Run, *, interval: float = 1.0) -> DashboardApp:
    """The dashboard over ``store`` (a path or an open :class:`Run`), polling every ``interval``.

    Opening happens here, before any terminal setup, so a bad path raises ``StoreError``.
    """
    return DashboardApp(open_data(store), interval=interval)
