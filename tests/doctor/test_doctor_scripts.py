"""Acceptance: per code, a plain buggy script is diagnosed at the right place; its twin is not.

Each ``tests/fixtures/doctor/<code>_bug.py`` is unmodified training code with one classic bug,
and ``<code>_fixed.py`` the same code with the one-line fix. Both run through ``gradscope run``
(see conftest) and are judged by ``gradscope doctor STORE --json``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_helpers import doctor_json

from gradscope.doctor import CODES

#: code → where the bug script must be diagnosed (the module, parameter, optimizer or loss).
EXPECTED: dict[str, str | set[str]] = {
    "grad-not-zeroed": "optimizer0:SGD",
    "unused-parameter": "extra",
    "graph-break": "encoder",
    "param-not-in-optimizer": "head",
    "step-without-grad": "optimizer0:SGD",
    "nonfinite-loss": "loss",
    "nonfinite-forward": "1",  # the LogFeatures module, second in the Sequential
    "nonfinite-grad": "1",  # the Radius module, whose sqrt(0) creates the NaN gradient
    "exploding-gradients": {"0.weight", "0.bias"},
    "vanishing-gradients": "0.weight",
    "dead-relu": "1",
    "softmax-before-cross-entropy": "softmax",
    "sigmoid-before-bce": "1",
    "loss-broadcast": "F.mse_loss",
    "kldiv-input-not-log": "F.kl_div",
    "nll-input-not-log": "F.nll_loss",
    "loss-target-range": "F.cosine_embedding_loss",
    "eval-mode-training": "2",
    "update-ratio": "optimizer0:Adam.group0",
    "scheduler-order": "StepLR",
    "custom-function-gradcheck": "Sine",
    "dropout-before-batchnorm": "bn",
    "zero-gradient-flow": "torch.round",
    "loss-stalled": "loss",
}

#: More buggy/fixed twins of a code, by file stem: ``<stem>_bug.py`` / ``<stem>_fixed.py``.
VARIANTS: dict[str, tuple[str, str]] = {
    "scheduler_order_plateau": ("scheduler-order", "ReduceLROnPlateau"),
    "scheduler_order_epoch": ("scheduler-order", "StepLR"),  # stepped at the top of the epoch
    "loss_broadcast_swapped": ("loss-broadcast", "F.mse_loss"),  # MSELoss()(target, pred)
    "dropout_before_batchnorm_functional": ("dropout-before-batchnorm", "bn"),  # F.dropout
    "loss_target_range_bce": ("loss-target-range", "F.binary_cross_entropy_with_logits"),
    "nonfinite_grad_parameterless": ("nonfinite-grad", "1"),  # torch.where over sqrt, step 3
    # NaN gradients under fp16 autocast: the GradScaler skips all the way below scale 1; its
    # fixed twin skips 25 steps coming down from init_scale=2**40, then trains (info only)
    "nonfinite_grad_scaler": ("nonfinite-grad", "GradScaler"),
    # the norm climbs 1e5× in one step, the loss is Inf two steps later: the explosion is named
    "exploding_gradients_nan": ("exploding-gradients", "0.bias"),
    # torch.sigmoid(logits).squeeze(1): found through the reshape
    "sigmoid_before_bce_functional": ("sigmoid-before-bce", "F.binary_cross_entropy"),
    # a sigmoid output into BCEWithLogitsLoss: the sigmoid applied twice
    "sigmoid_before_bce_logits": ("sigmoid-before-bce", "F.binary_cross_entropy_with_logits"),
    # torch.sign on a hidden layer: only the layers before it are starved, the loss still moves
    "zero_gradient_flow_sign": ("zero-gradient-flow", "torch.sign"),
    # std=1 init of a deep ReLU stack: a 1e10 norm at step 0, Inf at step 1; the explosion,
    # not the layer that overflowed, is named (at the largest gradient)
    "exploding_gradients_init": ("exploding-gradients", "out.weight"),
    # lr=1e-9: a LayerNorm bias starting at 0 seems to move, the weights judge the group
    "update_ratio_layernorm": ("update-ratio", "optimizer0:AdamW.group0"),
    # a whole decoder of several layers left out: one alert at the decoder
    "param_not_in_optimizer_decoder": ("param-not-in-optimizer", "decoder"),
    # torch.tensor(loss.item(), requires_grad=True): the whole model is cut from the loss
    "graph_break_loss_item": ("graph-break", "Regressor"),
    # loss on argmax predictions, requires_grad_ switched on to make backward run
    "graph_break_argmax_loss": ("graph-break", "Sequential"),
    # torch.no_grad() around the stem inside forward: named at the stem, not at its conv
    "graph_break_no_grad_stem": ("graph-break", "stem"),
    # a wrong backward met on a 256-row batch: checked on the batch's first rows
    "custom_function_gradcheck_batch": ("custom-function-gradcheck", "SoftClip"),
    # nn.Linear built inside forward(): new parameters at every call, in no optimizer
    "param_not_in_optimizer_rebuilt": ("param-not-in-optimizer", "head"),
    # resuming, the optimizer is built over the model the checkpoint then replaces
    "step_without_grad_reload": ("step-without-grad", "optimizer1:Adam"),
}


def stem(code: str) -> str:
    return code.replace("-", "_")


#: Codes whose buggy and fixed runs need several processes: tests/distributed runs them under
#: torchrun (a planted desync and a correct DDP run).
MULTI_PROCESS = {"ddp-desync"}


def test_every_code_has_a_bug_script_and_a_fixed_twin() -> None:
    assert set(EXPECTED) | MULTI_PROCESS == set(CODES)
    fixtures = Path(__file__).parents[1] / "fixtures" / "doctor"
    for code in set(CODES) - MULTI_PROCESS:
        assert (fixtures / f"{stem(code)}_bug.py").is_file(), code
        assert (fixtures / f"{stem(code)}_fixed.py").is_file(), code


@pytest.mark.parametrize("code", list(EXPECTED))
def test_bug_script_is_diagnosed_at_the_right_place(
    code: str, script_stores: dict[str, Path]
) -> None:
    alerts = doctor_json(script_stores[f"{stem(code)}_bug"])
    found = [a for a in alerts if a["code"] == code]
    assert len(found) == 1, alerts
    expected = EXPECTED[code]
    assert found[0]["where"] in (expected if isinstance(expected, set) else {expected})
    assert found[0]["severity"] in ("warning", "error")
    assert "`" in found[0]["message"]  # carries a one-line code fix


@pytest.mark.parametrize("code", list(EXPECTED))
def test_fixed_twin_gets_no_warning_or_error(code: str, script_stores: dict[str, Path]) -> None:
    alerts = doctor_json(script_stores[f"{stem(code)}_fixed"])
    assert [a for a in alerts if a["severity"] != "info"] == []


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_bug_script_is_diagnosed_at_the_right_place(
    variant: str, script_stores: dict[str, Path]
) -> None:
    code, where = VARIANTS[variant]
    alerts = doctor_json(script_stores[f"{variant}_bug"])
    found = [a for a in alerts if a["code"] == code]
    assert [a["where"] for a in found] == [where], alerts
    assert found[0]["severity"] in ("warning", "error")
    assert "`" in found[0]["message"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_fixed_twin_gets_no_warning_or_error(
    variant: str, script_stores: dict[str, Path]
) -> None:
    alerts = doctor_json(script_stores[f"{variant}_fixed"])
    assert [a for a in alerts if a["severity"] != "info"] == []


def test_nan_consequences_are_not_reported_as_origins(script_stores: dict[str, Path]) -> None:
    forward = {a["code"] for a in doctor_json(script_stores["nonfinite_forward_bug"])}
    assert forward == {"nonfinite-forward", "nonfinite-loss"}  # the NaN grads follow from it
    grad = {a["code"] for a in doctor_json(script_stores["nonfinite_grad_bug"])}
    assert grad == {"nonfinite-grad", "nonfinite-loss"}  # the NaN forward at step 1 follows
    (loss,) = doctor_json(script_stores["nonfinite_loss_bug"])
    assert loss["code"] == "nonfinite-loss" and "loss computation itself" in loss["message"]


def test_nonfinite_loss_points_at_the_origin(script_stores: dict[str, Path]) -> None:
    alerts = {a["code"]: a for a in doctor_json(script_stores["nonfinite_grad_bug"])}
    assert alerts["nonfinite-grad"]["step"] == 0
    assert alerts["nonfinite-loss"]["step"] == 1
    assert "the gradient of `1` at step 0" in alerts["nonfinite-loss"]["message"]


def test_exploding_run_also_shows_the_oversized_updates(script_stores: dict[str, Path]) -> None:
    alerts = doctor_json(script_stores["exploding_gradients_bug"])
    assert {(a["code"], a["where"]) for a in alerts} >= {("update-ratio", "0.weight")}


@pytest.mark.parametrize(
    ("showcase", "code", "where"),
    [
        ("bug_zero_grad", "grad-not-zeroed", "optimizer0:SGD"),
        ("bug_detached_branch", "graph-break", "context"),
        ("bug_nan_log0", "nonfinite-loss", "loss"),
        ("bug_softmax_ce", "softmax-before-cross-entropy", "net.5"),
    ],
)
def test_demo_bug_showcases_are_diagnosed(
    showcase: str, code: str, where: str, script_stores: dict[str, Path]
) -> None:
    alerts = doctor_json(script_stores[showcase])
    assert [(a["code"], a["where"]) for a in alerts] == [(code, where)]


def test_a_loss_cut_from_the_model_is_told_from_a_missing_backward(
    script_stores: dict[str, Path],
) -> None:
    cut = {a["code"]: a for a in doctor_json(script_stores["graph_break_loss_item_bug"])}
    assert set(cut) == {"graph-break", "step-without-grad"}
    assert "torch.tensor(loss.item(), requires_grad=True)" in cut["graph-break"]["message"]
    assert "graph-break" in cut["step-without-grad"]["message"]
    missing = doctor_json(script_stores["step_without_grad_bug"])
    assert [a["code"] for a in missing] == ["step-without-grad"]
    assert "zero_grad" in missing[0]["message"]


def test_an_optimizer_over_a_replaced_model_is_not_a_small_lr(
    script_stores: dict[str, Path],
) -> None:
    alerts = doctor_json(script_stores["step_without_grad_reload_bug"])
    assert {(a["code"], a["where"]) for a in alerts} == {
        ("step-without-grad", "optimizer1:Adam"),
        ("param-not-in-optimizer", "model"),  # the new model, which no optimizer holds
    }
