"""``gradscope graph``: draw the autograd graph of a script's first step, or of a stored run.

The command only parses options and calls library functions; register it on the main group
with ``main.add_command(graph_command)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gradscope.errors import GradscopeError
from gradscope.graph.model import Depth, GraphData
from gradscope.render.dot import printable
from gradscope.render.image import render_graph


def parse_depth(value: str) -> Depth:
    """``auto`` | ``full`` | a non-negative integer."""
    if value in ("auto", "full"):
        return None if value == "full" else "auto"
    try:
        depth = int(value)
    except ValueError:
        depth = -1
    if depth < 0:
        raise click.BadParameter(f"expected auto, full or an integer >= 0, got {value!r}")
    return depth


def load_stored_graph(store: str) -> GraphData:
    """The graph snapshot a scope saved in a store (meta key ``graph``)."""
    from gradscope.store.reader import open_store

    with open_store(store, check=True) as run:
        data = run.graph_snapshot()
    if not isinstance(data, dict):
        raise GradscopeError(
            f"{store} holds no graph snapshot; draw one from the script instead: "
            f"gradscope graph SCRIPT.py -o graph.svg"
        )
    return GraphData.from_dict(data)


def at_depth(graph: GraphData, level: Depth) -> GraphData:
    """A full stored graph as ``--depth`` asks: collapsed k levels deep, ``auto`` (collapsed
    only when large, as ``capture_graph`` does) or ``None`` (as stored)."""
    from gradscope.graph.collapse import AUTO_MAX_NODES, auto_depth

    depth = auto_depth(graph, AUTO_MAX_NODES) if level == "auto" else level
    return graph.collapse(depth) if isinstance(depth, int) else graph


def without_heat(graph: GraphData) -> GraphData:
    """The same graph drawn without its gradient heat map (``--no-heat`` on a store)."""
    graph.heat = None
    if graph.full is not None:
        graph.full.heat = None
    return graph


def refuse_existing(output: Path, force: bool) -> None:
    """Never replace a file the user has, unless asked to."""
    if output.exists() and not force:
        raise GradscopeError(
            f"{str(output)!r} already exists and gradscope graph does not overwrite files; "
            f"pass --force to replace it or choose another -o path"
        )


@click.command(
    "graph",
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]},
)
@click.argument("target", type=click.Path(dir_okay=False))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="File to write; svg, png, pdf, or dot/gv for DOT text, from the suffix "
    "[default: graph.svg; with --tree only when given].",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "png", "pdf", "dot"]),
    help="Output format when the suffix does not say.",
)
@click.option(
    "--depth",
    default="auto",
    show_default=True,
    help="Draw module calls this many levels deep as one node: an integer, auto "
    "(collapse only large or tall graphs) or full (never collapse).",
)
@click.option(
    "--rankdir",
    type=click.Choice(["auto", "TB", "LR", "BT", "RL"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Direction of the drawing: top-bottom, left-right … or auto (the one closer to a "
    "page's shape).",
)
@click.option("--saved", is_flag=True, help="Draw the tensors each node saved for backward.")
@click.option(
    "--attrs",
    is_flag=True,
    help="List saved tensors' shapes/dtypes and scalar attributes in the nodes.",
)
@click.option(
    "--heat/--no-heat",
    default=True,
    show_default=True,
    help="Colour nodes by the norm of the gradient that flowed through them.",
)
@click.option("--tree", is_flag=True, help="Print the graph as a tree (no file unless -o).")
def graph_command(
    target: str,
    script_args: tuple[str, ...],
    output: str | None,
    force: bool,
    fmt: str | None,
    depth: str,
    rankdir: str,
    saved: bool,
    attrs: bool,
    heat: bool,
    tree: bool,
) -> None:
    """Draw the autograd graph of TARGET: a training script (run until its first backward,
    ARGS passed on; put -- before ARGS that look like our options) or a recorded STORE.

    A script runs as `python SCRIPT ARGS` would, up to its first backward(); a store it opens
    itself with gs.watch records into a temporary folder, so no recorded run is replaced.
    """
    level = parse_depth(depth)
    path = None if output is None and tree else Path(output or "graph.svg")
    if path is not None:
        folder = path.parent
        if not folder.is_dir():  # say so now, not after running the script
            what = "is not a folder" if folder.exists() else "does not exist"
            raise GradscopeError(
                f"cannot write {str(path)!r}: {str(folder)!r} {what}; choose another -o path"
            )
        refuse_existing(path, force)
    if target.endswith(".py"):
        from gradscope.graph.script import ScriptError, graph_from_script

        try:
            graph = graph_from_script(
                target, list(script_args), saved=saved, attrs=attrs, heat=heat, depth=level
            )
        except ScriptError as exc:
            sys.stdout.flush()
            click.echo(exc.script_traceback, err=True, nl=False)
            raise
    else:
        if script_args:
            raise click.UsageError("extra arguments are for scripts; TARGET is a store")
        graph = at_depth(load_stored_graph(target), level)
        if not heat:
            graph = without_heat(graph)
    if tree:
        from rich.console import Console

        from gradscope.render.graph_text import graph_tree

        Console(highlight=False).print(graph_tree(graph))
    if path is not None:
        refuse_existing(path, force)  # the script may have written it meanwhile
        written = render_graph(graph, path, format=fmt, rankdir=rankdir)
        full = graph.full or graph
        shown = f", drawn as {len(graph.nodes)} (depth {graph.depth})" if graph.full else ""
        click.echo(f"graph written to {written} ({len(full.nodes)} nodes{shown})")
    if not tree:  # the tree lists the breaks already
        for b in graph.breaks:
            click.echo(printable(f"{b.reason}: {b.param}: {b.detail}"))
