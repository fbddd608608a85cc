# expect: loss-broadcast @ F.l1_loss
"""GRU regressor: predictions are (N, 1), targets (N,); L1Loss broadcasts to (N, N)."""

import torch
from torch import nn


class GRUReg(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 24, batch_first=True)
        self.out = nn.Linear(24, 1)

    def forward(self, x):
        seq, _ = self.gru(x)
        return self.out(seq[:, -1])


torch.manual_seed(0)
model = GRUReg()
crit = nn.L1Loss()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for _step in range(25):
    x = torch.randn(32, 10, 3)
    y = x[:, :, 0].sum(1)
    opt.zero_grad()
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
