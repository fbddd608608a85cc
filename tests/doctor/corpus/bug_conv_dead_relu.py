# expect: dead-relu @ features.1
"""CNN whose conv bias was initialised at -20 ('to sparsify'): the ReLU after it never fires."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential()
model.add_module(
    "features",
    nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()),
)
model.add_module("head", nn.Linear(32, 3))
nn.init.constant_(model.features[0].bias, -20.0)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
for _step in range(15):
    x = torch.rand(32, 1, 10, 10)
    y = torch.randint(0, 3, (32,))
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
