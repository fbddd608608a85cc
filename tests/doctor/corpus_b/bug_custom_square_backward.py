# expect: custom-function-gradcheck @ SquarePlus
"""A custom "squareplus" activation whose backward drops a term of the derivative."""

import torch
from torch import nn


class SquarePlus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        root = torch.sqrt(x * x + 4)
        ctx.save_for_backward(x, root)
        return (x + root) / 2

    @staticmethod
    def backward(ctx, grad):
        x, _root = ctx.saved_tensors
        return grad * (1 + x) / 2  # should be (1 + x / root) / 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 16)
        self.b = nn.Linear(16, 1)

    def forward(self, x):
        return self.b(SquarePlus.apply(self.a(x)))


torch.manual_seed(40)
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for _step in range(30):
    x = torch.randn(32, 3)
    loss = nn.functional.mse_loss(net(x), x.prod(1, keepdim=True))
    opt.zero_grad()
    loss.backward()
    opt.step()
