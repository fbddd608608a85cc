"""The built-in examples build, train without errors, and (for the small ones) actually learn."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from gradscope.demo.tasks import EXAMPLES, Example, get_example, train_step
from gradscope.errors import GradscopeError

SHAPES = {
    "linreg": ((64, 1), (64, 1), (64, 1)),
    "mlp": ((64, 784), (64,), (64, 10)),
    "lenet": ((64, 1, 32, 32), (64,), (64, 10)),
    "gru": ((35, 10), (35, 10), (35, 10, 2000)),
    "transformer": ((8, 64), (8,), (8, 10)),
    "bug": ((64, 32), (64,), (64, 5)),
}


def _setup(example: Example, seed: int = 0):
    torch.manual_seed(seed)
    model = example.build_model()
    optimizer = example.build_optimizer(model)
    batches = example.batches(torch.Generator().manual_seed(seed))
    return model, optimizer, batches


def test_every_example_is_listed_under_its_name() -> None:
    assert list(EXAMPLES) == ["linreg", "mlp", "lenet", "gru", "transformer", "bug"]
    for name, example in EXAMPLES.items():
        assert example.name == name
        assert get_example(name) is example
        assert example.title
        assert example.default_steps > 0


def test_unknown_example_names_the_choices() -> None:
    with pytest.raises(GradscopeError, match="linreg"):
        get_example("resnet")


@pytest.mark.parametrize("name", list(SHAPES))
def test_example_trains_a_few_steps(name: str) -> None:
    example = get_example(name)
    model, optimizer, batches = _setup(example)
    input_shape, target_shape, output_shape = SHAPES[name]

    inputs, targets = next(batches)
    assert tuple(inputs.shape) == input_shape
    assert tuple(targets.shape) == target_shape
    with torch.no_grad():
        assert tuple(model(inputs).shape) == output_shape

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            loss = train_step(example, model, optimizer, next(batches))
            assert loss.dim() == 0
            assert not loss.requires_grad
            assert math.isfinite(loss.item())


@pytest.mark.parametrize("name", ["linreg", "mlp", "lenet"])
def test_small_examples_learn(name: str) -> None:
    example = get_example(name)
    model, optimizer, batches = _setup(example)
    losses = [train_step(example, model, optimizer, next(batches)).item() for _ in range(60)]
    start = sum(losses[:3]) / 3
    end = sum(losses[-5:]) / 5
    assert end <= 0.7 * start, f"{name}: loss {start:.3f} -> {end:.3f}"


@pytest.mark.parametrize("name", list(SHAPES))
def test_batches_are_reproducible_from_the_seed(name: str) -> None:
    example = get_example(name)
    first = example.batches(torch.Generator().manual_seed(3))
    second = example.batches(torch.Generator().manual_seed(3))
    for _ in range(2):
        (x1, y1), (x2, y2) = next(first), next(second)
        assert torch.equal(x1, x2)
        assert torch.equal(y1, y2)


def test_gru_targets_are_the_next_tokens() -> None:
    tokens, targets = next(get_example("gru").batches(torch.Generator().manual_seed(0)))
    assert tokens.dtype == targets.dtype == torch.long
    assert torch.equal(tokens[1:], targets[:-1])
    assert int(tokens.min()) >= 0 and int(tokens.max()) < 10000


def test_transformer_label_is_the_most_frequent_bucket() -> None:
    tokens, labels = next(get_example("transformer").batches(torch.Generator().manual_seed(0)))
    counts = torch.stack([torch.bincount(row // 100, minlength=10) for row in tokens])
    assert torch.equal(counts.gather(1, labels[:, None]).squeeze(1), counts.max(dim=1).values)


def test_only_the_gru_clips_gradients() -> None:
    clipping = {name: example.clip_grad_norm for name, example in EXAMPLES.items()}
    assert clipping == {
        "linreg": None,
        "mlp": None,
        "lenet": None,
        "gru": 0.25,
        "transformer": None,
        "bug": None,
    }
