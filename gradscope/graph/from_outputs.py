"""``capture_graph``: one call from an output tensor (or a forward to run) to a :class:`Graph`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal

import torch
from torch import nn

from gradscope.errors import GradscopeError
from gradscope.graph.attribution import ModuleRecord, record_modules
from gradscope.graph.breaks import RECORD_HINT, ParamReach, find_breaks
from gradscope.graph.build import Attribution, build_records
from gradscope.graph.collapse import AUTO_MAX_NODES, auto_depth, collapse
from gradscope.graph.heat import HeatRecorder
from gradscope.graph.model import GradHeat, GraphData
from gradscope.graph.names import name_maps
from gradscope.graph.walk import function_ids, heat_slots, walk_grad_fn

Outputs = torch.Tensor | Iterable[torch.Tensor]
_CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def capture_graph(
    output: Outputs | Callable[[], Outputs],
    *,
    model: nn.Module | None = None,
    names: Mapping[str, torch.Tensor] | None = None,
    grads: bool = False,
    saved: bool = False,
    attrs: bool = False,
    depth: int | Literal["auto"] | None = "auto",
    record: ModuleRecord | None = None,
    max_nodes: int = AUTO_MAX_NODES,
) -> GraphData:
    """The autograd graph behind ``output``, as plain data.

    ``output`` is a tensor, a sequence of tensors, or a function that runs the forward and
    returns them; with a function and a ``model`` the forward runs under
    :func:`~gradscope.graph.record_modules`, so nodes are attributed to modules and the break
    report can say why a parameter is cut (``record=`` passes a recording made by hand).
    ``names`` names any tensor (leaf or intermediate), like torchviz's ``params``.
    ``grads=True`` registers hooks so the next ``backward()`` fills a gradient heat map (with a
    function, that backward runs here); ``saved`` adds the tensors each node saved for backward
    as nodes, ``attrs`` their shapes and scalar attributes in the labels.
    ``depth=k`` collapses module calls k levels deep into single nodes; ``"auto"`` does so only
    for graphs over ``max_nodes`` nodes; ``None`` never does.
    """
    if model is not None and not isinstance(model, nn.Module):
        raise GradscopeError(
            f"capture_graph expects model to be an nn.Module, got {type(model).__name__}"
        )
    run_backward = False
    if callable(output) and not isinstance(output, torch.Tensor):
        if model is None:
            raise GradscopeError("capture_graph(fn) needs model= to record the forward against")
        if record is not None:
            raise GradscopeError("pass either a function to run or record=, not both")
        with record_modules(model) as record:
            output = output()
        run_backward = grads
    roots = _roots(output)
    graph = _capture(roots, model, names, grads, saved, attrs, record)
    if run_backward:
        _backward(roots)
    if depth == "auto":
        k = auto_depth(graph, max_nodes)
        return graph if k is None else collapse(graph, k)
    if depth is not None:
        return collapse(graph, depth)
    return graph


def _capture(
    roots: list[torch.Tensor],
    model: nn.Module | None,
    names: Mapping[str, torch.Tensor] | None,
    grads: bool,
    saved: bool,
    attrs: bool,
    record: ModuleRecord | None,
) -> GraphData:
    from gradscope.capture.naming import unwrap

    module = unwrap(model) if model is not None else None
    known, tensor_names, params = name_maps(module, names)
    hold = [t.grad_fn for t in (names or {}).values()]  # keeps the ids in tensor_names valid
    walked = walk_grad_fn(
        roots, names=known, tensor_names=tensor_names, saved=saved, attrs=attrs,
        sequence=record is not None,
    )  # fmt: skip
    calls = [replace(c) for c in record.calls] if record is not None else []  # renumbered
    notes = list(walked.notes)
    breaks = []
    if module is not None:
        leaves = walked.leaves
        if not all(key in leaves for key in params):
            reach = [
                ParamReach(*known[key][:2], p.requires_grad, key in leaves)
                for key, p in params.items()
            ]
            containers = frozenset(
                p for p, m in module.named_modules() if isinstance(m, _CONTAINERS)
            )
            breaks = find_breaks(reach, record, containers=containers)
        if record is None:
            notes.append(f"module attribution needs a recorded forward: {RECORD_HINT}")
    if record is not None:
        notes.extend(record.errors)
    heat = None
    if grads:
        heat = GradHeat()
        HeatRecorder(heat, heat_slots(walked)).attach(
            zip(function_ids(walked), walked.fns, strict=True)
        )
    walked.fns.clear()  # the graph keeps no live autograd objects
    del hold
    attribution = None if record is None else Attribution(record.bounds, record.owners, calls)
    return GraphData.deferred(
        lambda: build_records(walked, attribution),
        (len(walked.nodes), len(walked.edges)),
        calls=calls, breaks=breaks, notes=notes, heat=heat,
    )  # fmt: skip


def _roots(output: Any) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    if (
        isinstance(output, (list, tuple))
        and output
        and all(isinstance(t, torch.Tensor) for t in output)
    ):
        return list(output)
    raise GradscopeError(
        f"capture_graph expects a tensor or a sequence of tensors, got {type(output).__name__}"
    )


def _backward(roots: list[torch.Tensor]) -> None:
    loss = roots[0]
    if len(roots) != 1 or loss.numel() != 1:
        raise GradscopeError(
            "grads=True with a function needs it to return one scalar loss to call backward() on"
        )
    loss.backward()
