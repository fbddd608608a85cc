# expect: grad-not-zeroed @ optimizer0:AdamW
"""Broken accumulation: zero_grad() every ACCUM batches but optimizer.step() after every one."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

ACCUM = 4

x = torch.randn(1280, 24)
y = (x[:, :6].sum(1) > 0).long() + (x[:, 6:9].sum(1) > 1).long()
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)

model = nn.Sequential(nn.Linear(24, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 3))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

model.train()
for i, (xb, yb) in enumerate(loader):
    if i % ACCUM == 0:
        optimizer.zero_grad()
    loss = F.cross_entropy(model(xb), yb) / ACCUM
    loss.backward()
    optimizer.step()
    if i % 20 == 0:
        print(i, f"{loss.item() * ACCUM:.4f}")
