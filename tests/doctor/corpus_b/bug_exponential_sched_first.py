# expect: scheduler-order @ ExponentialLR
"""Per-batch ExponentialLR decay written before the optimizer step in every iteration."""

import torch
import torch.nn as nn

torch.manual_seed(57)
model = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.97)
for _it in range(40):
    x = torch.randn(32, 6)
    loss = nn.functional.mse_loss(model(x), torch.sin(x[:, :1]))
    optimizer.zero_grad()
    loss.backward()
    scheduler.step()
    optimizer.step()
