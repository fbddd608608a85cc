"""``gradscope demo``: train a built-in example with gradscope attached and show the result."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import gradscope as gs
from gradscope.examples import EXAMPLES, get_example
from gradscope.examples.tasks import train_step


def run_demo(
    name: str,
    *,
    steps: int | None = None,
    store: str | os.PathLike[str] | None = None,
    every: int = 1,
    seed: int = 0,
    console: Console | None = None,
) -> Path:
    """Train example ``name`` under ``gs.watch``, print the report, return the store path."""
    console = console or Console()
    example = get_example(name)
    steps = steps if steps is not None else example.default_steps
    path = Path(store) if store is not None else Path("runs") / f"demo-{name}.gsdb"
    torch.manual_seed(seed)
    model = example.build_model()
    optimizer = example.build_optimizer(model)
    batches = example.batches(torch.Generator().manual_seed(seed))
    columns = (
        TextColumn(f"[bold]{example.title}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
    )
    with (
        gs.watch(model, optimizer, store=path, every=every) as scope,
        Progress(*columns, console=console, transient=False) as progress,
    ):
        task = progress.add_task("train", total=steps, loss="…")
        for _ in range(steps):
            loss = train_step(example, model, optimizer, next(batches))
            progress.update(task, advance=1, loss=f"{loss.item():.4f}")
    scope.report(console=console)
    image = write_graph_image(path)
    if image is not None:
        console.print(f"autograd graph of the first step written to {image}")
    return path


def write_graph_image(store: Path) -> Path | None:
    """Draw the graph the scope stored beside the store (``.svg``, or ``.gv`` without ``dot``).

    ``None`` when the store holds no graph; a drawing problem never fails the demo.
    """
    from gradscope.errors import GradscopeError
    from gradscope.graph.cli import at_depth, load_stored_graph
    from gradscope.render.image import has_dot

    try:
        graph = at_depth(load_stored_graph(str(store)), "auto")
        return graph.render(store.with_suffix(".svg" if has_dot() else ".gv"))
    except GradscopeError:
        return None


__all__ = ["EXAMPLES", "run_demo"]
