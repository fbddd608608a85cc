# expect: scheduler-order @ LambdaLR
"""Warmup LambdaLR stepped at the top of each iteration, before optimizer.step()."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

WARMUP, TOTAL = 10, 60


def lr_lambda(step):
    if step < WARMUP:
        return (step + 1) / WARMUP
    return max(0.0, (TOTAL - step) / (TOTAL - WARMUP))


class TinyTransformer(nn.Module):
    def __init__(self, vocab=32, d=32, n_cls=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(
            d, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.cls = nn.Linear(d, n_cls)

    def forward(self, tokens):
        return self.cls(self.encoder(self.emb(tokens)).mean(1))


tokens = torch.randint(0, 32, (800, 12))
labels = tokens[:, 0] % 4
model = TinyTransformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)

for step in range(TOTAL):
    scheduler.step()
    idx = torch.randint(0, 800, (32,))
    optimizer.zero_grad()
    loss = F.cross_entropy(model(tokens[idx]), labels[idx])
    loss.backward()
    optimizer.step()
    if step % 15 == 0:
        print(step, f"lr {scheduler.get_last_lr()[0]:.2e}", f"loss {loss.item():.4f}")
