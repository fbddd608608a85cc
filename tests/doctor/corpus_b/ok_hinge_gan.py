# expect: clean
"""A 1-D hinge-loss GAN: separate optimizers; generator frozen by detach() for the critic step."""

import torch
import torch.nn as nn

torch.manual_seed(21)
gen = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
critic = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
g_opt = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.0, 0.9))
c_opt = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.0, 0.9))


def sample_real(n):
    return torch.randn(n, 1) * 0.2 + 1.5


for _it in range(60):
    z = torch.randn(32, 2)
    fake = gen(z)
    c_loss = (
        torch.relu(1 - critic(sample_real(32))).mean()
        + torch.relu(1 + critic(fake.detach())).mean()
    )
    c_opt.zero_grad()
    c_loss.backward()
    c_opt.step()

    g_loss = -critic(gen(torch.randn(32, 2))).mean()
    g_opt.zero_grad()
    g_loss.backward()
    g_opt.step()
