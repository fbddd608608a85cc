"""The console report: rich renderables built from :func:`run_summary`."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from gradscope.numbers import compact as fmt
from gradscope.render.details import detail_lines
from gradscope.render.summary import run_summary
from gradscope.store.reader import Run
from gradscope.text_safety import visible

_BARS = "▁▂▃▄▅▆▇█"
#: Up to this many ranks get a gradient-norm column each; more show the spread across ranks.
RANK_COLUMNS = 8
#: Parameter names up to this long are never cut in the table; longer ones end in "…".
NAME_WIDTH = 40
#: The grad-norm trend column is at most this wide (and narrower on a narrow terminal).
TREND_WIDTH = 16
#: A narrower trend says nothing: the column is left out instead.
MIN_TREND = 6


def sparkline(values: list[float], *, log: bool = False) -> str:
    """One character per value, scaled between the series' min and max."""
    vals = [math.log10(v) if log and v > 0 else v for v in values if math.isfinite(v)]
    if log:
        vals = [v for v in vals if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(_BARS[min(int((v - lo) / span * len(_BARS)), len(_BARS) - 1)] for v in vals)


def _header(s: dict[str, Any]) -> RenderableType:
    """Model, size, optimizers, store: plain ``Text`` (names from the store are never markup)."""
    opts = ", ".join(visible(o["type"]) for o in s["optimizers"]) or "none watched"
    devices = ", ".join(visible(d) for d in s["devices"] or [])
    text = Text.assemble(
        (visible(s["model"] or "tensors (no nn.Module)"), "bold"),
        f"  {fmt(s['n_params'], ',')} parameters ({fmt(s['n_trainable'], ',')} trainable)"
        f" on {devices}",
        f"\noptimizer: {opts}   steps: {s['steps']}   torch {visible(s['torch_version'])}",
        f"\nstore: {visible(s['store'])}",
    )
    if not s["finished"]:
        text.append("  (still being written)", style="yellow")
    if "ranks" in s:
        ranks = ", ".join(str(r["rank"]) for r in s["ranks"])
        text.append(
            f"\nranks {ranks} of {s['world_size']}; parameters below are rank {s['rank']}'s"
        )
    elif s.get("world_size", 1) > 1:
        text.append(f"\nrank {s['rank']} of {s['world_size']}")
    return Panel(text, title="gradscope report", expand=False)


def _loss(s: dict[str, Any]) -> RenderableType:
    loss = s["loss"]
    if not s["steps"]:
        return Text(
            "no steps recorded: the run ended (or is still starting) before its first "
            "optimizer step, or backward pass when no optimizer is watched",
            style="dim",
        )
    if loss["first"] is None:
        return Text(
            "loss: not captured (no torch.nn loss module ran and no .backward() was called on "
            "a loss tensor; with gs.watch, scope.log(loss=...) records it)",
            style="dim",
        )
    text = Text.assemble(
        ("loss ", "bold"),
        f"first {fmt(loss['first'])}  last {fmt(loss['last'])}  min {fmt(loss['min'])}  ",
        (sparkline(loss["trend"]), "cyan"),
    )
    if loss["nonfinite_steps"]:
        text.append(f"  non-finite at steps {loss['nonfinite_steps']}", style="bold red")
    return text


class _ParamTable:
    """The parameter table, laid out for the console's width when it is printed.

    Names never wrap mid-word: the name column keeps the width of the longest name (up to
    :data:`NAME_WIDTH`, past which a name ends in …). The trend takes the width that is left,
    and on a narrow console the trend, then the shape, are left out rather than squeezed.
    """

    def __init__(self, s: dict[str, Any]) -> None:
        self.rows = [_param_cells(p) for p in s["params"]]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        heads = ("parameter", "shape", "grad norm", "upd/weight", "weight")
        widths = [max([len(h), *(r[i].cell_len for r in self.rows)]) for i, h in enumerate(heads)]
        widths[0] = min(widths[0], NAME_WIDTH)
        used = sum(w + 3 for w in widths) + 1
        trend = min(TREND_WIDTH, options.max_width - used - 3)
        show_shape = trend >= MIN_TREND or used <= options.max_width
        table = Table(title="parameters (latest logged step)", title_justify="left", expand=False)
        table.add_column(heads[0], no_wrap=True, overflow="ellipsis", min_width=widths[0])
        if show_shape:
            table.add_column(heads[1], no_wrap=True)
        for head in heads[2:]:
            table.add_column(head, justify="right", no_wrap=True)
        if trend >= MIN_TREND:
            head = "grad trend" if trend >= len("grad trend") else "trend"
            table.add_column(head, no_wrap=True, overflow="crop", width=trend)
        for cells in self.rows:
            shown = [cells[0], *cells[1 if show_shape else 2 : 5]]
            table.add_row(*shown, *(cells[5:] if trend >= MIN_TREND else ()))
        yield table


def _param_cells(p: dict[str, Any]) -> list[Text]:
    if not p["requires_grad"]:
        grad = Text("frozen", style="dim")
    elif p["grad_norm"] is None:
        grad = Text("no grad", style="yellow")
    elif (p["grad_nan"] or 0) + (p["grad_inf"] or 0) > 0:
        grad = Text(f"{fmt(p['grad_norm'])} ({int(p['grad_nan'] or 0)} NaN)", style="bold red")
    else:
        grad = Text(fmt(p["grad_norm"]))
    return [
        Text(_param_name(p)),
        Text("×".join(str(d) for d in p["shape"]) or "scalar"),
        grad,
        Text(fmt(p["update_ratio"], ".2e") if p["update_ratio"] is not None else "–"),
        Text(fmt(p["weight_norm"])),
        Text(sparkline(p["trend"], log=True), style="cyan"),
    ]


def _params(s: dict[str, Any]) -> RenderableType:
    return _ParamTable(s)


def _param_name(p: dict[str, Any]) -> str:
    aliases = ", ".join(visible(a) for a in p["aliases"])
    return visible(p["name"]) + (f" (= {aliases})" if aliases else "")


def _optimizers(s: dict[str, Any]) -> RenderableType:
    table = Table(title="optimizer groups", title_justify="left", expand=False)
    for col in ("optimizer", "group", "params", "lr", "hyperparameters"):
        table.add_column(col)
    hidden = {
        "group",
        "lr",
        "n_params",
        "initial_lr",
        "params",
        "foreach",
        "fused",
        "capturable",
        "differentiable",
        "maximize",
    }
    for opt in s["optimizers"]:
        for g in opt["groups"]:
            hp = ", ".join(f"{k}={v}" for k, v in g.items() if k not in hidden and v is not None)
            cells = (opt["type"], g["group"], g["n_params"], fmt(g.get("lr")), hp)
            table.add_row(*(Text(visible(c)) for c in cells))
    return table


def _alerts(s: dict[str, Any]) -> RenderableType:
    """Each alert as a heading line, then its message and details indented beneath it.

    A list rather than a table: the messages are paragraphs, which a table column at 80
    columns would cut into a few words per line.
    """
    if not s["alerts"]:
        return Text("no alerts", style="green")
    styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    parts: list[RenderableType] = [Text("alerts", style="bold")]
    for a in s["alerts"]:
        head = Text.assemble(
            (visible(a["severity"]), styles.get(a["severity"], "")),
            "  ",
            (visible(a["code"]), "bold"),
            "  at ",
        )
        head.append(visible(a["where"]))
        if a["step"] is not None:
            head.append(f"  (step {a['step']})", style="dim")
        body = Text(visible(a["message"], multiline=True))
        for label, value in detail_lines(a.get("details") or {}):
            body.append(f"\n{label}: ", style="dim")
            body.append(value)
        parts += [head, Padding(body, (0, 0, 0, 2))]
    return Group(*parts)


def _ranks(s: dict[str, Any]) -> list[RenderableType]:
    """Each rank's steps and loss, then every parameter's latest gradient norm per rank."""
    ranks = s["ranks"]
    table = Table(
        title=f"ranks ({len(ranks)} of world size {s['world_size']} recorded)",
        title_justify="left",
        expand=False,
    )
    for col in ("rank", "steps", "loss first", "loss last", "grad norm (total)", "store"):
        table.add_column(col, justify="left" if col == "store" else "right")
    for r in ranks:
        table.add_row(
            str(r["rank"]),
            str(r["steps"]) + ("" if r["finished"] else " …"),
            fmt(r["loss"]["first"]),
            fmt(r["loss"]["last"]),
            fmt(r["grad_norm_total"]),
            Text(visible(r["store"]), overflow="fold"),
        )
    norms = Table(title="grad norm by rank (latest step)", title_justify="left")
    norms.add_column("parameter", overflow="fold")
    names = list(dict.fromkeys(n for r in ranks for n in r["grad_norm"]))
    wide = len(ranks) <= RANK_COLUMNS
    for col in [f"rank {r['rank']}" for r in ranks] if wide else ["min", "max", "ranks at max"]:
        norms.add_column(col, justify="right", no_wrap=True)
    for name in names:
        values = [r["grad_norm"].get(name) for r in ranks]
        if wide:
            norms.add_row(Text(visible(name)), *(fmt(v) for v in values))
            continue
        known = [(v, r["rank"]) for v, r in zip(values, ranks, strict=True) if v is not None]
        top = max((v for v, _ in known), default=None)
        at_top = ", ".join(str(rank) for v, rank in known if v == top)
        low = fmt(min((v for v, _ in known), default=None))
        norms.add_row(Text(visible(name)), low, fmt(top), at_top)
    return [table, norms]


def report_renderable(run: Run) -> RenderableType:
    s = run_summary(run)
    parts: list[RenderableType] = [_header(s), _loss(s), _params(s)]
    if "ranks" in s:
        parts += _ranks(s)
    if s["optimizers"]:
        parts.append(_optimizers(s))
    parts.append(_alerts(s))
    return Group(*parts)


def print_report(run: Run, *, console: Console | None = None) -> None:
    (console or Console()).print(report_renderable(run))
