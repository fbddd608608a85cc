"""Bug showcase: NaN from log(0) in a hand-written cross-entropy.

The loss is written as ``-(y * log(softmax(logits)))``. Once the model gets confident, a
probability underflows to exactly 0, log gives -inf, 0 * -inf gives NaN, and one step later
every weight is NaN. ``F.cross_entropy(logits, y)`` computes the same loss stably. Plain
PyTorch, no gradscope import:

    gradscope run --store runs/bug_nan_log0.gsdb demos/bug_nan_log0.py
    gradscope doctor runs/bug_nan_log0.gsdb         # → nonfinite-loss (and where it started)
"""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x = torch.randn(64, 8) * 50  # unnormalised inputs make the logits large
    y = nn.functional.one_hot(torch.randint(4, (64,)), 4).float()
    optimizer.zero_grad()
    probs = torch.softmax(model(x), dim=1)
    loss = -(y * torch.log(probs)).sum(dim=1).mean()  # BUG: log(0) = -inf once p underflows
    loss.backward()
    optimizer.step()
    print(f"step {step}  loss {loss.item():.4f}")
