"""Plain records: what capture produces and the store keeps.

A record holds numbers, strings and tuples only, never a tensor, a ``grad_fn`` or a module, so
nothing gradscope keeps can hold an autograd graph or a model alive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Per-parameter metrics, in the order the store's columns hold them.
PARAM_METRICS: tuple[str, ...] = (
    "grad_norm",
    "grad_mean",
    "grad_std",
    "grad_min",
    "grad_max",
    "grad_absmax",
    "grad_zero_frac",
    "grad_nan",
    "grad_inf",
    "grad_norm_preclip",
    "weight_norm",
    "weight_mean",
    "weight_std",
    "update_norm",
    "update_ratio",
)

#: Per-module metrics (forward output statistics and the norm of the output's gradient).
#: The per-parameter metrics taken on detail steps only (the rest: on every logged step).
DETAIL_METRICS: tuple[str, ...] = (
    "weight_norm",
    "weight_mean",
    "weight_std",
    "update_norm",
    "update_ratio",
)

MODULE_METRICS: tuple[str, ...] = (
    "act_mean",
    "act_std",
    "act_absmax",
    "act_zero_frac",
    "act_nonfinite",
    "out_grad_norm",
)


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter, once per run. Tied parameters appear once with every name in ``aliases``."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    requires_grad: bool
    module: str
    aliases: tuple[str, ...] = ()

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """One module of the watched model tree, named by its qualified path (root is ``""``)."""

    path: str
    type: str
    parent: str | None
    n_params: int
    buffers: tuple[tuple[str, tuple[int, ...], str], ...] = ()


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A parameter group: its index, its parameters' names and its hyperparameters."""

    optimizer: int
    index: int
    params: tuple[str, ...]
    hparams: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OptimizerInfo:
    """An optimizer as first seen: its class, defaults and groups."""

    index: int
    type: str
    defaults: dict[str, Any]
    groups: tuple[GroupInfo, ...]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step: an ``optimizer.step()``, or one backward pass when no optimizer is watched."""

    step: int
    wall_time: float
    duration: float | None
    loss: float | None
    n_backward: int
    logged: bool
    lrs: tuple[float, ...] = ()
    scalars: dict[str, float] = field(default_factory=dict)
    #: Why the step recorded detail (``"cadence"``, or the flight recorder's ``"nonfinite"``,
    #: ``"grad-spike"``, ``"loss-spike"``); ``None`` when it did not.
    detail_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ParamStats:
    """Gradient, weight and update statistics of one parameter at one logged step.

    ``values`` maps names from :data:`PARAM_METRICS` to floats; absent metrics were not measured
    (no gradient, no optimizer step, or an instrument switched off). A read that carries the
    detail metrics (weights, updates) forward from an earlier detail step names that step in
    ``detail_step``; capture leaves it ``None``, as every value is from ``step``.
    """

    step: int
    param: str
    values: Mapping[str, float | None]
    detail_step: int | None = None


@dataclass(frozen=True, slots=True)
class StateStats:
    """Summary of one optimizer state entry of one parameter (``exp_avg``, ``step`` …).

    ``values`` maps a statistic (``norm``, ``mean``, ``absmax`` for tensors, ``value`` for
    scalars, ``median``/``max`` for the effective step size) to its value; the store and the
    read API name it ``state.<key>.<stat>``.
    """

    step: int
    param: str
    key: str
    values: Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Learning rate and hyperparameters of one parameter group at one step.

    ``hparams`` is every entry of the group but its parameters (``lr`` included, as the
    optimizer holds it); ``lr`` is that value as a float, or ``None`` when the group has none.
    """

    step: int
    optimizer: int
    group: int
    lr: float | None
    hparams: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Histogram:
    """A histogram of one tensor (``kind`` is ``grad`` or ``weight``) at one step.

    ``counts`` has one entry per bin between ``lo`` and ``hi``; on the ``log`` scale the bins are
    over log10|x| of the non-zero finite values and ``zeros`` counts the exact zeros. Non-finite
    values never go into bins: they are counted in ``nan``, ``posinf`` and ``neginf``. ``sampled``
    is the number of elements looked at (a strided sample of large tensors).
    """

    step: int
    param: str
    kind: str
    scale: str
    lo: float
    hi: float
    counts: tuple[int, ...]
    nan: int
    posinf: int
    neginf: int
    zeros: int
    sampled: int


@dataclass(frozen=True, slots=True)
class ModuleStats:
    """Forward output statistics of one module at one logged step (all its calls together)."""

    step: int
    module: str
    calls: int
    training: bool
    shape: tuple[int, ...]
    dtype: str
    device: str
    values: Mapping[str, float | None]


#: An alert's severity, worst first.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Alert:
    """A diagnosis: a stable ``code``, ``severity`` (info, warning, error), where and when."""

    code: str
    severity: str
    where: str
    step: int | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """A fact capture noticed, for the doctor to judge (``kind`` names it, see docs/doctor)."""

    step: int
    kind: str
    where: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StepBatch:
    """Everything one step produced, handed to the store's writer in one piece."""

    steps: list[StepRecord] = field(default_factory=list)
    params: list[ParamStats] = field(default_factory=list)
    states: list[StateStats] = field(default_factory=list)
    groups: list[GroupStats] = field(default_factory=list)
    histograms: list[Histogram] = field(default_factory=list)
    modules: list[ModuleStats] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def drop_detail(self) -> int:
        """Drop what can be lost under back-pressure (histograms, module stats); return how much."""
        n = len(self.histograms) + len(self.modules)
        self.histograms = []
        self.modules = []
        return n
