"""Seeing where a recorded forward cuts tensors out of the autograd graph.

A graph walk from the loss cannot see what is *not* connected to it, so the reason a parameter
gets no gradient has to be observed while the forward runs. A ``TorchFunctionMode`` (active only
inside :func:`gradscope.graph.record_modules`) notes each ``detach()``, ``.data``, ``.numpy()``,
``.item()``/``.tolist()`` of a tensor that requires grad, and each operation run under
``no_grad`` on one. The events keep their source (a ``grad_fn`` or a leaf) alive only until the
recording ends; then they are resolved to parameter names and plain data.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch.overrides import TorchFunctionMode

if TYPE_CHECKING:
    from gradscope.graph.attribution import Recorder
    from gradscope.graph.model import BreakReason

_DATA = torch._C.TensorBase.data
#: Calls that hand a tensor's values to Python or NumPy.
_TO_HOST: dict[str, BreakReason] = {"numpy": "numpy", "tolist": "item", "item": "item"}
#: Calls that carry a detached tensor along unchanged in meaning (so a later .numpy() on the
#: result is still the same round-trip).
_PASS_THROUGH = frozenset(
    {"cpu", "to", "clone", "contiguous", "float", "double", "view", "flatten"}
)
#: What each cut kind is called in messages.
CUT_NAMES = {
    "detach": ".detach()",
    "data": ".data",
    "numpy": "a NumPy round-trip (.numpy())",
    "item": ".item()/.tolist()",
    "no-grad": "torch.no_grad()",
}


@dataclass(slots=True)
class CutEvent:
    """A place in the recorded forward where values left the graph.

    ``module`` is where the cut path ends (the module that produced the cut tensor, or ran under
    ``no_grad``); ``at`` is the module whose forward made the cut call; ``params`` are the
    parameters upstream of the cut.
    """

    kind: BreakReason
    module: str
    at: str
    params: tuple[str, ...]


@dataclass(slots=True)
class LiveCut:
    """A cut while recording: holds its source until :meth:`Recorder.close` resolves it."""

    kind: BreakReason
    source: Any  # a grad_fn, or a leaf tensor
    where: int | None


class CutWatcher(TorchFunctionMode):
    """Passes every call through unchanged and notes the ones that cut the graph."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self._rec = recorder
        self._seen: set[tuple[str, int, int | None]] = set()
        self._derived: dict[int, tuple[weakref.ref, int]] = {}
        self.enabled = True

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if self.enabled and getattr(func, "__name__", "") == "detach_" and _grad_arg(args):
            self._add("detach", args[0], None)  # in place: afterwards there is nothing to see
        result = func(*args, **(kwargs or {}))
        if self.enabled:
            try:
                self._inspect(func, args, kwargs, result)
            except Exception as exc:  # an instrument never breaks the forward
                self.enabled = False
                self._rec.failed(f"graph-break detection switched off: {exc!r}")
        return result

    def _inspect(self, func: Any, args: Any, kwargs: Any, result: Any) -> None:
        name = getattr(func, "__name__", "")
        first = args[0] if args else None
        if not isinstance(first, torch.Tensor):
            return
        if name == "__get__":
            if getattr(func, "__self__", None) is _DATA and first.requires_grad:
                self._add("data", first, result)
        elif name == "detach":
            if first.requires_grad:
                self._add("detach", first, result)
        elif name in _TO_HOST:
            if first.requires_grad:
                self._add(_TO_HOST[name], first, None)
            else:
                self._upgrade(first, _TO_HOST[name])
        elif name in _PASS_THROUGH and id(first) in self._derived:
            _, index = self._derived[id(first)]
            self._track(result, index)
        elif not torch.is_grad_enabled():
            outside = self._rec.current() is None
            for t in _tensors(args, kwargs):
                # A leaf touched under no_grad outside any module (weight init, optimizer
                # updates) is not a forward cut.
                if t.requires_grad and not (outside and t.grad_fn is None):
                    self._add("no-grad", t, None)

    def _add(self, kind: BreakReason, t: torch.Tensor, result: Any) -> None:
        source = t.grad_fn if t.grad_fn is not None else t
        where = self._rec.current()
        key = (kind, id(source), where)
        if key in self._seen:
            return
        self._seen.add(key)
        self._rec.cuts.append(LiveCut(kind, source, where))
        if isinstance(result, torch.Tensor):
            self._track(result, len(self._rec.cuts) - 1)

    def _track(self, t: Any, index: int) -> None:
        if isinstance(t, torch.Tensor):
            self._derived[id(t)] = (weakref.ref(t), index)

    def _upgrade(self, t: torch.Tensor, kind: BreakReason) -> None:
        """``.numpy()`` on a detached copy: the cut was a NumPy round-trip, not a plain detach."""
        entry = self._derived.get(id(t))
        if entry is not None and entry[0]() is t:
            self._rec.cuts[entry[1]].kind = kind


def _grad_arg(args: Any) -> bool:
    return bool(args) and isinstance(args[0], torch.Tensor) and args[0].requires_grad


def _tensors(args: Any, kwargs: Any) -> list[torch.Tensor]:
    """Tensor arguments, one level into lists and tuples (``torch.cat([a, b])``)."""
    out = []
    for a in (*args, *(kwargs or {}).values()):
        if isinstance(a, torch.Tensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(x for x in a if isinstance(x, torch.Tensor))
    return out
