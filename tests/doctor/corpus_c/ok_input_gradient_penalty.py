# expect: clean
"""Regressor with an input-gradient smoothness penalty (x.requires_grad_, create_graph)."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(4, 64), nn.Softplus(), nn.Linear(64, 64), nn.Softplus(), nn.Linear(64, 1)
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
lam = 1e-3

for step in range(120):
    x = torch.randn(64, 4).requires_grad_(True)
    y = (x.detach() ** 2).sum(1, keepdim=True) + 0.1 * torch.randn(64, 1)
    pred = model(x)
    fit = nn.functional.mse_loss(pred, y)
    (dx,) = torch.autograd.grad(pred.sum(), x, create_graph=True)
    penalty = dx.pow(2).sum(1).mean()
    loss = fit + lam * penalty
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 20 == 0:
        print(step, f"fit {fit.item():.3f} penalty {penalty.item():.3f}")
