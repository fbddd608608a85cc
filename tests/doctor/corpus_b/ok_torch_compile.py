# expect: clean
"""A compiled MLP (torch.compile, AOTAutograd); the optimizer holds the module's."""

import torch
from torch import nn

torch.manual_seed(22)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
compiled = torch.compile(model, backend="aot_eager")  # no C++ toolchain needed
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for _step in range(25):
    x = torch.randn(32, 8)
    y = x[:, :2].sum(1, keepdim=True)
    loss = nn.functional.mse_loss(compiled(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
