# expect: clean
"""Label smoothing written by hand: KLDivLoss(batchmean, log_target=True) on log_softmax outputs."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(16)
C, eps = 6, 0.1
model = nn.Sequential(nn.Linear(12, 40), nn.ReLU(), nn.Linear(40, C))
kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
W = torch.randn(12, C)
for _step in range(50):
    x = torch.randn(32, 12)
    y = (x @ W).argmax(1)
    smooth = torch.full((32, C), eps / (C - 1)).scatter_(1, y[:, None], 1 - eps)
    loss = kl(F.log_softmax(model(x), dim=-1), smooth.log())
    opt.zero_grad()
    loss.backward()
    opt.step()
