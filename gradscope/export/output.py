"""Where an export writes, so that it never deletes or overwrites a file it did not create.

An export refuses when the files it would write are already there, unless asked to replace them
(``force``). Even then it replaces only what gradscope's own export writes: the three table files
of a CSV or Parquet export, or the event files an earlier gradscope export left in the same run
folder (recognised by their ``.gradscope`` suffix). Files are written under temporary names
first and put in place only when the export has succeeded, so a failed or interrupted export
leaves the folder as it found it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from gradscope.errors import GradscopeError

#: TensorBoard reads every file of a folder whose name starts so as one run's events.
EVENT_FILE_GLOB = "events.out.tfevents.*"
#: The end of the name of every event file gradscope writes (TensorBoard ignores what follows
#: ``events.out.tfevents.``), which tells an earlier gradscope export from a user's own files.
EVENT_SUFFIX = ".gradscope"
FORCE_HINT = "pass --force (force=True from Python)"


def check_folder(out: Path, fmt: str) -> None:
    """Refuse an output path that is a file: every export format writes a folder."""
    if out.exists() and not out.is_dir():
        raise GradscopeError(
            f"{str(out)!r} is a file: the {fmt} export writes a folder; choose a folder path"
        )


def _names(paths: Sequence[Path]) -> str:
    names = [p.name for p in paths]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def refuse_existing(folder: Path, finals: Sequence[Path], *, force: bool) -> None:
    """Refuse, unless ``force``, when any of the files an export would write exists."""
    existing = [p for p in finals if p.exists() or p.is_symlink()]
    if existing and not force:
        raise GradscopeError(
            f"{str(folder)!r} already holds {_names(existing)}, which gradscope does not "
            f"overwrite: {FORCE_HINT} to replace them, or choose another output folder"
        )


class StagedFiles:
    """The files of one table export, written under temporary names in their final folder.

    :meth:`stage` gives the temporary path to write for a final path; :meth:`commit` renames
    every staged file to its final name; leaving the ``with`` block without committing removes
    the staged files. Without ``force``, a final file that appeared while the export ran stops
    the commit, and nothing is replaced.
    """

    def __init__(self, folder: Path, finals: Sequence[Path], *, force: bool) -> None:
        self.folder, self.finals, self.force = folder, list(finals), force
        self._staged: dict[Path, Path] = {}

    def stage(self, final: Path) -> Path:
        """A new, empty file beside ``final`` (created with the usual permissions)."""
        staged = final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        staged.touch(exist_ok=False)
        self._staged[final] = staged
        return staged

    def commit(self) -> None:
        refuse_existing(self.folder, self.finals, force=self.force)
        for final, staged in self._staged.items():
            os.replace(staged, final)
        self._staged.clear()

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for staged in self._staged.values():
            staged.unlink(missing_ok=True)
        self._staged.clear()


def is_gradscope_events(path: Path) -> bool:
    """An event file that a gradscope export wrote (its name ends in :data:`EVENT_SUFFIX`)."""
    return path.name.endswith(EVENT_SUFFIX)


def earlier_events(logdirs: Sequence[Path], *, force: bool) -> list[Path]:
    """The event files an earlier gradscope export left in ``logdirs``, to replace when the new
    export has been written; refuses when a folder holds event files and ``force`` is off, and
    always when one holds event files gradscope did not write (TensorBoard would show them and
    the new ones as one run, and they are not gradscope's to delete)."""
    found: list[Path] = []
    for logdir in logdirs:
        events = sorted(logdir.glob(EVENT_FILE_GLOB)) if logdir.is_dir() else []
        foreign = [p for p in events if not is_gradscope_events(p)]
        if foreign:
            raise GradscopeError(
                f"{str(logdir)!r} holds TensorBoard event files that gradscope did not write "
                f"({foreign[0].name} …), which it never deletes and TensorBoard would show mixed "
                "with the export as one run: choose another output folder"
            )
        if events and not force:
            raise GradscopeError(
                f"{str(logdir)!r} already holds an earlier gradscope export, which gradscope "
                f"does not overwrite: {FORCE_HINT} to replace it, or choose another output folder"
            )
        found += events
    return found


@contextlib.contextmanager
def new_events(logdirs: Sequence[Path]) -> Iterator[None]:
    """Remove the gradscope event files that appear in ``logdirs`` if the block fails, so an
    interrupted export leaves no partial run behind (and no file to refuse the next time)."""
    before = {p for d in logdirs if d.is_dir() for p in d.glob(EVENT_FILE_GLOB)}
    try:
        yield
    except BaseException:
        for logdir in logdirs:
            for path in logdir.glob(EVENT_FILE_GLOB) if logdir.is_dir() else ():
                if path not in before and is_gradscope_events(path):
                    path.unlink(missing_ok=True)
        raise
