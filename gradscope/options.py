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

    ``every``: log every N-th step (loss, lr and time are kept for every step).
    ``hist_every``: histograms every N-th step (a multiple of ``every``; default ``10 * every``).
    ``act_every``: module activation statistics every N-th step (a multiple of ``every``;
    default ``10 * every``: forward outputs are often far larger than the parameters).
    ``hist_samples``: at most this many evenly strided elements per tensor go into a histogram
    (``None``: exact). ``hist_scale``: ``linear`` or ``log`` (bins over log10|x|).
    ``updates``: record ‖Δw‖ (keeps a copy of the parameters during logged steps).
    ``include``/``exclude``: glob patterns over parameter and module names.
    ``doctor``: run the diagnoses while training (warnings, ``scope.alerts``, the store).
    ``graph``: keep the first step's autograd graph in the store (``gradscope graph STORE``).
    ``strict``: re-raise an instrument's exception instead of switching it off (for tests).
    """

    every: int = 1
    hist_every: int | None = None
    act_every: int | None = None
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
        for name in ("every", "hist_every", "act_every", "hist_bins", "hist_samples"):
            value = getattr(self, name)
            if value is None and name not in ("every", "hist_bins"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise OptionError(f"{name} must be a positive integer, got {name}={value!r}")
        for name in ("hist_every", "act_every"):
            value = getattr(self, name)
            if value is not None and value % self.every:
                raise OptionError(
                    f"{name} must be a multiple of every (statistics are taken on logged steps), "
                    f"got {name}={value} with every={self.every}"
                )
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
    def histogram_every(self) -> int:
        return self.hist_every if self.hist_every is not None else 10 * self.every

    @property
    def activation_every(self) -> int:
        return self.act_every if self.act_every is not None else 10 * self.every


def patterns(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Accept one pattern or several."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)
