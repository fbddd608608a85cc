"""What the walk stores per node and edge, and how a node entry becomes a :class:`Node`.

Building one record per node and edge costs more than the traversal itself (docs/graph.md,
Benchmark), and so do the many small objects a naive walk keeps (each surviving tuple counts
toward the next garbage collection). So the walk keeps the common entries as values that are
cheap to make or shared, and :mod:`gradscope.graph.build` makes records of them later:

- a plain op or an ``AccumulateGrad``: its per-class :class:`TypeInfo`, shared by every node of
  that class;
- a leaf reached through ``AccumulateGrad``: a :data:`RawLeaf` tuple of what was read from the
  tensor (nothing live: its ``id()`` only serves to look its name up in the name map, which was
  made while the tensor was alive);
- the metadata of a node's outputs: one ``(shape, dtype)`` pair, shared by every node whose
  output has that shape and dtype, or a list of them for a node with several outputs;
- a flow edge from a backward function: a :data:`RawEdge` tuple of indices;
- anything rarer (outputs, saved tensors, custom Functions, nodes with attributes): a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch.autograd.function import BackwardCFunction

from gradscope.graph.model import Node, NodeKind
from gradscope.graph.saved import SAVED_PREFIX

#: Backward nodes of view operations (base names, version suffix stripped).
VIEW_OPS = frozenset({
    "View", "T", "Transpose", "Permute", "Expand", "Slice", "Select", "Unsqueeze", "Squeeze",
    "AsStrided", "Alias", "Diagonal", "Unbind", "Split", "SplitWithSizes", "Narrow",
    "ReshapeAlias", "Unfold", "ViewAsReal", "ViewAsComplex", "Values", "Indices", "Chunk",
    "Movedim", "Real", "Imag",
})  # fmt: skip

#: (id(tensor), shape, dtype, requires_grad, is_leaf, retains_grad, is a Parameter).
RawLeaf = tuple[int, tuple[int, ...], torch.dtype, bool, bool, bool, bool]
#: (source index, destination index, output number of the source, input slot of the
#: destination); the edge's shape is the source's metadata for that output.
RawEdge = tuple[int, int, int, int]
#: A node's output metadata: None (none known), a (shape, dtype) pair, or a list of them.
Meta = tuple[tuple[int, ...], torch.dtype] | list[tuple[tuple[int, ...], torch.dtype]] | None
#: Names of tensors by ``id()``: (name, aliases, is a parameter).
NameMap = Mapping[int, tuple[str, tuple[str, ...], bool]]


class TypeInfo(NamedTuple):
    """What every backward function of one class shares (computed once per class)."""

    name: str
    kind: NodeKind
    saved: tuple[str, ...]
    is_view: bool


@dataclass
class Walked:
    """What the walk found, in node order.

    ``nodes`` holds a :class:`Node`, a :class:`TypeInfo` or a :data:`RawLeaf`; ``metas`` each
    node's :data:`Meta`; ``edges`` an :class:`Edge` or a :data:`RawEdge`; ``names`` is the name
    map leaves are named from; ``seqs`` each function node's sequence number (None for tensors;
    only when asked for); ``accs`` (AccumulateGrad index, leaf index) pairs. ``fns`` holds the
    live backward functions for the caller to register hooks on (drop it when done); ``leaves``
    maps ``id()`` of each leaf reached through ``AccumulateGrad`` to its node index; ``slots``
    maps a function node's id to the output and base nodes that take the gradient of one of
    its outputs."""

    nodes: list[Any]
    metas: list[Meta]
    edges: list[Any]
    names: NameMap
    seqs: list[int | None] | None = None
    accs: list[tuple[int, int]] = field(default_factory=list)
    fns: list[Any] = field(default_factory=list)
    leaves: dict[int, int] = field(default_factory=dict)
    slots: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


#: Node fields from ``shape`` to ``members`` as a plain op leaves them.
_UNSET = (None, None, None, None, None, None, None, None, (), (), (), ())
#: TypeInfo of the classes seen so far; plain ops only in ``PLAIN`` (the hot loop's one lookup).
TYPES: dict[type, TypeInfo] = {}
PLAIN: dict[type, TypeInfo] = {}
_DTYPES: dict[torch.dtype, str] = {}
_IDS: list[str] = []


def type_info(t: type) -> TypeInfo:
    """The (cached) :class:`TypeInfo` of a backward function class."""
    info = TYPES.get(t)
    if info is not None:
        return info
    name = t.__name__
    kind: NodeKind
    if issubclass(t, BackwardCFunction):
        kind = "custom"
    elif name == "AccumulateGrad":
        kind = "accumulate"
    else:
        kind = "op"
    saved = tuple(a for a in dir(t) if a.startswith(SAVED_PREFIX))
    base = name.rstrip("0123456789").removesuffix("Backward")
    info = TYPES[t] = TypeInfo(name, kind, saved, base in VIEW_OPS)
    if kind == "op":
        PLAIN[t] = info
    return info


#: The class of the nodes that write a leaf's ``.grad`` (None if torch stops exposing it: then
#: they are told by name, outside the hot loop), and their TypeInfo.
ACCUMULATE_TYPE: type | None = getattr(torch._C._functions, "AccumulateGrad", None)
ACCUMULATE = TypeInfo("AccumulateGrad", "accumulate", (), False)
if ACCUMULATE_TYPE is not None:
    ACCUMULATE = type_info(ACCUMULATE_TYPE)


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` → ``"float32"``, cached."""
    s = _DTYPES.get(dtype)
    if s is None:
        s = _DTYPES[dtype] = str(dtype).removeprefix("torch.")
    return s


def node_ids(n: int) -> list[str]:
    """The shared list of counter ids ``n0``, ``n1`` …, at least ``n`` long."""
    while len(_IDS) < n:
        _IDS.extend(f"n{i}" for i in range(len(_IDS), len(_IDS) + 1024))
    return _IDS


def to_node(i: int, r: Any, names: NameMap) -> Node:
    """The record of raw entry ``r`` at index ``i``."""
    node_id = node_ids(i + 1)[i]
    if r.__class__ is Node:
        return r
    if r.__class__ is TypeInfo:
        return Node(node_id, r.kind, r.name, *_UNSET, r.is_view)
    key, shape, dt, requires_grad, is_leaf, retains, is_param = r
    node = Node(
        node_id, "leaf", "", shape, dtype_name(dt), None, None,
        requires_grad, is_leaf, retains,
    )  # fmt: skip
    name_leaf(node, key, is_param, names)
    return node


def name_leaf(node: Node, key: int, is_param: bool, names: NameMap) -> None:
    """Give a tensor node its user-facing name and, for parameters, the owning module."""
    known = names.get(key)
    if known is not None:
        node.name, node.aliases, named_param = known
        if node.kind == "leaf" and named_param:
            node.kind = "param"
    elif node.kind == "leaf" and is_param:
        node.kind = "param"
    if node.kind == "param" and node.name:
        node.module = node.name.rpartition(".")[0]
