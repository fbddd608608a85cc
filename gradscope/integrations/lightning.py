"""``GradscopeCallback``: gradscope for a PyTorch Lightning ``Trainer``.

    trainer = Trainer(callbacks=[GradscopeCallback(store="runs/fit.gsdb", every=10)])

The callback watches the ``LightningModule`` and ``trainer.optimizers`` from ``on_train_start``
(the optimizers exist by then, and the sanity-check validation, run without gradients, is
over) to the end of the fit. Lightning's backward (``LightningModule.backward``, also behind
``manual_backward``) is ``loss.backward()``, so gradscope sees the loss itself; only under a
``GradScaler`` (``precision="16-mixed"``) is that tensor the *scaled* loss, and then the callback
records the unscaled losses the training steps returned instead. Works with the ``lightning``
and the ``pytorch_lightning`` package: Lightning calls callback hooks by name, so one class
serves both trainers.
"""

from __future__ import annotations

import os
from typing import Any

import torch

try:
    from lightning.pytorch import Callback, LightningModule, Trainer
except ImportError:  # the older package name
    try:
        from pytorch_lightning import (  # type: ignore[assignment]  # the same API
            Callback,
            LightningModule,
            Trainer,
        )
    except ImportError as exc:
        raise ImportError(
            "gradscope.integrations.lightning needs PyTorch Lightning: "
            'pip install "gradscope[lightning]"'
        ) from exc

from gradscope.integrations.attachment import AttachedCallback, Attachment, scalar_loss


class GradscopeCallback(AttachedCallback, Callback):
    """Record a Lightning fit with gradscope; options are those of ``gs.watch``.

    ``store`` defaults to ``gs.watch``'s ``runs/<module class>-<timestamp>.gsdb``; a second fit
    with the same callback and an explicit ``store`` writes ``<stem>-1.gsdb`` and so on, so no
    fit replaces another's store. A step is one ``step()`` of the first optimizer. The scope is
    closed (every hook removed) at the end of the fit and when the fit raises.
    """

    def __init__(self, *, store: str | os.PathLike[str] | None = None, **options: Any) -> None:
        super().__init__()
        self._attachment = Attachment("lightning", store, options)
        self._scaled = False
        self._loss: torch.Tensor | float | None = None
        self._seen_step = 0
        self._seen_global_step = 0

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._attachment.open(pl_module, trainer.optimizers)
        precision = getattr(trainer, "precision_plugin", None)
        self._scaled = getattr(precision, "scaler", None) is not None
        self._loss = None
        self._seen_step = 0
        self._seen_global_step = trainer.global_step

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._scaled:
            self._attachment.run(self._log_unscaled_loss, trainer, outputs)

    def _log_unscaled_loss(self, trainer: Trainer, outputs: Any) -> None:
        """Replace the scaled backward root by the sum of the batches' returned losses.

        The returned loss is already divided by ``accumulate_grad_batches``, like the tensor
        backward ran on, so the sum over a step's batches is the step's loss. It is logged once
        the step has ended (``scope.log`` then files it under that step, replacing the captured
        value: nothing is counted twice); a step the scaler skipped (non-finite gradients) is no
        gradscope step, and its losses are dropped.
        """
        scope = self._attachment.scope
        assert scope is not None  # run() calls only while a scope is open
        loss = scalar_loss(outputs)
        if loss is not None:
            self._loss = loss if self._loss is None else self._loss + loss
        if scope.step > self._seen_step:
            if self._loss is not None:
                scope.log(loss=self._loss)
            self._loss = None
        elif trainer.global_step > self._seen_global_step:
            self._loss = None
        self._seen_step = scope.step
        self._seen_global_step = trainer.global_step

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._attachment.close()

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        self._attachment.close()

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """A safety net: whatever ended the fit, no hook outlives it."""
        if stage == "fit":
            self._attachment.close()
