# expect: grad-not-zeroed @ optimizer1:Adam|optimizer0:Adam|head
"""Separate backbone (SGD) and head (Adam) optimizers; only the backbone's is ever zeroed."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, 5)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Model()
opt_backbone = torch.optim.SGD(model.backbone.parameters(), lr=0.01, momentum=0.9)
opt_head = torch.optim.Adam(model.head.parameters(), lr=1e-3)

data = torch.randn(2000, 32)
target = (data @ torch.randn(32, 5)).argmax(1)

for step in range(50):
    idx = torch.randint(0, 2000, (64,))
    opt_backbone.zero_grad()
    loss = F.cross_entropy(model(data[idx]), target[idx])
    loss.backward()
    opt_backbone.step()
    opt_head.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
