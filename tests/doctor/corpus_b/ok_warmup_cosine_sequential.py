# expect: clean
"""Linear warmup from 1% of the lr, then cosine decay (SequentialLR), stepped per batch."""

import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

torch.manual_seed(11)
model = nn.Sequential(nn.Linear(16, 128), nn.SiLU(), nn.LayerNorm(128), nn.Linear(128, 4))
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
total, warm = 60, 10
scheduler = SequentialLR(
    optimizer,
    [
        LinearLR(optimizer, start_factor=0.01, total_iters=warm),
        CosineAnnealingLR(optimizer, T_max=total - warm),
    ],
    milestones=[warm],
)
proj = torch.randn(16, 4)
for _step in range(total):
    x = torch.randn(64, 16)
    y = (x @ proj).argmax(1)
    loss = nn.CrossEntropyLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
