"""Plots drawn by plotext (through textual-plotext): series over steps and histograms.

Each widget keeps what it was last given and rebuilds its figure only when that changes, so a
refresh with nothing new draws nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual_plotext import PlotextPlot

from gradscope.records import Histogram
from gradscope.tui.format import num


class SeriesPlot(PlotextPlot):
    """One or more series over steps, on a log scale unless told otherwise."""

    def __init__(self, title: str, *, log: bool = True, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.plot_title = title
        self.log_scale = log
        self._drawn: tuple | None = None

    def set_log_scale(self, log: bool) -> None:
        """Switch between a log and a linear y axis (redrawn at the next ``show``)."""
        self.log_scale = log
        self._drawn = None

    def show(
        self,
        series: Sequence[tuple[str, Sequence[int], Sequence[float | None]]],
        *,
        marker: int | None = None,
    ) -> None:
        """Draw ``(label, steps, values)`` series; ``marker`` draws a vertical line at a step.

        Missing values (and, on a log scale, values that are not positive) are left out rather
        than drawn as zero, so a gap in the line means "not measured".
        """
        key = (tuple((n, tuple(s), tuple(v)) for n, s, v in series), marker)
        if key == self._drawn:
            return
        self._drawn = key
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.plot_title)
        kept, lo, hi = 0, None, None
        ys_all: list[float] = []
        for label, steps, values in series:
            points = [
                (s, math.log10(v) if self.log_scale else v)
                for s, v in zip(steps, values, strict=True)
                if v is not None and math.isfinite(v) and (v > 0 or not self.log_scale)
            ]
            if points:
                kept += len(points)
                xs, ys = zip(*points, strict=True)
                ys_all += ys
                plt.plot(list(xs), list(ys), label=label if len(series) > 1 else None)
                lo = xs[0] if lo is None else min(lo, xs[0])
                hi = xs[-1] if hi is None else max(hi, xs[-1])
        if lo is not None and hi is not None:
            ticks = sorted({round(lo + (hi - lo) * i / 4) for i in range(5)})
            plt.xticks(ticks, [str(t) for t in ticks])
        if ys_all and self.log_scale:
            plt.yticks(*_log_ticks(min(ys_all), max(ys_all)))
        if not kept:
            plt.title(f"{self.plot_title} (no values yet)")
        if marker is not None and kept:
            plt.vline(marker, "red")
        self.refresh()


class HistogramPlot(PlotextPlot):
    """A stored histogram as bars over its bin centres."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._drawn: Histogram | bool | None = False

    def show(self, hist: Histogram | None) -> None:
        if hist == self._drawn:
            return
        self._drawn = hist
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if hist is None or not hist.counts:
            plt.title("gradient histogram (none recorded yet)")
            self.refresh()
            return
        n = len(hist.counts)
        width = (hist.hi - hist.lo) / n if n else 1.0
        centres = [hist.lo + (i + 0.5) * width for i in range(n)]
        plt.bar(centres, list(hist.counts), width=0.8)
        extra = [f"{hist.sampled} values"]
        for label, value in (("zero", hist.zeros), ("nan", hist.nan), ("+inf", hist.posinf)):
            if value:
                extra.append(f"{value} {label}")
        scale = "log₁₀|g|" if hist.scale == "log" else hist.kind
        plt.title(f"{scale} at step {hist.step} · {', '.join(extra)}")
        mid = (hist.lo + hist.hi) / 2
        plt.xticks([hist.lo, mid, hist.hi], [num(hist.lo), num(mid), num(hist.hi)])
        self.refresh()


def _log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks for values already in log10: at powers of ten, or three between close bounds.

    plotext's own log scale rescales its data again on every redraw, so the dashboard plots
    log10 values itself and labels the axis with the real ones.
    """
    first, last = math.ceil(lo), math.floor(hi)
    if last - first >= 1:
        stride = max(1, (last - first) // 4)
        ticks = [float(t) for t in range(first, last + 1, stride)]
    else:
        ticks = [lo, (lo + hi) / 2, hi] if hi > lo else [lo]
    return ticks, [num(10.0**t) for t in ticks]
