"""``gradscope tui [STORE]``: open the dashboard, following a run that is still being written.

The store is opened before the terminal is taken over, so a bad path prints one line and exits
with code 2 and the terminal is never touched.
"""

from __future__ import annotations

from pathlib import Path

import click

from gradscope.cli_options import interval_option, rank_option
from gradscope.errors import GradscopeError
from gradscope.extras import require

#: A store up to this size is read whole once before the dashboard opens, so a damaged page
#: fails here as one line. A larger one opens at once: reading 1.7 GB (100,000 steps x 200
#: parameters) took 11 s on a 2-core machine, against the dashboard's 2 s to open.
CHECK_LIMIT = 100 * 2**20


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@click.command("tui")
@click.argument("store", required=False, type=click.Path(dir_okay=True))
@interval_option
@rank_option("Which rank of a distributed run to show [default: 0].")
@click.pass_context
def tui(ctx: click.Context, store: str | None, interval: float, rank: int | None) -> None:
    """Open the dashboard on STORE (default: the newest *.gsdb under ./runs).

    Keys: 1-5 switch views, p pauses following, / searches, ? lists every key, q quits.
    """
    from gradscope.store.ranks import resolve
    from gradscope.store.reader import open_store
    from gradscope.tui.viewmodel.data import newest_store, open_data

    try:
        require("textual", "textual_plotext", what="the dashboard")
        path = store if store is not None else newest_store("runs")
        small = _size(resolve(path, rank)) <= CHECK_LIMIT
        data = open_data(open_store(path, rank=rank, check=small))
    except GradscopeError as exc:
        click.echo(f"gradscope: error: {exc}", err=True)
        ctx.exit(2)
    from gradscope.tui.app import DashboardApp

    app = DashboardApp(data, interval=interval)
    app.run()
    if app.return_code:  # the app died (Textual printed why): the shell must see a failure
        ctx.exit(app.return_code)
