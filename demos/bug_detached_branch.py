"""Bug showcase: a branch cut from the graph by ``.detach()``.

A two-branch model adds a "context" branch to the main one, but the context features are
detached (copied from code that computed them for logging), so the context encoder never gets
a gradient and never learns, while the loss still goes down thanks to the main branch. Plain
PyTorch, no gradscope import:

    gradscope run --store runs/bug_detached_branch.gsdb demos/bug_detached_branch.py
    gradscope doctor runs/bug_detached_branch.gsdb  # → graph-break at context
"""

import torch
from torch import nn


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
        self.context = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        features = self.main(x)
        context = self.context(x).detach()  # BUG: cuts the context encoder from the loss
        return self.head(torch.cat([features, context], dim=1))


torch.manual_seed(0)
model = TwoBranch()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(30):
    x = torch.randn(64, 8)
    y = x.pow(2).sum(1, keepdim=True)
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}")
