"""Forward-output statistics of every module, and the norm of the gradient of each output.

Forward hooks plus a tensor hook on the output, not module full-backward hooks: the latter
wrap outputs in a ``BackwardHookFunction`` and break on in-place ops (``nn.ReLU(inplace=True)``,
``x += residual``). Forwards run with grad disabled (evaluation under ``torch.no_grad()``) are
not mixed into the training statistics.

The forward hook is one process-wide hook (``register_module_forward_hook``) that looks the
module up among the watched ones, not a hook in each module's ``_forward_hooks``: the user's
modules carry nothing of gradscope's, so ``torch.save(model)``, ``pickle`` and
``copy.deepcopy`` work while watched, and a copy (an EMA model, a best-model snapshot) is not
watched. The lookup is one dict access by ``id``; entries leave with their module.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gradscope.capture.grad_origin import GradOrigin, is_origin_candidate
from gradscope.capture.guard import Instrument
from gradscope.capture.handles import HookGroup, TensorHook, quiet_compile_warning
from gradscope.capture.patches import DROPOUT_PATCHES
from gradscope.capture.pending import Pending
from gradscope.capture.tracing import inert
from gradscope.records import ModuleStats
from gradscope.stats.tensors import activation_summary, finish_activations


def finite_check(t: torch.Tensor) -> torch.Tensor:
    """A device scalar that is NaN or Inf when ``t`` holds a NaN or an Inf.

    The plain sum: the cheapest full reduction, about half the cost of a norm on a large
    activation. Accumulated in float32 at least, so a half-precision sum does not overflow.
    """
    v = t.detach()
    if v.is_complex():
        v = torch.view_as_real(v)
    return v.sum(dtype=torch.float32) if v.dtype in (torch.float16, torch.bfloat16) else v.sum()


#: Leaf modules that turn finite inputs into finite outputs, so they cannot be where NaN/Inf
#: first appears. When such a module's input is an output already checked this step, its own
#: output is not checked again (in LeNet-5 that halves the elements the forward checks read).
#: Average pools are left out: a half-precision sum can overflow.
FINITE_PRESERVING: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardsigmoid, nn.Hardswish, nn.Softsign, nn.Softplus,
    nn.Tanhshrink, nn.Threshold, nn.Softmax, nn.LogSoftmax,
    nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.Identity, nn.Flatten, nn.Unflatten,
)  # fmt: skip


def first_tensor(output: Any, depth: int = 0) -> torch.Tensor | None:
    """The first floating tensor in a module output (tensor, tuple, dict, dataclass …)."""
    if isinstance(output, torch.Tensor):
        return output if output.is_floating_point() or output.is_complex() else None
    if depth > 4 or output is None:
        return None
    if isinstance(output, Mapping):
        items: Any = output.values()
    elif isinstance(output, (tuple, list)):
        items = output
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        items = (getattr(output, f.name) for f in dataclasses.fields(output))
    elif isinstance(getattr(output, "data", None), torch.Tensor):  # PackedSequence
        items = (output.data,)
    else:
        return None
    for item in items:
        found = first_tensor(item, depth + 1)
        if found is not None:
            return found
    return None


@dataclass
class _Calls:
    """What one module's forward calls produced in the current step."""

    shape: tuple[int, ...]
    dtype: str
    device: str
    training: bool
    numels: list[int] = field(default_factory=list)
    rows: list[torch.Tensor] = field(default_factory=list)
    grad_norms: list[torch.Tensor] = field(default_factory=list)


Emit = Callable[[str, str, dict[str, Any]], None]


@dataclass(frozen=True)
class _Watched:
    """A watched module, held weakly, with what its hook needs to know about it."""

    ref: weakref.ref[nn.Module]
    path: str
    is_loss: bool
    preserving: bool
    is_dropout: bool
    origin: bool = False  # a parameterless module whose backward may create NaN/Inf


