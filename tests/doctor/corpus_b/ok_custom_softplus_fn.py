# expect: clean
"""A hand-written softplus as a torch.autograd.Function with a correct backward."""

import torch
from torch import nn


class MySoftplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log1p(torch.exp(-x.abs())) + x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.sigmoid(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(4, 32)
        self.l2 = nn.Linear(32, 1)

    def forward(self, x):
        return self.l2(MySoftplus.apply(self.l1(x)))


torch.manual_seed(15)
net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
for _step in range(40):
    x = torch.randn(64, 4)
    y = (x[:, :1] > 0).float() * x[:, 1:2]
    loss = nn.functional.mse_loss(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
