# expect: step-without-grad @ optimizer0:Adam
"""GRU regressor whose loop calls zero_grad() between backward() and step(): no grads at step."""

import torch
from torch import nn


class SeqRegressor(nn.Module):
    def __init__(self, n_in=3, hidden=24):
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.gru(x)
        return self.out(h[:, -1])


def batch(n=32, t=12):
    x = torch.randn(n, t, 3)
    y = x[:, :, 0].cumsum(1)[:, -1:] * 0.3
    return x, y


torch.manual_seed(0)
model = SeqRegressor()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.MSELoss()

for step in range(50):
    x, y = batch()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    if step % 10 == 0:
        print(step, round(loss.item(), 4))
