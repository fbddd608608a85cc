"""The options of ``gs.watch``, checked once with messages that say how to fix them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gradscope.errors import GradscopeError


class OptionError(GradscopeError, ValueError):
    """A ``watch`` option has a value gradscope cannot use."""


@dataclass(frozen=True)
class WatchOptions:
    """How much to record and how often.

    ``every``: log every N-th step (loss, lr and time are kept for every step). A logged step
    holds the gradient statistics of every parameter, group hyperparameters and pre-clip norms.
    ``detail_every``: every N-th logged step (and the first) is a *detail step*, which adds
    weight statistics, updates, optimizer state, module activation statistics and histograms;
    ``1`` records everything on every logged step. The flight recorder makes the step after a
    non-finite value, a gradient-norm spike or a loss spike a detail step whatever the cadence.
    ``hist_samples``: at most this many evenly strided elements per tensor go into a histogram
    (``None``: exact). ``hist_scale``: ``linear`` or ``log`` (bins over log10|x|).
    ``updates``: record ‖Δw‖ (keeps a copy of the parameters during logged steps).
    ``include``/``exclude``: glob patterns over parameter and module names.
    ``doctor``: run the diagnoses while training (warnings, ``scope.alerts``, the store).
    ``graph``: keep the first step's autograd graph in the store (``gradscope graph STORE``).
    ``strict``: re-raise an instrument's exception instead of switching it off (for tests).
    """

    every: int = 1
    detail_every: int = 10
    hist_bins: int = 32
    hist_scale: str = "linear"
    hist_samples: int | None = 65_536
    activations: bool = True
    updates: bool = True
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    doctor: bool = True
    graph: bool = True
    strict: bool = False

    def __post_init__(self) -> None:
        for name in ("every", "detail_every", "hist_bins", "hist_samples"):
            value = getattr(self, name)
            if value is None and name == "hist_samples":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise OptionError(f"{name} must be a positive integer, got {name}={value!r}")
        if self.hist_scale not in ("linear", "log"):
            raise OptionError(
                f"hist_scale must be 'linear' or 'log', got hist_scale={self.hist_scale!r}"
            )
        for name in ("include", "exclude"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, str) or not all(isinstance(v, str) for v in value)
            ):
                raise OptionError(
                    f"{name} must be a list of name patterns such as ['encoder'], "
                    f"got {name}={value!r}"
                )

    @property
    def detail_period(self) -> int:
        """Steps between two detail steps of the cadence (the flight recorder adds others)."""
        return self.every * self.detail_every


#: Options of earlier versions that ``detail_every`` replaced; refused with a pointer to it.
FOLDED = ("hist_every", "act_every")


def folded_option(name: str) -> OptionError:
    """The error for an option of earlier versions that ``detail_every`` replaced."""
    return OptionError(
        f"{name} was folded into detail_every: histograms, activation statistics, weight "
        f"statistics, updates and optimizer state are all taken on detail steps; pass "
        f"detail_every=N (every N-th logged step) instead of {name}"
    )


def patterns(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Accept one pattern or several."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)
