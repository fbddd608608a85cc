"""Traverse ``grad_fn.next_functions`` from output tensors into plain :class:`Node`/:class:`Edge`.

The node and edge sets are those of torchviz's ``make_dot`` (our acceptance tests compare them):
one node per backward function, one per leaf tensor behind an ``AccumulateGrad``, one per output
and per output view's base, and the tensors a custom ``autograd.Function`` saved (always) or a
built-in node saved (``saved=True``). Tensors are identified by Python object as torchviz does,
so a saved tensor that is also a leaf is one node with two edges.

The walk is iterative (a graph 100,000 ops deep is fine). A node gets its id when it is first
discovered, as an input of a node being expanded, and inputs are expanded depth-first in
``next_functions`` order, so ids are stable. This is the hot path of capture, hence the
local-variable style and the per-type caches: each backward function is touched once, and its
output shapes are read right away (keeping the metadata objects alive costs more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.autograd.function import BackwardCFunction

from gradscope.graph.model import Edge, Node
from gradscope.graph.saved import SAVED_PREFIX, custom_function, saved_attrs

#: Backward nodes of view operations (base names, version suffix stripped).
VIEW_OPS = frozenset({
    "View", "T", "Transpose", "Permute", "Expand", "Slice", "Select", "Unsqueeze", "Squeeze",
    "AsStrided", "Alias", "Diagonal", "Unbind", "Split", "SplitWithSizes", "Narrow",
    "ReshapeAlias", "Unfold", "ViewAsReal", "ViewAsComplex", "Values", "Indices", "Chunk",
    "Movedim", "Real", "Imag",
})  # fmt: skip
#: When one tensor plays several roles, its node shows the strongest.
_RANK = {"saved": 0, "base": 1, "leaf": 2, "param": 2, "output": 3}


@dataclass
class Walked:
    """What :func:`walk_grad_fn` found. ``fns`` holds the live backward functions, in node order,
    for the caller to register hooks on (drop it when done); ``leaves`` maps ``id()`` of each leaf
    reached through ``AccumulateGrad`` to its node; ``slots`` maps a function node to the tensor
    nodes that take the gradient of one of its outputs (output roots, leaves)."""

    nodes: list[Node]
    edges: list[Edge]
    fns: list[Any] = field(default_factory=list)
    leaves: dict[int, str] = field(default_factory=dict)
    slots: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _TypeInfo:
    name: str
    kind: str
    saved: tuple[str, ...]
    is_view: bool
    special: bool = False


_TYPES: dict[type, _TypeInfo] = {}
_DTYPES: dict[torch.dtype, str] = {}
_IDS: list[str] = []


def _type_info(t: type) -> _TypeInfo:
    name = t.__name__
    if issubclass(t, BackwardCFunction):
        kind = "custom"
    elif name == "AccumulateGrad":
        kind = "accumulate"
    else:
        kind = "op"
    saved = tuple(a for a in dir(t) if a.startswith(SAVED_PREFIX))
    base = name.rstrip("0123456789").removesuffix("Backward")
    info = _TYPES[t] = _TypeInfo(name, kind, saved, base in VIEW_OPS, kind != "op")
    return info


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` → ``"float32"``, cached (called once per edge)."""
    s = _DTYPES.get(dtype)
    if s is None:
        s = _DTYPES[dtype] = str(dtype).removeprefix("torch.")
    return s


def _node_id(n: int) -> str:
    while len(_IDS) <= n:
        _IDS.extend(f"n{i}" for i in range(len(_IDS), len(_IDS) + 1024))
    return _IDS[n]


