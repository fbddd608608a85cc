"""Export a recorded run to TensorBoard event files, CSV or Parquet (``gradscope export``).

Importing this package loads neither ``tensorboard`` nor ``pyarrow``: each is imported by the
format that needs it, which names the extra to install when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from gradscope.errors import GradscopeError
from gradscope.export.files import to_csv, to_parquet
from gradscope.export.tables import ExportOptions, Progress
from gradscope.export.tensorboard import to_tensorboard
from gradscope.store.ranks import split_rank

FORMATS = ("tensorboard", "csv", "parquet")
_SUFFIX = {"tensorboard": "tb", "csv": "csv", "parquet": "parquet"}

__all__ = [
    "FORMATS",
    "ExportOptions",
    "Progress",
    "default_output",
    "export",
    "to_csv",
    "to_parquet",
    "to_tensorboard",
]


def default_output(stores: Sequence[str | os.PathLike[str]], fmt: str) -> Path:
    """``runs/<store stem>-tb`` (``-csv``, ``-parquet``); several rank files share their run's.

    ``runs/`` is TensorBoard's own default log folder, so ``tensorboard --logdir runs`` finds
    the export next to the stores that ``gs.watch`` writes there by default.
    """
    first = Path(stores[0])
    stem = split_rank(first)[0].stem if len(stores) > 1 else first.stem
    return Path("runs") / f"{stem}-{_SUFFIX[fmt]}"


def export(
    runs: Any, fmt: str, path: str | os.PathLike[str], **options: Unpack[ExportOptions]
) -> Path:
    """Export ``runs`` (a Run, a store path or a list of them) as ``fmt`` into folder ``path``.

    Files already there are never overwritten unless ``force`` asks to replace an earlier
    export's; see :func:`to_csv` and :func:`to_tensorboard` for what each format writes.
    """
    writers = {"tensorboard": to_tensorboard, "csv": to_csv, "parquet": to_parquet}
    if fmt not in writers:
        raise GradscopeError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](runs, path, **options)
