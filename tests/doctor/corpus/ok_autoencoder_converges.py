# expect: clean
"""A linear autoencoder on rank-4 data: the loss goes to ~0 over 300 steps."""

import torch
from torch import nn

torch.manual_seed(0)
basis = torch.randn(4, 16)
data = torch.randn(256, 4) @ basis
model = nn.Sequential(nn.Linear(16, 4, bias=False), nn.Linear(4, 16, bias=False))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _step in range(300):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(data), data)
    loss.backward()
    opt.step()
print(loss.item())
