"""What the rules read, read once: cached accessors over a recorded run.

Rules are small functions of a :class:`Context`. Many of them look at the same facts (the
events capture wrote, the gradient norms of every parameter, the loss), so the context reads
each from the store once and hands every rule the same lists. It never writes and never touches
torch, so the same rules judge a finished store or one that is still being written.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gradscope.doctor.thresholds import Thresholds
from gradscope.numbers import compact
from gradscope.records import SEVERITIES, Alert, Event, OptimizerInfo, ParamInfo

if TYPE_CHECKING:
    from gradscope.store.reader import Run


Series = tuple[list[int], list[float]]


class Context:
    """One run as the rules see it, plus the alerts raised so far (``found``)."""

    def __init__(self, run: Run, thresholds: Thresholds | None = None) -> None:
        self.run = run
        self.thresholds = thresholds or Thresholds()
        #: Alerts of the rules that already ran; ``loss-stalled`` looks for a reason here.
        self.found: list[Alert] = []
        self._series: dict[tuple[str, str | None, str | None], Series] = {}

    # -- structure --------------------------------------------------------------------------

    @cached_property
    def _events(self) -> dict[str, list[Event]]:
        out: dict[str, list[Event]] = {}
        for event in self.run.events():
            out.setdefault(event.kind, []).append(event)
        return out

    def events(self, kind: str) -> list[Event]:
        """Events of one kind, oldest first."""
        return self._events.get(kind, [])

    @cached_property
    def param_info(self) -> dict[str, ParamInfo]:
        return self.run.param_info

    @cached_property
    def params(self) -> list[str]:
        """Parameter names in model order (roughly forward order)."""
        return list(self.run.params)

    @cached_property
    def module_types(self) -> dict[str, str]:
        """Module path → class name."""
        return {m.path: m.type for m in self.run.modules}

    @cached_property
    def optimizers(self) -> list[OptimizerInfo]:
        return list(self.run.optimizers)

    @cached_property
    def optimized(self) -> set[str]:
        """Names (and aliases) of every parameter some watched optimizer updates."""
        names = {n for opt in self.optimizers for g in opt.groups for n in g.params}
        for name, info in self.param_info.items():
            if names & {name, *info.aliases}:
                names.add(name)
        return names

    @cached_property
    def trained(self) -> list[str]:
        """Parameters meant to learn: in an optimizer when one is watched, else requiring grad.

        A parameter with no elements (an empty prompt table) has nothing to learn and is left
        out: its gradient is empty whatever the graph.
        """
        info = self.param_info
        return [
            p
            for p in self.params
            if info[p].requires_grad
            and info[p].numel != 0
            and (not self.optimizers or p in self.optimized)
        ]

    def optimizer_label(self, index: int) -> str:
        """``optimizer0:SGD``, the name events use for an optimizer."""
        types = {o.index: o.type for o in self.optimizers}
        return f"optimizer{index}:{types.get(index, 'Optimizer')}"

    def optimizer_params(self, label: str) -> list[str]:
        """The parameter names of the optimizer an event names (``optimizer0:SGD``)."""
        index = label.partition(":")[0].removeprefix("optimizer")
        for opt in self.optimizers:
            if index.isdigit() and opt.index == int(index):
                return [n for g in opt.groups for n in g.params]
        return []

    @cached_property
    def model_name(self) -> str:
        models = self.run.meta.get("models") or {}
        return str(models.get("") or self.run.meta.get("model") or "the model")

    def label(self, path: str) -> str:
        """A module path for people: the root module is named by its class."""
        return path if path else self.model_name

    def quoted(self, path: str) -> str:
        """:meth:`label` as code, for messages: ```encoder.fc1```."""
        return f"`{self.label(path)}`"

    # -- series -------------------------------------------------------------------------------

    @cached_property
    def raw_losses(self) -> Series:
        """The loss as recorded (stores written before ``loss_unscaled`` hold it scaled)."""
        return self.run.series("loss")

    @cached_property
    def _amp(self) -> list[tuple[int, int, float, bool]]:
        """GradScaler facts as ``(step, order, scale, skipped)``, oldest first."""
        return sorted(
            (int(e.details.get("step", e.step)), int(e.details.get("n", 0)),
             float(e.details.get("scale", 1.0)) or 1.0, bool(e.details.get("skipped")))
            for e in self.events("amp_scale")
        )  # fmt: skip

    @cached_property
    def amp_skipped(self) -> list[int]:
        """Steps in which a GradScaler skipped ``optimizer.step()`` for inf/NaN gradients."""
        return sorted({step for step, _, _, skipped in self._amp if skipped})

    @cached_property
    def amp_skip_scales(self) -> list[float]:
        """The scale each skipped step used, oldest first (≤ 1: not an fp16 overflow)."""
        return [scale for _, _, scale, skipped in self._amp if skipped]

    @cached_property
    def amp_skips(self) -> int:
        """How many times a GradScaler skipped ``optimizer.step()``."""
        return sum(skipped for *_, skipped in self._amp)

    def amp_scale(self, step: int) -> float:
        """The GradScaler's scale at ``step`` (1.0 without a scaler)."""
        scale = 1.0
        for at, _, value, _ in self._amp:
            if at > step:
                break
            scale = value
        return scale

    @cached_property
    def last_step(self) -> int:
        """The last step with a loss (-1 if the loss was never captured)."""
        steps = self.raw_losses[0]
        return steps[-1] if steps else -1

    @cached_property
    def losses(self) -> Series:
        """The loss the user computed (divided by the GradScaler's scale in stores that hold it
        scaled), leaving out the finite losses of steps the scaler skipped (that step row
        mixes a skipped pass with the next one)."""
        steps, values = self.raw_losses
        if not self._amp:
            return steps, values
        if not self.run.meta.get("loss_unscaled"):
            scale = self.amp_scale
            values = [v / scale(s) for s, v in zip(steps, values, strict=True)]
        skipped = set(self.amp_skipped)
        pairs = [(s, v) for s, v in zip(steps, values, strict=True)
                 if s not in skipped or not math.isfinite(v)]  # fmt: skip
        return [s for s, _ in pairs], [v for _, v in pairs]

    def series(self, metric: str, param: str) -> Series:
        """A per-parameter metric over the logged steps (cached)."""
        key = (metric, param, None)
        if key not in self._series:
            self._series[key] = self.run.series(metric, param)
        return self._series[key]

    def module_series(self, metric: str, module: str) -> Series:
        """A per-module metric over the activation steps (cached)."""
        key = (metric, None, module)
        if key not in self._series:
            self._series[key] = self.run.series(metric, module=module)
        return self._series[key]

    def module_shape(self, path: str) -> list[int] | None:
        """The output shape last recorded for a module, if any."""
        row = self.run.module_latest(path)
        return list(row.shape) if row else None

    @cached_property
    def grad_params(self) -> set[str]:
        """Parameters with at least one recorded gradient."""
        return {p for p in self.params if self.series("grad_norm", p)[0]}

    @cached_property
    def graph(self) -> dict[str, Any] | None:
        """The first step's autograd graph (``Graph.to_dict()`` form), when it was kept."""
        return self.run.graph_snapshot()

    @cached_property
    def activations_recorded(self) -> bool:
        """Whether module output statistics were recorded at all in this run."""
        options = self.run.meta.get("options") or {}
        if options.get("activations") is False:
            return False
        return any(self.module_series("act_mean", path)[0] for path in self.module_types)

    # -- making alerts ----------------------------------------------------------------------

    def alert(
        self, code: str, severity: str, where: str, step: int | None, message: str, **details: Any
    ) -> Alert:
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        return Alert(code, severity, where, step, message, details)

    def event_alert(
        self, code: str, severity: str, event: Event, message: str, **details: Any
    ) -> Alert:
        """An alert at the place and step of the fact that shows the problem."""
        return self.alert(code, severity, event.where, event.step, message, **details)

    def has_finding(self, *severities: str) -> bool:
        """Whether an earlier rule raised an alert of one of ``severities``."""
        return any(a.severity in severities for a in self.found)


def median(values: list[float]) -> float:
    """Median of the finite values (NaN when there are none)."""
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return math.nan
    mid = len(finite) // 2
    return finite[mid] if len(finite) % 2 else (finite[mid - 1] + finite[mid]) / 2


def rolling_medians(values: list[float], window: int) -> list[float]:
    """Medians of every run of ``window`` consecutive finite values (one if fewer)."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) <= window:
        return [median(finite)] if finite else []
    return [median(finite[i : i + window]) for i in range(len(finite) - window + 1)]


def common_module(paths: list[str]) -> str:
    """The deepest module path that contains every one of ``paths`` (``""`` for the root)."""
    if not paths:
        return ""
    parts = [p.split(".") if p else [] for p in paths]
    out: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        out.append(level[0])
    return ".".join(out)


def name_list(names: list[str], limit: int = 4) -> str:
    """``a, b, c and 5 more`` (names quoted as code)."""
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


#: A number in three significant digits (the rules' messages).
fmt = compact
