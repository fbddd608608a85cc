# expect: clean
"""LambdaLR linear warmup that starts at lr=0 (step 0 updates nothing), then decays linearly."""

import torch
from torch import nn

torch.manual_seed(46)
model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 5))
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
warmup, total = 8, 48
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: s / warmup if s < warmup else max(0.0, (total - s) / (total - warmup))
)
M = torch.randn(12, 5)
for _step in range(total):
    x = torch.randn(32, 12)
    loss = nn.functional.cross_entropy(model(x), (x @ M).argmax(1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
