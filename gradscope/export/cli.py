"""``gradscope export STORE... --format tensorboard|csv|parquet [-o PATH]``.

Parses arguments and shows progress; the export itself is :func:`gradscope.export.export`. A
bad store raises :class:`~gradscope.errors.StoreError`, which the main command turns into one
line and exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import click

from gradscope.cli_options import rank_option

if TYPE_CHECKING:
    from gradscope.export.tables import Progress

FORMAT_NAMES = ("tensorboard", "csv", "parquet")


@contextmanager
def progress_bar(*, enabled: bool) -> Iterator[Progress | None]:
    """A rich bar on stderr fed by ``progress(done, total)``; nothing when not ``enabled``."""
    if not enabled:
        yield None
        return
    from rich import progress as rp
    from rich.console import Console

    columns = (
        rp.TextColumn("exporting steps"),
        rp.BarColumn(),
        rp.TaskProgressColumn(),
        rp.TimeRemainingColumn(),
    )
    with rp.Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("export", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@click.command("export", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "stores", nargs=-1, required=True, type=click.Path(dir_okay=False), metavar="STORE..."
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    required=True,
    help="tensorboard: event files; csv / parquet: params, steps and modules tables.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False),
    help="Output folder [runs/<store stem>-tb, -csv or -parquet].",
)
@click.option(
    "--metric",
    "-m",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Export only these per-parameter/module metrics or globs, e.g. 'grad_*', grad_hist "
    "(repeatable; step columns are always written).",
)
@rank_option("Export only this rank of a distributed run (default: every rank).")
@click.option(
    "--force",
    is_flag=True,
    help="Replace an earlier export's files in the output folder (never other files).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def export_command(
    stores: tuple[str, ...],
    fmt: str,
    output: str | None,
    metrics: tuple[str, ...],
    rank: int | None,
    force: bool,
    quiet: bool,
) -> None:
    """Export a recorded run to TensorBoard event files, CSV or Parquet.

    A distributed run's logical path (runs/x.gsdb) exports every rank; so do several STOREs.
    Ranks are told apart by a rank column (CSV, Parquet) or a rank<N> folder (TensorBoard).
    TensorBoard files go to a run folder named after the store inside the output folder.
    Existing files are never overwritten: an earlier export is refused unless --force.
    """
    from gradscope.export import default_output, export
    from gradscope.store.reader import check_store, open_store

    if rank is not None and len(stores) > 1:
        raise click.UsageError("--rank takes one STORE (the run's logical path)")
    for store in stores:  # a damaged store fails here in one line, before any file is written
        check_store(store, rank=rank)
    out = output if output is not None else default_output(stores, fmt)
    with ExitStack() as stack:
        runs: list[Any] = list(stores)
        if rank is not None:
            runs = [stack.enter_context(open_store(stores[0], rank=rank))]
        progress = stack.enter_context(progress_bar(enabled=not quiet and sys.stderr.isatty()))
        path = export(runs, fmt, out, metrics=metrics or None, progress=progress, force=force)
    click.echo(f"{fmt} export written to {path}")
