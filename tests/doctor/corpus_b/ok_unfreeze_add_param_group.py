# expect: clean
"""Gradual unfreezing: the encoder joins the optimizer later through add_param_group."""

import torch
from torch import nn

torch.manual_seed(54)
encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU())
head = nn.Linear(32, 3)
for p in encoder.parameters():
    p.requires_grad_(False)
opt = torch.optim.Adam(head.parameters(), lr=3e-3)
W = torch.randn(10, 3)
for step in range(40):
    if step == 15:
        for p in encoder.parameters():
            p.requires_grad_(True)
        opt.add_param_group({"params": encoder.parameters(), "lr": 1e-3})
    x = torch.randn(32, 10)
    loss = nn.functional.cross_entropy(head(encoder(x)), (x @ W).argmax(1))
    opt.zero_grad()
    loss.backward()
    opt.step()
