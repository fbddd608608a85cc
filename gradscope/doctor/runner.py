"""Running the rules over a run: ``diagnose(run) -> list[Alert]``.

Rules run in :data:`~gradscope.doctor.rules.RULES` order over one shared
:class:`~gradscope.doctor.context.Context`; each alert is kept once per ``(code, where)``.
A rule that fails (a bug of ours, or a store from a future capture) is reported once as a
:class:`~gradscope.errors.GradscopeWarning` and skipped, so one broken rule never hides the
others; ``strict=True`` re-raises instead (for tests). Errors reading the store are not the
rules' fault and propagate as :class:`~gradscope.errors.StoreError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradscope.store.reader import Run

import warnings
from collections.abc import Callable, Iterable

from gradscope.doctor.context import SEVERITIES, Context
from gradscope.doctor.rules import CODES, RULES, Rule
from gradscope.doctor.thresholds import Thresholds
from gradscope.errors import GradscopeError, GradscopeWarning
from gradscope.records import Alert


def diagnose(
    run: Run,
    thresholds: Thresholds | None = None,
    *,
    rules: Iterable[Rule] = RULES,
    strict: bool = False,
    on_error: Callable[[Rule, Exception], None] | None = None,
) -> list[Alert]:
    """Every diagnosis for ``run``, errors first, then by step.

    ``thresholds`` tunes the statistical rules (see :class:`Thresholds`); ``rules`` picks a
    subset of rule modules (default: all of them). ``on_error`` receives a failing rule instead
    of the warning (the live doctor runs on a thread, where a warning is the wrong channel).
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
            if on_error is not None:
                on_error(rule, exc)
                continue
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


def findings(run: Run, thresholds: Thresholds | None = None) -> list[Alert]:
    """:func:`diagnose`, plus the alerts stored live by checks that are not doctor rules.

    What ``gradscope doctor`` and the report show: the rules are re-run (so thresholds apply and
    the newest rules judge old stores); stored alerts of other codes (written by a check that
    is not a rule) are kept, once per code and place. A distributed run opened by its logical
    path (``run.all_ranks``) is judged rank by rank and merged (see :func:`merge_ranks`).
    """
    if getattr(run, "all_ranks", False):
        by_rank: dict[int, list[Alert]] = {}
        for rank in run.ranks:  # type: ignore[attr-defined]
            if rank == run.rank:  # type: ignore[attr-defined]
                by_rank[rank] = _findings(run, thresholds)
                continue
            with run.rank_run(rank) as other:  # type: ignore[attr-defined]
                by_rank[rank] = _findings(other, thresholds)
        return merge_ranks(by_rank)
    return _findings(run, thresholds)


def merge_ranks(by_rank: dict[int, list[Alert]]) -> list[Alert]:
    """One alert per code and place over every rank's findings.

    An alert found on every rank is shown once, as it is; one found on some ranks only says
    which (``details["ranks"]`` and the message's start). An alert that already names ranks in
    ``details["ranks"]`` (``ddp-desync``: the ranks that disagree) keeps them.
    """
    everyone = sorted(by_rank)
    merged: dict[tuple[str, str], tuple[Alert, list[int], int | None]] = {}
    for rank in everyone:
        for alert in by_rank[rank]:
            key = (alert.code, alert.where)
            if key not in merged:
                merged[key] = (alert, [rank], alert.step)
                continue
            first, ranks, step = merged[key]
            ranks.append(rank)
            if alert.step is not None and (step is None or alert.step < step):
                merged[key] = (first, ranks, alert.step)
    out = []
    for alert, ranks, step in merged.values():
        message, details = alert.message, dict(alert.details)
        if "ranks" not in details:
            details["ranks"] = ranks
            if ranks != everyone:
                label = "rank" if len(ranks) == 1 else "ranks"
                message = f"On {label} {', '.join(map(str, ranks))} only: {message}"
        out.append(Alert(alert.code, alert.severity, alert.where, step, message, details))
    return sorted(out, key=_order)


def _findings(run: Run, thresholds: Thresholds | None) -> list[Alert]:
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
