"""The numbers the statistical rules compare against, in one place.

Every default was chosen from measurements on the five demo models (``gradscope demo …``) so
that a correct run raises nothing, with a margin stated in docs/doctor/thresholds.md; the
command that made the measurements is ``python tests/doctor/measure_thresholds.py``. Change
them with ``diagnose(run, Thresholds(explode_growth=1e4))`` or
``gradscope doctor STORE --threshold explode_growth=1e4``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from gradscope.errors import GradscopeError


@dataclass(frozen=True)
class Thresholds:
    """Limits of the statistical rules (``exploding-gradients``, ``vanishing-gradients`` …).

    ``baseline_steps``: logged steps whose median total gradient norm is the baseline against
    which growth is measured (the start of training).
    ``window``: logged steps in the rolling median that smooths gradient norms, so a single
    noisy batch is not a trend.
    ``explode_growth``: alert when the smoothed total gradient norm grows this many times over
    the baseline (demos: at most 25.8×).
    ``explode_bound``: alert when the smoothed total gradient norm exceeds this, whatever the
    baseline (demos: at most 37.5).
    ``vanish_ratio``: alert when an earlier layer's median per-element gradient is smaller than
    this fraction of a later, like layer's (demos: at least 0.199).
    ``dead_fraction``: a ReLU-type module whose outputs are at least this fraction of exact
    zeros on its last activation records is dead (healthy ReLUs: at most 0.68).
    ``dead_records``: how many of the last activation records must all be that dead.
    ``update_low``: alert when every parameter of a group has a median update-to-weight ratio
    below this (lr ≈ 0; demos: at least 8.4e-5).
    ``update_high``: alert when a weight's (≥ 2-D parameter's) median update-to-weight ratio is
    above this (demos: at most 0.012).
    ``update_skip``: first logged steps left out of the update-ratio median (biases start at 0,
    where the ratio is unbounded).
    ``stall_min_steps``: fewest finite loss values before ``loss-stalled`` judges anything
    (an exactly constant loss is a warning from there).
    ``stall_long_steps``: fewest finite loss values before a loss that moves, but by less than
    ``stall_change``, is a warning rather than an info (correct short runs still at chance:
    up to 32 steps seen; a run that cannot learn: 64 steps in the corpus).
    ``stall_change``: the loss has stalled when the median of its last fifth differs from the
    median of its first fifth by less than this fraction (demos: at least 0.083).
    ``stall_travel``: a flat loss is a warning only once the weights travelled this fraction of
    their norm (median per-step update-to-weight ratio × steps); before, the run is too short
    or slow to judge (correct short runs: at most 0.044; stalled runs: at least 0.124).
    """

    baseline_steps: int = 5
    window: int = 3
    explode_growth: float = 1e3
    explode_bound: float = 1e6
    vanish_ratio: float = 1e-4
    dead_fraction: float = 0.99
    dead_records: int = 2
    update_low: float = 1e-6
    update_high: float = 1.0
    update_skip: int = 5
    stall_min_steps: int = 20
    stall_change: float = 0.01
    stall_long_steps: int = 50
    stall_travel: float = 0.075

    def is_exploding(self, norm: object) -> bool:
        """Whether a gradient norm is above the sane bound ``explode_bound``.

        The one definition of "exploding" for a single norm: ``exploding-gradients`` applies it
        to the smoothed total norm, the dashboard to each parameter's latest norm (a parameter
        over the bound puts the total over it too). A non-finite norm is not exploding here:
        it is the NaN/Inf diagnosis, judged on its own.
        """
        if not isinstance(norm, (int, float)) or isinstance(norm, bool):
            return False
        return math.isfinite(norm) and norm >= self.explode_bound

    def replace(self, **changes: float) -> Thresholds:
        """A copy with ``changes`` applied; unknown names are an error that lists the known."""
        known = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise GradscopeError(
                    f"unknown threshold {name!r}; known thresholds: {', '.join(sorted(known))}"
                )
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise GradscopeError(
                    f"threshold {name} must be a non-negative number, got {name}={value!r}"
                )
        converted: dict[str, Any] = {
            k: int(v) if known[k].type in ("int", int) else float(v) for k, v in changes.items()
        }
        return dataclasses.replace(self, **converted)

    @classmethod
    def parse(cls, assignments: list[str] | tuple[str, ...]) -> Thresholds:
        """Thresholds from ``NAME=VALUE`` strings (the CLI's ``--threshold``)."""
        changes: dict[str, float] = {}
        for text in assignments:
            name, sep, value = text.partition("=")
            try:
                if not sep:
                    raise ValueError
                changes[name.strip()] = float(value)
            except ValueError:
                raise GradscopeError(
                    f"--threshold takes NAME=VALUE, such as explode_growth=1e4; got {text!r}"
                ) from None
        return cls().replace(**changes)
