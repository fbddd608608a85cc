# expect: vanishing-gradients @ net.0.weight
"""A deep tanh MLP with weights initialised at std=0.05: the gradient dies on the way down."""
import torch
from torch import nn


class Tower(nn.Module):
    def __init__(self, depth=8):
        super().__init__()
        mods = []
        for _ in range(depth):
            mods += [nn.Linear(48, 48), nn.Tanh()]
        self.net = nn.Sequential(*mods)
        self.out = nn.Linear(48, 1)
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.05)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.out(self.net(x))


torch.manual_seed(0)
model = Tower()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(10):
    x = torch.randn(64, 48)
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x[:, :1])
    loss.backward()
    opt.step()
