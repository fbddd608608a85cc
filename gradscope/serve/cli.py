"""``gradscope serve [STORE|DIR]``: the dashboard in a browser, localhost unless asked."""

from __future__ import annotations

from pathlib import Path

import click

from gradscope.cli_options import interval_option
from gradscope.errors import GradscopeError


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("target", required=False, default="runs", type=click.Path())
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but localhost lets others on the network read the run.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@interval_option
@click.pass_context
def serve_command(ctx: click.Context, target: str, host: str, port: int, interval: float) -> None:
    """Serve the dashboard of TARGET to a browser: one store, or a folder of runs (default:
    ./runs) with a picker listing every *.gsdb under it, newest first.

    From another machine, tunnel the port over SSH: ssh -L 8765:localhost:8765 HOST, then
    open http://localhost:8765. Ctrl-C stops the server.
    """
    from gradscope.serve.runs import check_target

    try:
        path = check_target(target)
    except GradscopeError as exc:
        click.echo(f"gradscope: error: {exc}", err=True)
        ctx.exit(2)
    try:
        from gradscope.serve.server import is_loopback, serve
    except ImportError as exc:
        click.echo(
            f"gradscope: error: serving needs the textual-serve package ({exc.name} is missing): "
            'pip install "gradscope[serve]"',
            err=True,
        )
        ctx.exit(2)
    if not is_loopback(host):
        click.echo(
            f"gradscope: warning: listening on {host}: anyone who can reach port {port} can "
            "read this run",
            err=True,
        )
    try:
        serve(Path(path), host=host, port=port, interval=interval)
    except OSError as exc:
        click.echo(f"gradscope: error: cannot listen on {host}:{port} ({exc.strerror})", err=True)
        ctx.exit(2)
