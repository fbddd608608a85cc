"""Correct training raises no warning and no error (a correct script gets none)."""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_helpers import doctor_json

CORRECT = [
    "ok_accumulation",  # several backward passes per step, zero_grad after the step
    "ok_frozen_backbone",  # requires_grad=False backbone, its BatchNorm kept in eval()
    "ok_validation",  # eval() under no_grad for validation, then train() again
    "ok_scheduler",  # CosineAnnealingLR stepped after the optimizer
    "ok_adam_groups",  # AdamW with weight-decay and no-decay parameter groups
    "ok_amp_grad_scaler",  # fp16 autocast + GradScaler skipping its first steps (inf grads)
    "ok_lbfgs_converged",  # LBFGS solves the problem; later updates are exactly zero
    "ok_falling_gradients",  # randn weights: a huge first gradient norm that training lowers
    "ok_bias_before_batchnorm",  # a (1, n) bias before BatchNorm: zero gradient by design
    "ok_empty_parameter",  # a 0-element parameter used in forward
    "ok_vae_soft_targets",  # sigmoid + binary cross-entropy against pixel intensities in [0, 1]
    "ok_slow_start",  # a small lr, 30 steps: still at chance because the weights hardly moved
    "ok_ste_function",  # a sign Function with a straight-through (surrogate) backward
    "ok_manual_then_optimizer",  # tensors updated by hand, then a model with an optimizer
    "ok_resumed_scheduler",  # optimizer and scheduler rebuilt and loaded from a checkpoint
    "ok_cross_validation_folds",  # a fresh model per fold; the last fold's left in eval mode
    "gan",  # two models, two optimizers, D's gradients from G's loss reset by zero_grad
]


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variant_is_clean(name: str, script_stores: dict[str, Path]) -> None:
    alerts = doctor_json(script_stores[name])
    if name == "ok_amp_grad_scaler":  # the skipped steps are said, as information
        assert [(a["code"], a["severity"], a["where"]) for a in alerts] == [
            ("nonfinite-grad", "info", "GradScaler")
        ]
        return
    if name == "ok_vae_soft_targets":  # the stable form is advised, as information
        assert [(a["code"], a["severity"]) for a in alerts] == [("sigmoid-before-bce", "info")]
        return
    if name == "ok_ste_function":  # a surrogate backward by design, said as information
        ((code, severity, message),) = [(a["code"], a["severity"], a["message"]) for a in alerts]
        assert (code, severity) == ("custom-function-gradcheck", "info")
        assert "straight-through" in message
        return
    if name == "ok_slow_start":  # too early to judge, and said so
        ((code, severity, message),) = [(a["code"], a["severity"], a["message"]) for a in alerts]
        assert (code, severity) == ("loss-stalled", "info")
        assert "judged after 50 steps: too early to tell" in message
        return
    assert alerts == []


@pytest.mark.parametrize("model", ["linreg", "mlp", "lenet", "gru", "transformer"])
def test_demo_model_is_clean(model: str, demo_stores: dict[str, Path]) -> None:
    assert doctor_json(demo_stores[model]) == []
