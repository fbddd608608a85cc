# expect: loss-broadcast @ F.mse_loss
"""House-price style regression from a DataLoader: targets are (N,), predictions (N, 1)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(33)
X = torch.randn(800, 5)
price = 3 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] * X[:, 3]
loader = DataLoader(TensorDataset(X, price), batch_size=32, shuffle=True)
model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()
for _epoch in range(2):
    for features, target in loader:
        opt.zero_grad()
        loss = criterion(model(features), target)
        loss.backward()
        opt.step()
