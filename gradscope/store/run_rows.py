"""What the read mixins of :class:`gradscope.store.reader.Run` need from it, declared once."""

from __future__ import annotations

from typing import Any


class RunRows:
    """The connection-level helpers :class:`Run` implements for its read mixins."""

    _param_rows: list[tuple[Any, ...]]
    _module_ids: dict[str, int]

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _json(self, text: Any) -> Any:
        raise NotImplementedError

    def _param_id(self, param: str) -> int:
        raise NotImplementedError

    def _has_column(self, table: str, column: str) -> bool:
        raise NotImplementedError

    def _step_rows(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError
