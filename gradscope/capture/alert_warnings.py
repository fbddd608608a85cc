"""Live diagnoses as Python warnings, pointing at the user's line, a bounded number per run.

Alerts are found at a step's end, which runs inside the optimizer's ``step()`` (or inside the
backward pass when no optimizer is watched): they are queued and emitted where that is safe
(see :mod:`gradscope.capture.guard`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from gradscope.capture.guard import defer_warning
from gradscope.errors import DiagnosisWarning
from gradscope.records import Alert
from gradscope.text_safety import visible

MAX_WARNINGS = 10  # per run; the rest are in scope.alerts and the store


class AlertWarnings:
    """Warns about each new alert until ``MAX_WARNINGS``, then once that there are more."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = path
        self._warned = 0

    def warn(self, alerts: Iterable[Alert]) -> None:
        for alert in alerts:
            self._warned += 1
            if self._warned <= MAX_WARNINGS:
                # names come from the user's model: a terminal must not read them as controls
                text = f"gradscope: {alert.severity}: {alert.code} at {visible(alert.where)}"
                if alert.step is not None:
                    text += f" (step {alert.step})"
                message = visible(alert.message, multiline=True)
                defer_warning(f"{text}: {message}", DiagnosisWarning)
            elif self._warned == MAX_WARNINGS + 1:
                defer_warning(
                    "gradscope: more diagnoses than shown; see scope.alerts or "
                    f"`gradscope doctor {self._path}`",
                    DiagnosisWarning,
                )
