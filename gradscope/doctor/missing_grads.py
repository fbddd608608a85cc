"""Parameters that never get a gradient, shared by ``unused-parameter`` and ``graph-break``.

Two sources, the first one preferred. The graph-break capture writes one ``graph_break`` fact per
parameter the loss does not reach, with the reason (the graph's ``BreakReason``: ``never-ran``,
``detach``, ``data``, ``no-grad``, ``numpy``, ``frozen``, ``unreachable`` …) and the module where
the path ends. For a parameter it says nothing about, the records every run has still tell a lot: a
trained parameter with no gradient at any logged step, whose module never produced an output, never
ran; one whose module ran while its siblings got gradients is itself unused; one whose whole module
ran yet got nothing was cut somewhere after it.
"""

from __future__ import annotations

from gradscope.doctor.context import Context
from gradscope.records import Event

#: Reasons that make a break a ``graph-break``.
CUT_REASONS = frozenset({"detach", "data", "no-grad", "numpy", "item", "unreachable",
                         "output-unused"})  # fmt: skip

Found = dict[str, list[tuple[str, int | None]]]


def canonical(ctx: Context, name: str) -> str | None:
    """The recorded name of a parameter given any of its names (tied parameters)."""
    if name in ctx.param_info:
        return name
    for recorded, info in ctx.param_info.items():
        if name in info.aliases:
            return recorded
    return None


def break_reason(details: dict[str, object]) -> str:
    """A ``graph_break`` fact's reason, spelled as the graph spells it (stores written before
    the spelling was one carry ``no_grad`` and ``output_unused``)."""
    return str(details.get("reason", "")).replace("_", "-")


def break_facts(ctx: Context) -> list[Event]:
    """The ``graph_break`` facts: those recorded, then the cuts of the first step's graph.

    The first step's graph (kept in the store) knows why a parameter was out of reach of that
    step's loss, ``torch.no_grad()`` inside forward for one; its cuts count only for parameters
    that never got a gradient at any logged step (a GAN's generator is out of reach of the
    discriminator's first loss, and learns all the same).
    """
    facts = list(ctx.events("graph_break"))
    graph = ctx.graph or {}
    for b in graph.get("breaks") or []:
        reason = break_reason(b)
        name = canonical(ctx, str(b.get("param", "")))
        if reason in CUT_REASONS and name is not None and name not in ctx.grad_params:
            details = {k: b.get(k) for k in ("module", "reason", "detail")}
            facts.append(Event(0, "graph_break", name, details))
    return facts


def break_groups(ctx: Context, reasons: frozenset[str] | set[str]) -> Found:
    """Module → ``[(parameter, step)]`` of the ``graph_break`` facts with one of ``reasons``.

    Only parameters meant to learn count (see :attr:`Context.trained`).
    """
    trained = set(ctx.trained)
    out: Found = {}
    for event in break_facts(ctx):
        reason = break_reason(event.details)
        name = canonical(ctx, event.where)
        if reason not in reasons or name is None or name not in trained:
            continue
        module = str(event.details.get("module") or "")
        found = out.setdefault(module, [])
        if name not in (n for n, _ in found):
            found.append((name, event.step))
    return out


def silent_params(ctx: Context) -> dict[str, str]:
    """Trained parameters no ``graph_break`` fact explains that never got a gradient.

    A fact with reason ``unknown`` (the capture could not tell why) explains nothing.

    Each maps to ``never-ran`` (its module produced no output), ``unused`` (its module ran and
    other parameters of that module got gradients) or ``cut`` (its module ran, nothing of it
    got a gradient). Empty when no backward pass reached any parameter, or when module outputs
    were not recorded (then running cannot be told from not running).
    """
    if not ctx.grad_params or not ctx.activations_recorded:
        return {}
    explained = {
        canonical(ctx, e.where)
        for e in break_facts(ctx)
        if e.details.get("reason") not in (None, "unknown")
    }
    out: dict[str, str] = {}
    for name in ctx.trained:
        if name in ctx.grad_params or name in explained:
            continue
        module = ctx.param_info[name].module
        if module not in ctx.module_types:
            continue
        if not ctx.module_series("act_mean", module)[0]:
            out[name] = "never-ran"
        elif any(ctx.param_info[p].module == module for p in ctx.grad_params):
            out[name] = "unused"
        else:
            out[name] = "cut"
    return out


def outermost_silent(ctx: Context, module: str) -> str:
    """The outermost ancestor of ``module`` that also never ran (the one to call or delete)."""
    parts = module.split(".") if module else []
    for i in range(len(parts)):
        path = ".".join(parts[:i])
        if path in ctx.module_types and not ctx.module_series("act_mean", path)[0]:
            return path
    return module


def outermost_cut(ctx: Context, module: str, silent: set[str], *, root: bool = False) -> str:
    """The outermost ancestor of ``module`` none of whose trained parameters got a gradient.

    A cut after ``context`` (``self.context(x).detach()``) silences every parameter inside
    ``context``; naming ``context`` rather than ``context.0`` points at the line to fix. The
    root (the whole model) is a candidate only with ``root``: a loss cut from all of it.
    """
    parts = module.split(".") if module else []
    trained = set(ctx.trained)
    for i in range(0 if root else 1, len(parts) + 1):
        path = ".".join(parts[:i])
        inside = [p for p in trained if within(ctx.param_info[p].module, path)]
        if inside and all(p in silent for p in inside):
            return path
    return module


def within(module: str, path: str) -> bool:
    """Whether ``module`` is ``path`` or inside it (everything is inside the root, ``""``)."""
    return not path or module == path or module.startswith(f"{path}.")