class ModuleWatcher:
    """Forward hooks on every module.

    On logged steps each module output gets a cheap on-device finiteness check, in forward
    order, so the first module where NaN/Inf appeared can be named without a per-module sync;
    an output checked already (a container's, which is its last child's) is not read again.
    On activation steps the full output statistics are taken, and each output's gradient gets
    its norm (``out_grad_norm``) and a finiteness check in backward order; on the other logged
    steps the doctor tells the backward origin from the parameters' gradient NaN/Inf counts,
    which every logged step has, so no tensor hook is paid there.
    """

    def __init__(
        self,
        hooks: HookGroup,
        instrument: Instrument,
        *,
        emit: Emit,
        on_loss: Callable[[torch.Tensor], None] | None = None,
    ) -> None:
        self._hooks = hooks
        self._instrument = instrument
        self._emit = emit
        self._on_loss = on_loss
        self._calls: dict[str, _Calls] = {}
        self.order: list[str] = []
        self._forward_norms: list[tuple[str, torch.Tensor]] = []
        self._backward_norms: list[tuple[str, torch.Tensor]] = []
        self._dropout_outputs: dict[int, tuple[weakref.ref[torch.Tensor], str]] = {}
        self._nonfinite_seen: set[str] = set()
        #: Outputs checked this step, by id, with their version (an in-place op since then could
        #: have brought NaN in): a finite-preserving module fed one needs no check of its own.
        self._checked: dict[int, tuple[weakref.ref[torch.Tensor], int]] = {}
        self._logged = False
        self._activations = False
        self._probing = False
        #: Watched modules by ``id``; BatchNorm ones also in ``_batchnorms``.
        self._watched: dict[int, _Watched] = {}
        self._batchnorms: dict[int, _Watched] = {}
        self._hooked = False
        self._bn_hooked = False
        self._origin = GradOrigin(instrument, emit)
        self._dropout_listeners: list[Any] = []  # F.dropout listeners, while probing

    def begin_step(self, *, logged: bool, activations: bool, probing: bool) -> None:
        """Say what the step starting now records (set by the scope, read by every hook)."""
        self._logged = logged
        self._activations = logged and activations
        self._probing = probing
        if not probing and self._dropout_listeners:
            for handle in self._dropout_listeners:
                handle.remove()
            self._dropout_listeners = []

    def attach(self, modules: list[tuple[str, nn.Module]]) -> None:
        """Watch the forward of each ``(path, module)``; a module watched already keeps its path."""
        for path, module in modules:
            key = id(module)
            if key in self._watched:
                continue
            entry = _Watched(
                weakref.ref(module, self._forget(key)),
                path,
                is_loss=self._on_loss is not None and isinstance(module, nn.modules.loss._Loss),
                preserving=isinstance(module, FINITE_PRESERVING),
                is_dropout=isinstance(module, nn.modules.dropout._DropoutNd),
                origin=is_origin_candidate(module, FINITE_PRESERVING),
            )
            self._watched[key] = entry
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                self._batchnorms[key] = entry
        registry = nn.modules.module
        if self._watched and not self._hooked:
            self._hooked = True
            self._hooks.add(quiet_compile_warning())
            self._hooks.add(registry.register_module_forward_hook(self._forward))
        if self._batchnorms and not self._bn_hooked:
            self._bn_hooked = True
            self._hooks.add(registry.register_module_forward_pre_hook(self._bn_forward_pre))
            if self._probing:
                self._dropout_listeners = [
                    self._hooks.add(p.listen(self._dropout_called)) for p in DROPOUT_PATCHES
                ]

    def _forget(self, key: int) -> Callable[[weakref.ref[nn.Module]], None]:
        """A weakref callback that drops a collected module's entries (its id may be reused)."""
        watched, batchnorms = self._watched, self._batchnorms

        def forget(ref: weakref.ref[nn.Module]) -> None:
            for table in (watched, batchnorms):
                entry = table.get(key)
                if entry is not None and entry.ref is ref:
                    del table[key]

        return forget

    def _forward(self, module: nn.Module, args: Any, output: Any) -> None:
        entry = self._watched.get(id(module))
        if entry is None or not (self._logged or entry.is_loss):  # the common case: one lookup
            return
        if inert():
            return
        instrument = self._instrument
        if not instrument.enabled or not torch.is_grad_enabled():
            return
        if entry.is_loss:
            instrument.run(self._loss_output, output)
        if self._logged:
            source = args[0] if entry.preserving and args else None
            instrument.run(self._record, entry.path, module, output, source, entry.is_dropout)
            if entry.origin:
                instrument.run(self._origin.watch, entry.path, args, output)

    def _bn_forward_pre(self, module: nn.Module, args: Any) -> None:
        if not self._probing or inert():
            return
        entry = self._batchnorms.get(id(module))
        if entry is not None and args and isinstance(args[0], torch.Tensor):
            ref, source = self._dropout_outputs.get(id(args[0]), (None, None))
            # ids of freed tensors are reused: only the very tensor the dropout returned counts
            if source is not None and ref is not None and ref() is args[0]:
                self._emit("dropout_before_batchnorm", entry.path, {"dropout": source})

    def _dropout_called(self, output: Any, input: Any = None, p: float = 0.5,
                        training: bool = True, *args: Any, **kwargs: Any) -> None:  # fmt: skip
        """A functional dropout's output (an ``nn.Dropout``'s forward hook renames it)."""
        training = kwargs.get("training", training)
        if self._probing and training and isinstance(output, torch.Tensor):
            known = self._dropout_outputs.get(id(output))
            if known is None or known[0]() is not output:
                self._dropout_outputs[id(output)] = (weakref.ref(output), "F.dropout")

    def _loss_output(self, output: Any) -> None:
        if isinstance(output, torch.Tensor) and output.numel() == 1 and self._on_loss:
            self._on_loss(output.detach().reshape(()).clone())

    @torch.no_grad()
    def _record(
        self, path: str, module: nn.Module, output: Any, source: Any, is_dropout: bool
    ) -> None:
        t = first_tensor(output)
        if t is None:
            return
        if is_dropout and self._probing:
            self._dropout_outputs[id(t)] = (weakref.ref(t), path)
        if not self._activations:
            if self._was_checked(t):  # a container handing on its last child's output
                return
            skip = source is not None and self._was_checked(source)
            self._checked[id(t)] = (weakref.ref(t), t._version)
            if not skip:  # a skipped output is finite exactly when its checked input is
                self._forward_norms.append((path, finite_check(t)))
            return
        row = activation_summary(t)
        calls = self._calls.get(path)
        if calls is None:
            calls = self._calls[path] = _Calls(
                shape=tuple(t.shape),
                dtype=str(t.dtype).removeprefix("torch."),
                device=str(t.device),
                training=module.training,
            )
            self.order.append(path)
        calls.numels.append(t.numel())
        calls.rows.append(row)
        # The sum of squares is non-finite exactly when the output is.
        self._forward_norms.append((path, row[1]))
        if t.requires_grad:
            t.register_hook(TensorHook(self._make_grad_hook(path, calls)))

    def _was_checked(self, source: Any) -> bool:
        if not isinstance(source, torch.Tensor):
            return False
        entry = self._checked.get(id(source))
        return entry is not None and entry[0]() is source and entry[1] == source._version

    def _make_grad_hook(self, path: str, calls: _Calls) -> Callable[[torch.Tensor], None]:
        def hook(grad: torch.Tensor) -> None:
            if self._instrument.enabled:
                self._instrument.run(self._grad_seen, path, calls, grad)

        return hook

    @torch.no_grad()
    def _grad_seen(self, path: str, calls: _Calls, grad: torch.Tensor) -> None:
        norm = torch.linalg.vector_norm(grad.detach())
        self._backward_norms.append((path, norm))
        calls.grad_norms.append(norm)

    def drain(self, step: int, pending: Pending, out: list[ModuleStats]) -> None:
        """Hand this step's statistics to ``pending``; records land in ``out`` on resolve."""
        calls_by_path, self._calls = self._calls, {}
        order, self.order = self.order, []
        self._dropout_outputs = {}
        for path in order:
            calls = calls_by_path[path]
            rows = torch.stack(calls.rows)
            grads = (
                torch.stack(calls.grad_norms).double().square().sum().sqrt().reshape(1)
                if calls.grad_norms
                else rows.new_full((1,), float("nan"))
            )
            pending.add(
                torch.cat([rows.reshape(-1), grads.to(rows.device)]),
                self._finisher(step, path, calls, out),
                self._instrument,
            )
        for kind, norms in (("nonfinite_forward", self._forward_norms),
                            ("nonfinite_grad", self._backward_norms)):  # fmt: skip
            if norms and kind not in self._nonfinite_seen:
                device = norms[0][1].device
                stacked = torch.stack([n.double().to(device) for _, n in norms])
                pending.add(stacked, self._first_nonfinite(kind, [p for p, _ in norms]),
                            self._instrument)  # fmt: skip
        self._forward_norms = []
        self._backward_norms = []
        self._checked = {}
        self._origin.drain(pending)

    def _first_nonfinite(self, kind: str, paths: list[str]) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            for i, (path, value) in enumerate(zip(paths, values, strict=True)):
                if not math.isfinite(value):
                    self._nonfinite_seen.add(kind)
                    order = "forward" if kind == "nonfinite_forward" else "backward"
                    self._emit(kind, path, {"order": order, "position": i, "of": len(paths)})
                    return

        return finish

    def _finisher(
        self, step: int, path: str, calls: _Calls, out: list[ModuleStats]
    ) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            width = len(values[:-1]) // len(calls.numels)
            rows = [values[i * width : (i + 1) * width] for i in range(len(calls.numels))]
            stats = finish_activations(calls.numels, rows)
            if calls.grad_norms:
                stats["out_grad_norm"] = values[-1]
            out.append(
                ModuleStats(
                    step=step,
                    module=path,
                    calls=len(calls.numels),
                    training=calls.training,
                    shape=calls.shape,
                    dtype=calls.dtype,
                    device=calls.device,
                    values=stats,
                )
            )

        return finish
