# expect: clean
"""2-D ring GAN: separate G/D optimizers, G's output detached for the discriminator step."""

import math

import torch
import torch.nn as nn


def real_batch(n):
    theta = torch.rand(n) * 2 * math.pi
    return torch.stack([theta.cos(), theta.sin()], 1) * 2 + 0.05 * torch.randn(n, 2)


torch.manual_seed(0)
G = nn.Sequential(
    nn.Linear(4, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 2)
)
D = nn.Sequential(
    nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1)
)
opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()

for it in range(60):
    real = real_batch(64)
    z = torch.randn(64, 4)
    fake = G(z)

    opt_d.zero_grad()
    d_loss = bce(D(real), torch.ones(64, 1)) + bce(D(fake.detach()), torch.zeros(64, 1))
    d_loss.backward()
    opt_d.step()

    opt_g.zero_grad()
    g_loss = bce(D(fake), torch.ones(64, 1))
    g_loss.backward()
    opt_g.step()
    if it % 20 == 0:
        print(it, f"D {d_loss.item():.3f} G {g_loss.item():.3f}")
