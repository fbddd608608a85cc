"""Synthetic training tasks for the example models.

Every task draws its data from a seeded ``torch.Generator``, so demos need no downloads and two
runs with the same seed see the same batches. The targets come from a fixed hidden rule (a
teacher, class prototypes, a phrasebook, token buckets) drawn from the same generator, which
makes them learnable: the loss really goes down, and a gradscope report shows healthy training
to compare broken runs against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gradscope.demo.models import (
    MLP,
    BuggyClassifier,
    GRULanguageModel,
    LeNet,
    LinearRegression,
    TransformerClassifier,
)
from gradscope.errors import GradscopeError

__all__ = [
    "EXAMPLES",
    "Batch",
    "Example",
    "SequenceCrossEntropyLoss",
    "get_example",
    "gru_batches",
    "lenet_batches",
    "linreg_batches",
    "mlp_batches",
    "teacher_batches",
    "train_step",
    "transformer_batches",
]

Batch = tuple[Tensor, Tensor]

# Sizes keep every demo under about 30 s on a 2-core CPU: the tutorials' models, with smaller
# batches, vocabularies and sequences than the tutorials train on.
GRU_VOCAB = 2000
GRU_SEQ = 35
GRU_BATCH = 10
TRANSFORMER_VOCAB = 1000
TRANSFORMER_SEQ = 64
TRANSFORMER_BATCH = 8
CLASSES = 10


class SequenceCrossEntropyLoss(nn.CrossEntropyLoss):
    """Cross-entropy over every position of a (seq, batch, vocab) output.

    Flattening inside the loss, as the word-language-model example does before its criterion,
    lets ``train_step`` call every example's loss the same way.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return super().forward(input.reshape(-1, input.size(-1)), target.reshape(-1))


@dataclass(frozen=True)
class Example:
    """Everything needed to train one example model: model, optimizer, data, loss and length."""

    name: str
    title: str
    build_model: Callable[[], nn.Module]
    build_optimizer: Callable[[nn.Module], torch.optim.Optimizer]
    batches: Callable[[torch.Generator], Iterator[Batch]]
    loss_fn: nn.Module
    default_steps: int
    clip_grad_norm: float | None = None


def train_step(
    example: Example, model: nn.Module, optimizer: torch.optim.Optimizer, batch: Batch
) -> Tensor:
    """Run one ordinary training step and return the detached loss.

    The sequence is the textbook one on purpose: gradscope is meant to explain exactly this
    loop, so it should not be hidden behind helpers.
    """
    inputs, targets = batch
    optimizer.zero_grad()
    output = model(inputs)
    loss = example.loss_fn(output, targets)
    loss.backward()
    if example.clip_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), example.clip_grad_norm)
    optimizer.step()
    return loss.detach()


def linreg_batches(generator: torch.Generator, batch_size: int = 64) -> Iterator[Batch]:
    """Yield (x, y) of shape (batch, 1) with y = 3x + 0.8 plus a little noise, x ~ U(-1, 1)."""
    while True:
        x = torch.rand(batch_size, 1, generator=generator) * 2 - 1
        noise = 0.1 * torch.randn(batch_size, 1, generator=generator)
        yield x, 3 * x + 0.8 + noise


def mlp_batches(generator: torch.Generator, batch_size: int = 64) -> Iterator[Batch]:
    """Yield (batch, 784) inputs and class labels from a hidden 16-factor teacher.

    Like pixels, the 784 features are correlated: they are noisy mixtures of 16 latent factors,
    and a fixed random linear teacher on those factors picks the class. The noise keeps the loss
    from reaching zero, and the small feature scale (about 0.35, roughly that of MNIST pixels)
    keeps SGD with momentum stable.
    """
    basis = torch.randn(16, 784, generator=generator) / 4
    teacher = torch.randn(16, CLASSES, generator=generator)
    while True:
        factors = torch.randn(batch_size, 16, generator=generator)
        noise = 0.5 * torch.randn(batch_size, 784, generator=generator)
        yield 0.3 * (factors @ basis + noise), (factors @ teacher).argmax(dim=1)


def teacher_batches(
    generator: torch.Generator, batch_size: int = 64, features: int = 32
) -> Iterator[Batch]:
    """Yield (batch, features) Gaussian inputs labelled by a fixed random linear teacher."""
    teacher = torch.randn(features, 5, generator=generator)
    while True:
        x = torch.randn(batch_size, features, generator=generator)
        yield x, (x @ teacher).argmax(dim=1)


def lenet_batches(generator: torch.Generator, batch_size: int = 64) -> Iterator[Batch]:
    """Yield (batch, 1, 32, 32) noisy images of 10 fixed smooth prototypes, labelled by class.

    The prototypes are upsampled 4×4 random patterns, so telling them apart needs spatial
    features, which is what the convolutions are for. The noise is strong enough that the
    classes overlap a little and the loss levels off above zero instead of vanishing.
    """
    coarse = torch.randn(CLASSES, 1, 4, 4, generator=generator)
    prototypes = F.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False)
    while True:
        labels = torch.randint(CLASSES, (batch_size,), generator=generator)
        noise = torch.randn(batch_size, 1, 32, 32, generator=generator)
        yield prototypes[labels] + 3 * noise, labels


