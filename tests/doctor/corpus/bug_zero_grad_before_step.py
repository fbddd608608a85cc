# expect: step-without-grad @ optimizer0:RMSprop
"""zero_grad() moved to just before step(): every update sees no gradient."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(256, 6)
Y = X @ torch.randn(6, 2)
loader = DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True)
model = nn.Sequential(nn.Linear(6, 24), nn.LayerNorm(24), nn.GELU(), nn.Linear(24, 2))
opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
loss_fn = nn.SmoothL1Loss()
for _epoch in range(2):
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.zero_grad()
        opt.step()
