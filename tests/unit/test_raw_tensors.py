"""``gs.watch`` on bare leaf tensors trained without a module or an optimizer.

The tutorials' first regression: ``w`` and ``b`` with ``requires_grad``, ``loss.backward()``,
then ``w -= lr * w.grad`` under ``torch.no_grad()`` and a reset of ``.grad``. A step is one
backward pass; the update is measured from what the script did to the leaves before the next.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import gradscope as gs
from gradscope.doctor import diagnose

STEPS = 6
LR = 0.1


def data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-1, 1, 32).unsqueeze(1)
    return x, 3 * x + 0.5


def train(w: torch.Tensor, b: torch.Tensor, *, reset: str | None = "zero", style: str = "sub"):
    """One run of the loop; returns the losses, gradient norms and update norms of ``w``."""
    x, y = data()
    losses, grads, updates = [], [], []
    for _ in range(STEPS):
        loss = ((x * w + b - y) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        grads.append(float(w.grad.norm()))
        before = w.detach().clone()
        with torch.no_grad():
            if style == "sub":
                w -= LR * w.grad
                b -= LR * b.grad
            else:
                w.data.add_(w.grad, alpha=-LR)
                b.data.add_(b.grad, alpha=-LR)
        updates.append(float((w.detach() - before).norm()))
        if reset == "zero":
            w.grad.zero_()
            b.grad.zero_()
        elif reset == "none":
            w.grad = None
            b.grad = None
    return losses, grads, updates


def leaves() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(1, requires_grad=True), torch.zeros(1, requires_grad=True)


@pytest.mark.parametrize("style", ["sub", "data"])
def test_list_of_tensors_named_by_the_callers_variables(tmp_store: Path, style: str) -> None:
    w, b = leaves()
    with gs.watch([w, b], store=tmp_store, detail_every=1) as scope:
        assert scope.param_names == ["w", "b"]
        losses, grads, updates = train(w, b, style=style)
        assert scope.step == STEPS
    run = gs.open_store(tmp_store)
    assert run.params == ["w", "b"]
    assert run.steps == list(range(STEPS))
    assert [r.n_backward for r in run.step_rows()] == [1] * STEPS
    assert run.series("loss") == (list(range(STEPS)), pytest.approx(losses, rel=1e-6))
    assert run.series("grad_norm", "w") == (list(range(STEPS)), pytest.approx(grads, rel=1e-6))
    assert run.series("update_norm", "w") == (
        list(range(STEPS)),
        pytest.approx(updates, rel=1e-5),
    )
    weights = run.series("weight_norm", "w")[1]
    assert run.series("update_ratio", "w")[1] == pytest.approx(
        [u / wn for u, wn in zip(updates, weights, strict=True)], rel=1e-6
    )
    assert run.optimizers == []
    assert run.events("grad_carried") == []
    assert [a for a in diagnose(run) if a.severity != "info"] == []


def test_dict_names_by_key_and_training_is_bit_identical(tmp_store: Path) -> None:
    w0, b0 = leaves()
    plain = train(w0, b0, reset="none")
    w, b = leaves()
    with gs.watch({"slope": w, "intercept": b}, store=tmp_store):
        watched = train(w, b, reset="none")
    assert plain == watched
    assert torch.equal(w, w0) and torch.equal(b, b0)
    run = gs.open_store(tmp_store)
    assert run.params == ["slope", "intercept"]
    assert run.events("grad_carried") == []


def test_tensors_without_a_variable_get_generated_names(tmp_store: Path) -> None:
    torch.manual_seed(0)
    pair = [torch.randn(2, requires_grad=True), torch.randn(2, requires_grad=True)]
    with gs.watch(pair, store=tmp_store) as scope:
        assert scope.param_names == ["tensor0", "tensor1"]


def test_gradients_never_reset_are_grad_not_zeroed(tmp_store: Path) -> None:
    w, b = leaves()
    with (
        pytest.warns(gs.DiagnosisWarning, match="grad-not-zeroed"),
        gs.watch([w, b], store=tmp_store),
    ):
        train(w, b, reset=None)
    run = gs.open_store(tmp_store)
    carried = run.events("grad_carried")
    assert carried and carried[0].step == 1 and carried[0].details["manual"] is True
    assert carried[0].details["params"] == ["w", "b"]
    alerts = [a for a in diagnose(run) if a.code == "grad-not-zeroed"]
    assert len(alerts) == 1 and alerts[0].where == "w"
    assert "`w.grad.zero_()`" in alerts[0].message


def test_accumulating_without_updating_is_not_grad_not_zeroed(tmp_store: Path) -> None:
    """Two backward passes, then one update and a reset: deliberate accumulation."""
    w, b = leaves()
    x, y = data()
    with gs.watch([w, b], store=tmp_store, detail_every=1) as scope:
        for i in range(2 * STEPS):
            ((x[i % 2 :: 2] * w + b - y[i % 2 :: 2]) ** 2).mean().backward()
            if i % 2:
                with torch.no_grad():
                    w -= LR * w.grad
                    b -= LR * b.grad
                w.grad = None
                b.grad = None
        assert scope.step == 2 * STEPS
    run = gs.open_store(tmp_store)
    assert run.events("grad_carried") == []
    _, updates = run.series("update_norm", "w")
    assert [u > 0 for u in updates] == [bool(i % 2) for i in range(2 * STEPS)]


def test_watch_rejects_non_leaves_and_bad_keys(tmp_store: Path) -> None:
    w = torch.randn(2, requires_grad=True)
    with pytest.raises(gs.GradscopeError, match="not a leaf tensor"):
        gs.watch([w * 2], store=tmp_store)
    with pytest.raises(TypeError, match="keys, which must be strings"):
        gs.watch({1: w}, store=tmp_store)  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="takes one model"):
        gs.watch([torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)], store=tmp_store)  # type: ignore[list-item]


def test_no_hook_is_left_on_the_tensors(tmp_store: Path) -> None:
    w, b = leaves()
    with gs.watch([w, b], store=tmp_store):
        train(w, b)
    assert not w._backward_hooks and not b._backward_hooks
