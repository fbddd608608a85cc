"""``eval-mode-training``: optimizer steps while Dropout/BatchNorm modules are in eval mode.

After ``model.eval()`` for validation, a forgotten ``model.train()`` makes every later step
train without dropout (overfits) and with frozen BatchNorm statistics. Capture lists the
Dropout/BatchNorm modules in eval mode at an optimizer step. A BatchNorm whose parameters are
frozen is left out: keeping frozen BatchNorm layers in eval mode while fine-tuning the rest is a
legitimate, common practice. Dropout in eval mode during training is always reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, common_module, name_list
from gradscope.records import Alert

CODE = "eval-mode-training"


def is_dropout(type_name: str) -> bool:
    return "Dropout" in type_name


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("eval_mode_step"):
        modules = list(event.details.get("modules", []))
        types = list(event.details.get("types", [""] * len(modules)))
        trainable = list(event.details.get("trainable", [True] * len(modules)))
        flagged = [
            (path, typ)
            for path, typ, tr in zip(modules, types, trainable, strict=False)
            if is_dropout(typ) or tr
        ]
        if not flagged:
            continue
        paths = [p for p, _ in flagged]
        where = ctx.label(common_module(paths)) if len(paths) > 1 else ctx.label(paths[0])
        kinds = sorted({t for _, t in flagged})
        yield ctx.alert(
            CODE,
            "warning",
            where,
            event.step,
            f"At step {event.step} `{event.where}` updated the model while "
            f"{name_list(paths)} ({', '.join(kinds)}) were in eval mode: dropout is off and "
            "BatchNorm uses its running statistics instead of the batch's, so the model "
            "trains as a different network than intended (and overfits). After validating "
            "with `model.eval()`, switch back before training: `model.train()`. (Frozen "
            "BatchNorm layers kept in eval mode on purpose are fine and not reported.)",
            modules=paths,
            types=[t for _, t in flagged],
        )
