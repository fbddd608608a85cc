"""Rules against facts written straight into a store (shapes as capture writes them).

``graph_break`` facts come from the graph-break capture, which is landing separately: until
then these tests insert them with sqlite3 into stores of real runs, exactly as capture will
write them. The other cases here are edge cases that no short script produces reliably.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from doctor_helpers import doctor_json, with_events

AddEvents = Callable[[Path, list[tuple[int, str, str, str]]], Path]


def event(step: int, kind: str, where: str, **details: object) -> tuple[int, str, str, str]:
    return (step, kind, where, json.dumps(details))


def codes(alerts: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(a["code"], a["where"]) for a in alerts]


def graph_break(param: str, module: str, reason: str) -> tuple[int, str, str, str]:
    detail = f"the output of {module} was cut from the graph, so {param} gets no gradient"
    return event(0, "graph_break", param, module=module, reason=reason, detail=detail)


@pytest.mark.parametrize(
    ("reason", "fix"),
    [("detach", ".detach()"), ("data", ".data"), ("no_grad", "torch.no_grad()"),
     ("no-grad", "torch.no_grad()"), ("numpy", "np.sin"), ("unreachable", "gradscope graph")],
)  # fmt: skip
def test_graph_break_fact_names_the_module_and_the_fix(
    reason: str, fix: str, script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    store = add_events(
        script_stores["graph_break_fixed"],
        [graph_break("encoder.weight", "encoder", reason),
         graph_break("encoder.bias", "encoder", reason)],
    )  # fmt: skip
    (alert,) = doctor_json(store)
    assert (alert["code"], alert["where"], alert["severity"]) == ("graph-break", "encoder", "error")
    assert "`encoder.weight`, `encoder.bias`" in alert["message"]
    assert fix in alert["message"]
    assert "was cut from the graph" in alert["message"]  # capture's own sentence is kept


def test_never_ran_fact_is_an_unused_parameter(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    store = add_events(
        script_stores["unused_parameter_fixed"],
        [graph_break("extra.weight", "extra", "never-ran"),
         graph_break("extra.bias", "extra", "never-ran")],
    )  # fmt: skip
    assert codes(doctor_json(store)) == [("unused-parameter", "extra")]


def test_frozen_and_unoptimized_parameters_are_not_breaks(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    frozen = add_events(
        script_stores["graph_break_fixed"], [graph_break("encoder.weight", "encoder", "frozen")]
    )
    assert doctor_json(frozen) == []
    # `head` is in no optimizer: nobody expects it to learn, so a cut before it is no bug.
    store = add_events(
        script_stores["param_not_in_optimizer_bug"], [graph_break("head.weight", "head", "detach")]
    )
    assert codes(doctor_json(store)) == [("param-not-in-optimizer", "head")]


def test_facts_take_precedence_over_the_fallback(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    """The detached store's own fallback says `encoder`; a fact naming the cut wins."""
    store = add_events(
        script_stores["graph_break_bug"],
        [graph_break("encoder.weight", "encoder", "detach"),
         graph_break("encoder.bias", "encoder", "detach")],
    )  # fmt: skip
    (alert,) = doctor_json(store)
    assert alert["where"] == "encoder" and "drop the `.detach()`" in alert["message"]


@pytest.mark.parametrize(
    ("store", "param", "expected"),
    [("graph_break_bug", "encoder.weight", ("graph-break", "encoder")),
     ("unused_parameter_bug", "extra.weight", ("unused-parameter", "extra"))],
)  # fmt: skip
def test_a_fact_of_unknown_reason_leaves_the_verdict_to_the_records(
    store: str,
    param: str,
    expected: tuple[str, str],
    script_stores: dict[str, Path],
    add_events: AddEvents,
) -> None:
    module = param.rpartition(".")[0]
    with_unknown = add_events(script_stores[store], [graph_break(param, module, "unknown")])
    assert codes(doctor_json(with_unknown)) == [expected]


@pytest.mark.parametrize(
    ("types", "trainable", "expected"),
    [
        (["Dropout"], [False], [("eval-mode-training", "2")]),
        (["BatchNorm1d"], [True], [("eval-mode-training", "2")]),
        (["BatchNorm1d"], [False], []),  # frozen BatchNorm kept in eval: fine-tuning practice
    ],
)
def test_eval_mode_judges_frozen_batchnorm_apart(
    types: list[str],
    trainable: list[bool],
    expected: list[tuple[str, str]],
    script_stores: dict[str, Path],
    add_events: AddEvents,
) -> None:
    fact = event(3, "eval_mode_step", "optimizer0:SGD", modules=["2"], types=types,
                 trainable=trainable)  # fmt: skip
    assert codes(doctor_json(add_events(script_stores["eval_mode_training_fixed"], [fact]))) == (
        expected
    )


