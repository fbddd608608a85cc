"""Gradient, weight and update statistics of the watched parameters at a logged step.

Everything is queued on the device (see :class:`Pending`); values land in one dict per
(step, parameter) when the step's single transfer resolves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

from gradscope.capture.guard import Instruments
from gradscope.capture.naming import WatchedParam
from gradscope.capture.pending import Pending, by_device
from gradscope.options import WatchOptions
from gradscope.records import PARAM_METRICS, Histogram, StepBatch
from gradscope.stats.histogram import histograms
from gradscope.stats.tensors import Summary, count_nonfinite, norms

Key = tuple[int, int]  # (step, parameter index)
#: The gradient metrics a :class:`Summary` gives (its fields, in this order): those before
#: the non-finite counts.
GRAD_KEYS = PARAM_METRICS[: PARAM_METRICS.index("grad_nan")]


class ParamCapture:
    """Queues per-parameter statistics and gathers their host values."""

    def __init__(self, instruments: Instruments, pending: Pending, options: WatchOptions) -> None:
        self._instruments = instruments
        self._pending = pending
        self._options = options
        self._values: dict[Key, dict[str, float | None]] = {}
        self._before: dict[int, tuple[int, list[WatchedParam], list[torch.Tensor]]] = {}
        self._preclip: tuple[list[WatchedParam], torch.Tensor] | None = None

    def _slot(self, step: int, wp: WatchedParam) -> dict[str, float | None]:
        return self._values.setdefault((step, wp.index), {})

    @torch.no_grad()
    def grads(
        self, wps: list[WatchedParam], *, histogram: bool, step: int, batch: StepBatch
    ) -> None:
        pairs = [(wp, g) for wp in wps if (g := wp.param.grad) is not None]

        def finish(summaries: list[Summary]) -> None:
            bad = [i for i, s in enumerate(summaries) if not s.finite]
            counts = dict(zip(bad, count_nonfinite([pairs[i][1] for i in bad]), strict=True))
            for i, ((wp, _), s) in enumerate(zip(pairs, summaries, strict=True)):
                nan, posinf, neginf = counts.get(i, (0, 0, 0))
                values = (s.norm, s.mean, s.std, s.min, s.max, s.absmax, s.zero_frac)
                slot = self._slot(step, wp)
                slot.update(zip(GRAD_KEYS, values, strict=True))
                slot.update(grad_nan=nan, grad_inf=posinf + neginf)

        self._summarise("grads", "grad", pairs, finish, histogram, step, batch)

    @torch.no_grad()
    def weights(
        self, wps: list[WatchedParam], *, histogram: bool, step: int, batch: StepBatch
    ) -> None:
        pairs = [(wp, wp.param) for wp in wps]

        def finish(summaries: list[Summary]) -> None:
            for (wp, _), s in zip(pairs, summaries, strict=True):
                self._slot(step, wp).update(
                    weight_norm=s.norm, weight_mean=s.mean, weight_std=s.std
                )

        self._summarise(
            "weights", "weight", pairs, finish, histogram, step, batch, minmax=False, nonzero=False
        )

    def _summarise(
        self,
        instrument: str,
        kind: str,
        pairs: list[tuple[WatchedParam, torch.Tensor]],
        finish: Callable[[list[Summary]], None],
        histogram: bool,
        step: int,
        batch: StepBatch,
        **summary: bool,
    ) -> None:
        """Queue one batched summary of ``pairs`` (``finish`` stores it) and their histograms."""
        inst = self._instruments[instrument]
        if not inst.enabled:
            return
        inst.run(self._pending.add_summaries, [t for _, t in pairs], finish, inst, **summary)
        if histogram:
            self._histograms(kind, pairs, step, batch)

    def _histograms(
        self,
        kind: str,
        pairs: list[tuple[WatchedParam, torch.Tensor]],
        step: int,
        batch: StepBatch,
    ) -> None:
        inst = self._instruments["histograms"]
        if not inst.enabled or not pairs:
            return
        opts = self._options
        by_device: dict[torch.device, list[tuple[WatchedParam, torch.Tensor]]] = {}
        for wp, t in pairs:
            if t.device.type != "meta":  # no values to count
                by_device.setdefault(t.device, []).append((wp, t))
        for group in by_device.values():
            result = inst.run(
                histograms,
                [t for _, t in group],
                bins=opts.hist_bins,
                scale=opts.hist_scale,
                max_samples=opts.hist_samples,
            )
            if result is None:
                return
            table, lengths = result
            self._pending.add(table, self._hist_finisher(kind, group, lengths, step, batch), inst)

    def _hist_finisher(
        self,
        kind: str,
        group: list[tuple[WatchedParam, torch.Tensor]],
        lengths: list[int],
        step: int,
        batch: StepBatch,
    ):
        bins = self._options.hist_bins
        scale = self._options.hist_scale

        def finish(values: list[float]) -> None:
            width = bins + 6
            for i, ((wp, _), n) in enumerate(zip(group, lengths, strict=True)):
                row = values[i * width : (i + 1) * width]
                lo, hi, nan, posinf, neginf, zeros = row[bins:]
                batch.histograms.append(
                    Histogram(
                        step=step,
                        param=wp.name,
                        kind=kind,
                        scale=scale,
                        lo=lo,
                        hi=hi,
                        counts=tuple(int(c) for c in row[:bins]),
                        nan=int(nan),
                        posinf=int(posinf),
                        neginf=int(neginf),
                        zeros=int(zeros),
                        sampled=n,
                    )
                )

        return finish

    @torch.no_grad()
    def snapshot(self, index: int, wps: list[WatchedParam], step: int) -> None:
        """Copy the parameters an optimizer is about to update, to measure ‖Δw‖ after."""
        inst = self._instruments["updates"]
        if not (self._options.updates and inst.enabled):
            return
        dense = [wp for wp in wps if not wp.param.is_sparse]
        copies = inst.run(lambda: [wp.param.detach().clone() for wp in dense])
        if copies is not None:
            self._before[index] = (step, dense, copies)

    @torch.no_grad()
    def updates(
        self, index: int, *, on_change: Callable[[list[WatchedParam]], None] | None = None
    ) -> None:
        """Queue ‖Δw‖ since :meth:`snapshot`; ``on_change`` gets the parameters that moved."""
        inst = self._instruments["updates"]
        entry = self._before.pop(index, None)
        if entry is None or not inst.enabled:
            return
        step, wps, before = entry

        def queue() -> None:
            torch._foreach_sub_(before, [wp.param.detach() for wp in wps])
            norms = torch._foreach_norm(before)
            for device_idx in by_device(norms):
                sub = [wps[i] for i in device_idx]
                self._pending.add(
                    torch.stack([norms[i] for i in device_idx]),
                    self._update_finisher(step, sub, on_change),
                    inst,
                )

        inst.run(queue)

    def _update_finisher(
        self,
        step: int,
        wps: list[WatchedParam],
        on_change: Callable[[list[WatchedParam]], None] | None = None,
    ):
        def finish(values: list[float]) -> None:
            if on_change is not None:
                on_change([wp for wp, norm in zip(wps, values, strict=True) if norm != 0])
            for wp, norm in zip(wps, values, strict=True):
                slot = self._slot(step, wp)
                slot["update_norm"] = norm
                weight = slot.get("weight_norm")
                if weight is not None and weight > 0 and math.isfinite(weight):
                    slot["update_ratio"] = norm / weight

        return finish

    @torch.no_grad()
    def preclip(self, wps: list[WatchedParam]) -> None:
        """Gradient norms at the end of a backward pass, before any clipping."""
        inst = self._instruments["grads"]
        if not inst.enabled:
            return
        pairs = [(wp, g) for wp in wps if (g := wp.param.grad) is not None and not g.is_sparse]
        if pairs:
            with_grad = [wp for wp, _ in pairs]
            grads = [g for _, g in pairs]
            groups = by_device(grads)
            device = grads[groups[0][0]].device

            def per_device() -> torch.Tensor:
                return torch.cat([norms([grads[i] for i in idx]).to(device) for idx in groups])

            found = inst.run(per_device)
            if found is not None:
                self._preclip = ([with_grad[i] for idx in groups for i in idx], found)

    def finish_step(self, step: int) -> None:
        """Queue what waits for the step's end (pre-clip norms)."""
        if self._preclip is None:
            return
        wps, norms = self._preclip
        self._preclip = None

        def finish(values: list[float]) -> None:
            for wp, v in zip(wps, values, strict=True):
                self._slot(step, wp)["grad_norm_preclip"] = v

        self._pending.add(norms, finish, self._instruments["grads"])

    def take_values(self) -> Iterator[tuple[Key, dict[str, float | None]]]:
        values, self._values = self._values, {}
        return iter(sorted(values.items()))

    def release(self) -> None:
        self._values = {}
        self._before = {}
        self._preclip = None
