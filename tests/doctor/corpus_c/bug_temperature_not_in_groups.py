# expect: param-not-in-optimizer @ logit_scale
"""Contrastive model whose param groups take names ending in weight/bias, missing logit_scale."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class PairEncoder(nn.Module):
    def __init__(self, d_in=16, d=32):
        super().__init__()
        self.enc_a = nn.Sequential(nn.Linear(d_in, 64), nn.GELU(), nn.Linear(64, d))
        self.enc_b = nn.Sequential(nn.Linear(d_in, 64), nn.GELU(), nn.Linear(64, d))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, a, b):
        za = F.normalize(self.enc_a(a), dim=-1)
        zb = F.normalize(self.enc_b(b), dim=-1)
        return self.logit_scale.exp() * za @ zb.t()


def param_groups(model, weight_decay=0.05):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            decay.append(p)
        elif name.endswith("bias"):
            no_decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


torch.manual_seed(0)
model = PairEncoder()
optimizer = torch.optim.AdamW(param_groups(model), lr=1e-3)
mix = torch.randn(16, 16)
for step in range(50):
    a = torch.randn(64, 16)
    b = a @ mix * 0.5 + 0.1 * torch.randn(64, 16)
    logits = model(a, b)
    target = torch.arange(64)
    loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.3f}", f"scale {model.logit_scale.exp().item():.2f}")
