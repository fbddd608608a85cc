# expect: nonfinite-grad @ compress
"""MLP with a parameterless SignedSqrt: torch.where's unused sqrt branch gives NaN in backward."""

import torch
import torch.nn.functional as F
from torch import nn


class SignedSqrt(nn.Module):
    """sign(x) * sqrt(|x|), a compressive activation for heavy-tailed features."""

    def forward(self, x):
        return torch.where(x >= 0, torch.sqrt(x), -torch.sqrt(-x))


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(10, 32)
        self.compress = SignedSqrt()
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return self.out(self.compress(self.proj(x)))


torch.manual_seed(0)
model = Regressor()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(256, 10)
y = x[:, :3].sum(1, keepdim=True)
for epoch in range(30):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 5 == 0:
        print(epoch, loss.item())
