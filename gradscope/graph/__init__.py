"""The autograd graph: capture from ``grad_fn``, attribute to modules, explain graph breaks.

``gs.capture_graph(loss, model=model)`` walks ``grad_fn.next_functions`` into a
:class:`Graph`: plain :class:`GraphData` plus its drawings, which live in :mod:`gradscope.render`
(DOT text, images, a rich tree). ``gs.graph.record_modules(model)`` records a forward so nodes
know their module.

The graph data needs no torch, and :class:`GraphData` never imports a view; the capture side and
the drawable :class:`Graph` are imported on first use, so a stored graph can be drawn (by the
dashboard, or ``gradscope graph STORE``) without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradscope.graph.model import Edge, GradHeat, GraphBreak, GraphData, ModuleCall, Node
from gradscope.lazy import lazy_getattr

if TYPE_CHECKING:
    from gradscope.graph.attribution import ModuleRecord, record_modules
    from gradscope.graph.cuts import CutEvent
    from gradscope.graph.view import Graph, capture_graph

_LAZY = {
    "ModuleRecord": "gradscope.graph.attribution",
    "record_modules": "gradscope.graph.attribution",
    "Graph": "gradscope.graph.view",
    "capture_graph": "gradscope.graph.view",
    "CutEvent": "gradscope.graph.cuts",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())

__all__ = [
    "CutEvent",
    "Edge",
    "GradHeat",
    "Graph",
    "GraphBreak",
    "GraphData",
    "ModuleCall",
    "ModuleRecord",
    "Node",
    "capture_graph",
    "record_modules",
]
