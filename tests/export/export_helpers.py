"""What the export tests share: the recorded run's shape, and small comparisons on store rows."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

#: Steps recorded by the conftest's run, and its detail cadence (histograms every 4 steps).
STEPS = 12
HIST_EVERY = 4


def same(a: float | None, b: float | None) -> bool:
    """Equal, with NaN equal to NaN."""
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b


def execute(path: Path, sql: str, args: tuple[object, ...] = ()) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, args)
    conn.close()
