"""``GradscopeTrainerCallback``: gradscope for the Hugging Face ``transformers`` ``Trainer``.

    trainer = Trainer(model, args, train_dataset=ds, callbacks=[GradscopeTrainerCallback()])

``on_train_begin`` comes after the Trainer has built its optimizer and passed it through
``accelerator.prepare``, so both are in the hook's arguments. The optimizer there is accelerate's
``AcceleratedOptimizer``; the torch optimizer it forwards ``step()`` to is the one watched, so a
step is one real optimizer step (gradient accumulation, clipping and a skipped fp16 step
included), the same count as ``state.global_step``. The Trainer's backward
(``accelerator.backward``) is ``loss.backward()``, so gradscope sees the loss itself; only with
an fp16 ``GradScaler`` is that tensor the scaled loss, and then the loss the Trainer logs
replaces it.
"""

from __future__ import annotations

import os
from typing import Any

try:
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
except ImportError as exc:
    raise ImportError(
        "gradscope.integrations.huggingface needs transformers: "
        'pip install "gradscope[huggingface]"'
    ) from exc

from torch import nn
from torch.optim import Optimizer

from gradscope.integrations.attachment import AttachedCallback, Attachment


class GradscopeTrainerCallback(AttachedCallback, TrainerCallback):
    """Record a ``Trainer.train()`` run with gradscope; options are those of ``gs.watch``.

    ``store`` defaults to ``gs.watch``'s ``runs/<model class>-<timestamp>.gsdb``; a second
    ``train()`` with the same callback and an explicit ``store`` writes ``<stem>-1.gsdb`` and so
    on. The scope is closed at ``on_train_end``. The Trainer has no hook for a run that raises:
    call :meth:`close` in a ``finally`` to remove the hooks then (the store holds every step
    committed before the error either way).
    """

    def __init__(self, *, store: str | os.PathLike[str] | None = None, **options: Any) -> None:
        self._attachment = Attachment("huggingface", store, options)
        self._scaled = False

    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        model: nn.Module | None = None,
        optimizer: Optimizer | None = None,
        **kwargs: Any,
    ) -> None:
        self._attachment.open(model, [optimizer] if optimizer is not None else [])
        self._scaled = getattr(optimizer, "scaler", None) is not None

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        """Under an fp16 ``GradScaler``, file the Trainer's logged loss under the step just ended.

        The logged loss is the mean over the last ``logging_steps`` steps, so with loss scaling
        only ``logging_steps=1`` gives a per-step loss; without scaling nothing is logged here and
        the captured loss of every step stands.
        """
        if self._scaled and logs and isinstance(logs.get("loss"), (int, float)):
            self._attachment.run(self._log_loss, float(logs["loss"]))

    def _log_loss(self, loss: float) -> None:
        scope = self._attachment.scope
        assert scope is not None  # run() calls only while a scope is open
        scope.log(loss=loss)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._attachment.close()
