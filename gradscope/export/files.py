"""CSV and Parquet: three tables in one folder, ``params``, ``steps`` and ``modules``.

Both formats write the same rows (see :mod:`gradscope.export.tables`) as they are read, so an
export holds at most one window of rows (and, for Parquet, one row group) in memory. A NaN stays
NaN (``nan`` in CSV, a float NaN in Parquet); a metric not recorded at a step is empty in CSV and
null in Parquet, so the two can be told apart.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from typing_extensions import Unpack

from gradscope.errors import GradscopeError
from gradscope.export.output import StagedFiles, check_folder, refuse_existing
from gradscope.export.tables import ExportOptions, Layout, opened_runs, plan, walk

ROW_GROUP_ROWS = 65_536
_INTS = {"step", "rank", "n_backward", "calls"}
_BOOLS = {"logged", "training"}
_TEXT = {"param", "module"}


class _Sink(Protocol):
    def write(self, rows: list[tuple[Any, ...]]) -> None: ...
    def close(self) -> None: ...


def _columns(layout: Layout) -> dict[str, tuple[str, ...]]:
    return {
        "params": layout.param_columns,
        "steps": layout.step_columns,
        "modules": layout.module_columns,
    }


class CsvSink:
    """One CSV file; ``None`` becomes an empty field, floats keep their ``repr`` (exact)."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(columns)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self._writer.writerows(rows)

    def close(self) -> None:
        self._file.close()


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise GradscopeError(
            'Parquet export needs pyarrow: pip install "gradscope[parquet]"'
        ) from None
    return pyarrow


class ParquetSink:
    """One Parquet file in row groups of about ``ROW_GROUP_ROWS`` rows.

    Each window of rows becomes Arrow arrays at once (8 bytes a value instead of a Python
    float each), and the batches are written as one row group when enough have piled up.
    """

    def __init__(self, path: Path, columns: Sequence[str], meta: dict[str, Any]) -> None:
        pa = self._pa = _pyarrow()

        def kind(name: str) -> Any:
            if name in _INTS:
                return pa.int64()
            if name in _BOOLS:
                return pa.bool_()
            return pa.string() if name in _TEXT else pa.float64()

        fields = [pa.field(c, kind(c)) for c in columns]
        self._schema = pa.schema(fields, metadata={"gradscope": json.dumps(meta, default=str)})
        self._writer = pa.parquet.ParquetWriter(path, self._schema)
        self._batches: list[Any] = []
        self._pending = 0

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = zip(*rows, strict=True)
        arrays = [
            self._pa.array(col, type=f.type) for col, f in zip(columns, self._schema, strict=True)
        ]
        self._batches.append(self._pa.RecordBatch.from_arrays(arrays, schema=self._schema))
        self._pending += len(rows)
        if self._pending >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._batches:
            table = self._pa.Table.from_batches(self._batches, schema=self._schema)
            self._writer.write_table(table, row_group_size=max(ROW_GROUP_ROWS, table.num_rows))
        self._batches, self._pending = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


def _export_tables(
    runs: Any, path: str | os.PathLike[str], fmt: str, options: ExportOptions
) -> Path:
    metrics, progress = options.get("metrics"), options.get("progress")
    force = options.get("force", False)
    with opened_runs(runs) as opened:
        layout = plan(opened, metrics)
        out = Path(path)
        check_folder(out, fmt)
        columns = _columns(layout)
        finals = [out / f"{name}.{fmt}" for name in columns]
        refuse_existing(out, finals, force=force)
        if fmt == "parquet":
            _pyarrow()  # fail before creating anything
        out.mkdir(parents=True, exist_ok=True)
        meta = {"stores": [str(r.path) for r in opened], "meta": [r.meta for r in opened]}
        sinks: dict[str, _Sink] = {}
        with StagedFiles(out, finals, force=force) as staged:
            try:
                for (name, cols), final in zip(columns.items(), finals, strict=True):
                    file = staged.stage(final)
                    sinks[name] = (
                        CsvSink(file, cols) if fmt == "csv" else ParquetSink(file, cols, meta)
                    )
                for _, _, chunk in walk(opened, layout, progress=progress):
                    sinks["params"].write(chunk.params)
                    sinks["steps"].write(chunk.steps)
                    sinks["modules"].write(chunk.modules)
            finally:
                for sink in sinks.values():
                    sink.close()
            staged.commit()
        return out


def to_csv(runs: Any, path: str | os.PathLike[str], **options: Unpack[ExportOptions]) -> Path:
    """Write ``params.csv``, ``steps.csv`` and ``modules.csv`` into the folder ``path``.

    ``runs`` is a :class:`Run`, a store path, or a list of them (one store per rank: their rows
    follow one another, told apart by the ``rank`` column). Returns the folder.

    Files already named so in the folder are refused, or with ``force`` replaced (only those
    three); the files are put in place when the export has succeeded, never half-written.
    """
    return _export_tables(runs, path, "csv", options)


def to_parquet(runs: Any, path: str | os.PathLike[str], **options: Unpack[ExportOptions]) -> Path:
    """Like :func:`to_csv`, as ``params.parquet``, ``steps.parquet`` and ``modules.parquet``.

    The runs' ``meta`` tables travel in each file's schema metadata under ``gradscope`` (JSON).
    """
    return _export_tables(runs, path, "parquet", options)
