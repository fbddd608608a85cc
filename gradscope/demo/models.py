"""Classic PyTorch tutorial models, kept close to their original layouts and attribute names.

The demos and tests train these because their layers are familiar from the PyTorch tutorials:
a report about ``conv2.weight`` or ``rnn.weight_hh_l1`` then points at code the reader already
knows. The module depends on torch only, so it can be copied out of gradscope unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "MLP",
    "BuggyClassifier",
    "GRULanguageModel",
    "LeNet",
    "LinearRegression",
    "TransformerClassifier",
]


class LinearRegression(nn.Module):
    """One weight and one bias: the smallest model whose gradients can be checked by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Map inputs of shape (batch, 1) to predictions of shape (batch, 1)."""
        return self.linear(x)


class MLP(nn.Module):
    """The 784-256-10 multilayer perceptron of the MNIST tutorials."""

    def __init__(self, in_features: int = 784, hidden: int = 256, classes: int = 10) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: Tensor) -> Tensor:
        """Map inputs of shape (batch, 784), or images that flatten to it, to class logits."""
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class BuggyClassifier(nn.Module):
    """A small classifier with two classic bugs, for the doctor to find.

    It ends in ``nn.Softmax`` although ``nn.CrossEntropyLoss`` wants logits (the softmax then
    runs twice and squashes the gradients), and it builds an ``aux`` head that ``forward``
    never calls (its parameters never get a gradient while the optimizer carries them).
    """

    def __init__(self, in_features: int = 32, hidden: int = 64, classes: int = 5) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)
        self.softmax = nn.Softmax(dim=1)  # bug: CrossEntropyLoss applies log_softmax itself
        self.aux = nn.Linear(hidden, classes)  # bug: never called in forward

    def forward(self, x: Tensor) -> Tensor:
        return self.softmax(self.fc2(F.relu(self.fc1(x))))


class LeNet(nn.Module):
    """LeNet-5 exactly as in the PyTorch "Neural Networks" tutorial, for 1×32×32 inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: Tensor) -> Tensor:
        """Map images of shape (batch, 1, 32, 32) to logits of shape (batch, 10)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class GRULanguageModel(nn.Module):
    """The GRU variant of the PyTorch word-language-model example.

    Tensors are sequence-first, as in that example (``batch_first=False``): tokens have shape
    (seq, batch) and logits (seq, batch, vocab). The hidden state starts from zeros on every
    call instead of being carried between batches, so ``forward`` takes and returns a single
    tensor, which keeps the model usable anywhere a plain classifier is.
    """

    def __init__(
        self,
        vocab: int = 10000,
        embed: int = 200,
        hidden: int = 200,
        layers: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed, hidden, layers, dropout=dropout)
        self.decoder = nn.Linear(hidden, vocab)
        self.init_weights()

    def init_weights(self) -> None:
        """Use the example's small uniform init, which keeps the initial loss near log(vocab)."""
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, tokens: Tensor) -> Tensor:
        """Map tokens of shape (seq, batch) to next-token logits of shape (seq, batch, vocab)."""
        emb = self.drop(self.encoder(tokens))
        output, _ = self.rnn(emb)
        return self.decoder(self.drop(output))


class TransformerClassifier(nn.Module):
    """A small post-norm transformer encoder that classifies token sequences by mean-pooling.

    Inputs are batch-first, (batch, seq) token ids with seq ≤ ``seq_len``; the output is
    (batch, classes) logits. ``enable_nested_tensor=False`` keeps the encoder on plain dense
    tensors in every mode, so hooks always see ordinary tensors of the documented shapes.
    """

    def __init__(
        self,
        vocab: int = 1000,
        d_model: int = 256,
        nhead: int = 4,
        dim_feedforward: int = 1024,
        num_layers: int = 4,
        seq_len: int = 128,
        classes: int = 10,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.pos_embedding = nn.Embedding(seq_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)
        self.init_weights()

    def init_weights(self) -> None:
        """Start embeddings at N(0, 0.02²), the usual transformer init.

        PyTorch's default N(0, 1) embeddings are so large next to an AdamW step of 3e-4 that a
        short run spends most of its steps before the tokens' embeddings move at all.
        """
        nn.init.normal_(self.embedding.weight, std=0.02)
        nn.init.normal_(self.pos_embedding.weight, std=0.02)

    def forward(self, tokens: Tensor) -> Tensor:
        """Map tokens of shape (batch, seq) to class logits of shape (batch, classes)."""
        positions = torch.arange(tokens.size(1), device=tokens.device)
        x = self.embedding(tokens) + self.pos_embedding(positions)
        x = self.encoder(x)
        return self.head(x.mean(dim=1))
