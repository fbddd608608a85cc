"""The graph-break report: parameters the output does not reach, and why.

The walk from the output tells *which* parameters are unreachable; the recorded forward (see
:mod:`gradscope.graph.attribution`) tells *why*: the module never ran (``unused-parameter``),
its output was cut by ``.detach()``, ``.data``, ``no_grad`` or a NumPy/Python round-trip
(``graph-break``, naming the module where the path ends), it ran but nothing it produced was
used, or the parameter is frozen (``requires_grad=False``). Without a recorded forward only the
frozen case can be told apart, and the report says how to get the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gradscope.graph.attribution import ModuleRecord
from gradscope.graph.cuts import CUT_NAMES, CutEvent
from gradscope.graph.model import GraphBreak

RECORD_HINT = (
    "run the forward under gs.graph.record_modules(model), or pass it as "
    "capture_graph(lambda: loss_fn(model(x), y), model=model), to tell why"
)


@dataclass(slots=True)
class ParamReach:
    """A parameter of the model and whether the walk from the output reached it."""

    name: str
    aliases: tuple[str, ...]
    requires_grad: bool
    reached: bool


def find_breaks(
    params: Iterable[ParamReach],
    record: ModuleRecord | None,
    *,
    containers: frozenset[str] = frozenset(),
) -> list[GraphBreak]:
    """One :class:`GraphBreak` per parameter that gets no gradient from this output.

    ``containers`` are module paths that never run by design (``ModuleList``, ``ParameterList``
    …), so not having run says nothing about them.
    """
    out = []
    for p in params:
        if p.reached:
            continue
        owner = p.name.rpartition(".")[0]
        if not p.requires_grad:
            detail = f"{p.name} has requires_grad=False (frozen), so it gets no gradient"
            out.append(GraphBreak(p.name, owner, "frozen", detail, p.aliases))
        elif record is None:
            detail = f"{p.name} is not reached from the output; {RECORD_HINT}"
            out.append(GraphBreak(p.name, owner, "unknown", detail, p.aliases))
        else:
            out.append(_explain(p, owner, record, containers))
    return out


def _explain(
    p: ParamReach, owner: str, record: ModuleRecord, containers: frozenset[str]
) -> GraphBreak:
    never = _never_ran(owner, record.ran, containers)
    if never is not None:
        where = never or "the model"
        detail = (
            f"{where} never ran in the recorded forward, so {p.name} gets no gradient; "
            f"call it in forward() or delete it"
        )
        return GraphBreak(p.name, never, "never-ran", detail, p.aliases)
    cut = _cut_for(p.name, record.cuts)
    if cut is not None:
        module = cut.module or "the model"
        if cut.kind == "no-grad":
            detail = (
                f"{module} ran under torch.no_grad(), which cuts it and everything before it "
                f"from the graph, so {p.name} gets no gradient"
            )
        else:
            at = f"{cut.at}.forward" if cut.at else "the model's forward"
            detail = (
                f"the output of {module} was cut from the graph by {CUT_NAMES[cut.kind]} in "
                f"{at}, so {p.name} gets no gradient"
            )
        return GraphBreak(p.name, cut.module, cut.kind, detail, p.aliases)
    calls = [c for c in record.calls if c.path == owner]
    if calls and not any(c.grad_enabled for c in calls):
        detail = f"{owner} ran with gradients disabled (torch.no_grad()), so {p.name} is cut"
        return GraphBreak(p.name, owner, "no-grad", detail, p.aliases)
    detail = (
        f"{owner or 'the model'} ran, but nothing it produced reaches the output (the result "
        f"is unused, or was cut outside the recorded forward)"
    )
    return GraphBreak(p.name, owner, "output-unused", detail, p.aliases)


def _never_ran(owner: str, ran: set[str], containers: frozenset[str]) -> str | None:
    """The outermost module on the path to ``owner`` that never ran (and nothing inside it
    did), skipping containers; None if they all ran."""
    parts = owner.split(".") if owner else []
    active = {".".join(r.split(".")[:i]) for r in ran for i in range(r.count(".") + 2)}
    for i in range(len(parts) + 1):
        path = ".".join(parts[:i])
        if path not in containers and path not in active:
            return path
    return None


def _cut_for(name: str, cuts: list[CutEvent]) -> CutEvent | None:
    """The cut that explains a parameter: the one nearest to it (the smallest set upstream)."""
    hits = [c for c in cuts if name in c.params]
    return min(hits, key=lambda c: len(c.params)) if hits else None
