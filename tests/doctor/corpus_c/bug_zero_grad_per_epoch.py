# expect: grad-not-zeroed @ optimizer0:Adam
"""Regression loop that calls optimizer.zero_grad() once per epoch instead of once per batch."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_data(n=512):
    x = torch.rand(n, 6) * 2 - 1
    y = torch.sin(3 * x[:, :1]) + x[:, 1:2] * x[:, 2:3] + 0.05 * torch.randn(n, 1)
    return TensorDataset(x, y)


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for xb, yb in loader:
        pred = model(xb)
        loss = loss_fn(pred, yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    return total / len(loader.dataset)


def main():
    torch.manual_seed(1)
    loader = DataLoader(make_data(), batch_size=32, shuffle=True)
    model = nn.Sequential(
        nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    for epoch in range(4):
        print(epoch, train_one_epoch(model, loader, optimizer, loss_fn))


if __name__ == "__main__":
    main()
