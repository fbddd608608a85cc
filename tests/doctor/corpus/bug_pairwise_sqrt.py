# expect: nonfinite-grad @ dist
"""A pairwise-distance layer takes sqrt of squared distances: the diagonal is sqrt(0)."""

import torch
from torch import nn


class PairDist(nn.Module):
    def forward(self, z):
        d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
        return torch.sqrt(d2)


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(10, 4)
        self.dist = PairDist()

    def forward(self, x):
        return self.dist(self.enc(x))


torch.manual_seed(0)
model = Embedder()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for _step in range(6):
    x = torch.randn(16, 10)
    labels = torch.randint(0, 2, (16,))
    same = (labels[:, None] == labels[None, :]).float()
    d = model(x)
    loss = (same * d + (1 - same) * torch.relu(1.0 - d)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
