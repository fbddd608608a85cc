"""Bug showcase: the forgotten ``optimizer.zero_grad()``.

A small classifier trains on a synthetic two-moons-like task, but gradients are never reset, so
every step applies the sum of all gradients seen so far. The loss still moves at first, which
is why this bug survives so long in real code. Plain PyTorch, no gradscope import:

    gradscope run --store runs/bug_zero_grad.gsdb demos/bug_zero_grad.py
    gradscope doctor runs/bug_zero_grad.gsdb        # → grad-not-zeroed at optimizer0:SGD
"""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()

for step in range(30):
    x = torch.randn(64, 2)
    y = (x[:, 0] * x[:, 1] > 0).long()
    loss = criterion(model(x), y)
    loss.backward()  # BUG: no optimizer.zero_grad() before this line
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}")
