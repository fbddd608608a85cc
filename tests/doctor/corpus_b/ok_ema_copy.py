# expect: clean
"""An exponential moving average of the weights kept in a frozen deep copy, used to validate."""

import copy

import torch
from torch import nn

torch.manual_seed(43)
model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1))
ema = copy.deepcopy(model)
for p in ema.parameters():
    p.requires_grad_(False)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
xv = torch.randn(128, 6)
for step in range(40):
    x = torch.randn(32, 6)
    loss = nn.functional.mse_loss(model(x), x[:, :3].sum(1, keepdim=True))
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters(), strict=False):
            pe.mul_(0.9).add_(pm, alpha=0.1)
    if step % 10 == 9:
        with torch.no_grad():
            print(step, nn.functional.mse_loss(ema(xv), xv[:, :3].sum(1, keepdim=True)).item())
