"""What the read mixins of :class:`gradscope.store.reader.Run` need from it, declared once.

Only for type checkers: :class:`Run` implements each of these; at run time the class is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gradscope.records import GroupStats, StepRecord


class RunRows:
    """The connection-level helpers :class:`Run` implements for its read mixins."""

    if TYPE_CHECKING:
        _param_rows: list[tuple[Any, ...]]
        _module_ids: dict[str, int]

        def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
        def _json(self, text: Any) -> Any: ...
        def _param_id(self, param: str) -> int: ...
        def _has_column(self, table: str, column: str) -> bool: ...
        def _step_rows(self, where: str, args: tuple[Any, ...]) -> list[StepRecord]: ...
        def _group(self, optimizer: int, r: tuple[Any, ...]) -> GroupStats: ...
        def refresh(self) -> None: ...
