# expect: dead-relu @ act
"""A hidden layer whose bias is initialised to -5 "for sparsity": the ReLU after it never fires."""

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 64)
        self.act = nn.ReLU()
        self.out = nn.Linear(64, 1)
        nn.init.constant_(self.hidden.bias, -5.0)
        nn.init.uniform_(self.hidden.weight, -0.1, 0.1)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


torch.manual_seed(38)
mlp = MLP()
opt = torch.optim.SGD(mlp.parameters(), lr=0.01)
for _step in range(40):
    x = torch.randn(64, 10)
    loss = nn.functional.mse_loss(mlp(x), x[:, :1] * 2)
    opt.zero_grad()
    loss.backward()
    opt.step()
