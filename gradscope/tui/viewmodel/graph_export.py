"""The graph view's export: the graph as shown, as SVG next to the store (DOT text without ``dot``).

Kept apart from the screen so it can run in a worker thread and be tested without Textual. It
never raises for the things a user can fix (no ``dot``, an unwritable folder): it says what
happened in one line, the way the CLI would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gradscope.errors import GradscopeError

if TYPE_CHECKING:
    from gradscope.graph.model import GraphData

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class Exported:
    """What an export wrote (``path``, ``None`` when nothing) and the line to tell the user."""

    path: Path | None
    message: str
    severity: Severity = "information"


def export_path(store: Path) -> Path:
    """``runs/exp1.gsdb`` → ``runs/exp1-graph.svg``, or the first of ``exp1-graph-2.svg`` …
    for which neither that name nor its ``.gv`` twin exists: an export never replaces a file."""
    n = 1
    while True:
        path = store.with_name(f"{store.stem}-graph{'' if n == 1 else f'-{n}'}.svg")
        if not path.exists() and not path.with_suffix(".gv").exists():
            return path
        n += 1


def export_graph(graph: GraphData, path: Path) -> Exported:
    """Render ``graph`` to ``path`` (SVG); without Graphviz's ``dot``, write its DOT text to the
    same name with ``.gv`` and pass on the install hint."""
    from gradscope.render.dot import graph_to_dot
    from gradscope.render.image import render_graph

    try:
        render_graph(graph, path, format="svg")
    except GradscopeError as exc:
        dot_path = path.with_suffix(".gv")
        try:
            dot_path.write_text(graph_to_dot(graph), encoding="utf-8")
        except OSError as err:
            return Exported(None, f"{exc}; writing {dot_path} failed too: {_why(err)}", "error")
        return Exported(dot_path, f"{exc}. DOT text written to {dot_path}", "warning")
    except OSError as err:
        return Exported(None, f"cannot write {path}: {_why(err)}", "error")
    return Exported(path, f"graph written to {path} ({len(graph.nodes)} nodes)")


def _why(err: OSError) -> str:
    return err.strerror or str(err)
