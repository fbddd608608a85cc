"""The graph users hold: the captured data with its drawings (DOT text, an image, a rich tree,
Jupyter's display). The data model (:mod:`gradscope.graph.model`) knows nothing of drawing;
this module (with the ``gradscope graph`` command) is where the graph package meets
:mod:`gradscope.render`. ``capture_graph`` here is
:func:`gradscope.graph.from_outputs.capture_graph` returning this class; the dashboard and stored
snapshots use the data and the render functions.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradscope.graph.from_outputs import capture_graph as capture_data
from gradscope.graph.model import GraphData
from gradscope.render.dot import graph_to_dot
from gradscope.render.image import has_dot, render_graph, to_svg

if TYPE_CHECKING:
    from rich.tree import Tree


class Graph(GraphData):
    """A captured autograd graph. Render it with :meth:`to_dot`, :meth:`render`, or show it in
    Jupyter or a rich console; ``full`` is the uncollapsed graph when this one is collapsed.

    ``nodes`` and ``edges`` are lists of records (read-only); a graph fresh from capture builds
    them when either is first read, so capture costs little more than the traversal."""

    @classmethod
    def of(cls, data: GraphData) -> Graph:
        """The same graph (shared records, built or not) with its drawings."""
        if isinstance(data, cls):
            return data
        graph = cls.__new__(cls)
        graph.__dict__.update(data.__dict__)
        if data.full is not None:
            graph.full = cls.of(data.full)
        return graph

    def to_dot(self, *, rankdir: str = "auto") -> str:
        """DOT text (Graphviz's language), deterministic; needs no system program.
        ``rankdir`` is ``TB``, ``LR``, ``BT``, ``RL`` or ``auto`` (the one closer to a page's
        shape)."""
        return graph_to_dot(self, rankdir=rankdir)

    def render(self, path: str | Path, *, format: str | None = None, rankdir: str = "auto") -> Path:
        """Write an image; the format (svg, png, pdf, or dot for text) comes from the suffix."""
        return render_graph(self, path, format=format, rankdir=rankdir)

    def tree(self) -> Tree:
        """A rich tree from the outputs back to the leaves, for the console."""
        from gradscope.render.graph_text import graph_tree  # rich only when a tree is asked for

        return graph_tree(self)

    def __rich__(self) -> Tree:
        return self.tree()

    def _repr_svg_(self) -> str | None:
        return to_svg(self.to_dot()) if has_dot() else None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter display: SVG when ``dot`` is installed, else the DOT text."""
        bundle = {"text/plain": repr(self), "text/vnd.graphviz": self.to_dot()}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


@functools.wraps(capture_data)
def capture_graph(*args: Any, **kwargs: Any) -> Graph:
    return Graph.of(capture_data(*args, **kwargs))


# help() and IDEs show capture_data's parameters; functions take attributes, typeshed's
# Callable does not declare this one.
capture_graph.__signature__ = inspect.signature(capture_data).replace(  # type: ignore[attr-defined]
    return_annotation="Graph"
)
