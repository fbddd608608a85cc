# expect: graph-break @ encoder
"""Features go through numpy for a 'normalisation' and come back as a fresh tensor."""

import numpy as np
import torch
from torch import nn


class TwoStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        h = self.encoder(x)
        arr = h.detach().cpu().numpy()
        arr = (arr - arr.mean(0)) / (arr.std(0) + 1e-5)
        h = torch.from_numpy(arr.astype(np.float32))
        return self.head(h)


torch.manual_seed(0)
net = TwoStage()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for _it in range(30):
    x = torch.randn(64, 8)
    y = x.pow(2).sum(1, keepdim=True)
    opt.zero_grad()
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
