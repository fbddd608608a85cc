"""``gradscope doctor STORE [--json]``: diagnose a recorded run.

Exit code 0 whatever is found (findings are output, not failure); a bad store raises
:class:`~gradscope.errors.StoreError`, which the main command turns into one line and exit 2.
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
def doctor_command(store: str, as_json: bool, assignments: tuple[str, ...]) -> None:
    """Diagnose the classic training bugs in a recorded run, with the fix for each."""
    from gradscope.doctor.runner import findings
    from gradscope.doctor.thresholds import Thresholds
    from gradscope.store.reader import open_store

    thresholds = Thresholds.parse(assignments)
    with open_store(store) as run:
        alerts = findings(run, thresholds)
        steps = (run.last_step + 1) if run.last_step is not None else 0
    if as_json:
        click.echo(json.dumps([{k: getattr(a, k) for k in JSON_KEYS} for a in alerts], indent=2))
        return
    from rich.console import Console

    from gradscope.doctor.text import findings_renderable

    Console().print(findings_renderable(alerts, store=store, steps=steps))
