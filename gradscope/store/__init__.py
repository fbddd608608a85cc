"""The run store: one SQLite file per run, written in the background, read by every view."""

from gradscope.store.reader import Run, open_store

__all__ = ["Run", "open_store"]
