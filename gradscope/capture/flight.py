"""Which steps are logged and which are detail steps: the cadence and the flight recorder.

The cadence is fixed by the options (``every``, ``detail_every``). The flight recorder adds the
step right after a cheap check fired: a non-finite loss or gradient, a global gradient norm far
above its running median, or a loss far above its running median. A user who debugs a spike
then has the full picture (weights, updates, optimizer state, activations, histograms) of the
step after it without paying for detail on every step.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

from gradscope.options import WatchOptions

#: A global gradient norm this many times its running median is a spike.
GRAD_SPIKE_FACTOR = 10.0
#: A loss this many robust standard deviations (1.4826 × MAD) above its running median is a
#: spike, if it is also this fraction of the median's magnitude above it (a flat loss has no
#: spread, and its last digits are not spikes).
LOSS_SPIKE_SIGMAS = 6.0
LOSS_SPIKE_MIN_RISE = 0.1
#: Values the running medians look back on, and how many they need before judging.
WINDOW = 32
MIN_HISTORY = 8

#: ``detail_reason`` of a detail step the cadence asked for.
CADENCE = "cadence"


class FlightRecorder:
    """Decides, step by step, what is recorded; remembers why a step was made a detail step."""

    def __init__(self, options: WatchOptions) -> None:
        self._every = options.every
        self._period = options.detail_period
        self._forced: dict[int, str] = {}
        self._grad_norms: deque[float] = deque(maxlen=WINDOW)
        self._losses: deque[float] = deque(maxlen=WINDOW)
        self._nonfinite = False

    def logged(self, step: int) -> bool:
        return step % self._every == 0 or step in self._forced

    def detail(self, step: int) -> bool:
        return step % self._period == 0 or step in self._forced

    def reason(self, step: int) -> str | None:
        """Why ``step`` is a detail step (``None``: it is not one)."""
        if step in self._forced:
            return self._forced[step]
        return CADENCE if step % self._period == 0 else None

    def force(self, step: int, why: str) -> None:
        """Make ``step`` a logged detail step (the first reason given is kept)."""
        self._forced.setdefault(step, why)

    def forget_before(self, step: int) -> None:
        for old in [s for s in self._forced if s < step]:
            del self._forced[old]

    def judge(self, *, loss: float | None, grad_norm: float | None, nonfinite: bool) -> str | None:
        """Judge one step's cheap values, oldest step first: why the next step needs detail.

        ``grad_norm`` is the global gradient norm (``None`` on steps that did not log it),
        ``nonfinite`` whether any gradient held a NaN or an infinity. A run that stays
        non-finite asks for one detail step, at the onset, not one per step.
        """
        bad = nonfinite or (loss is not None and not math.isfinite(loss))
        why = None
        if bad:
            if not self._nonfinite:
                why = "nonfinite"
        elif grad_norm is not None and _spike(grad_norm, self._grad_norms):
            why = "grad-spike"
        elif loss is not None and _loss_spike(loss, self._losses):
            why = "loss-spike"
        self._nonfinite = bad
        if grad_norm is not None and math.isfinite(grad_norm):
            self._grad_norms.append(grad_norm)
        if loss is not None and math.isfinite(loss):
            self._losses.append(loss)
        return why


def _spike(value: float, history: deque[float]) -> bool:
    if len(history) < MIN_HISTORY:
        return False
    median = statistics.median(history)
    return median > 0 and value > GRAD_SPIKE_FACTOR * median


def _loss_spike(value: float, history: deque[float]) -> bool:
    if len(history) < MIN_HISTORY:
        return False
    median = statistics.median(history)
    mad = statistics.median(abs(v - median) for v in history)
    rise = value - median
    return rise > LOSS_SPIKE_SIGMAS * 1.4826 * mad and rise > LOSS_SPIKE_MIN_RISE * abs(median)
