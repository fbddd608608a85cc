# expect: clean
"""Tabular MLP where every Linear keeps its bias and feeds a BatchNorm1d (redundant, harmless)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(4)
features = torch.randn(1024, 12)
target = (features[:, :4].sum(1) - features[:, 4:8].prod(1)).unsqueeze(1)
loader = DataLoader(TensorDataset(features, target), batch_size=64, shuffle=True)

net = nn.Sequential(
    nn.Linear(12, 48),
    nn.BatchNorm1d(48),
    nn.ReLU(),
    nn.Linear(48, 48),
    nn.BatchNorm1d(48),
    nn.ReLU(),
    nn.Linear(48, 1),
)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
mse = nn.MSELoss()
for epoch in range(3):
    for xb, yb in loader:
        pred = net(xb)
        loss = mse(pred, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(epoch, loss.item())
