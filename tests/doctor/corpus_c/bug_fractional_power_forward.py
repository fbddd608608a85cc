# expect: nonfinite-forward @ 3
"""Sequential with a PowerCompress (x ** 0.5) after a Linear: negative inputs give NaN."""

import torch
from torch import nn


class PowerCompress(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return x**self.p


torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(8, 32),
    nn.ReLU(),
    nn.Linear(32, 32),
    PowerCompress(0.5),
    nn.Linear(32, 1),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()
x = torch.rand(128, 8)
y = x.pow(2).sum(1, keepdim=True)
for _ in range(20):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
print(loss.item())
