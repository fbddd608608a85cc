# expect: clean
"""Attention pooling: a softmax over token scores weights the sequence; CE gets the logits."""

import torch
from torch import nn


class AttnPool(nn.Module):
    def __init__(self, d=16, classes=3):
        super().__init__()
        self.score = nn.Linear(d, 1)
        self.classify = nn.Linear(d, classes)

    def forward(self, x):
        weights = torch.softmax(self.score(x).squeeze(-1), dim=1)
        pooled = (weights.unsqueeze(-1) * x).sum(1)
        return self.classify(pooled)


torch.manual_seed(41)
model = AttnPool()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
keys = torch.randn(3, 16)
for _step in range(40):
    y = torch.randint(0, 3, (32,))
    x = torch.randn(32, 10, 16)
    x[torch.arange(32), torch.randint(0, 10, (32,))] += 2 * keys[y]
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
