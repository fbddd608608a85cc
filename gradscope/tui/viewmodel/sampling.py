"""Keeping a growing run's series small enough to draw, without re-reading what was read.

A sparkline needs a few dozen points and a plot a few hundred, whatever the run's length. Both
keep a stride that doubles as the run grows, so old points stay valid and only the new part of
the run is ever queried.
"""

from __future__ import annotations

from collections.abc import Sequence


class SampleGrid:
    """The steps 0, s, 2s … up to the last step, with s doubling to keep at most ``points``.

    The stride is a multiple of the run's ``every``, so grid steps are logged steps.
    """

    def __init__(self, *, every: int = 1, points: int = 48) -> None:
        self.stride = max(1, every)
        self.points = points
        self.upto = -1

    def advance(self, last: int) -> tuple[list[int], bool]:
        """Move the grid's end to ``last``: the new grid steps, and whether the stride grew."""
        grew = False
        while last // self.stride >= self.points:
            self.stride *= 2
            grew = True
        first = (self.upto // self.stride + 1) * self.stride if self.upto >= 0 else 0
        self.upto = max(self.upto, last)
        return list(range(first, last + 1, self.stride)), grew

    def keep(self, step: int) -> bool:
        """Whether a point fetched earlier is still on the grid."""
        return step % self.stride == 0


class BinnedSeries:
    """Per-bucket maxima of several metrics; the bucket doubles to keep at most ``bins``.

    ``rows`` are ``(last step of the bucket, max of each metric)``; :meth:`merge` takes rows
    from :meth:`gradscope.store.reader.Run.binned_rows` for buckets at or after the last one
    held, which replace the (possibly partial) last bucket and extend the rest.
    """

    def __init__(self, *, bins: int = 200, bucket: int = 1) -> None:
        self.bins = bins
        self.bucket = max(1, bucket)
        self.rows: list[tuple] = []

    def fit(self, last: int) -> bool:
        """Grow the bucket so ``last`` fits in ``bins`` buckets; True if held rows were merged."""
        grew = False
        while last // self.bucket >= self.bins:
            self.bucket *= 2
            grew = True
        if grew:
            merged: dict[int, tuple] = {}
            for row in self.rows:
                key = row[0] // self.bucket
                merged[key] = _max_rows(merged[key], row) if key in merged else row
            self.rows = list(merged.values())
        return grew

    @property
    def since(self) -> int:
        """Query rows after this step: everything from the start of the last bucket held."""
        if not self.rows:
            return -1
        return (self.rows[-1][0] // self.bucket) * self.bucket - 1

    def merge(self, rows: Sequence[tuple]) -> None:
        """Replace the last bucket and append the newer ones."""
        if not rows:
            return
        start = rows[0][0] // self.bucket
        while self.rows and self.rows[-1][0] // self.bucket >= start:
            self.rows.pop()
        self.rows.extend(tuple(r) for r in rows)

    def column(self, index: int) -> tuple[list[int], list[float | None]]:
        """Steps and values of metric ``index`` (0-based, after the step)."""
        return [r[0] for r in self.rows], [r[index + 1] for r in self.rows]


def _max_rows(a: tuple, b: tuple) -> tuple:
    return tuple(
        x if y is None else y if x is None else max(x, y) for x, y in zip(a, b, strict=True)
    )
