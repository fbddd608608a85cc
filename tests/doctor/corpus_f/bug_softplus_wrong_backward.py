# expect: custom-function-gradcheck @ StableSoftplus
"""Custom stable-softplus Function on 256x64 batches; backward uses sigmoid(-x) (sign slip)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class StableSoftplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.sigmoid(-x)


class Softplus(nn.Module):
    def forward(self, x):
        return StableSoftplus.apply(x)


model = nn.Sequential(
    nn.Linear(32, 64), Softplus(), nn.Linear(64, 64), Softplus(), nn.Linear(64, 1)
)
X = torch.randn(4096, 32)
y = (X[:, :4] ** 2).sum(1, keepdim=True) - X[:, 4:8].sum(1, keepdim=True)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

for step in range(40):
    idx = torch.randint(0, len(X), (256,))
    opt.zero_grad()
    loss = F.mse_loss(model(X[idx]), y[idx])
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