def walk_grad_fn(
    roots: Sequence[torch.Tensor],
    *,
    names: Mapping[int, tuple[str, tuple[str, ...], bool]] | None = None,
    tensor_names: Mapping[tuple[int, int], tuple[str, bool]] | None = None,
    saved: bool = False,
    attrs: bool = False,
    locate: Callable[[int], int | None] | None = None,
) -> Walked:
    """Walk the autograd graph behind ``roots``.

    ``names`` maps ``id(tensor)`` to (name, aliases, is_parameter); ``tensor_names`` maps
    ``(id(grad_fn), output_nr)`` of named intermediate tensors to (name, retains_grad);
    ``locate`` maps a node's sequence number to the index of the module call that created it.
    """
    names = names or {}
    nodes: list[Node] = []
    edges: list[Edge] = []
    out = Walked(nodes, edges)
    ids: dict[int, Node] = {}  # id(grad_fn or tensor) -> its node
    meta: dict[int, tuple] = {}  # id(grad_fn) -> ((shape, dtype) of each forward output)
    live: list[Any] = []  # every object whose id() is a key stays alive until the walk ends
    fns = out.fns
    types, dtypes = _TYPES, _DTYPES

    def tensor_node(t: torch.Tensor, kind: str, name: str = "") -> Node:
        node = ids.get(id(t))
        if node is not None:
            if _RANK[kind] > _RANK[node.kind]:  # a saved tensor that is also a leaf or output
                node.kind, node.name = kind, name
                _name_leaf(node, t, names)
            return node
        node = Node(
            _node_id(len(nodes)), kind, name, tuple(t.shape), dtype_name(t.dtype), None, None,
            t.requires_grad, t.is_leaf, t.retains_grad,
        )  # fmt: skip
        _name_leaf(node, t, names)
        nodes.append(node)
        ids[id(t)] = node
        live.append(t)
        return node

    def edge(src: Node, dst: Node, kind: str, t: torch.Tensor, name: str | None = None) -> None:
        edges.append(Edge(src.id, dst.id, kind, tuple(t.shape), dtype_name(t.dtype), 0, name))

    def discover(fn: Any) -> Node:
        t = type(fn)
        info = types.get(t) or _type_info(t)
        n = len(nodes)
        node = Node(_IDS[n] if n < len(_IDS) else _node_id(n), info.kind, info.name)
        nodes.append(node)
        key = id(fn)
        ids[key] = node
        fns.append(fn)
        if info.special:
            _special(fn, node, info)
            return node
        try:
            md = fn._input_metadata
            if len(md) == 1:
                m = md[0]
                meta[key] = ((tuple(m.shape), m.dtype),)
            else:
                meta[key] = tuple((tuple(m.shape), m.dtype) for m in md)
        except RuntimeError:
            meta[key] = ()
        if locate is not None:
            node.call = locate(fn._sequence_nr())
        return node

    def _special(fn: Any, node: Node, info: _TypeInfo) -> None:
        """AccumulateGrad (a leaf behind it, whose shape is the output's) and custom Functions."""
        if info.kind == "accumulate":
            var = fn.variable
            leaf = tensor_node(var, "leaf")
            meta[id(fn)] = ((leaf.shape, var.dtype),)
            out.leaves[id(var)] = leaf.id
            out.slots[node.id] = [(leaf.id, 0)]
            node.module = leaf.module
            edges.append(Edge(leaf.id, node.id, "flow", leaf.shape, leaf.dtype))
            return
        meta[id(fn)] = tuple((tuple(m.shape), m.dtype) for m in fn._input_metadata)
        if locate is not None:
            node.call = locate(fn._sequence_nr())

    def visit(start: Any) -> Node:
        """Discover ``start`` and everything upstream of it, depth first."""
        if id(start) in ids:
            return ids[id(start)]
        first = discover(start)
        stack = [(start, first)]
        pop, push = stack.pop, stack.append
        add_edge = edges.append
        while stack:
            fn, node = pop()
            dst = node.id
            found = []
            slot = -1
            for u, nr in fn.next_functions:
                slot += 1
                if u is None:
                    continue
                key = id(u)
                src = ids.get(key)
                if src is None:
                    src = discover(u)
                    found.append((u, src))
                shapes = meta[key]
                if nr < len(shapes):
                    shape, dt = shapes[nr]
                    add_edge(
                        Edge(src.id, dst, "flow", shape, dtypes.get(dt) or dtype_name(dt), slot)
                    )
                else:
                    add_edge(Edge(src.id, dst, "flow", None, None, slot))
            while found:  # the first input is expanded first
                push(found.pop())
            if node.kind == "custom":
                custom_function(fn, node, tensor_node, edge, out.notes)
            elif node.kind == "op" and types[type(fn)].is_view:
                node.is_view = True
            if saved or attrs:
                info = types[type(fn)]
                if info.saved:
                    saved_attrs(
                        fn, node, info.saved, saved=saved, attrs=attrs,
                        tensor_node=tensor_node, edge=edge, notes=out.notes,
                    )  # fmt: skip
        return first

    def add_root(t: torch.Tensor, kind: str, name: str) -> Node:
        """An output (or an output view's base), as torchviz's ``add_base_tensor``."""
        if id(t) in ids:
            return tensor_node(t, kind, name)
        node = tensor_node(t, kind, name)
        if t.grad_fn is not None:
            fn_node = visit(t.grad_fn)
            edge(fn_node, node, "flow", t)
            out.slots.setdefault(fn_node.id, []).append((node.id, t.output_nr))
        if t._is_view():
            base = add_root(t._base, "base", f"base of {name}")
            edges.append(Edge(base.id, node.id, "view", base.shape, base.dtype))
        return node

    for i, root in enumerate(roots):
        add_root(root, "output", "output" if len(roots) == 1 else f"output[{i}]")
    if tensor_names:
        for (fn_key, _nr), (name, retains) in tensor_names.items():
            node = ids.get(fn_key)
            if node is not None:  # a named intermediate: label the op that produced it
                node.tensors = (*node.tensors, f"{name} (retains_grad)" if retains else name)
    live.clear()
    return out


def _name_leaf(node: Node, t: torch.Tensor, names: Mapping) -> None:
    """Give a tensor node its user-facing name and, for parameters, the owning module."""
    known = names.get(id(t))
    if known is not None:
        node.name, node.aliases, is_param = known
        if node.kind == "leaf" and is_param:
            node.kind = "param"
    elif node.kind == "leaf" and isinstance(t, torch.nn.Parameter):
        node.kind = "param"
    if node.kind == "param" and node.name:
        node.module = node.name.rpartition(".")[0]
