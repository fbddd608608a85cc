"""Axis ticks and the numbers on them, and how non-finite values are marked.

Plots label their axes here rather than through plotext's defaults: ticks fall on 1-2-5 steps
(``0 50 100 150``, never ``0 50 100 149``), a step axis has integers only, and small or large
values read in engineering form (``6e-5``, not ``0.00006``: :func:`gradscope.numbers.eng`). A
value that is not a finite number (NaN, +Inf, -Inf, or missing) is never dropped silently:
:func:`kind_of` names it and :data:`MARKERS` gives the character every view draws for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from gradscope.numbers import eng, step_label

NAN = "nan"
POSINF = "+inf"
NEGINF = "-inf"
MISSING = "missing"

#: One character per kind of non-value, the same in every plot and legend.
MARKERS = {NAN: "✗", POSINF: "▲", NEGINF: "▼", MISSING: "?"}
#: Rich styles for the markers and for non-finite numbers in tables.
MARKER_STYLE = "bold red"


def kind_of(value: object) -> str | None:
    """``nan``, ``+inf``, ``-inf`` or ``missing`` for a value a plot cannot draw, else ``None``."""
    if value is None:
        return MISSING
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return MISSING
    if math.isnan(value):
        return NAN
    if math.isinf(value):
        return POSINF if value > 0 else NEGINF
    return None


def is_finite(value: object) -> bool:
    """True for an int or float that is neither NaN nor infinite (and not ``None``)."""
    return kind_of(value) is None


def finite(values: Iterable[object]) -> list[float]:
    """The finite numbers among ``values``, in order (what a sparkline can draw)."""
    return [float(v) for v in values if is_finite(v)]  # type: ignore[arg-type]


def count_kinds(values: Iterable[object]) -> dict[str, int]:
    """How many of each non-finite kind ``values`` hold (kinds that do not occur left out)."""
    out: dict[str, int] = {}
    for v in values:
        k = kind_of(v)
        if k is not None:
            out[k] = out.get(k, 0) + 1
    return out


def describe_kinds(counts: dict[str, int], *, missing: bool = True) -> str:
    """``✗ nan ×3  ▲ +inf ×1``: a legend entry for the non-finite points of a plot."""
    parts = [
        f"{MARKERS[k]} {k} ×{counts[k]}"
        for k in (NAN, POSINF, NEGINF, MISSING)
        if counts.get(k) and (missing or k != MISSING)
    ]
    return "  ".join(parts)


def nice_step(span: float, count: int = 5) -> float:
    """A tick spacing of 1, 2 or 5 times a power of ten giving about ``count`` ticks (the
    nearest of those to an even split)."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor, below in ((1.0, 1.5), (2.0, 3.0), (5.0, 7.0)):
        if raw / power < below:
            return factor * power
    return 10.0 * power


def nice_ticks(lo: float, hi: float, *, count: int = 5, integer: bool = False) -> list[float]:
    """Ticks on 1-2-5 steps inside ``[lo, hi]`` (whole numbers only when ``integer``)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [round(lo) if integer else lo]
    step = nice_step(hi - lo, count)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        t = first + k * step
        ticks.append(float(round(t)) if integer else _clean(t, step))
        k += 1
    return ticks


def log_ticks(lo: float, hi: float, *, count: int = 5) -> list[float]:
    """Ticks for values already in log10: whole decades, or 1-2-5 mantissas in a short range."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    if last - first >= 1:
        stride = max(1, math.ceil((last - first + 1) / count))
        return [float(t) for t in range(first, last + 1, stride)]
    ticks = [
        math.log10(m * 10.0**d)
        for d in range(math.floor(lo) - 1, math.ceil(hi) + 1)
        for m in (1, 2, 5)
        if lo - 1e-9 <= math.log10(m * 10.0**d) <= hi + 1e-9
    ]
    if len(ticks) >= 2:
        return ticks
    linear = [t for t in nice_ticks(10.0**lo, 10.0**hi, count=count) if t > 0]
    return [math.log10(t) for t in linear] or [lo]


def axis(values: Sequence[float], *, integer: bool = False) -> tuple[list[float], list[str]]:
    """Ticks and labels for a linear axis spanning ``values`` (steps when ``integer``)."""
    if not values:
        return [], []
    ticks = nice_ticks(min(values), max(values), integer=integer)
    label = step_label if integer else eng
    return ticks, [label(t) for t in ticks]


def _clean(t: float, step: float) -> float:
    """``t`` rounded to the precision of ``step`` (0.30000000000000004 → 0.3)."""
    decimals = max(0, -math.floor(math.log10(step)) + 1)
    return round(t, decimals)
