"""The module/parameter tree as rows: nesting, folding, sorting, searching and module totals.

Kept apart from the widget so the order of rows can be tested without a terminal. A module's
totals are those of all parameters under it, combined as one tensor would be: the L2 norm of
its gradient norms, of its weight norms, and the ratio of the update norm to the weight norm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gradscope.records import ModuleInfo, ParamInfo
from gradscope.text_safety import visible

#: Sort keys the tree cycles through (``None``: the model's own order).
SORT_KEYS: tuple[str | None, ...] = (None, "grad_norm", "update_ratio", "weight_norm", "name")


@dataclass(frozen=True)
class TreeRow:
    """One line of the tree: a module (``key`` ``m:<path>``) or a parameter (``p:<name>``)."""

    key: str
    kind: str
    name: str
    label: str
    depth: int
    folded: bool = False
    empty: bool = False

    @property
    def is_module(self) -> bool:
        return self.kind == "module"


class TreeModel:
    """Which modules hold which parameters, and which rows show given folds, sort and search."""

    def __init__(self, modules: Iterable[ModuleInfo], params: Mapping[str, ParamInfo]) -> None:
        self.types = {m.path: m.type for m in modules}
        self.children: dict[str, list[str]] = {path: [] for path in self.types}
        self.own: dict[str, list[str]] = {path: [] for path in self.types}
        self.own.setdefault("", [])
        self.children.setdefault("", [])
        for path in self.types:
            if path:
                self.children.setdefault(self._parent(path), []).append(path)
        for name, info in params.items():
            self.own.setdefault(self._holder(info.module), []).append(name)
        self.folded: set[str] = set()
        self.sort_key: str | None = None
        #: Modules without parameters or children that get a row: those with activation
        #: statistics (``None``: all of them). A Tanh or Dropout with nothing recorded is noise.
        self.active: set[str] | None = None

    def _parent(self, path: str) -> str:
        head, _, _ = path.rpartition(".")
        while head and head not in self.types:
            head, _, _ = head.rpartition(".")
        return head

    def _holder(self, module: str) -> str:
        return module if module in self.types else self._parent(module)

    def params_under(self, path: str) -> list[str]:
        """Every parameter in the subtree of module ``path``."""
        out = list(self.own.get(path, ()))
        for child in self.children.get(path, ()):
            out += self.params_under(child)
        return out

    def ancestors(self, path: str) -> list[str]:
        """Module paths from the top down to ``path``'s parent (the root ``""`` left out)."""
        out = []
        head = self._parent(path)
        while head:
            out.append(head)
            head = self._parent(head)
        return out[::-1]

    def unfold_to(self, key: str) -> None:
        """Unfold every module above a row so that the row shows."""
        name = key[2:]
        start = name if key.startswith("m:") else self._holder(self._module_of(name))
        for path in [*self.ancestors(start), start]:
            if key != f"m:{path}":
                self.folded.discard(path)

    def _module_of(self, param: str) -> str:
        for path, names in self.own.items():
            if param in names:
                return path
        return ""

    def rows(self, values: Mapping[str, Mapping[str, Any]], search: str = "") -> list[TreeRow]:
        """The visible rows; ``values`` maps ``m:``/``p:`` keys to their column values."""
        query = search.strip().lower()
        shown = self._matching(query) if query else None
        out: list[TreeRow] = []
        self._walk("", 0, values, shown, out)
        return out

    def _matching(self, query: str) -> set[str]:
        """Keys of rows that match, their ancestors, and the subtrees of matching modules."""
        keep: set[str] = set()
        for path in self.types:
            if path and query in path.lower():
                keep.add(f"m:{path}")
                keep.update(f"m:{m}" for m in self.ancestors(path))
                keep.update(f"p:{p}" for p in self.params_under(path))
                keep.update(f"m:{m}" for m in self._modules_under(path))
        for path, names in self.own.items():
            for name in names:
                if query in name.lower():
                    keep.add(f"p:{name}")
                    keep.update(f"m:{m}" for m in [*self.ancestors(path), path] if m)
        return keep

    def _modules_under(self, path: str) -> list[str]:
        out = []
        for child in self.children.get(path, ()):
            out += [child, *self._modules_under(child)]
        return out

    def _walk(
        self,
        path: str,
        depth: int,
        values: Mapping[str, Mapping[str, Any]],
        shown: set[str] | None,
        out: list[TreeRow],
    ) -> None:
        items = [("p", n) for n in self.own.get(path, ())]
        items += [("m", m) for m in self.children.get(path, ())]
        items = [(k, n) for k, n in items if shown is None or f"{k}:{n}" in shown]
        if self.sort_key is not None:
            items.sort(key=lambda item: self._order(item, values))
        for kind, name in items:
            key = f"{kind}:{name}"
            short = name[len(path) + 1 :] if path else name
            if kind == "p":
                out.append(TreeRow(key, "param", name, visible(short), depth))
                continue
            folded = name in self.folded and shown is None
            label = visible(f"{short} {self.types[name]}")
            empty = not (self.own.get(name) or self.children.get(name))
            if empty and self.active is not None and name not in self.active:
                continue
            out.append(TreeRow(key, "module", name, label, depth, folded, empty))
            if not folded:
                self._walk(name, depth + 1, values, shown, out)

    def _order(self, item: tuple[str, str], values: Mapping[str, Mapping[str, Any]]) -> Any:
        kind, name = item
        if self.sort_key == "name":
            return (0, name)
        value = values.get(f"{kind}:{name}", {}).get(self.sort_key or "")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0.0)
        return (0, -value)


def module_totals(
    tree: TreeModel, latest: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, float | None]]:
    """``{path: {grad_norm, weight_norm, update_ratio}}`` over the parameters under each module."""
    out: dict[str, dict[str, float | None]] = {}
    for path in tree.types:
        if not path:
            continue
        rows = [latest[p] for p in tree.params_under(path) if p in latest]
        grad = _l2(r.get("grad_norm") for r in rows)
        weight = _l2(r.get("weight_norm") for r in rows)
        update = _l2(r.get("update_norm") for r in rows)
        ratio = update / weight if update is not None and weight else None
        out[path] = {"grad_norm": grad, "weight_norm": weight, "update_ratio": ratio}
    return out


def _l2(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return math.sqrt(sum(v * v for v in present)) if present else None
