"""The module/parameter tree as a table: folds like a tree, sorts like a table.

Drawn line by line (Textual's line API) from
:class:`~gradscope.tui.viewmodel.columns.RowValues`: only the lines on screen are rendered, and
a line is rendered again only when its values change. A table of several hundred rows therefore
costs the same to refresh as one that fits the screen.
The name column takes the width the numbers leave, so there is no sideways scrolling.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.renderables.sparkline import Sparkline
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gradscope.numbers import fixed
from gradscope.tui.messages import ParamSelected
from gradscope.tui.viewmodel import health, ticks
from gradscope.tui.viewmodel.columns import RowValues, visible_rows
from gradscope.tui.viewmodel.data import StoreData
from gradscope.tui.viewmodel.rows import SORT_KEYS, TreeModel

#: (sort key, header, width) after the name; ‖g‖ gradient, ‖Δw‖/‖w‖ update ratio, ‖w‖ weight.
#: Health comes before the trend so that at 80 columns the word is never cut.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("grad_norm", "‖g‖", 9),
    ("update_ratio", "‖Δw‖/‖w‖", 9),
    ("weight_norm", "‖w‖", 9),
    ("health", "health", 9),
    ("trend", "‖g‖ (log)", 12),
)
GAP = 1
SPARK_COLORS = (Color.parse("#3a7bd5"), Color.parse("#e0a030"))


class ParamTable(ScrollView, can_focus=True):
    """Modules and parameters nested as in the model, with their latest statistics."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"param-table--header", "param-table--cursor"}
    DEFAULT_CSS = """
    ParamTable { height: 1fr; padding: 0 1; }
    ParamTable > .param-table--header { text-style: bold; background: $panel; }
    ParamTable > .param-table--cursor { background: $block-cursor-blurred-background; }
    ParamTable:focus > .param-table--cursor { background: $block-cursor-background; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
        Binding("s", "cycle_sort", "Sort"),
        Binding("space", "toggle_fold", "Fold"),
        Binding("e", "unfold_all", "Unfold all", show=False),
        Binding("c", "fold_all", "Fold all", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tree_model: TreeModel | None = None
        self.search = ""
        self.cursor = 0
        self._store: StoreData | None = None
        self._rows: list[RowValues] = []
        self._keys: list[str] = []
        self._lines: dict[tuple[RowValues, int, int], Strip] = {}
        self._longest = 8

    # -- data -----------------------------------------------------------------------------------

    def show(self, data: StoreData, *, structure: bool = False) -> None:
        """Redraw from ``data``; ``structure`` rebuilds the tree (new modules or parameters)."""
        self._store = data
        if self.tree_model is None or structure:
            old = self.tree_model
            self.tree_model = TreeModel(data.modules, data.param_info)
            if old is not None:
                self.tree_model.folded, self.tree_model.sort_key = old.folded, old.sort_key
        self.tree_model.active = set(data.activations)
        current = self.current_key
        rows = visible_rows(self.tree_model, data, self.search)
        if rows == self._rows:
            return
        self._rows = rows
        self._keys = [r.row.key for r in rows]
        self._longest = max((2 * r.row.depth + 2 + len(r.row.label) for r in rows), default=8)
        if len(self._lines) > 4 * len(rows) + 64:
            self._lines.clear()
        if current in self._keys:
            self.cursor = self._keys.index(current)
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        self.virtual_size = Size(1, len(rows) + 1)  # as wide as the widget: no sideways scroll
        self.refresh()

    @property
    def current_key(self) -> str | None:
        """``m:<path>`` or ``p:<name>`` of the highlighted row."""
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row(self, key: str) -> RowValues:
        return self._rows[self._keys.index(key)]

    def focus_key(self, key: str) -> bool:
        """Unfold down to a row, clear a search that hides it, and move the cursor onto it."""
        if self.tree_model is None or self._store is None:
            return False
        self.tree_model.unfold_to(key)
        self.search = ""
        self.show(self._store)
        if key not in self._keys:
            return False
        self.move_to(self._keys.index(key))
        return True

    # -- drawing --------------------------------------------------------------------------------

    def _name_width(self) -> int:
        fixed = sum(w + GAP for _, _, w in COLUMNS)
        room = self.scrollable_content_region.width - fixed - 1
        return max(12, min(room, self._longest + 1))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header(width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width)
        values = self._rows[index]
        key = (values, width, self._name_width())
        strip = self._lines.get(key)
        if strip is None:
            strip = self._lines[key] = self._line(values, width)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("param-table--cursor"))
        return strip

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("param-table--header")
        sort_key = self.tree_model.sort_key if self.tree_model else None
        text = Text(("name ▼" if sort_key == "name" else "name").ljust(self._name_width()))
        for key, label, w in COLUMNS:
            shown = f"{label} ▼" if key == sort_key else label
            text.append(" " * GAP + (shown.rjust(w) if key in SORT_KEYS else shown.ljust(w)))
        strip = Strip(text.render(self.app.console), text.cell_len)
        return strip.crop_extend(0, width, None).apply_style(style)

    def _line(self, v: RowValues, width: int) -> Strip:
        row = v.row
        style = health.STYLES.get(v.health, "") if v.health not in (health.OK, "") else ""
        if row.is_module:
            marker = "  " if row.empty else ("▸ " if row.folded else "▾ ")
            style = f"bold {style}".strip()
        else:
            marker = "  "
        name_width = self._name_width()
        text = Text("  " * row.depth + marker)
        text.append(row.label, style=style)
        text.truncate(name_width, overflow="ellipsis", pad=True)
        for number in (v.grad_norm, v.update_ratio, v.weight_norm):
            bad = number is not None and not ticks.is_finite(number)
            text.append(" " * GAP + fixed(number).rjust(9), style=ticks.MARKER_STYLE if bad else "")
        text.append(" " * GAP)
        text.append(v.health.ljust(9), style=health.STYLES.get(v.health, ""))
        text.append(" " * GAP)
        # Textual's sparkline cannot draw NaN or Inf: it gets the finite points, and a marker
        # before it says that some were left out.
        kinds = ticks.count_kinds(v.trend)
        kinds.pop(ticks.MISSING, None)
        room = 12
        if kinds:
            worst = next(k for k in (ticks.NAN, ticks.POSINF, ticks.NEGINF) if k in kinds)
            text.append(ticks.MARKERS[worst], style=ticks.MARKER_STYLE)
            room -= 1
        segments = list(text.render(self.app.console))
        logs = [math.log10(x) for x in ticks.finite(v.trend) if x > 0]
        if logs:
            spark = Sparkline(
                logs, width=room, min_color=SPARK_COLORS[0], max_color=SPARK_COLORS[1]
            )
            segments += self.app.console.render(spark, self.app.console.options.update_width(room))
        return Strip(Segment.simplify(segments)).crop_extend(0, width, Style())

    # -- keys and mouse -------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        """Put the cursor on row ``index`` and scroll it into view."""
        if not self._rows:
            return
        self.cursor = max(0, min(index, len(self._rows) - 1))
        visible = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)
        self.refresh()

    def action_move(self, rows: int) -> None:
        self.move_to(self.cursor + rows)

    def action_page(self, pages: int) -> None:
        self.move_to(self.cursor + pages * max(1, self.scrollable_content_region.height - 2))

    def action_select(self) -> None:
        key = self.current_key
        if key is None:
            return
        if key.startswith("m:"):
            self._toggle(key[2:])
        else:
            self.post_message(ParamSelected(key[2:]))

    def on_click(self, event: events.Click) -> None:
        """A click on the header sorts by that column; on a row highlights it, then opens it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            self._sort_by(self._column_at(offset.x))
            return
        index = self.scroll_offset.y + offset.y - 1
        if 0 <= index < len(self._rows):
            if index == self.cursor:
                self.action_select()
            else:
                self.move_to(index)

    def _column_at(self, x: int) -> str:
        edge = self._name_width()
        for key, _, w in COLUMNS:
            if x < edge:
                break
            edge += GAP + w
            if x < edge:
                return key
        return "name"

    def _sort_by(self, key: str) -> None:
        if self.tree_model is not None and key in SORT_KEYS:
            self.tree_model.sort_key = None if self.tree_model.sort_key == key else key
            self._refresh_view()

    def action_cycle_sort(self) -> None:
        if self.tree_model is not None:
            index = SORT_KEYS.index(self.tree_model.sort_key)
            self.tree_model.sort_key = SORT_KEYS[(index + 1) % len(SORT_KEYS)]
            self._refresh_view()

    def action_toggle_fold(self) -> None:
        key = self.current_key
        if key and key.startswith("m:"):
            self._toggle(key[2:])

    def action_unfold_all(self) -> None:
        if self.tree_model is not None:
            self.tree_model.folded.clear()
            self._refresh_view()

    def action_fold_all(self) -> None:
        if self.tree_model is not None:
            self.tree_model.folded = {p for p in self.tree_model.types if p}
            self._refresh_view()

    def _toggle(self, path: str) -> None:
        assert self.tree_model is not None
        self.tree_model.folded ^= {path}
        self._refresh_view()

    def _refresh_view(self) -> None:
        if self._store is not None:
            self._rows = []  # force a redraw even if the visible rows compare equal
            self.show(self._store)
