# expect: clean
"""A VAE on synthetic binary-ish images: BCE-with-logits reconstruction plus KL."""

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    def __init__(self, d=64, z=4):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, 32), nn.ReLU())
        self.mu = nn.Linear(32, z)
        self.logvar = nn.Linear(32, z)
        self.dec = nn.Sequential(nn.Linear(z, 32), nn.ReLU(), nn.Linear(32, d))

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        zz = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(zz), mu, logvar


torch.manual_seed(0)
proto = (torch.rand(8, 64) > 0.5).float()
data = (proto[torch.randint(0, 8, (1024,))] + 0.1 * torch.rand(1024, 64)).clamp(0, 1)
vae = VAE()
opt = torch.optim.Adam(vae.parameters(), lr=2e-3)
for _step in range(100):
    x = data[torch.randint(0, 1024, (64,))]
    logits, mu, logvar = vae(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
    loss = rec + kl
    opt.zero_grad()
    loss.backward()
    opt.step()
