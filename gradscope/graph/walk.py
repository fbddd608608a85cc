"""Traverse ``grad_fn.next_functions`` from output tensors into flat, plain data.

The node and edge sets are those of torchviz's ``make_dot`` (our acceptance tests compare them):
one node per backward function, one per leaf tensor behind an ``AccumulateGrad``, one per output
and per output view's base, and the tensors a custom ``autograd.Function`` saved (always) or a
built-in node saved (``saved=True``). Tensors are identified by Python object as torchviz does,
so a saved tensor that is also a leaf is one node with two edges.

The walk is iterative (a graph 100,000 ops deep is fine). A node gets its index when it is first
discovered, as an input of a node being expanded, and inputs are expanded depth-first in
``next_functions`` order, so ids are stable. This is the hot path of capture: it reads from the
live objects what the records need (class, output shapes and dtypes, sequence numbers, leaf
tensors) and stores the common nodes and edges as cheap raw entries (:mod:`gradscope.graph.raw`)
that become records when the graph is first read; discovering a plain op is inlined in the loop.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import torch

from gradscope.graph.model import FUNCTION_KINDS, Edge, EdgeKind, Node, NodeKind
from gradscope.graph.raw import (
    ACCUMULATE,
    ACCUMULATE_TYPE,
    PLAIN,
    TYPES,
    Meta,
    NameMap,
    TypeInfo,
    Walked,
    dtype_name,
    name_leaf,
    node_ids,
    to_node,
    type_info,
)  # fmt: skip
from gradscope.graph.saved import custom_function, saved_attrs

#: When one tensor plays several roles, its node shows the strongest.
_RANK = {"saved": 0, "base": 1, "leaf": 2, "param": 2, "output": 3}


def walk_grad_fn(
    roots: Sequence[torch.Tensor],
    *,
    names: NameMap | None = None,
    tensor_names: Mapping[tuple[int, int], tuple[str, bool]] | None = None,
    saved: bool = False,
    attrs: bool = False,
    sequence: bool = False,
) -> Walked:
    """Walk the autograd graph behind ``roots``.

    ``names`` maps ``id(tensor)`` to (name, aliases, is_parameter); ``tensor_names`` maps
    ``(id(grad_fn), output_nr)`` of named intermediate tensors to (name, retains_grad);
    ``sequence`` records each function's sequence number (for module attribution).
    """
    names = names or {}
    raw: list[Any] = []
    metas: list[Meta] = []
    edges: list[Any] = []
    seqs: list[int | None] | None = [] if sequence else None
    out = Walked(raw, metas, edges, names, seqs)
    shared: dict[Any, Any] = {}  # (shape, dtype) -> the one pair kept for it
    index: dict[int, int] = {}  # id(grad_fn or tensor) -> its node index
    live: list[Any] = []  # every tensor whose id() is a key stays alive until the walk ends
    fns, accs = out.fns, out.accs
    customs: set[int] = set()  # custom Functions: their saved tensors are drawn when expanded

    def built(i: int) -> Node:
        """The record of node ``i``, built now (to be labelled or linked to a tensor node)."""
        node = raw[i]
        if node.__class__ is not Node:
            node = raw[i] = to_node(i, node, names)
        return node

    def new_index(key: int, entry: Any, meta: Meta, seq: int | None) -> int:
        i = len(raw)
        index[key] = i
        raw.append(entry)
        metas.append(meta)
        if seqs is not None:
            seqs.append(seq)
        return i

    def tensor_node(t: torch.Tensor, kind: NodeKind, name: str = "") -> Node:
        i = index.get(id(t))
        if i is not None:
            node = built(i)
            if _RANK[kind] > _RANK[node.kind]:  # a saved tensor that is also a leaf or output
                node.kind, node.name = kind, name
                name_leaf(node, id(t), _is_param(t, names), names)
            return node
        i = len(raw)
        node = Node(
            node_ids(i + 1)[i], kind, name, tuple(t.shape), dtype_name(t.dtype), None, None,
            t.requires_grad, t.is_leaf, t.retains_grad,
        )  # fmt: skip
        name_leaf(node, id(t), _is_param(t, names), names)
        new_index(id(t), node, None, None)
        live.append(t)
        return node

    def edge(
        src: Node, dst: Node, kind: EdgeKind, t: torch.Tensor, name: str | None = None
    ) -> None:
        edges.append(Edge(src.id, dst.id, kind, tuple(t.shape), dtype_name(t.dtype), 0, name))

    def accumulate(fn: Any) -> int:
        """An ``AccumulateGrad`` and the leaf behind it (whose shape its output has)."""
        var = fn.variable
        sd = (tuple(var.shape), var.dtype)
        sd = shared.setdefault(sd, sd)
        i = new_index(id(fn), ACCUMULATE, sd, None)
        fns.append(fn)
        key = id(var)
        leaf = index.get(key)
        if leaf is None:  # a leaf's metadata is its own shape and dtype, as its edge carries
            is_param = key not in names and isinstance(var, torch.nn.Parameter)
            entry = (key, sd[0], sd[1], var.requires_grad, var.is_leaf, var.retains_grad, is_param)
            leaf = new_index(key, entry, sd, None)
            live.append(var)
            edges.append((leaf, i, 0, 0))
        else:
            node = tensor_node(var, "leaf")
            edges.append(Edge(node.id, node_ids(i + 1)[i], "flow", node.shape, node.dtype))
        accs.append((i, leaf))
        out.leaves[key] = leaf
        return i

    def discover(fn: Any) -> int:
        """Give ``fn`` the next index and read what its record needs (outside the hot loop)."""
        info = type_info(fn.__class__)
        if info.kind == "accumulate":
            return accumulate(fn)
        n = len(raw)
        entry = info if info.kind == "op" else Node(node_ids(n + 1)[n], info.kind, info.name)
        try:
            meta = metadata(fn._input_metadata)
        except RuntimeError:
            meta = None
        i = new_index(id(fn), entry, meta, fn._sequence_nr() if seqs is not None else None)
        fns.append(fn)
        if info.kind == "custom":
            customs.add(i)
        return i

    def metadata(md: Any) -> Meta:
        """(shape, dtype) of each forward output, one pair shared by equal outputs."""
        pairs = [shared.setdefault(sd, sd) for sd in ((tuple(m.shape), m.dtype) for m in md)]
        return pairs[0] if len(pairs) == 1 else pairs or None

    def expand(fn: Any, i: int) -> None:
        """What a node adds once its inputs are discovered: saved tensors and attributes."""
        if i in customs:
            custom_function(fn, raw[i], tensor_node, edge, out.notes)
        if saved or attrs:
            info = TYPES[fn.__class__]
            if info.saved:
                saved_attrs(
                    fn, built(i), info.saved, saved=saved, attrs=attrs,
                    tensor_node=tensor_node, edge=edge, notes=out.notes,
                )  # fmt: skip

    def visit(start: Any) -> int:
        """Discover ``start`` and everything upstream of it, depth first."""
        i = index.get(id(start))
        if i is not None:
            return i
        first = discover(start)
        stack = [(start, first)]
        pop, push = stack.pop, stack.append
        add_edge, add_raw, add_meta, add_fn = edges.append, raw.append, metas.append, fns.append
        get, share, plain, accumulate_type = index.get, shared.setdefault, PLAIN, ACCUMULATE_TYPE
        post = saved or attrs
        while stack:
            fn, i = pop()
            mark = len(stack)
            slot = -1
            for u, nr in fn.next_functions:
                slot += 1
                if u is None:
                    continue
                key = id(u)
                j = get(key)
                if j is None:
                    cls = u.__class__
                    info = plain.get(cls)
                    if info is None:  # AccumulateGrad, a custom Function, a class not seen yet
                        j = accumulate(u) if cls is accumulate_type else discover(u)
                    else:  # discover() inlined for the common case, a plain op
                        j = len(raw)
                        index[key] = j
                        add_raw(info)
                        add_fn(u)
                        try:
                            md = u._input_metadata
                            if len(md) == 1:
                                m = md[0]
                                sd = (tuple(m.shape), m.dtype)
                                add_meta(share(sd, sd))
                            else:
                                add_meta(metadata(md))
                        except RuntimeError:
                            add_meta(None)
                        if seqs is not None:
                            seqs.append(u._sequence_nr())
                    push((u, j))
                add_edge((j, i, nr, slot))
            if len(stack) - mark > 1:  # the first input is expanded first
                stack[mark:] = stack[mark:][::-1]
            if post or (customs and i in customs):
                expand(fn, i)
        return first

    def add_root(t: torch.Tensor, kind: NodeKind, name: str) -> Node:
        """An output (or an output view's base), as torchviz's ``add_base_tensor``."""
        if id(t) in index:
            return tensor_node(t, kind, name)
        node = tensor_node(t, kind, name)
        if t.grad_fn is not None:
            fn_node = built(visit(t.grad_fn))
            edge(fn_node, node, "flow", t)
            out.slots.setdefault(fn_node.id, []).append((node.id, t.output_nr))
        if t._is_view():
            base = add_root(cast(torch.Tensor, t._base), "base", f"base of {name}")
            edges.append(Edge(base.id, node.id, "view", base.shape, base.dtype))
        return node

    with gc_paused():
        for i, root in enumerate(roots):
            add_root(root, "output", "output" if len(roots) == 1 else f"output[{i}]")
    if tensor_names:
        for (fn_key, _nr), (name, retains) in tensor_names.items():
            j = index.get(fn_key)
            if j is not None:  # a named intermediate: label the op that produced it
                node = built(j)
                node.tensors = (*node.tensors, f"{name} (retains_grad)" if retains else name)
    live.clear()
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause automatic garbage collection while the walk runs, as ``timeit`` does.

    The walk keeps a few small objects per node until it returns, and none of them form
    cycles; the collector would still run every 700 of them and traverse all young objects
    each time, which cost a quarter of capture time on the 12-layer benchmark encoder. The
    collector is switched back on afterwards (only if it was on): the objects still alive are
    then collected once, in the ordinary way.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _is_param(t: torch.Tensor, names: NameMap) -> bool:
    """Whether an unnamed tensor is a Parameter (the check runs Python code: skip it when the
    name map, which knows, has the tensor)."""
    return id(t) not in names and isinstance(t, torch.nn.Parameter)


def function_ids(walked: Walked) -> list[str]:
    """Node ids of the backward functions, in the order of ``walked.fns``."""
    ids = node_ids(len(walked.nodes))
    return [
        ids[i]
        for i, r in enumerate(walked.nodes)
        if r.__class__ is TypeInfo or (r.__class__ is Node and r.kind in FUNCTION_KINDS)
    ]


def heat_slots(walked: Walked) -> dict[str, list[tuple[str, int]]]:
    """Function node id → tensor nodes that take the gradient of one of its outputs: the roots
    (``walked.slots``) and the leaf behind each ``AccumulateGrad``."""
    ids = node_ids(len(walked.nodes))
    slots = {k: list(v) for k, v in walked.slots.items()}
    for acc, leaf in walked.accs:
        slots[ids[acc]] = [(ids[leaf], 0)]
    return slots
