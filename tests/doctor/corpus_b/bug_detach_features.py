# expect: graph-break @ backbone
"""A model that detaches its backbone features inside forward (meant only for a logging copy)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.head = nn.Linear(16, 2)
        self.last_features = None

    def forward(self, x):
        feats = self.backbone(x).detach()
        self.last_features = feats
        return self.head(feats)


torch.manual_seed(37)
model = Model()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for _step in range(30):
    x = torch.randn(32, 12)
    y = (x[:, :6].sum(1) > x[:, 6:].sum(1)).long()
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
