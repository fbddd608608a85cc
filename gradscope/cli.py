"""The ``gradscope`` command: parse arguments, call library functions, print, exit.

Errors that gradscope raises for bad input (a missing or foreign store …) become one line on
stderr and exit code 2; nothing here has logic of its own.
"""

from __future__ import annotations

import errno
import json
import math
import sys
from typing import Any

import click

from gradscope.cli_options import every_option, rank_option
from gradscope.errors import GradscopeError

DEMO_MODELS = ("linreg", "mlp", "lenet", "gru", "transformer", "bug")


class GradscopeGroup(click.Group):
    """Turns :class:`GradscopeError`, or the system refusing a path (an output folder that is
    missing or read-only …), into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GradscopeError as exc:
            message = str(exc)
        except BrokenPipeError:  # the reader of our output went away (`| head`): not ours
            raise
        except OSError as exc:
            if exc.filename is None:
                raise
            message = path_error(exc)
        click.echo(f"gradscope: error: {message}", err=True)
        ctx.exit(2)


_PATH_HINTS = {
    errno.ENOENT: "create its folder or choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "choose a folder on a writable file system",
    errno.ENOSPC: "free some space or choose another disk",
    errno.EISDIR: "give a file name, not a folder",
}


def path_error(exc: OSError) -> str:
    """One sentence for an :class:`OSError` about a path: the path, the reason and the fix."""
    hint = _PATH_HINTS.get(exc.errno or 0, "check the path and its folder")
    return f"cannot use {str(exc.filename)!r} ({exc.strerror}): {hint}"


@click.group(cls=GradscopeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradscope")
def main() -> None:
    """See what autograd and your optimizer actually did."""


@main.command()
@click.argument("model", type=click.Choice(DEMO_MODELS), default="mlp")
@click.option("--steps", type=click.IntRange(min=1), help="Training steps (default per model).")
@click.option("--store", type=click.Path(dir_okay=False), help="Store path [runs/demo-MODEL.gsdb].")
@every_option
@click.option(
    "--tui/--no-tui",
    "open_tui",
    default=None,
    help="Open the dashboard and follow the training live [default: in a terminal, not in CI].",
)
def demo(
    model: str, steps: int | None, store: str | None, every: int, open_tui: bool | None
) -> None:
    """Train a built-in example MODEL with gradscope attached, with the dashboard following it
    live in a terminal; print the report and draw the graph. MODEL bug has bugs for the
    doctor to find."""
    from gradscope.demo.live import is_interactive, run_demo_live

    if open_tui if open_tui is not None else is_interactive():
        from gradscope.extras import require

        require(
            "textual",
            "textual_plotext",
            what="the live dashboard of the demo (--no-tui runs without it)",
        )
        _, code = run_demo_live(model, steps=steps, store=store, every=every)
        sys.exit(code)  # the training process printed its report and where the store is
    from gradscope.demo.run import run_demo

    path = run_demo(model, steps=steps, store=store, every=every)
    click.echo(f"store written to {path}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--store", type=click.Path(dir_okay=False), help="Store path [runs/<script>-<time>.gsdb]."
)
@every_option
@click.option(
    "--detail-every",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Every N-th logged step also records weights, updates, optimizer state, activations "
    "and histograms.",
)
@click.option("--include", multiple=True, help="Watch only names matching this glob (repeatable).")
@click.option("--exclude", multiple=True, help="Skip names matching this glob (repeatable).")
@click.option("--no-activations", is_flag=True, help="Do not record module outputs.")
@click.option("--quiet", "-q", is_flag=True, help="Print no summary at exit.")
@click.argument("script", type=click.Path(dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    store: str | None,
    every: int,
    detail_every: int,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    no_activations: bool,
    quiet: bool,
    script: str,
    args: tuple[str, ...],
) -> None:
    """Run SCRIPT [ARGS...] unmodified, watching every model and optimizer it creates.

    The script's output and exit code are kept; a summary goes to stderr at exit.
    """
    from gradscope.options import WatchOptions
    from gradscope.runner import run_script

    if store is None:
        store, args = _trailing_store(args)
    options = WatchOptions(
        every=every,
        detail_every=detail_every,
        include=include or None,
        exclude=exclude or None,
        activations=not no_activations,
    )
    ctx.exit(run_script(script, list(args), store=store, options=options, quiet=quiet))


def _trailing_store(args: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """Take ``--store X.gsdb`` written after SCRIPT as ``run``'s own option.

    Anything after SCRIPT belongs to the script, but a ``.gsdb`` path can only mean a gradscope
    store: ``gradscope run train.py --store out.gsdb`` would otherwise hand the script an option
    it does not know and record the run somewhere else.
    """
    for i, arg in enumerate(args):
        if arg == "--store" and i + 1 < len(args) and args[i + 1].endswith(".gsdb"):
            return args[i + 1], args[:i] + args[i + 2 :]
        if arg.startswith("--store=") and arg.endswith(".gsdb"):
            return arg.removeprefix("--store="), args[:i] + args[i + 1 :]
        if arg == "--":
            break
    return None, args


@main.command()
@click.argument("store", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@rank_option("Show only this rank of a distributed run [default: every rank].")
def report(store: str, as_json: bool, rank: int | None) -> None:
    """Summarise a recorded run: model, parameters, optimizer groups, loss, alerts.

    For a distributed run, STORE is the path given to gs.watch or gradscope run (each rank
    wrote STORE with .rankN before the suffix): every rank is shown unless --rank picks one.
    """
    from gradscope.store.reader import open_store

    with open_store(store, rank=rank, check=True) as run:
        if as_json:
            from gradscope.render.summary import run_summary

            click.echo(json.dumps(_finite(run_summary(run)), indent=2))
        else:
            from gradscope.render.report import print_report

            print_report(run)


def _finite(value: Any) -> Any:
    """JSON has no NaN/Inf: non-finite floats become ``null`` (counts say what they were)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _register_commands() -> None:
    """The commands that live beside the parts they drive (each imports its part lazily)."""
    from gradscope.doctor.cli import doctor_command
    from gradscope.export.cli import export_command
    from gradscope.graph.cli import graph_command
    from gradscope.serve.cli import serve_command
    from gradscope.tui.cli import tui

    main.add_command(doctor_command)
    main.add_command(export_command)
    main.add_command(graph_command)
    main.add_command(serve_command)
    main.add_command(tui)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
