"""GraphData images through Graphviz: the only module that imports the ``graphviz`` package.

Laying out a graph needs Graphviz's ``dot`` program, a system package that pip cannot install.
Without it :func:`render_graph` raises a :class:`GradscopeError` that names the install command,
and DOT text (``format="dot"`` or :meth:`Graph.to_dot`) still works.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from gradscope.errors import GradscopeError
from gradscope.extras import require

if TYPE_CHECKING:
    from gradscope.graph.model import GraphData

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = (
    "Graphviz's `dot` program is not installed (needed for svg/png/pdf); install it with "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install graphviz`, or write DOT text instead (GraphData.to_dot(), a .dot/.gv file)"
)


def has_dot() -> bool:
    """Whether Graphviz's ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


def infer_format(path: Path, format: str | None) -> str:
    """The output format: given, or from the file suffix (``.gv`` counts as dot)."""
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    fmt = "dot" if fmt == "gv" else fmt
    if fmt not in FORMATS:
        raise GradscopeError(
            f"cannot render a graph as {fmt!r}; use one of {', '.join(FORMATS)} "
            f"(from the file suffix or format=)"
        )
    return fmt


def pipe(dot_text: str, fmt: str) -> bytes:
    """Lay out DOT text with ``dot`` and return the image bytes."""
    if not has_dot():
        raise GradscopeError(INSTALL_HINT)
    require("graphviz", what="drawing svg/png/pdf images (DOT text needs nothing)")
    import graphviz

    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise GradscopeError(INSTALL_HINT) from exc
    except graphviz.CalledProcessError as exc:
        stderr = (exc.stderr or b"").decode(errors="replace").strip()
        raise GradscopeError(f"dot failed to render the graph: {stderr}") from exc


def to_svg(dot_text: str) -> str:
    """SVG text for Jupyter."""
    return pipe(dot_text, "svg").decode("utf-8")


def render_graph(
    graph: GraphData, path: str | Path, *, format: str | None = None, rankdir: str = "auto"
) -> Path:
    """Write ``graph`` to ``path`` as svg, png, pdf (via ``dot``) or DOT text."""
    path = Path(path)
    fmt = infer_format(path, format)
    from gradscope.render.dot import graph_to_dot

    text = graph_to_dot(graph, rankdir=rankdir)
    if fmt == "dot":
        path.write_text(text, encoding="utf-8")
        return path
    data = pipe(text, fmt)
    path.write_bytes(data)
    return path
