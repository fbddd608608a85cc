"""What every view shares: the run header on top, the key bar below, redraws on new data."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from gradscope.tui.messages import StoreUpdated
from gradscope.tui.viewmodel.data import StoreData, Update
from gradscope.tui.widgets.run_header import RunHeader


class DashboardScreen(Screen[None]):
    """A view of a followed run. Subclasses compose their body and redraw it in ``redraw``.

    Only the active screen gets :class:`StoreUpdated`; a screen coming back into view redraws
    from the data it shares with the others, so hidden screens cost nothing while following.
    """

    def __init__(self, data: StoreData) -> None:
        super().__init__()
        self.data = data

    def compose(self) -> ComposeResult:
        yield RunHeader()
        yield from self.compose_body()
        # The palette stays on ctrl+p; its footer slot is worth more to the views' own keys.
        yield Footer(show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def paused(self) -> bool:
        return bool(getattr(self.app, "paused", False))

    def on_screen_resume(self) -> None:
        self.redraw_all(Update(steps=True, alerts=True))

    def on_store_updated(self, message: StoreUpdated) -> None:
        self.redraw_all(message.update)

    def redraw_all(self, update: Update) -> None:
        self.query_one(RunHeader).show(self.data, paused=self.paused)
        self.redraw(update)

    def redraw(self, update: Update) -> None:
        """Redraw the body after ``update`` (on resume: as if everything changed)."""
