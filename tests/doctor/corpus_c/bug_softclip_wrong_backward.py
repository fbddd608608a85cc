# expect: custom-function-gradcheck @ SoftClip
"""Custom autograd.Function SoftClip x/(1+|x|) whose backward forgets to square the denominator."""

import torch
from torch import nn


class SoftClip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (1 + x.abs())


class SoftClipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(6, 32)
        self.l2 = nn.Linear(32, 32)
        self.l3 = nn.Linear(32, 2)

    def forward(self, x):
        x = SoftClip.apply(self.l1(x))
        x = SoftClip.apply(self.l2(x))
        return self.l3(x)


torch.manual_seed(0)
model = SoftClipNet()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
X = torch.randn(256, 6)
Y = torch.stack([X[:, 0] * X[:, 1], X[:, 2].abs()], dim=1)
for _ in range(50):
    optimizer.zero_grad()
    loss = torch.nn.functional.smooth_l1_loss(model(X), Y)
    loss.backward()
    optimizer.step()
print("loss", loss.item())
