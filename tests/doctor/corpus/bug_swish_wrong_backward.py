# expect: custom-function-gradcheck @ MySwish
"""A hand-written Swish whose backward forgets the product rule's second term."""

import torch
from torch import nn


class MySwish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.sigmoid(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(8, 32)
        self.l2 = nn.Linear(32, 1)

    def forward(self, x):
        return self.l2(MySwish.apply(self.l1(x)))


torch.manual_seed(0)
net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
for _i in range(15):
    x = torch.randn(32, 8)
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(x), x[:, :1] * 2)
    loss.backward()
    opt.step()
