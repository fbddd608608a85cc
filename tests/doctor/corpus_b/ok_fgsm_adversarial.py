# expect: clean
"""Adversarial training (FGSM): inputs get requires_grad to build the perturbation each batch."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(55)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
eps = 0.1
for _step in range(40):
    x = torch.randn(64, 20)
    y = (x[:, 0] + x[:, 1] > 0).long()
    x_adv = x.clone().requires_grad_(True)
    (grad_x,) = torch.autograd.grad(F.cross_entropy(model(x_adv), y), x_adv)
    x_adv = (x + eps * grad_x.sign()).detach()
    loss = 0.5 * F.cross_entropy(model(x), y) + 0.5 * F.cross_entropy(model(x_adv), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
