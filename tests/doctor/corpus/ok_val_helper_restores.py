# expect: clean
"""A validation helper that switches to eval and back to train mode; a converging regressor."""

import torch
from torch import nn


def evaluate(model, x, y):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = nn.functional.mse_loss(model(x), y).item()
    model.train(was_training)
    return out


torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(6, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1)
)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
X = torch.randn(700, 6)
Y = (X[:, :3] ** 2).sum(1, keepdim=True)
for step in range(150):
    idx = torch.randint(0, 600, (64,))
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
    if step % 25 == 0:
        print(step, evaluate(model, X[600:], Y[600:]))
