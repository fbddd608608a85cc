# expect: update-ratio @ optimizer0:AdamW.group0
"""AdamW with cosine annealing; the lr was written 3e-9 instead of 3e-4."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.LayerNorm(64), nn.ReLU(), nn.Linear(64, 5))
opt = torch.optim.AdamW(model.parameters(), lr=3e-9, weight_decay=0.01)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)
X = torch.randn(1000, 20)
Y = X[:, :5].argmax(1)
for _step in range(40):
    idx = torch.randint(0, 1000, (50,))
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
    sched.step()