def gru_batches(
    generator: torch.Generator,
    seq_len: int = GRU_SEQ,
    batch_size: int = GRU_BATCH,
    vocab: int = GRU_VOCAB,
    phrases: int = 500,
) -> Iterator[Batch]:
    """Yield (seq, batch) tokens and their next tokens, from a stream of repeated phrases.

    The stream concatenates phrases drawn from a fixed phrasebook whose words follow a Zipf
    law, like text: a model first learns word frequencies (a quick drop from log(vocab)), then
    the phrases themselves (a slower, longer decline). Targets are the inputs shifted by one.
    """
    zipf = 1.0 / torch.arange(1, vocab + 1, dtype=torch.float)
    lengths = torch.randint(3, 13, (phrases,), generator=generator).tolist()
    phrasebook = [
        torch.multinomial(zipf, n, replacement=True, generator=generator) for n in lengths
    ]
    needed = batch_size * (seq_len + 1)
    while True:
        pieces: list[Tensor] = []
        total = 0
        while total < needed:
            picked = torch.randint(phrases, (needed // 4,), generator=generator).tolist()
            pieces.extend(phrasebook[i] for i in picked)
            total += sum(lengths[i] for i in picked)
        stream = torch.cat(pieces)[:needed].view(batch_size, seq_len + 1).t()
        yield stream[:-1].contiguous(), stream[1:].contiguous()


def transformer_batches(
    generator: torch.Generator,
    seq_len: int = TRANSFORMER_SEQ,
    batch_size: int = TRANSFORMER_BATCH,
    vocab: int = TRANSFORMER_VOCAB,
) -> Iterator[Batch]:
    """Yield (batch, seq) tokens labelled by which of 10 token buckets occurs most often.

    Bucket k holds the tokens k·vocab/10 … (k+1)·vocab/10 - 1. Each sequence is enriched in one
    randomly chosen bucket so the majority is clear, but the label is computed from the tokens
    themselves, so it is exactly "the most frequent bucket".
    """
    bucket = vocab // CLASSES
    while True:
        favoured = torch.randint(CLASSES, (batch_size, 1), generator=generator)
        uniform = torch.randint(vocab, (batch_size, seq_len), generator=generator)
        in_bucket = favoured * bucket + torch.randint(
            bucket, (batch_size, seq_len), generator=generator
        )
        enriched = torch.rand(batch_size, seq_len, generator=generator) < 0.25
        tokens = torch.where(enriched, in_bucket, uniform)
        counts = F.one_hot(tokens // bucket, CLASSES).sum(dim=1)
        yield tokens, counts.argmax(dim=1)


def _sgd(lr: float, momentum: float = 0.0) -> Callable[[nn.Module], torch.optim.Optimizer]:
    def build(model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    return build


def _gru() -> nn.Module:
    return GRULanguageModel(vocab=GRU_VOCAB)


def _transformer() -> nn.Module:
    return TransformerClassifier(seq_len=TRANSFORMER_SEQ)


def _adam(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=1e-3)


def _adamw(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)


_CE = nn.CrossEntropyLoss
# fmt: off
#: name, title, model, optimizer, data, loss, default steps (and gradient clipping)
_TABLE: tuple[tuple[Any, ...], ...] = (
    ("linreg", "Linear regression on y = 3x + 0.8", LinearRegression, _sgd(0.1), linreg_batches, nn.MSELoss(), 200),  # noqa: E501
    ("mlp", "MLP 784-256-10 on a linear teacher", MLP, _sgd(0.05, momentum=0.9), mlp_batches, _CE(), 150),  # noqa: E501
    ("lenet", "LeNet-5 on noisy 32×32 prototypes", LeNet, _sgd(0.01, momentum=0.9), lenet_batches, _CE(), 200),  # noqa: E501
    ("gru", "2-layer GRU language model on a Zipfian phrase stream", _gru, _adam, gru_batches, SequenceCrossEntropyLoss(), 120, 0.25),  # noqa: E501
    ("transformer", "4-layer transformer encoder counting token buckets", _transformer, _adamw, transformer_batches, _CE(), 45),  # noqa: E501
    ("bug", "A classifier with two bugs for the doctor to find", BuggyClassifier, _sgd(0.5), teacher_batches, _CE(), 150),  # noqa: E501
)
# fmt: on
EXAMPLES: dict[str, Example] = {row[0]: Example(*row) for row in _TABLE}


def get_example(name: str) -> Example:
    """Return the example called ``name``, with an error that lists the valid names."""
    try:
        return EXAMPLES[name]
    except KeyError:
        choices = ", ".join(EXAMPLES)
        raise GradscopeError(f"unknown example {name!r}; choose one of: {choices}") from None
