"""GraphTree: the graph view's rows in a Textual Tree.

The rows come from :mod:`gradscope.tui.viewmodel.graph_outline`.

Rebuilt whenever the rows change (a new depth, a search, a focus); the rows that were unfolded
and the one under the cursor are found again by key, so a rebuild does not lose the user's
place. While a search narrows the tree everything is unfolded, and the folding from before
comes back when the search is cleared.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from gradscope.tui.viewmodel.graph_outline import BREAKS_KEY, Entry
from gradscope.tui.widgets.plain import plain

#: Rows of calls this many levels deep or less start unfolded.
OPEN_LEVELS = 2


class GraphTree(Tree[str]):
    """Module calls and graph nodes; each tree node's ``data`` is its row key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "unfold_all", "Unfold all", show=False),
        Binding("c", "fold_all", "Fold all", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("graph", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._open: dict[str, bool] = {}  # row key → unfolded, for rows the user has seen
        self._unfolded = False
        self._rows: dict[str, TreeNode[str]] = {}

    @property
    def cursor_key(self) -> str | None:
        node = self.cursor_node
        return None if node is None else node.data

    @property
    def keys(self) -> list[str]:
        """The keys of the rows on screen (unfolded), top to bottom."""
        nodes = (self.get_node_at_line(i) for i in range(self.last_line + 1))
        return [node.data for node in nodes if node is not None and node.data is not None]

    def show(
        self, entries: list[Entry], *, unfold: bool = False, cursor: list[str] | None = None
    ) -> None:
        """Replace the rows; ``unfold`` opens every row (a search) without forgetting the
        folding to return to. The cursor goes to the first of ``cursor`` that is a row (by
        default: where it was), else to the top."""
        if not self._unfolded:
            self._open.update((k, n.is_expanded) for k, n in self._rows.items() if n.children)
        self._unfolded = unfold
        wanted = cursor if cursor is not None else [self.cursor_key]
        self.clear()
        self._rows = {}
        for entry in entries:
            self._add(self.root, entry, 0, unfold)
        self.root.expand()
        self.go_to(next((k for k in wanted if k in self._rows), None))

    def _add(self, parent: TreeNode[str], entry: Entry, level: int, unfold: bool) -> None:
        if not entry.children:
            self._rows[entry.key] = parent.add_leaf(plain(entry.label), entry.key)
            return
        expand = unfold or self._open.get(entry.key, level < OPEN_LEVELS or entry.key == BREAKS_KEY)
        node = parent.add(plain(entry.label), entry.key, expand=expand)
        self._rows[entry.key] = node
        for child in entry.children:
            self._add(node, child, level + 1, unfold)

    def go_to(self, key: str | None) -> None:
        """Put the cursor on row ``key`` (unfolding its calls), or on the first row."""
        node = self._rows.get(key) if key is not None else None
        parent = node.parent if node is not None else None
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.unselect()  # the old cursor's node may be gone with a rebuild
        _ = self.last_line  # lays the lines out: a node's line is unknown until then
        target = node if node is not None else self.get_node_at_line(0)
        if target is not None:
            self.move_cursor(target)

    def action_unfold_all(self) -> None:
        self.root.expand_all()

    def action_fold_all(self) -> None:
        top = self.cursor_node
        while top is not None and top.parent is not None and top.parent is not self.root:
            top = top.parent
        for node in self.root.children:
            node.collapse_all()
        self.go_to(None if top is None else top.data)
