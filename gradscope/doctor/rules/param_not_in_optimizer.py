"""``param-not-in-optimizer``: a parameter gets gradients but no watched optimizer updates it.

The classic cause is building the optimizer before adding a layer (``model.head = nn.Linear
(...)`` after ``optim.SGD(model.parameters())``), or listing only some modules' parameters.
Only judged when at least one optimizer is watched: without one, nobody said what is updated.
Parameters are grouped by the outermost module none of whose trainable parameters any optimizer
holds, so a forgotten layer is one alert, and so is a forgotten ``decoder`` made of several.
A parameter whose weights changed all the same is updated by something else (a hand-written
update under ``no_grad`` in an earlier phase of the script, an optimizer not watched), and is
not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, name_list
from gradscope.records import Alert

CODE = "param-not-in-optimizer"


def owner(ctx: Context, module: str, missing: set[str]) -> str:
    """The outermost module above ``module`` (or itself) all of whose trainable parameters are
    missing: a decoder left out of the optimizer is one alert at ``decoder``, not one per layer.
    The root is never chosen: a model missing whole is named by its parts."""
    parts = module.split(".") if module else []
    for depth in range(1, len(parts)):
        prefix = ".".join(parts[:depth])
        under = [
            n for n in ctx.params if n.startswith(prefix + ".") and ctx.param_info[n].requires_grad
        ]
        if under and all(n in missing for n in under):
            return prefix
    return module


def check(ctx: Context) -> Iterator[Alert]:
    yield from _rebuilt(ctx)
    if not ctx.optimizers:
        return
    missing = [
        n
        for n in ctx.params
        if n in ctx.grad_params and n not in ctx.optimized and not _moved(ctx, n)
    ]
    by_module: dict[str, list[str]] = {}
    for name in missing:
        by_module.setdefault(owner(ctx, ctx.param_info[name].module, set(missing)), []).append(name)
    opt_names = ", ".join(ctx.optimizer_label(o.index) for o in ctx.optimizers)
    for module, names in by_module.items():
        first = ctx.series("grad_norm", names[0])[0][0]
        where = ctx.label(module) if module else names[0]
        yield ctx.alert(
            CODE,
            "warning",
            where,
            first,
            f"{name_list(names)} receive gradients at every backward pass, but no watched "
            f"optimizer ({opt_names}) updates them, so they never learn and their gradients "
            "are computed for nothing. The optimizer was probably built before the layer was "
            "added, or from a subset of the model: create it after the model is complete, "
            "`optimizer = torch.optim.SGD(model.parameters(), lr=...)`, or "
            f"`optimizer.add_param_group({{'params': model.{module or names[0]}.parameters()}})`"
            ". If they are meant to stay fixed, `requires_grad_(False)` saves the work; if "
            "another optimizer updates them, pass it too: `gs.watch(model, [opt1, opt2])`.",
            params=names,
        )


def _moved(ctx: Context, name: str) -> bool:
    """Whether ``name``'s recorded weights changed: something updated it."""
    return any(len(set(ctx.series(m, name)[1])) > 1 for m in ("weight_norm", "weight_mean"))


def _rebuilt(ctx: Context) -> Iterator[Alert]:
    """A layer created inside ``forward()``: new parameters at every call, in no optimizer."""
    for event in ctx.events("param_rebuilt"):
        names = [str(n) for n in event.details.get("params") or []]
        attr = event.where.rpartition(".")[2] or "layer"
        yield ctx.event_alert(
            CODE,
            "error",
            event,
            f"`{event.where}` is created anew inside forward(): at every call it is a new layer "
            f"with fresh random weights ({name_list(names)}), which no optimizer holds, so it "
            "never learns and the model's output goes through a random layer at every step. "
            f"Create it once in __init__ (`self.{attr} = nn.Linear(...)`) and build the "
            "optimizer after the model is complete; for a size known only at the first call, "
            "use a lazy module (`nn.LazyLinear`).",
            params=names,
        )
