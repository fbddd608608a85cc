"""The doctor's findings as rich renderables for the console."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from gradscope.records import Alert
from gradscope.render.styles import SEVERITY_STYLES
from gradscope.text_safety import visible

STYLES = SEVERITY_STYLES
MARKS = {"error": "✗", "warning": "!", "info": "i"}


def findings_renderable(
    alerts: list[Alert], *, store: str, steps: int, unchecked: list[str] | None = None
) -> RenderableType:
    """One block per alert: severity, code, where and step, then the message indented.

    ``unchecked``: checks that could not run (see :mod:`gradscope.doctor.coverage`); a run
    without alerts is then not called problem-free. Every string is shown as plain text with
    control characters spelled out (names come from the user's model).
    """
    store = visible(store)
    counts = {s: sum(a.severity == s for a in alerts) for s in STYLES}
    if not alerts and unchecked:
        return Group(
            Text.assemble(
                ("no problems found by the checks that ran", "bold"),
                f" in {steps} steps of {store}; not checked:",
            ),
            *(Text(f"  - {visible(note, multiline=True)}") for note in unchecked),
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
            (f"{MARKS.get(alert.severity, '?')} {visible(alert.severity):<7} ", style),
            (visible(alert.code), "bold"),
            "  at ",
            (visible(alert.where or "-"), "bold"),
            f"  (step {alert.step})" if alert.step is not None else "",
        )
        body = Group(
            Text(visible(alert.message, multiline=True)),
            Text(f"docs/doctor/{visible(alert.code)}.md", style="dim"),
        )
        parts += [head, Padding(body, (0, 0, 0, 4), expand=False)]
    return Group(*parts)
