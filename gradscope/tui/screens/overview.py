"""The overview: the run's curves and latest alerts above every module and parameter.

On a tall terminal the top band shows the loss (raw and smoothed), the global gradient norm
(after and before clipping, with the steps where clipping acted counted), the learning rates
and the latest alerts; the tree below has each module and parameter with its latest gradient,
update and weight norms. On a short one (80×24) the band folds away and the tree has the room.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from gradscope.records import Alert
from gradscope.tui.screens.search import SearchableScreen
from gradscope.tui.viewmodel import ticks
from gradscope.tui.viewmodel.data import StoreData, Update
from gradscope.tui.widgets.param_table import ParamTable
from gradscope.tui.widgets.plain import PlainStatic
from gradscope.tui.widgets.plots import GROUP_MARKERS, SeriesPlot, clipping_series, series
from gradscope.tui.widgets.run_header import SEVERITY_STYLES

#: How many alerts the band lists, newest first.
LATEST_ALERTS = 5


class OverviewScreen(SearchableScreen):
    """The run's curves, then the module/parameter tree; ``/`` narrows it to matching names."""

    SEARCHED = ParamTable

    def __init__(self, data: StoreData) -> None:
        super().__init__(data)
        self._pending: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="overview-band"):
            yield SeriesPlot("loss", log=False, id="loss-plot", classes="band-plot")
            yield SeriesPlot("grad norm", id="norm-plot", classes="band-plot")
            yield SeriesPlot("learning rate", log=False, id="band-lr-plot", classes="band-plot")
            yield PlainStatic(id="latest-alerts")
        yield ParamTable(id="param-table")
        yield Input(placeholder="search names (Enter: go to the tree, Esc: clear)", id="search")

    def on_mount(self) -> None:
        self.query_one(ParamTable).focus()

    def redraw(self, update: Update) -> None:
        self.query_one(ParamTable).show(self.data, structure=update.structure)
        self._draw_band()
        if self._pending is not None:
            key, self._pending = self._pending, None
            self._go_to(key)

    # -- the band of curves ---------------------------------------------------------------------

    def _draw_band(self) -> None:
        data = self.data
        steps, loss = data.loss_series()
        lines = [series("raw", steps, loss, marker="·", color="gray", mark_missing=True)]
        if len(steps) > 2:
            lines.append(series("smoothed", steps, smooth(loss), color="cyan"))
        self.query_one("#loss-plot", SeriesPlot).show(lines)

        steps, post, pre = data.global_norms()
        lines, note = clipping_series("used", steps, post, pre)
        self.query_one("#norm-plot", SeriesPlot).show(lines, note=note)

        lrs = distinct_lrs(data.lr_series())
        lines = [
            series(label, s, v, marker=GROUP_MARKERS[i % len(GROUP_MARKERS)], mark_missing=True)
            for i, (label, s, v) in enumerate(lrs)
        ]
        self.query_one("#band-lr-plot", SeriesPlot).show(lines)
        self.query_one("#latest-alerts", Static).update(latest_alerts(data.alerts))

    # -- the tree -------------------------------------------------------------------------------

    def reveal(self, key: str) -> None:
        """Show the row ``m:<path>`` or ``p:<name>`` (now, or when the screen next shows)."""
        if self.is_current:
            self._go_to(key)
        else:
            self._pending = key

    def _go_to(self, key: str) -> None:
        self.action_clear_search()
        self.query_one(ParamTable).focus_key(key)

    def on_input_changed(self, event: Input.Changed) -> None:
        table = self.query_one(ParamTable)
        table.search = event.value
        table.show(self.data)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        table = self.query_one(ParamTable)
        table.focus()
        table.move_to(0)


def smooth(values: list[float | None]) -> list[float | None]:
    """An exponential moving average over the points, spanning about an eighth of them.

    NaN, ±Inf and missing points do not enter the average (they are drawn as markers on the
    raw curve); the average carries on over them.
    """
    span = max(2, len(values) // 8)
    alpha = 2 / (span + 1)
    out: list[float | None] = []
    current: float | None = None
    for v in values:
        if ticks.is_finite(v):
            current = float(v) if current is None else current + alpha * (float(v) - current)  # type: ignore[arg-type]
        out.append(current)
    return out


def distinct_lrs(
    lrs: list[tuple[int, list[int], list[float | None]]],
) -> list[tuple[str, list[int], list[float | None]]]:
    """One series per distinct learning-rate schedule, labelled by the groups that follow it."""
    out: list[tuple[list[int], list[int], list[float | None]]] = []
    for index, steps, values in lrs:
        for groups, s, v in out:
            if s == steps and [repr(x) for x in v] == [repr(x) for x in values]:
                groups.append(index)
                break
        else:
            out.append(([index], steps, values))
    return [
        ("group " + ",".join(str(g) for g in groups) if len(out) > 1 else "", s, v)
        for groups, s, v in out
    ]


def latest_alerts(alerts: list[Alert]) -> Text:
    """The newest alerts, one line each: severity, code, where, step."""
    text = Text("latest alerts", style="bold")
    if not alerts:
        text.append("\nnone so far", style="dim")
        return text
    for alert in reversed(alerts[-LATEST_ALERTS:]):
        text.append("\n")
        text.append(f"{alert.severity} ", style=SEVERITY_STYLES.get(alert.severity, ""))
        text.append(alert.code)
        step = "" if alert.step is None else f" · step {alert.step}"
        text.append(f"\n  {alert.where}{step}", style="dim")
    if len(alerts) > LATEST_ALERTS:
        text.append(f"\n… {len(alerts) - LATEST_ALERTS} more: press 3", style="dim")
    return text
