"""Device results of one step waiting for the step's single transfer to the host."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from gradscope.capture.guard import Instrument
from gradscope.stats.tensors import Summary, finish_summaries, summarize, to_host


class Pending:
    """Collects small device tensors with what to do once their values are on the host.

    :meth:`resolve` moves everything collected in one transfer per device and calls each
    finisher under its instrument, so one failing finisher switches off only its instrument.
    """

    def __init__(self) -> None:
        self._items: list[tuple[torch.Tensor, Callable[[list[float]], None], Instrument]] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(
        self, tensor: torch.Tensor, finish: Callable[[list[float]], None], instrument: Instrument
    ) -> None:
        """Queue ``tensor``; ``finish`` gets its values. A meta tensor has none: it is dropped."""
        if tensor.device.type != "meta":
            self._items.append((tensor, finish, instrument))

    def add_summaries(
        self,
        tensors: Sequence[torch.Tensor],
        finish: Callable[[list[Summary]], None],
        instrument: Instrument,
        *,
        minmax: bool = True,
        nonzero: bool = True,
    ) -> None:
        """Summarise ``tensors`` (any mix of devices) and call ``finish`` with them in order.

        ``minmax``/``nonzero``: whether min, max and abs-max / the zero fraction are wanted.
        """
        if not tensors:
            return
        groups = by_device(tensors)
        results: list[Summary | None] = [None] * len(tensors)
        left = [len(groups)]

        def fill(indices: list[int], meta: list[tuple[int, int]]) -> Callable[[list[float]], None]:
            def done(values: list[float]) -> None:
                for i, s in zip(indices, finish_summaries(values, meta), strict=True):
                    results[i] = s
                left[0] -= 1
                if left[0] == 0:
                    finish(results)  # type: ignore[arg-type]

            return done

        for indices in groups:
            rows, meta = summarize([tensors[i] for i in indices], minmax=minmax, nonzero=nonzero)
            self.add(rows, fill(indices, meta), instrument)

    def resolve(self) -> None:
        items, self._items = self._items, []
        if not items:
            return
        host = to_host([t for t, _, _ in items])
        for (_, finish, instrument), values in zip(items, host, strict=True):
            instrument.run(finish, values)

    def clear(self) -> None:
        self._items = []


def by_device(tensors: Sequence[torch.Tensor]) -> list[list[int]]:
    """Indices of ``tensors`` grouped by device, in first-seen order."""
    groups: dict[torch.device, list[int]] = {}
    for i, t in enumerate(tensors):
        groups.setdefault(t.device, []).append(i)
    return list(groups.values())
