"""The doctor's findings as rich renderables for the console."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from gradscope.records import Alert

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}
MARKS = {"error": "✗", "warning": "!", "info": "i"}


def findings_renderable(
    alerts: list[Alert], *, store: str, steps: int, unchecked: list[str] | None = None
) -> RenderableType:
    """One block per alert: severity, code, where and step, then the message indented.

    ``unchecked``: checks that could not run (see :mod:`gradscope.doctor.coverage`); a run
    without alerts is then not called problem-free.
    """
    counts = {s: sum(a.severity == s for a in alerts) for s in STYLES}
    if not alerts and unchecked:
        return Group(
            Text.assemble(
                ("no problems found by the checks that ran", "bold"),
                f" in {steps} steps of {store}; not checked:",
            ),
            *(Text(f"  - {note}") for note in unchecked),
        )
    if not alerts:
        return Text.assemble(("✓ no problems found", "bold green"), f" in {steps} steps of {store}")
    summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    parts: list[RenderableType] = [
        Text.assemble(("gradscope doctor", "bold"), f": {summary} in {steps} steps of {store}")
    ]
    for alert in alerts:
        style = STYLES.get(alert.severity, "")
        head = Text.assemble(
            "\n",
            (f"{MARKS.get(alert.severity, '?')} {alert.severity:<7} ", style),
            (alert.code, "bold"),
            "  at ",
            (alert.where or "-", "bold"),
            f"  (step {alert.step})" if alert.step is not None else "",
        )
        body = Group(Text(alert.message), Text(f"docs/doctor/{alert.code}.md", style="dim"))
        parts += [head, Padding(body, (0, 0, 0, 4), expand=False)]
    return Group(*parts)
