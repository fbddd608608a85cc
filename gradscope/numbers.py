"""How gradscope writes a number, for every view: one function per place a number appears.

The views need different shapes of the same value, so each shape is named here once rather
than written again where it is printed: :func:`compact` for prose and the console report
(three significant digits), :func:`fixed` for table columns (at most 8 characters, so columns
line up), :func:`eng` for plot axes and legends (engineering form, no trailing zeros),
:func:`step_label` for step axes, :func:`param_count` for model sizes and :func:`detail` for
the values of an alert's details. Each spells NaN and ±Inf out rather than failing on them.
No view library is imported: the core, the doctor and the dashboard all use this module.
"""

from __future__ import annotations

import math
from typing import Any

#: What :func:`fixed` and :func:`eng` write for a value that is absent.
MISSING = "—"
#: What :func:`compact` writes for a value that is absent (the report's en dash).
MISSING_PROSE = "–"


def compact(value: float | None, spec: str = ".3g") -> str:
    """A number in prose or the console report: three significant digits unless ``spec`` says
    otherwise (``","`` for counts), ``nan``/``inf`` as is, ``–`` when absent."""
    if value is None:
        return MISSING_PROSE
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return format(value, spec)


def _special(value: float) -> str | None:
    """``nan``, ``inf``, ``-inf`` and ``0`` as every formatter writes them; ``None`` otherwise."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "0" if value == 0 else None


def fixed(value: Any) -> str:
    """A metric value in 8 characters: ``1.23e-04``, ``0.5``, ``0`` or ``—`` when absent."""
    if value is None:
        return MISSING
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        if (word := _special(value)) is not None:
            return word
        if 1e-2 <= abs(value) < 1e4:
            return f"{value:.4g}"
        return f"{value:.2e}"
    return str(value)


def hparam(value: Any) -> str:
    """A hyperparameter value: numbers as :func:`fixed`, lists and tuples element by element."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(hparam(v) for v in value) + ")"
    return fixed(value)


def param_count(n: int | None) -> str:
    """A parameter count the way model cards give it: 381, 12.3K, 7.1M, 1.2B."""
    if n is None:
        return "?"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def eng(value: object, *, digits: int = 3) -> str:
    """A number for an axis or a legend: ``0.25``, ``150``, ``6e-5``, ``1.5e6``, ``-3e-4``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return MISSING
    if (word := _special(value)) is not None:
        return word
    a = abs(value)
    if 1e-2 <= a < 1e4:
        text = f"{value:.{max(digits, math.floor(math.log10(a)) + 1)}g}"
        return text if "e" not in text else _exp(value, digits)
    return _exp(value, digits)


def step_label(value: float) -> str:
    """A step number on an axis: ``150``, ``2500``, ``20k``, ``1.5M``."""
    n = round(value)
    for unit, size, least in (("M", 1_000_000, 1_000_000), ("k", 1_000, 10_000)):
        if abs(n) >= least:
            return f"{n / size:g}{unit}"
    return str(n)


def detail(value: float) -> str:
    """A value of an alert's details: whole numbers as integers, else four significant digits
    between 1e-3 and 1e5 and three outside."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0 or (value.is_integer() and abs(value) < 1e6):
        return str(int(value))
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3g}"


def _exp(value: float, digits: int) -> str:
    mantissa, exponent = f"{value:.{max(0, digits - 1)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"
