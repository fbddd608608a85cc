"""``param-not-in-optimizer``: a parameter gets gradients but no watched optimizer updates it.

The classic cause is building the optimizer before adding a layer (``model.head = nn.Linear
(...)`` after ``optim.SGD(model.parameters())``), or listing only some modules' parameters.
Only judged when at least one optimizer is watched: without one, nobody said what is updated.
Parameters are grouped by module so a forgotten layer is one alert.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, name_list
from gradscope.records import Alert

CODE = "param-not-in-optimizer"


def check(ctx: Context) -> Iterator[Alert]:
    if not ctx.optimizers:
        return
    by_module: dict[str, list[str]] = {}
    for name in ctx.params:
        if name in ctx.grad_params and name not in ctx.optimized:
            by_module.setdefault(ctx.param_info[name].module, []).append(name)
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
