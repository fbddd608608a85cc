"""The autograd graph of the first step, kept in the store for ``gradscope graph STORE``.

The first model's forward passes are recorded (which module made which autograd node, and
where a detach/no_grad cut the graph) until the first ``backward()``; at that moment the graph
is walked from the tensor being differentiated, with hooks that fill the gradient heat map as
that backward runs. When the step ends the plain :class:`~gradscope.graph.Graph` goes to the
store's ``graph`` meta key. Every hook and patch is gone after the first backward.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from gradscope.capture.guard import Instrument
from gradscope.store.schema import GRAPH_KEY

#: The module whose forward pre-hook is running discovery (``gradscope run`` finds a model
#: there): a recording started for it must open its call, whose pre-hook has already passed.
_STARTED: contextvars.ContextVar[nn.Module | None] = contextvars.ContextVar(
    "gradscope_forward_started", default=None
)


@contextlib.contextmanager
def forward_started(module: nn.Module) -> Iterator[None]:
    """Mark ``module``'s forward as already running while this block watches it."""
    token = _STARTED.set(module)
    try:
        yield
    finally:
        _STARTED.reset(token)


class FirstGraph:
    """Records one graph per scope; all work happens in step 0 only."""

    def __init__(self, instrument: Instrument, store: Callable[[dict[str, Any]], None]) -> None:
        self._instrument = instrument
        self._store = store
        self._model: nn.Module | None = None
        self._recording: contextlib.ExitStack | None = None
        self._record: Any = None
        self._graph: Any = None
        self.done = False

    def start(self, model: nn.Module) -> None:
        """Begin recording the forward of ``model`` (the first model watched)."""
        if self._model is not None or self.done:
            return
        self._instrument.run(self._start, model)

    def _start(self, model: nn.Module) -> None:
        from gradscope.graph.attribution import record_modules

        started = _STARTED.get() is model
        stack = contextlib.ExitStack()
        self._record = stack.enter_context(record_modules(model, cuts=False, started=started))
        self._recording = stack
        self._model = model

    def before_backward(self, tensors: Any) -> None:
        """Listener of the backward wrapper: capture the graph the first backward runs over."""
        if self.done or self._model is None:
            return
        self.done = True
        self._instrument.run(self._capture, tensors)

    def _capture(self, tensors: Any) -> None:
        from gradscope.graph.from_outputs import capture_graph

        self._stop_recording()
        roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        roots = [t for t in roots if isinstance(t, torch.Tensor) and t.grad_fn is not None]
        if roots:
            self._graph = capture_graph(
                roots, model=self._model, record=self._record, grads=True, depth=None
            )
        self._model = None
        self._record = None

    def step_ended(self) -> None:
        """Store the graph captured in this step (its heat map is complete by now)."""
        if self._graph is not None:
            graph, self._graph = self._graph, None
            self._instrument.run(lambda: self._store({GRAPH_KEY: graph.to_dict()}))

    def close(self) -> None:
        """Undo recording hooks if no backward came, and store a graph still held."""
        self._stop_recording()
        self.step_ended()
        self._model = None
        self._record = None
        self.done = True

    def _stop_recording(self) -> None:
        stack, self._recording = self._recording, None
        if stack is not None:
            self._instrument.run(stack.close)
