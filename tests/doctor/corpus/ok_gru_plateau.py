# expect: clean
"""GRU sequence regression with ReduceLROnPlateau driven by validation loss."""

import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        _out, h = self.gru(x)
        return self.head(h[-1]).squeeze(-1)


X = torch.randn(600, 15, 2)
Y = X[:, :, 0].cumsum(1)[:, -1] * 0.3 + X[:, -1, 1]
model = Net()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
for _epoch in range(6):
    model.train()
    for i in range(0, 500, 50):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X[i : i + 50]), Y[i : i + 50])
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val = nn.functional.mse_loss(model(X[500:]), Y[500:])
    sched.step(val)
