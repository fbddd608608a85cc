# expect: clean
"""Regression MLP wrapped in torch.compile, trained with AdamW and a cosine schedule."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 1))
compiled = torch.compile(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)

w = torch.randn(8, 1)
for step in range(30):
    x = torch.randn(64, 8)
    y = torch.tanh(x @ w)
    optimizer.zero_grad()
    loss = F.mse_loss(compiled(x), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 10 == 0:
        print(step, loss.item())
