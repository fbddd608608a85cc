# expect: dropout-before-batchnorm @ features.2
"""CNN block ordered conv -> Dropout2d -> BatchNorm2d -> ReLU."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Module()
model = nn.Sequential()
model.add_module(
    "features",
    nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.Dropout2d(0.2),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ),
)
model.add_module("head", nn.Linear(8, 2))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for _step in range(20):
    x = torch.randn(16, 3, 12, 12)
    y = (x.mean((1, 2, 3)) > 0).long()
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
