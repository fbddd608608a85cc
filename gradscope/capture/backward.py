"""Per-parameter gradient hooks: which backward passes touched the watched parameters.

A tensor hook on each parameter (it fires before the gradient is accumulated into ``.grad``)
marks the backward pass, notes whether accumulation started afresh (``.grad`` was ``None``),
and queues one callback that the autograd engine runs when the pass has finished, when every
``.grad`` is complete. The hook returns ``None``, so gradients are never changed.

The hooks are :class:`~gradscope.capture.handles.TensorHook` objects, which torch neither
serialises nor warns about when a watched tensor is saved or pickled; ``copy.deepcopy`` of a
parameter does not copy tensor hooks.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch

from gradscope.capture.guard import Instrument
from gradscope.capture.handles import HookGroup, TensorHook
from gradscope.capture.loss import ROOTS
from gradscope.capture.naming import WatchedParam


class BackwardTracker:
    """Follows backward passes over the watched parameters between two steps."""

    def __init__(
        self,
        params: list[WatchedParam],
        hooks: HookGroup,
        instrument: Instrument,
        on_backward_end: Callable[[], None],
        on_touch: Callable[[WatchedParam], None] | None = None,
    ) -> None:
        self._params = params
        self._hooks = hooks
        self._instrument = instrument
        self._on_end = on_backward_end
        self._on_touch = on_touch
        self._hooked: set[int] = set()
        self._active = False
        self._fresh = False
        self._moved = False
        #: A parameter of the step's first pass and its version then: a later pass sees
        #: whether the parameters moved in between.
        self._probe: tuple[torch.Tensor, int] | None = None
        self._root: torch.Tensor | None = None
        self._source: weakref.ref[torch.Tensor] | None = None
        self._sources: list[weakref.ref[torch.Tensor]] = []
        #: Losses (roots of backward passes) whose gradients are in ``.grad`` since the last step.
        self.roots: list[torch.Tensor] = []
        #: Backward passes since the last step.
        self.n_backward = 0
        #: Parameter indices that received a gradient since the last step.
        self.touched: set[int] = set()
        self.attach_new()

    def attach_new(self) -> None:
        """Hook parameters that require grad and have no hook yet (e.g. unfrozen mid-run)."""
        for wp in self._params:
            if wp.index not in self._hooked and wp.param.requires_grad:
                self._hooks.add(wp.param.register_hook(TensorHook(self._make_hook(wp))))
                self._hooked.add(wp.index)

    def _make_hook(self, wp: WatchedParam) -> Callable[[torch.Tensor], None]:
        # Runs once per parameter per backward pass: kept to one call deep.
        instrument = self._instrument
        seen = self._seen

        def hook(grad: torch.Tensor) -> None:
            if instrument.enabled:
                try:
                    seen(wp)
                except Exception as exc:  # a bug of ours must not stop the backward pass
                    instrument.fail(exc)

        return hook

    def _seen(self, wp: WatchedParam) -> None:
        if not self._active:
            self._active = True
            self._fresh = True
            self._moved = self._probe is not None and self._probe[0]._version != self._probe[1]
            if self.n_backward == 0:
                self._probe = (wp.param, wp.param._version)
            self._root = ROOTS.current
            self._source = ROOTS.source
            torch.autograd.Variable._execution_engine.queue_callback(self._finished)
        if wp.param.grad is not None:
            self._fresh = False  # accumulation restarted only if every gradient was reset
        if self._on_touch is not None:  # once per pass: a leaf's hook fires once per backward
            self._on_touch(wp)
        self.touched.add(wp.index)

    def _finished(self) -> None:
        self._active = False
        if self._fresh and self._moved and self.roots:
            # Gradients reset and the parameters moved since the step's first pass, as SAM
            # does between its two passes: the step's loss is the one at the step's weights.
            self._root = None
        elif self._fresh:
            self.roots.clear()
            self._sources.clear()
        source, self._source = self._source, None
        if self._root is not None and not self._seen_root(source):
            self.roots.append(self._root)
            if source is not None:
                self._sources.append(source)
        self._root = None
        self.n_backward += 1
        self._instrument.run(self._on_end)

    def _seen_root(self, source: weakref.ref[torch.Tensor] | None) -> bool:
        """Whether this pass differentiated a loss already counted (``retain_graph=True``)."""
        tensor = source() if source is not None else None
        return tensor is not None and any(s() is tensor for s in self._sources)

    def rebase_probe(self) -> None:
        """Another optimizer moved parameters (a GAN's generator, the next model of a script
        that trains several): that is not the step's own weights moving between its passes."""
        if self._probe is not None:
            param = self._probe[0]
            self._probe = (param, param._version)

    @property
    def in_backward(self) -> bool:
        return self._active

    def release(self) -> None:
        """Drop the parameters (the scope is closed; hooks are already removed)."""
        self._params = []
        self._root = None
        self._source = None
        self.reset()

    def reset(self) -> None:
        """Forget what happened since the last step (called at each step's end)."""
        self.roots = []
        self._sources = []
        self.n_backward = 0
        self.touched = set()
        self._probe = None
