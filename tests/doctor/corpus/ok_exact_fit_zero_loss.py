# expect: clean
"""A noiseless linear problem solved exactly: the loss reaches ~1e-12 and stays there."""

import torch
from torch import nn

torch.manual_seed(0)
X = torch.randn(128, 5)
Y = X @ torch.randn(5, 2)
model = nn.Linear(5, 2, bias=False)
opt = torch.optim.SGD(model.parameters(), lr=0.2)
for _step in range(250):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X), Y)
    loss.backward()
    opt.step()
print(loss.item())
