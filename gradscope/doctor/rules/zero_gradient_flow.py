"""``zero-gradient-flow``: every gradient is exactly zero, because a step of the computation
has zero derivative everywhere.

``round``, ``floor``, ``ceil``, ``trunc`` and ``sign`` are differentiable in autograd's eyes, but
their derivative is 0 wherever it exists, so the gradients are not None (nothing warns) and are
all exactly 0: the loss stays where it is and nothing learns. (``argmax``, comparisons and
``.long()`` cut the graph instead; a loss then still reaching the parameters through another
path gives the same picture.) The rule fires when every trained parameter with a recorded
gradient had an exactly zero gradient on every logged step, and names the zero-derivative op
nearest the loss in the first step's autograd graph when the graph was kept.

A zero-derivative op in the middle of the model (``torch.sign`` on a hidden layer) starves only
the layers before it: the later ones learn, so the loss moves. That is judged from the graph:
the parameters whose gradient was exactly zero at every logged step and whose every path to the
loss runs through a zero-derivative op are reported, with the op their paths meet first. A
straight-through estimator (``x + (x.round() - x).detach()``) keeps a path around the op, so it
is never reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gradscope.doctor.context import Context, name_list
from gradscope.records import Alert

CODE = "zero-gradient-flow"
#: autograd nodes whose derivative is zero wherever it is defined → the torch call.
ZERO_DERIVATIVE = {
    "RoundBackward0": "round",
    "RoundBackward1": "round",
    "FloorBackward0": "floor",
    "CeilBackward0": "ceil",
    "TruncBackward0": "trunc",
    "SignBackward0": "sign",
    "SgnBackward0": "sgn",
    "FloorDivideBackward0": "floor_divide",
    "RemainderBackward0": "remainder",
    "HeavisideBackward0": "heaviside",
}
MIN_STEPS = 2


def zero_params(ctx: Context) -> list[str]:
    """Trained parameters with a gradient, when all had exactly zero gradients throughout."""
    with_grad = [p for p in ctx.trained if p in ctx.grad_params]
    if not with_grad:
        return []
    for name in with_grad:
        values = ctx.series("grad_norm", name)[1]
        if len(values) < MIN_STEPS or any(v != 0 for v in values):
            return []
    return with_grad


def dead_op(graph: dict[str, Any] | None) -> tuple[str, str] | None:
    """``(torch call, node name)`` of the zero-derivative node nearest the loss, if any."""
    if not graph:
        return None
    for node in graph.get("nodes", []):  # breadth-first from the loss
        name = str(node.get("name", ""))
        if name in ZERO_DERIVATIVE:
            return ZERO_DERIVATIVE[name], name
    return None


def always_zero(ctx: Context) -> list[str]:
    """Trained parameters whose gradient was exactly zero at every logged step."""
    out = []
    for name in ctx.trained:
        values = ctx.series("grad_norm", name)[1] if name in ctx.grad_params else []
        if len(values) >= MIN_STEPS and all(v == 0 for v in values):
            out.append(name)
    return out


def blocked(graph: dict[str, Any] | None, names: list[str]) -> tuple[list[str], str | None]:
    """Those of ``names`` that reach the loss in ``graph`` only through a zero-derivative op,
    and the name of the op their paths meet first (``None`` when there are none)."""
    if not graph or not names:
        return [], None
    nodes = {n["id"]: n for n in graph.get("nodes", [])}
    forward: dict[str, list[str]] = {}
    for edge in graph.get("edges", []):
        if edge.get("kind", "flow") == "flow":
            forward.setdefault(edge["src"], []).append(edge["dst"])
    outputs = {i for i, n in nodes.items() if n.get("kind") == "output"}
    dead = {i for i, n in nodes.items() if str(n.get("name")) in ZERO_DERIVATIVE}
    if not outputs or not dead:
        return [], None

    def walk(start: str, through_dead: bool) -> tuple[bool, list[str]]:
        """Whether ``start`` reaches an output, and the dead ops met first on the way."""
        seen, stack, met, reached = {start}, [start], [], False
        while stack:
            node = stack.pop()
            if node in outputs:
                reached = True
            for nxt in forward.get(node, []):
                if nxt in seen:
                    continue
                seen.add(nxt)
                if nxt in dead:
                    met.append(nxt)
                    if not through_dead:
                        continue
                stack.append(nxt)
        return reached, met

    out, first_met = [], None
    by_name = {str(n.get("name")): i for i, n in nodes.items() if n.get("kind") == "param"}
    for name in names:
        node = by_name.get(name)
        if node is None:
            continue
        around, met = walk(node, through_dead=False)
        if around or not met or not walk(node, through_dead=True)[0]:
            continue
        out.append(name)
        first_met = first_met or str(nodes[met[0]]["name"])
    return out, first_met


def check(ctx: Context) -> Iterator[Alert]:
    names = zero_params(ctx)
    if not names:
        yield from _starved(ctx)
        return
    op = dead_op(ctx.graph)
    if op is not None:
        call, node = op
        where = f"torch.{call}"
        what = (
            f"`{call}` (`{node}` in the autograd graph) sits between them and the loss: its "
            "derivative is 0 everywhere, so no gradient gets through"
        )
        fix = (
            f"Keep `{call}` out of the path to the loss (apply it only when reporting or "
            "predicting, under `torch.no_grad()`), or use a straight-through estimator: "
            f"`y = x + (x.{call}() - x).detach()`."
        )
    else:
        where = "loss"
        what = (
            "a step with zero derivative sits between them and the loss (round, floor, sign, "
            "a comparison or `.long()` feeding a mask)"
        )
        fix = (
            "Find it with `gradscope graph STORE`, keep it out of the path to the loss, or use "
            "a straight-through estimator: `y = x + (x.round() - x).detach()`."
        )
    yield ctx.alert(
        CODE,
        "error",
        where,
        min((ctx.series("grad_norm", n)[0][0] for n in names), default=None),
        f"Every gradient of {name_list(names)} was exactly 0 at every logged step: {what}. "
        f"The optimizer then changes nothing and the loss cannot improve. {fix}",
        params=names,
        op=op[1] if op else None,
    )


def _starved(ctx: Context) -> Iterator[Alert]:
    """The layers before a zero-derivative op in the middle of the model."""
    names, node = blocked(ctx.graph, always_zero(ctx))
    if not names or node is None:
        return
    call = ZERO_DERIVATIVE[node]
    yield ctx.alert(
        CODE,
        "error",
        f"torch.{call}",
        min(ctx.series("grad_norm", n)[0][0] for n in names),
        f"Every gradient of {name_list(names)} was exactly 0 at every logged step: their only "
        f"path to the loss runs through `{call}` (`{node}` in the autograd graph), whose "
        "derivative is 0 everywhere, so they never learn while the layers after it do. Keep "
        f"`{call}` out of the path to the loss, or use a straight-through estimator: "
        f"`y = x + (x.{call}() - x).detach()`.",
        params=names,
        op=node,
    )
