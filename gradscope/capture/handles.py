"""One place that owns every hook handle a scope registers, so ``close()`` can remove them all."""

from __future__ import annotations

from typing import Protocol


class Removable(Protocol):
    def remove(self) -> None: ...


class HookGroup:
    """Keeps removable handles and removes them in reverse order, idempotently.

    Modelled on ``torch.utils.hooks.RemovableHandle``: each ``add`` returns the handle so callers
    can also remove a single hook early (an instrument that switched itself off).
    """

    def __init__(self) -> None:
        self._handles: list[Removable] = []

    def add(self, handle: Removable) -> Removable:
        self._handles.append(handle)
        return handle

    def __len__(self) -> int:
        return len(self._handles)

    def remove_all(self) -> None:
        handles, self._handles = self._handles, []
        errors: list[BaseException] = []
        for handle in reversed(handles):
            try:
                handle.remove()
            except Exception as exc:  # keep removing the others; report after
                errors.append(exc)
        if errors:
            raise errors[0]
