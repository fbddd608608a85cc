"""The rules, one module per diagnosis code, in the order the runner applies them.

Each module has ``CODE`` (the stable identifier of a diagnosis, documented in
docs/doctor/<code>.md) and ``check(ctx) -> Iterable[Alert]``. Adding a diagnosis is one module
here, one entry in :data:`RULES`, one page in docs/doctor/ and one test. ``loss-stalled`` comes
last because it only speaks when no other rule found a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from gradscope.doctor.context import Context
from gradscope.doctor.rules import (
    custom_function_gradcheck,
    ddp_desync,
    dead_relu,
    dropout_before_batchnorm,
    eval_mode_training,
    exploding_gradients,
    grad_not_zeroed,
    graph_break,
    kldiv_input_not_log,
    loss_broadcast,
    loss_stalled,
    loss_target_range,
    nll_input_not_log,
    nonfinite_forward,
    nonfinite_grad,
    nonfinite_loss,
    param_not_in_optimizer,
    scheduler_order,
    sigmoid_before_bce,
    softmax_before_cross_entropy,
    step_without_grad,
    unused_parameter,
    update_ratio,
    vanishing_gradients,
    zero_gradient_flow,
)
from gradscope.records import Alert


class Rule(Protocol):
    """What a rule module provides."""

    CODE: str

    def check(self, ctx: Context) -> Iterable[Alert]: ...


RULES: tuple[Rule, ...] = (
    nonfinite_loss,
    nonfinite_forward,
    nonfinite_grad,
    grad_not_zeroed,
    step_without_grad,
    graph_break,
    unused_parameter,
    param_not_in_optimizer,
    softmax_before_cross_entropy,
    sigmoid_before_bce,
    loss_broadcast,
    kldiv_input_not_log,
    nll_input_not_log,
    loss_target_range,
    eval_mode_training,
    scheduler_order,
    custom_function_gradcheck,
    dropout_before_batchnorm,
    ddp_desync,
    zero_gradient_flow,
    exploding_gradients,
    vanishing_gradients,
    dead_relu,
    update_ratio,
    loss_stalled,
)

#: Every code the doctor can raise, in rule order.
CODES: tuple[str, ...] = tuple(rule.CODE for rule in RULES)
