"""An alert's ``details`` as lines a person reads, for the report and the dashboard.

Rules put machine-readable facts in ``details`` (lists of parameter names, ratios, steps,
nested dicts); ``gradscope doctor --json`` gives them as they are. A person wants
``params      0.weight, 0.bias … and 12 more`` rather than ``params: ["0.weight", …]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gradscope.numbers import detail
from gradscope.text_safety import visible

#: A list shows this many items, then how many more there are.
LIST_ITEMS = 6


def detail_lines(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` for each entry: labels with spaces, values in plain words.

    Both are shown as they are, one line each, so control characters in them (a module name
    may hold any) are spelled out.
    """
    return [
        (visible(str(key).replace("_", " ")), visible(detail_text(value)))
        for key, value in details.items()
    ]


def detail_text(value: Any, *, items: int = LIST_ITEMS) -> str:
    """One value as text: numbers short, lists comma-separated and cut, dicts as ``k=v``."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return detail(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        shown = [f"{k}={detail_text(v, items=3)}" for k, v in list(value.items())[:items]]
        more = len(value) - len(shown)
        return ", ".join(shown) + (f" … and {more} more" if more > 0 else "")
    if isinstance(value, (list, tuple, set, frozenset)):
        seq = list(value)
        shown = [detail_text(v, items=3) for v in seq[:items]]
        more = len(seq) - len(shown)
        if not shown:
            return "none"
        return ", ".join(shown) + (f" … and {more} more" if more > 0 else "")
    return str(value)
