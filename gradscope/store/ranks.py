"""One store file per rank of a distributed run, and how readers find them.

A distributed run (torchrun, DDP) has one *logical* store path, ``runs/x.gsdb``, and every
rank writes its own file beside it, ``runs/x.rank0.gsdb``, ``runs/x.rank1.gsdb`` … SQLite
allows one writer per file, and one file per rank keeps each rank's writer as cheap as a
single-process run's. Readers given the logical path find the rank files here. Pure path
logic: no torch, so views can use it.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import datetime
from pathlib import Path

from gradscope.errors import StoreError

_RANK_SUFFIX = re.compile(r"^(?P<stem>.+)\.rank(?P<rank>\d+)$")


def env_world() -> tuple[int, int]:
    """``(rank, world_size)`` from the launcher's environment (torchrun sets both)."""
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 0, 1


def rank_path(path: str | os.PathLike[str], rank: int) -> Path:
    """``run.gsdb`` → ``run.rank1.gsdb`` (a path that already names ``rank`` is kept)."""
    p = Path(path)
    logical, existing = split_rank(p)
    if existing == rank:
        return p
    return logical.with_name(f"{logical.stem}.rank{rank}{logical.suffix}")


def split_rank(path: str | os.PathLike[str]) -> tuple[Path, int | None]:
    """``run.rank1.gsdb`` → ``(run.gsdb, 1)``; a path without a rank → ``(path, None)``."""
    p = Path(path)
    match = _RANK_SUFFIX.match(p.stem)
    if match is None:
        return p, None
    return p.with_name(f"{match['stem']}{p.suffix}"), int(match["rank"])


def rank_files(path: str | os.PathLike[str]) -> dict[int, Path]:
    """The rank files of the logical run ``path`` (given as logical or as any rank's file)."""
    logical, _ = split_rank(path)
    out: dict[int, Path] = {}
    if not logical.parent.is_dir():
        return out
    for candidate in logical.parent.glob(f"{glob_escape(logical.stem)}.rank*{logical.suffix}"):
        base, rank = split_rank(candidate)
        if rank is not None and base.name == logical.name and candidate.is_file():
            out[rank] = candidate
    return dict(sorted(out.items()))


def resolve(path: str | os.PathLike[str], rank: int | None = None) -> Path:
    """The file to open for ``path``: itself, or a rank's file of the logical run ``path``.

    Without ``rank`` an existing file is opened as is and a logical path opens rank 0 (the
    lowest rank recorded); with ``rank`` that rank's file, which must exist.
    """
    p = Path(path)
    if rank is None:
        if p.exists():
            return p
        files = rank_files(p)
        return next(iter(files.values())) if files else p
    files = rank_files(p)
    if rank in files:
        return files[rank]
    if split_rank(p)[1] is None and p.is_file() and rank == 0 and not files:
        return p  # a single-process run is rank 0 of 1
    found = ", ".join(str(r) for r in files) or "none"
    raise StoreError(
        f"no store for rank {rank} of {str(split_rank(p)[0])!r} (ranks recorded: {found})"
    )


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", text)


# -- one name on every rank ---------------------------------------------------------------------

_counter = itertools.count()


def launch_stamp() -> str:
    """``YYYYmmdd-HHMMSS`` of the launcher process, the same on every rank it started.

    torchrun and ``torch.multiprocessing.spawn`` start every local rank from one parent, so
    the parent's start time names the run identically on each rank without a collective
    (a broadcast would hang when only some ranks create a store).
    """
    try:
        started = os.stat(f"/proc/{os.getppid()}").st_mtime
    except OSError:
        started = datetime.now().timestamp()
    return f"{datetime.fromtimestamp(started):%Y%m%d-%H%M%S}"


def timestamped_default(folder: str | os.PathLike[str], prefix: str) -> Path:
    """``<folder>/<prefix>-<YYYYmmdd-HHMMSS>.gsdb``, with ``-1``, ``-2`` … when that is taken."""
    stem = f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}"
    path = Path(folder) / f"{stem}.gsdb"
    n = 1
    while path.exists():
        path = Path(folder) / f"{stem}-{n}.gsdb"
        n += 1
    return path


def shared_default(folder: str | os.PathLike[str], prefix: str) -> Path:
    """``<folder>/<prefix>-<launch stamp>.gsdb``; later ones in the process get ``-1``, ``-2``.

    Deterministic per rank (no check for existing files, which other ranks may be creating
    at this moment), so each rank's n-th default store has the same logical name.
    """
    n = next(_counter)
    stem = f"{prefix}-{launch_stamp()}" + (f"-{n}" if n else "")
    return Path(folder) / f"{stem}.gsdb"
