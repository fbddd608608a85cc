"""Running the rules over a run: ``diagnose(run) -> list[Alert]``.

Rules run in :data:`~gradscope.doctor.rules.RULES` order over one shared
:class:`~gradscope.doctor.context.Context`; each alert is kept once per ``(code, where)``.
A rule that fails (a bug of ours, or a store from a future capture) is reported once as a
:class:`~gradscope.errors.GradscopeWarning` and skipped, so one broken rule never hides the
others; ``strict=True`` re-raises instead (for tests). Errors reading the store are not the
rules' fault and propagate as :class:`~gradscope.errors.StoreError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from gradscope.doctor.context import SEVERITIES, Context, RunLike
from gradscope.doctor.rules import CODES, RULES, Rule
from gradscope.doctor.thresholds import Thresholds
from gradscope.errors import GradscopeError, GradscopeWarning
from gradscope.records import Alert


def diagnose(
    run: RunLike,
    thresholds: Thresholds | None = None,
    *,
    rules: Iterable[Rule] = RULES,
    strict: bool = False,
) -> list[Alert]:
    """Every diagnosis for ``run``, errors first, then by step.

    ``thresholds`` tunes the statistical rules (see :class:`Thresholds`); ``rules`` picks a
    subset of rule modules (default: all of them).
    """
    ctx = Context(run, thresholds)
    seen: set[tuple[str, str]] = set()
    for rule in rules:
        try:
            found = list(rule.check(ctx))
        except GradscopeError:
            raise
        except Exception as exc:
            if strict:
                raise
            warnings.warn(
                f"gradscope doctor: the {rule.CODE} rule failed ({exc!r}) and was skipped; "
                "please report it with the store",
                GradscopeWarning,
                stacklevel=2,
            )
            continue
        for alert in found:
            if (alert.code, alert.where) not in seen:
                seen.add((alert.code, alert.where))
                ctx.found.append(alert)
    return sorted(ctx.found, key=_order)


def findings(run: RunLike, thresholds: Thresholds | None = None) -> list[Alert]:
    """:func:`diagnose`, plus the alerts stored live by checks that are not doctor rules.

    What ``gradscope doctor`` and the report show: the rules are re-run (so thresholds apply and
    the newest rules judge old stores); stored alerts of other codes (``ddp-desync``, written by
    another check) are kept, once per code and place.
    """
    alerts = diagnose(run, thresholds)
    seen = {(a.code, a.where) for a in alerts}
    for stored in getattr(run, "alerts", []):
        if stored.code not in CODES and (stored.code, stored.where) not in seen:
            seen.add((stored.code, stored.where))
            alerts.append(stored)
    return sorted(alerts, key=_order)


def _order(alert: Alert) -> tuple[int, float]:
    rank = SEVERITIES.index(alert.severity) if alert.severity in SEVERITIES else len(SEVERITIES)
    return rank, alert.step if alert.step is not None else float("inf")
