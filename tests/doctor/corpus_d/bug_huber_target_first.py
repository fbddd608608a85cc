# expect: loss-broadcast @ F.huber_loss|nn.HuberLoss
"""Robust regression with nn.HuberLoss called as criterion(y, pred): y is (N,), pred is (N, 1)."""

import torch
import torch.nn as nn

torch.manual_seed(0)

x = torch.randn(256, 8)
w = torch.randn(8)
y = x @ w + 0.1 * torch.randn(256)
y[::17] += 8.0  # a few outliers, hence Huber

model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
criterion = nn.HuberLoss(delta=1.0)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for t in range(80):
    pred = model(x)
    loss = criterion(y, pred)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if t % 20 == 19:
        print(t, loss.item())
