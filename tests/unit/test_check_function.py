"""``gs.check_function``: the verdict on a custom Function, and where a wrong backward is wrong."""

from __future__ import annotations

import torch

import gradscope as gs
from gradscope.gradcheck import batch_slice, check_in_isolation


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class WrongSecondInput(torch.autograd.Function):
    """x * y whose backward forgets to multiply y's gradient by x."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, y = ctx.saved_tensors
        return grad * y, grad


def test_a_right_backward_passes() -> None:
    result = gs.check_function(Square, torch.randn(5))
    assert result and result.ok and result.skipped is None
    assert "agrees" in result.message


def test_a_wrong_backward_names_the_input_and_element() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(4), torch.randn(4)
    x_before = x.clone()
    result = gs.check_function(WrongSecondInput, x, y)
    assert not result
    assert result.input_index == 1  # y's gradient is the wrong one
    assert result.element is not None and len(result.element) == 1
    assert abs(result.analytical - result.numerical) == result.max_error > 0.1
    assert torch.equal(x, x_before) and x.dtype == torch.float32  # the caller's tensor untouched


def test_plain_callables_and_non_tensor_inputs() -> None:
    assert gs.check_function(lambda a, k: a.sin() * k, torch.randn(3), 2.0)
    skipped = gs.check_function(lambda n: torch.ones(n), 3)
    assert skipped and skipped.skipped == "no differentiable input"


def test_inputs_too_large_are_skipped_with_advice() -> None:
    result = gs.check_function(Square, torch.randn(5000))
    assert result.skipped == "inputs too large"
    assert "smaller example" in result.message


class HalfSquare(Square):
    """x * x whose backward forgets the factor 2."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return x * grad


class WholeBatch(torch.autograd.Function):
    """Needs exactly 256 rows (a hard-coded reshape), so it cannot run on a slice."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(256, 32) * 2

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad * 2


class Binarize(torch.autograd.Function):
    """sign(x) with a straight-through backward: a surrogate on purpose."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


def test_a_training_batch_is_checked_on_its_first_rows() -> None:
    batch = torch.randn(256, 32)
    wrong = check_in_isolation(HalfSquare, (batch,))
    assert not wrong.ok and wrong.skipped is None and wrong.element is not None
    right = check_in_isolation(Square, (batch,))
    assert right.ok and right.skipped is None
    assert batch_slice((batch, torch.randn(3))) is not None
    sliced, weight = batch_slice((batch, torch.randn(3)))  # type: ignore[misc]
    assert sliced.shape[1:] == (32,) and 1 <= sliced.shape[0] < 256 and weight.shape == (3,)


def test_a_function_that_needs_the_whole_batch_is_skipped() -> None:
    result = check_in_isolation(WholeBatch, (torch.randn(256, 32),))
    assert result.ok and result.skipped == "inputs too large"


def test_a_flat_forward_with_a_surrogate_backward_passes() -> None:
    result = gs.check_function(Binarize, torch.randn(4, 3))
    assert result.ok and result.skipped == "surrogate gradient"
    assert "straight-through" in result.message
    assert not gs.check_function(HalfSquare, torch.randn(4, 3)).ok


def test_the_check_leaves_the_training_random_stream_alone() -> None:
    batch = torch.randn(256, 32)
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    check_in_isolation(HalfSquare, (batch,))
    assert torch.equal(torch.rand(2), expected)
