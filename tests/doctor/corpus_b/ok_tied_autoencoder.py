# expect: clean
"""Autoencoder whose decoder reuses the encoder's weight transposed (F.linear with weight.t())."""

import torch
import torch.nn.functional as F
from torch import nn


class TiedAE(nn.Module):
    def __init__(self, d=64, h=16):
        super().__init__()
        self.enc = nn.Linear(d, h)
        self.dec_bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        z = torch.tanh(self.enc(x))
        return F.linear(z, self.enc.weight.t(), self.dec_bias)


torch.manual_seed(7)
basis = torch.randn(8, 64)
ae = TiedAE()
opt = torch.optim.Adam(ae.parameters(), lr=5e-3)
for _step in range(60):
    x = torch.randn(128, 8) @ basis / 3
    recon = ae(x)
    loss = F.mse_loss(recon, x)
    opt.zero_grad()
    loss.backward()
    opt.step()
