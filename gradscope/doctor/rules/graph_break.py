"""``graph-break``: a module ran but its output was cut from the loss.

``.detach()``, ``.data``, ``torch.no_grad()``, a NumPy round-trip or an op with no gradient (a
comparison, ``argmax``, ``.long()``) inside forward give the loss a value with no autograd
history, so every parameter upstream of the cut silently gets no
gradient while the rest of the model trains. The graph-break capture names the module where
the path ends (``graph_break`` facts); parameters no watched optimizer updates are left out (a
backbone run under ``no_grad`` on purpose and kept out of the optimizer). Without those facts,
a module that ran while none of its parameters ever got a gradient is reported itself.

When ``backward()`` ran but reached none of an optimizer's parameters, the loss itself was cut
from the model (``torch.tensor(loss.item(), requires_grad=True)``, ``loss.requires_grad_()``
on a value computed through ``argmax``, a detached output): the cut is reported at the module
holding those parameters, the whole model as a rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, common_module, name_list
from gradscope.doctor.missing_grads import (
    CUT_REASONS,
    break_facts,
    break_groups,
    break_reason,
    canonical,
    outermost_cut,
    silent_params,
)
from gradscope.records import Alert

CODE = "graph-break"

#: The one-line fix for each way of cutting a value from the graph.
FIXES = {
    "detach": "drop the `.detach()`: `h = self.{m}(x)` instead of `h = self.{m}(x).detach()`",
    "data": "use the tensor, not its `.data`: `h = self.{m}(x)` instead of `self.{m}(x).data`",
    "no-grad": "call it outside `with torch.no_grad():` (or, to freeze it on purpose, "
    "`model.{m}.requires_grad_(False)` and leave it out of the optimizer)",
    "numpy": "stay in torch: `torch.sin(h)` instead of `torch.tensor(np.sin(h.numpy()))`",
    "item": "keep a tensor: `h.sum()` instead of `torch.tensor(h.sum().item())`",
}
GENERIC = (
    "find where its output leaves the graph (`gradscope graph` shows the cut: a `.detach()`, "
    "`.data`, `torch.no_grad()`, `.numpy()`, or an op with no gradient: a comparison such as "
    "`(h > 0).float()`, `argmax`, `.long()`) and pass the tensor itself on, or a "
    "differentiable stand-in for the op (`torch.sigmoid(h)` for a step)"
)


#: What happened at the cut, by reason.
WHAT = {
    "no-grad": "`{label}` ran under `torch.no_grad()` inside the training forward, which cuts "
    "it from the graph",
    "detach": "`{label}`'s output was detached (`.detach()`) before it reached the loss",
    "data": "`{label}`'s output reached the loss through `.data`, which has no autograd history",
    "numpy": "`{label}`'s output went through NumPy and back, which drops its autograd history",
    "item": "`{label}`'s output went through `.item()` and back into a new tensor, which drops "
    "its autograd history",
}


def check(ctx: Context) -> Iterator[Alert]:
    never = {p for p in ctx.trained if p not in ctx.grad_params}
    groups: dict[str, list[tuple[str, int | None]]] = {}
    reasons: dict[str, tuple[str, str]] = {}
    facts = _reasons(ctx)
    for module, found in break_groups(ctx, CUT_REASONS).items():
        outer = outermost_cut(ctx, module, never)
        groups.setdefault(outer, []).extend(found)
        fact = facts.get(module)
        if fact is not None:
            # the capture's own sentence names the module it saw; an outer one gets ours
            reasons.setdefault(outer, fact if outer == module else (fact[0], ""))
    silent = silent_params(ctx)
    for name, kind in silent.items():
        if kind == "cut":
            module = outermost_cut(ctx, ctx.param_info[name].module, set(silent))
            groups.setdefault(module, []).append((name, None))
    for module, found in groups.items():
        names = [n for n, _ in found]
        step = min((s for _, s in found if s is not None), default=None)
        label = ctx.label(module)
        reason, detail = reasons.get(module, ("unreachable", ""))
        fix = FIXES.get(reason, GENERIC).format(m=module.rpartition(".")[2] or "model")
        what = detail or WHAT.get(reason, "").format(label=label)
        what = what or f"`{label}` ran, but its output never reached the loss with its history"
        yield ctx.alert(
            CODE,
            "error",
            label,
            step,
            f"{what}. So {name_list(names)} get no gradient and never learn while the rest of "
            f"the model trains around them. Fix: {fix}.",
            params=names,
            reason=reason,
        )
    yield from _loss_cut(ctx)


LEAF = (
    "`backward()` ran on a loss with no autograd history: a tensor made from a value "
    "(`torch.tensor(loss.item(), requires_grad=True)`, or `requires_grad` switched on for a "
    "loss computed from `argmax`, `.round().long()` or a detached output)"
)
GRAPH = (
    "`backward()` ran on a loss whose autograd history never reaches {model}: its output was "
    "cut on the way (`.detach()`, `.data`, `torch.no_grad()`, `.numpy()`, `argmax`, a comparison)"
)


def _loss_cut(ctx: Context) -> Iterator[Alert]:
    """``graph-break`` for a loss that reaches none of an optimizer's parameters."""
    for event in ctx.events("step_without_grad"):
        root = event.details.get("backward_root")
        if root is None:
            continue
        names = [n for n in (canonical(ctx, p) for p in ctx.optimizer_params(event.where)) if n]
        deepest = common_module([ctx.param_info[n].module for n in names])
        module = outermost_cut(ctx, deepest, set(names), root=True)
        label = ctx.quoted(module)
        what = LEAF if root == "leaf" else GRAPH.format(model=label)
        yield ctx.alert(
            CODE,
            "error",
            ctx.label(module),
            event.step,
            f"{what}. So no parameter of {label} gets a gradient, every `{event.where}` step "
            "changes nothing and the model never learns. Fix: compute the loss from the "
            "model's output tensor itself and call `loss.backward()` on it, with no "
            "`.item()`, re-made tensor or `requires_grad_()` in between; for a discrete "
            "prediction (`argmax`, rounding), train on the logits and round only to report.",
            params=names,
            reason="loss-cut",
        )


def _reasons(ctx: Context) -> dict[str, tuple[str, str]]:
    """Module → (reason, capture's own sentence) of its first graph-break fact."""
    out: dict[str, tuple[str, str]] = {}
    for event in break_facts(ctx):
        module = str(event.details.get("module") or "")
        reason = break_reason(event.details)
        if reason in CUT_REASONS:
            out.setdefault(module, (reason, str(event.details.get("detail", "")).rstrip(".")))
    return out