def test_eval_mode_of_many_modules_is_one_alert_at_their_parent(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    fact = event(2, "eval_mode_step", "optimizer0:SGD", modules=["enc.drop", "enc.bn"],
                 types=["Dropout", "BatchNorm1d"], trainable=[False, True])  # fmt: skip
    store = add_events(script_stores["eval_mode_training_fixed"], [fact])
    assert codes(doctor_json(store)) == [("eval-mode-training", "enc")]


@pytest.mark.parametrize(
    ("input_shape", "target_shape", "alerted"),
    [([4, 1], [4], True), ([4], [4, 1], True), ([1], [], False), ([1, 4], [4], False)],
)
def test_loss_broadcast_only_when_the_broadcast_grows(
    input_shape: list[int],
    target_shape: list[int],
    alerted: bool,
    script_stores: dict[str, Path],
    add_events: AddEvents,
) -> None:
    fact = event(0, "loss_input", "F.l1_loss", fn="l1_loss", grad_fn="AddmmBackward0",
                 input_shape=input_shape, target_shape=target_shape, broadcast=True)  # fmt: skip
    alerts = doctor_json(add_events(script_stores["loss_broadcast_fixed"], [fact]))
    assert codes(alerts) == ([("loss-broadcast", "F.l1_loss")] if alerted else [])


def test_nll_loss_given_probabilities(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    fact = event(0, "loss_input", "F.nll_loss", fn="nll_loss", grad_fn="SoftmaxBackward0",
                 input_shape=[8, 3], target_shape=[8], probabilities=True)  # fmt: skip
    (alert,) = doctor_json(add_events(script_stores["graph_break_fixed"], [fact]))
    assert (alert["code"], alert["where"]) == ("softmax-before-cross-entropy", "F.nll_loss")
    assert "F.log_softmax" in alert["message"]


def test_scheduler_after_the_first_optimizer_step_is_fine(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    fact = event(0, "scheduler_step", "StepLR", scheduler="StepLR", optimizer="SGD",
                 optimizer_steps=1)  # fmt: skip
    assert doctor_json(add_events(script_stores["scheduler_order_fixed"], [fact])) == []


def test_custom_function_too_large_to_check_is_info(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    facts = [
        event(0, "custom_function", "Big", function="Big", ok=True, skipped="inputs too large",
              message="Big: inputs have 9000 elements"),
        event(0, "custom_function", "Fine", function="Fine", ok=True, skipped=None,
              message="Fine: backward agrees with numerical gradients"),
    ]  # fmt: skip
    alerts = doctor_json(add_events(script_stores["graph_break_fixed"], facts))
    assert [(a["code"], a["where"], a["severity"]) for a in alerts] == [
        ("custom-function-gradcheck", "Big", "info")
    ]
    assert "gs.check_function(Big" in alerts[0]["message"]


def test_carried_gradients_once_per_place_and_partial_ones_at_their_module(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    params = ["encoder.weight", "encoder.bias"]
    facts = [
        event(1, "grad_carried", "optimizer0:SGD", params=params, norms=[1.0, 1.0], count=2, of=4),
        event(5, "grad_carried", "optimizer0:SGD", params=params, norms=[1.0, 1.0], count=2, of=4),
    ]
    alerts = doctor_json(add_events(script_stores["graph_break_fixed"], facts))
    assert [(a["code"], a["where"], a["step"]) for a in alerts] == [
        ("grad-not-zeroed", "encoder", 1)
    ]


def test_nan_in_the_first_module_suspects_the_input(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    fact = event(0, "nonfinite_forward", "encoder", order="forward", position=0, of=3)
    alerts = doctor_json(add_events(script_stores["graph_break_fixed"], [fact]))
    assert codes(alerts) == [("nonfinite-forward", "encoder")]
    assert "check the input batch" in alerts[0]["message"]


def test_nan_in_the_root_module_is_named_by_its_class(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    fact = event(0, "nonfinite_forward", "", order="forward", position=2, of=3)
    (alert,) = doctor_json(add_events(script_stores["graph_break_fixed"], [fact]))
    assert alert["where"] == "Net" and "`Net`.forward() itself" in alert["message"]


def test_nonfinite_grad_names_the_consumer_when_capture_gives_it(
    script_stores: dict[str, Path], add_events: AddEvents
) -> None:
    fact = event(0, "nonfinite_grad", "encoder", order="backward", position=1, of=2,
                 previous="head")  # fmt: skip
    (alert,) = doctor_json(add_events(script_stores["graph_break_fixed"], [fact]))
    assert (alert["code"], alert["where"]) == ("nonfinite-grad", "encoder")
    assert "the backward of `head` created it" in alert["message"]


def test_stored_alerts_of_other_checks_are_kept_and_stale_rule_alerts_are_not(
    script_stores: dict[str, Path], tmp_path: Path
) -> None:
    alerts = [
        ("other-check", "error", "encoder.weight", 7, "written by a check that is no rule", "{}"),
        ("loss-stalled", "warning", "loss", 0, "stale: written by an older gradscope", "{}"),
    ]
    store = with_events(script_stores["graph_break_fixed"], tmp_path, [], alerts)
    assert codes(doctor_json(store)) == [("other-check", "encoder.weight")]
