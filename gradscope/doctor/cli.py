"""``gradscope doctor STORE [--json]``: diagnose a recorded run.

Exit code 0 whatever is found (findings are output, not failure); a bad store raises
:class:`~gradscope.errors.StoreError`, which the main command turns into one line and exit 2.
A distributed run's logical path is judged on every rank (``--rank N``: one rank); the JSON
then names the ranks of each finding under ``ranks``.
"""

from __future__ import annotations

import json

import click

JSON_KEYS = ("code", "severity", "where", "step", "message")


@click.command("doctor", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("store", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of the findings.")
@click.option(
    "--threshold",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a threshold, e.g. explode_growth=1e4 (repeatable; see docs/doctor/thresholds.md).",
)
@click.option(
    "--rank",
    type=click.IntRange(min=0),
    help="Judge only this rank of a distributed run [default: every rank].",
)
def doctor_command(
    store: str, as_json: bool, assignments: tuple[str, ...], rank: int | None
) -> None:
    """Diagnose the classic training bugs in a recorded run, with the fix for each."""
    from gradscope.doctor.runner import findings
    from gradscope.doctor.thresholds import Thresholds
    from gradscope.store.reader import open_store

    thresholds = Thresholds.parse(assignments)
    with open_store(store, rank=rank) as run:
        alerts = findings(run, thresholds)
        steps = (run.last_step + 1) if run.last_step is not None else 0
    if as_json:
        rows = [
            {k: getattr(a, k) for k in JSON_KEYS}
            | ({"ranks": a.details["ranks"]} if "ranks" in a.details else {})
            for a in alerts
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console

    from gradscope.doctor.text import findings_renderable

    Console().print(findings_renderable(alerts, store=store, steps=steps))
