"""Health at a glance: one word and one colour per parameter, from its latest statistics.

The colours point the eye; the doctor's alerts are the diagnosis. The bounds are deliberately
wide so that a healthy run shows no colour at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from gradscope.doctor.thresholds import Thresholds
from gradscope.records import ModuleStats

#: The doctor's default limits: a parameter is drawn as exploding by the same bound as
#: ``exploding-gradients`` (:meth:`Thresholds.is_exploding`).
THRESHOLDS = Thresholds()
#: A gradient norm below this (but present) is drawn as vanishing.
VANISHING_GRAD_NORM = 1e-7

OK = "ok"
NONFINITE = "nan"
EXPLODING = "exploding"
VANISHING = "vanishing"
NO_GRAD = "no grad"
FROZEN = "frozen"

#: Worst first: a module shows the worst health among its parameters.
ORDER = (NONFINITE, EXPLODING, VANISHING, NO_GRAD, FROZEN, OK)

#: Rich styles, readable on dark and light terminals.
STYLES = {
    NONFINITE: "bold white on red",
    EXPLODING: "bold red",
    VANISHING: "magenta",
    NO_GRAD: "yellow",
    FROZEN: "dim",
    OK: "green",
}


def param_health(row: Mapping[str, Any] | None, *, requires_grad: bool) -> str:
    """The health of one parameter from its last ``param_stats`` row (``None``: never logged).

    A NaN or infinite gradient, weight or update is ``nan`` health whatever the counts say:
    comparisons with NaN are all false, so without this check a NaN norm would read as ok.
    """
    if not requires_grad:
        return FROZEN
    if row is None:
        return NO_GRAD
    if (row.get("grad_nan") or 0) > 0 or (row.get("grad_inf") or 0) > 0:
        return NONFINITE
    for metric in ("grad_norm", "weight_norm", "update_ratio"):
        value = row.get(metric)
        if isinstance(value, float) and not math.isfinite(value):
            return NONFINITE
    norm = row.get("grad_norm")
    if norm is None:
        return NO_GRAD
    if THRESHOLDS.is_exploding(norm):
        return EXPLODING
    if norm < VANISHING_GRAD_NORM:
        return VANISHING
    return OK


def activation_health(row: ModuleStats | None) -> str:
    """``nan`` for a module whose recorded outputs held NaN or Inf, else no word at all."""
    if row is None:
        return ""
    count = row.values.get("act_nonfinite")
    if isinstance(count, (int, float)) and (count != count or count > 0):
        return NONFINITE
    for metric in ("act_mean", "act_std", "act_absmax"):
        value = row.values.get(metric)
        if isinstance(value, float) and not math.isfinite(value):
            return NONFINITE
    return ""


def worst(healths: Iterable[str]) -> str:
    """The worst of several healths; frozen parameters count only when all are frozen."""
    given = list(healths)
    live = [h for h in given if h != FROZEN]
    if not live:
        return FROZEN if given else OK
    return ORDER[min(ORDER.index(h) for h in live)]
