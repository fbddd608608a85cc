"""``gradscope doctor STORE [--json]``: diagnose a recorded run.

Exit code 0 whatever is found (findings are output, not failure), unless ``--fail-on
error|warning`` asks for exit 1 when a finding of that severity or worse is present (to gate
CI); a bad store raises :class:`~gradscope.errors.StoreError`, which the main command turns into
one line and exit 2. The text output says which checks could not run (no optimizer, no loss,
too few steps); the JSON stays an array of the findings.
A distributed run's logical path is judged on every rank (``--rank N``: one rank); the JSON
then names the ranks of each finding under ``ranks``.
"""

from __future__ import annotations

import json

import click

from gradscope.cli_options import rank_option

JSON_KEYS = ("code", "severity", "where", "step", "message")
#: ``--fail-on`` level → the severities that fail.
FAILING = {"error": ("error",), "warning": ("error", "warning")}


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
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    help="Exit 1 when a finding of this severity or worse is present [default: always exit 0].",
)
@rank_option("Judge only this rank of a distributed run [default: every rank].")
def doctor_command(
    store: str,
    as_json: bool,
    assignments: tuple[str, ...],
    fail_on: str | None,
    rank: int | None,
) -> None:
    """Diagnose the classic training bugs in a recorded run, with the fix for each."""
    from gradscope.doctor.coverage import unchecked
    from gradscope.doctor.runner import findings
    from gradscope.doctor.thresholds import Thresholds
    from gradscope.store.reader import open_store

    thresholds = Thresholds.parse(assignments)
    with open_store(store, rank=rank, check=True) as run:
        alerts = findings(run, thresholds)
        steps = (run.last_step + 1) if run.last_step is not None else 0
        notes = [] if as_json or alerts else unchecked(run, thresholds)
    if as_json:
        rows = [
            {k: getattr(a, k) for k in JSON_KEYS}
            | ({"ranks": a.details["ranks"]} if "ranks" in a.details else {})
            for a in alerts
        ]
        click.echo(json.dumps(rows, indent=2))
    else:
        from rich.console import Console

        from gradscope.doctor.text import findings_renderable

        Console().print(findings_renderable(alerts, store=store, steps=steps, unchecked=notes))
    if fail_on is not None and any(a.severity in FAILING[fail_on] for a in alerts):
        raise SystemExit(1)
