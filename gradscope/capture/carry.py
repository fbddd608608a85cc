"""Gradients carried across an optimizer step: the forgotten ``zero_grad``.

After a parameter's optimizer steps, its ``.grad`` must be reset (to ``None`` or to zeros)
before the next step, or old gradients leak into the new one. Deliberate accumulation (several
backward passes, one step, then ``zero_grad``) resets between steps and is not this. A reset
to ``None`` is seen on the host in the gradient hook; a reset to zeros is seen as a zero norm,
kept on the device as a running minimum until the next step, so checking costs no sync until
the step's single transfer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gradscope.capture.naming import WatchedParam


@dataclass
class _State:
    stepped: bool = False
    reset: bool = False
    low: torch.Tensor | None = None


class CarryCheck:
    """Per-parameter reset tracking between optimizer steps."""

    def __init__(self) -> None:
        self._state: dict[int, _State] = {}
        self.active = True

    def touched(self, wp: WatchedParam) -> None:
        """Called from the gradient hook, before this backward's gradient is accumulated."""
        state = self._state.get(wp.index)
        if state is None or not state.stepped or state.reset or not self.active:
            return
        grad = wp.param.grad
        if grad is None:
            state.reset = True
            return
        norm = torch.linalg.vector_norm(grad.coalesce().values() if grad.is_sparse else grad)
        state.low = norm if state.low is None else torch.minimum(state.low, norm)

    def suspects(self, wps: list[WatchedParam]) -> tuple[list[WatchedParam], torch.Tensor | None]:
        """Parameters that may carry old gradients into this step, and their smallest norms."""
        names, lows = [], []
        for wp in wps:
            state = self._state.get(wp.index)
            if state and state.stepped and not state.reset and state.low is not None:
                names.append(wp)
                lows.append(state.low.double())
        return names, (torch.stack(lows) if lows else None)

    def stepped(self, wps: list[WatchedParam]) -> None:
        """The optimizer that owns ``wps`` has just stepped."""
        for wp in wps:
            self._state[wp.index] = _State(stepped=True)

    def release(self) -> None:
        self._state = {}
