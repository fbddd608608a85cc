"""A view whose list can be narrowed by a search line: ``/`` opens it, Esc clears and closes it.

The overview's tree and the graph view's tree search the same way; what a search matches is
each view's own business (``on_input_changed``), the opening and closing is shared here.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Input

from gradscope.tui.screens.base import DashboardScreen


class SearchableScreen(DashboardScreen):
    """A :class:`DashboardScreen` with an ``Input`` of id ``search`` below the list it narrows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]

    #: The widget class of the list the search narrows (it takes the focus back on close).
    SEARCHED: ClassVar[type[Widget]]

    def searched(self) -> Widget:
        """The list the search narrows: it takes the focus back when the search line closes."""
        return self.query_one(self.SEARCHED)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("shown")
        search.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.remove_class("shown")
        self.searched().focus()
