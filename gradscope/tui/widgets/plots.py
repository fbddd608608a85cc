"""Plots drawn by plotext (through textual-plotext): series over steps and histograms.

Each widget keeps what it was last given and rebuilds its figure only when that changes, so a
refresh with nothing new draws nothing. The legend sits in the title line, outside the data;
series differ by marker as well as colour. NaN, ±Inf and values a log axis cannot show are
drawn as marker characters on the plot's top or bottom edge
(:data:`~gradscope.tui.viewmodel.ticks.MARKERS`) and counted under the x axis, so a broken run
never looks like a gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from textual.visual import VisualType
from textual_plotext import PlotextPlot

from gradscope.numbers import eng, step_label
from gradscope.records import Histogram
from gradscope.text_safety import visible
from gradscope.tui.viewmodel import ticks
from gradscope.tui.viewmodel.data import is_clipped
from gradscope.tui.viewmodel.ticks import MARKERS, MISSING, NAN, NEGINF, POSINF

#: Markers that tell groups (of learning rates) apart without colour, in order.
GROUP_MARKERS = ("braille", "•", "+", "x", "o")
#: How a series' marker shows in the title's legend.
LEGEND_GLYPHS = {"braille": "─", "hd": "─", "fhd": "─", "dot": "·"}
#: What a plot has drawn before its first drawing (equal to nothing it is given).
UNDRAWN = object()
#: Where each kind of non-value goes: the top edge or the bottom edge.
TOP_KINDS = (NAN, POSINF)
ZERO = "≤0"
EDGE_MARKERS = {**MARKERS, ZERO: "▽"}


@dataclass(frozen=True)
class Series:
    """One line of a plot: its label, steps and values, and how it is drawn.

    ``mark_missing`` draws a ``None`` as a marker too: right for a series logged every step
    (loss, gradient norm), wrong for one logged on detail steps only, whose gaps are expected.
    """

    label: str
    steps: tuple[int, ...]
    values: tuple[float | None, ...]
    marker: str = "braille"
    color: str | None = None
    mark_missing: bool = False


def series(
    label: str,
    steps: Sequence[int],
    values: Sequence[float | None],
    *,
    marker: str = "braille",
    color: str | None = None,
    mark_missing: bool = False,
) -> Series:
    """A :class:`Series` from any sequences (kept as tuples, so plots compare them cheaply)."""
    return Series(label, tuple(steps), tuple(values), marker, color, mark_missing)


def clipping_series(
    label: str,
    steps: Sequence[int],
    norms: Sequence[float | None],
    preclip: Sequence[float | None],
) -> tuple[list[Series], str]:
    """A gradient-norm series and, where clipping acted, the pre-clip norm beside it.

    Elsewhere the pre-clip norm equals the norm, so it is drawn only where it differs; the note
    (for under the x axis) counts the steps where clipping acted.
    """
    lines = [series(label, steps, norms, mark_missing=True)]
    flags = [is_clipped(g, p) for g, p in zip(norms, preclip, strict=True)]
    clipped = sum(flags)
    if not clipped:
        return lines, ""
    shown = [p if f else None for p, f in zip(preclip, flags, strict=True)]
    lines.append(series("pre-clip", steps, shown, marker="•", color="orange"))
    return lines, f"clipped at {clipped}/{len(steps)}"


class FittedPlot(PlotextPlot):
    """A plot whose title and x-axis label are cut to its width when it is drawn.

    plotext leaves out a title or label wider than the plot; cutting it keeps the legend.
    Both may name a parameter or an optimizer class, so control characters are spelled out
    (plotext's output is read back as ANSI: a raw ESC would restyle the plot).
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title_text = ""
        self.label_text = ""
        self._drawn: object = UNDRAWN

    def begin(self, key: object) -> bool:
        """Clear the figure to draw what ``key`` stands for; ``False`` (and nothing cleared)
        when ``key`` equals what was drawn last, so a refresh with nothing new costs nothing."""
        if key == self._drawn:
            return False
        self._drawn = key
        self.plt.clear_data()
        self.plt.clear_figure()
        return True

    def render(self) -> VisualType:
        width = max(8, self.size.width - 7)  # plotext wants it inside the frame and y labels
        self.plt.title(_fit(visible(self.title_text), width))
        self.plt.xlabel(_fit(visible(self.label_text), width))
        return super().render()


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class SeriesPlot(FittedPlot):
    """One or more series over steps, on a log scale unless told otherwise."""

    def __init__(self, title: str, *, log: bool = True, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.plot_title = title
        self.log_scale = log
        #: Non-value counts of the last drawing, ``{kind: n}`` (for tests and the title).
        self.marked: dict[str, int] = {}

    def set_log_scale(self, log: bool) -> None:
        """Switch between a log and a linear y axis (redrawn at the next ``show``)."""
        self.log_scale = log
        self._drawn = UNDRAWN

    def show(
        self,
        lines: Sequence[Series | tuple[str, Sequence[int], Sequence[float | None]]],
        *,
        marker: int | None = None,
        note: str = "",
    ) -> None:
        """Draw the series; ``marker`` draws a vertical line at a step, ``note`` goes under the
        x axis beside the count of non-finite points."""
        given = [s if isinstance(s, Series) else series(*s) for s in lines]
        if not self.begin((tuple(given), marker, note, self.log_scale)):
            return
        plt = self.plt
        drawn: list[tuple[Series, list[int], list[float]]] = []
        edges: list[tuple[Series, str, int]] = []
        for s in given:
            xs, ys = [], []
            for step, value in zip(s.steps, s.values, strict=True):
                kind = ticks.kind_of(value)
                if kind is None and self.log_scale and value is not None and value <= 0:
                    kind = ZERO
                if kind is None and value is not None:
                    xs.append(step)
                    ys.append(math.log10(value) if self.log_scale else float(value))
                elif kind != MISSING or s.mark_missing:
                    edges.append((s, kind or MISSING, step))
            drawn.append((s, xs, ys))
        all_x = [x for _, xs, _ in drawn for x in xs] + [e[2] for e in edges]
        all_y = [y for _, _, ys in drawn for y in ys]
        lo, hi = (min(all_y), max(all_y)) if all_y else (0.0, 1.0)
        pad = (hi - lo) * 0.06 if hi > lo else 0.5
        bottom, top = lo - (pad if edges else 0), hi + (pad if edges else 0)
        for s, xs, ys in drawn:
            if xs:
                plt.plot(xs, ys, marker=s.marker, color=s.color)
        counts: dict[str, int] = {}
        for _, kind, step in edges:
            counts[kind] = counts.get(kind, 0) + 1
            y = top if kind in TOP_KINDS else bottom
            plt.scatter([step], [y], marker=EDGE_MARKERS[kind], color="red")
        self.marked = counts
        if all_x:
            xt, xl = ticks.axis(all_x, integer=True)
            plt.xticks(xt, xl)
        if all_y:
            yt = ticks.log_ticks(lo, hi) if self.log_scale else ticks.nice_ticks(lo, hi)
            plt.yticks(yt, [eng(10.0**t if self.log_scale else t) for t in yt])
            if edges:
                plt.ylim(bottom, top)
        elif edges:
            plt.ylim(bottom, top)
            plt.yticks([])
        self.title_text = self._title(given, drawn)
        # Under the x axis: what the edge markers stand for, then the note (e.g. clipping).
        legend = " ".join(
            f"{EDGE_MARKERS[k]}{k.removeprefix('+')} {n}"
            for k, n in sorted(counts.items(), key=_kind_order)
        )
        self.label_text = "  ".join(part for part in (legend, note) if part)
        if marker is not None and all_x:
            plt.vline(marker, "red")
        self.refresh()

    def _title(
        self, given: list[Series], drawn: list[tuple[Series, list[int], list[float]]]
    ) -> str:
        title = self.plot_title
        if not any(xs for _, xs, _ in drawn) and not self.marked:
            return f"{title} (no values yet)"
        if len(given) > 1:
            title += "  " + " ".join(
                f"{LEGEND_GLYPHS.get(s.marker, s.marker)}{s.label}" for s in given
            )
        return title


def _kind_order(item: tuple[str, int]) -> int:
    order = (NAN, POSINF, NEGINF, ZERO, MISSING)
    return order.index(item[0]) if item[0] in order else len(order)


class HistogramPlot(FittedPlot):
    """A stored histogram as bars over its bin centres; non-finite counts in the title."""

    def show(self, hist: Histogram | None) -> None:
        if not self.begin(hist):
            return
        plt = self.plt
        self.label_text = ""
        if hist is None or not hist.counts:
            self.title_text = "gradient histogram (none recorded yet)"
            self.refresh()
            return
        extra = [f"{hist.sampled} values"]
        for label, value in (
            ("zero", hist.zeros),
            (f"{MARKERS[NAN]} nan", hist.nan),
            (f"{MARKERS[POSINF]} +inf", hist.posinf),
            (f"{MARKERS[NEGINF]} -inf", hist.neginf),
        ):
            if value:
                extra.append(f"{value} {label}")
        scale = f"|{hist.kind}| (log bins)" if hist.scale == "log" else hist.kind
        self.title_text = f"{scale} at step {hist.step} · {', '.join(extra)}"
        counts = [c if ticks.is_finite(c) else 0 for c in hist.counts]
        n = len(counts)
        if not (ticks.is_finite(hist.lo) and ticks.is_finite(hist.hi)) or not any(counts):
            self.label_text = "no finite bin range to draw"
            self.refresh()
            return
        width = (hist.hi - hist.lo) / n if n else 1.0
        centres = [hist.lo + (i + 0.5) * width for i in range(n)]
        plt.bar(centres, counts, width=0.8)
        xt = ticks.nice_ticks(hist.lo, hist.hi, count=4)
        real = (lambda t: 10.0**t) if hist.scale == "log" else (lambda t: t)
        plt.xticks(xt, [eng(real(t)) for t in xt])
        yt = ticks.nice_ticks(0, max(counts), count=6, integer=True)
        plt.yticks(yt, [step_label(t) for t in yt])
        self.refresh()
