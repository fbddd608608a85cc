"""A :class:`~gradscope.graph.Graph` as JSON-ready data and back: the snapshot a scope stores in
its ``graph`` meta key, so ``gradscope graph STORE`` draws it long after the run."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from gradscope.graph.model import (
    Edge,
    GradHeat,
    GraphBreak,
    GraphData,
    GraphT,
    ModuleCall,
    Node,
    number_calls,
)

_TUPLE_FIELDS = {"shape", "aliases", "attrs", "tensors", "members"}


def graph_to_dict(graph: GraphData) -> dict[str, Any]:
    """Plain dicts and lists, unset fields left out (version 1 of the format)."""
    return {
        "version": 1,
        "nodes": [_clean(asdict(n)) for n in graph.nodes],
        "edges": [_clean(asdict(e)) for e in graph.edges],
        "calls": [asdict(c) for c in graph.calls],
        "breaks": [asdict(b) for b in graph.breaks],
        "notes": list(graph.notes),
        "heat": None if graph.heat is None else _heat_dict(graph.heat),
        "depth": graph.depth,
        "full": None if graph.full is None else graph_to_dict(graph.full),
    }


def graph_from_dict(data: dict[str, Any], cls: type[GraphT]) -> GraphT:
    """Inverse of :func:`graph_to_dict` (JSON lists become the tuples records hold)."""
    heat = data.get("heat")
    full = data.get("full")
    nodes = [Node(**_tuples(d)) for d in data["nodes"]]
    calls = [ModuleCall(**d) for d in data.get("calls", [])]
    number_calls(nodes, calls)  # snapshots written before calls were numbered per graph
    return cls(
        nodes=nodes,
        edges=[Edge(**_tuples(d)) for d in data["edges"]],
        calls=calls,
        breaks=[GraphBreak(**_tuples(d)) for d in data.get("breaks", [])],
        notes=list(data.get("notes", [])),
        heat=None if heat is None else _heat_from(heat),
        depth=data.get("depth"),
        full=None if full is None else graph_from_dict(full, cls),
    )


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop unset fields (None, empty tuples) so snapshots stay small."""
    return {
        k: v
        for k, v in d.items()
        if not (v is None or (isinstance(v, tuple) and not v and k != "shape"))
    }


def _tuples(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if k in _TUPLE_FIELDS and isinstance(v, list):
            v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
        out[k] = v
    return out


def _heat_dict(heat: GradHeat) -> dict[str, Any]:
    # JSON has no NaN/Inf: keep them as strings.
    norms = {k: v if math.isfinite(v) else repr(v) for k, v in heat.norms.items()}
    return {"norms": norms, "done": heat.done}


def _heat_from(data: dict[str, Any]) -> GradHeat:
    return GradHeat({k: float(v) for k, v in data["norms"].items()}, data.get("done", True))
