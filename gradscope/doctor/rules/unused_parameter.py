"""``unused-parameter``: a trainable parameter whose module never ran in forward.

The graph-break capture names the outermost module on the parameter's path that never ran
(``graph_break`` facts with reason ``never-ran``); without those facts the recorded module
outputs tell the same (see :mod:`gradscope.doctor.missing_grads`). Parameters no watched optimizer
updates are left out: nobody expects them to learn. A parameter that its own module never
used while the module ran is reported too, under the parameter's name.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, name_list
from gradscope.doctor.missing_grads import break_groups, outermost_silent, silent_params
from gradscope.records import Alert

CODE = "unused-parameter"


def check(ctx: Context) -> Iterator[Alert]:
    groups = break_groups(ctx, {"never-ran"})
    loose: list[str] = []
    for name, kind in silent_params(ctx).items():
        if kind == "never-ran":
            module = outermost_silent(ctx, ctx.param_info[name].module)
            groups.setdefault(module, []).append((name, None))
        elif kind == "unused":
            loose.append(name)
    for module, found in groups.items():
        names = [n for n, _ in found]
        label = ctx.label(module)
        step = min((s for _, s in found if s is not None), default=None)
        yield ctx.alert(
            CODE,
            "warning",
            label,
            step,
            f"`{label}` never ran in forward(), so {name_list(names)} never get a gradient and "
            "never learn while the optimizer carries them (DistributedDataParallel even fails "
            "on them unless find_unused_parameters=True). Call it in forward(), e.g. "
            f"`x = self.{module.rpartition('.')[2] or 'layer'}(x)`, or delete it if it is a "
            "leftover.",
            params=names,
        )
    for name in loose:
        module = ctx.param_info[name].module
        yield ctx.alert(
            CODE,
            "warning",
            name,
            None,
            f"{ctx.quoted(module)} ran, but `{name}` took no part in its forward(), so it never "
            "gets a gradient and never learns. Use it in forward() or remove it; if it must "
            f"stay but not learn, `model.{name}.requires_grad_(False)`.",
            params=[name],
        )
