# expect: clean
"""Standardiser with train-set buffers and the std clamped, so a constant column is harmless."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class Standardizer(nn.Module):
    def __init__(self, data, min_std=1e-6):
        super().__init__()
        self.register_buffer("mean", data.mean(0))
        self.register_buffer("std", data.std(0).clamp_min(min_std))

    def forward(self, x):
        return (x - self.mean) / self.std


n = 1000
X = torch.cat([torch.randn(n, 5) * 4 + 2, torch.full((n, 1), 3.0)], dim=1)  # last column constant
y = (X[:, 0] * X[:, 1] > 4).float().unsqueeze(1)

model = nn.Sequential(Standardizer(X), nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1))
loss_fn = nn.BCEWithLogitsLoss()
opt = torch.optim.Adam([p for p in model.parameters()], lr=1e-2)

for step in range(50):
    idx = torch.randint(0, n, (100,))
    opt.zero_grad()
    loss = loss_fn(model(X[idx]), y[idx])
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, round(loss.item(), 4))
