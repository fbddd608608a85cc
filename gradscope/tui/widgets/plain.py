"""Widgets and cells whose text is data: never parsed as markup, control characters spelled out.

Textual parses a ``str`` given to ``Static`` or to a ``DataTable`` cell or column as markup, and
passes control characters through to the terminal. Module names, optimizer classes and alert
messages come from the user's code and may hold ``[/]`` or an ESC, so the dashboard shows them
through these, which apply :mod:`gradscope.text_safety`.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from gradscope.text_safety import visible, visible_text


def plain(content: Any) -> Any:
    """``content`` made safe to show: a ``str`` becomes ``Text`` (never markup), a ``Text`` gets
    its control characters spelled out; anything else (a table, a plot) is left as it is."""
    if isinstance(content, str):
        return Text(visible(content, multiline=True))
    if isinstance(content, Text):
        return visible_text(content)
    return content


def cell(value: object, **options: Any) -> Text:
    """A ``DataTable`` cell or column label holding ``value`` as plain one-line text."""
    if isinstance(value, Text):
        return visible_text(value)
    return Text(visible(value), **options)


class PlainStatic(Static):
    """A ``Static`` that shows what it is given as text, whatever characters it holds."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(plain(content), markup=False, **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(plain(content), layout=layout)
