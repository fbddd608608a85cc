# expect: graph-break @ embed|embed.weight
"""Bag-of-words classifier pooling `self.embed(tokens).data`: the embedding is cut off."""

import torch
import torch.nn as nn


class BagClassifier(nn.Module):
    def __init__(self, vocab=200, dim=32, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 64), nn.ReLU(), nn.Linear(64, n_classes))

    def forward(self, tokens):
        vectors = self.embed(tokens).data
        pooled = vectors.mean(dim=1)
        return self.mlp(pooled)


def make_batch(batch=64, length=10):
    labels = torch.randint(0, 3, (batch,))
    tokens = torch.randint(0, 200, (batch, length))
    # class-specific keywords live in disjoint vocabulary ranges
    tokens[:, :3] = labels[:, None] * 60 + torch.randint(0, 60, (batch, 3))
    return tokens, labels


torch.manual_seed(0)
model = BagClassifier()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
loss_fn = nn.CrossEntropyLoss()
for _ in range(60):
    tokens, labels = make_batch()
    optimizer.zero_grad()
    loss = loss_fn(model(tokens), labels)
    loss.backward()
    optimizer.step()
print("final loss", loss.item())
