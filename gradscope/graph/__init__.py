"""The autograd graph: capture from ``grad_fn``, attribute to modules, explain graph breaks.

``gs.capture_graph(loss, model=model)`` walks ``grad_fn.next_functions`` into a plain
:class:`Graph`; ``gs.graph.record_modules(model)`` records a forward so nodes know their module.
Rendering lives in :mod:`gradscope.render` (DOT text, images, a rich tree).

The graph model itself needs no torch; the capture side is imported on first use, so a stored
graph can be drawn without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradscope.graph.model import Edge, GradHeat, Graph, GraphBreak, ModuleCall, Node
from gradscope.lazy import lazy_getattr

if TYPE_CHECKING:
    from gradscope.graph.attribution import ModuleRecord, record_modules
    from gradscope.graph.capture import capture_graph
    from gradscope.graph.cuts import CutEvent

_LAZY = {
    "ModuleRecord": "gradscope.graph.attribution",
    "record_modules": "gradscope.graph.attribution",
    "capture_graph": "gradscope.graph.capture",
    "CutEvent": "gradscope.graph.cuts",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())

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
