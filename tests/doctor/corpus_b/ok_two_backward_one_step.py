# expect: clean
"""Two losses back-propagated separately (retain_graph) into one optimizer step, zeroed after."""

import torch
from torch import nn

torch.manual_seed(45)
enc = nn.Sequential(nn.Linear(8, 32), nn.ReLU())
dec = nn.Linear(32, 8)
cls = nn.Linear(32, 2)
params = [*enc.parameters(), *dec.parameters(), *cls.parameters()]
opt = torch.optim.Adam(params, lr=2e-3)
for _step in range(40):
    x = torch.randn(32, 8)
    y = (x[:, 0] > x[:, 1]).long()
    h = enc(x)
    recon = nn.functional.mse_loss(dec(h), x)
    ce = nn.functional.cross_entropy(cls(h), y)
    recon.backward(retain_graph=True)
    ce.backward()
    opt.step()
    opt.zero_grad()
