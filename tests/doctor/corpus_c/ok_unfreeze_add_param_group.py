# expect: clean
"""Head-only fine-tuning, then the backbone is unfrozen and added with add_param_group."""

import torch
import torch.nn.functional as F
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


torch.manual_seed(0)
model = Model()
for p in model.backbone.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-2)

X = torch.randn(512, 12)
Y = (X[:, 0] > 0).long() + (X[:, 1] * X[:, 2] > 0).long()
for step in range(60):
    if step == 20:
        for p in model.backbone.parameters():
            p.requires_grad_(True)
        optimizer.add_param_group({"params": model.backbone.parameters(), "lr": 1e-3})
    idx = torch.randint(0, 512, (64,))
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X[idx]), Y[idx])
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, loss.item())
