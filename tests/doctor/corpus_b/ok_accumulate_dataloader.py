# expect: clean
"""Gradient accumulation over 4 micro-batches from a DataLoader, loss divided by the count."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(12)
X = torch.randn(640, 6)
Y = torch.sin(X[:, :1]) + 0.1 * X[:, 1:2]
loader = DataLoader(TensorDataset(X, Y), batch_size=16, shuffle=True)
ACCUM = 4

model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
optimizer.zero_grad()
for i, (xb, yb) in enumerate(loader):
    loss = nn.functional.mse_loss(model(xb), yb) / ACCUM
    loss.backward()
    if (i + 1) % ACCUM == 0:
        optimizer.step()
        optimizer.zero_grad()
