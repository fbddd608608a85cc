"""The doctor while training runs: the same rules, over the store the scope is writing.

Rules judge records, and the store already holds them, so the live doctor is the offline one
run on a schedule: on a helper thread, over a fresh read-only view of the store, at steps 4,
16, 64, 256 … (structural bugs show in the first steps) and at close. A check that took
``t`` seconds is followed by none for ``t / budget`` seconds, so the rules never cost more
than ``budget`` of the run's wall time. New alerts wait in an outbox until the training
thread collects them (``take``), which is where warnings belong: a warning raised on a helper
thread points at no line of the user's code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from gradscope.doctor.rules import Rule
from gradscope.doctor.runner import diagnose
from gradscope.doctor.thresholds import Thresholds
from gradscope.records import Alert

FIRST_CHECK = 4
GROWTH = 4


class LiveDoctor:
    """Runs :func:`~gradscope.doctor.diagnose` over a store that is still being written."""

    def __init__(
        self,
        path: Path,
        *,
        flush: Callable[[], object],
        thresholds: Thresholds | None = None,
        budget: float = 0.01,
    ) -> None:
        """``flush`` makes the writer commit what is queued (the rules read only the file)."""
        self._path = path
        self._flush = flush
        self._thresholds = thresholds
        self._budget = budget
        self._next_step = FIRST_CHECK
        self._not_before = 0.0
        self._seen: set[tuple[str, str]] = set()
        self._outbox: list[Alert] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.enabled = True
        #: A failure of ours (a rule or the store read); the doctor is off from then on and the
        #: scope reports it from the training thread.
        self.error: BaseException | None = None

    def step_ended(self, steps_done: int) -> None:
        """Start a check in the background when one is due (never waits for it)."""
        if not self.enabled or steps_done < self._next_step or self.busy:
            return
        if time.perf_counter() < self._not_before:
            return
        while self._next_step <= steps_done:
            self._next_step *= GROWTH
        self._thread = threading.Thread(target=self._check, name="gradscope-doctor", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def final_check(self) -> None:
        """Wait for a running check, then judge the whole run once more (at close)."""
        if self._thread is not None:
            self._thread.join()
        if self.enabled:
            self._check()

    def take(self) -> list[Alert]:
        """Alerts found since the last call, oldest first."""
        with self._lock:
            found, self._outbox = self._outbox, []
        return found

    def _check(self) -> None:
        from gradscope.store.reader import Run

        started = time.perf_counter()
        try:
            self._flush()
            run = Run(self._path)
            try:
                alerts = diagnose(run, self._thresholds, on_error=self._rule_failed)
            finally:
                run.close()
        except Exception as exc:
            self._failed(exc)
            return
        with self._lock:
            for alert in alerts:
                key = (alert.code, alert.where)
                if key not in self._seen:
                    self._seen.add(key)
                    self._outbox.append(alert)
        self._not_before = time.perf_counter() + (time.perf_counter() - started) / self._budget

    def _rule_failed(self, rule: Rule, exc: Exception) -> None:
        self._failed(RuntimeError(f"the {rule.CODE} rule failed: {exc!r}"))

    def _failed(self, exc: BaseException) -> None:
        self.enabled = False
        if self.error is None:
            self.error = exc
