"""The package's layers, read from the source: data flows capture → records → store → views.

Capture (hooks, traversal) never imports a view; the store and the records import neither
capture nor views; views never import capture (they never touch torch hooks); textual and the
graphviz package are imported only by the dashboard, the server and the image renderer. Imports
under ``if TYPE_CHECKING:`` are annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gradscope"

VIEWS = {"render", "tui", "doctor", "export", "serve"}
#: Layer (first component under gradscope/) → layers it must not import.
FORBIDDEN = {
    "capture": VIEWS,
    "stats": VIEWS | {"capture", "store", "graph"},
    "records": VIEWS | {"capture", "store", "graph", "stats"},
    "store": VIEWS | {"capture", "graph", "stats"},
    **{view: {"capture"} for view in VIEWS},
}
#: Third-party UI packages and the only modules allowed to import them.
UI_PACKAGES = {"textual", "textual_plotext", "textual_serve", "graphviz"}
UI_HOMES = ("gradscope.tui", "gradscope.serve", "gradscope.render.image")


def _runtime_imports(tree: ast.Module, package: str = "") -> set[str]:
    """Modules imported anywhere in the file (function bodies too) except inside
    ``if TYPE_CHECKING:`` blocks. ``from a import b`` counts as ``a`` and ``a.b`` (``b`` may be a
    module), and relative imports are resolved against ``package``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join(base if node.level else [])
            source = ".".join(p for p in (source, node.module or "") if p)
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


def _modules() -> dict[str, set[str]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = name.rpartition(".")[0]
        out[name] = _runtime_imports(ast.parse(path.read_text(encoding="utf-8")), package)
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_layers_import_only_downstream() -> None:
    modules = _modules()
    assert len(modules) > 50  # the scan found the package
    broken = [
        f"{source} imports {target}"
        for source, targets in modules.items()
        for target in targets
        if target.startswith("gradscope.")
        and _layer(target) in FORBIDDEN.get(_layer(source), set())
    ]
    assert broken == []


def test_ui_packages_stay_in_the_ui() -> None:
    broken = [
        f"{source} imports {target}"
        for source, targets in _modules().items()
        for target in targets
        if target.split(".")[0] in UI_PACKAGES and not source.startswith(UI_HOMES)
    ]
    assert broken == []


def test_dashboard_viewmodel_is_ui_free() -> None:
    """The dashboard's computing half imports no UI package, nor the screens that do."""
    viewmodel = "gradscope.tui.viewmodel"
    modules = {k: v for k, v in _modules().items() if k.startswith(viewmodel)}
    assert f"{viewmodel}.data" in modules
    broken = [
        f"{source} imports {target}"
        for source, targets in modules.items()
        for target in targets
        if target.split(".")[0] in UI_PACKAGES
        or (target.startswith("gradscope.tui.") and not target.startswith(viewmodel))
    ]
    assert broken == []


#: The graph package's edge with the views: the drawable Graph and the ``gradscope graph`` command.
GRAPH_VIEW_EDGE = ("gradscope.graph.view", "gradscope.graph.cli")


def test_the_graph_model_never_imports_a_view() -> None:
    """Views draw the graph data; the data (and the capture that makes it) never imports them,
    not even inside a function."""
    modules = {k: v for k, v in _modules().items() if k.startswith("gradscope.graph.")}
    assert "gradscope.graph.model" in modules and "gradscope.graph.view" in modules
    broken = [
        f"{source} imports {target}"
        for source, targets in modules.items()
        for target in targets
        if _layer(target) in VIEWS and source not in GRAPH_VIEW_EDGE
    ]
    assert broken == []
    assert any(_layer(t) == "render" for t in modules["gradscope.graph.view"])


def test_the_scan_sees_a_violation() -> None:
    """The rule is applied to what the scan finds: a planted import is reported."""
    tree = ast.parse("import gradscope.tui.app\nif TYPE_CHECKING:\n    import gradscope.render\n")
    assert _runtime_imports(tree) == {"gradscope.tui.app"}
    lazy = "def draw():\n    from .. import render\n    from ..render.dot import graph_to_dot\n"
    found = _runtime_imports(ast.parse(lazy), "gradscope.graph")
    assert {"gradscope.render", "gradscope.render.dot"} <= found
    assert all(_layer(t) == "render" for t in found if t != "gradscope")
    assert "tui" in FORBIDDEN["capture"] and _layer("gradscope.tui.app") == "tui"
