"""``gradscope demo``: train a built-in example with gradscope attached and show the result.

Here the example trains in this process, with a progress bar, and the report follows. In a
terminal the command runs this in a child process while the dashboard follows the store
(:mod:`gradscope.demo.live`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import gradscope as gs
from gradscope.demo.live import default_store, is_interactive, run_demo_live
from gradscope.demo.tasks import EXAMPLES, Example, get_example, train_step


def run_demo(
    name: str,
    *,
    steps: int | None = None,
    store: str | os.PathLike[str] | None = None,
    every: int = 1,
    seed: int = 0,
    console: Console | None = None,
    threads: int | None = 1,
) -> Path:
    """Train example ``name`` under ``gs.watch``, print the report, return the store path.

    ``threads`` sets torch's intra-op threads while training (``None``: leave them). The
    examples are small: on a shared CPU, two threads that wait on each other for every tiny
    operation made a step up to 60× slower than one thread alone.
    """
    console = console or Console()
    example = get_example(name)
    steps = steps if steps is not None else example.default_steps
    path = Path(store) if store is not None else default_store(name)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(example, steps, path, every, seed, console)
    finally:
        torch.set_num_threads(before)


def _train(
    example: Example, steps: int, path: Path, every: int, seed: int, console: Console
) -> Path:
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
        done = 0
        interrupted = False
        try:
            while done < steps:
                loss = train_step(example, model, optimizer, next(batches))
                done += 1
                progress.update(task, advance=1, loss=f"{loss.item():.4f}")
        except KeyboardInterrupt:  # the live dashboard closed early: keep what was recorded
            interrupted = True
    if interrupted:
        console.print(f"interrupted after {done} of {steps} steps")
        return path
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
    from gradscope.render.image import has_dot, render_graph

    try:
        graph = at_depth(load_stored_graph(str(store)), "auto")
        return render_graph(graph, store.with_suffix(".svg" if has_dot() else ".gv"))
    except GradscopeError:
        return None


__all__ = ["EXAMPLES", "is_interactive", "run_demo", "run_demo_live"]
