# expect: nonfinite-loss @ loss
"""House-price regression with the competition metric written as the loss function (RMSLE); raw, unscaled features make the first predictions negative, and log(pred + 1) of a prediction below -1 is NaN."""

import torch
import torch.nn as nn

torch.manual_seed(3)


def rmsle(y_pred, y_true):
    """Root mean squared log error, the Kaggle metric."""
    return torch.sqrt(torch.mean((torch.log(y_pred + 1) - torch.log(y_true + 1)) ** 2))


def make_houses(n):
    sqft = torch.empty(n).uniform_(500, 3500)
    rooms = torch.randint(1, 7, (n,)).float()
    year = torch.randint(1950, 2021, (n,)).float()
    dist = torch.empty(n).uniform_(0.5, 30)
    price = 50 + 0.12 * sqft + 15 * rooms + 0.8 * (year - 1950) - 3 * dist  # in $1000
    price = price * torch.exp(0.1 * torch.randn(n))
    return torch.stack([sqft, rooms, year, dist], 1), price.unsqueeze(1)


X, y = make_houses(800)
model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(3):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 64):
        idx = perm[i : i + 64]
        optimizer.zero_grad()
        loss = rmsle(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: rmsle {loss.item():.4f}")
