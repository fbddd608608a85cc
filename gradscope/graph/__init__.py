"""The autograd graph: capture from ``grad_fn``, attribute to modules, explain graph breaks.

``gs.capture_graph(loss, model=model)`` walks ``grad_fn.next_functions`` into a plain
:class:`Graph`; ``gs.graph.record_modules(model)`` records a forward so nodes know their module.
Rendering lives in :mod:`gradscope.render` (DOT text, images, a rich tree).
"""

from __future__ import annotations

from gradscope.graph.attribution import ModuleRecord, record_modules
from gradscope.graph.capture import capture_graph
from gradscope.graph.cuts import CutEvent
from gradscope.graph.model import Edge, GradHeat, Graph, GraphBreak, ModuleCall, Node

__all__ = [
    "CutEvent",
    "Edge",
    "GradHeat",
    "Graph",
    "GraphBreak",
    "ModuleCall",
    "ModuleRecord",
    "Node",
    "capture_graph",
    "record_modules",
]
