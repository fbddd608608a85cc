# expect: clean
"""fp16 autocast with a GradScaler whose huge initial scale overflows the first steps (skipped)."""

import torch
from torch import nn

torch.manual_seed(53)
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**40)
for _step in range(40):
    x = torch.randn(32, 16)
    y = x[:, :4].sum(1, keepdim=True)
    with torch.autocast("cpu", dtype=torch.float16):
        loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
