"""Options several commands share, declared once so their names, ranges and help agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: ``--every N``: the logging cadence of ``gs.watch`` (``demo`` and ``run``).
every_option: Callable[[F], F] = click.option(
    "--every", type=click.IntRange(min=1), default=1, show_default=True,
    help="Log statistics every N-th step.",
)  # fmt: skip

#: ``--interval S``: how often a view re-reads a store that is still being written.
interval_option: Callable[[F], F] = click.option(
    "--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
    help="Seconds between reads of a store that is still growing.",
)  # fmt: skip


def rank_option(help: str) -> Callable[[F], F]:
    """``--rank N`` of a distributed run; ``help`` says what the command does with it."""
    return click.option("--rank", type=click.IntRange(min=0), help=help)
