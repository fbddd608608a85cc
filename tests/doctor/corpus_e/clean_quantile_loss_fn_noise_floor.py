# expect: clean
"""Regression with a custom loss written as a Python function (pinball / quantile loss for the 10th, 50th and 90th percentiles) on heteroscedastic data; after a quick drop the loss sits at its noise floor, which is expected."""

import torch
import torch.nn as nn


def quantile_loss(preds, target, quantiles=(0.1, 0.5, 0.9)):
    """Mean pinball loss over quantiles; preds is (N, Q), target is (N,)."""
    losses = []
    for i, q in enumerate(quantiles):
        errors = target - preds[:, i]
        losses.append(torch.max((q - 1) * errors, q * errors).unsqueeze(1))
    return torch.cat(losses, dim=1).sum(dim=1).mean()


torch.manual_seed(23)
n = 2000
x = torch.rand(n, 1) * 4 - 2
noise_scale = 0.2 + 0.5 * (x[:, 0] + 2) / 4
y = torch.sin(2 * x[:, 0]) + noise_scale * torch.randn(n)

model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for step in range(120):
    idx = torch.randint(0, n, (128,))
    optimizer.zero_grad()
    loss = quantile_loss(model(x[idx]), y[idx])
    loss.backward()
    optimizer.step()
    if step % 20 == 0 or step == 119:
        print(f"step {step:3d} pinball {loss.item():.4f}")

with torch.no_grad():
    q = model(x)
    coverage = ((y > q[:, 0]) & (y < q[:, 2])).float().mean().item()
print(f"80% interval coverage: {coverage:.3f}")
