"""Events the dashboard's screens post; the app routes them (screens never call each other)."""

from __future__ import annotations

from textual.message import Message

from gradscope.records import Alert
from gradscope.tui.viewmodel.data import Update


class ParamSelected(Message):
    """A parameter was chosen: show its detail (at ``step``, or following the latest)."""

    def __init__(self, param: str, step: int | None = None) -> None:
        super().__init__()
        self.param = param
        self.step = step


class AlertSelected(Message):
    """An alert was chosen: jump to the module or parameter it is about."""

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert


class StoreUpdated(Message):
    """A poll found new steps, alerts or structure; the active screen redraws what changed."""

    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update
