"""The two lines at the top of every screen: which run, where it is, and whether it is healthy."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from gradscope.numbers import fixed, param_count
from gradscope.render.styles import SEVERITY_STYLES
from gradscope.tui.viewmodel import ticks
from gradscope.tui.viewmodel.data import StoreData
from gradscope.tui.widgets.plain import PlainStatic


class RunHeader(Widget):
    """Model, size, optimizer, LR and step; loss and LR sparklines; alert counts."""

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="run-title")
        with Horizontal(id="run-trends"):
            yield Static(id="loss-label", classes="trend-label")
            yield Sparkline([], id="loss-spark", summary_function=max)
            yield Static(id="lr-label", classes="trend-label")
            yield Sparkline([], id="lr-spark", summary_function=max)
            yield Static(id="alert-counts")

    def show(self, data: StoreData, *, paused: bool) -> None:
        """Redraw from ``data``; ``paused`` says the view is frozen on purpose."""
        meta = data.run.meta
        title = Text()
        title.append(data.model, style="bold")
        trainable = meta.get("n_trainable")
        size = f" · {param_count(meta.get('n_params'))} params"
        if trainable is not None and trainable != meta.get("n_params"):
            size += f" ({param_count(trainable)} trainable)"
        title.append(size)
        row = data.last_row
        lrs = row.lrs if row else ()
        for opt in data.optimizers:
            lr = lrs[0] if lrs and opt.index == 0 else opt.defaults.get("lr")
            title.append(f" · {opt.type} lr {fixed(lr)}")
        title.append(f" · step {data.last_step if data.last_step is not None else '—'}")
        if paused:
            title.append(" · paused", style="bold yellow")
        elif data.finished:
            title.append(" · finished", style="dim")
        else:
            title.append(" · live", style="bold green")
        self.query_one("#run-title", Static).update(title)
        loss = row.loss if row else None
        for which, current in (("loss", loss), ("lr", lrs[0] if lrs else None)):
            values = data.header_series(which)
            self.query_one(f"#{which}-label", Static).update(_trend_label(which, current, values))
            # Sparklines cannot draw NaN or Inf (Textual's raises): they get the finite points,
            # and the label marks what they leave out.
            self.query_one(f"#{which}-spark", Sparkline).data = ticks.finite(values)
        counts = Text()
        for severity, n in data.alert_counts().items():
            counts.append(f" {n} {severity}", style=SEVERITY_STYLES[severity] if n else "dim")
        self.query_one("#alert-counts", Static).update(counts)


def _trend_label(name: str, current: object, values: list[float]) -> Text:
    """``loss 0.52``; a non-finite current value in red, and a marker when the trend has any."""
    text = Text(f"{name} ")
    text.append(fixed(current), style=ticks.MARKER_STYLE if not ticks.is_finite(current) else "")
    counts = ticks.count_kinds(values)
    counts.pop(ticks.MISSING, None)
    if counts and ticks.is_finite(current):
        text.append(" " + ticks.describe_kinds(counts), style=ticks.MARKER_STYLE)
    return text
