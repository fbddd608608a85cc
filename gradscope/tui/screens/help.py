"""``?``: every key that works where the user is, read from the live bindings (never a copy)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

#: Keys Textual gives every table and list; listed so the help is complete.
NAVIGATION = (
    ("↑ ↓", "move the cursor, or scroll the pane (this list too)"),
    ("Enter / click", "fold a module, open a parameter, go to an alert"),
    ("Tab", "next pane"),
    ("mouse wheel", "scroll"),
)


class HelpScreen(ModalScreen[None]):
    """A list of ``(keys, what they do)``; any of Escape, ``?`` or ``q`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("Keys · ↑ ↓ scroll · Escape closes", id="help-title")
            yield DataTable(id="help-table", cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "what it does")
        for key, description in [*self.keys, *NAVIGATION]:
            table.add_row(key, description)
        table.focus()  # ↑/↓ scroll the list where it is taller than the screen


def describe_bindings(screen_bindings: dict) -> list[tuple[str, str]]:
    """``(keys, description)`` for the dashboard's own active bindings, each action once.

    Keys that Textual's widgets bring (cursor movement, scrolling) are summed up in
    :data:`NAVIGATION` instead of listed one by one.
    """
    seen: dict[str, list[str]] = {}
    for active in screen_bindings.values():
        binding = active.binding
        if not binding.description or binding.action not in _own_actions(active.node):
            continue
        label = binding.key_display or active.node.app.get_key_display(binding)
        labels = seen.setdefault(binding.description, [])
        if label not in labels:
            labels.append(label)
    return [(" ".join(labels), description) for description, labels in seen.items()]


def _own_actions(node: object) -> set[str]:
    """Actions bound by gradscope's classes in ``node``'s ancestry (not Textual's)."""
    return {
        b.action if isinstance(b, Binding) else b[1]
        for cls in type(node).__mro__
        if cls.__module__.startswith("gradscope.")
        for b in cls.__dict__.get("BINDINGS", ())
    }
