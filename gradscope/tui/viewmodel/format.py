"""Numbers as the dashboard prints them: fixed width, so columns line up and snapshots hold."""

from __future__ import annotations

import math
from typing import Any


def num(value: Any) -> str:
    """A metric value in 8 characters: ``1.23e-04``, ``0`` or ``—`` when absent."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == 0:
            return "0"
        if 1e-2 <= abs(value) < 1e4:
            return f"{value:.4g}"
        return f"{value:.2e}"
    return str(value)


def count(n: int | None) -> str:
    """A parameter count the way model cards give it: 381, 12.3K, 7.1M, 1.2B."""
    if n is None:
        return "?"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def hparam(value: Any) -> str:
    """A hyperparameter value: numbers as :func:`num`, lists and tuples element by element."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(hparam(v) for v in value) + ")"
    return num(value)
