"""Module attribution: which module's forward created each autograd node.

A ``grad_fn`` does not know which module made it, so attribution needs the forward to run under
hooks. Every autograd node gets a per-thread sequence number when it is created; the forward
pre/post hooks note the current number each time a module call starts or ends (by creating one
throw-away view node, a probe). Those boundaries split the sequence numbers into segments, each
owned by the innermost module call running at the time, and a node is attributed by a bisect on
its ``_sequence_nr()``. This sees every node, including the ones a module creates between its
submodules (residual adds, functional activations), at O(log calls) per node.

Use it as ``with gs.graph.record_modules(model) as rec: loss = ...`` and pass ``record=rec`` to
:func:`gradscope.capture_graph`, or let ``capture_graph(lambda: ..., model=model)`` do both. All
hooks are removed when the block ends, and the record keeps only plain data.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

from gradscope.capture.guard import defer_warning, flush_warnings
from gradscope.capture.tracing import inert
from gradscope.errors import GradscopeError, GradscopeWarning
from gradscope.graph.cuts import CutEvent, CutWatcher, LiveCut
from gradscope.graph.model import BreakReason, ModuleCall

#: AccumulateGrad nodes carry this instead of a sequence number.
NO_SEQUENCE = 2**64 - 1
#: Nodes searched upstream of a cut for the module whose output was cut.
_SEARCH_LIMIT = 10_000


@dataclass(eq=False)
class ModuleRecord:
    """What a recorded forward left behind: module calls, the sequence-number segments they own,
    which module paths ran, and where values were cut from the graph."""

    calls: list[ModuleCall] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)
    cuts: list[CutEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    bounds: list[int] = field(default_factory=list)
    owners: list[int | None] = field(default_factory=list)

    def locate(self, seq: int) -> int | None:
        """Index of the innermost module call running when the node numbered ``seq`` was made."""
        i = bisect_right(self.bounds, seq) - 1
        return None if i < 0 or seq == NO_SEQUENCE else self.owners[i]

    def path(self, call: int | None) -> str | None:
        return None if call is None else self.calls[call].path


class Recorder:
    """The live side of a recording: module call stack, probe, cut events with their sources."""

    def __init__(self, record: ModuleRecord, param_names: dict[int, str]) -> None:
        self.record = record
        self.cuts: list[LiveCut] = []
        self._param_names = param_names
        self._stack: list[int] = []
        self._count: dict[str, int] = {}
        self._thread = threading.get_ident()
        self._seed = torch.zeros((), requires_grad=True)
        self._broken = False

    def set_params(self, names: dict[int, str]) -> None:
        """Name the parameters cut events resolve to (when the model is found late)."""
        self._param_names = names

    def current(self) -> int | None:
        return self._stack[-1] if self._stack else None

    def enter(self, path: str, type_name: str) -> None:
        """A module call starts (forward pre-hook)."""
        if self._broken or threading.get_ident() != self._thread:
            return
        calls = self.record.calls
        nth = self._count.get(path, 0)
        self._count[path] = nth + 1
        index = len(calls)
        grad = torch.is_grad_enabled()
        calls.append(ModuleCall(index, path, type_name, self.current(), nth, grad))
        self._stack.append(index)
        self.record.ran.add(path)
        self._mark(index)

    def exit(self) -> None:
        """The innermost module call ends (forward hook, also on exceptions)."""
        if self._broken or threading.get_ident() != self._thread or not self._stack:
            return
        self._stack.pop()
        self._mark(self.current())

    def _mark(self, owner: int | None) -> None:
        with torch._C.DisableTorchFunction(), torch.enable_grad():
            fn = self._seed.view(()).grad_fn
        if fn is not None:
            self.record.bounds.append(fn._sequence_nr())
            self.record.owners.append(owner)

    def failed(self, message: str) -> None:
        """Report an instrument failure once; the recording goes on without that instrument."""
        self.record.errors.append(message)
        defer_warning(f"gradscope: {message}", GradscopeWarning)  # from a hook: never raised

    def guard(self, fn: Any) -> Any:
        """Wrap a hook so an exception switches attribution off instead of breaking forward."""

        def hook(*args: Any) -> None:
            if inert():
                return
            try:
                fn(*args)
            except Exception as exc:
                self._broken = True
                self.failed(f"module attribution switched off: {exc!r}")

        return hook

    def close(self) -> None:
        """Resolve cut events to parameter names and drop every live reference."""
        memo: dict[int, frozenset[int]] = {}
        merged: dict[tuple[BreakReason, str, str], set[str]] = {}
        for cut in self.cuts:
            leaves = _leaves(cut.source, memo)
            params = {self._param_names[i] for i in leaves if i in self._param_names}
            where = self.record.path(cut.where) or ""
            if isinstance(cut.source, torch.Tensor):
                name = self._param_names.get(id(cut.source))
                module = name.rpartition(".")[0] if name and cut.kind != "no-grad" else where
            elif cut.kind == "no-grad":
                module = where
            else:
                module = self.record.path(self._producer(cut.source, cut.where)) or where
            merged.setdefault((cut.kind, module, where), set()).update(params)
        self.record.cuts = [CutEvent(k, m, a, tuple(sorted(p))) for (k, m, a), p in merged.items()]
        self.record.finished = True
        self.cuts.clear()
        self._param_names = {}

    def _producer(self, fn: Any, where: int | None) -> int | None:
        """The module call whose output was cut: the one that made ``fn``, or, when ``fn`` was
        made by the cutting module itself (``h.sum().item()``), the nearest submodule call
        upstream of it."""
        locate, calls = self.record.locate, self.record.calls
        own = locate(fn._sequence_nr())
        if own != where:
            return own
        seen: set[int] = set()
        queue = deque([fn])
        while queue and len(seen) < _SEARCH_LIMIT:
            node = queue.popleft()
            if id(node) in seen:
                continue
            seen.add(id(node))
            call = locate(node._sequence_nr())
            if call is not None and call != where and _inside(call, where, calls):
                return call
            queue.extend(u for u, _ in node.next_functions if u is not None)
        return where


def _inside(call: int, ancestor: int | None, calls: list[ModuleCall]) -> bool:
    """Whether module call ``call`` ran inside ``ancestor`` (None: the top level)."""
    if ancestor is None:
        return True
    c: int | None = call
    while c is not None:
        if c == ancestor:
            return True
        c = calls[c].parent
    return False


def _leaves(source: Any, memo: dict[int, frozenset[int]]) -> frozenset[int]:
    """ids of the leaf tensors (through ``AccumulateGrad``) upstream of a cut source."""
    if isinstance(source, torch.Tensor):
        return frozenset({id(source)})
    if id(source) in memo:
        return memo[id(source)]
    found: set[int] = set()
    seen: set[int] = set()
    stack = [source]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        var = getattr(fn, "variable", None)
        if var is not None:
            found.add(id(var))
        stack.extend(u for u, _ in fn.next_functions if u is not None)
    result = frozenset(found)
    memo[id(source)] = result
    return result


def param_names(model: nn.Module) -> dict[int, str]:
    """``id(parameter)`` → its first qualified name (tied parameters: the first one)."""
    names: dict[int, str] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(p), name)
    return names


@contextmanager
def record_modules(
    model: nn.Module, *, cuts: bool = True, started: bool = False
) -> Iterator[ModuleRecord]:
    """Record which module creates each autograd node during the forward run in this block.

    ``cuts=True`` also notes detach/.data/no_grad/NumPy cuts for the graph-break report. Hooks
    are removed on exit, even on error; the yielded record is filled in when the block ends.
    ``started=True`` says the model's own forward is already running (the recording starts
    from inside its forward pre-hook, as ``gradscope run`` finds a model): its call is opened
    now, so what its forward does between submodules (``F.relu``, pooling) is attributed to it.
    """
    from gradscope.capture.naming import unwrap

    if not isinstance(model, nn.Module):
        raise GradscopeError(f"record_modules expects an nn.Module, got {type(model).__name__}")
    wrapper, model = model, unwrap(model)
    started = started and model is wrapper  # a wrapper's (DDP) inner forward has not started
    record = ModuleRecord()
    recorder = Recorder(record, param_names(model))
    handles: list[Any] = []
    watcher = CutWatcher(recorder) if cuts else None
    # Process-wide hooks filtered by the model's modules: the modules themselves carry nothing
    # (a model saved, pickled or deep-copied while recording must not take a hook along).
    paths = {id(m): (path, type(m).__name__) for path, m in model.named_modules()}
    alive = list(model.modules())  # the ids above stay theirs while the block runs

    def enter(module: nn.Module, *_: Any) -> None:
        found = paths.get(id(module))
        if found is not None:
            recorder.enter(*found)

    def exit_(module: nn.Module, *_: Any) -> None:
        if id(module) in paths:
            recorder.exit()

    try:
        handles.append(register_module_forward_pre_hook(recorder.guard(enter)))
        handles.append(register_module_forward_hook(recorder.guard(exit_), always_call=True))
        if watcher is not None:
            watcher.__enter__()
        if started:
            recorder.enter(*paths[id(model)])
        try:
            yield record
        finally:
            if watcher is not None:
                watcher.__exit__(None, None, None)
    finally:
        for handle in reversed(handles):
            handle.remove()
        del alive
        recorder.close()
        flush_warnings()  # outside any hook: what attribution queued while the forward ran
