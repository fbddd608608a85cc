# expect: grad-not-zeroed @ Sequential
"""Manual SGD over model.parameters() under no_grad, and model.zero_grad() is never called."""

import torch
from torch import nn

torch.manual_seed(58)
model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
lr = 0.01
for _t in range(30):
    x = torch.randn(32, 3)
    loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= lr * param.grad
