"""The overview: every module and parameter with its latest gradient, update and weight norms."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from gradscope.tui.data import Update
from gradscope.tui.screens.base import DashboardScreen
from gradscope.tui.widgets.param_table import ParamTable


class OverviewScreen(DashboardScreen):
    """The module/parameter tree; ``/`` narrows it to the names that match."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pending: str | None = None

    def compose_body(self) -> ComposeResult:
        yield ParamTable(id="param-table")
        yield Input(placeholder="search names (Enter: go to the tree, Esc: clear)", id="search")

    def on_mount(self) -> None:
        self.query_one(ParamTable).focus()

    def redraw(self, update: Update) -> None:
        self.query_one(ParamTable).show(self.data, structure=update.structure)
        if self._pending is not None:
            key, self._pending = self._pending, None
            self._go_to(key)

    def reveal(self, key: str) -> None:
        """Show the row ``m:<path>`` or ``p:<name>`` (now, or when the screen next shows)."""
        if self.is_current:
            self._go_to(key)
        else:
            self._pending = key

    def _go_to(self, key: str) -> None:
        self.action_clear_search()
        self.query_one(ParamTable).focus_key(key)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("shown")
        search.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.remove_class("shown")
        self.query_one(ParamTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        table = self.query_one(ParamTable)
        table.search = event.value
        table.show(self.data)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        table = self.query_one(ParamTable)
        table.focus()
        table.move_to(0)
