"""The runs a server offers: every store under a folder, newest first, with a short summary.

A run is addressed by a key the server made, never by a path from the browser, so a request can
only ever reach a store that this listing found.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from gradscope.errors import GradscopeError, StoreError
from gradscope.store.reader import open_store


@dataclass(frozen=True)
class RunEntry:
    """One store as the run picker lists it."""

    key: str
    path: Path
    label: str  # the path relative to the served folder
    mtime: float
    model: str = ""
    steps: int = 0
    alerts: dict[str, int] | None = None
    status: str = ""  # "live", "finished", or why the store cannot be read

    @property
    def readable(self) -> bool:
        return self.alerts is not None


def run_key(label: str) -> str:
    """A stable key for a store's relative path (URLs survive a rescan)."""
    return hashlib.sha256(label.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def describe(path: Path, label: str) -> RunEntry:
    """Read a store's summary; a damaged or foreign file is listed with the reason."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    base = RunEntry(run_key(label), path, label, mtime)
    try:
        with open_store(path) as run:
            meta = run.meta
            counts: dict[str, int] = {}
            for alert in run.alerts:
                counts[alert.severity] = counts.get(alert.severity, 0) + 1
            last = run.last_step
            return RunEntry(
                base.key,
                path,
                label,
                mtime,
                model=str(meta.get("model") or ""),
                steps=0 if last is None else last + 1,
                alerts=counts,
                status="finished" if meta.get("finished") else "live",
            )
    except GradscopeError as exc:
        return RunEntry(base.key, path, label, mtime, status=str(exc))


def find_runs(folder: Path) -> list[RunEntry]:
    """Every ``*.gsdb`` under ``folder`` (symlinks leading outside it are skipped), newest
    first. Rank files of a distributed run are listed one by one."""
    root = folder.resolve()
    found = []
    for path in folder.rglob("*.gsdb"):
        real = path.resolve()
        if not real.is_file() or not real.is_relative_to(root):
            continue
        found.append(describe(real, path.relative_to(folder).as_posix()))
    return sorted(found, key=lambda e: (-e.mtime, e.label))


def check_target(target: str | os.PathLike[str]) -> Path:
    """The folder or store to serve; anything else is refused with one sentence."""
    path = Path(target)
    if path.is_dir():
        return path
    if not path.exists():
        raise StoreError(
            f"nothing to serve at {str(path)!r}: pass a store (*.gsdb) or a folder of runs, "
            "e.g. gradscope serve runs/"
        )
    open_store(path).close()  # raises StoreError naming what is wrong with the file
    return path
