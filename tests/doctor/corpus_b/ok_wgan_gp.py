# expect: clean
"""WGAN-GP: the critic's gradient penalty uses autograd.grad(create_graph=True)."""

import torch
from torch import nn

torch.manual_seed(47)
G = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 2))
C = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1))
opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
opt_c = torch.optim.Adam(C.parameters(), lr=1e-3, betas=(0.5, 0.9))


def penalty(real, fake):
    a = torch.rand(real.size(0), 1)
    mix = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(C(mix).sum(), mix, create_graph=True)
    return ((g.norm(dim=1) - 1) ** 2).mean()


for it in range(30):
    real = torch.randn(32, 2) * 0.3 + 1
    fake = G(torch.randn(32, 3)).detach()
    c_loss = C(fake).mean() - C(real).mean() + 10 * penalty(real, fake)
    opt_c.zero_grad()
    c_loss.backward()
    opt_c.step()
    if it % 3 == 2:
        g_loss = -C(G(torch.randn(32, 3))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
