"""Models and synthetic batches for the overhead benchmark (bench-only; not part of gradscope).

Each spec builds a fresh model with a fixed seed, a list of pre-generated batches and the loss
function, so every arm of the benchmark trains the same architecture on the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


class MLP(nn.Module):
    """784-256-10 multilayer perceptron."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class LeNet5(nn.Module):
    """LeNet-5 on 1x32x32 inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.ReLU()
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.conv1(x)))  # 6x14x14
        x = self.pool(self.act(self.conv2(x)))  # 16x5x5
        x = x.flatten(1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)


class GRULM(nn.Module):
    """Word-level GRU language model: Embedding(10000, 200) -> GRU(200, 200, 2) -> Linear."""

    def __init__(self, vocab: int = 10_000, dim: int = 200, layers: int = 2) -> None:
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, layers)
        self.decoder = nn.Linear(dim, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (seq, batch)
        out, _ = self.rnn(self.embed(x))
        return self.decoder(out).reshape(-1, self.vocab)


class TransformerClassifier(nn.Module):
    """Embedding(1000, 256) + 4-layer TransformerEncoder, mean-pooled, linear head to 10."""

    def __init__(self, vocab: int = 1000, d_model: int = 256, classes: int = 10) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=1024, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=4, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, seq)
        return self.head(self.encoder(self.embed(x)).mean(dim=1))


class Wide(nn.Module):
    """500 x Linear(64, 64): 1,000 small parameter tensors, where per-tensor work dominates."""

    def __init__(self, layers: int = 500, dim: int = 64) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[nn.Linear(dim, dim) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@dataclass(frozen=True)
class BenchModel:
    name: str
    build: Callable[[], nn.Module]
    make_batch: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]
    describe: str

    def model(self, seed: int = 0) -> nn.Module:
        torch.manual_seed(seed)
        return self.build()

    def batches(self, n: int, seed: int = 1234) -> list[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(seed)
        return [self.make_batch(g) for _ in range(n)]


def _mlp_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(64, 784, generator=g), torch.randint(0, 10, (64,), generator=g)


def _lenet_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(64, 1, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)


def _gru_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = torch.randint(0, 10_000, (36, 20), generator=g)  # seq 35 (+1 for the targets)
    return tokens[:-1].contiguous(), tokens[1:].reshape(-1).contiguous()


def _transformer_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randint(0, 1000, (16, 128), generator=g), torch.randint(0, 10, (16,), generator=g)


def _wide_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(32, 64, generator=g), torch.randint(0, 64, (32,), generator=g)


MODELS: dict[str, BenchModel] = {
    "mlp": BenchModel("mlp", MLP, _mlp_batch, "MLP 784-256-10, batch 64"),
    "lenet": BenchModel("lenet", LeNet5, _lenet_batch, "LeNet-5 on 1x32x32, batch 64"),
    "gru": BenchModel(
        "gru", GRULM, _gru_batch, "GRU LM: Embedding(10000,200), GRU 2x200, seq 35, batch 20"
    ),
    "transformer": BenchModel(
        "transformer",
        TransformerClassifier,
        _transformer_batch,
        "TransformerEncoder 4x(d256, 4 heads, ff1024), seq 128, batch 16",
    ),
    "wide": BenchModel("wide", Wide, _wide_batch, "500 x Linear(64, 64), 1,000 tensors, batch 32"),
}
