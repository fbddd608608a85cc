"""``capture_graph``: one call from an output tensor (or a forward to run) to a :class:`Graph`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import torch
from torch import nn

from gradscope.errors import GradscopeError
from gradscope.graph.attribution import ModuleRecord, record_modules
from gradscope.graph.breaks import RECORD_HINT, ParamReach, find_breaks
from gradscope.graph.collapse import AUTO_MAX_NODES, auto_depth, collapse
from gradscope.graph.heat import HeatRecorder
from gradscope.graph.model import FUNCTION_KINDS, GradHeat, Graph, ModuleCall, Node
from gradscope.graph.walk import walk_grad_fn

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
) -> Graph:
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
) -> Graph:
    from gradscope.capture.naming import unwrap

    module = unwrap(model) if model is not None else None
    known, tensor_names, named = _name_maps(module, names)
    hold = [t.grad_fn for t in (names or {}).values()]  # keeps the ids in tensor_names valid
    locate = record.locate if record is not None else None
    walked = walk_grad_fn(
        roots, names=known, tensor_names=tensor_names, saved=saved, attrs=attrs, locate=locate
    )
    calls = list(record.calls) if record is not None else []
    if calls:
        _place_params(walked.nodes, walked.edges, calls)
    notes = list(walked.notes)
    breaks = []
    if module is not None:
        reach = [ParamReach(n, a, p.requires_grad, id(p) in walked.leaves) for n, a, p in named]
        if not all(r.reached for r in reach):
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
        fn_nodes = (n.id for n in walked.nodes if n.kind in FUNCTION_KINDS)  # same order as fns
        HeatRecorder(heat, walked.slots).attach(zip(fn_nodes, walked.fns, strict=True))
    walked.fns.clear()  # the graph keeps no live autograd objects
    del hold
    return Graph(walked.nodes, walked.edges, calls, breaks, notes, heat)


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


def _name_maps(
    module: nn.Module | None, names: Mapping[str, torch.Tensor] | None
) -> tuple[dict, dict, list[tuple[str, tuple[str, ...], torch.Tensor]]]:
    """Names for tensors: model parameters (tied ones once, with aliases) and user names; user
    names of intermediate tensors go to the op that produced them."""
    known: dict[int, tuple[str, tuple[str, ...], bool]] = {}
    named: list[tuple[str, tuple[str, ...], torch.Tensor]] = []
    if module is not None:
        first: dict[int, list[str]] = {}
        params: dict[int, torch.Tensor] = {}
        for name, p in module.named_parameters(remove_duplicate=False):
            first.setdefault(id(p), []).append(name)
            params[id(p)] = p
        for key, all_names in first.items():
            aliases = tuple(all_names[1:])
            known[key] = (all_names[0], aliases, True)
            named.append((all_names[0], aliases, params[key]))
    tensor_names: dict[tuple[int, int], tuple[str, bool]] = {}
    for name, t in (names or {}).items():
        if not isinstance(t, torch.Tensor):
            raise GradscopeError(f"names must map names to tensors, got {name}={t!r}")
        if t.grad_fn is not None:
            tensor_names[(id(t.grad_fn), t.output_nr)] = (name, t.retains_grad)
        known.setdefault(id(t), (name, (), isinstance(t, nn.Parameter)))
    return known, tensor_names, named


def _place_params(nodes: list[Node], edges: list, calls: list[ModuleCall]) -> None:
    """Put each parameter (and its AccumulateGrad) in the innermost call, among those its first
    user ran in, whose module owns it, so clusters and collapsed modules contain their weights.
    Owners that never run themselves (``out_proj`` inside ``MultiheadAttention``) fall back to
    the nearest enclosing call."""
    by_id = {n.id: n for n in nodes}
    users: dict[str, list[int]] = {}
    for e in edges:
        if e.kind == "flow" and by_id[e.src].kind == "accumulate":
            call = by_id[e.dst].call
            if call is not None:
                users.setdefault(e.src, []).append(call)
    for e in edges:
        acc = by_id[e.dst]
        if e.kind != "flow" or acc.kind != "accumulate" or by_id[e.src].kind != "param":
            continue
        param = by_id[e.src]
        owner = param.module or ""
        for call in users.get(acc.id, ())[:1]:
            c: int | None = call
            while c is not None and not _owns(calls[c].path, owner):
                c = calls[c].parent
            acc.call = param.call = c


def _owns(path: str, owner: str) -> bool:
    return not path or owner == path or owner.startswith(path + ".")


def _backward(roots: list[torch.Tensor]) -> None:
    loss = roots[0]
    if len(roots) != 1 or loss.numel() != 1:
        raise GradscopeError(
            "grads=True with a function needs it to return one scalar loss to call backward() on"
        )
    loss.backward()
