"""The autograd graph as plain data: nodes, edges, module calls, graph breaks.

Nothing here holds a tensor, a ``grad_fn`` or a module, so a captured :class:`Graph` can be kept,
serialised to JSON (the scope's snapshot) and rendered long after the autograd graph is gone.
Node ids are counters in traversal order (``n0`` is the first output), never ``id()``, so the
same code produces the same DOT text run after run.

The records are ``slots`` dataclasses rather than frozen ones: a graph holds thousands of them
and a frozen dataclass costs six times as much to build (measured); capture even defers
building them to the first read (:mod:`gradscope.graph.build`). Treat them as read-only all
the same.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

NodeKind = Literal[
    "param", "leaf", "op", "accumulate", "custom", "output", "base", "saved", "module"
]
EdgeKind = Literal["flow", "saved", "view"]
#: What a tensor node is: leaves get gradients, outputs are where backward starts.
TENSOR_KINDS: frozenset[NodeKind] = frozenset({"param", "leaf", "output", "base", "saved"})
#: Nodes that are autograd ``Node`` objects (backward functions).
FUNCTION_KINDS: frozenset[NodeKind] = frozenset({"op", "accumulate", "custom"})


@dataclass(slots=True, repr=False)
class Node:
    """One node of the graph: a tensor (leaf, output, saved, view base) or a backward function.

    ``call`` indexes :attr:`Graph.calls` (the module call whose forward produced the node) and
    ``module`` is that call's path; for parameters ``module`` is the owning module. ``members``
    lists the full-graph ids a collapsed ``module`` node stands for.
    """

    id: str
    kind: NodeKind
    name: str
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    call: int | None = None
    module: str | None = None
    requires_grad: bool | None = None
    is_leaf: bool | None = None
    retains_grad: bool | None = None
    function: str | None = None
    aliases: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()
    tensors: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    is_view: bool = False

    def __repr__(self) -> str:
        fields = [f"{self.id}", self.kind, repr(self.name)]
        values = ((k, getattr(self, k)) for k in _NODE_EXTRA)
        fields += [f"{k}={v!r}" for k, v in values if v is not None and (v != () or k == "shape")]
        return f"Node({', '.join(fields)})"


_NODE_EXTRA = ("shape", "dtype", "call", "module", "function", "aliases", "attrs", "tensors")


@dataclass(slots=True)
class Edge:
    """``src`` feeds ``dst``: a tensor flowing forward (``flow``), a tensor ``dst`` saved for its
    backward (``saved``, undirected when drawn) or a view's base (``view``, dotted)."""

    src: str
    dst: str
    kind: EdgeKind = "flow"
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    slot: int = 0
    name: str | None = None


@dataclass(slots=True)
class ModuleCall:
    """One call of a module's forward during a recorded forward pass (a module reused three
    times has three calls, numbered by ``nth``), nested through ``parent``."""

    index: int
    path: str
    type: str
    parent: int | None
    nth: int = 0
    grad_enabled: bool = True

    @property
    def depth(self) -> int:
        """Components in the path: the model itself is 0, ``encoder.layers.0`` is 3."""
        return 0 if not self.path else self.path.count(".") + 1

    @property
    def title(self) -> str:
        name = self.path or "(model)"
        return f"{name} #{self.nth + 1}" if self.nth else name


def number_calls(nodes: list[Node], calls: list[ModuleCall]) -> None:
    """Number the calls of each module path (``head``, ``head #2``) among the calls that made
    part of this graph, in call order, then the others after them.

    A recording can hold forward passes whose results the graph does not contain (an
    evaluation under ``no_grad``, a first forward that was thrown away): counting those would
    label the one call that made this graph ``head #2``. Changes the given calls in place.
    """
    used: set[int] = set()
    for n in nodes:
        c = n.call
        while c is not None and 0 <= c < len(calls) and c not in used:
            used.add(c)
            c = calls[c].parent
    seen: dict[str, int] = {}
    for call in [c for c in calls if c.index in used] + [c for c in calls if c.index not in used]:
        call.nth = seen.get(call.path, 0)
        seen[call.path] = call.nth + 1


#: Why a parameter got no gradient (GraphBreak.reason).
BreakReason = Literal[
    "never-ran", "detach", "data", "no-grad", "numpy", "item", "output-unused", "frozen", "unknown"
]
_BREAK_CODES = {"never-ran": "unused-parameter", "frozen": None, "unknown": None}


@dataclass(slots=True)
class GraphBreak:
    """A parameter the output does not reach, the module where its path ends, and why."""

    param: str
    module: str
    reason: BreakReason
    detail: str
    aliases: tuple[str, ...] = ()

    @property
    def code(self) -> str | None:
        """The doctor's code for this break (``unused-parameter``, ``graph-break``), if any."""
        return _BREAK_CODES.get(self.reason, "graph-break")


@dataclass(eq=False)
class GradHeat:
    """Norms of the gradient that flowed through each node, filled when backward finishes.

    ``norms`` maps node id to a float that may be 0, NaN or Inf (those are the interesting
    ones); a node that is missing got no gradient in that backward pass.
    """

    norms: dict[str, float] = field(default_factory=dict)
    done: bool = False


