"""The autograd graph the run saved: a tree of module calls and nodes, a node's detail, export.

The tree shows the graph at a collapse depth (``+``/``-``: module calls that deep are one node,
as in ``gradscope graph --depth``), optionally only one call (``f``), narrowed by a search
(``/``). ``x`` draws exactly that graph to ``<store>-graph.svg`` in a worker thread, so a large
layout never blocks the screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static, Tree

from gradscope.errors import GradscopeError
from gradscope.text_safety import visible
from gradscope.tui.screens.search import SearchableScreen
from gradscope.tui.viewmodel.data import StoreData, Update
from gradscope.tui.viewmodel.graph_detail import describe
from gradscope.tui.viewmodel.graph_export import Exported, export_graph, export_path
from gradscope.tui.viewmodel.graph_outline import focus, outline, step_depth
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.plain import PlainStatic

if TYPE_CHECKING:
    from gradscope.graph.model import GraphData

NO_GRAPH = (
    "No graph snapshot in this store; draw one from the training script: "
    "gradscope graph SCRIPT.py -o graph.svg"
)
BROKEN = (
    "the graph snapshot in this store is inconsistent ({error}); "
    "draw one from the training script: gradscope graph SCRIPT.py -o graph.svg"
)

GRAPH_ACTIONS = frozenset({"search", "clear_search", "depth", "focus_call", "export"})


class GraphScreen(SearchableScreen):
    """The graph snapshot of the run (meta key ``graph``), or one line saying how to get one."""

    SEARCHED = GraphTree

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus", "depth(1)", "Depth +"),
        Binding("minus", "depth(-1)", "Depth -", show=False),
        Binding("f", "focus_call", "Only this call", show=False),
        Binding("x", "export", "Export SVG"),
    ]

    def __init__(self, data: StoreData) -> None:
        super().__init__(data)
        self.graph: GraphData | None = None
        self.shown: GraphData | None = None
        self.depth: int | None = None
        self.focused_call: int | None = None
        self.search = ""
        self.exported: Exported | None = None
        self._depths: dict[int | None, GraphData] = {}

    def compose_body(self) -> ComposeResult:
        yield PlainStatic(id="graph-title")
        with Horizontal(id="graph-body"):
            yield GraphTree(id="graph-tree")
            with VerticalScroll(id="graph-side"):
                yield PlainStatic(id="graph-detail")
        yield Input(placeholder="search nodes and modules (Enter: go to the tree, Esc: clear)",
                    id="search")  # fmt: skip

    def on_mount(self) -> None:
        self.query_one(GraphTree).focus()

    def redraw(self, update: Update) -> None:
        try:
            graph = self.data.graph()
        except GradscopeError as exc:
            graph, message = None, str(exc)
        else:
            message = NO_GRAPH
        if (graph is None) != (self.graph is None):
            self.refresh_bindings()  # the graph's keys show only when there is a graph
        if graph is None:
            self.graph = self.shown = None
            self._say(message)
        elif graph is not self.graph:
            self.graph, self.depth, self.focused_call = graph, graph.depth, None
            self._depths = {}
            self._rebuild()

    # -- what is shown --------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        """One line (wrapped when narrow) in place of the tree."""
        self.query_one("#graph-body").display = False
        title = self.query_one("#graph-title", Static)
        title.add_class("message")
        title.update(message)

    def _view(self) -> GraphData:
        assert self.graph is not None
        if self.depth not in self._depths:
            full = self.graph.full or self.graph
            self._depths[self.depth] = full if self.depth is None else full.collapse(self.depth)
        shown = self._depths[self.depth]
        if self.focused_call is not None:
            inner = focus(shown, self.focused_call)
            if inner is None:
                title = visible(shown.calls[self.focused_call].title)
                self.notify(f"{title} is drawn inside a larger node at this depth: showing all",
                            markup=False)  # fmt: skip
                self.focused_call = None
            else:
                shown = inner
        return shown

    def _rebuild(self, cursor: list[str] | None = None) -> None:
        try:
            self.shown = self._view()
            rows = outline(self.shown, search=self.search)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
            self.shown = None  # a snapshot that parsed but does not hold together
            self._say(BROKEN.format(error=repr(exc)))
            return
        self.query_one("#graph-body").display = True
        self.query_one("#graph-title", Static).remove_class("message")
        tree = self.query_one(GraphTree)
        tree.show(rows, unfold=bool(self.search), cursor=cursor)
        self._draw_title()
        self._draw_detail(tree.cursor_key)

    def _draw_title(self) -> None:
        assert self.shown is not None
        shown = self.shown
        text = Text("autograd graph", style="bold")
        text.append(f" · {len(shown.nodes)} nodes, {len(shown.edges)} edges")
        text.append(f" · depth {'full' if self.depth is None else self.depth} (+ -)")
        if self.focused_call is not None:
            text.append(f" · only {shown.calls[self.focused_call].title} (f: all)")
        if shown.heat is None or not shown.heat.done:
            text.append(" · no gradient heat map", style="dim")
        if shown.breaks:
            text.append(f" · {len(shown.breaks)} params not reached", style="red")
        self.query_one("#graph-title", Static).update(text)

    def _draw_detail(self, key: str | None) -> None:
        if self.shown is None:
            return
        try:
            text = describe(self.shown, key)
        except (KeyError, IndexError, ValueError) as exc:  # a hand-edited or damaged snapshot
            text = Text(f"cannot describe {key}: the snapshot is inconsistent ({exc!r})")
        self.query_one("#graph-detail", Static).update(text)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        self._draw_detail(event.node.data)

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Without a graph the view's own keys are hidden and do nothing."""
        return self.graph is not None or action not in GRAPH_ACTIONS

    def action_depth(self, delta: int) -> None:
        if self.graph is None:
            return
        depth = step_depth(self.graph.full or self.graph, self.depth, delta)
        if depth == self.depth:
            where = "every node is shown" if delta > 0 else "this is the shallowest depth"
            self.notify(where if self.graph.calls else "no module calls were recorded")
            return
        key = self.query_one(GraphTree).cursor_key
        self.depth = depth
        self._rebuild(cursor=self._counterparts(key))

    def _counterparts(self, key: str | None) -> list[str]:
        """Where the cursor goes when the depth changes: a call's row or its collapsed node (or
        an enclosing one), or the collapsed node that took in a node."""
        if key is None or self.graph is None:
            return []
        calls = self.graph.calls
        number = key[2:] if key.startswith("c:") else key[1:] if key.startswith("m") else ""
        if number.isdigit():
            c: int | None = int(number)
            out = [key, f"c:{c}"]
            while c is not None and 0 <= c < len(calls):  # this call's node, then its parents'
                out.append(f"m{c}")
                c = calls[c].parent
            return out
        return [key, *(n.id for n in self._view().nodes if key in n.members)]

    def action_focus_call(self) -> None:
        if self.graph is None:
            return
        if self.focused_call is not None:
            key = f"c:{self.focused_call}"
            self.focused_call = None
            self._rebuild(cursor=[key])
            return
        tree = self.query_one(GraphTree)
        node = tree.cursor_node
        while node is not None and not (node.data or "").startswith("c:"):
            node = node.parent
        if node is None or node.data is None:
            self.notify("f shows one module call: put the cursor in a module's rows")
            return
        self.focused_call = int(node.data[2:])
        self._rebuild(cursor=[node.data])

    def action_export(self) -> None:
        if self.shown is None:
            return
        self._export(self.shown, export_path(Path(self.data.run.path)))

    @work(thread=True, exclusive=True, group="graph-export", exit_on_error=False)
    def _export(self, graph: GraphData, path: Path) -> None:
        try:
            result = export_graph(graph, path)
        except Exception as exc:  # reported, never raised: a failed export must not end the UI
            result = Exported(None, f"export failed: {exc!r}", "error")
        self.app.call_from_thread(self._exported, result)

    def _exported(self, result: Exported) -> None:
        self.exported = result
        timeout = 4.0 if result.severity == "information" else 12.0
        self.notify(
            visible(result.message), severity=result.severity, timeout=timeout, markup=False
        )
        if self.app.is_web and result.path is not None:  # gradscope serve: hand it to the browser
            svg = result.path.suffix == ".svg"
            self.app.deliver_binary(
                result.path,
                open_method="browser" if svg else "download",
                mime_type="image/svg+xml" if svg else "text/vnd.graphviz",
            )

    # -- search ---------------------------------------------------------------------------------

    def action_search(self) -> None:
        if self.graph is not None:
            super().action_search()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value != self.search and self.graph is not None:
            self.search = event.value
            self._rebuild()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        tree = self.query_one(GraphTree)
        tree.focus()
        tree.go_to(None)
