# expect: unused-parameter @ pos_embed|pos_embed.weight
"""Tiny transformer classifier that builds a learned position embedding but never adds it."""

import torch
from torch import nn


class SeqClassifier(nn.Module):
    def __init__(self, vocab=50, d_model=32, max_len=16, n_classes=2):
        super().__init__()
        self.tok_embed = nn.Embedding(vocab, d_model)
        self.pos_embed = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, tokens):
        h = self.tok_embed(tokens)
        h = self.encoder(h)
        return self.head(h.mean(dim=1))


def make_batch(n=32, length=16):
    tokens = torch.randint(1, 50, (n, length))
    labels = (tokens[:, 0] > tokens[:, -1]).long()
    return tokens, labels


torch.manual_seed(0)
model = SeqClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
model.train()
for _ in range(25):
    tokens, labels = make_batch()
    optimizer.zero_grad()
    loss = criterion(model(tokens), labels)
    loss.backward()
    optimizer.step()
print("loss", loss.item())
