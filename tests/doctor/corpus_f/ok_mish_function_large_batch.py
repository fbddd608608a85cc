# expect: clean
"""Custom Mish autograd.Function with a correct backward on 512x128 batches."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class MishFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.tanh(F.softplus(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        tsp = torch.tanh(F.softplus(x))
        grad = tsp + x * torch.sigmoid(x) * (1 - tsp * tsp)
        return grad_output * grad


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.lin = nn.Linear(d, d)

    def forward(self, x):
        return x + MishFn.apply(self.lin(self.norm(x)))


class ResMLP(nn.Module):
    def __init__(self, d_in=24, d=128, depth=2):
        super().__init__()
        self.inp = nn.Linear(d_in, d)
        self.blocks = nn.Sequential(*[Block(d) for _ in range(depth)])
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


X = torch.randn(8192, 24)
y = torch.sin(X[:, :3].sum(1, keepdim=True)) + 0.1 * X[:, 3:4]
model = ResMLP()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(30):
    idx = torch.randint(0, len(X), (512,))
    loss = F.mse_loss(model(X[idx]), y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, round(loss.item(), 5))