class GraphData:
    """A captured autograd graph as data; ``full`` is the uncollapsed graph when this one is
    collapsed. The graph users hold, :class:`gradscope.graph.Graph`, adds its drawings.

    ``nodes`` and ``edges`` are lists of records (read-only); a graph fresh from capture builds
    them when either is first read, so capture costs little more than the traversal."""

    def __init__(
        self,
        nodes: list[Node],
        edges: list[Edge],
        calls: list[ModuleCall] | None = None,
        breaks: list[GraphBreak] | None = None,
        notes: list[str] | None = None,
        heat: GradHeat | None = None,
        depth: int | None = None,
        full: GraphData | None = None,
    ) -> None:
        self._nodes = nodes
        self._edges = edges
        self._calls: list[ModuleCall] = [] if calls is None else calls
        self.breaks: list[GraphBreak] = [] if breaks is None else breaks
        self.notes: list[str] = [] if notes is None else notes
        self.heat = heat
        self.depth = depth
        self.full = full
        self._index: dict[str, Node] | None = None
        self._build: Callable[[], tuple[list[Node], list[Edge]]] | None = None
        self._size = (0, 0)  # of a graph not built yet

    @classmethod
    def deferred(
        cls: type[GraphT],
        build: Callable[[], tuple[list[Node], list[Edge]]],
        size: tuple[int, int],
        **kw: Any,
    ) -> GraphT:
        """A graph whose records ``build()`` makes on first read; ``size`` is (nodes, edges)."""
        graph = cls([], [], **kw)
        graph._build, graph._size = build, size
        return graph

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and copy the records, never the deferred builder: it is a closure over the
        traversal, which pickle refuses and a copy would share."""
        if self._build is not None:
            self._built()
        return {**self.__dict__, "_index": None}

    def _built(self) -> tuple[list[Node], list[Edge]]:
        with _BUILD_LOCK:  # two threads reading a fresh graph build it once
            if self._build is not None:
                self._nodes, self._edges = self._build()
                self._build = None
        return self._nodes, self._edges

    @property
    def nodes(self) -> list[Node]:
        return self._nodes if self._build is None else self._built()[0]

    @property
    def edges(self) -> list[Edge]:
        return self._edges if self._build is None else self._built()[1]

    @property
    def calls(self) -> list[ModuleCall]:
        """The module calls of the recorded forward (numbered once the records are built)."""
        if self._build is not None:
            self._built()
        return self._calls

    @property
    def size(self) -> tuple[int, int]:
        """(number of nodes, number of edges), without building records."""
        if self._build is not None:
            return self._size
        return len(self._nodes), len(self._edges)

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError if absent)."""
        if self._index is None or len(self._index) != len(self.nodes):
            self._index = {n.id: n for n in self.nodes}
        return self._index[node_id]

    def find(self, name: str) -> list[Node]:
        """Nodes whose name (op class, parameter or module path) equals ``name``."""
        return [n for n in self.nodes if n.name == name]

    @property
    def outputs(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "output"]

    @property
    def params(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "param"]

    def grad_norm(self, node_id: str) -> float | None:
        """Norm of the gradient through a node (a collapsed module: the largest member's, or the
        first non-finite one); None before backward or when no gradient reached it."""
        if self.heat is None:
            return None
        norms = self.heat.norms
        node = self.node(node_id)
        if not node.members:
            return norms.get(node_id)
        values = [norms[m] for m in node.members if m in norms]
        if not values:
            return None
        bad = [v for v in values if not math.isfinite(v)]
        return bad[0] if bad else max(values)

    def collapse(self: GraphT, depth: int) -> GraphT:
        """This graph with every module call at ``depth`` or deeper drawn as one node."""
        from gradscope.graph.collapse import collapse

        return collapse(self.full or self, depth)  # type: ignore[return-value]  # full: same class

    def __repr__(self) -> str:
        extra = f", depth={self.depth}" if self.depth is not None else ""
        breaks = f", {len(self.breaks)} breaks" if self.breaks else ""
        n_nodes, n_edges = self.size
        return f"Graph({n_nodes} nodes, {n_edges} edges{breaks}{extra})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the scope stores this as its graph snapshot)."""
        from gradscope.graph.codec import graph_to_dict

        return graph_to_dict(self)

    @classmethod
    def from_dict(cls: type[GraphT], data: dict[str, Any]) -> GraphT:
        """Inverse of :meth:`to_dict`."""
        from gradscope.graph.codec import graph_from_dict

        return graph_from_dict(data, cls)


#: A graph class: the data, or the drawable graph users hold (collapse and from_dict keep it).
GraphT = TypeVar("GraphT", bound=GraphData)

#: How deep module calls are drawn as one node: k levels, ``auto`` (only when large) or ``None``.
Depth = int | Literal["auto"] | None

_BUILD_LOCK = threading.Lock()
