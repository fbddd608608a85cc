"""Helpers for the doctor tests: call the command as a user would, add events to a store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from gradscope.doctor.cli import doctor_command


def doctor_json(store: Path, *args: str) -> list[dict[str, Any]]:
    """``gradscope doctor STORE --json`` as a user would call it, parsed."""
    result = CliRunner().invoke(doctor_command, [str(store), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def with_events(
    base: Path,
    folder: Path,
    events: list[tuple[int, str, str, str]],
    alerts: Sequence[tuple[str, str, str, int | None, str, str]] = (),
) -> Path:
    """A copy of ``base`` with ``(step, kind, where, details-json)`` events inserted, and
    ``(code, severity, where, step, message, details-json)`` alerts (as a live check stores
    them)."""
    target = folder / f"{base.stem}-events-{len(list(folder.glob('*.gsdb')))}.gsdb"
    source = sqlite3.connect(f"file:{base}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    source.backup(dest)
    source.close()
    dest.executemany(
        'INSERT INTO events (step, kind, "where", details) VALUES (?, ?, ?, ?)', events
    )
    dest.executemany(
        'INSERT INTO alerts (code, severity, "where", step, message, details)'
        " VALUES (?, ?, ?, ?, ?, ?)",
        alerts,
    )
    dest.commit()
    dest.close()
    return target
