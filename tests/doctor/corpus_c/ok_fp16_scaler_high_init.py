# expect: clean
"""CPU fp16 autocast CNN, GradScaler at 2**24: early steps are skipped while the scale drops."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(16, 3),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**24)


def batch(n=32):
    y = torch.randint(0, 3, (n,))
    x = torch.randn(n, 1, 12, 12) * 0.3
    x[y == 0, :, :6] += 1.0
    x[y == 1, :, 6:] += 1.0
    return x, y


for step in range(25):
    x, y = batch()
    optimizer.zero_grad()
    with torch.autocast("cpu", dtype=torch.float16):
        loss = F.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    scaler.step(optimizer)
    scaler.update()
    if step % 5 == 0:
        print(step, f"{loss.item():.4f}", "scale", scaler.get_scale())
